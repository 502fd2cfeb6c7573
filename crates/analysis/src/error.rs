//! The crate's error types.
//!
//! Every error that comes from user input names where the input came from (a file path, or the origin
//! label a caller gave a table) and the row, column or key at fault, so that a message printed by the
//! CLI is enough to find and fix the input.

use std::path::PathBuf;

use polars::prelude::PolarsError;

/// Why a curve cannot be measured.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CurveError {
    /// Fewer than two points: no chord exists.
    #[error("a curve needs at least 2 points, found {0}")]
    TooShort(usize),
    /// `alpha` and the values differ in length.
    #[error("{alphas} alpha values but {values} curve values")]
    LengthMismatch {
        /// Number of α values.
        alphas: usize,
        /// Number of curve values.
        values: usize,
    },
    /// An α or a value is NaN or infinite.
    #[error("point {index} is not finite (alpha {alpha}, value {value})")]
    NonFinite {
        /// Index of the point.
        index: usize,
        /// Its α.
        alpha: f64,
        /// Its value.
        value: f64,
    },
    /// The α grid is not strictly increasing.
    #[error("alpha is not strictly increasing at point {index} ({previous} then {alpha})")]
    NotIncreasing {
        /// Index of the first point out of order.
        index: usize,
        /// α of the point before it.
        previous: f64,
        /// Its α.
        alpha: f64,
    },
}

/// A problem with a square model-by-model matrix (barrier or distance).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MatrixProblem {
    /// No models at all.
    #[error("the matrix has no models")]
    Empty,
    /// `values` does not hold `names.len()²` numbers.
    #[error("{names} names need {expected} values, found {found}")]
    WrongSize {
        /// Number of model names.
        names: usize,
        /// `names²`.
        expected: usize,
        /// Number of values given.
        found: usize,
    },
    /// A model name appears twice.
    #[error("model `{0}` appears more than once")]
    DuplicateName(String),
    /// An entry is NaN or infinite.
    #[error("entry (row `{row}`, column `{column}`) is not finite: {value}")]
    NonFinite {
        /// Row model.
        row: String,
        /// Column model.
        column: String,
        /// The entry.
        value: f64,
    },
    /// An entry is negative.
    #[error("entry (row `{row}`, column `{column}`) is negative: {value}")]
    Negative {
        /// Row model.
        row: String,
        /// Column model.
        column: String,
        /// The entry.
        value: f64,
    },
    /// A diagonal entry is not zero.
    #[error("diagonal entry of `{model}` is {value}, expected 0")]
    NonZeroDiagonal {
        /// The model.
        model: String,
        /// The entry.
        value: f64,
    },
    /// `D[i][j]` and `D[j][i]` differ by more than the tolerance.
    #[error(
        "not symmetric: (row `{row}`, column `{column}`) = {upper} but (row `{column}`, column `{row}`) = {lower}"
    )]
    Asymmetric {
        /// Row model of the upper-triangle entry.
        row: String,
        /// Column model of the upper-triangle entry.
        column: String,
        /// `D[row][column]`.
        upper: f64,
        /// `D[column][row]`.
        lower: f64,
    },
}

/// Every error of this crate.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A barrier CSV is malformed.
    #[error("{path}: line {line}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A matrix fails validation.
    #[error("{origin}: {problem}")]
    Matrix {
        /// Where the matrix came from (a file path or a caller's label).
        origin: String,
        /// What is wrong.
        problem: MatrixProblem,
    },
    /// Polars failed to read, build or write a table.
    #[error("{origin}: {source}")]
    Polars {
        /// The table (file path or label).
        origin: String,
        /// The underlying error.
        source: PolarsError,
    },
    /// A table lacks a required column.
    #[error("{origin}: missing column `{column}` (columns present: {present})")]
    MissingColumn {
        /// The table.
        origin: String,
        /// The missing column.
        column: &'static str,
        /// The columns the table has, comma-separated.
        present: String,
    },
    /// A column has a type that cannot be read as the contract's type.
    #[error("{origin}: column `{column}` has type {found}, expected {expected}")]
    ColumnType {
        /// The table.
        origin: String,
        /// The column.
        column: &'static str,
        /// The contract's type.
        expected: &'static str,
        /// The type found.
        found: String,
    },
    /// A required value is null.
    #[error("{origin}: column `{column}` is null at row {row}")]
    Null {
        /// The table.
        origin: String,
        /// The column.
        column: &'static str,
        /// 0-based row index.
        row: usize,
    },
    /// A key appears in more than one row.
    #[error("{origin}: duplicate row for {key}")]
    DuplicateKey {
        /// The table.
        origin: String,
        /// The key, formatted.
        key: String,
    },
    /// A table value is out of its allowed range (e.g. a HANS heuristic name).
    #[error("{origin}: row {row}: {message}")]
    InvalidValue {
        /// The table.
        origin: String,
        /// 0-based row index.
        row: usize,
        /// What is wrong.
        message: String,
    },
    /// Some unordered model pairs have no curve.
    #[error("{origin}: {count} model pair(s) missing on set `{set}`: {listing}")]
    MissingPairs {
        /// The table.
        origin: String,
        /// The evaluation set.
        set: String,
        /// How many pairs are missing.
        count: usize,
        /// The first missing pairs (at most 10), formatted `a–b`, comma-separated.
        listing: String,
    },
    /// A set named in the options is not in a table.
    #[error("{origin}: no rows for set `{set}` (sets present: {present})")]
    UnknownSet {
        /// The table.
        origin: String,
        /// The requested set.
        set: String,
        /// The sets the table has, comma-separated.
        present: String,
    },
    /// A model has no row where one is required.
    #[error("{origin}: no row for model `{model}` on set `{set}`")]
    MissingModel {
        /// The table.
        origin: String,
        /// The model.
        model: String,
        /// The set (or other key) looked up.
        set: String,
    },
    /// A pair's curve cannot be measured.
    #[error("{context}: {source}")]
    Curve {
        /// Which curve (table, pair, set).
        context: String,
        /// What is wrong with it.
        source: CurveError,
    },
    /// Clustering cannot run with these inputs (e.g. `k` larger than the number of models).
    #[error("clustering: {0}")]
    Clustering(String),
    /// The eigendecomposition of the Laplacian failed.
    #[error("eigendecomposition of the normalised Laplacian failed: {0}")]
    Eigen(#[from] linfa_linalg::LinalgError),
    /// Linfa's k-means failed.
    #[error("k-means failed: {0}")]
    KMeans(#[from] linfa_clustering::KMeansError),
    /// Checkpoints disagree on the set of models.
    #[error("checkpoint `{checkpoint}`: {message}")]
    Checkpoint {
        /// The checkpoint's label.
        checkpoint: String,
        /// What is wrong.
        message: String,
    },
    /// A statistic cannot be computed from its inputs.
    #[error("{0}")]
    Statistics(String),
    /// Writing or reading a JSON file failed (malformed, or not the record it should hold).
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// The files of an analysis directory disagree: a per-model list whose length is not the
    /// number of models, or a matrix over other models.
    #[error("{path}: {message}")]
    Inconsistent {
        /// The file that disagrees.
        path: PathBuf,
        /// What does not match.
        message: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = AnalysisError> = std::result::Result<T, E>;
