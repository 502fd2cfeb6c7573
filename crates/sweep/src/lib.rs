//! Evaluation of BERT classifiers and of the straight paths between them.
//!
//! This crate turns fine-tuned models into the result tables that lmc-analysis and lmc-report
//! read. It knows models (lmc-bert), data (lmc-data) and planes (lmc-interp), and nothing about
//! clustering or figures.
//!
//! - **Sets** ([`SetRequest`], [`EvalSet`]): `id` (the task's in-domain set), `ood` (its ranking
//!   diagnostic: HANS-LO for MNLI, PAWS-QQP for QQP, CoLA out-of-domain dev), any set name of
//!   lmc-data's `TaskSpec` (`hans`, `validation_matched`, …) or a data file; `:N` keeps N
//!   examples chosen as the set's default path subset chooses them (the first N; for HANS sets the
//!   first N of lmc-data's SplitMix64/Fisher–Yates shuffle with seed 42, `HANS_SUBSET_SEED`),
//!   `:all` keeps all, nothing keeps the default 512. Each set is tokenized once and batched by
//!   length.
//! - **Evaluation** ([`evaluate`]): one model on one set, per-example logits (after the MNLI → HANS
//!   collapse where it applies), losses, predictions, mean loss, accuracy, the task metric and the
//!   expected calibration error; [`hans_cells`] breaks HANS down into its 6 cells.
//! - **Sweeps** ([`SweepSpec`], [`PreparedSweep::run`], [`merge_results`]): for each pair of
//!   models, θ(α) = (1 − α)·θ_A + α·θ_B is formed on the device ([`lmc_bert::lerp_modules`]) at
//!   every interior grid point and evaluated on every set. Each model's endpoints are evaluated
//!   once (path sets and full sets) and fill the α = 0 and α = 1 points of every curve. Every
//!   result is written atomically the moment it exists; a restart with the same plan skips what
//!   is stored (at most the pair in flight is lost). [`Shard`] `i/n` takes pairs k ≡ i (mod n) and
//!   the endpoints of models k ≡ i (mod n), so n processes can share one results directory; the
//!   last to finish (or `merge_results`) writes the tables. [`PreparedSweep::store_parts`] runs a
//!   shard without that merge, for pipelines that merge in a job of their own.
//! - **Surfaces** ([`run_surface`]): loss, accuracy and ECE on a grid of the plane through three
//!   models.
//! - **Populations** ([`discover_models`], [`SweepSpec::checkpoint_sweeps`]): model directories,
//!   population directories (`<pop>/<run>/model/`, named by `<run>/run.json`'s `name`) and their
//!   intermediate checkpoints (`<run>/checkpoints/step-<N>/`).
//!
//! Everything is generic over a burn `Backend` with the device passed in; run it on an inference
//! backend (e.g. `burn::backend::Flex`, not `Autodiff<…>`), so that dropout is off.
//!
//! # Results directory
//!
//! Tables use the column names of `lmc_analysis::schema`; types as listed.
//!
//! | file | one row per | columns |
//! |---|---|---|
//! | `pairs.parquet` | pair × set × α | `model_a`, `model_b`, `set` (str), `alpha_index` (u32), `alpha`, `loss` (mean cross-entropy), `metric` (accuracy / F1 of class 1 / MCC), `accuracy` (f64), `n_examples` (u32); α = 0 and 1 rows are the endpoint evaluations; rows in plan order (pair, set, α) |
//! | `endpoints.parquet` | model × path set | `model`, `set` (str), `loss`, `metric`, `accuracy` (f64), `n_examples` (u32) |
//! | `full_endpoints.parquet` | model × full set | as `endpoints.parquet`; `set` is the full set's label (default `id` and `hans` for MNLI, `id` and `ood` otherwise) |
//! | `hans_cells.parquet` | model × heuristic × label | `model`, `heuristic`, `label` (str), `accuracy` (f64), `n_examples` (u32); from the first full set with all 6 HANS cells (MNLI) |
//! | `distances.parquet` | pair | `model_a`, `model_b` (str), `distance` (f64): ‖θ_A − θ_B‖₂ over every float parameter |
//! | `logits/<model>/<set>.parquet`, `logits/<model>/full-<set>.parquet` | example | `index` (u32, row in the source file), `label`, `prediction` (u32), `loss` (f64), `logit_0` … `logit_{k−1}` (f32, after the MNLI → HANS collapse on HANS), and on HANS sets `heuristic`, `subcase` (str); dataset order |
//! | `sweep.json` | — | the [`SweepSpec`] (task, models and directories, pairs, α grid, sets, full sets, batch size, max length, precision unless f32) and, under [`PROVENANCE_KEY`], which lmc started it on what backend; a restart must match the plan |
//! | `locks/shard-<i>-of-<n>.lock` | running shard | [`Holder`] of the process writing that shard (pid, host, Slurm task); removed when it ends ([`ShardLock`]) |
//! | `parts/pair-<a>--<b>.parquet` | set × interior α of one pair | the `pairs.parquet` columns plus `distance` (f64) |
//! | `parts/endpoint-<m>.parquet`, `parts/full-<m>.parquet`, `parts/hans-<m>.parquet` | one model | its rows of the three model tables; the endpoint part is written last and marks the model done |
//! | `surface.parquet` | plane × grid point × set | `plane` (str), `grid_i`, `grid_j` (u32), `x`, `y` (f64, Euclidean plane coordinates c1·‖v1‖, c2·‖v2⊥‖), `set` (str), `loss`, `accuracy`, `ece` (f64, 10 bins), `n_examples` (u32) |
//! | `surface_models.parquet` | plane × model | `plane`, `model` (str), `x`, `y` (f64): anchor (0, 0), the others on the same scale |
//! | `parts/surface-points-<plane>-<i>.parquet`, `parts/surface-models-<plane>.parquet` | grid row / plane | the surface tables' rows, one file per grid row (resume) |
//! | `checkpoints/step-<N>/` | training step | a results directory as above for the models' intermediate checkpoints |
//!
//! # Example
//!
//! ```no_run
//! use burn::backend::Flex;
//! use lmc_data::{DataDirSearch, SearchEnv, TaskName};
//! use lmc_sweep::{PreparedSweep, SetRequest, Shard, SweepSpec, alpha_grid, discover_models};
//! # fn main() -> Result<(), lmc_sweep::SweepError> {
//! let models = discover_models(&["runs/mnli".into()])?.models;
//! let spec = SweepSpec {
//!     task: TaskName::Mnli,
//!     pairs: SweepSpec::all_pairs(&models),
//!     models,
//!     alphas: alpha_grid(10),
//!     sets: SetRequest::parse_list("id:512,ood:512")?,
//!     full_sets: Vec::new(),
//!     batch_size: 32,
//!     max_length: 128,
//!     precision: lmc_bert::Precision::F32,
//!     label_order: None,
//! };
//! let search = DataDirSearch::new(None, &SearchEnv::from_process());
//! let sweep = PreparedSweep::new(spec, &search)?;
//! let summary =
//!     sweep.run::<Flex>("results/mnli".as_ref(), Shard::ALL, None, &Default::default(), &mut |_| {})?;
//! println!("{} pairs evaluated", summary.pairs_evaluated);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod error;
mod evaluate;
mod lock;
mod models;
mod sets;
mod surface;
mod sweep;
mod table;

