//! `lmc reproduce <task>` (and `cargo xtask reproduce <task>`, which builds lmc and runs this):
//! the whole study from one command, as a sequence of `lmc` commands run in this process, each
//! printed before it runs so that any stage can be rerun or changed by hand:
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
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Parser};
use lmc_data::{DataDirSearch, DataMode, SearchEnv, TaskName, TaskSpec};
use lmc_train::Preset;
use serde_json::json;

use crate::Cli;
use crate::backend::{BackendChoice, ComputeOptions};
use crate::finetune::{SeedList, parse_preset};

/// Arguments of `cargo xtask reproduce`.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Task: mnli, qqp or cola.
    pub task: TaskName,
    /// Size of the reproduction: smoke (tiny random BERT, tiny data slices, 3 seeds: the whole
    /// pipeline in seconds), default (all-MiniLM-L6-v2 on the offline data, sized for a 2-core
    /// CPU; 8 seeds sharing two head initialisations), gpu (MiniLM with the paper's recipe on all
    /// the data, 12 seeds, 10 α, 512 examples per set; for `--backend cuda`), paper (the paper's
    /// settings: 100 seeds, 10 α, 512 examples per set; for GPUs and clusters).
    #[arg(long, default_value = "default", value_parser = parse_preset)]
    pub preset: Preset,
    /// Compute backend and precision of fine-tuning and sweep.
    #[command(flatten)]
    pub compute: ComputeOptions,
    /// Output directory [default: runs/reproduce/<task>-<preset>, `-cuda` added for GPU runs,
    /// under the current directory].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Data directory [default: $LMC_DATA_DIR, the fetch cache, then ../shared/datasets].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Seeds of the population, as `finetune --seeds`: a count `8` (seeds 0 to 7), a range
    /// `8..16` or a list `0,3,7` [default: the preset's count].
    #[arg(long)]
    pub seeds: Option<SeedList>,
    /// Classifier-head initialisations the population shares: seed s starts from head seed
    /// s mod K, while every seed keeps its own data order and dropout. K = the number of seeds is
    /// the paper's design (each seed its own head) [default: 2 for the default preset, one per
    /// seed otherwise].
    #[arg(long)]
    pub head_seeds: Option<u64>,
    /// Cache directory of the pretrained model [default: $LMC_CACHE_DIR or ~/.cache/lmc].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
}

/// The sizes of each stage for one preset and task.
struct Plan {
    seeds: u64,
    /// Head initialisations shared by the seeds (`None`: one per seed, as in the paper).
    head_seeds: Option<u64>,
    alphas: usize,
    examples_per_set: usize,
    /// `--full-sets` of the sweep: sets each model is evaluated on once in full (HANS cells).
    full_sets: &'static str,
}

fn plan(preset: Preset, task: TaskName) -> Plan {
    match preset {
        Preset::Smoke => Plan {
            seeds: 3,
            head_seeds: None,
            alphas: 5,
            examples_per_set: 32,
            full_sets: "none",
        },
        Preset::Default => Plan {
            seeds: 8,
            // With a few hundred updates, two seeds are linearly connected when they share the
            // head's initialisation and separated by a barrier when they do not (ARCHITECTURE.md,
            // "What the default preset shows"): two heads give two basins of four seeds.
            head_seeds: Some(2),
            alphas: 6,
            examples_per_set: 256,
            full_sets: match task {
                TaskName::Mnli => "hans:600",
                _ => "none",
            },
        },
        Preset::Gpu => Plan {
            seeds: 12,
            head_seeds: None,
            alphas: 10,
            examples_per_set: 512,
            full_sets: match task {
                TaskName::Mnli => "hans:all",
                _ => "none",
            },
        },
        Preset::Paper => Plan {
            seeds: 100,
            head_seeds: None,
            alphas: 10,
            examples_per_set: 512,
            full_sets: match task {
                TaskName::Mnli => "id:all,hans:all",
                _ => "id:all,ood:all",
            },
        },
    }
}

/// `runs/reproduce/<task>-<preset>`, with `-cuda` for GPU runs so that the two populations never
/// share a folder (their runs differ, and the sweep takes every run in the folder).
fn default_out(task: TaskName, preset: &str, backend: BackendChoice) -> PathBuf {
    let name = match backend {
        BackendChoice::Cpu => format!("{task}-{preset}"),
        BackendChoice::Cuda => format!("{task}-{preset}-cuda"),
    };
    PathBuf::from("runs").join("reproduce").join(name)
}

