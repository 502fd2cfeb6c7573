//! Malformed files give typed errors naming file and line; `-` gold labels are skipped and
//! counted; nothing yields a silently empty dataset.

use lmc_data::{DataError, DatasetFormat};

use crate::common::{temp_dir, write_file};

const MNLI_HEADER: &str = "index\tsentence1\tsentence2\tgold_label\n";

fn load_mnli(contents: &[u8]) -> (tempfile::TempDir, Result<lmc_data::Dataset, DataError>) {
    let dir = temp_dir();
    let path = write_file(dir.path(), "mnli.tsv", contents);
    let result = DatasetFormat::Mnli.load(&path);
    (dir, result)
}

#[test]
fn wrong_column_count_names_file_and_line() {
    let contents = format!("{MNLI_HEADER}0\ta\tb\tneutral\n1\ta\tb\n");
    let (_dir, result) = load_mnli(contents.as_bytes());
    let error = result.expect_err("line 3 has 3 fields");
    assert!(
        matches!(
            error,
            DataError::ColumnCount {
                line: 3,
                expected: 4,
                found: 3,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("mnli.tsv:3:"), "{message}");
}

#[test]
fn extra_fields_are_an_error_too() {
    let contents = format!("{MNLI_HEADER}0\ta\tb\tneutral\textra\n");
    let (_dir, result) = load_mnli(contents.as_bytes());
    assert!(matches!(
        result,
        Err(DataError::ColumnCount {
            line: 2,
            found: 5,
            ..
        })
    ));
}

#[test]
fn unknown_label() {
    let contents = format!("{MNLI_HEADER}0\ta\tb\tneutral\n1\ta\tb\tmaybe\n");
    let (_dir, result) = load_mnli(contents.as_bytes());
    let error = result.expect_err("`maybe` is no MNLI label");
    assert!(
        matches!(&error, DataError::UnknownLabel { line: 3, label, .. } if label == "maybe"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("entailment, neutral, contradiction")
    );
}

#[test]
fn integer_label_out_of_range() {
    let dir = temp_dir();
    let path = write_file(
        dir.path(),
        "paws.tsv",
        b"id\tsentence1\tsentence2\tlabel\n1\ta\tb\t2\n",
    );
    let error = DatasetFormat::PawsQqp
        .load(&path)
        .expect_err("2 is no label");
    assert!(
        matches!(error, DataError::UnknownLabel { line: 2, .. }),
        "{error:?}"
    );
}

#[test]
fn invalid_utf8() {
    let mut contents = MNLI_HEADER.as_bytes().to_vec();
    contents.extend_from_slice(b"0\ta\tb\tneutral\n1\tbad \xFF byte\tb\tneutral\n");
    let (_dir, result) = load_mnli(&contents);
    let error = result.expect_err("invalid UTF-8 on line 3");
    assert!(
        matches!(
            error,
            DataError::InvalidUtf8 {
                line: 3,
                byte_offset: 6,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn empty_sentence() {
    let contents = format!("{MNLI_HEADER}0\ta\t \tneutral\n");
    let (_dir, result) = load_mnli(contents.as_bytes());
    let error = result.expect_err("sentence2 is blank");
    assert!(
        matches!(&error, DataError::EmptyText { line: 2, column, .. } if column == "sentence2"),
        "{error:?}"
    );
}

#[test]
fn missing_column() {
    let (_dir, result) = load_mnli(b"index\tsentence1\tgold_label\n0\ta\tneutral\n");
    let error = result.expect_err("no sentence2 column");
    assert!(
        matches!(&error, DataError::MissingColumn { column, .. } if column == "sentence2"),
        "{error:?}"
    );
    assert!(error.to_string().contains(":1:"), "{error}");
}

#[test]
fn empty_file() {
    let (_dir, result) = load_mnli(b"");
    assert!(matches!(result, Err(DataError::EmptyFile { .. })));
}

#[test]
fn header_only_is_not_a_dataset() {
    let (_dir, result) = load_mnli(MNLI_HEADER.as_bytes());
    assert!(matches!(
        result,
        Err(DataError::NoRows {
            rows: 0,
            skipped: 0,
            ..
        })
    ));
}

#[test]
fn rows_without_gold_label_are_skipped_counted_and_keep_indices() {
    let contents = format!("{MNLI_HEADER}0\ta\tb\t-\n1\tc\td\tcontradiction\n2\te\tf\t-\n");
    let (_dir, result) = load_mnli(contents.as_bytes());
    let mnli = result.expect("loads");
    assert_eq!(mnli.len(), 1);
    assert_eq!(
        mnli.examples[0].index, 1,
        "the index is the row's index in the file"
    );
    assert_eq!(mnli.examples[0].label, 2);
    assert_eq!(mnli.report.rows_in_file, 3);
    assert_eq!(mnli.report.skipped_without_gold_label, 2);
}

#[test]
fn only_skipped_rows_is_an_error() {
    let contents = format!("{MNLI_HEADER}0\ta\tb\t-\n");
    let (_dir, result) = load_mnli(contents.as_bytes());
    assert!(matches!(
        result,
        Err(DataError::NoRows {
            rows: 1,
            skipped: 1,
            ..
        })
    ));
}

#[test]
fn dash_is_an_unknown_label_outside_nli() {
    let dir = temp_dir();
    let path = write_file(
        dir.path(),
        "rte.tsv",
        b"index\tsentence1\tsentence2\tlabel\n0\ta\tb\t-\n",
    );
    assert!(matches!(
        DatasetFormat::Rte.load(&path),
        Err(DataError::UnknownLabel { line: 2, .. })
    ));
}

#[test]
fn quotes_are_text_not_quoting() {
    let contents =
        format!("{MNLI_HEADER}0\t\"He said \"\"no\"\" then\t'quoted\" half\tentailment\r\n");
    let (_dir, result) = load_mnli(contents.as_bytes());
    let mnli = result.expect("loads");
    assert_eq!(mnli.examples[0].text_a, "\"He said \"\"no\"\" then");
    assert_eq!(mnli.examples[0].text_b.as_deref(), Some("'quoted\" half"));
}

#[test]
fn official_glue_layout_is_read_by_header() {
    let header = "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t\
                  sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n";
    let row = "0\t31193\t31193n\tgovernment\t( ( x ) )\t( ( y ) )\t(ROOT x)\t(ROOT y)\t\
               Conceptually cream skimming has two basic dimensions.\t\
               Product and geography are what make cream skimming work.\tneutral\tneutral\n";
    let (_dir, result) = load_mnli(format!("{header}{row}").as_bytes());
    let mnli = result.expect("the 12-column GLUE layout loads");
    assert_eq!(
        mnli.examples[0].text_a,
        "Conceptually cream skimming has two basic dimensions."
    );
    assert_eq!(mnli.examples[0].label, 1);
}

#[test]
fn hans_unknown_heuristic() {
    let dir = temp_dir();
    let header = "gold_label\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t\
                  sentence2_parse\tsentence1\tsentence2\tpairID\theuristic\tsubcase\ttemplate\n";
    let row = "entailment\tx\ty\tx\ty\tA b .\tA .\tex0\tsyntax\tse_x\ttemp1\n";
    let path = write_file(dir.path(), "hans.txt", format!("{header}{row}").as_bytes());
    let error = DatasetFormat::Hans
        .load(&path)
        .expect_err("unknown heuristic");
    assert!(
        matches!(&error, DataError::UnknownValue { line: 2, value, .. } if value == "syntax"),
        "{error:?}"
    );
}

#[test]
fn cola_rows_need_four_fields() {
    let dir = temp_dir();
    let path = write_file(
        dir.path(),
        "cola.tsv",
        b"gj04\t1\t\tGood sentence.\ngj04\t0\tBad sentence.\n",
    );
    let error = DatasetFormat::Cola
        .load(&path)
        .expect_err("line 2 has 3 fields");
    assert!(
        matches!(
            error,
            DataError::ColumnCount {
                line: 2,
                expected: 4,
                found: 3,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let dir = temp_dir();
    let path = dir.path().join("absent.tsv");
    let error = DatasetFormat::Snli.load(&path).expect_err("absent");
    assert!(matches!(error, DataError::Io { .. }));
    assert!(error.to_string().contains("absent.tsv"));
}
