use std::sync::{Arc, Mutex};

use lmc_hub::{DownloadEvent, Hub, HubConfig, HubError, HubRef, Stage};

use crate::server::{FakeHub, Repo, as_slices, model_files, sha256_hex};
use crate::{QQP_STEPS, downloads, feather, online, qqp, qqp_weights, read, repo_dir};

#[test]
fn a_branch_resolves_into_the_standard_cache_layout() {
    let repo = feather(0);
    let commit = repo.commits[0].id.clone();
    let server = FakeHub::start(vec![repo.clone()]);
    let cache = tempfile::tempdir().unwrap();
    let dir = online(&server, cache.path())
        .resolve(&HubRef::parse("hf:connectivity/feather_berts_0").unwrap())
        .unwrap();

    let root = repo_dir(cache.path(), "connectivity/feather_berts_0");
    assert_eq!(dir, root.join("snapshots").join(&commit));
    assert_eq!(
        std::fs::read_to_string(root.join("refs/main")).unwrap(),
        commit
    );
    for (name, content, _) in model_files(0).iter().filter(|(n, _, _)| *n != "README.md") {
        assert_eq!(&read(&dir, name), content, "{name}");
        // Relative symlinks to blobs named as huggingface_hub names them.
        let blob = repo.file(&commit, name).blob();
        assert_eq!(
            std::fs::read_link(dir.join(name)).unwrap(),
            std::path::Path::new("../../blobs").join(&blob),
            "{name}"
        );
        assert!(root.join("blobs").join(&blob).is_file());
    }
    assert_eq!(
        repo.file(&commit, "model.safetensors").blob(),
        sha256_hex(&model_files(0)[1].1)
    );
    assert!(
        !dir.join("README.md").exists(),
        "only what lmc loads is fetched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(root.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(
        cache
            .path()
            .join(".locks/models--connectivity--feather_berts_0")
            .is_dir()
    );

    // One API call, the LFS weights through the storage server, nothing sent with a token.
    let log = server.log();
    assert_eq!(
        log[0],
        "hub GET /api/models/connectivity/feather_berts_0/revision/main?blobs=true"
    );
    assert!(
        log.iter().any(|l| l.starts_with("storage GET /lfs/")),
        "{log:?}"
    );
    assert!(!log.iter().any(|l| l.ends_with(" auth")), "{log:?}");
}

#[test]
fn a_second_resolve_downloads_nothing() {
    let server = FakeHub::start(vec![feather(1)]);
    let cache = tempfile::tempdir().unwrap();
    let hub = online(&server, cache.path());
    let model = HubRef::parse("hf:connectivity/feather_berts_1").unwrap();
    let first = hub.resolve(&model).unwrap();
    server.clear_log();
    assert_eq!(hub.resolve(&model).unwrap(), first);
    assert_eq!(
        server.log(),
        ["hub GET /api/models/connectivity/feather_berts_1/revision/main?blobs=true"]
    );
}

#[test]
fn a_commit_a_short_commit_or_a_tag_resolves_to_that_snapshot() {
    let mut repo = feather(2);
    let first = repo.commits[0].id.clone();
    let second = repo.commit(
        "Retrain",
        &[("model.safetensors", b"retrained weights", true)],
    );
    repo.tag("v1", &first);
    let server = FakeHub::start(vec![repo.clone()]);
    let cache = tempfile::tempdir().unwrap();
    let hub = online(&server, cache.path());
    let root = repo_dir(cache.path(), &repo.id);

    let at_first = hub
        .resolve(&HubRef::parse(&format!("hf:{}@{first}", repo.id)).unwrap())
        .unwrap();
    assert_eq!(at_first, root.join("snapshots").join(&first));
    assert_eq!(read(&at_first, "model.safetensors"), model_files(2)[1].1);
    assert!(
        !root.join("refs").join(&first).exists(),
        "a full sha needs no ref"
    );

    server.clear_log();
    let latest = hub
        .resolve(&HubRef::parse(&format!("hf:{}", repo.id)).unwrap())
        .unwrap();
    assert_eq!(latest, root.join("snapshots").join(&second));
    assert_eq!(read(&latest, "model.safetensors"), b"retrained weights");
    assert_eq!(read(&latest, "config.json"), read(&at_first, "config.json"));
    // Unchanged files are linked to the blobs already there, not downloaded again.
    let log = server.log();
    let fetched = downloads(&log);
    assert!(
        fetched.len() == 1 && fetched[0].ends_with("/model.safetensors"),
        "{log:?}"
    );

    let short = &first[..7];
    assert_eq!(
        hub.resolve(&HubRef::parse(&format!("hf:{}@{short}", repo.id)).unwrap())
            .unwrap(),
        at_first
    );
    assert_eq!(
        std::fs::read_to_string(root.join("refs").join(short)).unwrap(),
        first
    );
    assert_eq!(
        hub.resolve(&HubRef::parse(&format!("hf:{}@v1", repo.id)).unwrap())
            .unwrap(),
        at_first
    );
    assert_eq!(
        std::fs::read_to_string(root.join("refs/v1")).unwrap(),
        first
    );
}

