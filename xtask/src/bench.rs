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
        /// Timed steps per case (inference runs twice as many). Fewer than 8 leave a length-32
        /// case under two seconds of timing, too short on this drifting machine.
        #[arg(long, default_value_t = 8)]
        steps: usize,
        /// CPU threads for both frameworks.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Rounds of both frameworks, alternating which goes first; each case's ratio is the
        /// median of its per-round ratios.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
}

pub fn run(target: BenchTarget) -> anyhow::Result<()> {
    match target {
        BenchTarget::Model {
            steps,
            threads,
            rounds,
        } => model(steps, threads, rounds),
    }
}

/// The cases of one framework's run, one JSON object each.
type Cases = Vec<serde_json::Value>;

fn model(steps: usize, threads: usize, rounds: usize) -> anyhow::Result<()> {
    anyhow::ensure!(rounds > 0, "--rounds must be at least 1");
    let minilm = crate::setup()?;
    let out = workspace_root().join("target").join("bench");
    std::fs::create_dir_all(&out)?;
    let mut lmc_rounds = Vec::new();
    let mut torch_rounds = Vec::new();
    for round in 0..rounds {
        // lmc goes first in the first round: it writes the real batches PyTorch times.
        if round % 2 == 0 {
            eprintln!("round {}/{rounds}: lmc, then PyTorch …", round + 1);
            lmc_rounds.push(measure_lmc(steps, threads, &out)?);
            torch_rounds.push(measure_pytorch(steps, threads, &minilm, &out)?);
        } else {
            eprintln!("round {}/{rounds}: PyTorch, then lmc …", round + 1);
            torch_rounds.push(measure_pytorch(steps, threads, &minilm, &out)?);
            lmc_rounds.push(measure_lmc(steps, threads, &out)?);
        }
    }

    println!(
        "| mode | batches | lmc ex/s (median) | PyTorch ex/s (median) | lmc / PyTorch, median (range) of {rounds} rounds |"
    );
    println!("|---|---|---|---|---|");
    let mut rows = Vec::new();
    for case in &lmc_rounds[0] {
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for (lmc, torch) in lmc_rounds.iter().zip(&torch_rounds) {
            ours.push(
                same_case(lmc, case)
                    .context("an lmc round lacks a case")?
                    .clone(),
            );
            theirs.push(
                same_case(torch, case)
                    .with_context(|| format!("PyTorch printed no result for {case}"))?
                    .clone(),
            );
        }
        let speed = |cases: &[serde_json::Value]| -> Vec<f64> {
            cases
                .iter()
                .map(|c| c["examples_per_s"].as_f64().unwrap_or(0.0))
                .collect()
        };
        let (lmc_speed, torch_speed) = (speed(&ours), speed(&theirs));
        let ratios: Vec<f64> = lmc_speed
            .iter()
            .zip(&torch_speed)
            .map(|(a, b)| a / b)
            .collect();
        let ratio = median(&ratios);
        let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!(
            "| {} | {} | {:.1} | {:.1} | {ratio:.2} ({low:.2}–{high:.2}) |",
            case["mode"].as_str().unwrap_or("?"),
            batches_label(case),
            median(&lmc_speed),
            median(&torch_speed),
        );
        rows.push(serde_json::json!({
            "lmc": ours,
            "pytorch": theirs,
            "ratios": ratios,
            "ratio": ratio,
        }));
    }
    std::fs::write(
        out.join("model-throughput.json"),
        serde_json::to_string_pretty(&rows)?,
    )?;
    eprintln!("written: target/bench/model-throughput.json");
    Ok(())
}

/// One run of lmc's throughput bench; it also writes the real batches into `out`.
fn measure_lmc(steps: usize, threads: usize, out: &Path) -> anyhow::Result<Cases> {
    json_lines(
        crate::cargo_command()
            .args([
                "bench",
                "--profile",
                "optimized",
                "-p",
                "lmc-train",
                "--bench",
                "throughput",
                "--",
            ])
            .args([
                "--steps",
                &steps.to_string(),
                "--threads",
                &threads.to_string(),
            ])
            .arg("--batches-out")
            .arg(out),
        "examples_per_s",
    )
}

/// One run of the PyTorch baseline on the same cases and the batches lmc wrote into `out`.
fn measure_pytorch(
    steps: usize,
    threads: usize,
    minilm: &Path,
    out: &Path,
) -> anyhow::Result<Cases> {
    let script = Path::new("benches")
        .join("pytorch")
        .join("bert_throughput.py");
    json_lines(
        Command::new("python3")
            .arg(&script)
            .args([
                "--steps",
                &steps.to_string(),
                "--threads",
                &threads.to_string(),
            ])
            .arg("--config")
            .arg(minilm.join("config.json"))
            .arg("--batches")
            .args(["cola", "mnli"].map(|task| out.join(format!("{task}-batches.json")))),
        "examples_per_s",
    )
    .context("the PyTorch baseline needs `python3 -m pip install torch transformers`")
}

/// The case of `cases` with the mode, sequence length and task of `case`.
fn same_case<'a>(
    cases: &'a [serde_json::Value],
    case: &serde_json::Value,
) -> Option<&'a serde_json::Value> {
    cases.iter().find(|c| {
        c["mode"] == case["mode"] && c["seq_len"] == case["seq_len"] && c["task"] == case["task"]
    })
}

/// How a case's batches read in the table.
fn batches_label(case: &serde_json::Value) -> String {
    match case["task"].as_str() {
        Some(task) => {
            let padded = case["padded_tokens"].as_f64().unwrap_or(0.0);
            let examples = case["examples"].as_f64().unwrap_or(1.0);
            format!(
                "{} real {task} batches, {:.0} padded tokens per example",
                case["batches"],
                padded / examples
            )
        }
        None => format!("random, {} tokens", case["seq_len"]),
    }
}

/// Median of a non-empty list (mean of the middle two for an even length).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[0.9]), 0.9);
    }

    #[test]
    fn cases_match_on_mode_length_and_task() {
        let cases = vec![
            serde_json::json!({"mode": "train", "seq_len": 32, "examples_per_s": 1.0}),
            serde_json::json!({"mode": "train", "seq_len": 96, "task": "mnli", "examples_per_s": 2.0}),
        ];
        let real = serde_json::json!({"mode": "train", "seq_len": 96, "task": "mnli"});
        assert_eq!(same_case(&cases, &real).unwrap()["examples_per_s"], 2.0);
        let inference = serde_json::json!({"mode": "inference", "seq_len": 32});
        assert!(same_case(&cases, &inference).is_none());
    }
}
