//! `analyze` end to end on small Parquet files: six synthetic models in two planted basins.

use std::fs::File;
use std::path::Path;

use lmc_analysis::{
    Analysis, AnalysisError, AnalyzeOptions, BarrierMatrix, CurveMetric, MatrixSpec, PairsTable,
    Quantity, analysis_files, analyze, pairwise_matrix, schema,
};
use polars::prelude::*;
use tempfile::TempDir;

const MODELS: [&str; 6] = ["a0", "a1", "a2", "b0", "b1", "b2"];
const POINTS: u32 = 10;

fn basin(model: &str) -> char {
    model.chars().next().expect("non-empty name")
}

fn endpoint_loss(model: usize) -> f64 {
    0.40 + 0.01 * model as f64
}

/// Loss along the path between models `i` and `j` at α: a convex dip inside a basin, a bump of 1.5
/// between basins.
fn path_loss(i: usize, j: usize, alpha: f64) -> f64 {
    let chord = (1.0 - alpha) * endpoint_loss(i) + alpha * endpoint_loss(j);
    if basin(MODELS[i]) == basin(MODELS[j]) {
        chord - 0.08 * alpha * (1.0 - alpha)
    } else {
        chord + 1.5 * (std::f64::consts::PI * alpha).sin().powi(2)
    }
}

#[derive(Default)]
struct Pairs {
    a: Vec<String>,
    b: Vec<String>,
    set: Vec<String>,
    index: Vec<u32>,
    alpha: Vec<f64>,
    loss: Vec<f64>,
}

impl Pairs {
    /// The curve from model `i` to model `j` on both sets.
    fn push(&mut self, i: usize, j: usize) {
        for set in ["id", "ood"] {
            for k in 0..POINTS {
                let alpha = f64::from(k) / f64::from(POINTS - 1);
                self.a.push(MODELS[i].into());
                self.b.push(MODELS[j].into());
                self.set.push(set.into());
                self.index.push(k);
                self.alpha.push(alpha);
                self.loss.push(path_loss(i, j, alpha));
            }
        }
    }

    fn frame(self) -> DataFrame {
        let n = self.loss.len();
        let metric: Vec<f64> = self.loss.iter().map(|l| 1.0 - l / 2.0).collect();
        df!(
            schema::MODEL_A => self.a,
            schema::MODEL_B => self.b,
            schema::SET => self.set,
            schema::ALPHA_INDEX => self.index,
            schema::ALPHA => self.alpha,
            schema::LOSS => self.loss,
            schema::METRIC => metric.clone(),
            schema::ACCURACY => metric,
            schema::N_EXAMPLES => vec![512_u32; n],
        )
        .expect("pairs frame")
    }
}

/// Every unordered pair once, except (b2, a0) stored reversed and (a1, a2) stored both ways.
fn pairs_frame() -> DataFrame {
    let mut pairs = Pairs::default();
    for (i, a) in MODELS.iter().enumerate() {
        for (j, b) in MODELS.iter().enumerate().skip(i + 1) {
            match (*a, *b) {
                ("a0", "b2") => pairs.push(j, i),
                ("a1", "a2") => {
                    pairs.push(i, j);
                    pairs.push(j, i);
                }
                _ => pairs.push(i, j),
            }
        }
    }
    pairs.frame()
}

/// Diagnostic metric: basin `a` generalises (0.60–0.64), basin `b` does not (0.30–0.34).
fn diagnostic(model: usize) -> f64 {
    let base = if basin(MODELS[model]) == 'a' {
        0.60
    } else {
        0.30
    };
    base + 0.02 * (model % 3) as f64
}

fn endpoints_frame() -> DataFrame {
    let (mut model, mut set, mut loss, mut metric) = (vec![], vec![], vec![], vec![]);
    for (i, name) in MODELS.iter().enumerate() {
        for s in ["id", "ood"] {
            model.push(*name);
            set.push(s);
            loss.push(endpoint_loss(i));
            metric.push(if s == "id" {
                0.84 + 0.001 * i as f64
            } else {
                diagnostic(i)
            });
        }
    }
    let n = model.len();
    df!(
        schema::MODEL => model,
        schema::SET => set,
        schema::LOSS => loss,
        schema::METRIC => metric.clone(),
        schema::ACCURACY => metric,
        schema::N_EXAMPLES => vec![512_u32; n],
    )
    .expect("endpoints frame")
}

