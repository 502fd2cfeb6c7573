//! Sweeps: every pair of models × α grid × set, resumable, shardable, merged into the result
//! tables lmc-analysis reads.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use burn::tensor::backend::Backend;
use lmc_analysis::schema;
use lmc_bert::{BertClassifier, Precision, lerp_modules};
use lmc_data::{DataDirSearch, PairTokenizer, Provenance, TaskName, TaskSpec};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SweepError};
use crate::evaluate::{SetEvaluation, evaluate, hans_cells};
use crate::lock::{Holder, LOCKS_DIR, ShardLock};
use crate::models::{
    ModelRef, check_max_length, check_unique_names, checkpoint_populations, file_safe, load_model,
    model_config, task_for_model,
};
use crate::sets::{EvalSet, SetRequest, SetSize, prepare_sets};
use crate::table::{
    DistanceRow, EndpointRow, HansCellRow, PairRow, distances_frame, endpoints_frame,
    examples_frame, hans_frame, pairs_frame, read_endpoints, read_hans, read_pairs,
    write_atomically, write_parquet,
};

/// The plan file of a results directory.
pub const PLAN_FILE: &str = "sweep.json";

/// The key of `sweep.json` that holds the [`Provenance`] of the process that started the sweep.
pub const PROVENANCE_KEY: &str = "provenance";
/// Endpoint distances of every pair.
pub const DISTANCES_FILE: &str = "distances.parquet";
/// Endpoint evaluations on the full sets.
pub const FULL_ENDPOINTS_FILE: &str = "full_endpoints.parquet";
/// Folder of per-pair and per-model result parts (what resumes and shards share).
pub const PARTS_DIR: &str = "parts";
/// Folder of per-example endpoint logits.
pub const LOGITS_DIR: &str = "logits";

/// `n` evenly spaced values from 0 to 1, both included (the paper's grid for `n` = 10).
pub fn alpha_grid(n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![0.0],
        _ => (0..n).map(|i| i as f64 / (n - 1) as f64).collect(),
    }
}

/// What a sweep computes; saved as `sweep.json` in the results directory, and compared on a
/// restart so that a results directory never mixes two sweeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSpec {
    /// The task (decides sets, metrics and the MNLI → HANS collapse).
    pub task: TaskName,
    /// The models, in table order.
    pub models: Vec<ModelRef>,
    /// Unordered pairs to interpolate, by model name, (A at α = 0, B at α = 1).
    pub pairs: Vec<(String, String)>,
    /// The α grid, strictly increasing; any real values (0 and 1 are the endpoints).
    pub alphas: Vec<f64>,
    /// Sets evaluated along every path (their endpoints: `endpoints.parquet`).
    pub sets: Vec<SetRequest>,
    /// Sets each model alone is evaluated on once, per-example logits kept (normally full sets).
    pub full_sets: Vec<SetRequest>,
    /// Examples per batch.
    pub batch_size: usize,
    /// Longest token sequence (longer pairs are truncated `longest_first`).
    pub max_length: usize,
    /// How the models' matrix products compute. Left out of `sweep.json` when f32, so results
    /// directories from before the option keep their plans.
    #[serde(default, skip_serializing_if = "is_f32")]
    pub precision: Precision,
    /// The order of the models' outputs for checkpoints whose config names no labels
    /// ([`task_for_model`]); left out of `sweep.json` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_order: Option<Vec<String>>,
}

fn is_f32(precision: &Precision) -> bool {
    *precision == Precision::F32
}

