//! `lmc eval` (work in progress).

use clap::Args;

/// Arguments of `lmc eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {}

pub fn run(_args: EvalArgs) -> anyhow::Result<()> {
    anyhow::bail!("lmc eval is not implemented yet")
}
