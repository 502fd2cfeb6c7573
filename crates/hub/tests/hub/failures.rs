use std::sync::{Arc, Mutex};

use lmc_hub::{DownloadEvent, Hub, HubConfig, HubError, HubRef, Stage};

use crate::server::{FakeHub, Repo, model_files, sha256_hex};
use crate::{dead_endpoint, downloads, feather, online, read, repo_dir};

fn resolve(
    server: &FakeHub,
    cache: &std::path::Path,
    reference: &str,
) -> Result<std::path::PathBuf, HubError> {
    online(server, cache).resolve(&HubRef::parse(reference).unwrap())
}

#[test]
fn a_sharded_checkpoint_is_refused_with_what_to_do() {
    let mut repo = Repo::new("org/sharded");
    repo.commit(
        "Upload sharded",
        &[
            ("config.json", b"{}", false),
            (
                "model.safetensors.index.json",
                b"{\"weight_map\": {}}",
                false,
            ),
            ("model-00001-of-00002.safetensors", b"shard 1", true),
            ("model-00002-of-00002.safetensors", b"shard 2", true),
        ],
    );
    let server = FakeHub::start(vec![repo]);
    let cache = tempfile::tempdir().unwrap();
    let error = resolve(&server, cache.path(), "hf:org/sharded").unwrap_err();
    assert!(
        matches!(&error, HubError::Sharded { index, .. } if index == "model.safetensors.index.json"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("lmc does not load sharded checkpoints yet")
            && message.contains("save_pretrained"),
        "{message}"
    );
    assert!(downloads(&server.log()).is_empty(), "nothing is downloaded");
}

#[test]
fn a_tensorflow_or_flax_only_repository_is_refused_with_how_to_convert() {
    let mut repo = Repo::new("org/tf-only");
    repo.commit(
        "Upload",
        &[
            ("config.json", b"{}", false),
            ("tf_model.h5", b"h5", true),
            ("flax_model.msgpack", b"msgpack", true),
        ],
    );
    let server = FakeHub::start(vec![repo]);
    let cache = tempfile::tempdir().unwrap();
    let error = resolve(&server, cache.path(), "hf:org/tf-only").unwrap_err();
    assert!(
        matches!(&error, HubError::NotPytorch { found, .. } if found == "tf_model.h5 and flax_model.msgpack"),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("convert them to PyTorch"),
        "{error}"
    );
}

#[test]
fn a_missing_repository_revision_or_file_is_named() {
    let mut no_config = Repo::new("org/no-config");
    no_config.commit("weights only", &[("model.safetensors", b"w", true)]);
    let server = FakeHub::start(vec![feather(0), no_config]);
    let cache = tempfile::tempdir().unwrap();

    let error = resolve(&server, cache.path(), "hf:connectivity/feather_bert_0").unwrap_err();
    assert!(
        matches!(&error, HubError::RepoNotFound { repo, .. } if repo == "connectivity/feather_bert_0"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("hf:connectivity/feather_bert_0: "),
        "{error}"
    );

    let error = resolve(&server, cache.path(), "hf:connectivity/feather_berts_0@v9").unwrap_err();
    assert!(
        matches!(&error, HubError::RevisionNotFound { revision, .. } if revision == "v9"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("has no branch, tag or commit \"v9\""),
        "{error}"
    );

    let error = resolve(&server, cache.path(), "hf:org/no-config").unwrap_err();
    assert!(matches!(error, HubError::NoConfig { .. }), "{error:?}");

    server.hide("vocab.txt");
    let error = resolve(&server, cache.path(), "hf:connectivity/feather_berts_0").unwrap_err();
    assert!(
        matches!(&error, HubError::FileNotFound { file, .. } if file == "vocab.txt"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("has no file vocab.txt at this commit"),
        "{error}"
    );
    assert!(
        !repo_dir(cache.path(), "connectivity/feather_berts_0")
            .join("refs/main")
            .exists(),
        "no ref to an incomplete snapshot"
    );
}

#[test]
fn a_download_cut_short_resumes_where_it_stopped() {
    let server = FakeHub::start(vec![feather(1)]);
    let cache = tempfile::tempdir().unwrap();
    server.cut_short("model.safetensors", 100_000, 1);
    let starts = Arc::new(Mutex::new(Vec::new()));
    let sink = starts.clone();
    let hub = online(&server, cache.path()).with_progress(move |e: &DownloadEvent<'_>| {
        if e.file == "model.safetensors" && e.stage == Stage::Started {
            sink.lock().unwrap().push(e.done);
        }
    });
    let dir = hub
        .resolve(&HubRef::parse("hf:connectivity/feather_berts_1").unwrap())
        .unwrap();
    assert_eq!(read(&dir, "model.safetensors"), model_files(1)[1].1);
    assert_eq!(
        *starts.lock().unwrap(),
        [0, 100_000],
        "progress shows the resumption"
    );
    let log = server.log();
    let weights: Vec<_> = log
        .iter()
        .filter(|l| l.starts_with("storage GET"))
        .collect();
    assert_eq!(weights.len(), 2, "{log:?}");
    assert!(
        weights[1].ends_with(" 100000-"),
        "the second request asks for the rest: {log:?}"
    );
}

#[test]
fn a_download_that_keeps_stopping_fails_and_the_next_run_resumes_it() {
    let server = FakeHub::start(vec![feather(2)]);
    let cache = tempfile::tempdir().unwrap();
    server.cut_short("model.safetensors", 10_000, 5);
    let error = resolve(&server, cache.path(), "hf:connectivity/feather_berts_2").unwrap_err();
    assert!(
        matches!(
            error,
            HubError::Truncated {
                received: 50_000,
                expected: 300_000,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("download of model.safetensors from http://127.0.0.1:")
            && message.contains("stopped at 50000 of 300000 bytes"),
        "{message}"
    );
    let sha = sha256_hex(&model_files(2)[1].1);
    let partial = repo_dir(cache.path(), "connectivity/feather_berts_2")
        .join(format!("blobs/{sha}.incomplete"));
    assert!(
        message.contains(&partial.display().to_string()),
        "{message}"
    );
    assert_eq!(std::fs::metadata(&partial).unwrap().len(), 50_000);

    server.clear_log();
    let dir = resolve(&server, cache.path(), "hf:connectivity/feather_berts_2").unwrap();
    assert_eq!(read(&dir, "model.safetensors"), model_files(2)[1].1);
    assert!(
        server
            .log()
            .iter()
            .any(|l| l.starts_with("storage GET") && l.ends_with(" 50000-")),
        "{:?}",
        server.log()
    );
    assert!(!partial.exists());
}

#[test]
fn a_download_with_the_wrong_sha256_is_deleted_and_named() {
    let server = FakeHub::start(vec![feather(3)]);
    let cache = tempfile::tempdir().unwrap();
    server.corrupt("model.safetensors");
    let error = resolve(&server, cache.path(), "hf:connectivity/feather_berts_3").unwrap_err();
    let expected = sha256_hex(&model_files(3)[1].1);
    let mut corrupt = model_files(3)[1].1.clone();
    corrupt[0] ^= 0xff;
    let actual = sha256_hex(&corrupt);
    assert!(
        matches!(&error, HubError::ChecksumMismatch { file, expected: e, actual: a, .. } if file == "model.safetensors" && *e == expected && *a == actual),
        "{error:?}"
    );
    assert!(
        error.to_string().contains(&format!(
            "has sha256 {actual}, the hub lists {expected}; the download was deleted"
        )),
        "{error}"
    );
    let root = repo_dir(cache.path(), "connectivity/feather_berts_3");
    assert!(
        !root.join(format!("blobs/{expected}")).exists()
            && !root.join(format!("blobs/{expected}.incomplete")).exists()
    );
    assert!(!root.join("refs/main").exists());
}

#[test]
fn an_unreachable_hub_is_one_line_naming_it_and_the_way_out() {
    let endpoint = dead_endpoint();
    let cache = tempfile::tempdir().unwrap();
    let hub = Hub::new(HubConfig {
        endpoint: endpoint.clone(),
        ..HubConfig::new(cache.path())
    });
    let error = hub
        .resolve(&HubRef::parse("hf:connectivity/feather_berts_0").unwrap())
        .unwrap_err();
    assert!(matches!(error, HubError::Unreachable { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("cannot reach the hub at {endpoint}: ")),
        "{message}"
    );
    assert!(
        message.contains("set HF_HUB_OFFLINE=1")
            && message.contains(&cache.path().display().to_string()),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");
}