/// Runs one stage (an `lmc` command line) in this process, printing it first, and returns its
/// wall time in seconds.
fn stage(number: usize, name: &str, args: &[String]) -> anyhow::Result<f64> {
    eprintln!("\n[{number}/5] {name}\n$ lmc {}", args.join(" "));
    let start = Instant::now();
    let cli = Cli::try_parse_from(std::iter::once("lmc".to_owned()).chain(args.iter().cloned()))
        .with_context(|| format!("stage `{name}`: invalid command line"))?;
    crate::run_command(cli.command).with_context(|| {
        format!("stage `{name}` failed; rerun the same command to continue from what is stored")
    })?;
    let seconds = start.elapsed().as_secs_f64();
    eprintln!("[{number}/5] {name}: {seconds:.0} s");
    Ok(seconds)
}

/// The `lmc finetune` calls of a population: `--seeds` and `--head-seed` of each. With fewer head
/// seeds than seeds, seed s joins the call of head seed s mod k; otherwise one call, where each
/// seed is its own head seed.
/// The `lmc finetune` calls of a population: one per head seed when `head_seeds` K is fewer than
/// the seeds (seed s in the call of head seed s mod K), else one for all (each its own head), as
/// `--seeds` texts.
fn seed_groups(seeds: &[u64], head_seeds: Option<u64>) -> Vec<(String, Option<u64>)> {
    match head_seeds {
        Some(k) if (k as usize) < seeds.len() => (0..k)
            .filter_map(|head| {
                let members: Vec<u64> = seeds.iter().copied().filter(|s| s % k == head).collect();
                (!members.is_empty()).then(|| (seeds_text(&members), Some(head)))
            })
            .collect(),
        _ => vec![(seeds_text(seeds), None)],
    }
}

/// `seeds` as `--seeds` reads them: a range for consecutive seeds, else a list (one seed with
/// a trailing comma, since a bare number is a count).
fn seeds_text(seeds: &[u64]) -> String {
    match seeds {
        [one] => format!("{one},"),
        [first, .., last] if seeds.windows(2).all(|w| w[1] == w[0] + 1) => {
            format!("{first}..{}", last + 1)
        }
        _ => seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
    }
}

