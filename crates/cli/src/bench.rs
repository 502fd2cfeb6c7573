//! `lmc bench`: inference and training-update throughput of a BERT shape on this machine's CPU
//! or GPU, from the binary alone (GPU machines often have no Rust toolchain to run
//! `cargo xtask bench`).

use std::path::PathBuf;

use anyhow::Context;
use burn::backend::Autodiff;
use burn::tensor::backend::Backend;
use clap::{Args, ValueEnum};
use lmc_bert::{BertConfig, default_batch_slices};
use lmc_train::{
    LerpMeasurement, ThroughputCase, ThroughputMeasurement, ThroughputMode, measure, measure_lerp,
};

use crate::backend::{ComputeOptions, OnBackend, run_on};

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
    /// Examples per batch (`--batch` is the older spelling).
    #[arg(long, alias = "batch", default_value_t = 32)]
    pub batch_size: usize,
    /// Timed steps per case, after one warm-up step (inference runs twice as many).
    #[arg(long, default_value_t = 3)]
    pub steps: usize,
    /// Row slices per batch, on parallel threads [default: what lmc uses on the backend: 2 on
    /// the CPU, 1 on CUDA].
    #[arg(long, alias = "slices")]
    pub batch_slices: Option<usize>,
    /// Print one JSON object per case instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub compute: ComputeOptions,
}

/// A case's mode on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Forward passes without dropout or gradients.
    Inference,
    /// Gradients with dropout, then an AdamW update.
    Train,
    /// On-device interpolation of two models, as the sweep forms θ(α) (bandwidth in GB/s; not
    /// a default mode).
    Lerp,
}

fn config(text: &str) -> anyhow::Result<BertConfig> {
    match text {
        "minilm-l6" => Ok(BertConfig::minilm_l6()),
        "bert-base" => Ok(BertConfig::bert_base_uncased()),
        path => BertConfig::load(&PathBuf::from(path))
            .with_context(|| format!("--config {path}: not minilm-l6, bert-base or a config.json")),
    }
}

/// Times every case in turn, then the interpolation when asked; cases without a slice count
/// get the backend's default.
struct Measure<'a> {
    config: &'a BertConfig,
    cases: Vec<ThroughputCase>,
    slices: Option<usize>,
    lerp_steps: Option<usize>,
}

/// What [`Measure`] timed, with the backend's name.
struct Measured {
    backend: String,
    cases: Vec<ThroughputMeasurement>,
    lerp: Option<LerpMeasurement>,
}

impl OnBackend for Measure<'_> {
    type Output = Measured;

    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<Measured> {
        let slices = self
            .slices
            .unwrap_or_else(|| default_batch_slices::<B>(&device));
        let mut cases = Vec::new();
        for case in self.cases {
            let case = ThroughputCase { slices, ..case };
            cases.push(measure::<Autodiff<B>>(self.config, case, &device)?);
        }
        let lerp = match self.lerp_steps {
            Some(steps) => Some(measure_lerp::<B>(self.config, steps, &device)?),
            None => None,
        };
        Ok(Measured {
            backend: B::name(&device),
            cases,
            lerp,
        })
    }
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let config = config(&args.config)?;
    let precision = args.compute.precision()?;
    let mut cases = Vec::new();
    for &seq_len in &args.seq_len {
        for &mode in &args.mode {
            let (mode, steps) = match mode {
                Mode::Inference => (ThroughputMode::Inference, 2 * args.steps),
                Mode::Train => (ThroughputMode::Train, args.steps),
                Mode::Lerp => continue,
            };
            cases.push(ThroughputCase {
                mode,
                batch: args.batch_size,
                seq_len,
                steps,
                slices: 1, // the backend's default or --slices, set by `Measure::run`
                precision,
            });
        }
    }
    let job = Measure {
        config: &config,
        cases,
        slices: args.batch_slices,
        lerp_steps: args.mode.contains(&Mode::Lerp).then_some(args.steps),
    };
    let Measured {
        backend,
        cases,
        lerp,
    } = run_on(args.compute, job)?;
    let framework = format!("lmc (burn 0.21, {backend})");
    if args.json {
        for m in cases {
            let mut line = serde_json::to_value(m)?;
            line["framework"] = framework.clone().into();
            line["model"] = args.config.clone().into();
            println!("{line}");
        }
        if let Some(lerp) = lerp {
            let mut line = serde_json::to_value(lerp)?;
            line["mode"] = "lerp".into();
            line["framework"] = framework.into();
            line["model"] = args.config.clone().into();
            println!("{line}");
        }
        return Ok(());
    }
    println!(
        "{} ({} layers, width {}), batch {}, {precision} matrix products",
        args.config, config.num_hidden_layers, config.hidden_size, args.batch_size
    );
    if !cases.is_empty() {
        println!("| backend | mode | seq len | slices | steps | seconds | examples/s |");
        println!("|---|---|---|---|---|---|---|");
    }
    for m in cases {
        let mode = match m.case.mode {
            ThroughputMode::Inference => "inference",
            ThroughputMode::Train => "train",
        };
        println!(
            "| {backend} | {mode} | {} | {} | {} | {:.2} | {:.1} |",
            m.case.seq_len, m.case.slices, m.case.steps, m.seconds, m.examples_per_s
        );
    }
    if let Some(lerp) = lerp {
        println!(
            "interpolation of two models ({} parameters each): {} in {:.3} s, {:.1} GB/s",
            lerp.parameters,
            lerp.steps,
            lerp.seconds,
            lerp.bytes_per_s / 1e9
        );
    }
    Ok(())
}
