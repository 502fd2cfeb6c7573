//! `lmc reproduce --preset smoke`: the whole pipeline (fine-tune a tiny random BERT on real data
//! slices, sweep every pair and the saved checkpoints, analyse, surface, draw, report) end to end;
//! a rerun that only redraws; every figure from one MNLI command; and the refusals of
//! `--preset paper` without bert-base-uncased and of `--from-hub` without the hub.

use std::path::Path;
use std::process::Command;

fn reproduce(out: &Path, extra: &[&str]) -> std::process::Output {
    reproduce_task("cola", out, extra)
}

fn reproduce_task(task: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lmc"))
        .args(["reproduce", task, "--preset", "smoke"])
        .args(extra)
        .arg("--out")
        .arg(out)
        .arg("--data-dir")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets"))
        .output()
        .unwrap()
}

#[test]
fn the_smoke_preset_runs_every_stage_and_a_rerun_only_redraws() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cola-smoke");
    let first = reproduce(&out, &[]);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    for stage in ["[2/6]", "[3/6]", "[4/6]", "[5/6]", "[6/6]"] {
        let header = stderr
            .lines()
            .find(|line| line.starts_with(stage))
            .unwrap_or_else(|| panic!("stage {stage} missing:\n{stderr}"));
        assert!(
            header.contains("into the reproduction") && header.contains(" left"),
            "each stage says the time so far and what is left: {header}"
        );
    }
    // Off a terminal (a log file, Slurm, CI) the log has no colour codes.
    assert!(
        !stderr.contains('\u{1b}'),
        "escape codes in a piped log:\n{stderr}"
    );
    for stage in ["$ lmc finetune", "$ lmc sweep", "$ lmc surface"] {
        let line = stderr
            .lines()
            .find(|line| line.starts_with(stage))
            .unwrap_or_else(|| panic!("no `{stage}` line:\n{stderr}"));
        assert!(
            line.contains("--backend cpu"),
            "the stage runs on the chosen backend: {line}"
        );
    }
    let runs: Vec<_> = std::fs::read_dir(out.join("population"))
        .unwrap()
        .flatten()
        .filter(|entry| entry.path().join("done.json").is_file())
        .collect();
    assert_eq!(runs.len(), 3, "three finished runs");
    for file in [
        "results/pairs.parquet",
        "results/endpoints.parquet",
        "analysis/analysis.json",
        "analysis/barrier_matrix.csv",
        "report/report.html",
        "report/report.md",
        "report/figures/fig3_barrier_heatmap.svg",
        "report/figures/fig1_interpolation_loss.png",
        "reproduce.json",
    ] {
        assert!(out.join(file).is_file(), "{file} was not written");
    }
    let html = std::fs::read_to_string(out.join("report/report.html")).unwrap();
    assert!(html.contains("<svg"), "figures are inline");

    let pairs_before = std::fs::read(out.join("results/pairs.parquet")).unwrap();
    let second = reproduce(&out, &[]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&second.stdout);
    let skipped = stdout
        .lines()
        .filter(|line| line.starts_with("seed") && line.contains(" done "))
        .count();
    assert_eq!(skipped, 3, "finished runs are skipped:\n{stdout}");
    let pairs_after = std::fs::read(out.join("results/pairs.parquet")).unwrap();
    assert!(pairs_before == pairs_after, "stored sweep results are kept");
}

#[test]
fn shared_head_seeds_train_one_group_per_head() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cola-heads");
    let output = reproduce(&out, &["--seeds", "4", "--head-seeds", "2"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let calls: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("$ lmc finetune"))
        .collect();
    assert_eq!(calls.len(), 2, "{stderr}");
    assert!(
        calls[0].contains("--seeds 0,2 --head-seed 0"),
        "{}",
        calls[0]
    );
    assert!(
        calls[1].contains("--seeds 1,3 --head-seed 1"),
        "{}",
        calls[1]
    );
    let mut runs: Vec<String> = std::fs::read_dir(out.join("population"))
        .unwrap()
        .flatten()
        .filter(|entry| entry.path().join("done.json").is_file())
        .map(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .rsplit_once('-')
                .unwrap()
                .0
                .to_owned()
        })
        .collect();
    runs.sort();
    assert_eq!(runs, ["seed0", "seed1", "seed2-head0", "seed3-head1"]);
    let html = std::fs::read_to_string(out.join("report/report.html")).unwrap();
    assert!(
        html.contains("seed s starts from head seed s mod 2"),
        "the report names the design"
    );

    let refused = reproduce(&out, &["--seeds", "4", "--head-seeds", "5"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--head-seeds 5"));
}

/// The figure files of a report, by their `figN_` prefix.
fn figures(report: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(report.join("figures"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".svg"))
        .filter_map(|name| name.split('_').next().map(str::to_owned))
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn every_figure_is_drawn_from_one_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mnli-smoke");
    let output = reproduce_task("mnli", &out, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // 1 curves, 2 surface, 3 heatmap, 4 scatter, 5 cluster table, 6 training dynamics, 7 HANS.
    assert_eq!(
        figures(&out.join("report")),
        ["fig1", "fig2", "fig3", "fig4", "fig5", "fig6", "fig7"],
        "{stderr}"
    );
    let sweep = stderr
        .lines()
        .find(|line| line.starts_with("$ lmc sweep"))
        .unwrap_or_else(|| panic!("no sweep line:\n{stderr}"));
    assert!(sweep.contains("--checkpoints"), "{sweep}");
    assert!(
        out.join("results/checkpoints").read_dir().unwrap().count() >= 1,
        "the intermediate checkpoints were swept"
    );
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("reproduce.json")).unwrap())
            .unwrap();
    assert!(record["seconds"]["surface"].as_f64().is_some(), "{record}");
    assert_eq!(record["provenance"]["backend"], "cpu");
}

#[test]
fn the_paper_preset_without_bert_base_stops_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mnli-paper");
    let output = Command::new(env!("CARGO_BIN_EXE_lmc"))
        .args(["reproduce", "mnli", "--preset", "paper", "--out"])
        .arg(&out)
        .env("LMC_CACHE_DIR", dir.path().join("empty-cache"))
        .env("HF_HUB_CACHE", dir.path().join("empty-hub-cache"))
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bert-base-uncased") && stderr.contains("--model hf:bert-base-uncased"),
        "{stderr}"
    );
    assert!(!out.join("population").exists(), "no work was done");
}

#[test]
fn the_released_population_needs_the_hub_and_says_so_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let released = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_lmc"));
        command
            .args(["reproduce", "mnli", "--from-hub", "--seeds", "2", "--out"])
            .arg(dir.path().join("hub"))
            .arg("--data-dir")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets"))
            .env("HF_HUB_CACHE", dir.path().join("empty-hub-cache"));
        command
    };
    let output = released().env("HF_HUB_OFFLINE", "1").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        error.contains("feather_berts_0") && error.to_lowercase().contains("offline"),
        "{error}"
    );
    // No network: a hub that does not answer (a loopback port nobody listens on).
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    let unreachable = released()
        .env("HF_ENDPOINT", format!("http://127.0.0.1:{closed_port}"))
        .env_remove("HF_HUB_OFFLINE")
        .output()
        .unwrap();
    assert!(!unreachable.status.success());
    let stderr = String::from_utf8_lossy(&unreachable.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert!(
        errors.len() == 1 && errors[0].contains("cannot reach the hub"),
        "{stderr}"
    );
    let refused = Command::new(env!("CARGO_BIN_EXE_lmc"))
        .args(["reproduce", "cola", "--from-hub"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&refused.stderr).contains("mnli and qqp only"));
}
