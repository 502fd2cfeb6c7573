//! The sweep's result tables (the contract in [`schema`]) and pairwise matrices built from them.
//!
//! [`PairsTable`], [`EndpointsTable`] and [`HansTable`] read a polars [`DataFrame`] (or the Parquet file
//! the sweep wrote) once, check types, nulls and duplicate keys, and index the rows; matrices and
//! per-model lookups then work on plain Rust values.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::{Column, DataFrame, DataType};
use serde::{Deserialize, Serialize};

use crate::curve::{Curve, CurveMetric};
use crate::error::{AnalysisError, Result};
use crate::io::read_parquet;
use crate::matrix::BarrierMatrix;

/// File names, column names and value sets of the sweep's result directory: the contract between
/// the sweep crate, which writes these files, and this crate, which reads them.
///
/// | file | one row per | column: type |
/// |---|---|---|
/// | `pairs.parquet` | (model_a, model_b, set, alpha) | `model_a`: str, `model_b`: str, `set`: str (e.g. `"id"`, `"ood"`), `alpha_index`: u32, `alpha`: f64, `loss`: f64 (mean cross-entropy), `metric`: f64 (task metric: accuracy / F1 / MCC), `accuracy`: f64, `n_examples`: u32 |
/// | `endpoints.parquet` | (model, set) | `model`: str, `set`: str, `loss`: f64, `metric`: f64, `accuracy`: f64, `n_examples`: u32 |
/// | `hans_cells.parquet` (MNLI only) | (model, heuristic, label) | `model`: str, `heuristic`: str (`lexical_overlap` \| `subsequence` \| `constituent`), `label`: str (`entailment` \| `non-entailment`), `accuracy`: f64, `n_examples`: u32 |
///
/// Curves in `pairs.parquet` include their endpoints (α = 0 and α = 1, filled from the endpoint
/// evaluations); `alpha_index` orders the points and α must increase with it. A pair may be stored in
/// either orientation (the curve from B to A is the curve from A to B reversed). Readers accept any
/// integer type for the u32 columns and any numeric type for the f64 columns.
pub mod schema {
    /// Interpolation curves of model pairs.
    pub const PAIRS_FILE: &str = "pairs.parquet";
    /// Evaluations of each model alone.
    pub const ENDPOINTS_FILE: &str = "endpoints.parquet";
    /// Per-model HANS accuracy by heuristic and label (MNLI only; optional).
    pub const HANS_CELLS_FILE: &str = "hans_cells.parquet";

    /// First model of a pair (α = 0), str.
    pub const MODEL_A: &str = "model_a";
    /// Second model of a pair (α = 1), str.
    pub const MODEL_B: &str = "model_b";
    /// A model, str.
    pub const MODEL: &str = "model";
    /// Evaluation set name, str.
    pub const SET: &str = "set";
    /// Position of the point on the α grid, u32.
    pub const ALPHA_INDEX: &str = "alpha_index";
    /// Interpolation coefficient, f64.
    pub const ALPHA: &str = "alpha";
    /// Mean cross-entropy, f64.
    pub const LOSS: &str = "loss";
    /// Task metric (accuracy, F1 of class 1, or Matthews correlation), f64.
    pub const METRIC: &str = "metric";
    /// Accuracy, f64.
    pub const ACCURACY: &str = "accuracy";
    /// Number of evaluated examples, u32.
    pub const N_EXAMPLES: &str = "n_examples";
    /// HANS heuristic, str.
    pub const HEURISTIC: &str = "heuristic";
    /// HANS gold label, str.
    pub const LABEL: &str = "label";

    /// The three HANS heuristics, in the order reports use.
    pub const HANS_HEURISTICS: [&str; 3] = ["lexical_overlap", "subsequence", "constituent"];
    /// The two HANS labels, in the order reports use.
    pub const HANS_LABELS: [&str; 2] = ["entailment", "non-entailment"];

