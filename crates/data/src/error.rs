//! The crate's error type.
//!
//! Every error that comes from a data file names the file, and where a row is at fault, the line
//! as an editor shows it (1-based, the header being line 1).

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// Everything that can go wrong while locating, reading, tokenizing or scoring data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// An operating-system error on a file or directory.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A data file with no bytes at all.
    #[error("{}: the file is empty", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },

    /// The header lacks a column the format needs.
    #[error("{}:1: missing column `{column}` (the header has: {header})", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column that was looked for.
        column: String,
        /// The header's columns, tab-separated names joined by spaces.
        header: String,
    },

    /// A row whose number of tab-separated fields differs from the header's (or the format's).
    #[error("{}:{line}: expected {expected} tab-separated fields, found {found}", path.display())]
    ColumnCount {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Fields the header (or the headerless format) has.
        expected: usize,
        /// Fields on this line.
        found: usize,
    },

    /// A label that is not one of the format's labels.
    #[error(
        "{}:{line}: unknown label `{label}` in column `{column}` (expected one of: {expected})",
        path.display()
    )]
    UnknownLabel {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The label column's name.
        column: String,
        /// The value found.
        label: String,
        /// The accepted values, comma-separated.
        expected: String,
    },

    /// A value outside the set a (non-label) column allows, such as a HANS heuristic.
    #[error(
        "{}:{line}: unknown value `{value}` in column `{column}` (expected one of: {expected})",
        path.display()
    )]
    UnknownValue {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The column's name.
        column: String,
        /// The value found.
        value: String,
        /// The accepted values, comma-separated.
        expected: String,
    },

    /// A line that is not valid UTF-8.
    #[error("{}:{line}: invalid UTF-8 at byte {byte_offset} of the line", path.display())]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Offset of the first invalid byte within the line.
        byte_offset: usize,
    },

    /// A sentence column that is empty where the task needs text.
    #[error("{}:{line}: column `{column}` is empty, but a sentence is required", path.display())]
    EmptyText {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The empty column's name.
        column: String,
    },

    /// A file that parsed but yielded no examples.
    #[error(
        "{}: no examples ({rows} data rows, {skipped} skipped for lack of a gold label)",
        path.display()
    )]
    NoRows {
        /// The file.
        path: PathBuf,
        /// Data rows read (after the header).
        rows: usize,
        /// Rows skipped because their gold label was `-`.
        skipped: usize,
    },

    /// A filter or selection that left no examples.
    #[error("{dataset}: the selection `{selection}` matched no examples")]
    EmptySelection {
        /// Name of the dataset filtered.
        dataset: String,
        /// Description of the selection.
        selection: String,
    },

    /// A required data file was found in none of the searched directories.
    #[error(
        "data file `{relative}` not found; searched:\n{}\nplace the file at `<data dir>/{relative}` \
         (see datasets/README.md), or pass the data directory explicitly",
        format_searched(searched)
    )]
    NotFound {
        /// The path that was expected, relative to a data directory (alternatives joined by ` or `).
        relative: String,
        /// Every directory searched, in order, with the reason it was searched.
        searched: Vec<(PathBuf, String)>,
    },

    /// A tokenizer file that could not be read or used.
    #[error("tokenizer {}: {message}", path.display())]
    Tokenizer {
        /// The tokenizer file (or model directory).
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// A manifest that could not be parsed or is inconsistent.
    #[error("manifest {source_name}: {message}")]
    Manifest {
        /// Where the manifest came from (a path, or `built-in`).
        source_name: String,
        /// What went wrong.
        message: String,
    },

    /// A dataset fetch that left files missing or unverified.
    #[error("{} data file(s) could not be fetched:\n{}", failures.len(), format_failures(failures))]
    FetchIncomplete {
        /// One entry per file that is still missing or wrong.
        failures: Vec<crate::fetch::FetchFailure>,
    },

    /// Inputs to a metric or batching function that do not fit together.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

fn format_searched(searched: &[(PathBuf, String)]) -> String {
    if searched.is_empty() {
        return "  (no candidate directories: set LMC_DATA_DIR or pass --data-dir)".to_owned();
    }
    searched
        .iter()
        .map(|(dir, why)| format!("  {} ({why})", dir.display()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn format_failures(failures: &[crate::fetch::FetchFailure]) -> String {
    failures
        .iter()
        .map(|failure| format!("  {failure}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}
