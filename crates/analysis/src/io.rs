//! File helpers: atomic writes and Parquet/CSV through polars.
//!
//! Every output is first written to a hidden temporary file in the destination directory, then
//! renamed over the destination, so a reader never sees a half-written table and an interrupted run
//! leaves the previous file intact.

use std::fs::File;
use std::path::Path;

use polars::prelude::{CsvWriter, DataFrame, ParquetReader, ParquetWriter, SerReader, SerWriter};

use crate::error::{AnalysisError, Result};

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> AnalysisError + '_ {
    move |source| AnalysisError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes through `fill` into a temporary file next to `path`, then puts it at `path`
/// ([`lmc_atomic::AtomicFile`]); nothing is left behind if anything fails.
pub(crate) fn write_with<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut lmc_atomic::AtomicFile, &Path) -> Result<()>,
{
    let mut file = lmc_atomic::AtomicFile::create(path).map_err(io_error(path))?;
    fill(&mut file, path)?;
    file.commit().map_err(io_error(path))
}

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    lmc_atomic::write(path, bytes).map_err(io_error(path))
}

fn polars_error(path: &Path) -> impl FnOnce(polars::prelude::PolarsError) -> AnalysisError + '_ {
    move |source| AnalysisError::Polars {
        origin: path.display().to_string(),
        source,
    }
}

/// Writes `df` as Parquet to `path`, atomically.
pub(crate) fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<()> {
    write_with(path, |file, path| {
        ParquetWriter::new(file)
            .finish(df)
            .map(drop)
            .map_err(polars_error(path))
    })
}

/// Writes `df` as CSV (with a header) to `path`, atomically.
pub(crate) fn write_csv(path: &Path, df: &mut DataFrame) -> Result<()> {
    write_with(path, |file, path| {
        CsvWriter::new(file)
            .include_header(true)
            .finish(df)
            .map_err(polars_error(path))
    })
}

/// Reads a Parquet file into a DataFrame.
pub(crate) fn read_parquet(path: &Path) -> Result<DataFrame> {
    let file = File::open(path).map_err(io_error(path))?;
    ParquetReader::new(file)
        .finish()
        .map_err(polars_error(path))
}
