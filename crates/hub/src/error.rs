//! The error type of this crate: every variant names the reference, repository, file, URL or
//! path involved, and prints as one line that says what to do next where there is something to do.

use std::path::PathBuf;

/// Everything that can go wrong while parsing a reference or resolving it to a snapshot directory.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// A model reference does not parse (`hf:ORG/NAME[@REVISION]`).
    #[error(
        "{reference:?} is not a hub reference: {reason} (expected hf:ORG/NAME, hf:ORG/NAME@REVISION or hf:ORG/NAME@step=N)"
    )]
    BadReference {
        /// The reference as written.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A population range does not parse (`…{A..B}…`).
    #[error(
        "{pattern:?}: {reason} (a population range is one {{A..B}} of non-negative integers, both ends included)"
    )]
    BadRange {
        /// The pattern as written.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No hub cache directory can be derived from the environment.
    #[error("cannot locate the Hugging Face hub cache: set HF_HUB_CACHE or HF_HOME ({reason})")]
    NoCacheDir {
        /// Which variables were missing.
        reason: String,
    },
    /// The reference is not (completely) in the hub cache and may not, or could not, be downloaded.
    #[error("{reference} is not in the hub cache: {missing} ({path}){}", if *offline { "; HF_HUB_OFFLINE is set, so it cannot be downloaded: unset it, or download the model where the hub is reachable" } else { "" })]
    NotCached {
        /// The reference being resolved.
        reference: String,
        /// What the cache lacks, e.g. `no refs/main` or `snapshot 0123… has no config.json`.
        missing: String,
        /// The cache path that was looked at.
        path: PathBuf,
        /// Whether `HF_HUB_OFFLINE` forbade downloading it.
        offline: bool,
    },
    /// The hub could not be reached at all (connection refused, DNS failure, TLS failure).
    #[error(
        "cannot reach the hub at {endpoint}: {reason}; to use the models already in the hub cache ({cache}), set HF_HUB_OFFLINE=1"
    )]
    Unreachable {
        /// The endpoint (`HF_ENDPOINT`).
        endpoint: String,
        /// The transport error.
        reason: String,
        /// The hub cache directory.
        cache: PathBuf,
    },
    /// The hub has no such repository (or hides it from this token).
    #[error(
        "hf:{repo}: {endpoint} has no model repository {repo} (if it is private or gated, set HF_TOKEN to a token that can read it)"
    )]
    RepoNotFound {
        /// `ORG/NAME`.
        repo: String,
        /// The endpoint asked.
        endpoint: String,
    },
    /// The repository exists but has no such branch, tag or commit.
    #[error(
        "hf:{repo}@{revision}: the repository has no branch, tag or commit {revision:?} on {endpoint}"
    )]
    RevisionNotFound {
        /// `ORG/NAME`.
        repo: String,
        /// The revision as asked for.
        revision: String,
        /// The endpoint asked.
        endpoint: String,
    },
    /// The commit's file list names a file that the hub then does not serve.
    #[error("hf:{repo}@{commit}: the hub has no file {file} at this commit ({url})")]
    FileNotFound {
        /// `ORG/NAME`.
        repo: String,
        /// The commit.
        commit: String,
        /// The file name in the repository.
        file: String,
        /// The URL that answered 404.
        url: String,
    },
    /// No commit on `main` is titled with the requested training step.
    #[error(
        "hf:{repo}@step={step}: no commit on main is titled with step {step} ({})",
        steps_found(found)
    )]
    StepNotFound {
        /// `ORG/NAME`.
        repo: String,
        /// The step asked for.
        step: u64,
        /// The steps that commit titles do name, newest first.
        found: Vec<u64>,
    },
    /// The hub refused the request (401/403): the repository is private or gated.
    #[error("hf:{repo}: {endpoint} answered {status} for {url}: {}", if *token_set { "the token in HF_TOKEN cannot read this repository (gated models need their terms accepted on the hub first)" } else { "the repository is private or gated: set HF_TOKEN to a token that can read it" })]
    Unauthorized {
        /// `ORG/NAME`.
        repo: String,
        /// The endpoint asked.
        endpoint: String,
        /// The URL refused.
        url: String,
        /// 401 or 403.
        status: u16,
        /// Whether a token was sent.
        token_set: bool,
    },
    /// Any other HTTP error status.
    #[error("{url}: HTTP {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Http {
        /// The URL requested.
        url: String,
        /// The status code.
        status: u16,
        /// The hub's error message, if it sent one.
        message: String,
    },
    /// The hub answered with something this crate cannot use (bad JSON, a missing field or header).
    #[error("{url}: unexpected answer from the hub: {reason}")]
    BadResponse {
        /// The URL requested.
        url: String,
        /// What is wrong with the answer.
        reason: String,
    },
    /// The repository has no `config.json` at this revision.
    #[error(
        "hf:{repo}@{commit}: the repository has no config.json, so it is not a transformers model lmc can load"
    )]
    NoConfig {
        /// `ORG/NAME`.
        repo: String,
        /// The commit.
        commit: String,
    },
    /// The weights are split over several files, which lmc does not load.
    #[error(
        "hf:{repo}@{commit}: the weights are sharded ({index} and its shards); lmc does not load sharded checkpoints yet: load the model with transformers and save_pretrained(DIR, max_shard_size=\"100GB\") to write one file, then pass DIR to lmc"
    )]
    Sharded {
        /// `ORG/NAME`.
        repo: String,
        /// The commit.
        commit: String,
        /// The shard index file (`model.safetensors.index.json` or `pytorch_model.bin.index.json`).
        index: String,
    },
    /// The repository has only TensorFlow or Flax weights.
    #[error(
        "hf:{repo}@{commit}: the repository has only {found} weights, which lmc does not read; convert them to PyTorch with transformers (from_pretrained(\"{repo}\", from_tf=True or from_flax=True), then save_pretrained(DIR, safe_serialization=True)) and pass DIR to lmc"
    )]
    NotPytorch {
        /// `ORG/NAME`.
        repo: String,
        /// The commit.
        commit: String,
        /// The weight files there are (`tf_model.h5`, `flax_model.msgpack`).
        found: String,
    },
    /// The repository has no weights lmc recognises.
    #[error(
        "hf:{repo}@{commit}: the repository has neither model.safetensors nor pytorch_model.bin"
    )]
    NoWeights {
        /// `ORG/NAME`.
        repo: String,
        /// The commit.
        commit: String,
    },
    /// A download stopped before the whole file arrived, several times over.
    #[error("download of {file} from {url} stopped at {received} of {expected} bytes ({reason}); the part already downloaded is kept in {} and the next attempt resumes it", partial.display())]
    Truncated {
        /// The file name in the repository.
        file: String,
        /// The URL downloaded.
        url: String,
        /// Bytes received in all.
        received: u64,
        /// The file's size.
        expected: u64,
        /// Why the last attempt stopped.
        reason: String,
        /// The partial download (`blobs/<id>.incomplete`).
        partial: PathBuf,
    },
    /// A downloaded file has the wrong size.
    #[error(
        "hf:{repo}: {file} from {url} has {actual} bytes, the hub lists {expected}; the download was deleted"
    )]
    SizeMismatch {
        /// `ORG/NAME`.
        repo: String,
        /// The file name in the repository.
        file: String,
        /// The URL downloaded.
        url: String,
        /// The size the hub lists.
        expected: u64,
        /// The size received.
        actual: u64,
    },
    /// A downloaded file does not have the sha256 the hub lists for it.
    #[error(
        "hf:{repo}: {file} from {url} has sha256 {actual}, the hub lists {expected}; the download was deleted"
    )]
    ChecksumMismatch {
        /// `ORG/NAME`.
        repo: String,
        /// The file name in the repository.
        file: String,
        /// The URL downloaded.
        url: String,
        /// The sha256 the hub lists.
        expected: String,
        /// The sha256 of what arrived.
        actual: String,
    },
    /// A file in the cache could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

fn steps_found(found: &[u64]) -> String {
    if found.is_empty() {
        return "no commit title names a step".to_string();
    }
    let steps: Vec<String> = found.iter().map(u64::to_string).collect();
    format!("steps found: {}", steps.join(", "))
}

/// Wraps an I/O error with the path it happened on.
pub(crate) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> HubError {
    let path = path.into();
    move |source| HubError::Io { path, source }
}