    /// Grid evaluations on planes through three models: `plane` (str), `grid_i` (u32), `grid_j`
    /// (u32), `x` (f64), `y` (f64), `set` (str), `loss`, `accuracy`, `ece` (f64), `n_examples` (u32).
    pub const SURFACE_FILE: &str = "surface.parquet";
    /// The three models of each plane in its coordinates: `plane` (str), `model` (str), `x`, `y` (f64).
    pub const SURFACE_MODELS_FILE: &str = "surface_models.parquet";
    /// Name of a plane, str.
    pub const PLANE: &str = "plane";
    /// Grid row index, u32.
    pub const GRID_I: &str = "grid_i";
    /// Grid column index, u32.
    pub const GRID_J: &str = "grid_j";
    /// Plane coordinate along the first basis vector, f64.
    pub const X: &str = "x";
    /// Plane coordinate along the second basis vector, f64.
    pub const Y: &str = "y";
    /// Expected calibration error with 10 equal-width confidence bins, f64.
    pub const ECE: &str = "ece";
    /// Folder of a results directory holding one results directory per training checkpoint
    /// (`checkpoints/step-<N>/pairs.parquet`, …), for the training-dynamics figure.
    pub const CHECKPOINTS_DIR: &str = "checkpoints";

    /// Folder of a results directory holding `lmc soup`'s output (the report draws it when present).
    pub const SOUPS_DIR: &str = "soups";
    /// Members and soups of a population, one row per (model or soup, set): `model`, `kind`
    /// (`member`, `basin`, `greedy`, `all`), `cluster` (i64; -1 for a soup spanning clusters),
    /// `members` (comma-separated), `set` (str), `loss`, `metric`, `accuracy` (f64), `n_examples`
    /// (u32).
    pub const SOUPS_FILE: &str = "soups.parquet";
    /// [`SOUPS_FILE`] as CSV, same columns.
    pub const SOUPS_CSV_FILE: &str = "soups.csv";
    /// What a row of [`SOUPS_FILE`] is, str.
    pub const KIND: &str = "kind";
    /// A model's or soup's cluster, i64.
    pub const CLUSTER: &str = "cluster";
    /// A soup's members, comma-separated, str.
    pub const MEMBERS: &str = "members";

    /// The results directory of the checkpoints after `step` updates, inside `results`:
    /// `checkpoints/step-<N>`.
    pub fn checkpoint_results(results: &std::path::Path, step: u64) -> std::path::PathBuf {
        results.join(CHECKPOINTS_DIR).join(format!("step-{step}"))
    }

    /// The update count of a `step-<N>` folder under [`CHECKPOINTS_DIR`].
    pub fn checkpoint_step(folder_name: &str) -> Option<u64> {
        folder_name.strip_prefix("step-")?.parse().ok()
    }
}

/// Which per-point quantity of a pair curve a metric is computed on. Quantities where lower is
/// better, so that a barrier is a rise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// The `loss` column.
    Loss,
    /// `1 − accuracy`.
    Error,
    /// `1 − metric` (a drop in the task metric reads as a rise).
    MetricComplement,
}

impl Quantity {
    /// The quantity's snake-case name.
    pub fn name(self) -> &'static str {
        match self {
            Quantity::Loss => "loss",
            Quantity::Error => "error",
            Quantity::MetricComplement => "metric_complement",
        }
    }
}

/// What matrix to build from a [`PairsTable`].
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSpec {
    /// Evaluation set (`set` column), e.g. `"id"`.
    pub set: String,
    /// Quantity along the curve.
    pub quantity: Quantity,
    /// Metric of each curve.
    pub metric: CurveMetric,
    /// Models in matrix order; `None` takes every model of the set in order of first appearance.
    pub models: Option<Vec<String>>,
}

impl MatrixSpec {
    /// The paper's clustering matrix: convexity gap of the loss on `set`, all models.
    pub fn convexity_gap(set: &str) -> Self {
        Self {
            set: set.to_owned(),
            quantity: Quantity::Loss,
            metric: CurveMetric::ConvexityGap,
            models: None,
        }
    }
}

