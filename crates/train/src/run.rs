//! One fine-tuning run: its configuration hash, its directory, and the resumable training loop.
//!
//! A run directory `<root>/<name>-<hash>/` holds:
//!
//! | path | written | contents |
//! |---|---|---|
//! | `run.json` | at the start | [`RunRecord`]: name, the full configuration ([`RunIdentity`]) and the plan |
//! | `metrics.csv` | every update | `step, epoch, loss, learning_rate, grad_norm, examples_per_second` |
//! | `resume/step-<N>/` | every `resume_every` updates | `model.safetensors`, `config.json`, `optimizer.safetensors`, `state.json` (written last) |
//! | `checkpoints/step-<N>/` | at each of `save_steps` | the model in Hugging Face layout, with tokenizer files |
//! | `model/` | at the end | the fine-tuned model in Hugging Face layout, with tokenizer files |
//! | `done.json` | last | [`RunSummary`]; its presence marks the run finished |
//!
//! Directories are written under a temporary name and renamed into place, so a killed run never
//! leaves a partial `model/`, checkpoint or resume state. A rerun skips a finished run and resumes
//! an unfinished one from its newest resume state: the data order of every epoch is a function of
//! the data seed and the epoch, and every update draws its dropout masks from streams seeded by
//! the run seed and the update's number, so a resumed run ends with the same weights, bit for
//! bit, as an uninterrupted one. Each batch is split into `batch_slices` row slices computed on
//! parallel threads ([`lmc_bert::batch_gradients`]); the streams belong to the run, not to burn's
//! process-wide generator, so runs in parallel threads stay deterministic too.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::backend::{AutodiffBackend, Backend};
use lmc_bert::{
    BatchGradients, BertClassifier, BertConfig, HeadSpec, SplitMix64, batch_gradients,
    load_classifier,
};
use lmc_data::{BatchOrder, BatchPlan, Provenance};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::data::{DataIdentity, TrainingSet, model_input};
use crate::error::{Result, TrainError};
use crate::optim::AdamW;
use crate::recipe::Recipe;
use crate::schedule::LinearSchedule;

/// The seeds of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seeds {
    /// The run's seed; it also drives dropout.
    pub seed: u64,
    /// Seed of the new classification head (and pooler, when the checkpoint lacks one).
    pub head: u64,
    /// Seed of the order of training examples.
    pub data: u64,
}

impl Seeds {
    /// Head and data seeds equal to `seed`.
    pub fn same(seed: u64) -> Self {
        Seeds {
            seed,
            head: seed,
            data: seed,
        }
    }

    /// `seed3`, or `seed3-head5-data7` when the head or data seed differs.
    pub fn name(&self) -> String {
        let mut name = format!("seed{}", self.seed);
        if self.head != self.seed {
            name.push_str(&format!("-head{}", self.head));
        }
        if self.data != self.seed {
            name.push_str(&format!("-data{}", self.data));
        }
        name
    }
}

/// What identifies the starting checkpoint: part of a run's configuration hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelIdentity {
    /// SHA-256 of the weights file.
    pub weights_sha256: String,
    /// SHA-256 of `config.json`.
    pub config_sha256: String,
}

impl ModelIdentity {
    /// Hashes the weights and configuration of the checkpoint in `dir`.
    pub fn of_checkpoint(dir: &Path) -> Result<Self> {
        let (weights, _) = lmc_bert::find_weights_file(dir)?;
        Ok(ModelIdentity {
            weights_sha256: lmc_bert::pretrained::sha256_file(&weights)?,
            config_sha256: lmc_bert::pretrained::sha256_file(&dir.join("config.json"))?,
        })
    }
}

