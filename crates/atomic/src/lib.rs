//! Atomic writes of files and directories, the one way every lmc crate writes its results.
//!
//! A reader never sees half a file, and a process killed mid-write leaves the previous file (or
//! none): the content goes to a temporary sibling in the same directory (so the rename cannot
//! cross file systems), is synced to disk, and is renamed over the destination; the directory is
//! then synced so that the rename itself survives a crash. A write that fails or is abandoned
//! removes its temporary. Temporaries are named `.<pid>-<n>.tmp.<name>` (`<n>` counts within the
//! process, so threads writing the same destination do not collide; the name keeps its
//! extension for encoders that go by it), hidden, and never mistaken for a result by lmc's
//! readers.
//!
//! - [`write`]: bytes to a file.
//! - [`AtomicFile`]: a file written piece by piece (large checkpoints), then [`AtomicFile::commit`].
//! - [`write_with_path`]: a file written by a library that takes a path (image encoders).
//! - [`replace_dir`]: a directory filled in a temporary sibling, then put in place whole.
//! - [`symlink`]: a symbolic link created, or replaced, in one step.
//! - [`remove_abandoned`]: clears the temporaries that killed processes left in a directory.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # let dir = tempfile::tempdir()?;
//! let path = dir.path().join("done.json");
//! lmc_atomic::write(&path, b"{\"steps\": 10}")?;
//! assert_eq!(std::fs::read(&path)?, b"{\"steps\": 10}");
//! # Ok(())
//! # }
//! ```

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A temporary sibling of `path` that no other write of this process uses.
fn temporary_sibling(path: &Path) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{}-{n}.tmp.{name}", std::process::id()))
}

