//! Whole reports from synthetic results directories, analysed with `lmc_analysis::analyze`.

use std::path::{Path, PathBuf};

use lmc_analysis::{AnalysisError, AnalyzeOptions, analyze, schema};
use lmc_report::{
    FigureOutcome, HTML_FILE, MARKDOWN_FILE, ReportContext, ReportError, ReportFiles, ReportInputs,
    write_report,
};
use tempfile::TempDir;

use crate::synthetic::{
    hans_frame, named_basin, soups_frame, surface_frames, write_parquet, write_results,
};

/// Results with every optional table (HANS, surfaces, two checkpoints, soups) and their analysis.
fn full_study(root: &Path) -> ReportInputs {
    let results = root.join("results");
    write_results(&results, &named_basin);
    write_parquet(&results.join(schema::HANS_CELLS_FILE), hans_frame());
    let (surface, models) = surface_frames();
    write_parquet(&results.join(schema::SURFACE_FILE), surface);
    write_parquet(&results.join(schema::SURFACE_MODELS_FILE), models);
    let checkpoints = results.join(schema::CHECKPOINTS_DIR);
    write_results(&checkpoints.join("step-100"), &|i| {
        if i == 3 { 'b' } else { named_basin(i) }
    });
    write_results(&checkpoints.join("step-200"), &named_basin);
    std::fs::create_dir(results.join(schema::SOUPS_DIR)).expect("soups dir");
    write_parquet(
        &results.join(schema::SOUPS_DIR).join(schema::SOUPS_FILE),
        soups_frame(),
    );
    let analysis = root.join("analysis");
    analyze(&results, &AnalyzeOptions::default())
        .expect("analyses")
        .write(&analysis)
        .expect("writes the analysis");
    ReportInputs {
        results_dir: results,
        analysis_dir: analysis,
        context: ReportContext {
            title: "Synthetic MNLI study".to_owned(),
            task: Some("mnli".to_owned()),
            preset: Some("tiny".to_owned()),
            configuration: vec![("seeds".to_owned(), "6".to_owned())],
            provenance: vec![
                "offline MNLI split".to_owned(),
                "regenerated HANS".to_owned(),
            ],
            ..ReportContext::default()
        },
    }
}

/// Every `http` in `html` is the SVG namespace: the page loads nothing from elsewhere.
fn assert_self_contained(html: &str) {
    for (at, _) in html.match_indices("http") {
        assert!(
            html[at..].starts_with("http://www.w3.org/2000/svg"),
            "external reference: {}",
            &html[at..(at + 60).min(html.len())]
        );
    }
    assert!(!html.contains("src="), "no external images or scripts");
}

/// A temporary directory, or `LMC_REPORT_TEST_OUT` when set, so that the generated study and
/// report can be kept and looked at (e.g. in a browser).
fn study_root() -> (Option<TempDir>, PathBuf) {
    match std::env::var_os("LMC_REPORT_TEST_OUT") {
        Some(dir) => (None, PathBuf::from(dir)),
        None => {
            let temp = TempDir::new().expect("temp dir");
            let path = temp.path().to_owned();
            (Some(temp), path)
        }
    }
}

