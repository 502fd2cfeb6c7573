//! Records the git commit of the checkout `lmc` is built from as `LMC_GIT_COMMIT`, for the
//! provenance of every record it writes (`lmc_data::Provenance`). Outside a git checkout (a
//! published crate) nothing is set. Only this leaf crate has the script, so a new commit
//! recompiles the binary alone.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    // A plain checkout's `.git` folder; a worktree's `.git` file is not followed (no commit then).
    let Some(git_dir) = manifest
        .ancestors()
        .map(|dir| dir.join(".git"))
        .find(|dir| dir.is_dir())
    else {
        return;
    };
    // A new commit moves HEAD or the branch it points to: rerun then, and only then.
    println!("cargo:rerun-if-changed={}", git_dir.join("HEAD").display());
    if let Ok(head) = std::fs::read_to_string(git_dir.join("HEAD"))
        && let Some(reference) = head.trim().strip_prefix("ref: ")
    {
        rerun_if_exists(&git_dir.join(reference));
        rerun_if_exists(&git_dir.join("packed-refs"));
    }
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(&manifest)
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .filter(|commit| !commit.is_empty());
    if let Some(commit) = commit {
        println!("cargo:rustc-env=LMC_GIT_COMMIT={commit}");
    }
}

fn rerun_if_exists(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}