/// Everything that determines a run's result; its hash names the run directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    /// Starting checkpoint.
    pub model: ModelIdentity,
    /// Training set.
    pub data: DataIdentity,
    /// Hyper-parameters (`resume_every` excluded: it does not change the result).
    pub recipe: Recipe,
    /// Seeds.
    pub seeds: Seeds,
    /// burn's name of the backend the run computes on (`Backend::name`, e.g.
    /// `fusion<cubecl<cuda>>`): float results differ between backends, so a run resumed on
    /// another backend would not be the same run. Left out of the JSON for [`CPU_BACKEND`], so CPU
    /// runs keep the names they had before the field existed.
    #[serde(default = "cpu_backend", skip_serializing_if = "is_cpu_backend")]
    pub backend: String,
}

/// burn's name of the flex CPU backend, the default of [`RunIdentity::backend`].
pub use lmc_bert::CPU_BACKEND;

fn cpu_backend() -> String {
    CPU_BACKEND.to_owned()
}

fn is_cpu_backend(name: &String) -> bool {
    name == CPU_BACKEND
}

impl RunIdentity {
    /// The first 12 hex digits of the SHA-256 of the identity's JSON.
    pub fn hash(&self) -> String {
        let mut hashed = self.clone();
        hashed.recipe.resume_every = 0;
        let json = serde_json::to_vec(&hashed).expect("the identity serialises to JSON");
        let digest = Sha256::digest(json);
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }
}

/// A run to perform.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// The pretrained checkpoint (Hugging Face layout) the run starts from.
    pub model_dir: PathBuf,
    /// Hyper-parameters.
    pub recipe: Recipe,
    /// Seeds.
    pub seeds: Seeds,
    /// Which lmc trains it, recorded in `run.json` (not part of the run's identity).
    pub provenance: Option<Provenance>,
}

/// `run.json`: what a run is and how it is laid out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Short name (`seed3`), used as the model's name in result tables.
    pub name: String,
    /// Configuration hash (the directory suffix).
    pub hash: String,
    /// The pretrained checkpoint's path when the run was created.
    pub model_dir: PathBuf,
    /// The full configuration.
    pub identity: RunIdentity,
    /// Updates per epoch.
    pub steps_per_epoch: u64,
    /// Updates in the run.
    pub total_steps: u64,
    /// Which lmc created the run, on what backend and how many threads (absent in runs from
    /// before it was recorded; never compared on a restart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// `done.json`: how a finished run went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Updates made.
    pub steps: u64,
    /// Mean training loss over the last 10 % of updates (at least one).
    pub final_loss: f64,
    /// Wall time of the last session of the run (after any resume), seconds.
    pub seconds: f64,
    /// Examples per second over that session.
    pub examples_per_second: f64,
}

/// One update, as reported to a [`TrainObserver`] and written to `metrics.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepRecord {
    /// Updates done, this one included (1-based).
    pub step: u64,
    /// Epoch of this update (0-based).
    pub epoch: u64,
    /// Mean cross-entropy of the batch.
    pub loss: f64,
    /// Learning rate used.
    pub learning_rate: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Examples per second of this update.
    pub examples_per_second: f64,
}

/// Receives progress; every method has an empty default.
pub trait TrainObserver {
    /// A run starts (or resumes) with `done` of `total` updates made.
    fn run_started(&mut self, _name: &str, _done: u64, _total: u64) {}
    /// An update finished.
    fn step(&mut self, _record: &StepRecord) {}
    /// A run finished.
    fn run_finished(&mut self, _name: &str, _summary: &RunSummary) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl TrainObserver for Silent {}

/// What [`train`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// The run was trained (from scratch or resumed) and is now finished.
    Trained {
        /// The run directory.
        dir: PathBuf,
        /// Its summary.
        summary: RunSummary,
    },
    /// The run was already finished; nothing was done.
    AlreadyDone {
        /// The run directory.
        dir: PathBuf,
    },
}

impl RunOutcome {
    /// The run directory.
    pub fn dir(&self) -> &Path {
        match self {
            RunOutcome::Trained { dir, .. } | RunOutcome::AlreadyDone { dir } => dir,
        }
    }
}

