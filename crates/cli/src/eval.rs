//! `lmc eval`: one model on one set, one row per example, aggregate metrics on stdout.

use std::path::PathBuf;

use anyhow::Context;
use burn::tensor::backend::Backend;
use clap::Args;
use lmc_data::{DEFAULT_MAX_LENGTH, DataDirSearch, PairTokenizer, SearchEnv, TaskName};
use lmc_sweep::{
    EvalSet, ModelRef, SetEvaluation, SetRequest, evaluate, examples_frame, hans_cells, load_model,
    load_set, model_config, task_for_model, write_parquet,
};

use crate::backend::{BackendChoice, OnBackend, run_on};

/// Arguments of `lmc eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A fine-tuned model directory (config.json with the classifier head, weights, tokenizer).
    #[arg(long)]
    pub model: PathBuf,
    /// The task the model was fine-tuned on (decides labels, metric and the MNLI → HANS collapse).
    #[arg(long)]
    pub task: TaskName,
    /// A set of the task (`id`, `ood`, or a name such as `hans`, `validation_matched`) or a data
    /// file in a format of the task's sets; `:N` keeps N examples, `:all` every one.
    #[arg(long, default_value = "id:all")]
    pub set: String,
    /// Keep only the first N examples of the set (as `--set NAME:N`; HANS: seeded shuffle, seed 42).
    #[arg(long)]
    pub subset: Option<usize>,
    /// Per-example output (Parquet): index, label, prediction, loss, logit_0…, HANS heuristic/subcase.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub evaluation: EvaluationOptions,
}

/// Where the data is and how examples are batched: the options `lmc eval`, `lmc sweep` and
/// `lmc surface` share.
#[derive(Debug, Args)]
pub struct EvaluationOptions {
    /// Data directory [default: $LMC_DATA_DIR, the fetch cache, then ../shared/datasets].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Examples per batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Longest token sequence.
    #[arg(long, default_value_t = DEFAULT_MAX_LENGTH)]
    pub max_length: usize,
    /// Compute backend (`cuda` needs a binary built with `cargo xtask build-gpu`).
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
}

impl EvaluationOptions {
    /// The data-directory search these options ask for.
    pub fn search(&self) -> DataDirSearch {
        DataDirSearch::new(self.data_dir.as_deref(), &SearchEnv::from_process())
    }
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let set_text = match args.subset {
        Some(n) => format!(
            "{}:{n}",
            args.set
                .rsplit_once(':')
                .map_or(args.set.as_str(), |(b, _)| b)
        ),
        None => args.set.clone(),
    };
    let request: SetRequest = set_text.parse()?;
    let model_ref = ModelRef {
        name: args.model.file_name().map_or_else(
            || args.model.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        dir: args.model.clone(),
        run_dir: None,
    };
    let task = task_for_model(args.task, &model_ref, &model_config(&model_ref)?)?;
    let search = args.evaluation.search();
    let dataset = load_set(&request, &task, &search, &mut None)?;
    let tokenizer = PairTokenizer::from_model_dir(&args.model, args.evaluation.max_length)
        .with_context(|| format!("tokenizer of {}", args.model.display()))?;
    let spec = request.resolve(&task)?;
    let set = EvalSet::prepare(&request.label, dataset, spec, &tokenizer, args.evaluation.batch_size)?;
    let evaluation = run_on(args.evaluation.backend, Evaluate { model: &model_ref, set: &set })?;
    if let Some(out) = &args.out {
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        write_parquet(out, &mut examples_frame(&set, &evaluation)?)?;
    }
    let scores = &evaluation.scores;
    println!(
        "{} on {} ({} examples; {})",
        model_ref.name,
        set.dataset.name,
        set.len(),
        set.dataset.report.provenance
    );
    println!("loss {:.6}", scores.mean_loss);
    println!("accuracy {:.6}", scores.accuracy);
    println!(
        "metric ({}) {:.6}",
        scores.metric.name(),
        scores.metric_value
    );
    println!("ece {:.6}", evaluation.ece);
    if let Some(cells) = hans_cells(&set, &evaluation) {
        for cell in cells {
            println!(
                "hans {} {}: accuracy {:.6} ({} examples)",
                cell.heuristic, cell.label, cell.accuracy, cell.n_examples
            );
        }
    }
    if let Some(out) = &args.out {
        println!("per-example results: {}", out.display());
    }
    Ok(())
}

/// Loads a model and evaluates it on one set.
struct Evaluate<'a> {
    model: &'a ModelRef,
    set: &'a EvalSet,
}

impl OnBackend for Evaluate<'_> {
    type Output = SetEvaluation;

    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<SetEvaluation> {
        let model = load_model::<B>(self.model, &device)?;
        Ok(evaluate(&model, self.set, &device)?)
    }
}
