//! Output folders of commands: created with their parents, or an error that names the path in
//! the way (a file where a folder is needed) instead of the operating system's "File exists".

use std::path::Path;

use anyhow::{Context, bail};

/// Creates `dir` and its missing parents.
///
/// # Errors
/// A path component that exists as something other than a folder, named; other I/O errors,
/// naming `dir`.
pub fn create_dir(dir: &Path) -> anyhow::Result<()> {
    if let Some(blocking) = dir.ancestors().find(|path| path.exists() && !path.is_dir()) {
        bail!(
            "cannot create {}: {} is a file, not a directory",
            dir.display(),
            blocking.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// Creates the folder that will hold the file `path` (nothing when it has no parent).
///
/// # Errors
/// As [`create_dir`].
pub fn create_parent(path: &Path) -> anyhow::Result<()> {
    match path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        Some(dir) => create_dir(dir),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_in_the_way_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("results");
        std::fs::write(&file, "not a folder").unwrap();
        let error = create_parent(&file.join("x.parquet"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!("{} is a file, not a directory", file.display())),
            "{error}"
        );
        create_parent(&dir.path().join("a/b/c.parquet")).unwrap();
        assert!(dir.path().join("a/b").is_dir());
        create_parent(Path::new("c.parquet")).unwrap();
    }
}
