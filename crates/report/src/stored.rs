//! The stored inputs of the figures that are not [`lmc_analysis::Analysis`] (which
//! [`lmc_analysis::Analysis::read`] reads from the analysis directory): the per-model rows the
//! figures share, the loss-surface tables and the per-checkpoint results.

use std::path::Path;

use lmc_analysis::{Analysis, EndpointsTable, PairsTable, schema};
use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader};

use crate::error::{ReportError, Result};

/// One model's row: what every per-model figure needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    /// Model name.
    pub name: String,
    /// Cluster label.
    pub cluster: usize,
    /// Position on the centroid-distance axis.
    pub centroid_distance: f64,
    /// Diagnostic metric (e.g. HANS-LO accuracy).
    pub diagnostic_metric: f64,
    /// In-domain metric.
    pub in_domain_metric: f64,
}

/// One row per model of `analysis`, in its model order.
///
/// # Panics
/// If a per-model list of `analysis` is shorter than its models ([`Analysis::read`] refuses
/// such an analysis).
pub fn model_rows(analysis: &Analysis) -> Vec<ModelRow> {
    (0..analysis.models.len())
        .map(|i| ModelRow {
            name: analysis.models[i].clone(),
            cluster: analysis.clustering.labels[i],
            centroid_distance: analysis.axis.distances[i],
            diagnostic_metric: analysis.diagnostic_metric[i],
            in_domain_metric: analysis.in_domain_metric[i],
        })
        .collect()
}

/// Reads a Parquet file with errors naming it.
fn read_parquet(path: &Path) -> Result<DataFrame> {
    let file = std::fs::File::open(path).map_err(|source| ReportError::Io {
        path: path.to_owned(),
        source,
    })?;
    ParquetReader::new(file)
        .finish()
        .map_err(|source| ReportError::Schema {
            origin: path.display().to_string(),
            message: source.to_string(),
        })
}

/// Typed column access for the surface tables.
struct Columns<'a> {
    df: &'a DataFrame,
    origin: &'a str,
}

impl Columns<'_> {
    fn error(&self, message: String) -> ReportError {
        ReportError::Schema {
            origin: self.origin.to_owned(),
            message,
        }
    }

    fn strings(&self, name: &str) -> Result<Vec<String>> {
        let column = self
            .df
            .column(name)
            .map_err(|_| self.error(format!("missing column `{name}`")))?;
        let values = column.str().map_err(|_| {
            self.error(format!(
                "column `{name}` is {}, expected str",
                column.dtype()
            ))
        })?;
        values
            .iter()
            .enumerate()
            .map(|(row, v)| {
                v.map(str::to_owned)
                    .ok_or_else(|| self.error(format!("null in column `{name}`, row {row}")))
            })
            .collect()
    }

    fn floats(&self, name: &str) -> Result<Vec<f64>> {
        let column = self
            .df
            .column(name)
            .map_err(|_| self.error(format!("missing column `{name}`")))?;
        let wrong_type = || {
            self.error(format!(
                "column `{name}` is {}, expected f64",
                column.dtype()
            ))
        };
        if !column.dtype().is_primitive_numeric() {
            return Err(wrong_type());
        }
        let cast = column.cast(&DataType::Float64).map_err(|_| wrong_type())?;
        let values = cast.f64().map_err(|_| wrong_type())?;
        values
            .iter()
            .enumerate()
            .map(|(row, v)| {
                v.ok_or_else(|| self.error(format!("null in column `{name}`, row {row}")))
            })
            .collect()
    }
}

/// One grid point of a loss surface.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurfacePoint {
    /// Coordinate along the first basis vector.
    pub x: f64,
    /// Coordinate along the second (orthogonalised) basis vector.
    pub y: f64,
    /// Mean cross-entropy.
    pub loss: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// Expected calibration error.
    pub ece: f64,
}

/// A model marked on a plane.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkedModel {
    /// Model name.
    pub name: String,
    /// Plane coordinates.
    pub x: f64,
    /// Plane coordinates.
    pub y: f64,
}

/// One plane through three models, on one evaluation set.
#[derive(Debug, Clone, PartialEq)]
pub struct SurfacePlane {
    /// Plane name, e.g. `G-G-G`.
    pub name: String,
    /// Grid points.
    pub points: Vec<SurfacePoint>,
    /// The models spanning the plane.
    pub models: Vec<MarkedModel>,
}

