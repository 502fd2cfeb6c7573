//! Result rows, their Parquet frames (column names from `lmc_analysis::schema`), and atomic
//! reads and writes.

use std::fs::File;
use std::path::Path;

use lmc_analysis::schema;
use polars::prelude::{
    Column, CsvWriter, DataFrame, DataType, NamedFrom, ParquetReader, ParquetWriter, SerReader,
    SerWriter, Series,
};

use crate::error::{Result, SweepError};
use crate::evaluate::SetEvaluation;
use crate::sets::EvalSet;

/// Column of the Euclidean distance between a pair's endpoints (`distances.parquet`, pair parts).
pub const DISTANCE: &str = "distance";

/// One point of a pair's curve on one set (a row of `pairs.parquet`).
#[derive(Debug, Clone, PartialEq)]
pub struct PairRow {
    /// Model at α = 0.
    pub model_a: String,
    /// Model at α = 1.
    pub model_b: String,
    /// Set name.
    pub set: String,
    /// Position on the α grid.
    pub alpha_index: u32,
    /// α.
    pub alpha: f64,
    /// Mean cross-entropy.
    pub loss: f64,
    /// Task metric.
    pub metric: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// Examples evaluated.
    pub n_examples: u32,
}

/// One model on one set (a row of `endpoints.parquet` or `full_endpoints.parquet`).
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointRow {
    /// Model name.
    pub model: String,
    /// Set name.
    pub set: String,
    /// Mean cross-entropy.
    pub loss: f64,
    /// Task metric.
    pub metric: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// Examples evaluated.
    pub n_examples: u32,
}

impl EndpointRow {
    /// The row of `evaluation` for `model`.
    pub fn of(model: &str, evaluation: &SetEvaluation) -> EndpointRow {
        EndpointRow {
            model: model.to_owned(),
            set: evaluation.set.clone(),
            loss: evaluation.scores.mean_loss,
            metric: evaluation.scores.metric_value,
            accuracy: evaluation.scores.accuracy,
            n_examples: evaluation.scores.predictions.len() as u32,
        }
    }
}

/// HANS accuracy of a model in one cell (a row of `hans_cells.parquet`).
#[derive(Debug, Clone, PartialEq)]
pub struct HansCellRow {
    /// Model name.
    pub model: String,
    /// Heuristic.
    pub heuristic: String,
    /// Gold label.
    pub label: String,
    /// Accuracy.
    pub accuracy: f64,
    /// Examples in the cell.
    pub n_examples: u32,
}

/// Distance between two models' parameters (a row of `distances.parquet`).
#[derive(Debug, Clone, PartialEq)]
pub struct DistanceRow {
    /// First model.
    pub model_a: String,
    /// Second model.
    pub model_b: String,
    /// ‖θ_a − θ_b‖₂ over every float parameter.
    pub distance: f64,
}

fn series<T>(name: &str, values: Vec<T>) -> Column
where
    Series: NamedFrom<Vec<T>, [T]>,
{
    Column::from(Series::new(name.into(), values))
}

fn frame(columns: Vec<Column>, origin: &str) -> Result<DataFrame> {
    DataFrame::new_infer_height(columns).map_err(SweepError::table(origin))
}

/// `pairs.parquet` rows as a frame; with `distance`, the pair-part layout (one more column).
pub fn pairs_frame(rows: &[PairRow], distance: Option<f64>) -> Result<DataFrame> {
    let mut columns = vec![
        series(
            schema::MODEL_A,
            rows.iter().map(|r| r.model_a.clone()).collect(),
        ),
        series(
            schema::MODEL_B,
            rows.iter().map(|r| r.model_b.clone()).collect(),
        ),
        series(schema::SET, rows.iter().map(|r| r.set.clone()).collect()),
        series(
            schema::ALPHA_INDEX,
            rows.iter().map(|r| r.alpha_index).collect(),
        ),
        series(schema::ALPHA, rows.iter().map(|r| r.alpha).collect()),
        series(schema::LOSS, rows.iter().map(|r| r.loss).collect()),
        series(schema::METRIC, rows.iter().map(|r| r.metric).collect()),
        series(schema::ACCURACY, rows.iter().map(|r| r.accuracy).collect()),
        series(
            schema::N_EXAMPLES,
            rows.iter().map(|r| r.n_examples).collect(),
        ),
    ];
    if let Some(distance) = distance {
        columns.push(series(DISTANCE, vec![distance; rows.len()]));
    }
    frame(columns, schema::PAIRS_FILE)
}

