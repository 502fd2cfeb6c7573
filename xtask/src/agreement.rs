//! `cargo xtask agreement cola|mnli`: lmc's fine-tuning against the PyTorch + transformers
//! reference (`benches/pytorch/finetune_reference.py`) on the same examples, seeds and recipe,
//! run one after the other on this machine. Prints each seed's in-domain metric and training
//! throughput for both, the mean difference in points, and writes `<out>/agreement.json`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::{build_lmc, json_lines, run_captured, workspace_root};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AgreementTask {
    Cola,
    Mnli,
}

impl AgreementTask {
    fn name(self) -> &'static str {
        match self {
            AgreementTask::Cola => "cola",
            AgreementTask::Mnli => "mnli",
        }
    }

    /// The learning rates the fine-tuning issue asks to compare at.
    fn default_learning_rate(self) -> f64 {
        match self {
            AgreementTask::Cola => 2e-5,
            AgreementTask::Mnli => 5e-5,
        }
    }

    /// The offline train file: the reference script implements the offline selection only.
    fn offline_file(self) -> &'static str {
        match self {
            AgreementTask::Cola => "glue/CoLA/in_domain_train.tsv",
            AgreementTask::Mnli => "glue/MNLI/dev_matched.reconstructed.tsv",
        }
    }
}

#[derive(Debug, Args)]
pub struct AgreementArgs {
    /// Task to fine-tune (the reference supports the offline CoLA and MNLI sets).
    task: AgreementTask,
    /// Seeds, comma-separated; each framework trains one model per seed.
    #[arg(long, default_value = "0,1,2")]
    seeds: String,
    /// Train on the first N of lmc's fixed shuffle of the train set (all when absent).
    #[arg(long)]
    train_examples: Option<usize>,
    /// Epochs.
    #[arg(long, default_value_t = 3)]
    epochs: u32,
    /// Peak learning rate [default: 2e-5 for CoLA, 5e-5 for MNLI].
    #[arg(long)]
    learning_rate: Option<f64>,
    /// CPU threads for PyTorch (lmc uses rayon's default pool).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Output directory [default: target/agreement/<task>].
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: AgreementArgs) -> anyhow::Result<()> {
    let task = args.task.name();
    let learning_rate = args
        .learning_rate
        .unwrap_or(args.task.default_learning_rate());
    let minilm = crate::setup()?;
    let lmc = build_lmc(&[])?;
    let locate = |file: &str| {
        run_captured(Command::new(&lmc).args(["data", "locate", file]))
            .map(|printed| PathBuf::from(printed.trim()))
    };
    let data_dir = locate(args.task.offline_file())?;
    let official_mnli_train = Command::new(&lmc)
        .args(["data", "locate", "glue/MNLI/train.tsv"])
        .current_dir(workspace_root())
        .stderr(std::process::Stdio::null())
        .output()
        .context("cannot run lmc data locate")?
        .status
        .success();
    if task == "mnli" && official_mnli_train {
        bail!(
            "the official MNLI train set is present, so lmc would train on it; the reference \
             script implements the offline split only"
        );
    }
    let out = args
        .out
        .unwrap_or_else(|| workspace_root().join("target").join("agreement").join(task));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let seeds: Vec<u64> = args
        .seeds
        .split(',')
        .map(|s| s.trim().parse().with_context(|| format!("seed {s:?}")))
        .collect::<anyhow::Result<_>>()?;

    let population = out.join("lmc");
    let mut finetune = Command::new(&lmc);
    finetune
        .arg("finetune")
        .args(["--task", task, "--seeds", &args.seeds, "--preset", "paper"])
        .arg("--model")
        .arg(&minilm)
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["--learning-rate", &learning_rate.to_string()])
        .args(["--epochs", &args.epochs.to_string()])
        .arg("--out")
        .arg(&population);
    if let Some(n) = args.train_examples {
        finetune.args(["--train-examples", &n.to_string()]);
    }
    eprintln!("fine-tuning with lmc …");
    let trained = run_captured(&mut finetune)?;

    let mut lmc_rows = Vec::new();
    for &seed in &seeds {
        let run = run_dir(&population, &trained, seed)?;
        let mut eval = Command::new(&lmc);
        eval.arg("eval")
            .arg("--model")
            .arg(run.join("model"))
            .args(["--task", task, "--set", "id:all"])
            .arg("--data-dir")
            .arg(&data_dir);
        let printed = run_captured(&mut eval)?;
        let metric = printed
            .lines()
            .find_map(|line| line.strip_prefix("metric ("))
            .and_then(|rest| rest.split_once(") "))
            .and_then(|(_, value)| value.trim().parse::<f64>().ok())
            .with_context(|| format!("lmc eval printed no metric:\n{printed}"))?;
        lmc_rows.push(json!({
            "seed": seed,
            "metric": metric,
            "train_examples_per_s": mean_examples_per_second(&run.join("metrics.csv"))?,
        }));
    }

    eprintln!("fine-tuning with PyTorch …");
    let script = workspace_root()
        .join("benches")
        .join("pytorch")
        .join("finetune_reference.py");
    let mut reference = Command::new("python3");
    reference
        .arg(&script)
        .args(["--task", task, "--seeds", &args.seeds])
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--model-dir")
        .arg(&minilm)
        .args(["--learning-rate", &learning_rate.to_string()])
        .args(["--epochs", &args.epochs.to_string()])
        .args(["--threads", &args.threads.to_string()]);
    if let Some(n) = args.train_examples {
        reference.args(["--train-examples", &n.to_string()]);
    }
    let torch_rows = json_lines(&mut reference, "seed")
        .context("the reference needs `python3 -m pip install torch transformers`")?;
    if torch_rows.len() != seeds.len() {
        bail!(
            "the reference printed {} results for {} seeds",
            torch_rows.len(),
            seeds.len()
        );
    }

    let metric_name = torch_rows[0]["metric_name"].as_str().unwrap_or("metric");
    println!(
        "{task}: in-domain {metric_name}, lr {learning_rate}, {} epochs",
        args.epochs
    );
    println!("| seed | lmc | PyTorch | lmc train ex/s | PyTorch train ex/s |");
    println!("|---|---|---|---|---|");
    for (ours, theirs) in lmc_rows.iter().zip(&torch_rows) {
        println!(
            "| {} | {:.4} | {:.4} | {:.1} | {:.1} |",
            ours["seed"],
            ours["metric"].as_f64().unwrap_or(f64::NAN),
            theirs["metric"].as_f64().unwrap_or(f64::NAN),
            ours["train_examples_per_s"].as_f64().unwrap_or(f64::NAN),
            theirs["train_examples_per_s"].as_f64().unwrap_or(f64::NAN),
        );
    }
    let mean = |rows: &[Value], key: &str| {
        rows.iter().filter_map(|r| r[key].as_f64()).sum::<f64>() / rows.len() as f64
    };
    let (ours, theirs) = (mean(&lmc_rows, "metric"), mean(&torch_rows, "metric"));
    let difference_points = 100.0 * (ours - theirs);
    let throughput_ratio =
        mean(&lmc_rows, "train_examples_per_s") / mean(&torch_rows, "train_examples_per_s");
    println!(
        "mean: lmc {ours:.4}, PyTorch {theirs:.4}, difference {difference_points:+.2} points \
         ({}within 2); training throughput lmc / PyTorch {throughput_ratio:.2}",
        if difference_points.abs() <= 2.0 {
            ""
        } else {
            "not "
        }
    );
    let summary = json!({
        "task": task,
        "learning_rate": learning_rate,
        "epochs": args.epochs,
        "train_examples": args.train_examples,
        "data_dir": data_dir,
        "lmc": lmc_rows,
        "pytorch": torch_rows,
        "mean_lmc": ours,
        "mean_pytorch": theirs,
        "difference_points": difference_points,
        "train_throughput_ratio": throughput_ratio,
    });
    let path = out.join("agreement.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)?)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("written: {}", path.display());
    Ok(())
}

