//! The dataset manifest, and fetching its files into a data directory.
//!
//! `datasets/manifest.toml` (at the workspace root, built into the crate) lists every file with
//! its path in a data directory, row count, sha256 where known, download url and license. For
//! each selected entry, [`fetch`]:
//!
//! 1. keeps a file already at its destination if it verifies (row count, and sha256 when known);
//! 2. otherwise, with a mirror (a local directory laid out like a data directory: `--from DIR` or
//!    `$LMC_DATA_MIRROR`) holding the file, verifies the mirror's copy and hard-links it into place,
//!    or copies it where a link is impossible;
//! 3. otherwise downloads the entry's url with `curl` (a zip archive's member is extracted),
//!    verifies the result and moves it into place.
//!
//! Files are written atomically (a temporary file, then a rename); a file that fails verification
//! never reaches its destination. When an entry cannot be fetched, its [`FetchFailure`] says which
//! file to place where, and where the publisher distributes it.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::datadir::SearchEnv;
use crate::digest::to_hex;
use crate::error::{DataError, Result};

/// The manifest shipped with the workspace.
const BUILTIN_MANIFEST: &str = include_str!("../../../datasets/manifest.toml");

/// The dataset manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version (1).
    pub version: u32,
    /// The files.
    #[serde(rename = "file")]
    pub files: Vec<ManifestEntry>,
}

/// One file of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// Path relative to a data directory, `/`-separated.
    pub path: String,
    /// The dataset it belongs to (`mnli`, `hans`, …).
    pub dataset: String,
    /// Groups it belongs to: `official`, `offline`.
    pub sets: Vec<String>,
    /// Data rows, header excluded.
    pub rows: usize,
    /// Whether the first line is a header.
    pub header: bool,
    /// Expected sha256 (lower-case hex), when the project has verified the bytes.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Download url (of the file, or of the zip archive holding it).
    #[serde(default)]
    pub url: Option<String>,
    /// The file's path inside the zip archive at `url`.
    #[serde(default)]
    pub archive_member: Option<String>,
    /// Publisher and origin.
    pub source: String,
    /// License or terms of use.
    pub license: String,
    /// What the file is.
    pub description: String,
}

impl Manifest {
    /// The manifest built into the crate (`datasets/manifest.toml`).
    pub fn builtin() -> Result<Manifest> {
        Manifest::parse(BUILTIN_MANIFEST, "built-in datasets/manifest.toml")
    }

    /// Reads a manifest file.
    pub fn from_path(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(|error| DataError::io(path, error))?;
        Manifest::parse(&text, &path.display().to_string())
    }

    /// Parses and checks manifest text; `source_name` names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Manifest> {
        let error = |message: String| DataError::Manifest {
            source_name: source_name.to_owned(),
            message,
        };
        let manifest: Manifest = toml::from_str(text).map_err(|e| error(e.to_string()))?;
        if manifest.version != 1 {
            return Err(error(format!("unsupported version {}", manifest.version)));
        }
        let mut seen = std::collections::HashSet::new();
        for entry in &manifest.files {
            let relative = Path::new(&entry.path);
            if entry.path.is_empty()
                || !relative
                    .components()
                    .all(|component| matches!(component, Component::Normal(_)))
            {
                return Err(error(format!(
                    "`{}` is not a plain relative path",
                    entry.path
                )));
            }
            if !seen.insert(entry.path.as_str()) {
                return Err(error(format!("`{}` is listed twice", entry.path)));
            }
            if let Some(sha256) = &entry.sha256 {
                let is_hex = sha256.len() == 64
                    && sha256
                        .bytes()
                        .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
                if !is_hex {
                    return Err(error(format!(
                        "`{}`: sha256 must be 64 lower-case hex digits",
                        entry.path
                    )));
                }
            }
            if entry.archive_member.is_some() && entry.url.is_none() {
                return Err(error(format!(
                    "`{}`: an archive member needs a url",
                    entry.path
                )));
            }
        }
        Ok(manifest)
    }

    /// The entry for `path`, if listed.
    pub fn entry(&self, path: &str) -> Option<&ManifestEntry> {
        self.files.iter().find(|entry| entry.path == path)
    }

    /// The entries a selection picks, in manifest order. Errors on a set or path the manifest
    /// does not know.
    pub fn select(&self, selection: &FetchSelection) -> Result<Vec<&ManifestEntry>> {
        let unknown = |what: String| DataError::Manifest {
            source_name: "selection".to_owned(),
            message: what,
        };
        match selection {
            FetchSelection::All => Ok(self.files.iter().collect()),
            FetchSelection::Set(set) => {
                let chosen: Vec<_> = self
                    .files
                    .iter()
                    .filter(|entry| entry.sets.iter().any(|name| name == set))
                    .collect();
                if chosen.is_empty() {
                    return Err(unknown(format!("no file belongs to the set `{set}`")));
                }
                Ok(chosen)
            }
            FetchSelection::Paths(paths) => paths
                .iter()
                .map(|path| {
                    self.entry(path)
                        .ok_or_else(|| unknown(format!("`{path}` is not in the manifest")))
                })
                .collect(),
        }
    }
}

