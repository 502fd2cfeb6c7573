//! `lmc surface`: the grid on the plane through three models; its corners are the models.

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::backend::Flex;
use lmc_analysis::schema;
use lmc_bert::{BertConfig, random_classifier, save_classifier};
use lmc_sweep::read_parquet;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

fn floats(df: &lmc_sweep::polars::prelude::DataFrame, name: &str) -> Vec<f64> {
    let column = df.column(name).unwrap();
    column.f64().unwrap().into_no_null_iter().collect()
}

#[test]
fn surface_grid_passes_through_the_three_models() {
    let dir = tempfile::tempdir().unwrap();
    let cache = lmc_bert::pretrained::default_cache_dir().expect("set LMC_CACHE_DIR or HOME");
    let minilm = lmc_bert::pretrained::ensure_minilm(&cache).unwrap();
    let config = BertConfig {
        max_position_embeddings: 128,
        ..BertConfig::sized(30522, 32, 2, 2, 64)
    };
    let labels = ["entailment", "neutral", "contradiction"].map(String::from);
    for (name, seed) in [("a", 1), ("b", 2), ("c", 3)] {
        let model = random_classifier::<Flex>(&config, 3, seed, &Default::default());
        save_classifier(&model, &config, &labels, &dir.path().join(name)).unwrap();
        lmc_bert::copy_tokenizer_files(&minilm, &dir.path().join(name)).unwrap();
    }
    let out = dir.path().join("results");
    let run = |extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_lmc"))
            .args(["surface", "--task", "mnli", "--sets", "id:16"])
            .args(extra)
            .arg("--anchor")
            .arg(dir.path().join("a"))
            .arg("--bases")
            .arg(dir.path().join("b"))
            .arg(dir.path().join("c"))
            .arg("--data-dir")
            .arg(data_dir())
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    run(&["--grid", "0:1:3"]);
    let grid = read_parquet(&out.join(schema::SURFACE_FILE)).unwrap();
    assert_eq!(grid.height(), 9);
    let marks = read_parquet(&out.join(schema::SURFACE_MODELS_FILE)).unwrap();
    assert_eq!(marks.height(), 3);
    let (mx, my) = (floats(&marks, schema::X), floats(&marks, schema::Y));
    assert_eq!((mx[0], my[0]), (0.0, 0.0), "the anchor is the origin");

    // Grid point (0, 0) is the anchor and (1, 0) the model on the v1 axis: compare with lmc eval.
    let eval = |model: &str| -> f64 {
        let output = Command::new(env!("CARGO_BIN_EXE_lmc"))
            .args(["eval", "--task", "mnli", "--set", "id:16", "--model"])
            .arg(dir.path().join(model))
            .arg("--data-dir")
            .arg(data_dir())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let line = stdout.lines().find(|l| l.starts_with("loss ")).unwrap();
        line["loss ".len()..].parse().unwrap()
    };
    let (x, y, loss) = (
        floats(&grid, schema::X),
        floats(&grid, schema::Y),
        floats(&grid, schema::LOSS),
    );
    let at = |px: f64, py: f64| {
        (0..x.len())
            .find(|&k| (x[k] - px).abs() < 1e-6 * (1.0 + px.abs()) && (y[k] - py).abs() < 1e-6)
            .map(|k| loss[k])
            .unwrap()
    };
    assert!((at(0.0, 0.0) - eval("a")).abs() < 1e-4);
    let on_axis = if my[1] == 0.0 {
        ("b", mx[1])
    } else {
        ("c", mx[2])
    };
    assert!((at(on_axis.1, 0.0) - eval(on_axis.0)).abs() < 1e-4);
    assert!(
        floats(&grid, schema::ECE)
            .iter()
            .all(|e| (0.0..=1.0).contains(e))
    );

    // A second plane is added to the same tables; a rerun of the first resumes from its parts.
    run(&["--plane", "second", "--grid", "0:1:2"]);
    assert_eq!(
        read_parquet(&out.join(schema::SURFACE_FILE))
            .unwrap()
            .height(),
        9 + 4
    );
    let again = run(&["--grid", "0:1:3"]);
    assert!(
        again.contains("0 grid rows evaluated, 3 already stored"),
        "{again}"
    );
}
