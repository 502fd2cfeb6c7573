//! Fetching into a data directory: from a mirror, by download (`file://` urls through curl, so no
//! network is needed), and the failures that say which file to place where.

use std::io::Write;
use std::path::Path;

use lmc_data::fetch::{file_stats, verify_file};
use lmc_data::{
    DataDirSearch, DataError, DataMode, FetchOptions, FetchOutcome, FetchSelection, Manifest,
    SearchEnv, TaskName, TaskSpec, fetch,
};

use crate::common::{datasets_dir, temp_dir, write_file};

fn options(data_dir: &Path, mirror: Option<&Path>, selection: FetchSelection) -> FetchOptions {
    FetchOptions {
        data_dir: data_dir.to_owned(),
        mirror: mirror.map(Path::to_owned),
        selection,
        download: true,
    }
}

#[test]
fn manifest_matches_the_offline_files() {
    let manifest = Manifest::builtin().expect("manifest");
    let offline = manifest
        .select(&FetchSelection::Set("offline".to_owned()))
        .expect("offline set");
    assert_eq!(offline.len(), 13, "every file of shared/datasets");
    for entry in offline {
        let path = datasets_dir().join(&entry.path);
        verify_file(entry, &path).unwrap_or_else(|problem| panic!("{problem}"));
    }
}

#[test]
fn mirror_fills_a_data_dir_that_tasks_then_load() {
    let data = temp_dir();
    let manifest = Manifest::builtin().expect("manifest");
    let selection = FetchSelection::Set("offline".to_owned());
    let report = fetch(
        &manifest,
        &options(data.path(), Some(&datasets_dir()), selection.clone()),
    )
    .expect("fetch");
    assert!(report.failures().is_empty(), "{:?}", report.failures());
    for (path, outcome) in &report.entries {
        assert!(
            matches!(
                outcome,
                Ok(FetchOutcome::CopiedFromMirror { .. } | FetchOutcome::LinkedFromMirror { .. })
            ),
            "{path}: {outcome:?}"
        );
    }
    let again = fetch(&manifest, &options(data.path(), None, selection)).expect("fetch");
    assert!(
        again
            .entries
            .iter()
            .all(|(_, outcome)| matches!(outcome, Ok(FetchOutcome::AlreadyPresent)))
    );
    let files = TaskSpec::builtin(TaskName::Mnli)
        .locate(&DataDirSearch::only(data.path()))
        .expect("locate");
    assert_eq!(files.mode, DataMode::OfflineSplit);
    assert_eq!(files.load_train().expect("train").len(), 8815);
}

#[test]
fn a_wrong_mirror_copy_never_reaches_the_data_dir() {
    let data = temp_dir();
    let mirror = temp_dir();
    let original = std::fs::read(datasets_dir().join("paws_qqp/dev_and_test.tsv")).expect("read");
    let truncated: Vec<u8> = original[..original.len() / 2].to_vec();
    write_file(mirror.path(), "paws_qqp/dev_and_test.tsv", &truncated);
    let manifest = Manifest::builtin().expect("manifest");
    let mut options = options(
        data.path(),
        Some(mirror.path()),
        FetchSelection::Paths(vec!["paws_qqp/dev_and_test.tsv".to_owned()]),
    );
    options.download = false;
    let report = fetch(&manifest, &options).expect("fetch");
    let failures = report.failures();
    assert_eq!(failures.len(), 1);
    let message = failures[0].to_string();
    assert!(message.contains("mirror copy rejected"), "{message}");
    assert!(message.contains("data rows"), "{message}");
    assert!(
        message.contains(
            &data
                .path()
                .join("paws_qqp/dev_and_test.tsv")
                .display()
                .to_string()
        )
    );
    assert!(
        message.contains("https://raw.githubusercontent.com/aNOnWhyMooS/connectivity"),
        "{message}"
    );
    assert!(!data.path().join("paws_qqp/dev_and_test.tsv").exists());
    let error = report.into_result().expect_err("incomplete");
    assert!(matches!(error, DataError::FetchIncomplete { .. }));
}

#[test]
fn files_without_a_download_say_where_to_put_them() {
    let data = temp_dir();
    let manifest = Manifest::builtin().expect("manifest");
    let report = fetch(
        &manifest,
        &options(
            data.path(),
            None,
            FetchSelection::Paths(vec!["glue/MNLI/dev_matched.reconstructed.tsv".to_owned()]),
        ),
    )
    .expect("fetch");
    let message = report.failures()[0].to_string();
    assert!(message.contains("no public download"), "{message}");
    assert!(
        message.contains(
            &data
                .path()
                .join("glue/MNLI/dev_matched.reconstructed.tsv")
                .display()
                .to_string()
        ),
        "{message}"
    );
}

fn manifest_for(entries: &str) -> Manifest {
    Manifest::parse(&format!("version = 1\n{entries}"), "test").expect("test manifest")
}

fn entry(path: &str, rows: usize, sha256: Option<&str>, url: &str, member: Option<&str>) -> String {
    let sha = sha256.map_or(String::new(), |sha| format!("sha256 = \"{sha}\"\n"));
    let member = member.map_or(String::new(), |member| {
        format!("archive_member = \"{member}\"\n")
    });
    format!(
        "[[file]]\npath = \"{path}\"\ndataset = \"t\"\nsets = [\"test\"]\nrows = {rows}\n\
         header = true\n{sha}url = \"{url}\"\n{member}source = \"s\"\nlicense = \"l\"\n\
         description = \"d\"\n"
    )
}