impl SweepSpec {
    /// Every unordered pair (i < j) of `models`, in row-major order.
    pub fn all_pairs(models: &[ModelRef]) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        for (i, a) in models.iter().enumerate() {
            for b in &models[i + 1..] {
                pairs.push((a.name.clone(), b.name.clone()));
            }
        }
        pairs
    }

    /// Checks names, pairs, grid and sets.
    ///
    /// # Errors
    /// [`SweepError::Invalid`] saying what is wrong.
    pub fn validate(&self) -> Result<()> {
        check_unique_names(&self.models)?;
        if self.alphas.iter().any(|a| !a.is_finite()) {
            return Err(SweepError::Invalid("α values must be finite".into()));
        }
        if self.alphas.windows(2).any(|w| w[0] >= w[1]) {
            return Err(SweepError::Invalid(
                "the α grid must be strictly increasing".into(),
            ));
        }
        if self.interior_alphas().is_empty() {
            return Err(SweepError::Invalid(
                "the α grid needs a point other than 0 and 1".into(),
            ));
        }
        if self.sets.is_empty() {
            return Err(SweepError::Invalid("no evaluation sets".into()));
        }
        if self.batch_size == 0 {
            return Err(SweepError::Invalid(
                "the batch size must be at least 1".into(),
            ));
        }
        let known: HashMap<&str, ()> = self.models.iter().map(|m| (m.name.as_str(), ())).collect();
        for (i, (a, b)) in self.pairs.iter().enumerate() {
            for name in [a, b] {
                if !known.contains_key(name.as_str()) {
                    return Err(SweepError::Invalid(format!(
                        "pair ({a}, {b}): no model called `{name}`"
                    )));
                }
            }
            if a == b {
                return Err(SweepError::Invalid(format!(
                    "pair ({a}, {b}): a model with itself"
                )));
            }
            let repeated = self.pairs[..i]
                .iter()
                .any(|(x, y)| (x == a && y == b) || (x == b && y == a));
            if repeated {
                return Err(SweepError::Invalid(format!(
                    "pair ({a}, {b}) is listed twice"
                )));
            }
        }
        Ok(())
    }

    /// Grid points that need an interpolated model (α ∉ {0, 1}), with their grid index.
    pub fn interior_alphas(&self) -> Vec<(u32, f64)> {
        self.alphas
            .iter()
            .enumerate()
            .filter(|(_, a)| **a != 0.0 && **a != 1.0)
            .map(|(i, a)| (i as u32, *a))
            .collect()
    }

    /// The same sweep without the model directories, as `sweep.json` stores it, for comparing a
    /// restart with a stored plan (models may move; names, pairs, grid and sets may not change).
    /// Passed through JSON so that both sides carry the same rounding of the α values.
    fn identity(&self) -> Result<serde_json::Value> {
        let mut copy = self.clone();
        for model in &mut copy.models {
            model.dir = PathBuf::new();
            model.run_dir = None;
        }
        let text = serde_json::to_string(&copy).map_err(|source| SweepError::Json {
            path: PathBuf::from(PLAN_FILE),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| SweepError::Json {
            path: PathBuf::from(PLAN_FILE),
            source,
        })
    }

    fn model(&self, name: &str) -> &ModelRef {
        self.models
            .iter()
            .find(|m| m.name == name)
            .expect("validated: every pair names known models")
    }

    /// The sweep over the models' intermediate checkpoints: one spec per training step that at
    /// least two of the models reached, with the pairs of this spec among them.
    ///
    /// # Errors
    /// Those of [`checkpoint_populations`].
    pub fn checkpoint_sweeps(&self) -> Result<Vec<(u64, SweepSpec)>> {
        Ok(checkpoint_populations(&self.models)?
            .into_iter()
            .map(|(step, models)| {
                let pairs = self
                    .pairs
                    .iter()
                    .filter(|(a, b)| {
                        models.iter().any(|m| &m.name == a) && models.iter().any(|m| &m.name == b)
                    })
                    .cloned()
                    .collect();
                let spec = SweepSpec {
                    models,
                    pairs,
                    ..self.clone()
                };
                (step, spec)
            })
            .filter(|(_, spec)| !spec.pairs.is_empty())
            .collect())
    }
}

/// The full sets evaluated once per model by default: the in-domain set and, for MNLI, all of
/// HANS (which gives `hans_cells.parquet`), for other tasks the ranking diagnostic.
pub fn default_full_sets(task: TaskName) -> Vec<SetRequest> {
    let diagnostic = if task == TaskName::Mnli {
        "hans"
    } else {
        "ood"
    };
    vec![
        SetRequest::named("id", SetSize::All),
        SetRequest::named(diagnostic, SetSize::All),
    ]
}

