//! Errors of fine-tuning runs.

use std::path::PathBuf;

/// What can go wrong in a fine-tuning run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The model could not be loaded, built or saved.
    #[error(transparent)]
    Model(#[from] lmc_bert::BertError),
    /// The training data could not be located, read or tokenized.
    #[error(transparent)]
    Data(#[from] lmc_data::DataError),
    /// The loss became NaN or infinite; the run stops and keeps its last checkpoint.
    #[error(
        "run {run}: the training loss is {loss} at update {step}; the run is stopped (its last resume checkpoint is kept)"
    )]
    NonFiniteLoss {
        /// The run directory's name.
        run: String,
        /// The update whose loss it was, counted from 1 as `metrics.csv` counts them.
        step: u64,
        /// The loss value.
        loss: f64,
    },
    /// A stored file of a run (state, optimizer, recipe) is malformed or does not match the run.
    #[error("{path}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A setting is out of range or inconsistent.
    #[error("invalid training settings: {0}")]
    InvalidRecipe(String),
    /// The device failed to finish queued work.
    #[error("the device failed: {0}")]
    Device(String),
}

/// Result of this crate's operations.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;

impl TrainError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> TrainError {
        let path = path.into();
        move |source| TrainError::Io { path, source }
    }
}
