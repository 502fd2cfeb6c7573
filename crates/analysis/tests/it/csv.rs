//! Reading the barrier CSV of `lmc cluster`: round trip, and a clear error for each kind of bad input.

use std::path::PathBuf;

use lmc_analysis::{
    AnalysisError, BarrierMatrix, ClusterOptions, KChoice, MatrixProblem, spectral_clustering,
};
use tempfile::TempDir;

fn write(dir: &TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("D.csv");
    std::fs::write(&path, text).expect("write");
    path
}

fn read(text: &str) -> Result<BarrierMatrix, AnalysisError> {
    let dir = TempDir::new().expect("tempdir");
    BarrierMatrix::read_csv(&write(&dir, text))
}

const GOOD: &str = ",a,b,c\na,0,0.5,0.1\nb,0.5,0,0.4\nc,0.1,0.4,0\n";

#[test]
fn reads_a_good_matrix_and_writes_labels() {
    let d = read(GOOD).expect("valid");
    assert_eq!(d.names, vec!["a", "b", "c"]);
    assert_eq!(d.get(0, 1), 0.5);
    let labelled = read(&GOOD.replacen(",a", "model,a", 1)).expect("any first header cell");
    assert_eq!(labelled, d);

    let dir = TempDir::new().expect("tempdir");
    let clustering = spectral_clustering(
        &d,
        &ClusterOptions {
            k: KChoice::Fixed(2),
            ..Default::default()
        },
    )
    .expect("clusters");
    let out = dir.path().join("labels.csv");
    clustering.write_labels_csv(&out).expect("written");
    let text = std::fs::read_to_string(&out).expect("read");
    assert!(text.starts_with("model,cluster\na,"), "{text}");
    assert_eq!(text.lines().count(), 4);
}

#[test]
fn eigengap_choice_is_reported() {
    let d = crate::planted(&[0, 0, 0, 1, 1, 1, 2, 2, 2], 0.01, 3.0);
    let clustering = spectral_clustering(
        &d,
        &ClusterOptions {
            k: KChoice::Eigengap,
            ..Default::default()
        },
    )
    .expect("clusters");
    assert_eq!((clustering.k, clustering.eigengap_k), (3, 3));
    assert!(crate::same_partition(
        &clustering.labels,
        &[0, 0, 0, 1, 1, 1, 2, 2, 2]
    ));
}

fn csv_error(text: &str) -> (usize, String) {
    match read(text) {
        Err(AnalysisError::Csv { line, message, .. }) => (line, message),
        other => panic!("expected a CSV error, got {other:?}"),
    }
}

fn matrix_problem(text: &str) -> MatrixProblem {
    match read(text) {
        Err(AnalysisError::Matrix { problem, origin }) => {
            assert!(origin.ends_with("D.csv"), "{origin}");
            problem
        }
        other => panic!("expected a matrix error, got {other:?}"),
    }
}

#[test]
fn empty_file() {
    assert_eq!(csv_error("").0, 1);
    assert!(csv_error("model\n").1.contains("names no models"));
    assert!(
        csv_error(",a,\n")
            .1
            .contains("column 2 of the header has no model name")
    );
}

#[test]
fn missing_row_is_not_square() {
    let (_, message) = csv_error(",a,b,c\na,0,0.5,0.1\nb,0.5,0,0.4\n");
    assert!(message.contains("2 rows for the 3 models"), "{message}");
}

#[test]
fn extra_row() {
    let (line, message) = csv_error(&format!("{GOOD}d,0,0,0\n"));
    assert_eq!(line, 5);
    assert!(message.contains("more rows"), "{message}");
}

#[test]
fn ragged_row_names_the_row() {
    let (line, message) = csv_error(",a,b,c\na,0,0.5,0.1\nb,0.5,0\nc,0.1,0.4,0\n");
    assert_eq!(line, 3);
    assert!(
        message.contains("row `b` has 3 cells, expected 4"),
        "{message}"
    );
}

#[test]
fn row_names_must_follow_the_header() {
    let (line, message) = csv_error(",a,b,c\na,0,0.5,0.1\nc,0.1,0.4,0\nb,0.5,0,0.4\n");
    assert_eq!(line, 3);
    assert!(
        message.contains("named `c` but column 2 of the header is `b`"),
        "{message}"
    );
}

#[test]
fn unparsable_number_names_row_and_column() {
    let (line, message) = csv_error(",a,b\na,0,x\nb,0.5,0\n");
    assert_eq!(line, 2);
    assert!(
        message.contains("row `a`, column `b`: `x` is not a number"),
        "{message}"
    );
}

#[test]
fn unterminated_quote() {
    assert!(csv_error(",\"a,b\na,0,0\n").1.contains("unterminated"));
}

#[test]
fn duplicate_model_name() {
    assert_eq!(
        matrix_problem(",a,a\na,0,1\na,1,0\n"),
        MatrixProblem::DuplicateName("a".into())
    );
}

#[test]
fn non_finite_entry() {
    assert!(matches!(
        matrix_problem(",a,b\na,0,NaN\nb,NaN,0\n"),
        MatrixProblem::NonFinite { row, column, .. } if row == "a" && column == "b"
    ));
    assert!(matches!(
        matrix_problem(",a,b\na,0,inf\nb,inf,0\n"),
        MatrixProblem::NonFinite { .. }
    ));
}

#[test]
fn negative_entry() {
    assert!(matches!(
        matrix_problem(",a,b\na,0,-0.1\nb,-0.1,0\n"),
        MatrixProblem::Negative { row, column, value } if row == "a" && column == "b" && value == -0.1
    ));
}

#[test]
fn asymmetric_entry() {
    let problem = matrix_problem(",a,b,c\na,0,0.5,0.1\nb,0.5,0,0.4\nc,0.1,0.3,0\n");
    assert_eq!(
        problem,
        MatrixProblem::Asymmetric {
            row: "b".into(),
            column: "c".into(),
            upper: 0.4,
            lower: 0.3
        }
    );
    let message = AnalysisError::Matrix {
        origin: "D.csv".into(),
        problem,
    }
    .to_string();
    assert!(
        message.contains("(row `b`, column `c`) = 0.4 but (row `c`, column `b`) = 0.3"),
        "{message}"
    );
}

#[test]
fn non_zero_diagonal() {
    assert_eq!(
        matrix_problem(",a,b\na,0,1\nb,1,0.2\n"),
        MatrixProblem::NonZeroDiagonal {
            model: "b".into(),
            value: 0.2
        }
    );
}

#[test]
fn missing_file() {
    let result = BarrierMatrix::read_csv(std::path::Path::new("/nonexistent/D.csv"));
    assert!(matches!(result, Err(AnalysisError::Io { .. })));
}

#[test]
fn k_larger_than_the_number_of_models() {
    let d = read(GOOD).expect("valid");
    let result = spectral_clustering(
        &d,
        &ClusterOptions {
            k: KChoice::Fixed(4),
            ..Default::default()
        },
    );
    assert!(matches!(result, Err(AnalysisError::Clustering(m)) if m.contains("k = 4")));
}