/// The run directory of `seed` that `lmc finetune` reported in `printed` (its summary lines are
/// `seedN  trained  loss L  DIR` and `seedN  done  DIR`). Read from the report, not from the
/// population directory, which may also hold runs of earlier configurations of the same seed.
fn run_dir(population: &Path, printed: &str, seed: u64) -> anyhow::Result<PathBuf> {
    let name = format!("seed{seed}");
    printed
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let finished =
                fields.len() >= 3 && fields[0] == name && matches!(fields[1], "trained" | "done");
            finished
                .then(|| Path::new(fields[fields.len() - 1]).file_name())
                .flatten()
        })
        .map(|dir| population.join(dir))
        .filter(|dir| dir.join("done.json").is_file())
        .with_context(|| {
            format!(
                "lmc finetune reported no finished run of seed {seed} in {}:\n{printed}",
                population.display()
            )
        })
}

/// The mean of the `examples_per_second` column of a run's metrics.csv.
fn mean_examples_per_second(metrics: &Path) -> anyhow::Result<f64> {
    let text = std::fs::read_to_string(metrics)
        .with_context(|| format!("reading {}", metrics.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let column = header
        .iter()
        .position(|name| *name == "examples_per_second")
        .with_context(|| format!("{}: no examples_per_second column", metrics.display()))?;
    let values: Vec<f64> = lines
        .filter_map(|line| line.split(',').nth(column)?.parse().ok())
        .collect();
    if values.is_empty() {
        bail!("{}: no rows", metrics.display());
    }
    Ok(values.iter().sum::<f64>() / values.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_directory_comes_from_the_finetune_report() {
        let scratch = tempfile::tempdir().unwrap();
        let population = scratch.path().to_path_buf();
        for dir in ["seed0-old", "seed0-new", "seed1-new"] {
            std::fs::create_dir_all(population.join(dir)).unwrap();
            std::fs::write(population.join(dir).join("done.json"), "{}").unwrap();
        }
        let printed = format!(
            "seed0                    trained  loss 1.0407  {}\nseed1                    done     {}\n",
            population.join("seed0-new").display(),
            population.join("seed1-new").display()
        );
        assert_eq!(
            run_dir(&population, &printed, 0).unwrap(),
            population.join("seed0-new")
        );
        assert_eq!(
            run_dir(&population, &printed, 1).unwrap(),
            population.join("seed1-new")
        );
        assert!(run_dir(&population, &printed, 2).is_err());
    }
}
