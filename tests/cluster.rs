//! `lmc cluster` on the scikit-learn reference matrices reproduces scikit-learn's partitions.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn reference_cases() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/analysis/reference_cases.json");
    serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

fn write_matrix_csv(path: &Path, barrier: &[Vec<f64>]) {
    let names: Vec<String> = (0..barrier.len()).map(|i| format!("seed_{i}")).collect();
    let mut text = format!(",{}\n", names.join(","));
    for (name, row) in names.iter().zip(barrier) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:e}")).collect();
        text.push_str(&format!("{name},{}\n", cells.join(",")));
    }
    std::fs::write(path, text).unwrap();
}

/// Maps each label to the index of its first occurrence, so partitions compare up to renaming.
fn canonical(labels: &[usize]) -> Vec<usize> {
    let mut names = BTreeMap::new();
    labels
        .iter()
        .map(|l| {
            let next = names.len();
            *names.entry(*l).or_insert(next)
        })
        .collect()
}

#[test]
fn partitions_equal_scikit_learn_up_to_renaming() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for case_set in reference_cases().as_array().unwrap() {
        for case in case_set["clustering"].as_array().unwrap() {
            let barrier: Vec<Vec<f64>> = serde_json::from_value(case["barrier"].clone()).unwrap();
            let expected: Vec<usize> =
                serde_json::from_value(case["sklearn_labels"].clone()).unwrap();
            let (input, output) = (dir.path().join("d.csv"), dir.path().join("labels.csv"));
            write_matrix_csv(&input, &barrier);
            let run = Command::new(env!("CARGO_BIN_EXE_lmc"))
                .args([
                    "cluster",
                    "--k",
                    &case["k"].to_string(),
                    "--delta",
                    &case["delta"].to_string(),
                    "--barriers",
                ])
                .arg(&input)
                .arg("--out")
                .arg(&output)
                .output()
                .unwrap();
            assert!(
                run.status.success(),
                "{}",
                String::from_utf8_lossy(&run.stderr)
            );
            let text = std::fs::read_to_string(&output).unwrap();
            let mut lines = text.lines();
            assert_eq!(lines.next(), Some("model,cluster"));
            let labels: Vec<usize> = lines
                .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
                .collect();
            assert_eq!(
                canonical(&labels),
                canonical(&expected),
                "case with n = {}",
                case["n"]
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} cases");
}

#[test]
fn asymmetric_matrix_fails_with_one_line_naming_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("d.csv");
    std::fs::write(&input, ",a,b\na,0,0.5\nb,0.7,0\n").unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_lmc"))
        .args(["cluster", "--barriers"])
        .arg(&input)
        .arg("--out")
        .arg(dir.path().join("labels.csv"))
        .output()
        .unwrap();
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.trim_end().lines().count() == 1,
        "{stderr}"
    );
    assert!(
        stderr.contains("not symmetric: (row `a`, column `b`) = 0.5"),
        "{stderr}"
    );
    assert!(!dir.path().join("labels.csv").exists());
}