#[test]
fn downloads_plain_files_and_archive_members_with_curl() {
    let upstream = temp_dir();
    let data = temp_dir();
    let plain = write_file(upstream.path(), "plain.tsv", b"a\tb\n1\t2\n3\t4\n");
    let sha = file_stats(&plain, true).expect("stats").sha256;
    let archive = upstream.path().join("bundle.zip");
    {
        let file = std::fs::File::create(&archive).expect("zip file");
        let mut zip = zip::ZipWriter::new(file);
        zip.start_file("Bundle/inner.tsv", zip::write::SimpleFileOptions::default())
            .expect("start");
        zip.write_all(b"h\nx\ny\nz").expect("write");
        zip.finish().expect("finish");
    }
    let manifest = manifest_for(&format!(
        "{}{}{}",
        entry(
            "d/plain.tsv",
            2,
            Some(&sha),
            &format!("file://{}", plain.display()),
            None
        ),
        entry(
            "d/inner.tsv",
            3,
            None,
            &format!("file://{}", archive.display()),
            Some("Bundle/inner.tsv")
        ),
        entry(
            "d/missing.tsv",
            1,
            None,
            &format!("file://{}/absent.tsv", upstream.path().display()),
            None
        ),
    ));
    let report = fetch(&manifest, &options(data.path(), None, FetchSelection::All)).expect("fetch");
    assert!(matches!(
        report.entries[0].1,
        Ok(FetchOutcome::Downloaded { .. })
    ));
    assert!(matches!(
        report.entries[1].1,
        Ok(FetchOutcome::Downloaded { .. })
    ));
    assert_eq!(
        std::fs::read(data.path().join("d/inner.tsv")).expect("extracted"),
        b"h\nx\ny\nz"
    );
    let failure = report.entries[2].1.as_ref().expect_err("absent upstream");
    let message = failure.to_string();
    assert!(message.contains("download failed"), "{message}");
    assert!(message.contains("absent.tsv"), "{message}");
    assert!(message.contains(&data.path().join("d/missing.tsv").display().to_string()));
    assert!(
        !data.path().join(".lmc-downloads").exists(),
        "archives are cleaned up"
    );
    let leftovers: Vec<_> = std::fs::read_dir(data.path().join("d"))
        .expect("dir")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no partial files: {leftovers:?}");
}

#[test]
fn a_download_with_the_wrong_checksum_is_rejected() {
    let upstream = temp_dir();
    let data = temp_dir();
    let plain = write_file(upstream.path(), "plain.tsv", b"a\n1\n");
    let manifest = manifest_for(&entry(
        "plain.tsv",
        1,
        Some(&"0".repeat(64)),
        &format!("file://{}", plain.display()),
        None,
    ));
    let report = fetch(&manifest, &options(data.path(), None, FetchSelection::All)).expect("fetch");
    let message = report.failures()[0].to_string();
    assert!(message.contains("sha256"), "{message}");
    assert!(!data.path().join("plain.tsv").exists());
}

#[test]
fn an_existing_wrong_file_is_reported_not_overwritten() {
    let data = temp_dir();
    write_file(
        data.path(),
        "paws_qqp/dev_and_test.tsv",
        b"id\tsentence1\tsentence2\tlabel\n",
    );
    let manifest = Manifest::builtin().expect("manifest");
    let report = fetch(
        &manifest,
        &options(
            data.path(),
            Some(&datasets_dir()),
            FetchSelection::Paths(vec!["paws_qqp/dev_and_test.tsv".to_owned()]),
        ),
    )
    .expect("fetch");
    let message = report.failures()[0].to_string();
    assert!(message.contains("existing file is wrong"), "{message}");
    assert_eq!(
        std::fs::read(data.path().join("paws_qqp/dev_and_test.tsv")).expect("kept"),
        b"id\tsentence1\tsentence2\tlabel\n"
    );
}

#[test]
fn unknown_selections_are_errors() {
    let manifest = Manifest::builtin().expect("manifest");
    assert!(
        manifest
            .select(&FetchSelection::Set("nope".to_owned()))
            .is_err()
    );
    assert!(
        manifest
            .select(&FetchSelection::Paths(vec!["x.tsv".to_owned()]))
            .is_err()
    );
}

#[test]
fn options_follow_explicit_then_environment() {
    let env = SearchEnv {
        lmc_data_dir: Some("/env/data".into()),
        lmc_cache_dir: Some("/cache".into()),
        data_mirror: Some("/mirror".into()),
        ..SearchEnv::default()
    };
    let chosen = FetchOptions::resolve(None, None, FetchSelection::All, &env).expect("options");
    assert_eq!(chosen.data_dir, Path::new("/env/data"));
    assert_eq!(chosen.mirror.as_deref(), Some(Path::new("/mirror")));
    let explicit = FetchOptions::resolve(
        Some(Path::new("/x")),
        Some(Path::new("/m")),
        FetchSelection::All,
        &SearchEnv {
            lmc_cache_dir: Some("/cache".into()),
            ..SearchEnv::default()
        },
    )
    .expect("options");
    assert_eq!(explicit.data_dir, Path::new("/x"));
    assert_eq!(explicit.mirror.as_deref(), Some(Path::new("/m")));
    let cached = FetchOptions::resolve(
        None,
        None,
        FetchSelection::All,
        &SearchEnv {
            lmc_cache_dir: Some("/cache".into()),
            ..SearchEnv::default()
        },
    )
    .expect("options");
    assert_eq!(cached.data_dir, Path::new("/cache/datasets"));
    assert!(FetchOptions::resolve(None, None, FetchSelection::All, &SearchEnv::default()).is_err());
}