/// Typed access to a DataFrame's columns with errors naming the table.
struct Columns<'a> {
    df: &'a DataFrame,
    origin: &'a str,
}

impl<'a> Columns<'a> {
    fn column(&self, name: &'static str) -> Result<&'a Column> {
        self.df
            .column(name)
            .map_err(|_| AnalysisError::MissingColumn {
                origin: self.origin.to_owned(),
                column: name,
                present: self
                    .df
                    .get_column_names()
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    fn type_error(
        &self,
        name: &'static str,
        expected: &'static str,
        found: &DataType,
    ) -> AnalysisError {
        AnalysisError::ColumnType {
            origin: self.origin.to_owned(),
            column: name,
            expected,
            found: found.to_string(),
        }
    }

    fn null(&self, name: &'static str, row: usize) -> AnalysisError {
        AnalysisError::Null {
            origin: self.origin.to_owned(),
            column: name,
            row,
        }
    }

    fn strings(&self, name: &'static str) -> Result<Vec<String>> {
        let column = self.column(name)?;
        let values = column
            .str()
            .map_err(|_| self.type_error(name, "str", column.dtype()))?;
        values
            .iter()
            .enumerate()
            .map(|(row, v)| v.map(str::to_owned).ok_or_else(|| self.null(name, row)))
            .collect()
    }

    fn floats(&self, name: &'static str) -> Result<Vec<f64>> {
        let column = self.column(name)?;
        if !column.dtype().is_primitive_numeric() {
            return Err(self.type_error(name, "f64", column.dtype()));
        }
        let cast = column
            .cast(&DataType::Float64)
            .map_err(|_| self.type_error(name, "f64", column.dtype()))?;
        let values = cast
            .f64()
            .map_err(|_| self.type_error(name, "f64", column.dtype()))?;
        values
            .iter()
            .enumerate()
            .map(|(row, v)| v.ok_or_else(|| self.null(name, row)))
            .collect()
    }

    fn counts(&self, name: &'static str) -> Result<Vec<u32>> {
        let column = self.column(name)?;
        if !column.dtype().is_integer() {
            return Err(self.type_error(name, "u32", column.dtype()));
        }
        let cast = column
            .strict_cast(&DataType::UInt32)
            .map_err(|_| self.type_error(name, "u32 (values out of range)", column.dtype()))?;
        let values = cast
            .u32()
            .map_err(|_| self.type_error(name, "u32", column.dtype()))?;
        values
            .iter()
            .enumerate()
            .map(|(row, v)| v.ok_or_else(|| self.null(name, row)))
            .collect()
    }
}

/// Interns strings into dense indices, remembering first-appearance order.
#[derive(Debug, Clone, Default)]
struct Interner {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Interner {
    fn intern(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), self.names.len() - 1);
        self.names.len() - 1
    }

    fn get(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
}

/// One point of a pair curve.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PairPoint {
    alpha_index: u32,
    alpha: f64,
    loss: f64,
    metric: f64,
    accuracy: f64,
}

impl PairPoint {
    fn value(&self, quantity: Quantity) -> f64 {
        match quantity {
            Quantity::Loss => self.loss,
            Quantity::Error => 1.0 - self.accuracy,
            Quantity::MetricComplement => 1.0 - self.metric,
        }
    }
}

/// The indexed contents of `pairs.parquet`.
#[derive(Debug, Clone)]
pub struct PairsTable {
    origin: String,
    models: Interner,
    sets: Interner,
    /// `(set, model_a, model_b)` → points sorted by `alpha_index`.
    curves: HashMap<(usize, usize, usize), Vec<PairPoint>>,
    /// Per set, models in order of first appearance.
    models_by_set: Vec<Vec<usize>>,
}

impl PairsTable {
    /// Reads `path` (a `pairs.parquet`).
    ///
    /// # Errors
    /// I/O and polars errors, and those of [`PairsTable::from_dataframe`], naming the file.
    pub fn read(path: &Path) -> Result<Self> {
        let df = read_parquet(path)?;
        Self::from_dataframe(&df, &path.display().to_string())
    }

    /// Indexes a DataFrame with the `pairs.parquet` schema; `origin` labels error messages.
    ///
    /// # Errors
    /// [`AnalysisError::MissingColumn`], [`AnalysisError::ColumnType`], [`AnalysisError::Null`], and
    /// [`AnalysisError::DuplicateKey`] when a `(model_a, model_b, set, alpha_index)` repeats.
    pub fn from_dataframe(df: &DataFrame, origin: &str) -> Result<Self> {
        use schema::*;
        let columns = Columns { df, origin };
        let model_a = columns.strings(MODEL_A)?;
        let model_b = columns.strings(MODEL_B)?;
        let set = columns.strings(SET)?;
        let alpha_index = columns.counts(ALPHA_INDEX)?;
        let alpha = columns.floats(ALPHA)?;
        let loss = columns.floats(LOSS)?;
        let metric = columns.floats(METRIC)?;
        let accuracy = columns.floats(ACCURACY)?;

        let mut table = Self {
            origin: origin.to_owned(),
            models: Interner::default(),
            sets: Interner::default(),
            curves: HashMap::new(),
            models_by_set: Vec::new(),
        };
        let mut seen_in_set: Vec<Vec<bool>> = Vec::new();
        for row in 0..df.height() {
            let s = table.sets.intern(&set[row]);
            if s == table.models_by_set.len() {
                table.models_by_set.push(Vec::new());
                seen_in_set.push(Vec::new());
            }
            let a = table.models.intern(&model_a[row]);
            let b = table.models.intern(&model_b[row]);
            for m in [a, b] {
                let seen = &mut seen_in_set[s];
                if seen.len() <= m {
                    seen.resize(m + 1, false);
                }
                if !seen[m] {
                    seen[m] = true;
                    table.models_by_set[s].push(m);
                }
            }
            table.curves.entry((s, a, b)).or_default().push(PairPoint {
                alpha_index: alpha_index[row],
                alpha: alpha[row],
                loss: loss[row],
                metric: metric[row],
                accuracy: accuracy[row],
            });
        }
        for (&(s, a, b), points) in &mut table.curves {
            points.sort_by_key(|p| p.alpha_index);
            if let Some(pair) = points
                .windows(2)
                .find(|w| w[0].alpha_index == w[1].alpha_index)
            {
                return Err(AnalysisError::DuplicateKey {
                    origin: origin.to_owned(),
                    key: format!(
                        "(model_a `{}`, model_b `{}`, set `{}`, alpha_index {})",
                        table.models.names[a],
                        table.models.names[b],
                        table.sets.names[s],
                        pair[0].alpha_index
                    ),
                });
            }
        }
        Ok(table)
    }

    /// The sets present, in order of first appearance.
    pub fn sets(&self) -> &[String] {
        &self.sets.names
    }

    /// Models with at least one curve on `set`, in order of first appearance (empty if the set is
    /// absent).
    pub fn models(&self, set: &str) -> Vec<String> {
        self.sets
            .get(set)
            .map(|s| {
                self.models_by_set[s]
                    .iter()
                    .map(|&m| self.models.names[m].clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn unknown_set(&self, set: &str) -> AnalysisError {
        AnalysisError::UnknownSet {
            origin: self.origin.clone(),
            set: set.to_owned(),
            present: self.sets.names.join(", "),
        }
    }

    /// The curve from `model_a` (α = first grid point) to `model_b` on `set`, if stored in either
    /// orientation (a curve stored as `b → a` is returned reversed). When both orientations are
    /// stored, the `a → b` one is returned.
    ///
    /// # Errors
    /// [`AnalysisError::UnknownSet`] if the set is absent; [`AnalysisError::Curve`] if the stored
    /// points do not form a valid curve (α not increasing with `alpha_index`, non-finite values).
    pub fn curve(
        &self,
        set: &str,
        model_a: &str,
        model_b: &str,
        quantity: Quantity,
    ) -> Result<Option<Curve>> {
        let s = self.sets.get(set).ok_or_else(|| self.unknown_set(set))?;
        let (Some(a), Some(b)) = (self.models.get(model_a), self.models.get(model_b)) else {
            return Ok(None);
        };
        if self.curves.contains_key(&(s, a, b)) {
            self.stored_curve(s, a, b, quantity).map(Some)
        } else if self.curves.contains_key(&(s, b, a)) {
            self.stored_curve(s, b, a, quantity)
                .map(|c| Some(c.reversed()))
        } else {
            Ok(None)
        }
    }

    fn stored_curve(&self, s: usize, a: usize, b: usize, quantity: Quantity) -> Result<Curve> {
        let points = &self.curves[&(s, a, b)];
        Curve::new(
            points.iter().map(|p| p.alpha).collect(),
            points.iter().map(|p| p.value(quantity)).collect(),
        )
        .map_err(|source| AnalysisError::Curve {
            context: format!(
                "{}: pair (`{}`, `{}`) on set `{}`",
                self.origin, self.models.names[a], self.models.names[b], self.sets.names[s]
            ),
            source,
        })
    }

    /// The symmetric, zero-diagonal matrix of `spec.metric` over every unordered pair of
    /// `spec.models`. A pair stored in both orientations gets the mean of the two curves' values.
    ///
    /// # Errors
    /// [`AnalysisError::UnknownSet`]; [`AnalysisError::MissingPairs`] listing the first 10 missing
    /// unordered pairs and their count; [`AnalysisError::MissingModel`] when an explicitly requested
    /// model has no curve at all; curve errors as in [`PairsTable::curve`].
    pub fn matrix(&self, spec: &MatrixSpec) -> Result<BarrierMatrix> {
        let s = self
            .sets
            .get(&spec.set)
            .ok_or_else(|| self.unknown_set(&spec.set))?;
        let names = spec
            .models
            .clone()
            .unwrap_or_else(|| self.models(&spec.set));
        let mut ids = Vec::with_capacity(names.len());
        for name in &names {
            let id = self
                .models
                .get(name)
                .ok_or_else(|| AnalysisError::MissingModel {
                    origin: self.origin.clone(),
                    model: name.clone(),
                    set: spec.set.clone(),
                })?;
            ids.push(id);
        }
        let n = names.len();
        let mut values = vec![0.0; n * n];
        let mut missing = Vec::new();
        let mut missing_count = 0;
        for i in 0..n {
            for j in i + 1..n {
                let mut found = Vec::with_capacity(2);
                if self.curves.contains_key(&(s, ids[i], ids[j])) {
                    found.push(
                        self.stored_curve(s, ids[i], ids[j], spec.quantity)?
                            .metric(spec.metric),
                    );
                }
                if self.curves.contains_key(&(s, ids[j], ids[i])) {
                    found.push(
                        self.stored_curve(s, ids[j], ids[i], spec.quantity)?
                            .metric(spec.metric),
                    );
                }
                if found.is_empty() {
                    missing_count += 1;
                    if missing.len() < 10 {
                        missing.push(format!("{}–{}", names[i], names[j]));
                    }
                    continue;
                }
                let value = found.iter().sum::<f64>() / found.len() as f64;
                values[i * n + j] = value;
                values[j * n + i] = value;
            }
        }
        if missing_count > 0 {
            let more = missing_count - missing.len();
            let mut listing = missing.join(", ");
            if more > 0 {
                listing.push_str(&format!(" and {more} more"));
            }
            return Err(AnalysisError::MissingPairs {
                origin: self.origin.clone(),
                set: spec.set.clone(),
                count: missing_count,
                listing,
            });
        }
        BarrierMatrix::new(names, values, &self.origin)
    }
}

/// Builds the matrix described by `spec` straight from a `pairs.parquet`-shaped DataFrame.
///
/// # Errors
/// As [`PairsTable::from_dataframe`] (labelled `"pairs table"`) and [`PairsTable::matrix`].
pub fn pairwise_matrix(pairs: &DataFrame, spec: &MatrixSpec) -> Result<BarrierMatrix> {
    PairsTable::from_dataframe(pairs, "pairs table")?.matrix(spec)
}

/// One row of `endpoints.parquet`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EndpointRow {
    /// Mean cross-entropy.
    pub loss: f64,
    /// Task metric.
    pub metric: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// Number of evaluated examples.
    pub n_examples: u32,
}

/// The indexed contents of `endpoints.parquet`.
#[derive(Debug, Clone)]
pub struct EndpointsTable {
    origin: String,
    models: Interner,
    sets: Interner,
    rows: HashMap<(usize, usize), EndpointRow>,
}

impl EndpointsTable {
    /// Reads `path` (an `endpoints.parquet`).
    ///
    /// # Errors
    /// I/O and polars errors, and those of [`EndpointsTable::from_dataframe`].
    pub fn read(path: &Path) -> Result<Self> {
        let df = read_parquet(path)?;
        Self::from_dataframe(&df, &path.display().to_string())
    }

    /// Indexes a DataFrame with the `endpoints.parquet` schema; `origin` labels error messages.
    ///
    /// # Errors
    /// Missing columns, wrong types, nulls, and a repeated `(model, set)`.
    pub fn from_dataframe(df: &DataFrame, origin: &str) -> Result<Self> {
        use schema::*;
        let columns = Columns { df, origin };
        let model = columns.strings(MODEL)?;
        let set = columns.strings(SET)?;
        let loss = columns.floats(LOSS)?;
        let metric = columns.floats(METRIC)?;
        let accuracy = columns.floats(ACCURACY)?;
        let n_examples = columns.counts(N_EXAMPLES)?;
        let mut table = Self {
            origin: origin.to_owned(),
            models: Interner::default(),
            sets: Interner::default(),
            rows: HashMap::new(),
        };
        for row in 0..df.height() {
            let m = table.models.intern(&model[row]);
            let s = table.sets.intern(&set[row]);
            let value = EndpointRow {
                loss: loss[row],
                metric: metric[row],
                accuracy: accuracy[row],
                n_examples: n_examples[row],
            };
            if table.rows.insert((m, s), value).is_some() {
                return Err(AnalysisError::DuplicateKey {
                    origin: origin.to_owned(),
                    key: format!("(model `{}`, set `{}`)", model[row], set[row]),
                });
            }
        }
        Ok(table)
    }

    /// Models with a row on `set`, in order of first appearance in the file.
    pub fn models(&self, set: &str) -> Vec<String> {
        let Some(s) = self.sets.get(set) else {
            return Vec::new();
        };
        (0..self.models.names.len())
            .filter(|&m| self.rows.contains_key(&(m, s)))
            .map(|m| self.models.names[m].clone())
            .collect()
    }

    /// The sets present, in order of first appearance.
    pub fn sets(&self) -> &[String] {
        &self.sets.names
    }

    /// Where the table came from (file path or label).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The error for a set this table lacks, listing the sets it has.
    pub(crate) fn unknown_set(&self, set: &str) -> AnalysisError {
        AnalysisError::UnknownSet {
            origin: self.origin.clone(),
            set: set.to_owned(),
            present: self.sets.names.join(", "),
        }
    }

    /// The row of `(model, set)`.
    ///
    /// # Errors
    /// [`AnalysisError::UnknownSet`] when no model has the set, [`AnalysisError::MissingModel`] when
    /// this model lacks it.
    pub fn get(&self, model: &str, set: &str) -> Result<EndpointRow> {
        let s = self.sets.get(set).ok_or_else(|| self.unknown_set(set))?;
        self.models
            .get(model)
            .and_then(|m| self.rows.get(&(m, s)))
            .copied()
            .ok_or_else(|| AnalysisError::MissingModel {
                origin: self.origin.clone(),
                model: model.to_owned(),
                set: set.to_owned(),
            })
    }
}

/// The indexed contents of `hans_cells.parquet`: per model, accuracy on each of the 6 HANS cells.
#[derive(Debug, Clone)]
pub struct HansTable {
    origin: String,
    /// model → accuracy per cell, indexed `heuristic * 2 + label` in [`schema::HANS_HEURISTICS`] ×
    /// [`schema::HANS_LABELS`] order.
    cells: HashMap<String, [Option<f64>; 6]>,
}

impl HansTable {
    /// Reads `path` (a `hans_cells.parquet`).
    ///
    /// # Errors
    /// I/O and polars errors, and those of [`HansTable::from_dataframe`].
    pub fn read(path: &Path) -> Result<Self> {
        let df = read_parquet(path)?;
        Self::from_dataframe(&df, &path.display().to_string())
    }

    /// Indexes a DataFrame with the `hans_cells.parquet` schema; `origin` labels error messages.
    ///
    /// # Errors
    /// Missing columns, wrong types, nulls, an unknown heuristic or label
    /// ([`AnalysisError::InvalidValue`]), and a repeated `(model, heuristic, label)`.
    pub fn from_dataframe(df: &DataFrame, origin: &str) -> Result<Self> {
        use schema::*;
        let columns = Columns { df, origin };
        let model = columns.strings(MODEL)?;
        let heuristic = columns.strings(HEURISTIC)?;
        let label = columns.strings(LABEL)?;
        let accuracy = columns.floats(ACCURACY)?;
        let mut cells: HashMap<String, [Option<f64>; 6]> = HashMap::new();
        for row in 0..df.height() {
            let invalid = |message: String| AnalysisError::InvalidValue {
                origin: origin.to_owned(),
                row,
                message,
            };
            let h = HANS_HEURISTICS
                .iter()
                .position(|&h| h == heuristic[row])
                .ok_or_else(|| {
                    invalid(format!(
                        "unknown heuristic `{}` (expected one of {})",
                        heuristic[row],
                        HANS_HEURISTICS.join(", ")
                    ))
                })?;
            let l = HANS_LABELS
                .iter()
                .position(|&l| l == label[row])
                .ok_or_else(|| {
                    invalid(format!(
                        "unknown label `{}` (expected one of {})",
                        label[row],
                        HANS_LABELS.join(", ")
                    ))
                })?;
            let slot = &mut cells.entry(model[row].clone()).or_default()[h * 2 + l];
            if slot.replace(accuracy[row]).is_some() {
                return Err(AnalysisError::DuplicateKey {
                    origin: origin.to_owned(),
                    key: format!(
                        "(model `{}`, heuristic `{}`, label `{}`)",
                        model[row], heuristic[row], label[row]
                    ),
                });
            }
        }
        Ok(Self {
            origin: origin.to_owned(),
            cells,
        })
    }

    /// The 6 cell names `heuristic/label`, in the order of [`HansTable::cells`].
    pub fn cell_names() -> Vec<String> {
        schema::HANS_HEURISTICS
            .iter()
            .flat_map(|h| schema::HANS_LABELS.iter().map(move |l| format!("{h}/{l}")))
            .collect()
    }

    /// A model's accuracy on the 6 cells, in [`HansTable::cell_names`] order.
    ///
    /// # Errors
    /// [`AnalysisError::MissingModel`] naming the first missing cell.
    pub fn cells(&self, model: &str) -> Result<[f64; 6]> {
        let missing = |cell: usize| AnalysisError::MissingModel {
            origin: self.origin.clone(),
            model: model.to_owned(),
            set: format!("HANS cell {}", Self::cell_names()[cell]),
        };
        let row = self.cells.get(model).ok_or_else(|| missing(0))?;
        let mut out = [0.0; 6];
        for (cell, value) in row.iter().enumerate() {
            out[cell] = value.ok_or_else(|| missing(cell))?;
        }
        Ok(out)
    }
}