/// One of `count` disjoint parts of a sweep: pair k (in plan order) and model i's endpoint
/// evaluation belong to shard k mod count and i mod count. Written `index/count`, index from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0 ≤ index < count`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether item `k` (a pair or model position) belongs to this shard.
    pub fn owns(self, k: usize) -> bool {
        k % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = SweepError;

    fn from_str(text: &str) -> Result<Self> {
        let bad = || SweepError::Invalid(format!("shard `{text}`: expected i/n with 0 ≤ i < n"));
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = index.trim().parse().map_err(|_| bad())?;
        let count: usize = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The paths of a results directory.
#[derive(Debug, Clone)]
pub struct ResultsDir {
    root: PathBuf,
}

impl ResultsDir {
    /// The results directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> ResultsDir {
        ResultsDir { root: root.into() }
    }

    /// Its root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `sweep.json`.
    pub fn plan(&self) -> PathBuf {
        self.root.join(PLAN_FILE)
    }

    /// The lock file of `shard` ([`ShardLock`]): one writer per shard.
    pub fn shard_lock(&self, shard: Shard) -> PathBuf {
        self.root
            .join(LOCKS_DIR)
            .join(format!("shard-{}-of-{}.lock", shard.index, shard.count))
    }

    fn parts(&self) -> PathBuf {
        self.root.join(PARTS_DIR)
    }

    /// The part of pair (a, b): its interior grid points on every set, and the distance.
    pub fn pair_part(&self, a: &str, b: &str) -> PathBuf {
        self.parts()
            .join(format!("pair-{}--{}.parquet", file_safe(a), file_safe(b)))
    }

    /// The endpoint rows of a model; written last, so it marks the model's evaluations done.
    pub fn endpoint_part(&self, model: &str) -> PathBuf {
        self.parts()
            .join(format!("endpoint-{}.parquet", file_safe(model)))
    }

    fn full_part(&self, model: &str) -> PathBuf {
        self.parts()
            .join(format!("full-{}.parquet", file_safe(model)))
    }

    fn hans_part(&self, model: &str) -> PathBuf {
        self.parts()
            .join(format!("hans-{}.parquet", file_safe(model)))
    }

    /// Per-example logits of `model` on path set `set` (`full` = on the full set).
    pub fn logits(&self, model: &str, set: &str, full: bool) -> PathBuf {
        let prefix = if full { "full-" } else { "" };
        self.root
            .join(LOGITS_DIR)
            .join(file_safe(model))
            .join(format!("{prefix}{}.parquet", file_safe(set)))
    }

    fn create(&self) -> Result<()> {
        for dir in [self.root.clone(), self.parts(), self.root.join(LOGITS_DIR)] {
            std::fs::create_dir_all(&dir).map_err(SweepError::io(&dir))?;
        }
        Ok(())
    }

    /// Reads `sweep.json`.
    ///
    /// # Errors
    /// A missing or unreadable plan.
    pub fn read_spec(&self) -> Result<SweepSpec> {
        let path = self.plan();
        let text = std::fs::read_to_string(&path).map_err(SweepError::io(&path))?;
        serde_json::from_str(&text).map_err(|source| SweepError::Json { path, source })
    }

    /// Writes `sweep.json` (the plan, and `provenance` under that key when given), or checks
    /// that the stored one describes the same sweep (the provenance is not compared: another
    /// build or machine may resume a sweep).
    fn claim(&self, spec: &SweepSpec, provenance: Option<&Provenance>) -> Result<()> {
        let path = self.plan();
        if path.is_file() {
            let stored = self.read_spec()?;
            if stored.identity()? != spec.identity()? {
                return Err(SweepError::Invalid(format!(
                    "{} describes a different sweep (models, pairs, α grid, sets or batching \
                     differ); resume with the same options or choose another output directory",
                    path.display()
                )));
            }
            return Ok(());
        }
        let json = |source| SweepError::Json {
            path: path.clone(),
            source,
        };
        let mut plan = serde_json::to_value(spec).map_err(json)?;
        if let (Some(provenance), Some(fields)) = (provenance, plan.as_object_mut()) {
            fields.insert(
                PROVENANCE_KEY.to_owned(),
                serde_json::to_value(provenance).map_err(json)?,
            );
        }
        let text = serde_json::to_string_pretty(&plan).map_err(json)?;
        write_atomically(&path, text.as_bytes())
    }
}

/// Where a running sweep stands, reported when it starts and after each model's endpoints and
/// each pair are stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Pairs of this shard stored (those found stored at the start included).
    pub pairs_done: usize,
    /// Pairs of this shard.
    pub pairs_total: usize,
    /// Models of this shard whose endpoints are stored.
    pub endpoints_done: usize,
    /// Models of this shard.
    pub endpoints_total: usize,
    /// Interior α points of each pair: the model evaluations one pair costs.
    pub interior_alphas: usize,
}

impl Progress {
    /// Model evaluations done: one per model's endpoints, one per interior α of each pair.
    pub fn evaluations_done(&self) -> usize {
        self.endpoints_done + self.pairs_done * self.interior_alphas
    }

