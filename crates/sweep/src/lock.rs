//! One writer per shard of a results directory: [`ShardLock`].
//!
//! `lmc sweep` takes `locks/shard-<i>-of-<n>.lock` in the results directory before it evaluates
//! anything, and removes it when it ends. A second process on the same shard is refused with the
//! holder's pid, host and start time, instead of doing the same work again; other shards of the
//! sweep run beside it. A lock left behind by a process that died is taken over when that is
//! certain: the holder ran on this host and its pid is gone, or the holder was the same Slurm
//! array task (a requeued task resumes its own work). This module reads the environment in one
//! place, [`Holder::current`] (`SLURM_JOB_ID`, `SLURM_ARRAY_JOB_ID`, `SLURM_ARRAY_TASK_ID`).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, SweepError};

/// Folder of a results directory that holds the shard locks.
pub const LOCKS_DIR: &str = "locks";

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// The Slurm task (`<job>_<array task>` or `<job>`), when the process is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm_task: Option<String>,
    /// Seconds since the Unix epoch when the lock was taken.
    pub since: u64,
}

impl Holder {
    /// This process.
    pub fn current() -> Holder {
        let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        let slurm_task = match (var("SLURM_ARRAY_JOB_ID"), var("SLURM_ARRAY_TASK_ID")) {
            (Some(job), Some(task)) => Some(format!("{job}_{task}")),
            _ => var("SLURM_JOB_ID"),
        };
        Holder {
            pid: std::process::id(),
            host: host_name(),
            slurm_task,
            since: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    /// Whether `self`, found in a lock file, certainly holds it no longer, from the view of
    /// `taker`: the same Slurm task (requeued), or a dead process on the same host.
    fn is_gone_for(&self, taker: &Holder) -> bool {
        if self.slurm_task.is_some() && self.slurm_task == taker.slurm_task {
            return true;
        }
        self.host == taker.host && self.pid != taker.pid && !process_exists(self.pid)
    }
}

/// This machine's host name (Linux: `/proc/sys/kernel/hostname`), or `unknown`.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Whether process `pid` exists on this machine (on systems without `/proc`, assumed to).
fn process_exists(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new("/proc").join(pid.to_string()).exists()
}

/// A held lock file; removed when dropped.
#[derive(Debug)]
pub struct ShardLock {
    path: PathBuf,
}

impl ShardLock {
    /// Takes the lock at `path` for `holder` (normally [`Holder::current`]), creating its
    /// folder, taking over a lock whose holder is certainly gone.
    ///
    /// # Errors
    /// [`SweepError::Locked`] naming the holder when another process holds it; I/O errors.
    pub fn acquire(path: &Path, holder: &Holder) -> Result<ShardLock> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(SweepError::io(dir))?;
        }
        let text = serde_json::to_string(holder).expect("a holder serialises");
        // Two attempts: the second after removing a lock whose holder is gone.
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(mut file) => {
                    file.write_all(text.as_bytes())
                        .and_then(|()| file.sync_all())
                        .map_err(SweepError::io(path))?;
                    return Ok(ShardLock {
                        path: path.to_path_buf(),
                    });
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stored = std::fs::read_to_string(path).map_err(SweepError::io(path))?;
                    // A lock file cut short by a crash between create and write has no holder.
                    let previous: Option<Holder> = serde_json::from_str(&stored).ok();
                    match previous {
                        Some(previous) if !previous.is_gone_for(holder) => {
                            return Err(SweepError::Locked {
                                path: path.to_path_buf(),
                                holder: previous,
                            });
                        }
                        _ => std::fs::remove_file(path).map_err(SweepError::io(path))?,
                    }
                }
                Err(error) => return Err(SweepError::io(path)(error)),
            }
        }
        Err(SweepError::Invalid(format!(
            "{}: another process took the lock while a stale one was removed",
            path.display()
        )))
    }
}

impl Drop for ShardLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(pid: u32, slurm_task: Option<&str>) -> Holder {
        Holder {
            pid,
            host: host_name(),
            slurm_task: slurm_task.map(str::to_owned),
            since: 0,
        }
    }

    #[test]
    fn a_second_writer_is_refused_with_the_holders_pid_and_host() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCKS_DIR).join("shard-0-of-1.lock");
        let me = Holder::current();
        let lock = ShardLock::acquire(&path, &me).unwrap();
        let other = Holder {
            pid: me.pid + 1,
            ..me.clone()
        };
        let error = ShardLock::acquire(&path, &other).unwrap_err().to_string();
        assert!(
            error.contains(&format!("pid {} on {}", me.pid, me.host)),
            "{error}"
        );
        drop(lock);
        assert!(!path.exists(), "released on drop");
        ShardLock::acquire(&path, &other).unwrap();
    }

    #[test]
    fn a_lock_of_a_dead_process_or_of_the_same_slurm_task_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shard.lock");
        // No process has this pid (above Linux's pid_max).
        let dead = holder(u32::MAX - 1, None);
        std::fs::write(&path, serde_json::to_string(&dead).unwrap()).unwrap();
        let lock = ShardLock::acquire(&path, &holder(std::process::id(), None)).unwrap();
        drop(lock);

        let first_try = Holder {
            host: "node-a".into(),
            ..holder(4242, Some("77_3"))
        };
        std::fs::write(&path, serde_json::to_string(&first_try).unwrap()).unwrap();
        let requeued = Holder {
            host: "node-b".into(),
            ..holder(99, Some("77_3"))
        };
        ShardLock::acquire(&path, &requeued).unwrap();
    }

    #[test]
    fn a_live_holder_on_another_host_is_not_second_guessed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shard.lock");
        let elsewhere = Holder {
            host: "another-host".into(),
            ..holder(u32::MAX - 1, Some("5_0"))
        };
        std::fs::write(&path, serde_json::to_string(&elsewhere).unwrap()).unwrap();
        let error = ShardLock::acquire(&path, &holder(std::process::id(), Some("5_1")))
            .unwrap_err()
            .to_string();
        assert!(error.contains("another-host"), "{error}");
    }
}