/// Directory of the final model inside a run directory.
pub const MODEL_DIR: &str = "model";
/// Marker of a finished run.
pub const DONE_FILE: &str = "done.json";
/// The run's record.
pub const RUN_FILE: &str = "run.json";
/// Per-update training metrics.
pub const METRICS_FILE: &str = "metrics.csv";
/// Kept checkpoints (training dynamics).
pub const CHECKPOINTS_DIR: &str = "checkpoints";
const RESUME_DIR: &str = "resume";
const STATE_FILE: &str = "state.json";
const OPTIMIZER_FILE: &str = "optimizer.safetensors";
const METRICS_HEADER: &str = "step,epoch,loss,learning_rate,grad_norm,examples_per_second";

/// Position of a resumable state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct ResumeState {
    /// Updates done.
    step: u64,
}

/// A seed derived from `base` for item `index` of a named `stream`.
fn derive_seed(base: u64, stream: u64, index: u64) -> u64 {
    let mut mixer = SplitMix64::new(base ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let first = mixer.next_u64();
    SplitMix64::new(first ^ index).next_u64()
}

const EPOCH_ORDER_STREAM: u64 = 1;
const DROPOUT_STREAM: u64 = 2;

/// The directory of `spec` under `root` when trained on the backend burn names `backend`
/// ([`CPU_BACKEND`] for flex), and its identity.
pub fn run_dir(
    spec: &RunSpec,
    data: &TrainingSet,
    root: &Path,
    backend: &str,
) -> Result<(PathBuf, RunIdentity)> {
    let identity = RunIdentity {
        model: ModelIdentity::of_checkpoint(&spec.model_dir)?,
        data: data.identity.clone(),
        recipe: spec.recipe.clone(),
        seeds: spec.seeds,
        backend: backend.to_owned(),
    };
    let dir = root.join(format!("{}-{}", spec.seeds.name(), identity.hash()));
    Ok((dir, identity))
}

/// Whether the run in `dir` has finished.
pub fn is_finished(dir: &Path) -> bool {
    dir.join(DONE_FILE).is_file() && dir.join(MODEL_DIR).join("config.json").is_file()
}

/// Trains (or resumes, or skips) the run `spec` on `data` in its directory under `root`, on
/// `device` with autodiff backend `AB`.
pub fn train<AB: AutodiffBackend>(
    spec: &RunSpec,
    data: &TrainingSet,
    root: &Path,
    device: &AB::Device,
    observer: &mut dyn TrainObserver,
) -> Result<RunOutcome> {
    spec.recipe.validate()?;
    let backend = <AB::InnerBackend as Backend>::name(device);
    let (dir, identity) = run_dir(spec, data, root, &backend)?;
    if is_finished(&dir) {
        return Ok(RunOutcome::AlreadyDone { dir });
    }
    fs::create_dir_all(&dir).map_err(TrainError::io(&dir))?;
    // What a process killed mid-write left (this run has one writer: the run directory's name
    // is its whole configuration).
    for folder in [dir.clone(), dir.join(RESUME_DIR), dir.join(CHECKPOINTS_DIR)] {
        lmc_atomic::remove_abandoned(&folder).map_err(TrainError::io(&folder))?;
    }
    let recipe = &spec.recipe;
    let steps_per_epoch = data.examples.len().div_ceil(recipe.batch_size) as u64;
    let total_steps = recipe
        .max_steps
        .unwrap_or(steps_per_epoch * u64::from(recipe.epochs));
    let record = RunRecord {
        name: spec.seeds.name(),
        hash: identity.hash(),
        model_dir: spec.model_dir.clone(),
        identity,
        steps_per_epoch,
        total_steps,
        provenance: spec.provenance.clone(),
    };
    check_or_write_record(&dir.join(RUN_FILE), &record)?;

    let num_labels = data.labels.len();
    let head = HeadSpec {
        num_labels: Some(num_labels),
        seed: spec.seeds.head,
    };
    let (mut model, config, mut optimizer, start) = match latest_resume_state(&dir)? {
        Some((state_dir, state)) => {
            let loaded = load_classifier::<AB>(&state_dir, head, device)?;
            let optimizer = AdamW::load(recipe.adamw(), &state_dir.join(OPTIMIZER_FILE), device)?;
            if optimizer.updates() != state.step {
                return Err(TrainError::Corrupt {
                    path: state_dir.join(OPTIMIZER_FILE),
                    message: format!(
                        "{} optimizer updates stored for a state at step {}",
                        optimizer.updates(),
                        state.step
                    ),
                });
            }
            (loaded.model, loaded.config, optimizer, state.step)
        }
        None => {
            let (model, config) = initial_model::<AB>(spec, head, device)?;
            (model, config, AdamW::new(recipe.adamw()), 0)
        }
    };
    model = model.with_precision(recipe.precision);
    let (mut metrics, mut losses) = MetricsLog::open(&dir.join(METRICS_FILE), start)?;
    observer.run_started(&record.name, start, total_steps);
    if start == 0 && recipe.save_steps.contains(&0) {
        save_model(&model, &config, data, spec, &checkpoint_dir(&dir, 0))?;
    }

    let schedule =
        LinearSchedule::with_warmup_ratio(recipe.learning_rate, recipe.warmup_ratio, total_steps);
    let session_start = Instant::now();
    let mut epoch_plan: Option<(u64, BatchPlan)> = None;
    for step in start..total_steps {
        let update_start = Instant::now();
        let epoch = step / steps_per_epoch;
        if epoch_plan
            .as_ref()
            .is_none_or(|(planned, _)| *planned != epoch)
        {
            let seed = derive_seed(spec.seeds.data, EPOCH_ORDER_STREAM, epoch);
            let order = match recipe.length_grouping_window {
                Some(window_batches) => BatchOrder::LengthGrouped {
                    seed,
                    window_batches,
                },
                None => BatchOrder::Shuffled { seed },
            };
            epoch_plan = Some((
                epoch,
                BatchPlan::new(&data.examples, recipe.batch_size, order)?,
            ));
        }
        let (_, plan) = epoch_plan.as_ref().expect("planned just above");
        let batch = plan
            .padded(&data.examples, (step % steps_per_epoch) as usize)?
            .to_tensors::<AB>(device);
        let batch_size = batch.positions.len();
        let (input, labels) = model_input(batch);
        let BatchGradients { loss, gradients } = batch_gradients(
            &model,
            input,
            labels,
            recipe.batch_slices,
            derive_seed(spec.seeds.seed, DROPOUT_STREAM, step),
            recipe.dropout_masks,
        );
        if !loss.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                run: dir_name(&dir),
                step: step + 1,
                loss,
            });
        }
        let learning_rate = schedule.learning_rate(step);
        let (updated, report) = optimizer.step(model, gradients, learning_rate);
        model = updated;
        let done = step + 1;
        let record = StepRecord {
            step: done,
            epoch,
            loss,
            learning_rate,
            grad_norm: report.grad_norm,
            examples_per_second: batch_size as f64 / update_start.elapsed().as_secs_f64(),
        };
        metrics.append(&record)?;
        losses.push(record.loss);
        observer.step(&record);
        if recipe.save_steps.contains(&done) {
            save_model(&model, &config, data, spec, &checkpoint_dir(&dir, done))?;
        }
        if done % recipe.resume_every == 0 && done < total_steps {
            save_resume_state(&dir, &model, &config, data, &optimizer, done)?;
        }
    }

    let seconds = session_start.elapsed().as_secs_f64();
    let trained_examples = (total_steps - start) as f64 * recipe.batch_size as f64;
    let tail = (losses.len() / 10).max(1).min(losses.len());
    let summary = RunSummary {
        steps: total_steps,
        final_loss: if losses.is_empty() {
            f64::NAN
        } else {
            losses[losses.len() - tail..].iter().sum::<f64>() / tail as f64
        },
        seconds,
        examples_per_second: trained_examples / seconds.max(f64::MIN_POSITIVE),
    };
    save_model(&model, &config, data, spec, &dir.join(MODEL_DIR))?;
    write_json_atomically(&dir.join(DONE_FILE), &summary)?;
    let resume = dir.join(RESUME_DIR);
    if resume.exists() {
        fs::remove_dir_all(&resume).map_err(TrainError::io(&resume))?;
    }
    observer.run_finished(&record.name, &summary);
    Ok(RunOutcome::Trained { dir, summary })
}

