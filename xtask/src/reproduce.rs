//! `cargo xtask reproduce …`: builds the `lmc` binary (optimised profile) and runs
//! `lmc reproduce …` with the same arguments, from the workspace root.

use std::process::Command;

use anyhow::{Context, bail};

use crate::workspace_root;

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "--quiet", "--profile", "optimized", "-p", "lmc-cli"])
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("building the lmc binary failed ({status})");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let lmc = target.join("optimized").join("lmc");
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