#[test]
fn a_step_resolves_through_the_commit_titles_across_pages() {
    let repo = qqp(3);
    let server = FakeHub::start(vec![repo.clone()]);
    let cache = tempfile::tempdir().unwrap();
    let hub = online(&server, cache.path());
    let root = repo_dir(cache.path(), &repo.id);
    for step in QQP_STEPS {
        let commit = repo
            .commits
            .iter()
            .find(|c| c.title.ends_with(&format!(" {step}")))
            .unwrap()
            .id
            .clone();
        let dir = hub
            .resolve(&HubRef::parse(&format!("hf:connectivity/bert_ft_qqp-3@step={step}")).unwrap())
            .unwrap();
        assert_eq!(dir, root.join("snapshots").join(&commit), "step {step}");
        assert_eq!(read(&dir, "pytorch_model.bin"), qqp_weights(3, step));
        assert_eq!(
            read(&dir, "vocab.txt"),
            model_files(3)[2].1,
            "files of earlier commits are there too"
        );
        assert!(!dir.join("events.out.tfevents.1").exists());
        assert_eq!(
            std::fs::read_to_string(root.join(format!("refs/step={step}"))).unwrap(),
            commit
        );
    }
    // Seven commits, two per page: step 15000 is on the third page.
    let log = server.log();
    assert!(
        log.contains(
            &"hub GET /api/models/connectivity/bert_ft_qqp-3/commits/main?p=2".to_string()
        ),
        "{log:?}"
    );
}

#[test]
fn a_step_no_commit_names_is_refused_with_the_steps_there_are() {
    let server = FakeHub::start(vec![qqp(4)]);
    let cache = tempfile::tempdir().unwrap();
    let error = online(&server, cache.path())
        .resolve(&HubRef::parse("hf:connectivity/bert_ft_qqp-4@step=26000").unwrap())
        .unwrap_err();
    assert!(
        matches!(&error, HubError::StepNotFound { step: 26000, found, .. } if found == &[34110, 30000, 25000, 20000, 15000]),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "hf:connectivity/bert_ft_qqp-4@step=26000: no commit on main is titled with step 26000 (steps found: 34110, 30000, 25000, 20000, 15000)"
    );
}

#[test]
fn a_population_resolves_to_one_directory_per_model() {
    let server = FakeHub::start((0..3).map(feather).collect());
    let cache = tempfile::tempdir().unwrap();
    let hub = online(&server, cache.path());
    let dirs: Vec<_> = HubRef::parse_all("hf:connectivity/feather_berts_{0..2}")
        .unwrap()
        .iter()
        .map(|m| hub.resolve(m).unwrap())
        .collect();
    for (seed, dir) in dirs.iter().enumerate() {
        assert!(dir.starts_with(repo_dir(
            cache.path(),
            &format!("connectivity/feather_berts_{seed}")
        )));
        assert_eq!(read(dir, "model.safetensors"), model_files(seed as u8)[1].1);
    }
}

#[test]
fn safetensors_is_preferred_and_pytorch_model_bin_is_the_fallback() {
    let mut both = Repo::new("org/both");
    let mut files = model_files(5);
    files.push(("pytorch_model.bin", b"pickled".to_vec(), true));
    both.commit("both formats", &as_slices(&files));
    let mut bin_only = Repo::new("org/bin-only");
    bin_only.commit(
        "pytorch only",
        &[
            ("config.json", b"{}", false),
            ("pytorch_model.bin", b"pickled", true),
        ],
    );
    let server = FakeHub::start(vec![both, bin_only]);
    let cache = tempfile::tempdir().unwrap();
    let hub = online(&server, cache.path());
    let dir = hub.resolve(&HubRef::parse("hf:org/both").unwrap()).unwrap();
    assert!(dir.join("model.safetensors").is_file() && !dir.join("pytorch_model.bin").exists());
    let dir = hub
        .resolve(&HubRef::parse("hf:org/bin-only").unwrap())
        .unwrap();
    assert_eq!(read(&dir, "pytorch_model.bin"), b"pickled");
    assert!(
        !dir.join("vocab.txt").exists(),
        "tokenizer files only when the repository has them"
    );
}

