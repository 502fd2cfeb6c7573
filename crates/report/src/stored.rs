//! The stored inputs of the figures, parsed once: the analysis record (`analysis.json` and
//! `barrier_matrix.csv` from [`lmc_analysis::Analysis::write`]), the loss-surface tables and the
//! per-checkpoint results.

use std::path::Path;

use lmc_analysis::{AnalyzeOptions, BarrierMatrix, EndpointsTable, PairsTable, schema};
use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader};
use serde::Deserialize;

use crate::error::{ReportError, Result};

/// `analysis.json`'s name in an analysis directory.
pub const ANALYSIS_FILE: &str = "analysis.json";
/// The convexity-gap matrix's name in an analysis directory.
pub const BARRIER_MATRIX_FILE: &str = "barrier_matrix.csv";

/// Count, mean, sample standard deviation, minimum and maximum, as `analysis.json` stores them.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct StoredSummary {
    /// Number of values.
    pub count: usize,
    /// Mean (`None` when empty).
    pub mean: Option<f64>,
    /// Sample standard deviation (`None` with fewer than 2 values).
    pub std: Option<f64>,
    /// Minimum.
    pub min: Option<f64>,
    /// Maximum.
    pub max: Option<f64>,
}

/// Per-cluster statistics of `analysis.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredClusterStats {
    /// Cluster label.
    pub cluster: usize,
    /// Number of models.
    pub size: usize,
    /// Diagnostic metric.
    pub diagnostic: StoredSummary,
    /// In-domain metric.
    pub in_domain: StoredSummary,
    /// HANS cells (name, accuracy summary); empty without HANS data.
    pub hans: Vec<(String, StoredSummary)>,
}

/// Barriers within and between clusters.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct StoredBarrierSummary {
    /// Pairs inside one cluster.
    pub within: StoredSummary,
    /// Pairs across clusters.
    pub between: StoredSummary,
}

/// Least-squares line `y = slope·x + intercept`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct StoredFit {
    /// Slope.
    pub slope: f64,
    /// Intercept.
    pub intercept: f64,
}

/// Bootstrap interval of Pearson's r.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct StoredInterval {
    /// Lower bound.
    pub low: Option<f64>,
    /// Upper bound.
    pub high: Option<f64>,
}

/// Centroid distance vs diagnostic metric.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct StoredCorrelation {
    /// Number of models.
    pub n: usize,
    /// Pearson's r.
    pub pearson: Option<f64>,
    /// Spearman's ρ.
    pub spearman: Option<f64>,
    /// Bootstrap interval of r.
    pub pearson_interval: StoredInterval,
    /// Least-squares line.
    pub fit: Option<StoredFit>,
}

/// The clustering part of `analysis.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredClustering {
    /// Cluster of each model.
    pub labels: Vec<usize>,
    /// Number of clusters.
    pub k: usize,
    /// k suggested by the eigengap.
    pub eigengap_k: usize,
    /// Smallest Laplacian eigenvalues.
    pub eigenvalues: Vec<f64>,
}

/// The centroid-distance axis of `analysis.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredAxis {
    /// Each model's position.
    pub distances: Vec<f64>,
}

/// The triangle-inequality check of `analysis.json`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct StoredTriangle {
    /// Triples checked.
    pub triples: u64,
    /// Triples violating the inequality.
    pub violating: u64,
    /// Largest excess.
    pub worst_excess: f64,
}

/// `analysis.json` as [`lmc_analysis::Analysis`] serialises it (the fields the report uses).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AnalysisRecord {
    /// Options of the analysis (sets, clustering).
    pub options: AnalyzeOptions,
    /// Models; every per-model vector follows this order.
    pub models: Vec<String>,
    /// Spectral clustering of the convexity-gap matrix.
    pub clustering: StoredClustering,
    /// Centroid-distance axis.
    pub axis: StoredAxis,
    /// Each model's diagnostic metric.
    pub diagnostic_metric: Vec<f64>,
    /// Each model's in-domain metric.
    pub in_domain_metric: Vec<f64>,
    /// HANS cell names and per-model accuracies.
    pub hans: Option<(Vec<String>, Vec<Vec<f64>>)>,
    /// Centroid distance vs diagnostic metric.
    pub correlation: StoredCorrelation,
    /// Per-cluster statistics.
    pub cluster_stats: Vec<StoredClusterStats>,
    /// Convexity gap within and between clusters.
    pub convexity_gap_summary: StoredBarrierSummary,
    /// Endpoint barrier within and between clusters.
    pub endpoint_barrier_summary: StoredBarrierSummary,
    /// Triangle check of the convexity-gap matrix.
    pub triangle: StoredTriangle,
    /// Permutation test of the clusters' separation (absent from analyses written before it
    /// existed, `null` when it could not run).
    #[serde(default)]
    pub separation: Option<StoredSeparation>,
}

/// The separation test of `analysis.json` ([`lmc_analysis::SeparationTest`]).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct StoredSeparation {
    /// Shuffles and seed.
    pub options: lmc_analysis::SeparationOptions,
    /// Mean between-cluster minus mean within-cluster convexity gap.
    pub statistic: f64,
    /// Median of the statistic over the shuffles.
    pub null_median: f64,
    /// Permutation p-value.
    pub p_value: f64,
}

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

/// A parsed analysis directory.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAnalysis {
    /// `analysis.json`.
    pub record: AnalysisRecord,
    /// `barrier_matrix.csv`: convexity gap of the in-domain loss.
    pub convexity_gap: BarrierMatrix,
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| ReportError::Io {
        path: path.to_owned(),
        source,
    })
}

impl StoredAnalysis {
    /// Reads `analysis.json` and `barrier_matrix.csv` from `dir` and checks that they agree.
    ///
    /// # Errors
    /// I/O and JSON errors naming the file; [`ReportError::Inconsistent`] when the per-model
    /// vectors or the matrix do not match the model list.
    pub fn read(dir: &Path) -> Result<Self> {
        let json_path = dir.join(ANALYSIS_FILE);
        let record: AnalysisRecord =
            serde_json::from_str(&read_text(&json_path)?).map_err(|source| ReportError::Json {
                path: json_path.clone(),
                source,
            })?;
        let n = record.models.len();
        let lengths = [
            ("clustering.labels", record.clustering.labels.len()),
            ("axis.distances", record.axis.distances.len()),
            ("diagnostic_metric", record.diagnostic_metric.len()),
            ("in_domain_metric", record.in_domain_metric.len()),
        ];
        if let Some((field, len)) = lengths.iter().find(|(_, len)| *len != n) {
            return Err(ReportError::Inconsistent {
                origin: json_path.display().to_string(),
                message: format!("`{field}` has {len} entries for {n} models"),
            });
        }
        let convexity_gap = BarrierMatrix::read_csv(&dir.join(BARRIER_MATRIX_FILE))?;
        if convexity_gap.names != record.models {
            return Err(ReportError::Inconsistent {
                origin: dir.join(BARRIER_MATRIX_FILE).display().to_string(),
                message: format!("its models differ from those of {ANALYSIS_FILE}"),
            });
        }
        Ok(Self {
            record,
            convexity_gap,
        })
    }

    /// One row per model, in the analysis's model order.
    pub fn model_rows(&self) -> Vec<ModelRow> {
        let r = &self.record;
        (0..r.models.len())
            .map(|i| ModelRow {
                name: r.models[i].clone(),
                cluster: r.clustering.labels[i],
                centroid_distance: r.axis.distances[i],
                diagnostic_metric: r.diagnostic_metric[i],
                in_domain_metric: r.in_domain_metric[i],
            })
            .collect()
    }
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
