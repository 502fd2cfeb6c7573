//! `cargo xtask reproduce <task>`: the whole study from one command, as a sequence of `lmc`
//! commands (each printed before it runs, so that any stage can be rerun or changed by hand):
//!
//! 1. model and data: install all-MiniLM-L6-v2 (or use bert-base-uncased for `paper` when it is
//!    in the cache) and locate the task's files;
//! 2. `lmc finetune`: the population (finished runs are skipped, interrupted ones resume);
//! 3. `lmc sweep`: every pair × α grid × {in-domain, diagnostic} (stored pairs are skipped);
//! 4. `lmc analyze`: barrier matrices, clusters, correlation;
//! 5. `lmc report`: figures, `report.html` and `report.md`.
//!
//! Everything lands in `--out` (default `runs/reproduce/<task>-<preset>`): `population/`,
//! `results/`, `analysis/`, `report/`, plus `reproduce.json` with the plan and stage times.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use lmc_data::{DataDirSearch, DataMode, SearchEnv, TaskName, TaskSpec};
use serde_json::json;

use crate::workspace_root;

/// How big a reproduction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// Tiny random BERT, tiny data slices, 3 seeds: the whole pipeline in minutes (CI).
    Smoke,
    /// all-MiniLM-L6-v2 on the offline data, sized for a 2-core CPU.
    Default,
    /// The paper's settings: 100 seeds, 10 α, 512 examples per set; for GPUs and clusters.
    Paper,
}

/// Compute backend of the `lmc` binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// burn's flex CPU backend.
    Cpu,
    /// burn-cuda (not available yet: the command says so and stops).
    Cuda,
}

/// Arguments of `cargo xtask reproduce`.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Task: mnli, qqp or cola.
    pub task: TaskName,
    /// Size of the reproduction.
    #[arg(long, value_enum, default_value_t = Preset::Default)]
    pub preset: Preset,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    pub backend: Backend,
    /// Output directory [default: runs/reproduce/<task>-<preset>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Data directory [default: $LMC_DATA_DIR, the fetch cache, then ../shared/datasets].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Seeds of the population [default: the preset's].
    #[arg(long)]
    pub seeds: Option<u64>,
}

/// The sizes of each stage for one preset and task.
struct Plan {
    seeds: u64,
    finetune_preset: &'static str,
    alphas: usize,
    examples_per_set: usize,
}

fn plan(preset: Preset, task: TaskName) -> Plan {
    match preset {
        Preset::Smoke => Plan {
            seeds: 3,
            finetune_preset: "smoke",
            alphas: 5,
            examples_per_set: 32,
        },
        Preset::Default => Plan {
            seeds: match task {
                TaskName::Cola | TaskName::Rte => 5,
                TaskName::Mnli | TaskName::Qqp => 4,
            },
            finetune_preset: "default",
            alphas: 6,
            examples_per_set: 128,
        },
        Preset::Paper => Plan {
            seeds: 100,
            finetune_preset: "paper",
            alphas: 10,
            examples_per_set: 512,
        },
    }
}

fn preset_name(preset: Preset) -> &'static str {
    match preset {
        Preset::Smoke => "smoke",
        Preset::Default => "default",
        Preset::Paper => "paper",
    }
}

/// Builds the `lmc` binary (dev profile, shared with the test suite) and returns its path.
fn build_lmc(backend: Backend) -> anyhow::Result<PathBuf> {
    if backend == Backend::Cuda {
        bail!(
            "the CUDA backend is not part of lmc yet (the GPU issue is open): run with --backend cpu"
        );
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "--quiet", "-p", "lmc-cli"])
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("building the lmc binary failed ({status})");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    Ok(target.join("debug").join("lmc"))
}

