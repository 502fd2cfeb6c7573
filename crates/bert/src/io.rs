//! File-system helpers shared by the loaders and savers.

use std::path::Path;

use crate::BertError;

/// Writes `bytes` to `path` atomically ([`lmc_atomic::write`]).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BertError> {
    lmc_atomic::write(path, bytes).map_err(|source| BertError::Io {
        path: path.to_path_buf(),
        source,
    })
}
