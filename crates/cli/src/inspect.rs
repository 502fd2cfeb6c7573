//! `lmc inspect`: load a checkpoint strictly and print its configuration and load report.

use std::path::PathBuf;

use burn::backend::Flex;
use clap::Args;
use lmc_bert::{HeadSpec, load_classifier};

/// Arguments of `lmc inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A Hugging Face BERT checkpoint directory (config.json + model.safetensors or pytorch_model.bin).
    #[arg(long)]
    pub model: PathBuf,
    /// Classes of the head when the checkpoint has none [default: the config's num_labels].
    #[arg(long)]
    pub num_labels: Option<usize>,
    /// Seed of a head (or pooler) the checkpoint lacks.
    #[arg(long, default_value_t = 0)]
    pub head_seed: u64,
}

pub fn run(args: InspectArgs) -> anyhow::Result<()> {
    let head = HeadSpec {
        num_labels: args.num_labels,
        seed: args.head_seed,
    };
    let loaded = load_classifier::<Flex>(&args.model, head, &Default::default())?;
    let c = &loaded.config;
    let parameters: usize = loaded
        .model
        .hf_parameters()
        .iter()
        .map(|(_, t)| t.values.len())
        .sum();
    println!("model: {}", args.model.display());
    println!(
        "architecture: {} layers, hidden {}, {} heads, FFN {}, vocabulary {}, {} labels, {:.1} M parameters",
        c.num_hidden_layers,
        c.hidden_size,
        c.num_attention_heads,
        c.intermediate_size,
        c.vocab_size,
        loaded.model.num_labels(),
        parameters as f64 / 1e6
    );
    let r = &loaded.report;
    println!("weights: {} ({} tensors loaded)", r.source, r.loaded);
    for (what, keys) in [
        ("newly initialised", &r.initialised),
        ("ignored buffers", &r.ignored_buffers),
        ("dropped pre-training heads", &r.dropped_pretraining_heads),
    ] {
        if !keys.is_empty() {
            println!("{what}: {}", keys.join(", "));
        }
    }
    Ok(())
}