#[test]
fn a_private_repository_needs_the_token_and_only_the_hub_gets_it() {
    let mut repo = feather(6);
    repo.token = Some("hf_secret".to_string());
    let server = FakeHub::start(vec![repo]);
    let cache = tempfile::tempdir().unwrap();
    let model = HubRef::parse("hf:connectivity/feather_berts_6").unwrap();

    let error = online(&server, cache.path()).resolve(&model).unwrap_err();
    assert!(
        matches!(
            error,
            HubError::Unauthorized {
                status: 401,
                token_set: false,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("private or gated: set HF_TOKEN"),
        "{error}"
    );

    server.clear_log();
    let with_token = Hub::new(HubConfig {
        token: Some("hf_secret".to_string()),
        endpoint: server.endpoint(),
        ..HubConfig::new(cache.path())
    });
    let dir = with_token.resolve(&model).unwrap();
    assert_eq!(read(&dir, "model.safetensors"), model_files(6)[1].1);
    for line in server.log() {
        assert_eq!(
            line.starts_with("hub "),
            line.ends_with(" auth"),
            "the token goes to the hub only: {line}"
        );
    }
}

#[test]
fn without_sizes_and_blob_ids_in_the_file_list_the_headers_give_them() {
    let mut repo = feather(7);
    repo.bare_file_list = true;
    let commit = repo.commits[0].id.clone();
    let server = FakeHub::start(vec![repo.clone()]);
    let cache = tempfile::tempdir().unwrap();
    let dir = online(&server, cache.path())
        .resolve(&HubRef::parse("hf:connectivity/feather_berts_7").unwrap())
        .unwrap();
    let log = server.log();
    assert!(
        log.iter()
            .any(|l| l.starts_with("hub HEAD ") && l.ends_with("/model.safetensors")),
        "{log:?}"
    );
    assert!(
        !log.iter().any(|l| l.starts_with("storage HEAD")),
        "the HEAD stops at the hub's redirect: {log:?}"
    );
    for name in ["config.json", "model.safetensors", "vocab.txt"] {
        let blob = repo.file(&commit, name).blob();
        assert!(
            std::fs::read_link(dir.join(name)).unwrap().ends_with(&blob),
            "{name}"
        );
    }
}

#[test]
fn progress_reports_each_file_from_start_to_finish() {
    let server = FakeHub::start(vec![feather(8)]);
    let cache = tempfile::tempdir().unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let hub = online(&server, cache.path()).with_progress(move |e: &DownloadEvent<'_>| {
        sink.lock()
            .unwrap()
            .push((e.file.to_string(), e.stage, e.done, e.total));
    });
    hub.resolve(&HubRef::parse("hf:connectivity/feather_berts_8").unwrap())
        .unwrap();
    let events = events.lock().unwrap();
    for (name, content, _) in model_files(8).iter().filter(|(n, _, _)| *n != "README.md") {
        let total = content.len() as u64;
        let of_file: Vec<_> = events.iter().filter(|e| &e.0 == name).collect();
        assert_eq!(
            (of_file[0].1, of_file[0].2, of_file[0].3),
            (Stage::Started, 0, total),
            "{name}"
        );
        let last = of_file.last().unwrap();
        assert_eq!((last.1, last.2), (Stage::Finished, total), "{name}");
        assert!(
            of_file.windows(2).all(|w| w[0].2 <= w[1].2),
            "{name}: progress only grows"
        );
    }
}

#[test]
fn threads_resolving_the_same_model_share_one_download() {
    let server = FakeHub::start(vec![feather(9)]);
    let cache = tempfile::tempdir().unwrap();
    let hub = Arc::new(online(&server, cache.path()));
    let model = HubRef::parse("hf:connectivity/feather_berts_9").unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (hub, model) = (hub.clone(), model.clone());
            std::thread::spawn(move || hub.resolve(&model).unwrap())
        })
        .collect();
    let dirs: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(dirs.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(read(&dirs[0], "model.safetensors"), model_files(9)[1].1);
}