/// Which manifest entries to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchSelection {
    /// Every entry.
    All,
    /// The entries of one set (`official` or `offline`).
    Set(String),
    /// The entries with these paths.
    Paths(Vec<String>),
}

/// Where to fetch into and from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// The data directory written to.
    pub data_dir: PathBuf,
    /// A local directory laid out like a data directory, preferred to downloading.
    pub mirror: Option<PathBuf>,
    /// Which entries.
    pub selection: FetchSelection,
    /// Whether files absent from the mirror may be downloaded.
    pub download: bool,
}

impl FetchOptions {
    /// Options for `selection` with the destination and mirror chosen as the CLI does: the
    /// explicit `data_dir`, else `$LMC_DATA_DIR`, else the fetch directory of `env`; the explicit
    /// `mirror`, else `$LMC_DATA_MIRROR`. Downloads are allowed.
    pub fn resolve(
        data_dir: Option<&Path>,
        mirror: Option<&Path>,
        selection: FetchSelection,
        env: &SearchEnv,
    ) -> Result<FetchOptions> {
        let data_dir = data_dir
            .map(Path::to_path_buf)
            .or_else(|| env.lmc_data_dir.clone())
            .or_else(|| env.fetch_dir())
            .ok_or_else(|| {
                DataError::InvalidInput(
                    "no data directory: pass one, or set LMC_DATA_DIR, LMC_CACHE_DIR or HOME"
                        .to_owned(),
                )
            })?;
        Ok(FetchOptions {
            data_dir,
            mirror: mirror
                .map(Path::to_path_buf)
                .or_else(|| env.data_mirror.clone()),
            selection,
            download: true,
        })
    }
}

/// How an entry came to be in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchOutcome {
    /// It was already there and verified.
    AlreadyPresent,
    /// Hard-linked from the mirror.
    LinkedFromMirror {
        /// The mirror's file.
        source: PathBuf,
    },
    /// Copied from the mirror.
    CopiedFromMirror {
        /// The mirror's file.
        source: PathBuf,
    },
    /// Downloaded.
    Downloaded {
        /// The url downloaded.
        url: String,
    },
}

/// An entry that is still missing or wrong, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchFailure {
    /// The entry's path relative to the data directory.
    pub path: String,
    /// Where the file must be placed.
    pub destination: PathBuf,
    /// The publisher's url, if there is one.
    pub url: Option<String>,
    /// The file's path inside the archive at `url`, if `url` is an archive.
    pub archive_member: Option<String>,
    /// What went wrong.
    pub reason: String,
}

impl fmt::Display for FetchFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}; place the file at {}",
            self.path,
            self.reason,
            self.destination.display()
        )?;
        match (&self.url, &self.archive_member) {
            (Some(url), Some(member)) => {
                write!(f, " (it is `{member}` inside the archive {url})")
            }
            (Some(url), None) => write!(f, " (download it from {url})"),
            (None, _) => write!(
                f,
                " (it has no public download: copy it from a mirror such as the project's \
                 shared/datasets, e.g. with --from DIR)"
            ),
        }
    }
}

/// The result of a fetch, entry by entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchReport {
    /// The data directory written to.
    pub data_dir: PathBuf,
    /// Each selected entry's path and outcome, in manifest order.
    pub entries: Vec<(String, std::result::Result<FetchOutcome, FetchFailure>)>,
}

impl FetchReport {
    /// The entries that failed.
    pub fn failures(&self) -> Vec<&FetchFailure> {
        self.entries
            .iter()
            .filter_map(|(_, outcome)| outcome.as_ref().err())
            .collect()
    }

    /// The outcomes, or an error listing every failure.
    pub fn into_result(self) -> Result<Vec<(String, FetchOutcome)>> {
        let mut done = Vec::new();
        let mut failures = Vec::new();
        for (path, outcome) in self.entries {
            match outcome {
                Ok(outcome) => done.push((path, outcome)),
                Err(failure) => failures.push(failure),
            }
        }
        if failures.is_empty() {
            Ok(done)
        } else {
            Err(DataError::FetchIncomplete { failures })
        }
    }
}

/// Row count and sha256 of a file, read in one streaming pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStats {
    /// Data rows (lines, minus one for a header).
    pub rows: usize,
    /// Lower-case hex sha256.
    pub sha256: String,
}

