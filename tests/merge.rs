//! `lmc merge` end to end on tiny MNLI classifiers: a mergekit-style YAML in, a checkpoint that
//! lmc loads out (with its record), the merged model evaluated with `--eval`, and clear errors for
//! a bad YAML and for checkpoints that do not fit together.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burn::backend::Flex;
use lmc_bert::{BertConfig, WeightsFormat, random_classifier, read_weights_file, save_classifier};

#[path = "transformers/python.rs"]
mod transformers_reference;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

fn config(width: usize) -> BertConfig {
    BertConfig {
        max_position_embeddings: 128,
        ..BertConfig::sized(30522, width, 2, 2, 64)
    }
}

/// A tiny MNLI classifier of seed `seed` in `dir`, with all-MiniLM-L6-v2's tokenizer.
fn tiny_model(dir: &Path, seed: u64, width: usize) {
    let cache = lmc_bert::pretrained::default_cache_dir().expect("set LMC_CACHE_DIR or HOME");
    let minilm = lmc_bert::pretrained::ensure_minilm(&cache).unwrap();
    let model = random_classifier::<Flex>(&config(width), 3, seed, &Default::default());
    let labels = ["entailment", "neutral", "contradiction"].map(String::from);
    save_classifier(&model, &config(width), &labels, dir).unwrap();
    lmc_bert::copy_tokenizer_files(&minilm, dir).unwrap();
}

fn lmc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lmc"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn tensors(dir: &Path) -> std::collections::BTreeMap<String, lmc_bert::HostTensor> {
    read_weights_file(&dir.join("model.safetensors"), WeightsFormat::Safetensors)
        .unwrap()
        .0
        .into_iter()
        .collect()
}

#[test]
fn a_linear_merge_is_the_weighted_mean_and_is_evaluated_in_place() {
    let dir = tempfile::tempdir().unwrap();
    tiny_model(&dir.path().join("a"), 1, 32);
    tiny_model(&dir.path().join("b"), 2, 32);
    std::fs::write(
        dir.path().join("soup.yaml"),
        "models:\n  - model: a\n    parameters: {weight: 3.0}\n  - model: b\n    parameters: {weight: 1.0}\nmerge_method: linear\n",
    )
    .unwrap();
    let set = data_dir().join("glue/MNLI/dev_mismatched.sample_1k.tsv");
    let output = lmc(
        dir.path(),
        &[
            "merge",
            "soup.yaml",
            "merged",
            "--eval",
            &format!("mnli:{}:16", set.display()),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let merged = dir.path().join("merged");
    let (a, b, m) = (
        tensors(&dir.path().join("a")),
        tensors(&dir.path().join("b")),
        tensors(&merged),
    );
    assert_eq!(m.keys().collect::<Vec<_>>(), a.keys().collect::<Vec<_>>());
    for (name, merged) in &m {
        for (i, value) in merged.values.iter().enumerate() {
            // normalize (mergekit's default): (3a + b) / 4, in f32.
            let expected = (a[name].values[i] * 3.0 + b[name].values[i]) / 4.0;
            assert!(
                (value - expected).abs() <= 1e-6 * (1.0 + expected.abs()),
                "{name}[{i}]"
            );
        }
    }
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(merged.join("merge.json")).unwrap()).unwrap();
    assert!(record.to_string().contains("linear"), "{record}");
    let metrics: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(merged.join("eval").join("metrics.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(metrics[0]["task"], "mnli");
    assert_eq!(metrics[0]["examples"], 16);
    let examples = merged
        .join("eval")
        .join(metrics[0]["examples_file"].as_str().unwrap());
    assert_eq!(lmc_sweep::read_parquet(&examples).unwrap().height(), 16);
    // The merged directory is a model lmc evaluates like any other, with the same numbers.
    let again = lmc(
        dir.path(),
        &[
            "eval",
            "--task",
            "mnli",
            "--model",
            "merged",
            "--set",
            &format!("{}:16", set.display()),
        ],
    );
    let stdout = String::from_utf8_lossy(&again.stdout);
    let loss = metrics[0]["loss"].as_f64().unwrap();
    assert!(
        stdout.contains(&format!("loss {loss:.6}")),
        "{stdout}\nvs {metrics}"
    );
}

#[test]
fn bad_yaml_and_mismatched_checkpoints_are_named_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    tiny_model(&dir.path().join("a"), 1, 32);
    tiny_model(&dir.path().join("wide"), 2, 48);
    std::fs::write(
        dir.path().join("bad.yaml"),
        "models:\n  - model: a\n    parameters: {weight: [1, 2}\n",
    )
    .unwrap();
    let output = lmc(dir.path(), &["merge", "bad.yaml", "out"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.yaml") && stderr.contains("line 3"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists(), "nothing written");

    std::fs::write(
        dir.path().join("mixed.yaml"),
        "models:\n  - model: a\n  - model: wide\nmerge_method: linear\n",
    )
    .unwrap();
    let output = lmc(dir.path(), &["merge", "mixed.yaml", "out"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("wide") && stderr.contains("embeddings"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists(), "nothing written");
}

/// What `lmc merge` writes is a checkpoint transformers loads, and transformers computes on it
/// what `lmc merge --eval` computed: f32 on the CPU on both sides, so within 1e-4.
#[test]
fn a_merged_checkpoint_loads_in_transformers_with_the_logits_lmc_computed() {
    let Some(python) = transformers_reference::python_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Two different bodies: all-MiniLM-L6-v2 with a head, and a fresh random BERT of its shape.
    let config = transformers_reference::minilm_classifier(&dir.path().join("minilm"), 1, 0.2);
    // transformers' initialisation (N(0, 0.02²)), not the head's wider one.
    let config = BertConfig {
        initializer_range: 0.02,
        ..config
    };
    let random = random_classifier::<Flex>(&config, 3, 2, &Default::default());
    let labels = ["entailment", "neutral", "contradiction"].map(String::from);
    save_classifier(&random, &config, &labels, &dir.path().join("random")).unwrap();
    std::fs::write(
        dir.path().join("merge.yaml"),
        "merge_method: linear\nmodels:\n  - {model: minilm, parameters: {weight: 0.7}}\n  - {model: random, parameters: {weight: 0.3}}\n",
    )
    .unwrap();
    let pairs = dir.path().join("pairs.tsv");
    transformers_reference::mnli_pairs(&data_dir(), 48, &pairs);

    let output = lmc(
        dir.path(),
        &["merge", "merge.yaml", "merged", "--eval", "mnli:pairs.tsv"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let merged = dir.path().join("merged");
    let metrics: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(merged.join("eval").join("metrics.json")).unwrap(),
    )
    .unwrap();
    let lmc_logits = transformers_reference::lmc_logits(
        &merged
            .join("eval")
            .join(metrics[0]["examples_file"].as_str().unwrap()),
    );
    let (reference, versions) =
        transformers_reference::transformers_logits(&python, &merged, &pairs, "f32");
    assert_eq!(reference.len(), 48);
    let transformers_reference::Difference { largest, scale, .. } =
        transformers_reference::difference(&lmc_logits, &reference);
    eprintln!(
        "{versions} vs lmc on 48 pairs: largest |Δ logit| {largest:.2e}, largest |logit| {scale:.3}"
    );
    assert!(scale > 0.05, "the logits say nothing: {scale}");
    assert!(largest <= 1e-4, "largest |Δ logit| {largest:e}");
}
