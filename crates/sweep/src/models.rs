//! Finding models (model directories and population runs), loading them, and their label order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use lmc_bert::{BertClassifier, BertConfig, HeadSpec, Precision, load_classifier};
use lmc_data::{LabelEncoding, TaskName, TaskSpec};
use lmc_train::{CHECKPOINTS_DIR, MODEL_DIR, RUN_FILE, step_of_dir_name};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SweepError};

/// A model to evaluate: its name in result tables and its Hugging Face directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRef {
    /// Name in tables (`run.json`'s `name`, else the run or model folder's name).
    pub name: String,
    /// Directory holding `config.json` and the weights.
    pub dir: PathBuf,
    /// The population run the model is the final model of, when it came from one
    /// (`<pop>/<run>/`, whose `checkpoints/step-<N>/` hold intermediate models).
    pub run_dir: Option<PathBuf>,
}

/// Models found by [`discover_models`], and the runs skipped on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    /// The models, in the order given (population runs sorted by folder name).
    pub models: Vec<ModelRef>,
    /// One line per population run left out (unfinished: no `model/config.json`).
    pub skipped: Vec<String>,
}

fn folder_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The `name` field of `<run>/run.json`, if the file exists and has one.
fn run_name(run: &Path) -> Result<Option<String>> {
    let path = run.join(RUN_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(SweepError::io(&path))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| SweepError::Json {
            path: path.clone(),
            source,
        })?;
    Ok(value
        .get("name")
        .and_then(|n| n.as_str())
        .map(str::to_owned))
}

/// Expands `paths` into models: a directory with `config.json` is a model (named after its
/// folder); a run directory (`<run>/model/config.json`) is its model, named like a population's
/// runs; any other directory is a population, whose runs `<run>/model/` are models named by
/// `<run>/run.json`'s `name` (else the run folder). Runs without `model/config.json` are
/// unfinished and skipped.
///
/// # Errors
/// A path that is neither, a population without finished runs, or two models with one name.
pub fn discover_models(paths: &[PathBuf]) -> Result<Discovery> {
    let mut models = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        if path.join("config.json").is_file() {
            models.push(ModelRef {
                name: folder_name(path),
                dir: path.clone(),
                run_dir: None,
            });
            continue;
        }
        if path.join(MODEL_DIR).join("config.json").is_file() {
            models.push(ModelRef {
                name: run_name(path)?.unwrap_or_else(|| folder_name(path)),
                dir: path.join(MODEL_DIR),
                run_dir: Some(path.clone()),
            });
            continue;
        }
        if !path.is_dir() {
            return Err(SweepError::Invalid(format!(
                "{}: neither a model directory (config.json) nor a population directory",
                path.display()
            )));
        }
        let mut runs: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(SweepError::io(path))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        runs.sort();
        let before = models.len();
        for run in runs {
            let model_dir = run.join(MODEL_DIR);
            if !model_dir.join("config.json").is_file() {
                skipped.push(format!(
                    "{}: unfinished run (no model/config.json), skipped",
                    run.display()
                ));
                continue;
            }
            models.push(ModelRef {
                name: run_name(&run)?.unwrap_or_else(|| folder_name(&run)),
                dir: model_dir,
                run_dir: Some(run),
            });
        }
        if models.len() == before {
            return Err(SweepError::Invalid(format!(
                "{}: no finished model (neither config.json nor <run>/model/config.json)",
                path.display()
            )));
        }
    }
    check_unique_names(&models)?;
    Ok(Discovery { models, skipped })
}

/// A name made safe for file names: letters, digits, `-`, `_` and `.` kept, anything else `_`.
pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Fails if two models share a name, or names that map to the same file name.
pub fn check_unique_names(models: &[ModelRef]) -> Result<()> {
    let mut seen: BTreeMap<String, &ModelRef> = BTreeMap::new();
    for model in models {
        if let Some(other) = seen.insert(file_safe(&model.name), model) {
            return Err(SweepError::Invalid(format!(
                "two models are called `{}` (or names that differ only in special characters): {} and {}",
                model.name,
                other.dir.display(),
                model.dir.display()
            )));
        }
    }
    Ok(())
}

