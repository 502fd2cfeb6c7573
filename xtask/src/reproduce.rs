//! `cargo xtask reproduce …`: builds the `lmc` binary (optimised profile; with the `cuda` feature
//! when the arguments ask for `--backend cuda`) and runs `lmc reproduce …` with the same
//! arguments, from the workspace root.

use std::process::Command;

use anyhow::{Context, bail};

use crate::{build_lmc, workspace_root};

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let lmc = build_lmc(if wants_cuda(args) { &["cuda"] } else { &[] })?;
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

/// Whether `lmc reproduce` arguments choose the CUDA backend (`--backend cuda` or `--backend=cuda`).
fn wants_cuda(args: &[String]) -> bool {
    args.iter().any(|arg| arg == "--backend=cuda")
        || args
            .windows(2)
            .any(|pair| pair[0] == "--backend" && pair[1] == "cuda")
}

#[cfg(test)]
mod tests {
    use super::wants_cuda;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn only_the_cuda_backend_builds_with_cuda() {
        assert!(wants_cuda(&args("cola --backend cuda --preset gpu")));
        assert!(wants_cuda(&args("cola --preset gpu --backend=cuda")));
        assert!(!wants_cuda(&args("mnli")));
        assert!(!wants_cuda(&args("mnli --backend cpu --out cuda")));
    }
}
