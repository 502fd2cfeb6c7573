//! Models from the Hugging Face hub, as local directories lmc loads like any other.
//!
//! The paper's populations live on the hub: the 100 MNLI models `connectivity/feather_berts_0`
//! to `_99`, and the QQP models `connectivity/bert_ft_qqp-0` to `-99`, each with one commit per
//! saved training step. This crate turns a reference to one of them into a snapshot directory
//! (`config.json`, one weights file, the tokenizer files) and knows nothing of BERT or burn: it
//! only produces directories.
//!
//! # References
//!
//! - `hf:ORG/NAME` — the `main` branch;
//! - `hf:ORG/NAME@REVISION` — a branch, a tag, or a full or abbreviated commit sha;
//! - `hf:ORG/NAME@step=N` — the newest commit on `main` whose title names training step `N`
//!   ([`step_in_title`]: the paper's upload script titles them `Saving weights and logs of step N`,
//!   transformers' `Trainer` `Training in progress, step N`);
//! - `hf:connectivity/feather_berts_{0..99}` — a population: [`expand_range`] expands one `{A..B}`
//!   as bash does, **both ends included** (100 models here), zero-padded when an end is written
//!   with a leading zero.
//!
//! # The cache
//!
//! Everything goes into the standard hub cache, laid out exactly as huggingface_hub lays it out
//! (`models--ORG--NAME/{refs,blobs,snapshots}`, snapshot files as relative symlinks to blobs named
//! by etag), so models transformers already downloaded are used as they are, and lmc's downloads
//! are transformers' too. [`Hub::resolve`] returns `…/snapshots/<commit>/`; its last component is
//! the commit, which is what a result should record for provenance. What it fetches for a commit:
//! `config.json`; `model.safetensors`, else `pytorch_model.bin`; and whichever of `vocab.txt`,
//! `tokenizer.json`, `tokenizer_config.json` and `special_tokens_map.json` the repository has.
//! Sharded checkpoints and TensorFlow/Flax-only repositories are refused with what to do instead.
//!
//! Online, a resolve costs one API request (two or more for `step=N`: the commit list) and
//! downloads only what the snapshot lacks. With `HF_HUB_OFFLINE=1` it never touches the network:
//! the cache's `refs/` maps the revision to a commit (lmc records `step=N` there too, as
//! huggingface_hub records any revision it resolved), and the snapshot must hold `config.json`
//! and a weights file, or the error names the reference, what is missing and the cache path.
//!
//! Downloads are safe to interrupt and to run in parallel processes: each blob is written to
//! `blobs/<etag>.incomplete` under huggingface_hub's own lock file for it, resumed with a `Range`
//! request (also within one run, when the connection drops), checked for size and, for LFS files
//! (the weights), sha256, and renamed into place only when correct; a wrong file is deleted and
//! the error names it with both digests. refs and symlinks are replaced atomically.
//!
//! # Main types
//!
//! - [`HubRef`] / [`Revision`]: a parsed reference; [`HubRef::parse_all`] parses a population.
//! - [`HubConfig`]: cache directory, endpoint, token, offline switch. [`HubConfig::from_env`] is
//!   the one place that reads the environment (`HF_HUB_CACHE`, `HF_HOME`, `HF_ENDPOINT`,
//!   `HF_TOKEN`, `HF_HUB_OFFLINE`, …, as huggingface_hub does); everything else takes a config.
//! - [`Hub`]: [`Hub::resolve`] (download what is missing), [`Hub::resolve_cached`] (cache only).
//! - [`Progress`] / [`TerminalProgress`]: download progress for a closure, or for a person
//!   (indicatif bars on a terminal, a line every 30 s in a log).
//! - [`HubError`]: one line per failure, naming the reference, file, URL or path, and for 404s
//!   whether the repository, the revision or the file is missing.
//!
//! # Example
//!
//! ```no_run
//! use lmc_hub::{Hub, HubRef, TerminalProgress};
//!
//! let hub = Hub::from_env()?.with_progress(TerminalProgress::stderr());
//! for model in HubRef::parse_all("hf:connectivity/bert_ft_qqp-{0..99}@step=25000")? {
//!     let dir = hub.resolve(&model)?; // …/models--connectivity--bert_ft_qqp-0/snapshots/<commit>
//!     println!("{model} -> {}", dir.display());
//! }
//! # Ok::<(), lmc_hub::HubError>(())
//! ```
//!
//! # Why not the `hf-hub` crate
//!
//! The protocol is written here on [`ureq`] 2.12.1 (blocking, rustls), after reading the
//! `hf-hub` crate. Its 1.x line is async-first (tokio, reqwest 0.13) and pulls in `hf-xet`'s large
//! dependency tree; its 0.4 line has a blocking ureq API with a custom endpoint, a token, the
//! standard cache layout and resumable downloads, but no sha256 verification, no commit listing
//! (needed for `step=N`), no `HF_HUB_OFFLINE`, no distinction between a missing repository,
//! revision and file, and indicatif 0.17 beside the workspace's 0.18. What was missing was most
//! of this crate. ureq 2.12.1 (with rustls on ring and webpki roots) was already in the
//! workspace's `Cargo.lock`, so the crate adds no locked crate; building it compiles ureq,
//! rustls and ring, a few minutes cold on two cores, and none of burn or polars.

