//! Fine-tuning of BERT sequence classifiers with the recipe of Juneja et al. (2023): populations
//! of runs that differ only in their seeds, deterministic and resumable.
//!
//! - [`Recipe`]: every hyper-parameter, the paper's values by default ([`Recipe::paper`]),
//!   overridable from TOML.
//! - [`TrainingSet::prepare`]: the task's train set (official or offline split), tokenized once.
//! - [`train`]: one run in a directory named by the hash of its configuration ([`RunIdentity`]);
//!   finished runs are skipped, interrupted runs resume bit-identically (see [`run`] for the
//!   directory layout and how determinism is kept).
//! - [`train_population`]: one run per [`Seeds`]; a failing run does not stop the others.
//! - [`Preset`]: smoke / default / paper choices of model and recipe.
//! - [`write_random_checkpoint`]: a tiny BERT built in code, for smoke runs.
//! - [`AdamW`] and [`LinearSchedule`]: PyTorch's AdamW with global gradient clipping and
//!   transformers' linear warm-up/decay.
//! - [`throughput::measure`]: examples/s of inference and training updates on any backend
//!   (`lmc bench`, `cargo xtask bench model`).
//!
//! The loop is written on burn's autodiff API rather than burn-train's `Learner`: resuming must
//! restore optimizer state onto a model rebuilt from a Hugging Face checkpoint, which burn's
//! `ParamId`-keyed optimizer records cannot follow, and the head, data and dropout seeds must be
//! separate (ARCHITECTURE.md, "Dependencies").
//!
//! ```no_run
//! use burn::backend::{Autodiff, Flex};
//! use lmc_data::{DataDirSearch, SearchEnv, TaskName};
//! use lmc_train::{Recipe, Seeds, Silent, TrainingSet, train_population};
//!
//! let model = std::path::Path::new("all-MiniLM-L6-v2");
//! let mut recipe = Recipe::paper(TaskName::Cola);
//! recipe.train_examples = Some(512);
//! let search = DataDirSearch::new(None, &SearchEnv::from_process());
//! let data = TrainingSet::prepare(TaskName::Cola, &search, model, &recipe)?;
//! let seeds: Vec<Seeds> = (0..4).map(Seeds::same).collect();
//! let report = train_population::<Autodiff<Flex>>(
//!     model, &recipe, &seeds, &data, "runs/cola".as_ref(), None, &Default::default(), &mut Silent,
//! );
//! assert_eq!(report.failures().count(), 0);
//! # Ok::<(), lmc_train::TrainError>(())
//! ```

pub mod data;
pub mod error;
pub mod optim;
pub mod population;
pub mod preset;
pub mod random_model;
pub mod recipe;
pub mod run;
pub mod schedule;
pub mod throughput;

pub use data::{DataIdentity, TrainingSet};
pub use error::{Result, TrainError};
pub use optim::{AdamW, AdamWSettings, UpdateReport};
pub use population::{PopulationReport, train_population};
pub use preset::Preset;
pub use random_model::write_random_checkpoint;
pub use recipe::{Recipe, TRAIN_SUBSET_SEED};
pub use run::{
    CHECKPOINTS_DIR, CPU_BACKEND, DONE_FILE, METRICS_FILE, MODEL_DIR, ModelIdentity, RUN_FILE,
    RunIdentity, RunOutcome, RunRecord, RunSpec, RunSummary, Seeds, Silent, StepRecord,
    TrainObserver, checkpoint_dir, is_finished, run_dir, step_dir_name, step_of_dir_name, train,
};
pub use schedule::LinearSchedule;
pub use throughput::{
    BatchesMeasurement, LerpMeasurement, ThroughputCase, ThroughputMeasurement, ThroughputMode,
    measure, measure_lerp, measure_training_on_batches,
};