    /// Model evaluations of this shard, counted as [`Progress::evaluations_done`].
    pub fn evaluations_total(&self) -> usize {
        self.endpoints_total + self.pairs_total * self.interior_alphas
    }
}

/// What one call of [`PreparedSweep::run`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSummary {
    /// Models whose endpoints this call evaluated.
    pub endpoints_evaluated: usize,
    /// Pairs this call evaluated.
    pub pairs_evaluated: usize,
    /// Pairs of the shard found already stored.
    pub pairs_skipped: usize,
    /// Model × set evaluations of endpoints (path sets and full sets).
    pub endpoint_evaluations: usize,
    /// Model × set evaluations of interpolated models.
    pub path_evaluations: usize,
    /// Time spent inside [`evaluate`] (forward passes and scoring).
    pub evaluation_time: Duration,
    /// Wall time of the call.
    pub total_time: Duration,
    /// The merge at the end; `None` from [`PreparedSweep::store_parts`], which leaves it to
    /// [`merge_results`].
    pub merge: Option<MergeOutcome>,
}

/// The cost of a sweep (or shard), for `--dry-run`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSummary {
    /// Pairs of the shard.
    pub pairs: usize,
    /// Of which already stored.
    pub pairs_stored: usize,
    /// Models whose endpoints the shard evaluates.
    pub endpoints: usize,
    /// Of which already stored.
    pub endpoints_stored: usize,
    /// Example forward passes still to do.
    pub forward_examples: u64,
}

/// Result of [`merge_results`].
#[derive(Debug, Clone, PartialEq)]
pub enum MergeOutcome {
    /// Every part was present; the tables were written.
    Complete {
        /// The files written.
        files: Vec<PathBuf>,
    },
    /// Parts are missing (other shards still running, or an interrupted run); nothing written.
    Incomplete {
        /// Pairs without a part.
        missing_pairs: usize,
        /// Models without endpoint parts.
        missing_endpoints: usize,
    },
}

/// A sweep with its sets loaded and tokenized, ready to run on any backend.
#[derive(Debug, Clone)]
pub struct PreparedSweep {
    /// The plan.
    pub spec: SweepSpec,
    /// The task, labels in the models' order.
    pub task: TaskSpec,
    /// Path sets.
    pub sets: Vec<EvalSet>,
    /// Full sets.
    pub full_sets: Vec<EvalSet>,
}

impl PreparedSweep {
    /// Validates `spec`, checks that every model has the task's labels in one order, and loads
    /// and tokenizes every set once (tokenizer: the first model's directory).
    ///
    /// # Errors
    /// Invalid plans, models with other labels, data and tokenizer errors.
    pub fn new(spec: SweepSpec, search: &DataDirSearch) -> Result<PreparedSweep> {
        spec.validate()?;
        let first = spec
            .models
            .first()
            .ok_or_else(|| SweepError::Invalid("no models to sweep".into()))?;
        let labels = spec.label_order.as_deref();
        let first_config = model_config(first)?;
        check_max_length(first, &first_config, spec.max_length)?;
        let task = task_for_model(spec.task, first, &first_config, labels)?;
        for model in &spec.models[1..] {
            let config = model_config(model)?;
            check_max_length(model, &config, spec.max_length)?;
            let other = task_for_model(spec.task, model, &config, labels)?;
            if other.labels != task.labels {
                return Err(SweepError::Invalid(format!(
                    "model `{}` orders its labels {:?}, model `{}` {:?}: interpolating them mixes classes",
                    model.name, other.labels.names, first.name, task.labels.names
                )));
            }
        }
        let tokenizer = PairTokenizer::from_model_dir(&first.dir, spec.max_length).map_err(
            SweepError::data(format!("tokenizer of model `{}`", first.name)),
        )?;
        let sets = prepare_sets(&spec.sets, &task, search, &tokenizer, spec.batch_size)?;
        let full_sets = prepare_sets(&spec.full_sets, &task, search, &tokenizer, spec.batch_size)?;
        Ok(PreparedSweep {
            spec,
            task,
            sets,
            full_sets,
        })
    }

    fn shard_models(&self, shard: Shard) -> impl Iterator<Item = &ModelRef> {
        self.spec
            .models
            .iter()
            .enumerate()
            .filter(move |(i, _)| shard.owns(*i))
            .map(|(_, m)| m)
    }

