//! `cargo xtask data …`: `lmc data …` (fetch and verify the datasets of
//! `datasets/manifest.toml`, or show where lmc finds a file), run from the workspace root.

use std::process::Command;

use anyhow::{Context, bail};

use crate::{build_lmc, workspace_root};

/// Runs `lmc data ARGS…`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let lmc = build_lmc(&[])?;
    let status = Command::new(&lmc)
        .arg("data")
        .args(args)
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("cannot start {}", lmc.display()))?;
    if !status.success() {
        bail!("lmc data failed ({status})");
    }
    Ok(())
}