#[test]
fn a_full_report_embeds_every_figure_and_the_paper_comparison() {
    let (_temp, root) = study_root();
    let inputs = full_study(&root);
    let out = root.join("report");
    let files = write_report(&inputs, &out).expect("writes the report");

    let skipped: Vec<_> = files
        .figures
        .iter()
        .filter(|f| matches!(f.outcome, FigureOutcome::Skipped { .. }))
        .map(|f| f.stem.clone())
        .collect();
    assert!(skipped.is_empty(), "skipped: {skipped:?}");
    let numbers: Vec<u8> = files.figures.iter().map(|f| f.number).collect();
    assert_eq!(numbers, [1, 1, 2, 2, 2, 3, 4, 5, 6, 7, 8]);
    for figure in &files.figures {
        for ext in ["svg", "png"] {
            let path = out.join("figures").join(format!("{}.{ext}", figure.stem));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if ext == "png" {
                assert_eq!(&bytes[..4], b"\x89PNG", "{}", path.display());
            }
        }
    }

    let html = std::fs::read_to_string(out.join(HTML_FILE)).expect("report.html");
    assert_eq!(files.html, out.join(HTML_FILE));
    assert_eq!(html.matches("<figure id=").count(), 11);
    assert_eq!(html.matches("<svg").count(), 11);
    assert_self_contained(&html);
    for expected in [
        "Synthetic MNLI study",
        "offline MNLI split",
        "regenerated HANS",
        "Paper vs this run",
        "88 / 12 (88 % / 12 %)",
        "4 / 2 (67 % / 33 %)",
        "HANS-LO accuracy",
        "lexical_overlap/non-entailment",
        "yes (cluster 1)",
        "between minus within, against shuffled matrices (permutation p)",
        "Soups: MNLI-m accuracy vs HANS-LO accuracy (6 models, 3 soups)",
    ] {
        assert!(html.contains(expected), "report.html lacks {expected:?}");
    }
    let markdown = std::fs::read_to_string(out.join(MARKDOWN_FILE)).expect("report.md");
    assert!(markdown.starts_with("# Synthetic MNLI study\n"));
    assert!(markdown.contains("![Figure 3: Barrier heatmap](figures/fig3_barrier_heatmap.svg)"));
    assert!(
        markdown.contains("| all | all | across | 0.5000 | 0.3000 |"),
        "the soup table, soups first, one column per set"
    );
    assert!(markdown.contains(
        "| cluster sizes (largest first) | 88 / 12 (88 % / 12 %) | 4 / 2 (67 % / 33 %) |"
    ));
    let separation = markdown
        .lines()
        .find(|line| line.starts_with("| between minus within"))
        .expect("separation row");
    assert!(
        separation.contains("| not tested |") && separation.contains("(p = 0.0"),
        "{separation}"
    );
}

/// Results of six models in the basins `basin_of` names (no surface, checkpoints or HANS cells),
/// analysed and reported without a context, under `root/report`.
fn bare_report(root: &Path, basin_of: &dyn Fn(usize) -> char) -> ReportFiles {
    let results = root.join("results");
    write_results(&results, basin_of);
    let analysis = root.join("analysis");
    analyze(&results, &AnalyzeOptions::default())
        .expect("analyses")
        .write(&analysis)
        .expect("writes");
    let inputs = ReportInputs {
        results_dir: results,
        analysis_dir: analysis,
        context: ReportContext::default(),
    };
    write_report(&inputs, &root.join("report")).expect("writes the report")
}

#[test]
fn missing_optional_tables_skip_their_figures_with_a_note() {
    let root = TempDir::new().expect("temp dir");
    let files = bare_report(root.path(), &named_basin);
    let skipped: Vec<u8> = files
        .figures
        .iter()
        .filter(|f| matches!(f.outcome, FigureOutcome::Skipped { .. }))
        .map(|f| f.number)
        .collect();
    assert_eq!(skipped, [2, 2, 2, 6, 7, 8]);
    let html = std::fs::read_to_string(&files.html).expect("report.html");
    assert!(html.contains("not drawn: no surface.parquet in the results directory"));
    assert!(html.contains("not drawn: no HANS cells"));
    assert!(html.contains("not drawn: no soups/soups.parquet in the results directory"));
    assert!(html.contains("No task given"));
    assert_self_contained(&html);
}

#[test]
fn a_missing_analysis_is_an_error_naming_the_file() {
    let root = TempDir::new().expect("temp dir");
    let results = root.path().join("results");
    write_results(&results, &named_basin);
    let inputs = ReportInputs {
        results_dir: results,
        analysis_dir: root.path().join("no-analysis"),
        context: ReportContext::default(),
    };
    let error = write_report(&inputs, &root.path().join("report")).expect_err("no analysis");
    assert!(matches!(
        error,
        ReportError::Table(AnalysisError::Io { .. })
    ));
    assert!(error.to_string().contains("analysis.json"), "{error}");
}

#[test]
fn clusters_of_equal_size_have_no_smallest() {
    let root = TempDir::new().expect("temp dir");
    bare_report(root.path(), &|i: usize| if i < 3 { 'a' } else { 'b' });
    let markdown =
        std::fs::read_to_string(root.path().join("report").join(MARKDOWN_FILE)).expect("report.md");
    let row = markdown
        .lines()
        .find(|line| line.starts_with("| smallest cluster is the worst"))
        .expect("smallest-cluster row");
    assert!(
        row.contains("no smallest: the smallest size is shared"),
        "{row}"
    );
}
