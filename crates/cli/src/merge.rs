//! `lmc merge CONFIG.yaml OUT_DIR`: N-model merges in mergekit-yaml's configuration format
//! (linear / uniform soup, SLERP, task arithmetic, TIES; `docs/merge.md`), out of core, then
//! optionally the merged model's evaluation on any task sets (`--eval TASK:SET[:N]`), with the
//! same code as `lmc eval`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use lmc_data::TaskName;
use lmc_interp::{MergeConfig, ModelMerge, ModelMergeSummary};
use lmc_sweep::{ModelRef, SetEvaluation, SetRequest, examples_frame, write_parquet};
use serde::Serialize;

use crate::eval::{EvaluationOptions, evaluate_model, prepare_set};

/// Folder of a merge's output directory with its evaluations.
pub const EVAL_DIR: &str = "eval";
/// The metrics of every `--eval`, in `OUT_DIR/eval/`.
pub const METRICS_FILE: &str = "metrics.json";

/// Arguments of `lmc merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// mergekit-style YAML: `models` (with `parameters`: `weight`, `density`), `base_model`,
    /// `merge_method` (linear, slerp, task_arithmetic, ties), `parameters` (`t`, `normalize`,
    /// `lambda`), `dtype`. Relative model paths are resolved against the working directory.
    pub config: PathBuf,
    /// Output directory: model.safetensors, config.json and tokenizer files (loadable by
    /// transformers), mergekit_config.yml, and merge.json (the YAML and every input's sha256).
    pub out_dir: PathBuf,
    /// Evaluate the merged model on a set of a task: `TASK:SET` or `TASK:SET:N` (e.g.
    /// `mnli:hans:2000`, `cola:ood:all`; SET as `lmc eval --set`). Repeatable. Writes
    /// `OUT_DIR/eval/<task>-<set>.parquet` (one row per example) and `OUT_DIR/eval/metrics.json`.
    #[arg(long = "eval", value_name = "TASK:SET[:N]")]
    pub evals: Vec<EvalTarget>,
    #[command(flatten)]
    pub evaluation: EvaluationOptions,
}

/// One `--eval`: a task and one of its sets.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalTarget {
    /// The task (labels, metric, the MNLI → HANS collapse).
    pub task: TaskName,
    /// The set, as `lmc eval --set` takes it.
    pub set: SetRequest,
}

impl std::str::FromStr for EvalTarget {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (task, set) = text
            .split_once(':')
            .ok_or_else(|| format!("`{text}`: give TASK:SET or TASK:SET:N, e.g. mnli:hans:2000"))?;
        Ok(EvalTarget {
            task: task.parse().map_err(|e| format!("`{text}`: {e}"))?,
            set: set.parse().map_err(|e| format!("`{text}`: {e}"))?,
        })
    }
}

/// A row of `metrics.json`.
#[derive(Debug, Serialize)]
struct MetricsRow {
    task: String,
    set: String,
    dataset: String,
    examples: usize,
    loss: f64,
    accuracy: f64,
    metric_name: String,
    metric: f64,
    ece: f64,
    examples_file: String,
}

pub fn run(args: MergeArgs) -> anyhow::Result<()> {
    args.evaluation.compute.threads.apply()?;
    let working_dir = std::env::current_dir().context("the working directory")?;
    let config = MergeConfig::load(&args.config)?;
    // Everything is checked before any tensor is read or any file written.
    let merge = ModelMerge::open(config, &working_dir)?;
    crate::paths::create_dir(&args.out_dir)?;
    let summary = merge.write(&args.out_dir)?;
    report(&summary, merge.ignored_parameters());
    if args.evals.is_empty() {
        return Ok(());
    }
    let merged = ModelRef {
        name: args
            .out_dir
            .file_name()
            .map_or_else(|| "merged".to_owned(), |n| n.to_string_lossy().into_owned()),
        dir: args.out_dir.clone(),
        run_dir: None,
    };
    let eval_dir = args.out_dir.join(EVAL_DIR);
    crate::paths::create_dir(&eval_dir)?;
    let mut rows = Vec::new();
    for target in &args.evals {
        let set = prepare_set(&merged, target.task, &target.set, &args.evaluation)
            .with_context(|| format!("--eval {}:{}", target.task, target.set))?;
        let evaluation = evaluate_model(&merged, &set, &args.evaluation)?;
        let file = eval_dir.join(format!(
            "{}-{}.parquet",
            target.task,
            lmc_sweep::file_safe(&set.label)
        ));
        write_parquet(&file, &mut examples_frame(&set, &evaluation)?)?;
        rows.push(metrics_row(target, &set.dataset.name, &evaluation, &file));
    }
    let metrics = eval_dir.join(METRICS_FILE);
    lmc_atomic::write(&metrics, &serde_json::to_vec_pretty(&rows)?)
        .with_context(|| format!("writing {}", metrics.display()))?;
    println!("| task | set | examples | loss | accuracy | metric |");
    println!("|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {} | {} | {:.4} | {:.4} | {} {:.4} |",
            row.task, row.set, row.examples, row.loss, row.accuracy, row.metric_name, row.metric
        );
    }
    println!("metrics: {}", metrics.display());
    Ok(())
}

fn metrics_row(
    target: &EvalTarget,
    dataset: &str,
    evaluation: &SetEvaluation,
    file: &Path,
) -> MetricsRow {
    let scores = &evaluation.scores;
    MetricsRow {
        task: target.task.as_str().to_owned(),
        set: evaluation.set.clone(),
        dataset: dataset.to_owned(),
        examples: scores.losses.len(),
        loss: scores.mean_loss,
        accuracy: scores.accuracy,
        metric_name: scores.metric.name().to_owned(),
        metric: scores.metric_value,
        ece: evaluation.ece,
        examples_file: file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

/// Prints what the merge did, with warnings for what a user must know.
fn report(summary: &ModelMergeSummary, ignored: &[String]) {
    println!(
        "{}: {} tensors merged ({} values), {} carried, {} bytes; record {}",
        summary.output_dir.display(),
        summary.merged_tensors,
        summary.merged_values,
        summary.carried_tensors,
        summary.bytes_written,
        summary.record_file.display()
    );
    for (input, digest) in &summary.input_hashes {
        println!("  {} sha256 {digest}", input.weights_file.display());
    }
    if !ignored.is_empty() {
        tracing::warn!("parameters the method does not use: {}", ignored.join(", "));
    }
    if !summary.linear_fallback_tensors.is_empty() {
        tracing::warn!(
            "slerp fell back to linear interpolation for {} nearly colinear tensors (first `{}`)",
            summary.linear_fallback_tensors.len(),
            summary.linear_fallback_tensors[0]
        );
    }
    if !summary.non_finite_tensors.is_empty() {
        tracing::warn!(
            "non-finite values in {} merged tensors, first `{}`",
            summary.non_finite_tensors.len(),
            summary.non_finite_tensors[0]
        );
    }
}
