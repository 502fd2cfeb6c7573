//! `lmc setup`: install the default pretrained model.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

/// Arguments of `lmc setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Cache directory [default: $LMC_CACHE_DIR, else $XDG_CACHE_HOME/lmc, else ~/.cache/lmc].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
}

/// The cache directory from the flag or the environment.
pub fn cache_dir(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    flag.or_else(lmc_bert::pretrained::default_cache_dir)
        .context("no cache directory: pass --cache-dir or set LMC_CACHE_DIR")
}

pub fn run(args: SetupArgs) -> anyhow::Result<()> {
    let cache = cache_dir(args.cache_dir)?;
    let dir = lmc_bert::pretrained::ensure_minilm(&cache)?;
    println!("{}", dir.display());
    Ok(())
}
