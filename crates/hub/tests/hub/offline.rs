use std::path::Path;

use lmc_hub::{Hub, HubConfig, HubError, HubRef};

use crate::server::{FakeHub, Repo, as_slices, model_files};
use crate::{downloads, feather, offline, online, qqp, read, repo_dir};

#[test]
fn offline_without_the_model_fails_naming_repository_revision_and_cache() {
    let cache = tempfile::tempdir().unwrap();
    let error = offline(cache.path())
        .resolve(&HubRef::parse("hf:connectivity/feather_berts_0").unwrap())
        .unwrap_err();
    let folder = repo_dir(cache.path(), "connectivity/feather_berts_0");
    assert_eq!(
        error.to_string(),
        format!(
            "hf:connectivity/feather_berts_0@main is not in the hub cache: nothing of connectivity/feather_berts_0 is cached ({}); HF_HUB_OFFLINE is set, so it cannot be downloaded: unset it, or download the model where the hub is reachable",
            folder.display()
        )
    );

    // A cached repository, but not that revision.
    let server = FakeHub::start(vec![feather(0)]);
    online(&server, cache.path())
        .resolve(&HubRef::parse("hf:connectivity/feather_berts_0").unwrap())
        .unwrap();
    let error = offline(cache.path())
        .resolve(&HubRef::parse("hf:connectivity/feather_berts_0@v2").unwrap())
        .unwrap_err();
    assert!(
        matches!(error, HubError::NotCached { offline: true, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(
            "hf:connectivity/feather_berts_0@v2 is not in the hub cache: no refs/v2 ("
        ),
        "{message}"
    );
    assert!(
        message.contains(&folder.join("refs/v2").display().to_string()),
        "{message}"
    );
}

#[test]
fn offline_finds_what_an_online_resolve_cached() {
    let server = FakeHub::start(vec![feather(1), qqp(1)]);
    let cache = tempfile::tempdir().unwrap();
    let hub = online(&server, cache.path());
    let references = [
        "hf:connectivity/feather_berts_1",
        "hf:connectivity/bert_ft_qqp-1@step=20000",
    ];
    let online_dirs: Vec<_> = references
        .iter()
        .map(|r| hub.resolve(&HubRef::parse(r).unwrap()).unwrap())
        .collect();
    drop(server);
    let offline = offline(cache.path());
    for (reference, dir) in references.iter().zip(&online_dirs) {
        assert_eq!(
            &offline.resolve(&HubRef::parse(reference).unwrap()).unwrap(),
            dir,
            "{reference}"
        );
    }
    // A full or abbreviated commit needs no ref.
    let commit = online_dirs[0].file_name().unwrap().to_str().unwrap();
    for revision in [commit, &commit[..8]] {
        let reference =
            HubRef::parse(&format!("hf:connectivity/feather_berts_1@{revision}")).unwrap();
        assert_eq!(
            offline.resolve(&reference).unwrap(),
            online_dirs[0],
            "{revision}"
        );
    }
}

/// Writes a snapshot as huggingface_hub does: content in `blobs/<etag>`, relative symlinks in
/// `snapshots/<commit>/`, the commit in `refs/main` (no newline).
fn write_hf_snapshot(cache: &Path, repo: &Repo, files: &[&str]) {
    let commit = repo.commits.last().unwrap();
    let root = repo_dir(cache, &repo.id);
    std::fs::create_dir_all(root.join("blobs")).unwrap();
    std::fs::create_dir_all(root.join("refs")).unwrap();
    std::fs::create_dir_all(root.join("snapshots").join(&commit.id)).unwrap();
    std::fs::write(root.join("refs/main"), &commit.id).unwrap();
    for name in files {
        let file = &commit.files[*name];
        std::fs::write(root.join("blobs").join(file.blob()), &file.content).unwrap();
        let link = root.join("snapshots").join(&commit.id).join(name);
        std::os::unix::fs::symlink(Path::new("../../blobs").join(file.blob()), link).unwrap();
    }
}

#[test]
fn a_cache_laid_out_by_huggingface_hub_is_used_as_it_is() {
    let repo = feather(2);
    let cache = tempfile::tempdir().unwrap();
    // What `AutoModel.from_pretrained` leaves: config and weights, no tokenizer.
    write_hf_snapshot(cache.path(), &repo, &["config.json", "model.safetensors"]);
    let dir = offline(cache.path())
        .resolve(&HubRef::parse("hf:connectivity/feather_berts_2").unwrap())
        .unwrap();
    assert_eq!(
        dir,
        repo_dir(cache.path(), &repo.id)
            .join("snapshots")
            .join(&repo.commits[0].id)
    );
    assert_eq!(read(&dir, "model.safetensors"), model_files(2)[1].1);

    // Online, lmc adds only what that snapshot lacks (the tokenizer files).
    let server = FakeHub::start(vec![repo]);
    assert_eq!(
        online(&server, cache.path())
            .resolve(&HubRef::parse("hf:connectivity/feather_berts_2").unwrap())
            .unwrap(),
        dir
    );
    let fetched: Vec<_> = downloads(&server.log())
        .iter()
        .map(|l| l.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(fetched, ["vocab.txt", "tokenizer_config.json"]);
    assert_eq!(read(&dir, "vocab.txt"), model_files(2)[2].1);
}

#[test]
fn an_incomplete_or_sharded_snapshot_is_not_taken_for_a_model() {
    let mut repo = Repo::new("org/partial");
    repo.commit("Upload", &as_slices(&model_files(3)));
    let cache = tempfile::tempdir().unwrap();
    write_hf_snapshot(cache.path(), &repo, &["config.json", "vocab.txt"]);
    let error = offline(cache.path())
        .resolve(&HubRef::parse("hf:org/partial").unwrap())
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("has neither model.safetensors nor pytorch_model.bin"),
        "{error}"
    );

    let mut sharded = Repo::new("org/sharded");
    sharded.commit(
        "Upload",
        &[
            ("config.json", b"{}", false),
            ("pytorch_model.bin.index.json", b"{}", false),
        ],
    );
    write_hf_snapshot(
        cache.path(),
        &sharded,
        &["config.json", "pytorch_model.bin.index.json"],
    );
    let error = offline(cache.path())
        .resolve(&HubRef::parse("hf:org/sharded").unwrap())
        .unwrap_err();
    assert!(
        matches!(&error, HubError::Sharded { index, .. } if index == "pytorch_model.bin.index.json"),
        "{error:?}"
    );
}

#[test]
fn resolve_cached_never_downloads_even_online() {
    let server = FakeHub::start(vec![feather(4)]);
    let cache = tempfile::tempdir().unwrap();
    let hub = Hub::new(HubConfig {
        endpoint: server.endpoint(),
        ..HubConfig::new(cache.path())
    });
    let error = hub
        .resolve_cached(&HubRef::parse("hf:connectivity/feather_berts_4").unwrap())
        .unwrap_err();
    assert!(
        matches!(error, HubError::NotCached { offline: false, .. }),
        "{error:?}"
    );
    assert!(!error.to_string().contains("HF_HUB_OFFLINE"), "{error}");
    assert!(server.log().is_empty());
}