/// Endpoint rows as a frame (`endpoints.parquet` layout).
pub fn endpoints_frame(rows: &[EndpointRow]) -> Result<DataFrame> {
    frame(
        vec![
            series(
                schema::MODEL,
                rows.iter().map(|r| r.model.clone()).collect(),
            ),
            series(schema::SET, rows.iter().map(|r| r.set.clone()).collect()),
            series(schema::LOSS, rows.iter().map(|r| r.loss).collect()),
            series(schema::METRIC, rows.iter().map(|r| r.metric).collect()),
            series(schema::ACCURACY, rows.iter().map(|r| r.accuracy).collect()),
            series(
                schema::N_EXAMPLES,
                rows.iter().map(|r| r.n_examples).collect(),
            ),
        ],
        schema::ENDPOINTS_FILE,
    )
}

/// HANS cell rows as a frame (`hans_cells.parquet` layout).
pub fn hans_frame(rows: &[HansCellRow]) -> Result<DataFrame> {
    frame(
        vec![
            series(
                schema::MODEL,
                rows.iter().map(|r| r.model.clone()).collect(),
            ),
            series(
                schema::HEURISTIC,
                rows.iter().map(|r| r.heuristic.clone()).collect(),
            ),
            series(
                schema::LABEL,
                rows.iter().map(|r| r.label.clone()).collect(),
            ),
            series(schema::ACCURACY, rows.iter().map(|r| r.accuracy).collect()),
            series(
                schema::N_EXAMPLES,
                rows.iter().map(|r| r.n_examples).collect(),
            ),
        ],
        schema::HANS_CELLS_FILE,
    )
}

/// Distance rows as a frame (`distances.parquet` layout).
pub fn distances_frame(rows: &[DistanceRow]) -> Result<DataFrame> {
    frame(
        vec![
            series(
                schema::MODEL_A,
                rows.iter().map(|r| r.model_a.clone()).collect(),
            ),
            series(
                schema::MODEL_B,
                rows.iter().map(|r| r.model_b.clone()).collect(),
            ),
            series(DISTANCE, rows.iter().map(|r| r.distance).collect()),
        ],
        "distances.parquet",
    )
}

/// One row per example of an evaluation: `index` (u32, the example's row in its file), `label`,
/// `prediction` (u32), `loss` (f64), `logit_0` … `logit_{k−1}` (f32, after the set's label
/// mapping) and, for HANS sets, `heuristic` and `subcase` (str).
pub fn examples_frame(set: &EvalSet, evaluation: &SetEvaluation) -> Result<DataFrame> {
    let examples = &set.dataset.examples;
    let mut columns = vec![
        series("index", examples.iter().map(|e| e.index as u32).collect()),
        series("label", examples.iter().map(|e| e.label as u32).collect()),
        series(
            "prediction",
            evaluation
                .scores
                .predictions
                .iter()
                .map(|&p| p as u32)
                .collect(),
        ),
        series(schema::LOSS, evaluation.scores.losses.clone()),
    ];
    for k in 0..evaluation.logits.num_classes() {
        let values: Vec<f32> = evaluation.logits.rows().map(|row| row[k]).collect();
        columns.push(series(&format!("logit_{k}"), values));
    }
    if examples.iter().all(|e| e.hans.is_some()) {
        let meta = |f: fn(&lmc_data::HansMetadata) -> String| -> Vec<String> {
            examples
                .iter()
                .map(|e| e.hans.as_ref().map(f).unwrap_or_default())
                .collect()
        };
        columns.push(series(
            schema::HEURISTIC,
            meta(|m| m.heuristic.as_str().to_owned()),
        ));
        columns.push(series("subcase", meta(|m| m.subcase.clone())));
    }
    frame(columns, &set.label)
}

/// Writes `bytes` to `path` atomically ([`lmc_atomic::write`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    lmc_atomic::write(path, bytes).map_err(SweepError::io(path))
}

/// Writes `df` as Parquet to `path` atomically: a reader never sees half a table, and a killed
/// process leaves the previous file (or none).
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<()> {
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .finish(df)
        .map_err(SweepError::table(path.display().to_string()))?;
    write_atomically(path, &bytes)
}

/// Writes `df` as CSV with a header to `path` atomically, as [`write_parquet`] does Parquet.
pub fn write_csv(path: &Path, df: &mut DataFrame) -> Result<()> {
    let mut bytes = Vec::new();
    CsvWriter::new(&mut bytes)
        .include_header(true)
        .finish(df)
        .map_err(SweepError::table(path.display().to_string()))?;
    write_atomically(path, &bytes)
}

/// Reads a Parquet file.
pub fn read_parquet(path: &Path) -> Result<DataFrame> {
    let file = File::open(path).map_err(SweepError::io(path))?;
    ParquetReader::new(file)
        .finish()
        .map_err(SweepError::table(path.display().to_string()))
}

/// Typed column access with errors naming the table.
struct Reader<'a> {
    df: &'a DataFrame,
    origin: String,
}

