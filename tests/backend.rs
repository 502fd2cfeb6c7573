//! `--backend` and `lmc bench` of the `lmc` binary as the tests build it (without the `cuda`
//! feature): CUDA is refused before any work, and the CPU bench prints what PyTorch's baseline
//! prints.

use std::process::{Command, Output};

use lmc_bert::BertConfig;

fn lmc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lmc"))
        .args(args)
        .output()
        .expect("lmc runs")
}

#[test]
fn cuda_is_refused_before_any_work_by_a_binary_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("population");
    let out_arg = out.to_str().unwrap();
    for args in [
        vec![
            "finetune",
            "--task",
            "cola",
            "--seed",
            "0",
            "--backend",
            "cuda",
            "--out",
            out_arg,
        ],
        vec![
            "reproduce",
            "cola",
            "--preset",
            "smoke",
            "--backend",
            "cuda",
            "--out",
            out_arg,
        ],
        vec!["bench", "--backend", "cuda"],
    ] {
        let output = lmc(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(
            stderr.contains("built without CUDA") && stderr.contains("cargo xtask build-gpu"),
            "{args:?}: {stderr}"
        );
        assert!(
            !out.exists(),
            "{args:?} wrote {} before refusing",
            out.display()
        );
    }
}

#[test]
fn bench_json_has_the_fields_of_the_pytorch_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.json");
    let config = BertConfig {
        max_position_embeddings: 16,
        ..BertConfig::sized(200, 16, 1, 2, 32)
    };
    config.save(&config_path).unwrap();
    let output = lmc(&[
        "bench",
        "--config",
        config_path.to_str().unwrap(),
        "--seq-len",
        "8",
        "--batch",
        "4",
        "--steps",
        "1",
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let modes: Vec<&str> = lines.iter().map(|l| l["mode"].as_str().unwrap()).collect();
    assert_eq!(modes, ["inference", "train"]);
    for line in &lines {
        // The keys `cargo xtask bench` and benches/pytorch/bert_throughput.py match on.
        for key in [
            "mode",
            "seq_len",
            "batch",
            "steps",
            "seconds",
            "examples_per_s",
            "framework",
        ] {
            assert!(line.get(key).is_some(), "no `{key}` in {line}");
        }
        assert_eq!(line["seq_len"], 8);
        assert_eq!(line["slices"], 2, "the CPU default: {line}");
        assert!(line["examples_per_s"].as_f64().unwrap() > 0.0);
    }

    let too_long = lmc(&[
        "bench",
        "--config",
        config_path.to_str().unwrap(),
        "--seq-len",
        "17",
    ]);
    let stderr = String::from_utf8_lossy(&too_long.stderr);
    assert!(!too_long.status.success());
    assert!(stderr.contains("1 to 16"), "{stderr}");
}