    fn shard_pairs(&self, shard: Shard) -> impl Iterator<Item = &(String, String)> {
        self.spec
            .pairs
            .iter()
            .enumerate()
            .filter(move |(k, _)| shard.owns(*k))
            .map(|(_, p)| p)
    }

    /// What `shard` of the sweep still has to do in `out`.
    pub fn plan(&self, out: &Path, shard: Shard) -> PlanSummary {
        let results = ResultsDir::new(out);
        let path_examples: usize = self.sets.iter().map(EvalSet::len).sum();
        let full_examples: usize = self.full_sets.iter().map(EvalSet::len).sum();
        let interior = self.spec.interior_alphas().len();
        let pairs: Vec<_> = self.shard_pairs(shard).collect();
        let pairs_stored = pairs
            .iter()
            .filter(|(a, b)| results.pair_part(a, b).is_file())
            .count();
        let models: Vec<_> = self.shard_models(shard).collect();
        let endpoints_stored = models
            .iter()
            .filter(|m| results.endpoint_part(&m.name).is_file())
            .count();
        let forward_examples = ((pairs.len() - pairs_stored) * interior * path_examples
            + (models.len() - endpoints_stored) * (path_examples + full_examples))
            as u64;
        PlanSummary {
            pairs: pairs.len(),
            pairs_stored,
            endpoints: models.len(),
            endpoints_stored,
            forward_examples,
        }
    }

    /// Runs `shard` of the sweep into `out`: each model's endpoints once, then each pair's
    /// interior grid points, every result stored atomically as soon as it exists, so that a
    /// restart skips what is stored and loses at most the pair in flight. When every part is
    /// present (this was the last shard to finish), merges the tables ([`merge_results`]).
    ///
    /// # Errors
    /// A results directory holding another sweep; model, data and file errors.
    pub fn run<B: Backend>(
        &self,
        out: &Path,
        shard: Shard,
        provenance: Option<&Provenance>,
        device: &B::Device,
        observer: &mut dyn FnMut(&Progress),
    ) -> Result<SweepSummary> {
        let start = Instant::now();
        let summary = self.store_parts::<B>(out, shard, provenance, device, observer)?;
        let merge = Some(merge_results(out)?);
        Ok(SweepSummary {
            merge,
            total_time: start.elapsed(),
            ..summary
        })
    }

    /// [`PreparedSweep::run`] without the merge: stores the parts of `shard` and leaves the
    /// tables to one [`merge_results`] call after every shard, so that no two shards ever write
    /// the same file (a pipeline whose merge is a job of its own).
    ///
    /// # Errors
    /// As [`PreparedSweep::run`].
    pub fn store_parts<B: Backend>(
        &self,
        out: &Path,
        shard: Shard,
        provenance: Option<&Provenance>,
        device: &B::Device,
        observer: &mut dyn FnMut(&Progress),
    ) -> Result<SweepSummary> {
        let start = Instant::now();
        let results = ResultsDir::new(out);
        results.create()?;
        let _lock = ShardLock::acquire(&results.shard_lock(shard), &Holder::current())?;
        results.claim(&self.spec, provenance)?;
        let mut evaluator = Evaluator::<B> {
            device,
            time: Duration::ZERO,
            count: 0,
        };
        let models: Vec<&ModelRef> = self.shard_models(shard).collect();
        let pairs: Vec<&(String, String)> = self.shard_pairs(shard).collect();
        let mut progress = Progress {
            pairs_done: 0,
            pairs_total: pairs.len(),
            endpoints_done: 0,
            endpoints_total: models.len(),
            interior_alphas: self.spec.interior_alphas().len(),
        };
        observer(&progress);
        let mut endpoints_evaluated = 0;
        for model in models {
            if !results.endpoint_part(&model.name).is_file() {
                self.evaluate_endpoint(&results, model, &mut evaluator)?;
                endpoints_evaluated += 1;
            }
            progress.endpoints_done += 1;
            observer(&progress);
        }
        let endpoint_evaluations = evaluator.count;
        let mut pairs_skipped = 0;
        let mut resident: Option<(String, BertClassifier<B>)> = None;
        for (a, b) in pairs {
            if results.pair_part(a, b).is_file() {
                pairs_skipped += 1;
            } else {
                let model_a = match resident.take() {
                    Some((name, model)) if &name == a => model,
                    _ => load_model::<B>(self.spec.model(a), self.spec.precision, device)?,
                };
                let model_b = load_model::<B>(self.spec.model(b), self.spec.precision, device)?;
                self.evaluate_pair(&results, (a, &model_a), (b, &model_b), &mut evaluator)?;
                resident = Some((a.clone(), model_a));
            }
            progress.pairs_done += 1;
            observer(&progress);
        }
        Ok(SweepSummary {
            endpoints_evaluated,
            pairs_evaluated: progress.pairs_total - pairs_skipped,
            pairs_skipped,
            endpoint_evaluations,
            path_evaluations: evaluator.count - endpoint_evaluations,
            evaluation_time: evaluator.time,
            total_time: start.elapsed(),
            merge: None,
        })
    }