fn hans_frame() -> DataFrame {
    let (mut model, mut heuristic, mut label, mut accuracy) = (vec![], vec![], vec![], vec![]);
    for (i, name) in MODELS.iter().enumerate() {
        for h in schema::HANS_HEURISTICS {
            for l in schema::HANS_LABELS {
                model.push(*name);
                heuristic.push(h);
                label.push(l);
                accuracy.push(if l == "entailment" {
                    0.95
                } else {
                    diagnostic(i)
                });
            }
        }
    }
    let n = model.len();
    df!(
        schema::MODEL => model,
        schema::HEURISTIC => heuristic,
        schema::LABEL => label,
        schema::ACCURACY => accuracy,
        schema::N_EXAMPLES => vec![1000_u32; n],
    )
    .expect("hans frame")
}

fn write_parquet(path: &Path, mut df: DataFrame) {
    let file = File::create(path).expect("create");
    ParquetWriter::new(file).finish(&mut df).expect("parquet");
}

fn results_dir(pairs: DataFrame, with_hans: bool) -> TempDir {
    let dir = TempDir::new().expect("tempdir");
    write_parquet(&dir.path().join(schema::PAIRS_FILE), pairs);
    write_parquet(&dir.path().join(schema::ENDPOINTS_FILE), endpoints_frame());
    if with_hans {
        write_parquet(&dir.path().join(schema::HANS_CELLS_FILE), hans_frame());
    }
    dir
}

#[test]
fn analyze_finds_the_planted_basins_and_writes_every_table() {
    let results = results_dir(pairs_frame(), true);
    let analysis = analyze(results.path(), &AnalyzeOptions::default()).expect("analysis");

    assert_eq!(analysis.models, MODELS);
    assert_eq!(analysis.clustering.labels, vec![0, 0, 0, 1, 1, 1]);
    assert_eq!(analysis.clustering.sizes(), vec![3, 3]);
    assert!(analysis.axis.distances[..3].iter().all(|&x| x < 0.0));
    assert!(analysis.axis.distances[3..].iter().all(|&x| x > 0.0));
    assert!(analysis.correlation.pearson.expect("defined") < -0.9);
    let interval = analysis.correlation.pearson_interval;
    assert!(interval.low.expect("defined") <= interval.high.expect("defined"));

    let cg = &analysis.convexity_gap;
    assert_eq!(cg.get(0, 1), 0.0);
    assert!(cg.get(0, 3) > 1.0 && (cg.get(0, 5) - cg.get(5, 0)).abs() == 0.0);
    assert!(analysis.convexity_gap_summary.within.max.expect("pairs") < 1e-12);
    assert!(analysis.convexity_gap_summary.between.min.expect("pairs") > 1.0);
    assert_eq!(analysis.convexity_gap_summary.within.count, 6);
    assert_eq!(analysis.convexity_gap_summary.between.count, 9);
    // Of the C(15, 6) = 5,005 ways to deal the six zero gaps to pairs, 10 form two basins of three.
    let separation = analysis.separation.expect("pairs within and between");
    assert!(separation.statistic > 1.0, "{separation:?}");
    assert!(separation.p_value < 0.02, "{separation:?}");

    let stats = &analysis.cluster_stats;
    assert_eq!(stats[0].size, 3);
    assert!((stats[0].diagnostic.mean.expect("mean") - 0.62).abs() < 1e-12);
    assert!((stats[1].diagnostic.mean.expect("mean") - 0.32).abs() < 1e-12);
    assert_eq!(stats[1].hans.len(), 6);
    assert_eq!(stats[1].hans[1].0, "lexical_overlap/non-entailment");

    let out = results.path().join("analysis");
    let written = analysis.write(&out).expect("written");
    for name in [
        "barrier_matrix.csv",
        "endpoint_barrier_matrix.csv",
        "clusters.parquet",
        "clusters.csv",
        "cluster_stats.parquet",
        "cluster_stats.csv",
        "correlation.json",
        "analysis.json",
        "summary.md",
    ] {
        assert!(written.contains(&out.join(name)), "{name} not reported");
        assert!(out.join(name).is_file(), "{name} missing");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .expect("listing")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    assert_eq!(
        &BarrierMatrix::read_csv(&out.join("barrier_matrix.csv")).expect("csv"),
        cg
    );
    let clusters = ParquetReader::new(File::open(out.join("clusters.parquet")).expect("open"))
        .finish()
        .expect("parquet");
    assert_eq!(clusters.height(), 6);
    assert_eq!(
        clusters
            .get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        [
            "model",
            "cluster",
            "centroid_distance",
            "diagnostic_metric",
            "in_domain_metric"
        ]
    );
    let stats_frame =
        ParquetReader::new(File::open(out.join("cluster_stats.parquet")).expect("open"))
            .finish()
            .expect("parquet");
    assert_eq!(stats_frame.height(), 2);
    assert!(
        stats_frame
            .column("hans_lexical_overlap_non_entailment_mean")
            .is_ok()
    );

    let correlation: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("correlation.json")).expect("read"))
            .expect("json");
    assert!(correlation["correlation"]["pearson"].as_f64().expect("r") < -0.9);
    let summary = std::fs::read_to_string(out.join("summary.md")).expect("read");
    assert!(
        summary.contains("Pearson r")
            && summary.contains("lexical_overlap/non-entailment")
            && summary.contains("stronger than chance (p = 0.0"),
        "{summary}"
    );
}

