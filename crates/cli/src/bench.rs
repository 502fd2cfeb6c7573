//! `lmc bench`: inference and training-update throughput of a BERT shape on this machine's CPU
//! or GPU, from the binary alone (GPU machines often have no Rust toolchain to run
//! `cargo xtask bench`).

use std::path::PathBuf;

use anyhow::Context;
use burn::backend::Autodiff;
use burn::tensor::backend::Backend;
use clap::{Args, ValueEnum};
use lmc_bert::{BertConfig, default_batch_slices};
use lmc_train::{ThroughputCase, ThroughputMeasurement, ThroughputMode, measure};

use crate::backend::{BackendChoice, OnBackend, run_on};

/// Arguments of `lmc bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Model shape: `minilm-l6` (all-MiniLM-L6-v2), `bert-base` (bert-base-uncased) or the path
    /// of a config.json. Weights are random.
    #[arg(long, default_value = "minilm-l6")]
    pub config: String,
    /// What to time.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Mode::Inference, Mode::Train])]
    pub mode: Vec<Mode>,
    /// Tokens per example (full length, no padding); several separated by commas.
    #[arg(long, value_delimiter = ',', default_values_t = [128, 32])]
    pub seq_len: Vec<usize>,
    /// Examples per batch.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Timed steps per case, after one warm-up step (inference runs twice as many).
    #[arg(long, default_value_t = 3)]
    pub steps: usize,
    /// Row slices per batch, on parallel threads [default: what lmc uses on the backend: 2 on
    /// the CPU, 1 on CUDA].
    #[arg(long)]
    pub slices: Option<usize>,
    /// Print one JSON object per case instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Compute backend (`cuda` needs a binary built with `cargo xtask build-gpu`).
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
}

/// A case's mode on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Forward passes without dropout or gradients.
    Inference,
    /// Gradients with dropout, then an AdamW update.
    Train,
}

fn config(text: &str) -> anyhow::Result<BertConfig> {
    match text {
        "minilm-l6" => Ok(BertConfig::minilm_l6()),
        "bert-base" => Ok(BertConfig::bert_base_uncased()),
        path => BertConfig::load(&PathBuf::from(path))
            .with_context(|| format!("--config {path}: not minilm-l6, bert-base or a config.json")),
    }
}

/// Times every case in turn; cases without a slice count get the backend's default.
struct Measure<'a> {
    config: &'a BertConfig,
    cases: Vec<ThroughputCase>,
    slices: Option<usize>,
}

impl OnBackend for Measure<'_> {
    type Output = Vec<(ThroughputMeasurement, String)>;

    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<Self::Output> {
        let slices = self
            .slices
            .unwrap_or_else(|| default_batch_slices::<B>(&device));
        let mut measured = Vec::new();
        for case in self.cases {
            let case = ThroughputCase { slices, ..case };
            let measurement = measure::<Autodiff<B>>(self.config, case, &device)?;
            measured.push((measurement, B::name(&device)));
        }
        Ok(measured)
    }
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let config = config(&args.config)?;
    let mut cases = Vec::new();
    for &seq_len in &args.seq_len {
        for &mode in &args.mode {
            let (mode, steps) = match mode {
                Mode::Inference => (ThroughputMode::Inference, 2 * args.steps),
                Mode::Train => (ThroughputMode::Train, args.steps),
            };
            cases.push(ThroughputCase {
                mode,
                batch: args.batch,
                seq_len,
                steps,
                slices: 1, // the backend's default or --slices, set by `Measure::run`
            });
        }
    }
    let job = Measure {
        config: &config,
        cases,
        slices: args.slices,
    };
    let measured = run_on(args.backend, job)?;
    if !args.json {
        println!(
            "{} ({} layers, width {}), batch {}",
            args.config, config.num_hidden_layers, config.hidden_size, args.batch
        );
        println!("| backend | mode | seq len | slices | steps | seconds | examples/s |");
        println!("|---|---|---|---|---|---|---|");
    }
    for (m, backend) in measured {
        if args.json {
            let mut line = serde_json::to_value(m)?;
            line["framework"] = format!("lmc (burn 0.21, {backend})").into();
            line["model"] = args.config.clone().into();
            println!("{line}");
        } else {
            let mode = match m.case.mode {
                ThroughputMode::Inference => "inference",
                ThroughputMode::Train => "train",
            };
            println!(
                "| {backend} | {mode} | {} | {} | {} | {:.2} | {:.1} |",
                m.case.seq_len, m.case.slices, m.case.steps, m.seconds, m.examples_per_s
            );
        }
    }
    Ok(())
}