pub use error::{Result, SweepError};
pub use evaluate::{
    ECE_BINS, HansCell, SetEvaluation, evaluate, evaluate_with_progress,
    expected_calibration_error, hans_cells,
};
pub use lock::{Holder, LOCKS_DIR, ShardLock};
pub use models::{
    Discovery, ModelRef, check_max_length, check_unique_names, checkpoint_populations,
    discover_models, file_safe, load_model, model_config, task_for_model,
};
/// The polars crate this crate writes and reads tables with, for callers of [`read_parquet`].
pub use polars;
pub use sets::{EvalSet, SetRequest, SetSize, SetSource, load_set, prepare_sets};
pub use surface::{SurfaceSpec, SurfaceSummary, merge_surfaces, run_surface};
pub use sweep::{
    DISTANCES_FILE, FULL_ENDPOINTS_FILE, LOGITS_DIR, MergeOutcome, PARTS_DIR, PLAN_FILE,
    PROVENANCE_KEY, PlanSummary, PreparedSweep, Progress, ResultsDir, Shard, SweepSpec,
    SweepSummary, alpha_grid, default_full_sets, merge_results, parameter_distance,
};
pub use table::{
    DISTANCE, DistanceRow, EndpointRow, HansCellRow, PairRow, examples_frame, read_endpoints,
    read_hans, read_pairs, read_parquet, write_csv, write_parquet,
};
