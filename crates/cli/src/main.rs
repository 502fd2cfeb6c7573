//! `lmc`: linear mode connectivity of fine-tuned BERT models, from the command line.
//!
//! Each subcommand is a thin layer over one library crate; see ARCHITECTURE.md for the map.
//! Errors are printed as one line (`error: …`, with their causes) and exit with status 1.

mod assign;
mod backend;
mod bench;
mod cluster;
mod data;
mod eval;
mod finetune;
mod inspect;
mod interpolate;
mod merge;
mod models;
mod paths;
mod progress;
mod report;
mod reproduce;
mod setup;
mod slurm;
mod soup;
mod surface;
mod sweep;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: burn-flex allocates and frees tensors of many
/// megabytes on every layer, and glibc returns them to the kernel, so each one came back as
/// freshly zeroed pages (measured: MiniLM-L6 inference, batch 32 × 128, 15.5 → 22.1 ex/s).
/// See [`keep_freed_memory`] for the rest of that fix.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_t` (libmimalloc-sys =0.1.49 names no
/// constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells mimalloc never to return freed memory to the kernel. Its default (after 10 ms) made the
/// kernel zero the pages again on every layer of every batch; without it a MiniLM-L6 training
/// update on MNLI takes 1.3× less time (and the process keeps its peak memory).
fn keep_freed_memory() {
    // SAFETY: sets a plain integer option of the allocator; no memory is touched.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

/// Linear mode connectivity of fine-tuned BERT models.
#[derive(Debug, Parser)]
#[command(name = "lmc", version, about, long_about = None)]
pub(crate) struct Cli {
    /// Log more (-v: debug, -vv: trace). `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Install the default pretrained model (all-MiniLM-L6-v2) into the cache.
    Setup(setup::SetupArgs),
    /// Datasets: fetch and verify them, or show where lmc finds a file.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Load a Hugging Face BERT checkpoint and report what was loaded.
    Inspect(inspect::InspectArgs),
    /// Interpolate two checkpoints: write (1 − α)·A + α·B, tensor by tensor.
    Interpolate(interpolate::InterpolateArgs),
    /// Merge N checkpoints as a mergekit YAML says (linear, slerp, task_arithmetic, ties), then
    /// optionally evaluate the result.
    Merge(merge::MergeArgs),
    /// Weight-space soups of a population's basins (each basin, greedy, all), evaluated beside
    /// their members.
    Soup(soup::SoupArgs),
    /// Place new models in the basins of an analysed population, and predict their
    /// out-of-domain behaviour from the basin's.
    Assign(assign::AssignArgs),
    /// Spectral clustering of a barrier matrix (CSV), as scikit-learn's SpectralClustering.
    Cluster(cluster::ClusterArgs),
    /// Barrier matrices, basins and their link to generalisation, from a sweep's result tables.
    Analyze(cluster::AnalyzeArgs),
    /// Fine-tune a population of models (one run per seed), resumably.
    Finetune(finetune::FinetuneCommand),
    /// Evaluate one model on a named set or a data file; one row per example.
    Eval(eval::EvalArgs),
    /// Evaluate loss and metric along the straight path between every pair of models.
    Sweep(sweep::SweepArgs),
    /// Evaluate a 2-D grid on the plane through three models.
    Surface(surface::SurfaceArgs),
    /// Draw the figures and write report.html / report.md from stored result tables.
    Report(report::ReportArgs),
    /// The whole study for one task: fine-tune, sweep, analyse, draw, report (resumable).
    Reproduce(reproduce::ReproduceArgs),
    /// Inference and training throughput of a BERT shape on this machine (CPU or GPU).
    Bench(bench::BenchArgs),
    /// Slurm jobs that chain commands: the whole study as one submission (`lmc finetune slurm`
    /// and `lmc sweep slurm` write one job each).
    #[command(subcommand)]
    Slurm(slurm::SlurmCommand),
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

/// Runs one subcommand.
pub(crate) fn run_command(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Setup(args) => setup::run(args),
        Command::Data(command) => data::run(command),
        Command::Inspect(args) => inspect::run(args),
        Command::Interpolate(args) => interpolate::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Soup(args) => soup::run(args),
        Command::Assign(args) => assign::run(args),
        Command::Cluster(args) => cluster::run_cluster(args),
        Command::Analyze(args) => cluster::run_analyze(args),
        Command::Finetune(command) => finetune::run_command(command),
        Command::Eval(args) => eval::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Surface(args) => surface::run(args),
        Command::Report(args) => report::run(args),
        Command::Reproduce(args) => reproduce::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Slurm(command) => slurm::run(command),
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match run_command(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

/// `error` and its causes on one line, `: `-separated, leaving out a cause whose text the line
/// already holds (many messages embed their source, which `{:#}` would print twice).
fn one_line(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::one_line;

    /// An error whose message embeds its source, as the crates' `"{path}: {source}"` errors do.
    #[derive(Debug)]
    struct Embedding {
        path: String,
        source: std::io::Error,
    }

    impl std::fmt::Display for Embedding {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}: {}", self.path, self.source)
        }
    }

    impl std::error::Error for Embedding {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.source)
        }
    }

    #[test]
    fn causes_already_in_the_message_are_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let error = anyhow::Error::new(Embedding {
            path: "m/config.json".into(),
            source: io,
        })
        .context("model `m`");
        assert_eq!(one_line(&error), "model `m`: m/config.json: No such file");
    }

    #[test]
    fn causes_not_in_the_message_are_appended() {
        let error = anyhow::anyhow!("disk full").context("cannot write runs/x");
        assert_eq!(one_line(&error), "cannot write runs/x: disk full");
    }
}