    fn evaluate_endpoint<B: Backend>(
        &self,
        results: &ResultsDir,
        model_ref: &ModelRef,
        evaluator: &mut Evaluator<'_, B>,
    ) -> Result<()> {
        let model = load_model::<B>(model_ref, self.spec.precision, evaluator.device)?;
        let name = &model_ref.name;
        let mut rows = Vec::new();
        for set in &self.sets {
            let evaluation = evaluator.run(&model, set)?;
            write_logits(&results.logits(name, &set.label, false), set, &evaluation)?;
            rows.push(EndpointRow::of(name, &evaluation));
        }
        let mut full_rows = Vec::new();
        let mut cells = Vec::new();
        for set in &self.full_sets {
            let evaluation = evaluator.run(&model, set)?;
            write_logits(&results.logits(name, &set.label, true), set, &evaluation)?;
            full_rows.push(EndpointRow::of(name, &evaluation));
            if cells.is_empty()
                && let Some(found) = hans_cells(set, &evaluation)
            {
                cells = found
                    .into_iter()
                    .map(|c| HansCellRow {
                        model: name.clone(),
                        heuristic: c.heuristic,
                        label: c.label,
                        accuracy: c.accuracy,
                        n_examples: c.n_examples as u32,
                    })
                    .collect();
            }
        }
        if !full_rows.is_empty() {
            write_parquet(&results.full_part(name), &mut endpoints_frame(&full_rows)?)?;
        }
        if !cells.is_empty() {
            write_parquet(&results.hans_part(name), &mut hans_frame(&cells)?)?;
        }
        write_parquet(&results.endpoint_part(name), &mut endpoints_frame(&rows)?)
    }

    fn evaluate_pair<B: Backend>(
        &self,
        results: &ResultsDir,
        (a, model_a): (&str, &BertClassifier<B>),
        (b, model_b): (&str, &BertClassifier<B>),
        evaluator: &mut Evaluator<'_, B>,
    ) -> Result<()> {
        let distance = parameter_distance(model_a, model_b, (a, b))?;
        let mut rows = Vec::new();
        for (alpha_index, alpha) in self.spec.interior_alphas() {
            let model = lerp_modules(model_a.clone(), model_b, alpha)
                .map_err(SweepError::model(format!("{a} ↔ {b} at α = {alpha}")))?;
            for set in &self.sets {
                let evaluation = evaluator.run(&model, set)?;
                rows.push(PairRow {
                    model_a: a.to_owned(),
                    model_b: b.to_owned(),
                    set: set.label.clone(),
                    alpha_index,
                    alpha,
                    loss: evaluation.scores.mean_loss,
                    metric: evaluation.scores.metric_value,
                    accuracy: evaluation.scores.accuracy,
                    n_examples: set.len() as u32,
                });
            }
        }
        write_parquet(
            &results.pair_part(a, b),
            &mut pairs_frame(&rows, Some(distance))?,
        )
    }

    /// Example forward passes per second of the first model on the first `examples` examples of
    /// the first path set: a quick measurement for cost estimates.
    ///
    /// # Errors
    /// Loading and evaluation errors.
    pub fn measure_throughput<B: Backend>(
        &self,
        examples: usize,
        device: &B::Device,
    ) -> Result<f64> {
        let set = &self.sets[0];
        let dataset = set
            .dataset
            .subset(lmc_data::Subset::First(examples.max(1)))
            .map_err(SweepError::data(&set.label))?;
        let spec = self.spec.sets[0].resolve(&self.task)?;
        let tokenizer =
            PairTokenizer::from_model_dir(&self.spec.models[0].dir, self.spec.max_length).map_err(
                SweepError::data(format!("tokenizer of model `{}`", self.spec.models[0].name)),
            )?;
        let sample = EvalSet::prepare(&set.label, dataset, spec, &tokenizer, self.spec.batch_size)?;
        let model = load_model::<B>(&self.spec.models[0], self.spec.precision, device)?;
        let start = Instant::now();
        evaluate(&model, &sample, device)?;
        Ok(sample.len() as f64 / start.elapsed().as_secs_f64().max(1e-9))
    }
}

