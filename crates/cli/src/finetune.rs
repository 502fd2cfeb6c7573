//! `lmc finetune` (work in progress).

use clap::Args;

/// Arguments of `lmc finetune`.
#[derive(Debug, Args)]
pub struct FinetuneArgs {}

pub fn run(_args: FinetuneArgs) -> anyhow::Result<()> {
    anyhow::bail!("lmc finetune is not implemented yet")
}
