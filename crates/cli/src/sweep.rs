//! `lmc sweep` (work in progress).

use clap::Args;

/// Arguments of `lmc sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {}

pub fn run(_args: SweepArgs) -> anyhow::Result<()> {
    anyhow::bail!("lmc sweep is not implemented yet")
}
