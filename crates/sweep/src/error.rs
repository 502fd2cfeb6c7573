//! The crate's error type: every variant names the file, model or set involved.

use std::path::PathBuf;

use thiserror::Error;

/// Errors of evaluation, sweeps and surfaces.
#[derive(Debug, Error)]
pub enum SweepError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A Parquet table could not be built, written or read.
    #[error("{origin}: {source}")]
    Table {
        /// The table (a path or a description).
        origin: String,
        /// The underlying error.
        source: polars::prelude::PolarsError,
    },
    /// A table lacks a column or holds a value of the wrong type.
    #[error("{origin}: {message}")]
    Schema {
        /// The table.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// A model could not be loaded, built or run.
    #[error("model `{model}`: {source}")]
    Model {
        /// The model's name or directory.
        model: String,
        /// The underlying error.
        source: lmc_bert::BertError,
    },
    /// A data set could not be located, loaded, tokenized or scored.
    #[error("{context}: {source}")]
    Data {
        /// The set (or file) involved.
        context: String,
        /// The underlying error.
        source: lmc_data::DataError,
    },
    /// Combining parameter sets failed (surfaces).
    #[error("{context}: {source}")]
    Interp {
        /// What was being combined.
        context: String,
        /// The underlying error.
        source: lmc_interp::InterpError,
    },
    /// A JSON file (`sweep.json`, `run.json`) could not be read or written.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// Invalid input: a bad option, model list, set name or results directory.
    #[error("{0}")]
    Invalid(String),
    /// Another process holds the lock of this shard of a results directory.
    #[error(
        "{}: pid {} on {}{} has been running this shard of the sweep since {} (Unix time); \
         wait for it, or remove the file if that process is gone",
        path.display(),
        holder.pid,
        holder.host,
        holder.slurm_task.as_ref().map_or(String::new(), |task| format!(" (Slurm task {task})")),
        holder.since
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// Who holds it.
        holder: crate::lock::Holder,
    },
}

/// The crate's result type.
pub type Result<T, E = SweepError> = std::result::Result<T, E>;

impl SweepError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> SweepError {
        let path = path.into();
        move |source| SweepError::Io { path, source }
    }

    pub(crate) fn data(
        context: impl Into<String>,
    ) -> impl FnOnce(lmc_data::DataError) -> SweepError {
        let context = context.into();
        move |source| SweepError::Data { context, source }
    }

    pub(crate) fn model(
        model: impl Into<String>,
    ) -> impl FnOnce(lmc_bert::BertError) -> SweepError {
        let model = model.into();
        move |source| SweepError::Model { model, source }
    }

    pub(crate) fn table(
        origin: impl Into<String>,
    ) -> impl FnOnce(polars::prelude::PolarsError) -> SweepError {
        let origin = origin.into();
        move |source| SweepError::Table { origin, source }
    }
}
