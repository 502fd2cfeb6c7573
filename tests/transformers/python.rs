//! PyTorch and transformers beside lmc, for the tests that compare with them: the Python of
//! `$LMC_TRANSFORMERS_PYTHON`, else of `target/transformers-venv` (`tests/transformers/install.sh`),
//! and the inputs both sides run on.

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::backend::Flex;

/// The Python with torch and transformers, or `None` after saying why the test is skipped; under
/// `LMC_TRANSFORMERS_TESTS=1` (as `.ci/run` sets) a missing one fails the test instead.
pub fn python_or_skip() -> Option<PathBuf> {
    let python = std::env::var_os("LMC_TRANSFORMERS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/transformers-venv/bin/python")
        });
    let works = Command::new(&python)
        .args(["-c", "import torch, transformers"])
        .output()
        .is_ok_and(|output| output.status.success());
    if works {
        return Some(python);
    }
    if std::env::var("LMC_TRANSFORMERS_TESTS").as_deref() == Ok("1") {
        panic!(
            "LMC_TRANSFORMERS_TESTS=1, but {} has no torch and transformers",
            python.display()
        );
    }
    eprintln!(
        "skipped: no Python with torch and transformers (run tests/transformers/install.sh or set \
         LMC_TRANSFORMERS_PYTHON; LMC_TRANSFORMERS_TESTS=1 makes this a failure)"
    );
    None
}

/// all-MiniLM-L6-v2 with a fresh 3-class head of `seed`, drawn from N(0, `head_std`²), in `dir`;
/// returns its configuration.
pub fn minilm_classifier(dir: &Path, seed: u64, head_std: f64) -> lmc_bert::BertConfig {
    let cache = lmc_bert::pretrained::default_cache_dir().expect("set LMC_CACHE_DIR or HOME");
    let minilm = lmc_bert::pretrained::ensure_minilm(&cache).unwrap();
    // The head is drawn with the checkpoint's initializer_range: a copy of the encoder with another.
    let encoder = dir.with_extension("encoder");
    std::fs::create_dir_all(&encoder).unwrap();
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(minilm.join("config.json")).unwrap())
            .unwrap();
    config["initializer_range"] = head_std.into();
    std::fs::write(encoder.join("config.json"), config.to_string()).unwrap();
    std::fs::hard_link(
        minilm.join("model.safetensors"),
        encoder.join("model.safetensors"),
    )
    .or_else(|_| {
        std::fs::copy(
            minilm.join("model.safetensors"),
            encoder.join("model.safetensors"),
        )
        .map(drop)
    })
    .unwrap();
    let head = lmc_bert::HeadSpec {
        num_labels: Some(3),
        seed,
    };
    let loaded = lmc_bert::load_classifier::<Flex>(&encoder, head, &Default::default()).unwrap();
    let labels = ["entailment", "neutral", "contradiction"].map(String::from);
    lmc_bert::save_classifier(&loaded.model, &loaded.config, &labels, dir).unwrap();
    lmc_bert::copy_tokenizer_files(&minilm, dir).unwrap();
    std::fs::remove_dir_all(&encoder).unwrap();
    loaded.config
}

/// The first `count` pairs of MNLI's matched validation set, in its own format, written to `path`.
pub fn mnli_pairs(data_dir: &Path, count: usize, path: &Path) {
    let source =
        std::fs::read_to_string(data_dir.join("glue/MNLI/dev_matched.reconstructed.tsv")).unwrap();
    let rows: String = source
        .lines()
        .take(count + 1)
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(path, rows).unwrap();
}

/// transformers' logits (`BertForSequenceClassification` on the CPU, fp32 or bf16 autocast) of the
/// classifier in `model` on the pairs of `pairs`, and the versions that computed them.
pub fn transformers_logits(
    python: &Path,
    model: &Path,
    pairs: &Path,
    precision: &str,
) -> (Vec<Vec<f64>>, String) {
    let output = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/transformers/logits.py"))
        .arg(model)
        .arg(pairs)
        .arg(precision)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "transformers could not run {}:\n{}",
        model.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let logits = result["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect();
    let versions = format!(
        "transformers {} (torch {})",
        result["transformers"].as_str().unwrap(),
        result["torch"].as_str().unwrap()
    );
    (logits, versions)
}

/// The logits of an `lmc eval` per-example table (`logit_0` …), in the order of the source file.
pub fn lmc_logits(table: &Path) -> Vec<Vec<f64>> {
    let frame = lmc_sweep::read_parquet(table)
        .unwrap()
        .sort(["index"], Default::default())
        .unwrap();
    let columns: Vec<_> = (0..)
        .map_while(|k| frame.column(&format!("logit_{k}")).ok())
        .map(|column| column.f32().unwrap().clone())
        .collect();
    (0..frame.height())
        .map(|row| {
            columns
                .iter()
                .map(|column| f64::from(column.get(row).unwrap()))
                .collect()
        })
        .collect()
}

/// How far one logit table is from another of the same shape.
#[derive(Debug, Clone, Copy)]
pub struct Difference {
    /// The largest |a − b|.
    pub largest: f64,
    /// The mean |a − b|.
    pub mean: f64,
    /// The largest |b|.
    pub scale: f64,
}

/// How far logits `a` are from `b`.
pub fn difference(a: &[Vec<f64>], b: &[Vec<f64>]) -> Difference {
    assert_eq!(a.len(), b.len(), "rows");
    let (mut largest, mut sum, mut scale, mut count) = (0.0_f64, 0.0, 0.0_f64, 0);
    for (row_a, row_b) in a.iter().zip(b) {
        assert_eq!(row_a.len(), row_b.len(), "classes");
        for (x, y) in row_a.iter().zip(row_b) {
            largest = largest.max((x - y).abs());
            sum += (x - y).abs();
            scale = scale.max(y.abs());
            count += 1;
        }
    }
    Difference {
        largest,
        mean: sum / f64::from(count),
        scale,
    }
}
