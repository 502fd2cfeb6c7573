//! File-system helpers shared by the loaders and savers.

use std::io::Write;
use std::path::Path;

use crate::BertError;

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so that
/// a reader never sees a half-written file and an interrupted write leaves the old file intact.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BertError> {
    let io_error = |source| BertError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_error)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(io_error)
}