/// The directory that holds `path` (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Syncs a directory, so that a rename into it is durable. Not possible on every platform; a
/// failure there is not an error of the write.
fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// Writes `bytes` to `path` atomically, creating its directory when missing.
///
/// # Errors
/// Any I/O error; `path` is unchanged then.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// Writes `path` atomically through `fill`, which writes a file at the path it is given (a
/// temporary sibling with the same extension), for libraries that write to a path themselves.
/// `io_error` turns this function's own I/O errors into `fill`'s error type.
///
/// # Errors
/// `fill`'s error, or an I/O error through `io_error`; `path` is unchanged then.
pub fn write_with_path<E>(
    path: &Path,
    fill: impl FnOnce(&Path) -> Result<(), E>,
    io_error: impl Fn(io::Error) -> E,
) -> Result<(), E> {
    std::fs::create_dir_all(parent(path)).map_err(&io_error)?;
    let temporary = temporary_sibling(path);
    let result = fill(&temporary).and_then(|()| {
        File::open(&temporary)
            .and_then(|file| file.sync_all())
            .and_then(|()| std::fs::rename(&temporary, path))
            .map_err(&io_error)?;
        sync_dir(parent(path));
        Ok(())
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// A file being written atomically: it appears at its path, complete, on [`AtomicFile::commit`];
/// dropped without a commit, it leaves nothing behind.
#[derive(Debug)]
pub struct AtomicFile {
    out: Option<BufWriter<File>>,
    temporary: PathBuf,
    path: PathBuf,
}

impl AtomicFile {
    /// Starts writing `path`, creating its directory when missing.
    ///
    /// # Errors
    /// The directory or the temporary file cannot be created.
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        std::fs::create_dir_all(parent(path))?;
        let temporary = temporary_sibling(path);
        let file = File::create(&temporary)?;
        Ok(AtomicFile {
            out: Some(BufWriter::new(file)),
            temporary,
            path: path.to_path_buf(),
        })
    }

    /// The destination.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes and syncs the content and renames it over the destination.
    ///
    /// # Errors
    /// Any I/O error; the destination is unchanged then and the temporary is removed.
    pub fn commit(mut self) -> io::Result<()> {
        let out = self.out.take().expect("an uncommitted file has its writer");
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&self.temporary, &self.path)?;
        sync_dir(parent(&self.path));
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.out
            .as_mut()
            .expect("an uncommitted file has its writer")
            .write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out
            .as_mut()
            .expect("an uncommitted file has its writer")
            .flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

/// Builds a directory atomically: `fill` writes its content into a temporary sibling of `dir`,
/// which then replaces `dir` (an older `dir` is removed first, so between the two steps neither
/// exists; readers that need one of them must tolerate that instant, or version their names).
///
/// `io_error` turns this function's own I/O errors into `fill`'s error type.
///
/// # Errors
/// `fill`'s error, or an I/O error through `io_error`; the temporary is removed then.
pub fn replace_dir<E>(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<(), E>,
    io_error: impl Fn(io::Error) -> E,
) -> Result<(), E> {
    let staging = temporary_sibling(dir);
    std::fs::create_dir_all(&staging).map_err(&io_error)?;
    let result = fill(&staging).and_then(|()| {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(&io_error)?;
        }
        std::fs::rename(&staging, dir).map_err(&io_error)?;
        sync_dir(parent(dir));
        Ok(())
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Points the symbolic link `link` at `target` (relative to the link's folder, or absolute),
/// creating its folder, replacing an older link or file at `link` in one step.
///
/// # Errors
/// The link cannot be created or renamed into place.
pub fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::fs::create_dir_all(parent(link))?;
    let temporary = temporary_sibling(link);
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, &temporary)?;
    #[cfg(windows)]
    std::os::windows::fs::symlink_file(target, &temporary)?;
    if let Err(error) = std::fs::rename(&temporary, link) {
        let _ = std::fs::remove_file(&temporary);
        return Err(error);
    }
    sync_dir(parent(link));
    Ok(())
}

/// Removes the temporaries in `dir` (not below it) of processes that no longer run on this
/// machine, as a `kill -9` mid-write leaves them; returns how many. On systems without `/proc`,
/// where liveness cannot be told, it removes nothing.
///
/// # Errors
/// `dir` cannot be read, or an abandoned temporary cannot be removed.
pub fn remove_abandoned(dir: &Path) -> io::Result<usize> {
    if !Path::new("/proc/self").exists() {
        return Ok(0);
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = temporary_owner(&name) else {
            continue;
        };
        if pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
        removed += 1;
    }
    Ok(removed)
}

/// The pid in a temporary's name `.<pid>-<n>.tmp.<name>`.
fn temporary_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (owner, after) = rest.split_once(".tmp.")?;
    let (pid, n) = owner.split_once('-')?;
    (!after.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty())
        .then(|| pid.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("table.parquet");
        write(&path, b"first").unwrap();
        write(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(names(&dir.path().join("sub")), ["table.parquet"]);
    }

    #[test]
    fn an_abandoned_file_leaves_the_old_content_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        write(&path, b"old").unwrap();
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"half of the new").unwrap();
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["model.safetensors"]);
    }

    #[test]
    fn temporaries_of_one_process_never_share_a_name() {
        let path = Path::new("results/pairs.parquet");
        let (a, b) = (temporary_sibling(path), temporary_sibling(path));
        assert_ne!(a, b);
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with('.') && name.ends_with(".tmp.pairs.parquet"),
            "{name}"
        );
        assert_eq!(a.parent(), Some(Path::new("results")));
    }

    #[test]
    fn a_path_writer_sees_the_extension_and_its_file_lands_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("figure.png");
        write_with_path(
            &path,
            |temporary| {
                assert_eq!(temporary.extension().unwrap(), "png");
                std::fs::write(temporary, b"png bytes")
            },
            |e| e,
        )
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"png bytes");
        let failed = write_with_path(
            &path,
            |temporary| {
                std::fs::write(temporary, b"half")?;
                Err(io::Error::other("the encoder failed"))
            },
            |e| e,
        );
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"png bytes");
        assert_eq!(names(dir.path()), ["figure.png"]);
    }

    #[test]
    fn temporaries_of_dead_processes_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        // No process has this pid (above Linux's pid_max).
        let dead = format!(".{}-0.tmp.model", u32::MAX - 1);
        std::fs::create_dir(dir.path().join(&dead)).unwrap();
        std::fs::write(
            dir.path()
                .join(format!(".{}-1.tmp.done.json", u32::MAX - 1)),
            b"{",
        )
        .unwrap();
        let mine = temporary_sibling(&dir.path().join("run.json"));
        std::fs::write(&mine, b"being written").unwrap();
        std::fs::write(dir.path().join("metrics.csv"), b"step").unwrap();
        std::fs::write(dir.path().join(".hidden.tmp.but-not-ours"), b"").unwrap();
        assert_eq!(remove_abandoned(dir.path()).unwrap(), 2);
        let mine_name = mine.file_name().unwrap().to_string_lossy().into_owned();
        let mut expected = vec![
            ".hidden.tmp.but-not-ours".to_owned(),
            mine_name,
            "metrics.csv".into(),
        ];
        expected.sort();
        assert_eq!(names(dir.path()), expected);
        assert_eq!(remove_abandoned(&dir.path().join("missing")).unwrap(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_created_and_replaced_in_one_step() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("blob-1"), b"one").unwrap();
        std::fs::write(dir.path().join("blob-2"), b"two").unwrap();
        let link = dir.path().join("snapshot").join("config.json");
        symlink(Path::new("../blob-1"), &link).unwrap();
        assert_eq!(std::fs::read(&link).unwrap(), b"one");
        symlink(Path::new("../blob-2"), &link).unwrap();
        assert_eq!(std::fs::read(&link).unwrap(), b"two");
        assert_eq!(names(&dir.path().join("snapshot")), ["config.json"]);
    }

    #[test]
    fn a_directory_is_replaced_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("model");
        replace_dir(&model, |staging| write(&staging.join("a"), b"1"), |e| e).unwrap();
        let failed: io::Result<()> = replace_dir(
            &model,
            |staging| {
                write(&staging.join("b"), b"2")?;
                Err(io::Error::other("the fill failed"))
            },
            |e| e,
        );
        assert!(failed.is_err());
        assert_eq!(names(&model), ["a"], "the old directory stays");
        assert_eq!(names(dir.path()), ["model"], "no staging directory left");
        replace_dir(&model, |staging| write(&staging.join("c"), b"3"), |e| e).unwrap();
        assert_eq!(names(&model), ["c"]);
    }
}