/// Counts and times evaluations.
struct Evaluator<'d, B: Backend> {
    device: &'d B::Device,
    time: Duration,
    count: usize,
}

impl<B: Backend> Evaluator<'_, B> {
    fn run(&mut self, model: &BertClassifier<B>, set: &EvalSet) -> Result<SetEvaluation> {
        let start = Instant::now();
        let evaluation = evaluate(model, set, self.device)?;
        self.time += start.elapsed();
        self.count += 1;
        Ok(evaluation)
    }
}

fn write_logits(path: &Path, set: &EvalSet, evaluation: &SetEvaluation) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(SweepError::io(dir))?;
    }
    write_parquet(path, &mut examples_frame(set, evaluation)?)
}

/// ‖θ_a − θ_b‖₂ over every float parameter, accumulated in f64.
///
/// # Errors
/// Models whose parameters differ in names or shapes.
pub fn parameter_distance<B: Backend>(
    a: &BertClassifier<B>,
    b: &BertClassifier<B>,
    (name_a, name_b): (&str, &str),
) -> Result<f64> {
    let (pa, pb) = (a.hf_parameters(), b.hf_parameters());
    let mismatch = || {
        SweepError::Invalid(format!(
            "models `{name_a}` and `{name_b}` have different parameters: not the same architecture"
        ))
    };
    if pa.len() != pb.len() {
        return Err(mismatch());
    }
    let mut sum = 0.0f64;
    for ((na, ta), (nb, tb)) in pa.iter().zip(&pb) {
        if na != nb || ta.shape != tb.shape {
            return Err(mismatch());
        }
        sum += ta
            .values
            .iter()
            .zip(&tb.values)
            .map(|(x, y)| f64::from(x - y).powi(2))
            .sum::<f64>();
    }
    Ok(sum.sqrt())
}