/// The intermediate checkpoints of population models: for each step, the models (named as their
/// runs) that have `checkpoints/step-<N>/config.json`, steps ascending. Steps with fewer than two
/// models are left out (no pair to sweep).
///
/// # Errors
/// A model that does not come from a population run, or an unreadable run directory.
pub fn checkpoint_populations(models: &[ModelRef]) -> Result<Vec<(u64, Vec<ModelRef>)>> {
    let mut steps: BTreeMap<u64, Vec<ModelRef>> = BTreeMap::new();
    for model in models {
        let run = model.run_dir.as_ref().ok_or_else(|| {
            SweepError::Invalid(format!(
                "model `{}` ({}) is not a population run, so it has no checkpoints",
                model.name,
                model.dir.display()
            ))
        })?;
        let folder = run.join(CHECKPOINTS_DIR);
        if !folder.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&folder).map_err(SweepError::io(&folder))? {
            let path = entry.map_err(SweepError::io(&folder))?.path();
            let step = step_of_dir_name(&folder_name(&path));
            if let Some(step) = step
                && path.join("config.json").is_file()
            {
                steps.entry(step).or_default().push(ModelRef {
                    name: model.name.clone(),
                    dir: path,
                    run_dir: None,
                });
            }
        }
    }
    Ok(steps.into_iter().filter(|(_, m)| m.len() >= 2).collect())
}

/// The task with its labels in the order of the model's outputs: `config`'s `id2label` when it
/// names the task's labels (e.g. a checkpoint trained with contradiction = 0); else
/// `label_order` when given (for checkpoints whose config names no labels, such as the paper's
/// feather BERTs, trained with contradiction, entailment, neutral); else the built-in order.
///
/// # Errors
/// A head whose number of classes differs from the task's, or a `label_order` that is not a
/// permutation of the task's labels, naming the model.
pub fn task_for_model(
    task: TaskName,
    model: &ModelRef,
    config: &BertConfig,
    label_order: Option<&[String]>,
) -> Result<TaskSpec> {
    let spec = TaskSpec::builtin(task);
    let classes = config.num_labels.unwrap_or(spec.num_labels());
    if classes != spec.num_labels() {
        return Err(SweepError::Invalid(format!(
            "model `{}` ({}) has {classes} classes, task {task} has {}",
            model.name,
            model.dir.display(),
            spec.num_labels()
        )));
    }
    let names: Option<Vec<String>> = config.id2label.as_ref().and_then(|map| {
        (0..classes)
            .map(|i| map.get(&i.to_string()).map(|n| n.to_lowercase()))
            .collect()
    });
    let named = names.filter(|names| {
        spec.labels.encoding == LabelEncoding::Names
            && names.iter().all(|n| spec.labels.names.contains(n))
    });
    let order: Option<Vec<&str>> = match (&named, label_order) {
        (Some(names), _) => Some(names.iter().map(String::as_str).collect()),
        (None, Some(order)) => Some(order.iter().map(String::as_str).collect()),
        (None, None) => None,
    };
    match order {
        Some(order) => spec
            .with_label_order(&order)
            .map_err(SweepError::data(format!(
                "labels of model `{}`",
                model.name
            ))),
        None => Ok(spec),
    }
}

/// Checks that a model of `config` takes sequences of `max_length` tokens (its position
/// embeddings), so that a long example is an error naming the model, not a crash mid-sweep.
///
/// # Errors
/// `max_length` above the model's `max_position_embeddings`.
pub fn check_max_length(model: &ModelRef, config: &BertConfig, max_length: usize) -> Result<()> {
    if max_length > config.max_position_embeddings {
        return Err(SweepError::Invalid(format!(
            "a maximum length of {max_length} tokens, but model `{}` ({}) has {} positions: pass \
             --max-length {} or less",
            model.name,
            model.dir.display(),
            config.max_position_embeddings,
            config.max_position_embeddings
        )));
    }
    Ok(())
}

/// Reads a model's `config.json`.
///
/// # Errors
/// A missing or invalid config, naming the model.
pub fn model_config(model: &ModelRef) -> Result<BertConfig> {
    BertConfig::load(&model.dir.join("config.json")).map_err(SweepError::model(&model.name))
}

/// Loads a finished classifier (its head must be in the checkpoint) that computes its matrix
/// products in `precision`.
///
/// # Errors
/// Loading errors, or a checkpoint without a classifier head, naming the model.
pub fn load_model<B: Backend>(
    model: &ModelRef,
    precision: Precision,
    device: &B::Device,
) -> Result<BertClassifier<B>> {
    let head = HeadSpec {
        num_labels: None,
        seed: 0,
    };
    let loaded =
        load_classifier::<B>(&model.dir, head, device).map_err(SweepError::model(&model.name))?;
    if !loaded.report.initialised.is_empty() {
        return Err(SweepError::Invalid(format!(
            "model `{}` ({}) is not fine-tuned: no {} in its checkpoint",
            model.name,
            model.dir.display(),
            loaded.report.initialised.join(", ")
        )));
    }
    Ok(loaded.model.with_precision(precision))
}
