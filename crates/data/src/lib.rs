//! Data for linear-mode-connectivity experiments: the publishers' files in, batches and scores out.
//!
//! The paper this toolkit reproduces (Juneja et al., "Linear Connectivity Reveals Generalization
//! Strategies", ICLR 2023) fine-tunes BERT on MNLI, QQP and CoLA, measures loss barriers on each
//! task's in-domain set, and ranks models on diagnostic sets: HANS (above all its lexical-overlap,
//! non-entailment cell, HANS-LO) for MNLI, PAWS-QQP for QQP, CoLA's out-of-domain dev set for
//! CoLA. This crate owns everything between those files and the model:
//!
//! - **Loading** ([`DatasetFormat`]): header-driven readers for GLUE MNLI/QQP/RTE, CoLA, SNLI,
//!   PAWS-QQP and HANS, so that the official downloads and the project's offline copies load
//!   through the same code. A [`Dataset`] keeps each [`Example`]'s row index in its file, its
//!   text, label id and, for HANS, heuristic/subcase/template; its [`LoadReport`] records the
//!   file's sha256, skipped rows and the provenance of every selection since. Malformed input is a
//!   [`DataError`] naming file and line, never a silently empty dataset.
//! - **Tasks** ([`TaskSpec`]): the registry of train, in-domain and diagnostic sets per task, with
//!   label names, metrics, the default subsets evaluated along interpolation paths, and the
//!   mapping from MNLI logits onto HANS labels ([`collapse_nli_logits_to_hans`]). Without the
//!   official MNLI or QQP train files, a task falls back to a fixed, documented split of an
//!   offline stand-in, and says so.
//! - **Locating files** ([`DataDirSearch`]): an explicit data directory, or a documented search
//!   (`$LMC_DATA_DIR`, the fetch directory, `../shared/datasets`) that reports which directory it
//!   used and, on failure, every place it looked. [`fetch()`] fills a data directory from a local
//!   mirror or the publishers' urls, verified against `datasets/manifest.toml`.
//! - **Tokenizing** ([`PairTokenizer`]): the Hugging Face tokenizer of a model directory (or a
//!   WordPiece tokenizer rebuilt from `vocab.txt`), pairs truncated `longest_first`; a
//!   [`TokenCache`] stores tokenized datasets on disk.
//! - **Batching** ([`BatchPlan`], [`Batch`]): burn tensors padded per batch, optionally bucketed
//!   by length, with the bookkeeping to put per-example outputs back in dataset order.
//! - **Scoring** ([`metrics`]): accuracy, F1 of a class, Matthews correlation and stable
//!   cross-entropy from host-side [`Logits`].
//!
//! Subsets and splits use the crate's own SplitMix64 + Fisher–Yates shuffle ([`rng`]), written
//! out so that experiment inputs never change with a dependency's version.
//!
//! # Example
//!
//! ```no_run
//! use lmc_data::{
//!     BatchOrder, BatchPlan, DataDirSearch, PairTokenizer, SearchEnv, TaskName, TaskSpec,
//!     DEFAULT_MAX_LENGTH,
//! };
//! use burn::backend::Flex;
//! # fn main() -> Result<(), lmc_data::DataError> {
//! let env = SearchEnv::from_process();
//! let files = TaskSpec::builtin(TaskName::Mnli).locate(&DataDirSearch::new(None, &env))?;
//! let hans_lo = files.load_path_subset("hans_lo")?; // 512 seeded-shuffled HANS-LO examples
//! println!("{}: {} examples ({})", hans_lo.name, hans_lo.len(), hans_lo.report.provenance);
//!
//! let model_dir = env.model_dir("all-MiniLM-L6-v2").expect("HOME is set");
//! let tokenizer = PairTokenizer::from_model_dir(&model_dir, DEFAULT_MAX_LENGTH)?;
//! let tokenized = tokenizer.encode_dataset(&hans_lo)?;
//! let plan = BatchPlan::new(&tokenized, 32, BatchOrder::ByLength)?;
//! let device = Default::default();
//! for batch in plan.tensors::<Flex>(&tokenized, &device) {
//!     let batch = batch?;
//!     assert_eq!(batch.input_ids.dims()[0], batch.positions.len());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! A self-contained taste, without data files:
//!
//! ```
//! use lmc_data::{collapse_nli_logits_to_hans, metrics, Logits, NliLabelOrder};
//! // Two MNLI predictions (entailment, neutral, contradiction) scored on HANS labels.
//! let mnli = Logits::from_rows(&[[2.0_f32, 0.5, 1.0], [0.1, 3.0, -1.0]])?;
//! let hans = collapse_nli_logits_to_hans(&mnli, NliLabelOrder::GLUE)?;
//! assert_eq!(hans.row(1), &[0.1, 3.0]); // non-entailment = max(neutral, contradiction)
//! let hans_labels = [0, 1]; // entailment, non-entailment
//! assert_eq!(metrics::accuracy(&hans.predictions(), &hans_labels)?, 1.0);
//! # Ok::<(), lmc_data::DataError>(())
//! ```

#![warn(missing_docs)]

pub mod batch;
pub mod cache;
pub mod datadir;
pub mod dataset;
mod digest;
pub mod error;
pub mod fetch;
pub mod formats;
pub mod metrics;
mod provenance;
pub mod rng;
pub mod task;
pub mod tokenize;
mod tsv;

pub use batch::{Batch, BatchOrder, BatchPlan, PAD_TOKEN_ID, PaddedBatch};
pub use cache::{CacheKey, CacheStatus, TokenCache};
pub use datadir::{DataDir, DataDirSearch, DataDirSource, LocatedFile, SearchEnv};
pub use dataset::{Dataset, Example, HansFilter, HansMetadata, Heuristic, LoadReport, Subset};
pub use error::{DataError, Result};
pub use fetch::{
    FetchFailure, FetchOptions, FetchOutcome, FetchReport, FetchSelection, Manifest, ManifestEntry,
    fetch,
};
pub use formats::{DatasetFormat, LabelEncoding, LabelScheme};
pub use metrics::{Evaluation, Logits, TaskMetric, evaluate};
pub use provenance::Provenance;
pub use task::{
    DataMode, EvalSetSpec, LabelMapping, NliLabelOrder, OfflineSplit, TaskFiles, TaskName,
    TaskSpec, collapse_nli_logits_to_hans, collapse_nli_logits_to_hans_tensor,
};
pub use tokenize::{
    DEFAULT_MAX_LENGTH, Encoded, PairTokenizer, TokenizedDataset, TokenizedExample, TokenizerSource,
};