/// Whether `read` is `written` up to the last bit of a float: serde_json without its
/// `float_roundtrip` feature reads about one number in six back one ulp away from the one written.
fn assert_equal_up_to_an_ulp(read: &serde_json::Value, written: &serde_json::Value, at: &str) {
    use serde_json::Value;
    match (read, written) {
        (Value::Number(r), Value::Number(w)) if r.is_f64() && w.is_f64() => {
            let (r, w) = (r.as_f64().expect("f64"), w.as_f64().expect("f64"));
            assert!(
                r.to_bits().abs_diff(w.to_bits()) <= 1,
                "{at}: read {r}, wrote {w}"
            );
        }
        (Value::Array(r), Value::Array(w)) => {
            assert_eq!(r.len(), w.len(), "{at}: length");
            for (i, (r, w)) in r.iter().zip(w).enumerate() {
                assert_equal_up_to_an_ulp(r, w, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(r), Value::Object(w)) => {
            assert!(
                r.keys().eq(w.keys()),
                "{at}: fields {:?} vs {:?}",
                r.keys(),
                w.keys()
            );
            for (key, r) in r {
                assert_equal_up_to_an_ulp(r, &w[key], &format!("{at}.{key}"));
            }
        }
        _ => assert_eq!(read, written, "{at}"),
    }
}

#[test]
fn an_analysis_directory_reads_back_as_the_analysis_that_wrote_it() {
    let results = results_dir(pairs_frame(), true);
    let mut analysis = analyze(results.path(), &AnalyzeOptions::default()).expect("analysis");
    analysis.provenance = Some(serde_json::json!({"version": "0.1.0", "threads": 2}));
    let out = results.path().join("analysis");
    analysis.write(&out).expect("written");

    let read = Analysis::read(&out).expect("reads back");
    assert_eq!(
        read.convexity_gap, analysis.convexity_gap,
        "exact, through CSV"
    );
    assert_eq!(read.endpoint_barrier, analysis.endpoint_barrier);
    assert_eq!(read.models, analysis.models);
    assert_eq!(read.clustering.labels, analysis.clustering.labels);
    assert_eq!(
        read.hans.as_ref().map(|h| &h.0),
        analysis.hans.as_ref().map(|h| &h.0)
    );
    assert_eq!(read.provenance, analysis.provenance);
    let json = |a: &Analysis| serde_json::to_value(a).expect("serialises");
    assert_equal_up_to_an_ulp(&json(&read), &json(&analysis), "analysis");
}

#[test]
fn reading_an_analysis_directory_names_the_file_that_disagrees() {
    let results = results_dir(pairs_frame(), false);
    let analysis = analyze(results.path(), &AnalyzeOptions::default()).expect("analysis");
    let out = results.path().join("analysis");
    analysis.write(&out).expect("written");

    let matrix_path = out.join(analysis_files::ENDPOINT_BARRIER_MATRIX_FILE);
    let reordered = analysis.endpoint_barrier.permuted(&[1, 0, 2, 3, 4, 5]);
    reordered.write_csv(&matrix_path).expect("rewritten");
    let error = Analysis::read(&out).expect_err("models out of order");
    assert!(
        matches!(error, AnalysisError::Inconsistent { .. }),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .starts_with(&matrix_path.display().to_string()),
        "{error}"
    );
    analysis
        .endpoint_barrier
        .write_csv(&matrix_path)
        .expect("restored");

    let record_path = out.join(analysis_files::ANALYSIS_FILE);
    let mut record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record_path).expect("read")).expect("json");
    record["diagnostic_metric"]
        .as_array_mut()
        .expect("a list")
        .pop();
    std::fs::write(&record_path, record.to_string()).expect("rewritten");
    let error = Analysis::read(&out).expect_err("one metric short");
    assert_eq!(
        error.to_string(),
        format!(
            "{}: `diagnostic_metric` has 5 entries for 6 models",
            record_path.display()
        )
    );

    record.as_object_mut().expect("an object").remove("axis");
    std::fs::write(&record_path, record.to_string()).expect("rewritten");
    let error = Analysis::read(&out).expect_err("no axis");
    assert!(matches!(error, AnalysisError::Json { .. }), "{error}");
    assert!(
        error.to_string().contains("analysis.json") && error.to_string().contains("`axis`"),
        "{error}"
    );

    std::fs::remove_file(&record_path).expect("removed");
    let error = Analysis::read(&out).expect_err("no record");
    assert!(matches!(error, AnalysisError::Io { .. }), "{error}");
    assert!(error.to_string().contains("analysis.json"), "{error}");
}

