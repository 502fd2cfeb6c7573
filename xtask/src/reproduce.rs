//! `cargo xtask reproduce …`: builds the `lmc` binary (optimised profile) and runs
//! `lmc reproduce …` with the same arguments, from the workspace root.

use std::process::Command;

use anyhow::{Context, bail};

use crate::{build_lmc, workspace_root};

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let lmc = build_lmc()?;
    let status = Command::new(&lmc)
        .arg("reproduce")
        .args(args)
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("cannot start {}", lmc.display()))?;
    if !status.success() {
        bail!("lmc reproduce failed ({status})");
    }
    Ok(())
}