fn describe_heads(seeds: usize, head_seeds: Option<u64>) -> String {
    match head_seeds {
        Some(k) if (k as usize) < seeds => {
            format!("{k}, shared: seed s starts from head seed s mod {k}")
        }
        _ => "one per seed (the paper's design)".to_owned(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

pub fn run(args: ReproduceArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let plan = plan(args.preset, args.task);
    let seed_list = args
        .seeds
        .clone()
        .map_or_else(|| (0..plan.seeds).collect(), |list| list.0);
    let seeds = seed_list.len();
    let head_seeds = args.head_seeds.or(plan.head_seeds);
    if let Some(k) = head_seeds
        && (k == 0 || k as usize > seeds)
    {
        anyhow::bail!("--head-seeds {k}: need between 1 and the number of seeds ({seeds})");
    }
    let preset = args.preset.name();
    crate::backend::check(args.compute)?;
    let precision = args.compute.precision()?.as_str().to_owned();
    let backend = args.compute.backend.as_str().to_owned();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(args.task, preset, args.compute.backend));
    crate::paths::create_dir(&out)?;

    eprintln!("[1/5] model and data");
    let cache = crate::setup::cache_dir(args.cache_dir.clone())?;
    let minilm = lmc_bert::pretrained::ensure_minilm(&cache)?;
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
    let path = |p: &Path| p.display().to_string();
    let population = out.join("population");
    let results = out.join("results");
    let analysis = out.join("analysis");
    let report = out.join("report");
    let data_dir_arg = path(&data_dir);

    let mut finetune_seconds = 0.0;
    for (seed_text, head_seed) in seed_groups(&seed_list, head_seeds) {
        let mut finetune =
            strings(&["finetune", "--task", args.task.as_str(), "--preset", preset]);
        finetune.extend(["--seeds".to_owned(), seed_text]);
        if let Some(head) = head_seed {
            finetune.extend(["--head-seed".to_owned(), head.to_string()]);
        }
        finetune.extend([
            "--data-dir".to_owned(),
            data_dir_arg.clone(),
            "--out".to_owned(),
            path(&population),
        ]);
        if let Some(model) = &model {
            finetune.extend(["--model".to_owned(), path(model)]);
        }
        finetune.extend(["--cache-dir".to_owned(), path(&cache)]);
        finetune.extend(["--backend".to_owned(), backend.clone()]);
        finetune.extend(["--precision".to_owned(), precision.clone()]);
        finetune_seconds += stage(2, "fine-tune the population", &finetune)?;
    }

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
        "--full-sets".to_owned(),
        plan.full_sets.to_owned(),
        "--data-dir".to_owned(),
        data_dir_arg,
        "--backend".to_owned(),
        backend.clone(),
        "--precision".to_owned(),
        precision.clone(),
        "--out".to_owned(),
        path(&results),
    ];
    let sweep_seconds = stage(3, "sweep every pair", &sweep)?;

    let analyze = vec![
        "analyze".to_owned(),
        "--results".to_owned(),
        path(&results),
        "--out".to_owned(),
        path(&analysis),
    ];
    let analyze_seconds = stage(4, "barriers, clusters, correlation", &analyze)?;

    let context_path = out.join("context.json");
    let context = json!({
        "title": format!("Linear mode connectivity of {} fine-tunes ({preset} preset)", args.task),
        "task": args.task.as_str(),
        "preset": preset,
        "configuration": [
            ["model", model.as_ref().map_or_else(|| if args.preset == Preset::Smoke { "tiny random BERT (2 layers, width 32)".to_owned() } else { path(&minilm) }, |m| path(m))],
            ["seeds", seeds.to_string()],
            ["head initialisations", describe_heads(seeds, head_seeds)],
            ["alpha points", plan.alphas.to_string()],
            ["examples per set", plan.examples_per_set.to_string()],
            ["backend", backend.clone()],
            ["precision", precision.clone()],
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
    let report_seconds = stage(5, "figures and report", &report_args)?;

    let total = started.elapsed().as_secs_f64();
    let record = json!({
        "task": args.task.as_str(),
        "preset": preset,
        "seeds": seeds,
        "seed_list": seed_list,
        "head_seeds": head_seeds.filter(|&k| (k as usize) < seeds).unwrap_or(seeds as u64),
        "alphas": plan.alphas,
        "examples_per_set": plan.examples_per_set,
        "seconds": {
            "finetune": finetune_seconds,
            "sweep": sweep_seconds,
            "analyze": analyze_seconds,
            "report": report_seconds,
            "total": total,
        },
        "precision": precision,
        "provenance": crate::backend::provenance_on(backend.clone()),
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

#[cfg(test)]
mod tests {
    use super::{seed_groups, seeds_text};
    use crate::finetune::SeedList;

    fn count(n: u64) -> Vec<u64> {
        (0..n).collect()
    }

    #[test]
    fn shared_heads_split_the_seeds_by_their_remainder() {
        assert_eq!(
            seed_groups(&count(8), Some(2)),
            [("0,2,4,6".to_owned(), Some(0)), ("1,3,5,7".to_owned(), Some(1))]
        );
        assert_eq!(
            seed_groups(&count(5), Some(3)),
            [
                ("0,3".to_owned(), Some(0)),
                ("1,4".to_owned(), Some(1)),
                ("2,".to_owned(), Some(2))
            ]
        );
        assert_eq!(
            seed_groups(&[8, 9, 10, 11], Some(2)),
            [("8,10".to_owned(), Some(0)), ("9,11".to_owned(), Some(1))]
        );
    }

    #[test]
    fn one_head_per_seed_is_one_call() {
        assert_eq!(seed_groups(&count(8), None), [("0..8".to_owned(), None)]);
        assert_eq!(seed_groups(&count(4), Some(4)), [("0..4".to_owned(), None)]);
    }

    #[test]
    fn seed_texts_read_back_as_the_same_seeds() {
        for seeds in [vec![3], vec![0, 1, 2], vec![5, 7, 9], vec![4, 5, 7]] {
            let text = seeds_text(&seeds);
            assert_eq!(text.parse::<SeedList>().unwrap().0, seeds, "{text}");
        }
    }
}
