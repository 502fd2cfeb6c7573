//! Project automation for lmc, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! Plain Rust instead of shell scripts: each command is a function below. `test` is the test
//! command of the README and of `.ci/run`.

mod bench;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
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
    /// Install what the tests need, then run the whole workspace's tests.
    Test {
        /// Extra arguments passed to `cargo test` (after `--`).
        #[arg(last = true)]
        cargo_args: Vec<String>,
    },
    /// Run a benchmark next to its PyTorch baseline, measured in the same run.
    Bench {
        #[command(subcommand)]
        target: bench::BenchTarget,
    },
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

fn setup() -> anyhow::Result<PathBuf> {
    let cache = lmc_bert::pretrained::default_cache_dir()
        .context("no cache directory: set LMC_CACHE_DIR or HOME")?;
    let dir = lmc_bert::pretrained::ensure_minilm(&cache)?;
    eprintln!("all-MiniLM-L6-v2: {}", dir.display());
    Ok(dir)
}

/// Runs a command in the workspace root, failing with its description if it fails.
pub fn run_checked(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("cannot start {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}

fn test(cargo_args: &[String]) -> anyhow::Result<()> {
    setup()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    run_checked(Command::new(cargo).args(["test", "--workspace"]).args(cargo_args))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Setup => setup().map(|_| ()),
        Task::Test { cargo_args } => test(&cargo_args),
        Task::Bench { target } => bench::run(target),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
