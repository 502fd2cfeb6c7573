//! `lmc data`: the datasets of `datasets/manifest.toml`, fetched into the data directory (from a
//! local mirror or the official sources) and verified, and where lmc finds a file.

use std::path::PathBuf;

use clap::Subcommand;
use lmc_data::{DataDirSearch, FetchOptions, FetchSelection, Manifest, SearchEnv, fetch};

/// `lmc data …`.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Fetch (or link from a mirror) and verify the datasets.
    Fetch {
        /// A local directory laid out like a data directory (e.g. ../shared/datasets)
        /// [default: $LMC_DATA_MIRROR].
        #[arg(long)]
        from: Option<PathBuf>,
        /// Destination [default: $LMC_DATA_DIR, else the lmc cache's datasets/].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Which files: `offline` (the copies a mirror such as ../shared/datasets has),
        /// `official`, or `all`.
        #[arg(long, default_value = "all")]
        set: String,
    },
    /// Print the data directory that holds FILE (a path relative to a data directory, e.g.
    /// `glue/CoLA/in_domain_train.tsv`), searched as every command searches.
    Locate {
        /// The file, relative to a data directory.
        file: String,
        /// Data directory to search first [default: $LMC_DATA_DIR, the fetch cache, then
        /// ../shared/datasets].
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

pub fn run(command: DataCommand) -> anyhow::Result<()> {
    match command {
        DataCommand::Fetch {
            from,
            data_dir,
            set,
        } => fetch_data(from, data_dir, set),
        DataCommand::Locate { file, data_dir } => {
            let search = DataDirSearch::new(data_dir.as_deref(), &SearchEnv::from_process());
            println!("{}", search.locate(&file)?.data_dir.root.display());
            Ok(())
        }
    }
}

fn fetch_data(from: Option<PathBuf>, data_dir: Option<PathBuf>, set: String) -> anyhow::Result<()> {
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