fn dir_name(dir: &Path) -> String {
    dir.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

/// The pretrained model with a new head from the head seed, and the recipe's dropout.
fn initial_model<AB: AutodiffBackend>(
    spec: &RunSpec,
    head: HeadSpec,
    device: &AB::Device,
) -> Result<(BertClassifier<AB>, BertConfig)> {
    let loaded = load_classifier::<AB>(&spec.model_dir, head, device)?;
    let Some(dropout) = spec.recipe.dropout else {
        return Ok((loaded.model, loaded.config));
    };
    let mut config = loaded.config;
    if config.hidden_dropout_prob == dropout && config.attention_probs_dropout_prob == dropout {
        return Ok((loaded.model, config));
    }
    config.hidden_dropout_prob = dropout;
    config.attention_probs_dropout_prob = dropout;
    let parameters = loaded.model.hf_parameters().into_iter().collect();
    let num_labels = loaded.model.num_labels();
    let model = lmc_bert::classifier_from_parameters(&config, num_labels, parameters, device)?;
    Ok((model, config))
}

/// `checkpoints/step-<N>` of a run directory.
pub fn checkpoint_dir(run_dir: &Path, step: u64) -> PathBuf {
    run_dir.join(CHECKPOINTS_DIR).join(step_dir_name(step))
}

/// The folder name of a checkpoint or resume state after `step` updates: `step-<N>`.
pub fn step_dir_name(step: u64) -> String {
    format!("step-{step}")
}

/// The update count a `step-<N>` folder name stands for.
pub fn step_of_dir_name(name: &str) -> Option<u64> {
    name.strip_prefix("step-")?.parse().ok()
}

/// Writes a model in Hugging Face layout (with the tokenizer files) into `dir`, atomically.
fn save_model<AB: AutodiffBackend>(
    model: &BertClassifier<AB>,
    config: &BertConfig,
    data: &TrainingSet,
    spec: &RunSpec,
    dir: &Path,
) -> Result<()> {
    write_dir_atomically(dir, |staging| {
        lmc_bert::save_classifier(model, config, &data.labels, staging)?;
        lmc_bert::copy_tokenizer_files(&spec.model_dir, staging)?;
        Ok(())
    })
}

fn save_resume_state<AB: AutodiffBackend>(
    run_dir: &Path,
    model: &BertClassifier<AB>,
    config: &BertConfig,
    data: &TrainingSet,
    optimizer: &AdamW<AB::InnerBackend>,
    step: u64,
) -> Result<()> {
    let resume = run_dir.join(RESUME_DIR);
    write_dir_atomically(&resume.join(step_dir_name(step)), |staging| {
        lmc_bert::save_classifier(model, config, &data.labels, staging)?;
        optimizer.save(&staging.join(OPTIMIZER_FILE))?;
        write_json_atomically(&staging.join(STATE_FILE), &ResumeState { step })
    })?;
    for entry in fs::read_dir(&resume).map_err(TrainError::io(&resume))? {
        let path = entry.map_err(TrainError::io(&resume))?.path();
        let older = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(step_of_dir_name)
            .is_some_and(|n| n < step);
        if older {
            fs::remove_dir_all(&path).map_err(TrainError::io(&path))?;
        }
    }
    Ok(())
}

/// The newest complete resume state of a run.
fn latest_resume_state(run_dir: &Path) -> Result<Option<(PathBuf, ResumeState)>> {
    let resume = run_dir.join(RESUME_DIR);
    if !resume.is_dir() {
        return Ok(None);
    }
    let mut best: Option<(PathBuf, ResumeState)> = None;
    for entry in fs::read_dir(&resume).map_err(TrainError::io(&resume))? {
        let dir = entry.map_err(TrainError::io(&resume))?.path();
        let state_path = dir.join(STATE_FILE);
        if !state_path.is_file() {
            continue;
        }
        let text = fs::read_to_string(&state_path).map_err(TrainError::io(&state_path))?;
        let state: ResumeState = serde_json::from_str(&text).map_err(|e| TrainError::Corrupt {
            path: state_path.clone(),
            message: e.to_string(),
        })?;
        if best.as_ref().is_none_or(|(_, b)| state.step > b.step) {
            best = Some((dir, state));
        }
    }
    Ok(best)
}

fn check_or_write_record(path: &Path, record: &RunRecord) -> Result<()> {
    if path.is_file() {
        let text = fs::read_to_string(path).map_err(TrainError::io(path))?;
        let stored: RunRecord = serde_json::from_str(&text).map_err(|e| TrainError::Corrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if stored.identity != record.identity || stored.total_steps != record.total_steps {
            return Err(TrainError::Corrupt {
                path: path.to_path_buf(),
                message: "the stored configuration differs from this run's (hash collision or an edited file); move the directory away".into(),
            });
        }
        return Ok(());
    }
    write_json_atomically(path, record)
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub(crate) fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let json = serde_json::to_vec_pretty(value).expect("run files serialise to JSON");
    lmc_atomic::write(path, &json).map_err(TrainError::io(path))
}

/// Fills a staging directory with `fill`, then puts it at `dir` (replacing an older `dir`).
fn write_dir_atomically(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = dir.parent().expect("run paths have a parent");
    fs::create_dir_all(parent).map_err(TrainError::io(parent))?;
    lmc_atomic::replace_dir(dir, fill, |source| TrainError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// `metrics.csv`, appended to after every update.
struct MetricsLog {
    file: fs::File,
    path: PathBuf,
}

impl MetricsLog {
    /// Opens the log of a run resumed at `start` updates, dropping rows of later updates (they
    /// are redone), and returns it with the losses of the updates it keeps, in order (so that a
    /// resumed run's summary covers every update, as an uninterrupted run's does).
    fn open(path: &Path, start: u64) -> Result<(Self, Vec<f64>)> {
        let mut kept = vec![METRICS_HEADER.to_owned()];
        let mut losses = Vec::new();
        if start > 0 && path.is_file() {
            let text = fs::read_to_string(path).map_err(TrainError::io(path))?;
            for (number, line) in text.lines().enumerate().skip(1) {
                let mut fields = line.split(',');
                let step = fields.next().and_then(|s| s.parse::<u64>().ok());
                if step.is_some_and(|step| step <= start) {
                    let loss = fields
                        .nth(1)
                        .and_then(|s| s.parse::<f64>().ok())
                        .ok_or_else(|| TrainError::Corrupt {
                            path: path.to_path_buf(),
                            message: format!("line {}: no loss in `{line}`", number + 1),
                        })?;
                    losses.push(loss);
                    kept.push(line.to_owned());
                }
            }
        }
        lmc_atomic::write(path, (kept.join("\n") + "\n").as_bytes())
            .map_err(TrainError::io(path))?;
        let file = fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(TrainError::io(path))?;
        Ok((
            MetricsLog {
                file,
                path: path.to_path_buf(),
            },
            losses,
        ))
    }

    fn append(&mut self, record: &StepRecord) -> Result<()> {
        writeln!(
            self.file,
            "{},{},{},{},{},{}",
            record.step,
            record.epoch,
            record.loss,
            record.learning_rate,
            record.grad_norm,
            record.examples_per_second
        )
        .map_err(TrainError::io(&self.path))
    }
}
