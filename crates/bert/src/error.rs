//! The error type of this crate: every variant names the file or key involved.

use std::path::PathBuf;

/// Everything that can go wrong while configuring, loading, saving or fetching a model.
#[derive(Debug, thiserror::Error)]
pub enum BertError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `config.json` is malformed or asks for something this implementation does not support.
    #[error("{path}: invalid BERT config: {message}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A weights file could not be parsed (truncated, corrupt, unsupported dtype).
    #[error("{path}: cannot read weights: {message}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A checkpoint directory holds no weights file this crate can read.
    #[error("{dir}: no model.safetensors or pytorch_model.bin in this directory")]
    NoWeights {
        /// The checkpoint directory.
        dir: PathBuf,
    },
    /// The checkpoint's keys do not match the model: missing, unexpected or mis-shaped tensors.
    #[error("{source_name}: checkpoint does not match the model ({} problem{}): {}", problems.len(), if problems.len() == 1 { "" } else { "s" }, summarize(problems))]
    Mismatch {
        /// The weights file (or in-memory source) that was loaded.
        source_name: String,
        /// One line per problem, each naming its key.
        problems: Vec<String>,
    },
    /// Fetching the pretrained model failed.
    #[error("cannot install {model}: {message}")]
    Fetch {
        /// The model being installed.
        model: String,
        /// What failed and what to do about it.
        message: String,
    },
}

fn summarize(problems: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut text = problems
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > SHOWN {
        text.push_str(&format!("; … and {} more", problems.len() - SHOWN));
    }
    text
}
