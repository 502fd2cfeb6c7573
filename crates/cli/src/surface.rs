//! `lmc surface` (work in progress).

use clap::Args;

/// Arguments of `lmc surface`.
#[derive(Debug, Args)]
pub struct SurfaceArgs {}

pub fn run(_args: SurfaceArgs) -> anyhow::Result<()> {
    anyhow::bail!("lmc surface is not implemented yet")
}