#[test]
fn analyze_runs_without_hans_cells() {
    let results = results_dir(pairs_frame(), false);
    let analysis = analyze(results.path(), &AnalyzeOptions::default()).expect("analysis");
    assert!(analysis.hans.is_none());
    assert!(analysis.cluster_stats[0].hans.is_empty());
    analysis
        .write(&results.path().join("out"))
        .expect("written");
}

#[test]
fn matrices_from_a_dataframe_on_any_set_and_metric() {
    let pairs = pairs_frame();
    let spec = MatrixSpec {
        set: "ood".into(),
        quantity: Quantity::Error,
        metric: CurveMetric::AreaAboveMinimum,
        models: Some(vec!["b1".into(), "a0".into()]),
    };
    let d = pairwise_matrix(&pairs, &spec).expect("matrix");
    assert_eq!(d.names, ["b1", "a0"]);
    assert!(d.get(0, 1) > 0.0 && d.get(0, 1) == d.get(1, 0) && d.get(0, 0) == 0.0);

    let table = PairsTable::from_dataframe(&pairs, "pairs").expect("table");
    assert_eq!(table.sets(), ["id", "ood"]);
    let forward = table
        .curve("id", "a0", "b2", Quantity::Loss)
        .expect("ok")
        .expect("stored reversed");
    let backward = table
        .curve("id", "b2", "a0", Quantity::Loss)
        .expect("ok")
        .expect("stored");
    assert_eq!(forward.values()[1], backward.values()[8]);
}

#[test]
fn missing_pairs_are_listed() {
    let all = pairs_frame();
    let model_a = all.column(schema::MODEL_A).unwrap().str().unwrap();
    let model_b = all.column(schema::MODEL_B).unwrap().str().unwrap();
    let keep: BooleanChunked = model_a
        .iter()
        .zip(model_b.iter())
        .map(|pair| !matches!(pair, (Some("a0"), Some("a1")) | (Some("b0"), Some("b1"))))
        .collect();
    let pairs = all.filter(&keep).expect("filtered");
    let results = results_dir(pairs, false);
    match analyze(results.path(), &AnalyzeOptions::default()) {
        Err(e @ AnalysisError::MissingPairs { count: 2, .. }) => {
            let message = e.to_string();
            assert!(
                message.contains("pairs.parquet") && message.contains("a0–a1, b0–b1"),
                "{message}"
            );
        }
        other => panic!("expected missing pairs, got {other:?}"),
    }
}

#[test]
fn schema_errors_name_the_file_and_column() {
    let results = results_dir(pairs_frame().drop(schema::LOSS).expect("dropped"), false);
    match analyze(results.path(), &AnalyzeOptions::default()) {
        Err(AnalysisError::MissingColumn { origin, column, .. }) => {
            assert!(origin.ends_with(schema::PAIRS_FILE));
            assert_eq!(column, "loss");
        }
        other => panic!("expected a missing column, got {other:?}"),
    }

    let mut pairs = pairs_frame();
    pairs
        .with_column(Column::new(schema::ALPHA.into(), vec!["x"; pairs.height()]))
        .expect("replaced");
    assert!(matches!(
        PairsTable::from_dataframe(&pairs, "t"),
        Err(AnalysisError::ColumnType {
            column: "alpha",
            expected: "f64",
            ..
        })
    ));
}

#[test]
fn duplicate_points_and_unknown_sets_are_errors() {
    let pairs = pairs_frame();
    let doubled = pairs.vstack(&pairs.head(Some(1))).expect("stacked");
    assert!(matches!(
        PairsTable::from_dataframe(&doubled, "t"),
        Err(AnalysisError::DuplicateKey { key, .. }) if key.contains("alpha_index 0")
    ));

    let results = results_dir(pairs, false);
    let options = AnalyzeOptions {
        diagnostic_set: "hans_lo".into(),
        ..Default::default()
    };
    match analyze(results.path(), &options) {
        Err(AnalysisError::UnknownSet { set, present, .. }) => {
            assert_eq!(set, "hans_lo");
            assert_eq!(present, "id, ood");
        }
        other => panic!("expected an unknown set, got {other:?}"),
    }
}