/// Runs one stage, printing the command first, and returns its wall time in seconds.
fn stage(number: usize, name: &str, lmc: &Path, args: &[String]) -> anyhow::Result<f64> {
    eprintln!("\n[{number}/5] {name}\n$ lmc {}", args.join(" "));
    let start = Instant::now();
    let status = Command::new(lmc)
        .args(args)
        .status()
        .with_context(|| format!("cannot start {}", lmc.display()))?;
    if !status.success() {
        bail!(
            "stage `{name}` failed ({status}); rerun the same command to continue from what is stored"
        );
    }
    let seconds = start.elapsed().as_secs_f64();
    eprintln!("[{number}/5] {name}: {seconds:.0} s");
    Ok(seconds)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

pub fn run(args: ReproduceArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let plan = plan(args.preset, args.task);
    let seeds = args.seeds.unwrap_or(plan.seeds);
    let preset = preset_name(args.preset);
    let out = args.out.clone().unwrap_or_else(|| {
        workspace_root()
            .join("runs")
            .join("reproduce")
            .join(format!("{}-{preset}", args.task))
    });
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;

    eprintln!("[1/5] model and data");
    let minilm = crate::setup()?;
    let env = SearchEnv::from_process();
    let search = DataDirSearch::new(args.data_dir.as_deref(), &env);
    let files = TaskSpec::builtin(args.task)
        .locate(&search)
        .with_context(|| format!("locating the {} data", args.task))?;
    let data_dir = files.train.data_dir.root.clone();
    let mut provenance = vec![format!(
        "data directory: {} ({:?})",
        data_dir.display(),
        files.train.data_dir.source
    )];
    if files.mode == DataMode::OfflineSplit {
        provenance.push(format!(
            "offline split: {} stands in for the official train and evaluation files (see datasets/README.md)",
            files.train.relative
        ));
    }
    for located in &files.diagnostics {
        if located.relative.contains("regenerated") {
            provenance.push(format!(
                "{}: regenerated with the HANS templates, not the original release",
                located.relative
            ));
        }
    }
    let bert_base = env.model_dir("bert-base-uncased").filter(|dir| dir.join("config.json").is_file());
    let model = match (args.preset, &bert_base) {
        (Preset::Paper, Some(dir)) => Some(dir.clone()),
        _ => None,
    };
    let lmc = build_lmc(args.backend)?;
    let path = |p: &Path| p.display().to_string();
    let population = out.join("population");
    let results = out.join("results");
    let analysis = out.join("analysis");
    let report = out.join("report");
    let data_dir_arg = path(&data_dir);

    let mut finetune = strings(&["finetune", "--task", args.task.as_str(), "--preset", plan.finetune_preset]);
    finetune.extend([
        "--seeds".to_owned(),
        format!("0..{seeds}"),
        "--data-dir".to_owned(),
        data_dir_arg.clone(),
        "--out".to_owned(),
        path(&population),
    ]);
    if let Some(model) = &model {
        finetune.extend(["--model".to_owned(), path(model)]);
    }
    let finetune_seconds = stage(2, "fine-tune the population", &lmc, &finetune)?;

    let sets = format!("id:{n},ood:{n}", n = plan.examples_per_set);
    let sweep = vec![
        "sweep".to_owned(),
        "--task".to_owned(),
        args.task.as_str().to_owned(),
        "--models".to_owned(),
        path(&population),
        "--alphas".to_owned(),
        plan.alphas.to_string(),
        "--sets".to_owned(),
        sets,
        "--data-dir".to_owned(),
        data_dir_arg,
        "--out".to_owned(),
        path(&results),
    ];
    let sweep_seconds = stage(3, "sweep every pair", &lmc, &sweep)?;

    let analyze = vec!["analyze".to_owned(), path(&results), "--out".to_owned(), path(&analysis)];
    let analyze_seconds = stage(4, "barriers, clusters, correlation", &lmc, &analyze)?;

    let context_path = out.join("context.json");
    let context = json!({
        "title": format!("Linear mode connectivity of {} fine-tunes ({preset} preset)", args.task),
        "task": args.task.as_str(),
        "preset": preset,
        "configuration": [
            ["model", model.as_ref().map_or_else(|| if args.preset == Preset::Smoke { "tiny random BERT (2 layers, width 32)".to_owned() } else { path(&minilm) }, |m| path(m))],
            ["seeds", seeds.to_string()],
            ["finetune preset", plan.finetune_preset.to_owned()],
            ["alpha points", plan.alphas.to_string()],
            ["examples per set", plan.examples_per_set.to_string()],
            ["backend", format!("{:?}", args.backend).to_lowercase()],
        ],
        "provenance": provenance,
    });
    std::fs::write(&context_path, serde_json::to_vec_pretty(&context)?)
        .with_context(|| format!("cannot write {}", context_path.display()))?;
    let report_args = vec![
        "report".to_owned(),
        "--results".to_owned(),
        path(&results),
        "--analysis".to_owned(),
        path(&analysis),
        "--context".to_owned(),
        path(&context_path),
        "--out".to_owned(),
        path(&report),
    ];
    let report_seconds = stage(5, "figures and report", &lmc, &report_args)?;

    let total = started.elapsed().as_secs_f64();
    let record = json!({
        "task": args.task.as_str(),
        "preset": preset,
        "seeds": seeds,
        "alphas": plan.alphas,
        "examples_per_set": plan.examples_per_set,
        "seconds": {
            "finetune": finetune_seconds,
            "sweep": sweep_seconds,
            "analyze": analyze_seconds,
            "report": report_seconds,
            "total": total,
        },
    });
    let record_path = out.join("reproduce.json");
    std::fs::write(&record_path, serde_json::to_vec_pretty(&record)?)
        .with_context(|| format!("cannot write {}", record_path.display()))?;
    eprintln!(
        "\ndone in {total:.0} s\n  report:  {}\n  figures: {}\n  tables:  {}\n  models:  {}",
        report.join("report.html").display(),
        report.display(),
        analysis.display(),
        population.display()
    );
    Ok(())
}
