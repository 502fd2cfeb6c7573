//! What the report says about the run besides the tables: title, task, configuration, data
//! provenance and figure options. Serialisable, so `lmc report --context context.json` can pass it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ReportError, Result};

/// Descriptive context of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportContext {
    /// Heading of the report.
    pub title: String,
    /// Task name (`mnli`, `qqp`, `cola`, case-insensitive); selects the paper's reference numbers.
    pub task: Option<String>,
    /// Name of the configuration preset the run used, if any.
    pub preset: Option<String>,
    /// Configuration of the run as ordered key/value pairs (shown as a table).
    pub configuration: Vec<(String, String)>,
    /// Notes on where the data came from, e.g. "offline MNLI split" or "regenerated HANS".
    pub provenance: Vec<String>,
    /// Figure settings.
    pub figures: FigureOptions,
}

impl Default for ReportContext {
    fn default() -> Self {
        Self {
            title: "Linear mode connectivity report".to_owned(),
            task: None,
            preset: None,
            configuration: Vec::new(),
            provenance: Vec::new(),
            figures: FigureOptions::default(),
        }
    }
}

impl ReportContext {
    /// Reads a context from a JSON file; absent fields take their defaults.
    ///
    /// # Errors
    /// [`ReportError::Io`] or [`ReportError::Json`] naming the file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| ReportError::Io {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| ReportError::Json {
            path: path.to_owned(),
            source,
        })
    }
}

/// Settings of the figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FigureOptions {
    /// Models per group in the interpolation-curve figure: the best (generalising) and the worst
    /// (heuristic) this many by the diagnostic metric (the paper: 5). Capped at half the models.
    pub group_size: usize,
    /// Evaluation set of the loss-surface figures (default: the analysis's in-domain set).
    pub surface_set: Option<String>,
    /// Also write a PNG of every figure (the SVG is always written).
    pub png: bool,
}

impl Default for FigureOptions {
    fn default() -> Self {
        Self {
            group_size: 5,
            surface_set: None,
            png: true,
        }
    }
}

/// Where the report reads from.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportInputs {
    /// The sweep's results directory (`pairs.parquet`, `endpoints.parquet`, optional
    /// `hans_cells.parquet`, `surface.parquet`, `surface_models.parquet` and `checkpoints/`).
    pub results_dir: PathBuf,
    /// The directory [`lmc_analysis::Analysis::write`] filled (read with
    /// [`lmc_analysis::Analysis::read`]).
    pub analysis_dir: PathBuf,
    /// Descriptive context.
    pub context: ReportContext,
}
