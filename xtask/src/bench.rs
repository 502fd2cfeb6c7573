//! `cargo xtask bench …`: lmc's benchmarks beside their PyTorch baselines, in one run, so that
//! the ratio compares the two on the same machine under the same load.

use std::path::Path;
use std::process::Command;

use anyhow::Context;
use clap::Subcommand;

use crate::{json_lines, workspace_root};

#[derive(Debug, Subcommand)]
pub enum BenchTarget {
    /// MiniLM-L6 inference and training-step throughput: lmc (burn, flex) vs PyTorch + transformers,
    /// on random full-length batches and on real CoLA and MNLI batches.
    Model {
        /// Timed steps per case (inference runs twice as many).
        #[arg(long, default_value_t = 3)]
        steps: usize,
        /// CPU threads for both frameworks.
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
}

pub fn run(target: BenchTarget) -> anyhow::Result<()> {
    match target {
        BenchTarget::Model { steps, threads } => model(steps, threads),
    }
}

fn model(steps: usize, threads: usize) -> anyhow::Result<()> {
    let minilm = crate::setup()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let steps_arg = steps.to_string();
    let threads_arg = threads.to_string();
    let out = workspace_root().join("target").join("bench");
    std::fs::create_dir_all(&out)?;
    eprintln!("measuring lmc …");
    let lmc = json_lines(
        Command::new(cargo).args([
            "bench",
            "--profile",
            "optimized",
            "-p",
            "lmc-train",
            "--bench",
            "throughput",
            "--",
            "--steps",
            &steps_arg,
            "--threads",
            &threads_arg,
            "--batches-out",
        ])
        .arg(&out),
        "examples_per_s",
    )?;
    eprintln!("measuring PyTorch …");
    let script = Path::new("benches")
        .join("pytorch")
        .join("bert_throughput.py");
    let torch = json_lines(
        Command::new("python3")
            .arg(&script)
            .args(["--steps", &steps_arg, "--threads", &threads_arg, "--config"])
            .arg(minilm.join("config.json"))
            .arg("--batches")
            .args(["cola", "mnli"].map(|task| out.join(format!("{task}-batches.json")))),
        "examples_per_s",
    )
    .context("the PyTorch baseline needs `python3 -m pip install torch transformers`")?;

    println!("| mode | batches | lmc ex/s | PyTorch ex/s | lmc / PyTorch |");
    println!("|---|---|---|---|---|");
    let mut rows = Vec::new();
    for ours in &lmc {
        let theirs = torch
            .iter()
            .find(|t| {
                t["mode"] == ours["mode"] && t["seq_len"] == ours["seq_len"] && t["task"] == ours["task"]
            })
            .with_context(|| format!("PyTorch printed no result for {ours}"))?;
        let batches = match ours["task"].as_str() {
            Some(task) => {
                let padded = ours["padded_tokens"].as_f64().unwrap_or(0.0);
                let examples = ours["examples"].as_f64().unwrap_or(1.0);
                format!(
                    "{} real {task} batches, {:.0} padded tokens per example",
                    ours["batches"],
                    padded / examples
                )
            }
            None => format!("random, {} tokens", ours["seq_len"]),
        };
        let (a, b) = (
            ours["examples_per_s"].as_f64().unwrap_or(0.0),
            theirs["examples_per_s"].as_f64().unwrap_or(0.0),
        );
        println!(
            "| {} | {batches} | {a:.1} | {b:.1} | {:.2} |",
            ours["mode"].as_str().unwrap_or("?"),
            a / b
        );
        rows.push(serde_json::json!({"lmc": ours, "pytorch": theirs, "ratio": a / b}));
    }
    std::fs::write(
        out.join("model-throughput.json"),
        serde_json::to_string_pretty(&rows)?,
    )?;
    eprintln!("written: target/bench/model-throughput.json");
    Ok(())
}
