//! `cargo xtask data fetch`: put every dataset of `datasets/manifest.toml` into the data directory,
//! from a local mirror (`--from`, `$LMC_DATA_MIRROR`) or the official sources.

use std::path::PathBuf;

use clap::Subcommand;
use lmc_data::{FetchOptions, FetchSelection, Manifest, SearchEnv, fetch};

#[derive(Debug, Subcommand)]
pub enum DataTask {
    /// Fetch (or link from a mirror) and verify the datasets.
    Fetch {
        /// A local directory laid out like a data directory (e.g. ../shared/datasets) [default: $LMC_DATA_MIRROR].
        #[arg(long)]
        from: Option<PathBuf>,
        /// Destination [default: $LMC_DATA_DIR, else the lmc cache's datasets/].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Which files: `offline` (the copies a mirror such as ../shared/datasets has), `official`, or `all`.
        #[arg(long, default_value = "all")]
        set: String,
    },
}

pub fn run(task: DataTask) -> anyhow::Result<()> {
    let DataTask::Fetch {
        from,
        data_dir,
        set,
    } = task;
    let selection = if set == "all" {
        FetchSelection::All
    } else {
        FetchSelection::Set(set)
    };
    let manifest = Manifest::builtin()?;
    let options = FetchOptions::resolve(
        data_dir.as_deref(),
        from.as_deref(),
        selection,
        &SearchEnv::from_process(),
    )?;
    let report = fetch(&manifest, &options)?;
    for (path, outcome) in &report.entries {
        match outcome {
            Ok(outcome) => eprintln!("ok    {path}: {outcome:?}"),
            Err(failure) => eprintln!("FAIL  {path}: {failure}"),
        }
    }
    let fetched = report.into_result()?;
    println!(
        "{} files ready in {}",
        fetched.len(),
        options.data_dir.display()
    );
    Ok(())
}
