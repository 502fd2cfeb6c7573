//! [`Provenance`]: which lmc computed a result, on what, written into every run record
//! (`run.json`, `sweep.json`, `analysis.json`, `reproduce.json`).

use serde::{Deserialize, Serialize};

/// Which lmc computed a result, and on what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// lmc's version (every lmc crate shares the workspace's version).
    pub lmc_version: String,
    /// The git commit lmc was built from, when it was built from a checkout (the `lmc` binary's
    /// build script reads `.git`); absent for a published crate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// burn's name of the backend that computed (`flex`, `fusion<cubecl<cuda>>`); for a record
    /// of several commands (`reproduce.json`) the `--backend` choice (`cpu`, `cuda`); `none` for
    /// work without a model (analysis).
    pub backend: String,
    /// Threads of the process's compute pool (rayon's global pool).
    pub threads: usize,
}