mod api;
mod cache;
mod config;
mod download;
mod error;
mod progress;
mod reference;

use std::collections::HashMap;
use std::path::PathBuf;

pub use config::{DEFAULT_ENDPOINT, HubConfig};
pub use error::HubError;
pub use progress::{DownloadEvent, LOG_INTERVAL, Progress, Stage, TerminalProgress};
pub use reference::{
    DEFAULT_BRANCH, HubRef, Revision, SCHEME, expand_range, is_hub_reference, step_in_title,
};

use api::{Client, Sibling, Subject};
use cache::HubCache;
use download::BlobRequest;
use reference::is_lower_hex;

/// The model configuration; a repository without it is not a transformers model.
const CONFIG: &str = "config.json";
/// Single-file weights, in order of preference.
const WEIGHTS: [&str; 2] = ["model.safetensors", "pytorch_model.bin"];
/// The index of a sharded checkpoint, which lmc does not load.
const SHARD_INDEXES: [&str; 2] = [
    "model.safetensors.index.json",
    "pytorch_model.bin.index.json",
];
/// Weights of other frameworks, which lmc does not read.
const OTHER_FRAMEWORKS: [&str; 2] = ["tf_model.h5", "flax_model.msgpack"];
/// Tokenizer files, fetched when the repository has them.
const TOKENIZER_FILES: [&str; 4] = [
    "vocab.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

/// Resolves [`HubRef`]s to snapshot directories in the hub cache, downloading what is missing.
/// `Send + Sync`: one `Hub` can resolve models on several threads.
pub struct Hub {
    config: HubConfig,
    cache: HubCache,
    client: Client,
    progress: Option<Box<dyn Progress>>,
}

impl Hub {
    /// A hub for an explicit configuration, reporting no progress.
    pub fn new(config: HubConfig) -> Self {
        Self {
            cache: HubCache::new(config.cache_dir.clone()),
            client: Client::new(
                &config.endpoint,
                config.token.clone(),
                config.cache_dir.clone(),
            ),
            config,
            progress: None,
        }
    }

    /// A hub configured by the environment ([`HubConfig::from_env`]).
    pub fn from_env() -> Result<Self, HubError> {
        HubConfig::from_env().map(Self::new)
    }

    /// Reports download progress to `progress`.
    pub fn with_progress(mut self, progress: impl Progress + 'static) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// The configuration in use.
    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// The snapshot directory of `reference`, with `config.json`, one weights file and the
    /// repository's tokenizer files, downloading into the cache whatever is missing; from the
    /// cache alone when the configuration is offline ([`Self::resolve_cached`]).
    pub fn resolve(&self, reference: &HubRef) -> Result<PathBuf, HubError> {
        if self.config.offline {
            return self.resolve_cached(reference);
        }
        let repo = reference.repo();
        let revision = match reference.revision() {
            Revision::Named(name) => name.clone(),
            Revision::Step(step) => self.commit_of_step(repo, *step)?,
        };
        let info = self.client.revision_info(repo, &revision)?;
        let commit = info.sha.as_str();
        let listed: HashMap<&str, &Sibling> = info
            .siblings
            .iter()
            .map(|s| (s.rfilename.as_str(), s))
            .collect();
        let files = files_to_fetch(repo, commit, |file| listed.contains_key(file))?;
        let snapshot = self.cache.snapshot_dir(repo, commit);
        for file in files {
            if snapshot.join(file).is_file() {
                continue;
            }
            self.fetch(repo, commit, file, listed[file])?;
        }
        let ref_name = reference.revision().ref_name();
        if ref_name != commit {
            self.cache.write_ref(repo, &ref_name, commit)?;
        }
        Ok(snapshot)
    }

    /// The snapshot directory of `reference` from the cache alone, without touching the network:
    /// the revision is mapped to a commit through the cache's `refs/` (a full commit sha needs
    /// none; an abbreviated one may also match the one snapshot it begins), and the snapshot must
    /// hold `config.json` and `model.safetensors` or `pytorch_model.bin`.
    pub fn resolve_cached(&self, reference: &HubRef) -> Result<PathBuf, HubError> {
        let repo = reference.repo();
        let commit = self.cached_commit(reference)?;
        let snapshot = self.cache.snapshot_dir(repo, &commit);
        let has = |file: &str| snapshot.join(file).is_file();
        if !has(CONFIG) {
            let missing = format!("snapshot {commit} has no {CONFIG}");
            return Err(self.not_cached(reference, missing, snapshot));
        }
        match weights_file(repo, &commit, has) {
            Ok(_) => Ok(snapshot),
            Err(HubError::NoWeights { .. }) => {
                let missing = format!(
                    "snapshot {commit} has neither {} nor {}",
                    WEIGHTS[0], WEIGHTS[1]
                );
                Err(self.not_cached(reference, missing, snapshot))
            }
            Err(other) => Err(other),
        }
    }

    /// The commit the cache records for a reference's revision.
    fn cached_commit(&self, reference: &HubRef) -> Result<String, HubError> {
        let repo = reference.repo();
        let repo_dir = self.cache.repo_dir(repo);
        if !repo_dir.is_dir() {
            return Err(self.not_cached(
                reference,
                format!("nothing of {repo} is cached"),
                repo_dir,
            ));
        }
        if let Some(commit) = reference.revision().full_commit() {
            return Ok(commit.to_string());
        }
        let name = reference.revision().ref_name();
        if let Some(commit) = self.cache.read_ref(repo, &name)? {
            return Ok(commit);
        }
        let no_ref = format!("no refs/{name}");
        let ref_path = self.cache.ref_path(repo, &name);
        // An abbreviated sha huggingface_hub never resolved: the one snapshot it begins.
        let prefix = match reference.revision() {
            Revision::Named(prefix) if prefix.len() >= 4 && is_lower_hex(prefix) => prefix,
            _ => return Err(self.not_cached(reference, no_ref, ref_path)),
        };
        match self.cache.snapshots_starting_with(repo, prefix)?.as_slice() {
            [one] => Ok(one.clone()),
            [] => {
                let missing = format!("{no_ref} and no snapshot of a commit {prefix}…");
                Err(self.not_cached(reference, missing, ref_path))
            }
            many => {
                let missing = format!(
                    "{} cached commits begin with {prefix}: give more of the sha",
                    many.len()
                );
                Err(self.not_cached(reference, missing, repo_dir.join("snapshots")))
            }
        }
    }

    fn not_cached(&self, reference: &HubRef, missing: String, path: PathBuf) -> HubError {
        HubError::NotCached {
            reference: reference.to_string(),
            missing,
            path,
            offline: self.config.offline,
        }
    }

    /// The newest commit on `main` whose title names `step`.
    fn commit_of_step(&self, repo: &str, step: u64) -> Result<String, HubError> {
        let mut found = Vec::new();
        let mut commit = None;
        self.client.walk_commits(repo, DEFAULT_BRANCH, |entry| {
            match step_in_title(&entry.title) {
                Some(s) if s == step => {
                    commit = Some(entry.id.clone());
                    true
                }
                Some(other) => {
                    found.push(other);
                    false
                }
                None => false,
            }
        })?;
        commit.ok_or_else(|| HubError::StepNotFound {
            repo: repo.to_string(),
            step,
            found,
        })
    }

    /// Downloads one file of a commit into its blob and links it into the snapshot.
    fn fetch(
        &self,
        repo: &str,
        commit: &str,
        file: &str,
        sibling: &Sibling,
    ) -> Result<(), HubError> {
        let url = self.client.resolve_url(repo, commit, file);
        let subject = Subject {
            repo,
            revision: commit,
            file: Some(file),
        };
        // The file list names the blob (sha256 of LFS files, git sha1 of others) and its size;
        // when it does not (a hub that ignores ?blobs=true), the file's own headers do.
        let (blob, size, sha256) = match (&sibling.lfs, &sibling.blob_id, sibling.size) {
            (Some(lfs), _, _) => (lfs.sha256.clone(), lfs.size, Some(lfs.sha256.clone())),
            (None, Some(id), Some(size)) => (id.clone(), size, None),
            _ => {
                let headers = self.client.file_headers(&url, subject)?;
                let missing = |what: &str| HubError::BadResponse {
                    url: url.clone(),
                    reason: format!("neither the file list nor the file's headers give its {what}"),
                };
                let etag = headers.etag.ok_or_else(|| missing("etag"))?;
                let size = headers.size.ok_or_else(|| missing("size"))?;
                let sha256 = headers.lfs.then(|| etag.clone());
                (etag, size, sha256)
            }
        };
        // The blob name becomes a path, and the sha256 is compared as lowercase hex.
        let bad_digest = |what: &str, value: &str| HubError::BadResponse {
            url: url.clone(),
            reason: format!("{what} {value:?} is not a lowercase hex digest"),
        };
        if !is_lower_hex(&blob) {
            return Err(bad_digest("etag", &blob));
        }
        if let Some(sha) = sha256
            .as_deref()
            .filter(|s| s.len() != 64 || !is_lower_hex(s))
        {
            return Err(bad_digest("sha256", sha));
        }
        let request = BlobRequest {
            repo,
            commit,
            file,
            url: &url,
            blob: &blob,
            size,
            sha256: sha256.as_deref(),
        };
        download::fetch_blob(
            &self.client,
            &self.cache,
            &request,
            self.progress.as_deref(),
        )?;
        self.cache.link(repo, commit, file, &blob)
    }
}

/// The files to fetch for a commit, given which files it has: `config.json`, one weights file,
/// the tokenizer files there are.
fn files_to_fetch(
    repo: &str,
    commit: &str,
    has: impl Fn(&str) -> bool,
) -> Result<Vec<&'static str>, HubError> {
    if !has(CONFIG) {
        return Err(HubError::NoConfig {
            repo: repo.to_string(),
            commit: commit.to_string(),
        });
    }
    let weights = weights_file(repo, commit, &has)?;
    let mut files = vec![CONFIG, weights];
    files.extend(TOKENIZER_FILES.into_iter().filter(|f| has(f)));
    Ok(files)
}

/// The single weights file lmc loads, or why there is none.
fn weights_file(
    repo: &str,
    commit: &str,
    has: impl Fn(&str) -> bool,
) -> Result<&'static str, HubError> {
    if let Some(file) = WEIGHTS.into_iter().find(|f| has(f)) {
        return Ok(file);
    }
    if let Some(index) = SHARD_INDEXES.into_iter().find(|f| has(f)) {
        return Err(HubError::Sharded {
            repo: repo.to_string(),
            commit: commit.to_string(),
            index: index.to_string(),
        });
    }
    let others: Vec<&str> = OTHER_FRAMEWORKS.into_iter().filter(|f| has(f)).collect();
    if !others.is_empty() {
        return Err(HubError::NotPytorch {
            repo: repo.to_string(),
            commit: commit.to_string(),
            found: others.join(" and "),
        });
    }
    Err(HubError::NoWeights {
        repo: repo.to_string(),
        commit: commit.to_string(),
    })
}
