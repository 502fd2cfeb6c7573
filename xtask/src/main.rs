//! Project automation for lmc, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! Plain Rust instead of shell scripts: each command is a function below. xtask links none of
//! lmc's crates: it builds the `lmc` binary ([`build_lmc`], with cargo's progress on the
//! terminal) and runs its subcommands, so a cold first command compiles the heavy dependencies
//! once.

mod agreement;
mod bench;
mod data;
mod gpu;
mod reproduce;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "lmc project automation")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Install the default pretrained model (all-MiniLM-L6-v2) into the lmc cache.
    Setup,
    /// Datasets: `lmc data fetch` (the official files, or links to a local mirror, verified) or
    /// `lmc data locate FILE`, with these arguments.
    Data {
        /// Arguments of `lmc data`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run a benchmark next to its PyTorch baseline, measured in the same run.
    Bench {
        #[command(subcommand)]
        target: bench::BenchTarget,
    },
    /// Fine-tune with lmc and with the PyTorch reference on the same examples and seeds, and
    /// compare their in-domain metrics and training throughput.
    Agreement(agreement::AgreementArgs),
    /// Reproduce the study for one task: builds `lmc` (with CUDA for `--backend cuda`) and runs
    /// `lmc reproduce` with these arguments
    /// (`<task> [--preset smoke|default|gpu|paper] [--backend cpu|cuda] [--out DIR] …`).
    Reproduce {
        /// Arguments of `lmc reproduce`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Build `lmc` with burn-cuda (no CUDA toolkit needed) into a bundle for GPU machines, and
    /// print how to run it there.
    BuildGpu(gpu::BuildGpuArgs),
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Installs all-MiniLM-L6-v2 with `lmc setup` (the CPU build) and returns its directory.
fn setup() -> anyhow::Result<PathBuf> {
    install_model(&build_lmc(&[])?)
}

/// Installs all-MiniLM-L6-v2 with `LMC setup` and returns its directory.
fn install_model(lmc: &Path) -> anyhow::Result<PathBuf> {
    let printed = run_captured(Command::new(lmc).arg("setup"))?;
    let dir = PathBuf::from(printed.trim());
    eprintln!("all-MiniLM-L6-v2: {}", dir.display());
    Ok(dir)
}

/// A command running the cargo that runs xtask, without the package variables `cargo run` gave
/// xtask (`CARGO_PKG_*`, `CARGO_MANIFEST_*`, `CARGO_CRATE_NAME`, `CARGO_BIN_NAME`,
/// `CARGO_PRIMARY_PACKAGE`). Inherited by a nested cargo, they change the fingerprints of
/// dependencies that read them, so `cargo build` and `cargo xtask` rebuilt each other's whole
/// dependency tree (about 13 minutes on 2 cores).
pub fn cargo_command() -> std::process::Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = std::process::Command::new(cargo);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || matches!(
                name.as_ref(),
                "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE"
            )
        {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// Builds the `lmc` binary with the optimised profile and the given cargo `features` of lmc-cli,
/// and returns its path. Cargo's progress goes to the terminal; a cold build takes long enough
/// (about 13 minutes on 2 cores) that this says so first. A build with `cuda` goes to its own
/// target directory (`target/cuda`, or `$CARGO_TARGET_DIR/cuda`): burn-cuda changes the features
/// of dependencies shared with the CPU build (polars among them), and in one directory each build
/// recompiled them for the other, 15–20 minutes each way on 2 cores.
fn build_lmc(features: &[&str]) -> anyhow::Result<PathBuf> {
    let mut target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    if features.contains(&"cuda") {
        target = target.join("cuda");
    }
    let binary = target.join("optimized").join("lmc");
    if !binary.is_file() {
        eprintln!(
            "building lmc{} (optimised profile) into {}: the first build compiles burn, polars \
             and tokenizers, about 13 minutes on 2 cores{}; later builds take seconds",
            if features.is_empty() {
                String::new()
            } else {
                format!(" with {}", features.join(", "))
            },
            target.display(),
            if features.contains(&"cuda") {
                " plus CubeCL's kernels (about 19 minutes in all)"
            } else {
                ""
            },
        );
    }
    let mut command = cargo_command();
    command
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", &target)
        .args(["build", "--profile", "optimized", "-p", "lmc-cli"]);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    let status = command.status().context("cannot run cargo")?;
    if !status.success() {
        anyhow::bail!("building the lmc binary failed ({status})");
    }
    Ok(binary)
}

/// Runs `command` from the workspace root, passing its standard error through, and returns its
/// standard output; a failed start or a non-zero exit is an error naming the command.
fn run_captured(command: &mut std::process::Command) -> anyhow::Result<String> {
    let output = command
        .current_dir(workspace_root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start {command:?}"))?;
    if !output.status.success() {
        anyhow::bail!("{command:?} failed ({})", output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The JSON objects with a `key` field among the lines `command` prints (via [`run_captured`]).
fn json_lines(
    command: &mut std::process::Command,
    key: &str,
) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(run_captured(command)?
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|value| value.get(key).is_some())
        .collect())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Setup => setup().map(|_| ()),
        Task::Bench { target } => bench::run(target),
        Task::Data { args } => data::run(&args),
        Task::Agreement(args) => agreement::run(args),
        Task::Reproduce { args } => reproduce::run(&args),
        Task::BuildGpu(args) => gpu::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::cargo_command;

    #[test]
    fn nested_cargo_drops_the_package_variables_of_cargo_run() {
        // `cargo test` gives this test binary the same package variables `cargo run` gives xtask.
        assert!(std::env::var_os("CARGO_PKG_NAME").is_some());
        let command = cargo_command();
        let removed: Vec<&OsStr> = command
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name)
            .collect();
        for name in ["CARGO_PKG_NAME", "CARGO_PKG_VERSION", "CARGO_MANIFEST_DIR"] {
            assert!(
                removed.contains(&OsStr::new(name)),
                "{name} kept: {removed:?}"
            );
        }
        assert!(
            removed.iter().all(|name| !matches!(
                name.to_str(),
                Some("CARGO" | "CARGO_HOME" | "CARGO_TARGET_DIR")
            )),
            "{removed:?}"
        );
    }
}
