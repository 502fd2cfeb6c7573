//! Models named `hf:ORG/NAME` wherever lmc takes a model: two tiny MNLI classifiers served by a
//! loopback hub (lmc-hub's test server, 127.0.0.1 only) are swept through a `{0..1}` range,
//! downloaded into a Hugging Face cache in the test's folder, and then evaluated offline from it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burn::backend::Flex;
use lmc_bert::{BertConfig, random_classifier, save_classifier};

#[allow(dead_code)]
#[path = "../crates/hub/tests/hub/server.rs"]
mod server;

use server::{FakeHub, Repo};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

/// `test/tiny_<seed>`: one commit holding a tiny MNLI classifier with MiniLM's tokenizer.
fn tiny_repo(seed: u64, scratch: &Path) -> Repo {
    let cache = lmc_bert::pretrained::default_cache_dir().expect("set LMC_CACHE_DIR or HOME");
    let minilm = lmc_bert::pretrained::ensure_minilm(&cache).unwrap();
    let config = BertConfig {
        max_position_embeddings: 128,
        ..BertConfig::sized(30522, 32, 2, 2, 64)
    };
    let dir = scratch.join(format!("tiny_{seed}"));
    let model = random_classifier::<Flex>(&config, 3, seed, &Default::default());
    let labels = ["entailment", "neutral", "contradiction"].map(String::from);
    save_classifier(&model, &config, &labels, &dir).unwrap();
    lmc_bert::copy_tokenizer_files(&minilm, &dir).unwrap();
    let files: Vec<(String, Vec<u8>, bool)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let lfs = name.ends_with(".safetensors");
            (name, std::fs::read(&path).unwrap(), lfs)
        })
        .collect();
    let slices: Vec<(&str, &[u8], bool)> = files
        .iter()
        .map(|(n, c, l)| (n.as_str(), c.as_slice(), *l))
        .collect();
    let mut repo = Repo::new(&format!("test/tiny_{seed}"));
    repo.commit("Upload BertForSequenceClassification", &slices);
    repo
}

fn lmc(args: &[&str], endpoint: &str, hub_cache: &Path, offline: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lmc"));
    command
        .args(args)
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HUB_CACHE", hub_cache)
        .env_remove("HF_TOKEN")
        .env_remove("HF_HOME");
    if offline {
        command.env("HF_HUB_OFFLINE", "1");
    } else {
        command.env_remove("HF_HUB_OFFLINE");
    }
    command.output().unwrap()
}

#[test]
fn a_sweep_takes_hub_models_by_name_and_eval_finds_them_offline() {
    let dir = tempfile::tempdir().unwrap();
    let hub = FakeHub::start(vec![tiny_repo(1, dir.path()), tiny_repo(2, dir.path())]);
    let hub_cache = dir.path().join("hf-cache");
    let results = dir.path().join("results");
    let data = data_dir().display().to_string();
    let sweep = lmc(
        &[
            "sweep",
            "--task",
            "mnli",
            "--models",
            "hf:test/tiny_{1..2}",
            "--alphas",
            "3",
            "--sets",
            "id:8,ood:8",
            "--full-sets",
            "none",
            "--data-dir",
            &data,
            "--out",
            &results.display().to_string(),
        ],
        &hub.endpoint(),
        &hub_cache,
        false,
    );
    assert!(
        sweep.status.success(),
        "{}",
        String::from_utf8_lossy(&sweep.stderr)
    );
    let (pairs, _) = lmc_sweep::read_pairs(&results.join("pairs.parquet")).unwrap();
    let mut names: Vec<String> = pairs
        .iter()
        .flat_map(|r| [r.model_a.clone(), r.model_b.clone()])
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names, ["tiny_1", "tiny_2"]);
    assert!(
        hub_cache
            .join("models--test--tiny_1")
            .join("snapshots")
            .is_dir(),
        "downloaded into the standard hub cache layout"
    );

    // Offline, the same reference is found in the cache, and the endpoint is never asked.
    hub.clear_log();
    let set = data_dir().join("glue/MNLI/dev_mismatched.sample_1k.tsv");
    let eval = lmc(
        &[
            "eval",
            "--task",
            "mnli",
            "--model",
            "hf:test/tiny_1",
            "--set",
            &format!("{}:8", set.display()),
        ],
        &hub.endpoint(),
        &hub_cache,
        true,
    );
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    assert!(
        String::from_utf8_lossy(&eval.stdout).contains("tiny_1 on"),
        "the model keeps its hub name"
    );
    assert!(hub.log().is_empty(), "offline: {:?}", hub.log());

    let missing = lmc(
        &[
            "eval",
            "--task",
            "mnli",
            "--model",
            "hf:test/tiny_9",
            "--set",
            &format!("{}:8", set.display()),
        ],
        &hub.endpoint(),
        &hub_cache,
        false,
    );
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("test/tiny_9"));
}
