//! `lmc eval`: one model on one set, one row per example, aggregate metrics on stdout.

use std::path::PathBuf;

use anyhow::Context;
use burn::tensor::backend::Backend;
use clap::Args;
use lmc_bert::Precision;
use lmc_data::{DEFAULT_MAX_LENGTH, DataDirSearch, PairTokenizer, SearchEnv, TaskName};
use lmc_sweep::{
    EvalSet, ModelRef, SetEvaluation, SetRequest, check_max_length, evaluate_with_progress,
    examples_frame, hans_cells, load_model, load_set, model_config, task_for_model, write_parquet,
};

use crate::backend::{ComputeOptions, OnBackend, run_on};
use crate::progress::Progress;

/// Arguments of `lmc eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A fine-tuned model directory (config.json with the classifier head, weights, tokenizer),
    /// or a Hugging Face hub reference `hf:ORG/NAME[@REVISION]`.
    #[arg(long)]
    pub model: String,
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
    /// The order of the models' outputs, for checkpoints whose config.json names no labels
    /// (`LABEL_0`, …), e.g. `contradiction,entailment,neutral` for the paper's MNLI feather BERTs
    /// [default: the config's names, else the task's order].
    #[arg(long, value_delimiter = ',')]
    pub label_order: Option<Vec<String>>,
    #[command(flatten)]
    pub compute: ComputeOptions,
}

impl EvaluationOptions {
    /// The data-directory search these options ask for.
    pub fn search(&self) -> DataDirSearch {
        DataDirSearch::new(self.data_dir.as_deref(), &SearchEnv::from_process())
    }
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    // Before anything starts rayon's pool (tokenising the set does).
    args.evaluation.compute.threads.apply()?;
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
    let model_ref = match crate::models::resolve(std::slice::from_ref(&args.model))? {
        (mut hub, _) if hub.len() == 1 => hub.remove(0),
        (hub, _) if !hub.is_empty() => {
            anyhow::bail!(
                "--model {}: names {} models where one is needed",
                args.model,
                hub.len()
            )
        }
        (_, local) => ModelRef {
            name: local[0].file_name().map_or_else(
                || local[0].display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            dir: local[0].clone(),
            run_dir: None,
        },
    };
    let set = prepare_set(&model_ref, args.task, &request, &args.evaluation)?;
    if let Some(out) = &args.out {
        // Before the evaluation, so that a bad --out costs nothing.
        crate::paths::create_parent(out)?;
    }
    let evaluation = evaluate_model(&model_ref, &set, &args.evaluation)?;
    if let Some(out) = &args.out {
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

/// `request` of `task`, loaded and tokenized for `model` (its labels' order, its tokenizer), as
/// `lmc eval` and `lmc merge --eval` prepare a set.
///
/// # Errors
/// A model whose head does not fit the task, data and tokenizer errors.
pub fn prepare_set(
    model: &ModelRef,
    task: TaskName,
    request: &SetRequest,
    options: &EvaluationOptions,
) -> anyhow::Result<EvalSet> {
    let config = model_config(model)?;
    check_max_length(model, &config, options.max_length)?;
    let task = task_for_model(task, model, &config, options.label_order.as_deref())?;
    let dataset = load_set(request, &task, &options.search(), &mut None)?;
    let tokenizer = PairTokenizer::from_model_dir(&model.dir, options.max_length)
        .with_context(|| format!("tokenizer of {}", model.dir.display()))?;
    let spec = request.resolve(&task)?;
    Ok(EvalSet::prepare(
        &request.label,
        dataset,
        spec,
        &tokenizer,
        options.batch_size,
    )?)
}

/// `model` evaluated on `set` where and how `options` say, with progress.
///
/// # Errors
/// The backend's, or a model that cannot be loaded.
pub fn evaluate_model(
    model: &ModelRef,
    set: &EvalSet,
    options: &EvaluationOptions,
) -> anyhow::Result<SetEvaluation> {
    let job = Evaluate {
        model,
        set,
        precision: options.compute.precision()?,
    };
    run_on(options.compute, job)
}

/// Loads a model and evaluates it on one set.
struct Evaluate<'a> {
    model: &'a ModelRef,
    set: &'a EvalSet,
    precision: Precision,
}

impl OnBackend for Evaluate<'_> {
    type Output = SetEvaluation;

    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<SetEvaluation> {
        let model = load_model::<B>(self.model, self.precision, &device)?;
        let mut progress = Progress::new(&self.set.label, "examples", 0, self.set.len() as u64);
        let evaluation = evaluate_with_progress(&model, self.set, &device, &mut |done, total| {
            progress.update(done as u64, total as u64, String::new())
        });
        progress.finish();
        Ok(evaluation?)
    }
}
