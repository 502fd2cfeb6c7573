//! The hub cache's layout, exactly as huggingface_hub writes it, so that lmc and transformers
//! share one copy of every model:
//!
//! ```text
//! <cache>/models--ORG--NAME/
//!     refs/main                       the commit sha `main` resolved to (no newline)
//!     blobs/<etag>                    file contents, named by sha256 (LFS) or git blob sha1
//!     blobs/<etag>.incomplete         a download in progress
//!     snapshots/<commit>/config.json  -> ../../blobs/<etag> (relative symlinks)
//! <cache>/.locks/models--ORG--NAME/<etag>.lock
//! ```
//!
//! Every write is atomic: refs are written to a temporary file and renamed, symlinks are made
//! under a temporary name and renamed, blobs are renamed from `.incomplete` once verified.

use std::path::{Path, PathBuf};

use crate::error::{HubError, io_error};
use crate::reference::is_full_commit;

/// One hub cache directory.
#[derive(Debug, Clone)]
pub(crate) struct HubCache {
    root: PathBuf,
}

impl HubCache {
    pub(crate) fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// `models--ORG--NAME`, huggingface_hub's folder name for a model repository.
    fn folder(repo: &str) -> String {
        format!("models--{}", repo.replace('/', "--"))
    }

    pub(crate) fn repo_dir(&self, repo: &str) -> PathBuf {
        self.root.join(Self::folder(repo))
    }

    pub(crate) fn snapshot_dir(&self, repo: &str, commit: &str) -> PathBuf {
        self.repo_dir(repo).join("snapshots").join(commit)
    }

    pub(crate) fn blob_path(&self, repo: &str, blob: &str) -> PathBuf {
        self.repo_dir(repo).join("blobs").join(blob)
    }

    /// The lock file huggingface_hub takes while it downloads a blob; lmc takes the same one.
    pub(crate) fn lock_path(&self, repo: &str, blob: &str) -> PathBuf {
        self.root
            .join(".locks")
            .join(Self::folder(repo))
            .join(format!("{blob}.lock"))
    }

    pub(crate) fn ref_path(&self, repo: &str, name: &str) -> PathBuf {
        self.repo_dir(repo).join("refs").join(name)
    }

    /// The commit a ref names, or `None` when the cache has no such ref.
    pub(crate) fn read_ref(&self, repo: &str, name: &str) -> Result<Option<String>, HubError> {
        let path = self.ref_path(repo, name);
        match std::fs::read_to_string(&path) {
            Ok(text) if is_full_commit(text.trim()) => Ok(Some(text.trim().to_string())),
            Ok(text) => Err(HubError::Io {
                path,
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("holds {:?}, not a commit sha", text.trim()),
                ),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(HubError::Io { path, source }),
        }
    }

    /// Records that ref `name` resolved to `commit` (atomically; left alone when already so).
    pub(crate) fn write_ref(&self, repo: &str, name: &str, commit: &str) -> Result<(), HubError> {
        if self.read_ref(repo, name).ok().flatten().as_deref() == Some(commit) {
            return Ok(());
        }
        write_atomically(&self.ref_path(repo, name), commit.as_bytes())
    }

    /// Points `snapshots/<commit>/<file>` at `blobs/<blob>` with a relative symlink, as
    /// huggingface_hub does, replacing whatever was there.
    pub(crate) fn link(
        &self,
        repo: &str,
        commit: &str,
        file: &str,
        blob: &str,
    ) -> Result<(), HubError> {
        let pointer = self.snapshot_dir(repo, commit).join(file);
        let parent = pointer.parent().expect("a snapshot file has a parent");
        std::fs::create_dir_all(parent).map_err(io_error(parent))?;
        // snapshots/<commit>/ plus one level per folder in the file's name.
        let depth = 2 + file.matches('/').count();
        let target = PathBuf::from("../".repeat(depth)).join("blobs").join(blob);
        lmc_atomic::symlink(&target, &pointer).map_err(io_error(&pointer))
    }

    /// The cached snapshots whose commit begins with `prefix`.
    pub(crate) fn snapshots_starting_with(
        &self,
        repo: &str,
        prefix: &str,
    ) -> Result<Vec<String>, HubError> {
        let dir = self.repo_dir(repo).join("snapshots");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(HubError::Io { path: dir, source }),
        };
        let mut commits = Vec::new();
        for entry in entries {
            let name = entry.map_err(io_error(&dir))?.file_name();
            if let Some(name) = name
                .to_str()
                .filter(|n| is_full_commit(n) && n.starts_with(prefix))
            {
                commits.push(name.to_string());
            }
        }
        commits.sort();
        Ok(commits)
    }
}

/// Writes a small file atomically.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), HubError> {
    lmc_atomic::write(path, contents).map_err(io_error(path))
}