impl Reader<'_> {
    fn column(&self, name: &str, dtype: DataType) -> Result<Column> {
        let column = self.df.column(name).map_err(|_| SweepError::Schema {
            origin: self.origin.clone(),
            message: format!("no column `{name}`"),
        })?;
        column.strict_cast(&dtype).map_err(|_| SweepError::Schema {
            origin: self.origin.clone(),
            message: format!("column `{name}` is {}, expected {dtype}", column.dtype()),
        })
    }

    fn null(&self, name: &str) -> SweepError {
        SweepError::Schema {
            origin: self.origin.clone(),
            message: format!("null in column `{name}`"),
        }
    }

    fn strings(&self, name: &str) -> Result<Vec<String>> {
        let column = self.column(name, DataType::String)?;
        let values = column.str().map_err(SweepError::table(&self.origin))?;
        values
            .iter()
            .map(|v| v.map(str::to_owned).ok_or_else(|| self.null(name)))
            .collect()
    }

    fn floats(&self, name: &str) -> Result<Vec<f64>> {
        let column = self.column(name, DataType::Float64)?;
        let values = column.f64().map_err(SweepError::table(&self.origin))?;
        values
            .iter()
            .map(|v| v.ok_or_else(|| self.null(name)))
            .collect()
    }

    fn counts(&self, name: &str) -> Result<Vec<u32>> {
        let column = self.column(name, DataType::UInt32)?;
        let values = column.u32().map_err(SweepError::table(&self.origin))?;
        values
            .iter()
            .map(|v| v.ok_or_else(|| self.null(name)))
            .collect()
    }
}

/// Reads the rows of a `pairs.parquet` or pair-part file, and the part's distance if it has one.
pub fn read_pairs(path: &Path) -> Result<(Vec<PairRow>, Option<f64>)> {
    let df = read_parquet(path)?;
    let r = Reader {
        df: &df,
        origin: path.display().to_string(),
    };
    let (a, b, set) = (
        r.strings(schema::MODEL_A)?,
        r.strings(schema::MODEL_B)?,
        r.strings(schema::SET)?,
    );
    let (index, alpha) = (r.counts(schema::ALPHA_INDEX)?, r.floats(schema::ALPHA)?);
    let (loss, metric, accuracy) = (
        r.floats(schema::LOSS)?,
        r.floats(schema::METRIC)?,
        r.floats(schema::ACCURACY)?,
    );
    let n = r.counts(schema::N_EXAMPLES)?;
    let distance = if df.column(DISTANCE).is_ok() {
        r.floats(DISTANCE)?.first().copied()
    } else {
        None
    };
    let rows = (0..df.height())
        .map(|i| PairRow {
            model_a: a[i].clone(),
            model_b: b[i].clone(),
            set: set[i].clone(),
            alpha_index: index[i],
            alpha: alpha[i],
            loss: loss[i],
            metric: metric[i],
            accuracy: accuracy[i],
            n_examples: n[i],
        })
        .collect();
    Ok((rows, distance))
}

/// Reads the rows of an `endpoints.parquet`-layout file.
pub fn read_endpoints(path: &Path) -> Result<Vec<EndpointRow>> {
    let df = read_parquet(path)?;
    let r = Reader {
        df: &df,
        origin: path.display().to_string(),
    };
    let (model, set) = (r.strings(schema::MODEL)?, r.strings(schema::SET)?);
    let (loss, metric, accuracy) = (
        r.floats(schema::LOSS)?,
        r.floats(schema::METRIC)?,
        r.floats(schema::ACCURACY)?,
    );
    let n = r.counts(schema::N_EXAMPLES)?;
    Ok((0..df.height())
        .map(|i| EndpointRow {
            model: model[i].clone(),
            set: set[i].clone(),
            loss: loss[i],
            metric: metric[i],
            accuracy: accuracy[i],
            n_examples: n[i],
        })
        .collect())
}

/// Reads the rows of a `hans_cells.parquet`-layout file.
pub fn read_hans(path: &Path) -> Result<Vec<HansCellRow>> {
    let df = read_parquet(path)?;
    let r = Reader {
        df: &df,
        origin: path.display().to_string(),
    };
    let (model, heuristic, label) = (
        r.strings(schema::MODEL)?,
        r.strings(schema::HEURISTIC)?,
        r.strings(schema::LABEL)?,
    );
    let (accuracy, n) = (r.floats(schema::ACCURACY)?, r.counts(schema::N_EXAMPLES)?);
    Ok((0..df.height())
        .map(|i| HansCellRow {
            model: model[i].clone(),
            heuristic: heuristic[i].clone(),
            label: label[i].clone(),
            accuracy: accuracy[i],
            n_examples: n[i],
        })
        .collect())
}