/// Reads `surface.parquet` and `surface_models.parquet` from `results_dir`, keeping the rows of
/// `set`; planes in order of first appearance. `Ok(None)` when `surface.parquet` is absent.
///
/// # Errors
/// I/O and schema errors naming the file.
pub fn read_surfaces(results_dir: &Path, set: &str) -> Result<Option<Vec<SurfacePlane>>> {
    let surface_path = results_dir.join(schema::SURFACE_FILE);
    if !surface_path.exists() {
        return Ok(None);
    }
    let df = read_parquet(&surface_path)?;
    let origin = surface_path.display().to_string();
    let columns = Columns {
        df: &df,
        origin: &origin,
    };
    let plane = columns.strings(schema::PLANE)?;
    let sets = columns.strings(schema::SET)?;
    let [x, y, loss, accuracy, ece] = [
        schema::X,
        schema::Y,
        schema::LOSS,
        schema::ACCURACY,
        schema::ECE,
    ]
    .map(|name| columns.floats(name));
    let (x, y, loss, accuracy, ece) = (x?, y?, loss?, accuracy?, ece?);
    let mut planes: Vec<SurfacePlane> = Vec::new();
    for row in (0..df.height()).filter(|&row| sets[row] == set) {
        let point = SurfacePoint {
            x: x[row],
            y: y[row],
            loss: loss[row],
            accuracy: accuracy[row],
            ece: ece[row],
        };
        match planes.iter_mut().find(|p| p.name == plane[row]) {
            Some(p) => p.points.push(point),
            None => planes.push(SurfacePlane {
                name: plane[row].clone(),
                points: vec![point],
                models: Vec::new(),
            }),
        }
    }
    let models_path = results_dir.join(schema::SURFACE_MODELS_FILE);
    if models_path.exists() {
        let df = read_parquet(&models_path)?;
        let origin = models_path.display().to_string();
        let columns = Columns {
            df: &df,
            origin: &origin,
        };
        let plane = columns.strings(schema::PLANE)?;
        let model = columns.strings(schema::MODEL)?;
        let x = columns.floats(schema::X)?;
        let y = columns.floats(schema::Y)?;
        for row in 0..df.height() {
            if let Some(p) = planes.iter_mut().find(|p| p.name == plane[row]) {
                p.models.push(MarkedModel {
                    name: model[row].clone(),
                    x: x[row],
                    y: y[row],
                });
            }
        }
    }
    Ok(Some(planes))
}

/// The results of one training checkpoint (`checkpoints/step-<N>/`).
#[derive(Debug, Clone)]
pub struct CheckpointResults {
    /// Training step.
    pub step: u64,
    /// Its `pairs.parquet`.
    pub pairs: PairsTable,
    /// Its `endpoints.parquet`.
    pub endpoints: EndpointsTable,
}

/// Reads every `checkpoints/step-<N>/` folder of `results_dir` that has both `pairs.parquet` and
/// `endpoints.parquet`, in increasing step order. Empty when there is no checkpoints folder.
///
/// # Errors
/// I/O and table errors naming the file.
pub fn read_checkpoints(results_dir: &Path) -> Result<Vec<CheckpointResults>> {
    let dir = results_dir.join(schema::CHECKPOINTS_DIR);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let io = |source: std::io::Error| ReportError::Io {
        path: dir.clone(),
        source,
    };
    let mut steps = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let step = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(schema::checkpoint_step);
        if let Some(step) = step
            && path.join(schema::PAIRS_FILE).exists()
            && path.join(schema::ENDPOINTS_FILE).exists()
        {
            steps.push((step, path));
        }
    }
    steps.sort();
    steps
        .into_iter()
        .map(|(step, path)| {
            Ok(CheckpointResults {
                step,
                pairs: PairsTable::read(&path.join(schema::PAIRS_FILE))?,
                endpoints: EndpointsTable::read(&path.join(schema::ENDPOINTS_FILE))?,
            })
        })
        .collect()
}

/// One row of `lmc soup`'s table: a member or a soup on one set.
#[derive(Debug, Clone, PartialEq)]
pub struct SoupRow {
    /// Model or soup name.
    pub model: String,
    /// `member`, `basin`, `greedy` or `all`.
    pub kind: String,
    /// Its cluster; `None` for a soup spanning clusters.
    pub cluster: Option<usize>,
    /// The evaluation set's label.
    pub set: String,
    /// The task metric on that set.
    pub metric: f64,
    /// Mean cross-entropy on that set.
    pub loss: f64,
}

impl SoupRow {
    /// Whether this row is a soup (not a member of the population).
    pub fn is_soup(&self) -> bool {
        self.kind != "member"
    }
}

/// Reads `soups/soups.parquet` of `results_dir` (`lmc soup --out <results>/soups`). `Ok(None)`
/// when it is absent.
///
/// # Errors
/// I/O and schema errors naming the file.
pub fn read_soups(results_dir: &Path) -> Result<Option<Vec<SoupRow>>> {
    let path = results_dir.join(schema::SOUPS_DIR).join(schema::SOUPS_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let df = read_parquet(&path)?;
    let origin = path.display().to_string();
    let columns = Columns {
        df: &df,
        origin: &origin,
    };
    let model = columns.strings(schema::MODEL)?;
    let kind = columns.strings(schema::KIND)?;
    let cluster = columns.floats(schema::CLUSTER)?;
    let set = columns.strings(schema::SET)?;
    let metric = columns.floats(schema::METRIC)?;
    let loss = columns.floats(schema::LOSS)?;
    Ok(Some(
        (0..df.height())
            .map(|row| SoupRow {
                model: model[row].clone(),
                kind: kind[row].clone(),
                cluster: (cluster[row] >= 0.0).then_some(cluster[row] as usize),
                set: set[row].clone(),
                metric: metric[row],
                loss: loss[row],
            })
            .collect(),
    ))
}
