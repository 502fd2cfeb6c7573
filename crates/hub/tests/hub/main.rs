//! lmc-hub against a hub served on 127.0.0.1 by the test itself (`server.rs`) and against hub
//! caches built in temporary directories. Nothing here touches the network beyond loopback, the
//! environment, or the user's own cache: every `Hub` gets an explicit `HubConfig`.

mod failures;
mod offline;
mod online;
mod references;
mod server;

use std::path::{Path, PathBuf};

use lmc_hub::{Hub, HubConfig};
use server::{FakeHub, Repo, as_slices, model_files};

/// An online hub on `server`'s endpoint with its cache in `cache`.
fn online(server: &FakeHub, cache: &Path) -> Hub {
    Hub::new(HubConfig {
        cache_dir: cache.to_path_buf(),
        endpoint: server.endpoint(),
        token: None,
        offline: false,
    })
}

/// An endpoint nothing listens on: a port that was just free.
fn dead_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// An offline hub (`HF_HUB_OFFLINE=1`) with its cache in `cache`; its endpoint is dead anyway.
fn offline(cache: &Path) -> Hub {
    Hub::new(HubConfig {
        cache_dir: cache.to_path_buf(),
        endpoint: dead_endpoint(),
        token: None,
        offline: true,
    })
}

/// `connectivity/feather_berts_{seed}`: one commit with a whole model.
fn feather(seed: u8) -> Repo {
    let mut repo = Repo::new(&format!("connectivity/feather_berts_{seed}"));
    repo.commit(
        "Upload BertForSequenceClassification",
        &as_slices(&model_files(seed)),
    );
    repo
}

/// The QQP steps the paper saved, in upload order.
const QQP_STEPS: [u64; 5] = [15000, 20000, 25000, 30000, 34110];

/// `connectivity/bert_ft_qqp-{seed}` as the paper's upload script built it: the tokenizer, one
/// commit per saved step with `config.json` and `pytorch_model.bin`, then the training logs.
fn qqp(seed: u8) -> Repo {
    let mut repo = Repo::new(&format!("connectivity/bert_ft_qqp-{seed}"));
    let files = model_files(seed);
    repo.commit(
        "Saving tokenizer",
        &[
            ("vocab.txt", &files[2].1, false),
            ("tokenizer_config.json", &files[3].1, false),
        ],
    );
    for step in QQP_STEPS {
        repo.commit(
            &format!("Saving weights and logs of step {step}"),
            &[
                ("config.json", &files[0].1, false),
                ("pytorch_model.bin", &qqp_weights(seed, step), true),
            ],
        );
    }
    repo.commit(
        "Added training logs",
        &[("events.out.tfevents.1", b"logs", true)],
    );
    repo
}

fn qqp_weights(seed: u8, step: u64) -> Vec<u8> {
    format!("weights of seed {seed} at step {step}")
        .repeat(2000)
        .into_bytes()
}

/// The file's bytes, read through the snapshot's symlink.
fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

/// `<cache>/models--ORG--NAME`.
fn repo_dir(cache: &Path, repo: &str) -> PathBuf {
    cache.join(format!("models--{}", repo.replace('/', "--")))
}

/// The log lines that start a file download: one hub `GET …/resolve/…` per file (LFS files
/// then continue on the storage server).
fn downloads(log: &[String]) -> Vec<&String> {
    log.iter()
        .filter(|l| l.starts_with("hub GET ") && l.contains("/resolve/"))
        .collect()
}
