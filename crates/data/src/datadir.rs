//! Where data files live.
//!
//! The library itself takes explicit paths. As a convenience, [`DataDirSearch`] looks for a data
//! directory in a fixed order and says which one it used:
//!
//! 1. an explicit directory (the CLI's `--data-dir`): when given, it is the only candidate;
//! 2. `$LMC_DATA_DIR`;
//! 3. the directory the fetch step writes to: `$LMC_CACHE_DIR/datasets`, else
//!    `$XDG_CACHE_HOME/lmc/datasets`, else `$HOME/.cache/lmc/datasets`;
//! 4. `../shared/datasets` relative to the current directory;
//! 5. `../shared/datasets` relative to the workspace this crate was built in, when it exists.
//!
//! A file is looked up relative to each candidate in turn (e.g. `glue/MNLI/train.tsv`); the first
//! candidate holding it wins. When none does, the error lists every directory searched and the
//! relative path expected. Environment variables are read in one place only,
//! [`SearchEnv::from_process`]; everything else works on a [`SearchEnv`] value, so tests and
//! callers can supply their own.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};

/// The environment values the data search depends on. Build it with [`SearchEnv::from_process`],
/// or by hand for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchEnv {
    /// `$LMC_DATA_DIR`: a data directory chosen by the user.
    pub lmc_data_dir: Option<PathBuf>,
    /// `$LMC_CACHE_DIR`: the project's cache root (datasets under `datasets/`, models under
    /// `models/`).
    pub lmc_cache_dir: Option<PathBuf>,
    /// `$XDG_CACHE_HOME`.
    pub xdg_cache_home: Option<PathBuf>,
    /// `$HOME`.
    pub home: Option<PathBuf>,
    /// `$LMC_DATA_MIRROR`: a local directory laid out like a data directory, used by the fetch
    /// step instead of downloading.
    pub data_mirror: Option<PathBuf>,
    /// The process's current directory.
    pub current_dir: Option<PathBuf>,
    /// The root of the workspace this crate was compiled in, if that directory still exists.
    pub workspace_root: Option<PathBuf>,
}

impl SearchEnv {
    /// Reads the environment variables `LMC_DATA_DIR`, `LMC_CACHE_DIR`, `XDG_CACHE_HOME`, `HOME`
    /// and `LMC_DATA_MIRROR`, the current directory, and this crate's build-time workspace root.
    /// Empty variables count as unset. This is the only function of the crate that reads the
    /// process environment.
    pub fn from_process() -> Self {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
        };
        let workspace_root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .filter(|root| root.join("Cargo.toml").is_file())
            .map(Path::to_path_buf);
        SearchEnv {
            lmc_data_dir: var("LMC_DATA_DIR"),
            lmc_cache_dir: var("LMC_CACHE_DIR"),
            xdg_cache_home: var("XDG_CACHE_HOME"),
            home: var("HOME"),
            data_mirror: var("LMC_DATA_MIRROR"),
            current_dir: std::env::current_dir().ok(),
            workspace_root,
        }
    }

    /// The project's cache root: `$LMC_CACHE_DIR`, else `$XDG_CACHE_HOME/lmc`, else
    /// `$HOME/.cache/lmc`.
    pub fn cache_root(&self) -> Option<PathBuf> {
        self.lmc_cache_dir
            .clone()
            .or_else(|| self.xdg_cache_home.as_ref().map(|dir| dir.join("lmc")))
            .or_else(|| {
                self.home
                    .as_ref()
                    .map(|home| home.join(".cache").join("lmc"))
            })
    }

    /// Where the fetch step writes datasets: `<cache root>/datasets`.
    pub fn fetch_dir(&self) -> Option<PathBuf> {
        self.cache_root().map(|root| root.join("datasets"))
    }

    /// Where a pretrained model named `name` is installed: `<cache root>/models/<name>`.
    pub fn model_dir(&self, name: &str) -> Option<PathBuf> {
        self.cache_root().map(|root| root.join("models").join(name))
    }
}

/// Why a directory is a data-directory candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataDirSource {
    /// Given explicitly (e.g. `--data-dir`).
    Explicit,
    /// `$LMC_DATA_DIR`.
    EnvDataDir,
    /// The fetch step's download directory.
    FetchDir,
    /// `../shared/datasets` beside the current directory.
    SharedBesideCurrentDir,
    /// `../shared/datasets` beside the workspace root.
    SharedBesideWorkspace,
}

impl fmt::Display for DataDirSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DataDirSource::Explicit => "given explicitly",
            DataDirSource::EnvDataDir => "from $LMC_DATA_DIR",
            DataDirSource::FetchDir => "the fetch step's download directory",
            DataDirSource::SharedBesideCurrentDir => {
                "../shared/datasets beside the current directory"
            }
            DataDirSource::SharedBesideWorkspace => "../shared/datasets beside the workspace",
        })
    }
}

/// A data directory and why it was considered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataDir {
    /// The directory.
    pub root: PathBuf,
    /// Why it is a candidate.
    pub source: DataDirSource,
}

/// A file found in a data directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocatedFile {
    /// Full path of the file.
    pub path: PathBuf,
    /// The path relative to the data directory, as looked up.
    pub relative: String,
    /// The data directory it was found in.
    pub data_dir: DataDir,
}