/// Combines the parts in `out` into `pairs.parquet` (curves with their endpoints filled from the
/// endpoint evaluations), `endpoints.parquet`, `distances.parquet` and, when full sets were
/// evaluated, `full_endpoints.parquet` and `hans_cells.parquet`. Writes nothing while parts are
/// missing. Deterministic: rows follow the plan's pair, set and grid order, so sharded and
/// unsharded sweeps give identical tables.
///
/// # Errors
/// An unreadable plan or part.
pub fn merge_results(out: &Path) -> Result<MergeOutcome> {
    let results = ResultsDir::new(out);
    let spec = results.read_spec()?;
    let missing_pairs = spec
        .pairs
        .iter()
        .filter(|(a, b)| !results.pair_part(a, b).is_file())
        .count();
    let missing_endpoints = spec
        .models
        .iter()
        .filter(|m| !results.endpoint_part(&m.name).is_file())
        .count();
    if missing_pairs > 0 || missing_endpoints > 0 {
        return Ok(MergeOutcome::Incomplete {
            missing_pairs,
            missing_endpoints,
        });
    }
    let mut endpoints = Vec::new();
    let mut by_model: HashMap<(String, String), EndpointRow> = HashMap::new();
    let mut full = Vec::new();
    let mut cells = Vec::new();
    let mut every_model_has_cells = true;
    for model in &spec.models {
        for row in read_endpoints(&results.endpoint_part(&model.name))? {
            by_model.insert((row.model.clone(), row.set.clone()), row.clone());
            endpoints.push(row);
        }
        let full_part = results.full_part(&model.name);
        if full_part.is_file() {
            full.extend(read_endpoints(&full_part)?);
        }
        let hans_part = results.hans_part(&model.name);
        if hans_part.is_file() {
            cells.extend(read_hans(&hans_part)?);
        } else {
            every_model_has_cells = false;
        }
    }
    let endpoint = |model: &str, set: &str| -> Result<&EndpointRow> {
        by_model
            .get(&(model.to_owned(), set.to_owned()))
            .ok_or_else(|| SweepError::Schema {
                origin: results.endpoint_part(model).display().to_string(),
                message: format!("no row for set `{set}`"),
            })
    };
    let mut pairs = Vec::new();
    let mut distances = Vec::new();
    for (a, b) in &spec.pairs {
        let part = results.pair_part(a, b);
        let (rows, distance) = read_pairs(&part)?;
        let points: BTreeMap<(String, u32), PairRow> = rows
            .into_iter()
            .map(|r| ((r.set.clone(), r.alpha_index), r))
            .collect();
        for set in &spec.sets {
            for (i, &alpha) in spec.alphas.iter().enumerate() {
                let i = i as u32;
                let row = if alpha == 0.0 || alpha == 1.0 {
                    let e = endpoint(if alpha == 0.0 { a } else { b }, &set.label)?;
                    PairRow {
                        model_a: a.clone(),
                        model_b: b.clone(),
                        set: set.label.clone(),
                        alpha_index: i,
                        alpha,
                        loss: e.loss,
                        metric: e.metric,
                        accuracy: e.accuracy,
                        n_examples: e.n_examples,
                    }
                } else {
                    points
                        .get(&(set.label.clone(), i))
                        .cloned()
                        .ok_or_else(|| SweepError::Schema {
                            origin: part.display().to_string(),
                            message: format!("no row for set `{}` at α index {i}", set.label),
                        })?
                };
                pairs.push(row);
            }
        }
        distances.push(DistanceRow {
            model_a: a.clone(),
            model_b: b.clone(),
            distance: distance.ok_or_else(|| SweepError::Schema {
                origin: part.display().to_string(),
                message: "no distance column".into(),
            })?,
        });
    }
    let mut files = vec![
        out.join(schema::PAIRS_FILE),
        out.join(schema::ENDPOINTS_FILE),
        out.join(DISTANCES_FILE),
    ];
    write_parquet(&files[0], &mut pairs_frame(&pairs, None)?)?;
    write_parquet(&files[1], &mut endpoints_frame(&endpoints)?)?;
    write_parquet(&files[2], &mut distances_frame(&distances)?)?;
    if !full.is_empty() {
        files.push(out.join(FULL_ENDPOINTS_FILE));
        write_parquet(&out.join(FULL_ENDPOINTS_FILE), &mut endpoints_frame(&full)?)?;
    }
    let complete_cells = every_model_has_cells
        && cells.len()
            == spec.models.len() * schema::HANS_HEURISTICS.len() * schema::HANS_LABELS.len();
    if complete_cells {
        files.push(out.join(schema::HANS_CELLS_FILE));
        write_parquet(&out.join(schema::HANS_CELLS_FILE), &mut hans_frame(&cells)?)?;
    }
    Ok(MergeOutcome::Complete { files })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_grid_has_ten_points_with_both_ends() {
        let grid = alpha_grid(10);
        assert_eq!(grid.len(), 10);
        assert_eq!((grid[0], grid[9]), (0.0, 1.0));
        assert!((grid[3] - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn shards_split_items_disjointly() {
        let shards: Vec<Shard> = (0..3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        for k in 0..20 {
            assert_eq!(shards.iter().filter(|s| s.owns(k)).count(), 1);
        }
        assert!("3/3".parse::<Shard>().is_err());
        assert!("1/0".parse::<Shard>().is_err());
        assert!("a/2".parse::<Shard>().is_err());
    }

    fn model(name: &str) -> ModelRef {
        ModelRef {
            name: name.into(),
            dir: PathBuf::from(name),
            run_dir: None,
        }
    }

    #[test]
    fn specs_reject_bad_grids_and_pairs() {
        let models = vec![model("a"), model("b"), model("c")];
        let spec = SweepSpec {
            task: TaskName::Mnli,
            pairs: SweepSpec::all_pairs(&models),
            models,
            alphas: alpha_grid(5),
            sets: vec![SetRequest::named("id", SetSize::Count(8))],
            full_sets: Vec::new(),
            batch_size: 8,
            max_length: 128,
            precision: Precision::F32,
            label_order: None,
        };
        assert_eq!(spec.pairs.len(), 3);
        spec.validate().unwrap();
        let bad = |f: fn(&mut SweepSpec)| {
            let mut s = spec.clone();
            f(&mut s);
            s.validate().unwrap_err().to_string()
        };
        assert!(bad(|s| s.alphas = vec![0.0, 1.0]).contains("other than 0 and 1"));
        assert!(bad(|s| s.alphas = vec![0.5, 0.2]).contains("increasing"));
        assert!(bad(|s| s.pairs.push(("c".into(), "a".into()))).contains("twice"));
        assert!(bad(|s| s.pairs.push(("a".into(), "z".into()))).contains("`z`"));
    }
}
