//! One file into the cache: downloaded to `blobs/<etag>.incomplete` under huggingface_hub's lock
//! for that blob, resumed with `Range` requests when the connection drops, checked for size and
//! (LFS files) sha256, and only then renamed to `blobs/<etag>`.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::api::{Client, FileBody, Subject};
use crate::cache::HubCache;
use crate::error::{HubError, io_error};
use crate::progress::{DownloadEvent, Progress, Stage};

/// Requests per file before a download that keeps stopping early is given up (each must have
/// brought new bytes; the partial file stays for the next run).
const ATTEMPTS: usize = 5;

/// A file to bring into the cache.
pub(crate) struct BlobRequest<'a> {
    pub repo: &'a str,
    pub commit: &'a str,
    pub file: &'a str,
    pub url: &'a str,
    /// The blob's name: the sha256 of an LFS file, the git blob sha1 of any other.
    pub blob: &'a str,
    pub size: u64,
    /// The content's sha256, for LFS files.
    pub sha256: Option<&'a str>,
}

/// Makes `blobs/<blob>` exist with the requested content, downloading it unless it is there.
pub(crate) fn fetch_blob(
    client: &Client,
    cache: &HubCache,
    request: &BlobRequest<'_>,
    progress: Option<&dyn Progress>,
) -> Result<(), HubError> {
    let blob_path = cache.blob_path(request.repo, request.blob);
    if blob_path.is_file() {
        return Ok(());
    }
    let blobs_dir = blob_path.parent().expect("a blob has a folder");
    std::fs::create_dir_all(blobs_dir).map_err(io_error(blobs_dir))?;
    let lock_path = cache.lock_path(request.repo, request.blob);
    let lock_dir = lock_path.parent().expect("a lock has a folder");
    std::fs::create_dir_all(lock_dir).map_err(io_error(lock_dir))?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_error(&lock_path))?;
    lock.lock().map_err(io_error(&lock_path))?;
    if blob_path.is_file() {
        return Ok(()); // another process finished it while this one waited for the lock
    }

    let partial = blob_path.with_file_name(format!("{}.incomplete", request.blob));
    download_to(client, request, &partial, progress)?;
    verify(request, &partial)?;
    std::fs::rename(&partial, &blob_path).map_err(io_error(&blob_path))?;
    report(progress, request, Stage::Finished, request.size);
    Ok(())
}

/// Fills `partial` with the file's `size` bytes, resuming what is already there.
fn download_to(
    client: &Client,
    request: &BlobRequest<'_>,
    partial: &Path,
    progress: Option<&dyn Progress>,
) -> Result<(), HubError> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(partial)
        .map_err(io_error(partial))?;
    let mut have = file.metadata().map_err(io_error(partial))?.len();
    if have > request.size {
        file.set_len(0).map_err(io_error(partial))?;
        have = 0;
    }
    report(progress, request, Stage::Started, have);
    let subject = Subject {
        repo: request.repo,
        revision: request.commit,
        file: Some(request.file),
    };
    let truncated = |received: u64, reason: String| HubError::Truncated {
        file: request.file.to_string(),
        url: request.url.to_string(),
        received,
        expected: request.size,
        reason,
        partial: partial.to_path_buf(),
    };
    let mut buffer = vec![0u8; 1 << 16];
    for attempt in 1..=ATTEMPTS {
        if have >= request.size {
            break;
        }
        if attempt > 1 {
            report(progress, request, Stage::Started, have); // a log shows the resumption
        }
        let (start, response) = match client.get_file(request.url, have, subject)? {
            FileBody::Whole(response) => (0, response),
            FileBody::From { start, response } if start == have => (start, response),
            FileBody::From { .. } | FileBody::RangeNotSatisfiable => {
                // The server will not continue where the partial file ends: start over.
                file.set_len(0).map_err(io_error(partial))?;
                have = 0;
                continue;
            }
        };
        if start == 0 && have > 0 {
            file.set_len(0).map_err(io_error(partial))?;
        }
        file.seek(SeekFrom::Start(start))
            .map_err(io_error(partial))?;
        have = start;
        let before = have;
        let mut reader = response.into_reader();
        let stopped = loop {
            match reader.read(&mut buffer) {
                Ok(0) => break None,
                Ok(n) => {
                    file.write_all(&buffer[..n]).map_err(io_error(partial))?;
                    have += n as u64;
                    report(progress, request, Stage::Received, have);
                    if have > request.size {
                        break None; // too long: `verify` reports the size
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Some(e.to_string()),
            }
        };
        if have >= request.size {
            break;
        }
        let reason = stopped.unwrap_or_else(|| "the connection closed early".to_string());
        if have == before || attempt == ATTEMPTS {
            file.flush().map_err(io_error(partial))?;
            return Err(truncated(have, reason));
        }
    }
    if have < request.size {
        return Err(truncated(
            have,
            "the server does not resume downloads".to_string(),
        ));
    }
    file.sync_all().map_err(io_error(partial))
}

/// Checks a complete download's size and sha256; deletes it when either is wrong.
fn verify(request: &BlobRequest<'_>, partial: &Path) -> Result<(), HubError> {
    let actual = std::fs::metadata(partial).map_err(io_error(partial))?.len();
    if actual != request.size {
        let _ = std::fs::remove_file(partial);
        return Err(HubError::SizeMismatch {
            repo: request.repo.to_string(),
            file: request.file.to_string(),
            url: request.url.to_string(),
            expected: request.size,
            actual,
        });
    }
    if let Some(expected) = request.sha256 {
        let actual = sha256_file(partial)?;
        if actual != expected {
            let _ = std::fs::remove_file(partial);
            return Err(HubError::ChecksumMismatch {
                repo: request.repo.to_string(),
                file: request.file.to_string(),
                url: request.url.to_string(),
                expected: expected.to_string(),
                actual,
            });
        }
    }
    Ok(())
}

fn sha256_file(path: &Path) -> Result<String, HubError> {
    let mut file = std::fs::File::open(path).map_err(io_error(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(io_error(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn report(progress: Option<&dyn Progress>, request: &BlobRequest<'_>, stage: Stage, done: u64) {
    if let Some(progress) = progress {
        progress.report(&DownloadEvent {
            repo: request.repo,
            file: request.file,
            stage,
            done,
            total: request.size,
        });
    }
}