/// An ordered list of candidate data directories (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDirSearch {
    candidates: Vec<DataDir>,
}

impl DataDirSearch {
    /// The search order of the module documentation: `explicit` alone when given, otherwise the
    /// candidates derived from `env` (duplicates removed, first occurrence kept).
    pub fn new(explicit: Option<&Path>, env: &SearchEnv) -> Self {
        if let Some(dir) = explicit {
            return DataDirSearch::only(dir);
        }
        let shared = |base: &Option<PathBuf>| {
            base.as_ref()
                .map(|base| base.join("..").join("shared").join("datasets"))
        };
        let listed = [
            (env.lmc_data_dir.clone(), DataDirSource::EnvDataDir),
            (env.fetch_dir(), DataDirSource::FetchDir),
            (
                shared(&env.current_dir),
                DataDirSource::SharedBesideCurrentDir,
            ),
            (
                shared(&env.workspace_root),
                DataDirSource::SharedBesideWorkspace,
            ),
        ];
        let mut candidates: Vec<DataDir> = Vec::new();
        for (root, source) in listed {
            let Some(root) = root else { continue };
            let same = |other: &DataDir| {
                other.root == root
                    || matches!(
                        (other.root.canonicalize(), root.canonicalize()),
                        (Ok(a), Ok(b)) if a == b
                    )
            };
            if !candidates.iter().any(same) {
                candidates.push(DataDir { root, source });
            }
        }
        DataDirSearch { candidates }
    }

    /// A search of exactly one directory.
    pub fn only(dir: impl Into<PathBuf>) -> Self {
        DataDirSearch {
            candidates: vec![DataDir {
                root: dir.into(),
                source: DataDirSource::Explicit,
            }],
        }
    }

    /// The candidates, in search order.
    pub fn candidates(&self) -> &[DataDir] {
        &self.candidates
    }

    /// The first candidate holding `relative`.
    pub fn locate(&self, relative: &str) -> Result<LocatedFile> {
        self.locate_first(&[relative])
    }

    /// The first candidate holding any of `alternatives`; within one candidate, earlier
    /// alternatives win (list the official file before its offline stand-in).
    pub fn locate_first(&self, alternatives: &[&str]) -> Result<LocatedFile> {
        for dir in &self.candidates {
            for relative in alternatives {
                let path = dir.root.join(relative);
                if path.is_file() {
                    return Ok(LocatedFile {
                        path,
                        relative: (*relative).to_owned(),
                        data_dir: dir.clone(),
                    });
                }
            }
        }
        Err(DataError::NotFound {
            relative: alternatives.join("` or `"),
            searched: self
                .candidates
                .iter()
                .map(|dir| {
                    let note = if dir.root.is_dir() {
                        dir.source.to_string()
                    } else {
                        format!("{}; directory does not exist", dir.source)
                    };
                    (dir.root.clone(), note)
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with(home: &str) -> SearchEnv {
        SearchEnv {
            home: Some(PathBuf::from(home)),
            ..SearchEnv::default()
        }
    }

    #[test]
    fn cache_root_precedence() {
        let mut env = env_with("/h");
        assert_eq!(
            env.fetch_dir(),
            Some(PathBuf::from("/h/.cache/lmc/datasets"))
        );
        env.xdg_cache_home = Some(PathBuf::from("/x"));
        assert_eq!(env.fetch_dir(), Some(PathBuf::from("/x/lmc/datasets")));
        env.lmc_cache_dir = Some(PathBuf::from("/c"));
        assert_eq!(env.fetch_dir(), Some(PathBuf::from("/c/datasets")));
        assert_eq!(env.model_dir("m"), Some(PathBuf::from("/c/models/m")));
    }

    #[test]
    fn search_order_and_explicit_override() {
        let env = SearchEnv {
            lmc_data_dir: Some(PathBuf::from("/data")),
            home: Some(PathBuf::from("/h")),
            current_dir: Some(PathBuf::from("/w/main")),
            workspace_root: Some(PathBuf::from("/w/main")),
            ..SearchEnv::default()
        };
        let search = DataDirSearch::new(None, &env);
        let sources: Vec<_> = search.candidates().iter().map(|dir| dir.source).collect();
        assert_eq!(
            sources,
            vec![
                DataDirSource::EnvDataDir,
                DataDirSource::FetchDir,
                DataDirSource::SharedBesideCurrentDir,
            ],
            "the workspace sibling duplicates the current-directory sibling"
        );
        let explicit = DataDirSearch::new(Some(Path::new("/e")), &env);
        assert_eq!(explicit.candidates().len(), 1);
        assert_eq!(explicit.candidates()[0].source, DataDirSource::Explicit);
    }

    #[test]
    fn not_found_lists_every_place() {
        let env = SearchEnv {
            lmc_data_dir: Some(PathBuf::from("/nonexistent/a")),
            lmc_cache_dir: Some(PathBuf::from("/nonexistent/b")),
            ..SearchEnv::default()
        };
        let error = DataDirSearch::new(None, &env)
            .locate("glue/MNLI/train.tsv")
            .expect_err("nothing exists there");
        let message = error.to_string();
        assert!(message.contains("glue/MNLI/train.tsv"), "{message}");
        assert!(message.contains("/nonexistent/a"), "{message}");
        assert!(message.contains("/nonexistent/b/datasets"), "{message}");
    }
}