/// Computes a file's [`FileStats`]; lines are counted as the loaders count them (a final line
/// without a newline counts).
pub fn file_stats(path: &Path, header: bool) -> Result<FileStats> {
    let mut file = std::fs::File::open(path).map_err(|error| DataError::io(path, error))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0_u8; 1 << 20];
    let mut newlines = 0_usize;
    let mut last_byte = None;
    loop {
        let read = file
            .read(&mut buffer)
            .map_err(|error| DataError::io(path, error))?;
        if read == 0 {
            break;
        }
        let chunk = &buffer[..read];
        hasher.update(chunk);
        newlines += chunk.iter().filter(|&&byte| byte == b'\n').count();
        last_byte = chunk.last().copied();
    }
    let lines = match last_byte {
        None => 0,
        Some(b'\n') => newlines,
        Some(_) => newlines + 1,
    };
    Ok(FileStats {
        rows: if header {
            lines.saturating_sub(1)
        } else {
            lines
        },
        sha256: to_hex(&hasher.finalize()),
    })
}

/// Checks a file against its manifest entry: row count, and sha256 when the entry has one.
pub fn verify_file(entry: &ManifestEntry, path: &Path) -> std::result::Result<(), String> {
    let stats = file_stats(path, entry.header).map_err(|error| error.to_string())?;
    if stats.rows != entry.rows {
        return Err(format!(
            "{} has {} data rows, the manifest expects {}",
            path.display(),
            stats.rows,
            entry.rows
        ));
    }
    if let Some(expected) = &entry.sha256
        && &stats.sha256 != expected
    {
        return Err(format!(
            "{} has sha256 {}, the manifest expects {expected} (if the publisher changed the \
             file, update datasets/manifest.toml)",
            path.display(),
            stats.sha256
        ));
    }
    Ok(())
}

/// Fetches the selected entries (see the module documentation). Never stops at the first
/// failure: every entry gets an outcome.
pub fn fetch(manifest: &Manifest, options: &FetchOptions) -> Result<FetchReport> {
    let entries = manifest.select(&options.selection)?;
    let mut archives = ArchiveDownloads::new(&options.data_dir);
    let mut report = FetchReport {
        data_dir: options.data_dir.clone(),
        entries: Vec::new(),
    };
    for entry in entries {
        let outcome = fetch_entry(entry, options, &mut archives);
        if let Err(failure) = &outcome {
            tracing::warn!("{failure}");
        }
        report.entries.push((entry.path.clone(), outcome));
    }
    archives.clean_up();
    Ok(report)
}

fn fetch_entry(
    entry: &ManifestEntry,
    options: &FetchOptions,
    archives: &mut ArchiveDownloads,
) -> std::result::Result<FetchOutcome, FetchFailure> {
    let destination = options.data_dir.join(&entry.path);
    let failure = |reason: String| FetchFailure {
        path: entry.path.clone(),
        destination: destination.clone(),
        url: entry.url.clone(),
        archive_member: entry.archive_member.clone(),
        reason,
    };
    if destination.exists() {
        return verify_file(entry, &destination)
            .map(|()| FetchOutcome::AlreadyPresent)
            .map_err(|problem| failure(format!("the existing file is wrong: {problem}")));
    }
    let parent = destination
        .parent()
        .ok_or_else(|| failure("the destination has no parent directory".to_owned()))?;
    std::fs::create_dir_all(parent)
        .map_err(|error| failure(format!("cannot create {}: {error}", parent.display())))?;
    let temporary = temporary_path(&destination);

    let mut reasons = Vec::new();
    if let Some(mirror) = &options.mirror {
        let source = mirror.join(&entry.path);
        if source.is_file() {
            match place_from_mirror(entry, &source, &temporary, &destination) {
                Ok(outcome) => return Ok(outcome),
                Err(problem) => reasons.push(format!("mirror copy rejected: {problem}")),
            }
        } else {
            reasons.push(format!("not in the mirror {}", mirror.display()));
        }
    }
    match (&entry.url, options.download) {
        (Some(url), true) => {
            let downloaded = match &entry.archive_member {
                Some(member) => archives
                    .get(url)
                    .and_then(|archive| extract_member(&archive, member, &temporary)),
                None => curl(url, &temporary),
            };
            let result = downloaded
                .and_then(|()| verify_file(entry, &temporary))
                .and_then(|()| {
                    std::fs::rename(&temporary, &destination)
                        .map_err(|error| format!("cannot move into place: {error}"))
                });
            match result {
                Ok(()) => return Ok(FetchOutcome::Downloaded { url: url.clone() }),
                Err(problem) => {
                    let _ = std::fs::remove_file(&temporary);
                    reasons.push(format!("download failed: {problem}"));
                }
            }
        }
        (Some(_), false) => reasons.push("downloads are disabled".to_owned()),
        (None, _) => reasons.push("no download url".to_owned()),
    }
    Err(failure(reasons.join("; ")))
}

