//! The crate's error type: every variant names the file, figure or table at fault.

use std::path::PathBuf;

/// Errors of reading stored results, drawing figures and writing the report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A JSON file could not be parsed or written.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The serde error.
        source: serde_json::Error,
    },
    /// A result table could not be read or is inconsistent (the message names the file).
    #[error(transparent)]
    Table(#[from] lmc_analysis::AnalysisError),
    /// A table read through polars has a missing column, a wrong type or a null.
    #[error("{origin}: {message}")]
    Schema {
        /// The file or table.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// The analysis does not match the results it is drawn with.
    #[error("{origin}: {message}")]
    Inconsistent {
        /// The file or table.
        origin: String,
        /// What does not match.
        message: String,
    },
    /// plotters failed while drawing a figure.
    #[error("figure `{figure}`: {message}")]
    Draw {
        /// The figure's file stem.
        figure: String,
        /// plotters' message.
        message: String,
    },
}

/// Result with [`ReportError`].
pub type Result<T, E = ReportError> = std::result::Result<T, E>;
