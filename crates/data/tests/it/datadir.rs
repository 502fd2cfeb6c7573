//! Locating files across candidate data directories.

use lmc_data::{DataDirSearch, DataDirSource, DataError, SearchEnv};

use crate::common::{temp_dir, write_file};

#[test]
fn first_directory_holding_the_file_wins() {
    let first = temp_dir();
    let second = temp_dir();
    write_file(
        &second.path().join("datasets"),
        "hans/heuristics_evaluation_set.txt",
        b"x",
    );
    write_file(
        first.path(),
        "hans/heuristics_evaluation_set.regenerated.txt",
        b"x",
    );
    let env = SearchEnv {
        lmc_data_dir: Some(first.path().to_owned()),
        lmc_cache_dir: Some(second.path().to_owned()),
        ..SearchEnv::default()
    };
    write_file(&second.path().join("datasets"), "glue/RTE/dev.tsv", b"x");
    let search = DataDirSearch::new(None, &env);

    let rte = search
        .locate("glue/RTE/dev.tsv")
        .expect("found in the fetch dir");
    assert_eq!(rte.data_dir.source, DataDirSource::FetchDir);
    assert_eq!(rte.path, second.path().join("datasets/glue/RTE/dev.tsv"));

    let hans = search
        .locate_first(&[
            "hans/heuristics_evaluation_set.txt",
            "hans/heuristics_evaluation_set.regenerated.txt",
        ])
        .expect("found");
    assert_eq!(
        hans.data_dir.source,
        DataDirSource::EnvDataDir,
        "an earlier directory wins even with the less preferred file"
    );
    assert_eq!(
        hans.relative,
        "hans/heuristics_evaluation_set.regenerated.txt"
    );
}

#[test]
fn official_file_is_preferred_within_a_directory() {
    let dir = temp_dir();
    write_file(dir.path(), "hans/heuristics_evaluation_set.txt", b"x");
    write_file(
        dir.path(),
        "hans/heuristics_evaluation_set.regenerated.txt",
        b"x",
    );
    let found = DataDirSearch::only(dir.path())
        .locate_first(&[
            "hans/heuristics_evaluation_set.txt",
            "hans/heuristics_evaluation_set.regenerated.txt",
        ])
        .expect("found");
    assert_eq!(found.relative, "hans/heuristics_evaluation_set.txt");
    assert_eq!(found.data_dir.source, DataDirSource::Explicit);
}

#[test]
fn failure_lists_every_directory_and_the_relative_path() {
    let empty = temp_dir();
    let env = SearchEnv {
        lmc_data_dir: Some(empty.path().to_owned()),
        home: Some("/nonexistent-home".into()),
        current_dir: Some("/nonexistent-cwd/main".into()),
        ..SearchEnv::default()
    };
    let error = DataDirSearch::new(None, &env)
        .locate_first(&[
            "glue/MNLI/train.tsv",
            "glue/MNLI/dev_matched.reconstructed.tsv",
        ])
        .expect_err("nowhere");
    let DataError::NotFound { searched, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(searched.len(), 3);
    let message = error.to_string();
    for expected in [
        empty.path().display().to_string(),
        "/nonexistent-home/.cache/lmc/datasets".to_owned(),
        "/nonexistent-cwd/main/../shared/datasets".to_owned(),
        "glue/MNLI/train.tsv".to_owned(),
        "glue/MNLI/dev_matched.reconstructed.tsv".to_owned(),
        "directory does not exist".to_owned(),
    ] {
        assert!(
            message.contains(&expected),
            "{expected} missing from:\n{message}"
        );
    }
}

#[test]
fn the_process_search_reaches_the_shared_datasets() {
    let env = SearchEnv {
        lmc_data_dir: None,
        lmc_cache_dir: Some("/nonexistent-cache".into()),
        ..SearchEnv::from_process()
    };
    let found = DataDirSearch::new(None, &env)
        .locate("glue/RTE/dev.tsv")
        .expect("../shared/datasets beside the workspace (or current directory)");
    assert!(matches!(
        found.data_dir.source,
        DataDirSource::SharedBesideCurrentDir | DataDirSource::SharedBesideWorkspace
    ));
}