fn place_from_mirror(
    entry: &ManifestEntry,
    source: &Path,
    temporary: &Path,
    destination: &Path,
) -> std::result::Result<FetchOutcome, String> {
    verify_file(entry, source)?;
    let outcome = if std::fs::hard_link(source, temporary).is_ok() {
        FetchOutcome::LinkedFromMirror {
            source: source.to_owned(),
        }
    } else {
        std::fs::copy(source, temporary).map_err(|error| format!("copy failed: {error}"))?;
        FetchOutcome::CopiedFromMirror {
            source: source.to_owned(),
        }
    };
    std::fs::rename(temporary, destination).map_err(|error| {
        let _ = std::fs::remove_file(temporary);
        format!("cannot move into place: {error}")
    })?;
    Ok(outcome)
}

fn temporary_path(destination: &Path) -> PathBuf {
    let name = destination
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    destination.with_file_name(format!(".{name}.partial.{}", std::process::id()))
}

/// Runs `curl` to download `url` into `destination`.
fn curl(url: &str, destination: &Path) -> std::result::Result<(), String> {
    let output = Command::new("curl")
        .args([
            "--fail",
            "--location",
            "--silent",
            "--show-error",
            "--retry",
            "2",
            "--connect-timeout",
            "30",
            "--output",
        ])
        .arg(destination)
        .arg(url)
        .output();
    match output {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            Err("curl is not installed (or not on PATH), so nothing can be downloaded".to_owned())
        }
        Err(error) => Err(format!("cannot run curl: {error}")),
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => {
            let _ = std::fs::remove_file(destination);
            Err(format!(
                "curl {url} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }
}

/// Zip archives downloaded during one fetch, each once, removed at the end.
struct ArchiveDownloads {
    dir: PathBuf,
    downloaded: HashMap<String, std::result::Result<PathBuf, String>>,
}

impl ArchiveDownloads {
    fn new(data_dir: &Path) -> Self {
        ArchiveDownloads {
            dir: data_dir.join(".lmc-downloads"),
            downloaded: HashMap::new(),
        }
    }

    fn get(&mut self, url: &str) -> std::result::Result<PathBuf, String> {
        if let Some(result) = self.downloaded.get(url) {
            return result.clone();
        }
        let result = std::fs::create_dir_all(&self.dir)
            .map_err(|error| format!("cannot create {}: {error}", self.dir.display()))
            .and_then(|()| {
                let path = self.dir.join(format!(
                    "{}.zip",
                    &to_hex(&Sha256::digest(url.as_bytes()))[..16]
                ));
                curl(url, &path).map(|()| path)
            });
        self.downloaded.insert(url.to_owned(), result.clone());
        result
    }

    fn clean_up(self) {
        for path in self.downloaded.into_values().flatten() {
            let _ = std::fs::remove_file(path);
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn extract_member(
    archive: &Path,
    member: &str,
    destination: &Path,
) -> std::result::Result<(), String> {
    let file = std::fs::File::open(archive)
        .map_err(|error| format!("cannot open {}: {error}", archive.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|error| format!("{} is not a zip archive: {error}", archive.display()))?;
    let mut entry = zip
        .by_name(member)
        .map_err(|error| format!("no `{member}` in the archive: {error}"))?;
    let mut output = std::fs::File::create(destination)
        .map_err(|error| format!("cannot create {}: {error}", destination.display()))?;
    std::io::copy(&mut entry, &mut output)
        .map_err(|error| format!("cannot extract `{member}`: {error}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_manifest_parses_and_covers_the_offline_layout() {
        let manifest = Manifest::builtin().expect("the built-in manifest is valid");
        for path in [
            "glue/MNLI/dev_matched.reconstructed.tsv",
            "hans/heuristics_evaluation_set.regenerated.txt",
            "paws_qqp/dev_and_test.tsv",
            "glue/QQP/train_subset_23k.tsv",
        ] {
            assert!(manifest.entry(path).is_some(), "{path}");
        }
    }

    #[test]
    fn rejects_paths_that_leave_the_data_dir() {
        let text = r#"
            version = 1
            [[file]]
            path = "../x.tsv"
            dataset = "x"
            sets = []
            rows = 1
            header = false
            source = "s"
            license = "l"
            description = "d"
        "#;
        let error = Manifest::parse(text, "test").expect_err("`..` is refused");
        assert!(error.to_string().contains("plain relative path"), "{error}");
    }
}
