//! `lmc finetune` end to end on the smoke preset (a tiny random BERT and real CoLA sentences):
//! a run killed with SIGKILL and restarted with the same command ends with the same weights as an
//! uninterrupted run, and a finished population is skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn lmc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lmc"))
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

fn finetune(out: &Path) -> Command {
    let mut command = lmc();
    command.args([
        "finetune", "--task", "cola", "--preset", "smoke", "--seed", "4",
    ]);
    command.args(["--epochs", "10", "--batch-size", "4", "--resume-every", "5"]);
    command
        .arg("--data-dir")
        .arg(data_dir())
        .arg("--out")
        .arg(out);
    command
}

fn run_dir(out: &Path) -> PathBuf {
    std::fs::read_dir(out)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("seed4-")
        })
        .expect("a run directory")
}

fn model_digest(run: &Path) -> String {
    lmc_bert::pretrained::sha256_file(&run.join("model").join("model.safetensors")).unwrap()
}

fn has_resume_state(out: &Path) -> bool {
    let Ok(runs) = std::fs::read_dir(out) else {
        return false;
    };
    runs.flatten().any(|run| {
        std::fs::read_dir(run.path().join("resume"))
            .map(|states| {
                states
                    .flatten()
                    .any(|s| s.path().join("state.json").is_file())
            })
            .unwrap_or(false)
    })
}

#[test]
fn a_killed_run_restarted_with_the_same_command_ends_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let status = finetune(&whole).stderr(Stdio::null()).status().unwrap();
    assert!(status.success());
    let expected = model_digest(&run_dir(&whole));

    let killed = dir.path().join("killed");
    let mut child = finetune(&killed)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !has_resume_state(&killed) {
        assert!(Instant::now() < deadline, "no resume state after 120 s");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let run = run_dir(&killed);
    assert!(!run.join("done.json").exists(), "killed before the end");

    let output = finetune(&killed).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("resuming at update"),
        "the restart resumed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(model_digest(&run), expected);

    let again = finetune(&killed).output().unwrap();
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("done"),
        "skipped: {}",
        String::from_utf8_lossy(&again.stdout)
    );
}

#[test]
fn bad_seed_lists_and_presets_are_named() {
    let output = lmc()
        .args(["finetune", "--task", "cola", "--seeds", "5..5"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("5..5 is empty"));
    let output = lmc()
        .args(["finetune", "--task", "cola", "--preset", "huge"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown preset `huge`"));
}

#[test]
fn a_missing_model_directory_is_named_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-model");
    let output = lmc()
        .args(["finetune", "--task", "cola", "--seed", "0", "--model"])
        .arg(&missing)
        .arg("--data-dir")
        .arg(data_dir())
        .arg("--out")
        .arg(dir.path().join("runs"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("--model {}: no such directory", missing.display())),
        "{stderr}"
    );
    assert!(
        !stderr.contains("tokenizer of"),
        "the tokenizer is not blamed: {stderr}"
    );
}

#[test]
fn run_records_say_which_lmc_trained_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runs");
    let status = lmc()
        .args([
            "finetune", "--task", "cola", "--preset", "smoke", "--seed", "1",
        ])
        .args(["--max-steps", "2", "--batch-size", "4"])
        .arg("--data-dir")
        .arg(data_dir())
        .arg("--out")
        .arg(&out)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let run = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("seed1-")
        })
        .expect("a run directory");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    let provenance = &record["provenance"];
    assert_eq!(provenance["lmc_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(provenance["backend"], "flex");
    assert!(
        provenance["threads"].as_u64().is_some_and(|n| n >= 1),
        "{record}"
    );
    assert!(
        record["identity"].get("provenance").is_none(),
        "not part of the run's identity"
    );
}
