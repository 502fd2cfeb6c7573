//! [`analyze`]: from a sweep's result directory to the paper's findings, and the files that hold
//! them: [`Analysis::write`] fills an analysis directory with the files of [`analysis_files`],
//! [`Analysis::read`] reads it back.

use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame, NamedFrom, Series};
use serde::{Deserialize, Serialize};

use crate::curve::CurveMetric;
use crate::error::{AnalysisError, Result};
use crate::io::{write_atomically, write_csv, write_parquet};
use crate::matrix::{BarrierMatrix, TriangleCheck};
use crate::report::{BarrierSummary, ClusterStats, HansCells, cluster_stats, within_between};
use crate::separation::{SeparationOptions, SeparationTest, separation_test};
use crate::spectral::{CentroidAxis, ClusterOptions, Clustering, KChoice, SpectralEmbedding};
use crate::stats::{BootstrapOptions, Correlation, Summary, correlate};
use crate::tables::{EndpointsTable, HansTable, MatrixSpec, PairsTable, Quantity, schema};

use analysis_files::{
    ANALYSIS_FILE, BARRIER_MATRIX_FILE, CLUSTER_STATS_CSV_FILE, CLUSTER_STATS_PARQUET_FILE,
    CLUSTERS_CSV_FILE, CLUSTERS_PARQUET_FILE, CORRELATION_FILE, ENDPOINT_BARRIER_MATRIX_FILE,
    SUMMARY_FILE,
};

pub mod analysis_files {
    //! The files of an analysis directory: the contract between
    //! [`Analysis::write`](crate::Analysis::write), which writes each of them atomically, and
    //! every reader (lmc-report, `lmc reproduce`, scripts).
    //! [`Analysis::read`](crate::Analysis::read) reads [`ANALYSIS_FILE`] and the two matrices
    //! back into the whole [`Analysis`](crate::Analysis).
    //!
    //! | file | contents |
    //! |---|---|
    //! | [`BARRIER_MATRIX_FILE`] | convexity-gap matrix of the in-domain loss (the clustering input), [`BarrierMatrix`](crate::BarrierMatrix) CSV layout |
    //! | [`ENDPOINT_BARRIER_MATRIX_FILE`] | endpoint-barrier matrix of the in-domain loss, same layout |
    //! | [`CLUSTERS_PARQUET_FILE`], [`CLUSTERS_CSV_FILE`] | `model` (str), `cluster` (u32), `centroid_distance` (f64), `diagnostic_metric` (f64), `in_domain_metric` (f64) |
    //! | [`CLUSTER_STATS_PARQUET_FILE`], [`CLUSTER_STATS_CSV_FILE`] | `cluster` (u32), `size` (u32), `{diagnostic,in_domain}_{mean,std,min,max}` (f64, nullable) and, with HANS data, `hans_<heuristic>_<label>_{mean,std,min,max}` (label with `_` for `-`) |
    //! | [`CORRELATION_FILE`] | centroid distance vs diagnostic metric: Pearson r, Spearman ρ, bootstrap interval of r, least-squares line |
    //! | [`ANALYSIS_FILE`] | the [`Analysis`](crate::Analysis) as JSON except the two matrices: options, models, clustering (with eigenvalues and eigengap), centroid axis, per-model metrics, HANS cells, correlation, cluster statistics, within/between barrier summaries, the separation test, triangle check and provenance |
    //! | [`SUMMARY_FILE`] | a human-readable digest |

    /// The convexity-gap matrix.
    pub const BARRIER_MATRIX_FILE: &str = "barrier_matrix.csv";
    /// The endpoint-barrier matrix.
    pub const ENDPOINT_BARRIER_MATRIX_FILE: &str = "endpoint_barrier_matrix.csv";
    /// One row per model, Parquet.
    pub const CLUSTERS_PARQUET_FILE: &str = "clusters.parquet";
    /// One row per model, CSV.
    pub const CLUSTERS_CSV_FILE: &str = "clusters.csv";
    /// One row per cluster, Parquet.
    pub const CLUSTER_STATS_PARQUET_FILE: &str = "cluster_stats.parquet";
    /// One row per cluster, CSV.
    pub const CLUSTER_STATS_CSV_FILE: &str = "cluster_stats.csv";
    /// The correlation of the centroid axis with the diagnostic metric.
    pub const CORRELATION_FILE: &str = "correlation.json";
    /// The analysis record.
    pub const ANALYSIS_FILE: &str = "analysis.json";
    /// The Markdown digest.
    pub const SUMMARY_FILE: &str = "summary.md";
}

/// Settings of [`analyze`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyzeOptions {
    /// Set whose loss curves give the barrier matrices and whose metric is "in-domain" (default `"id"`).
    pub in_domain_set: String,
    /// Set whose `metric` ranks the models (default `"ood"`; e.g. HANS-LO for MNLI).
    pub diagnostic_set: String,
    /// Clustering settings (default: k = 2, δ = 1, seed 42, 10 restarts).
    pub cluster: ClusterOptions,
    /// Bootstrap of the correlation (default: 2,000 resamples, 95 %, seed 42).
    pub bootstrap: BootstrapOptions,
    /// Tolerance of the triangle-inequality check (default 1e-9).
    pub triangle_tolerance: f64,
    /// Permutation test of the clusters' separation (default: 999 shuffles, seed 42).
    #[serde(default)]
    pub separation: SeparationOptions,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        Self {
            in_domain_set: "id".to_owned(),
            diagnostic_set: "ood".to_owned(),
            cluster: ClusterOptions::default(),
            bootstrap: BootstrapOptions::default(),
            triangle_tolerance: 1e-9,
            separation: SeparationOptions::default(),
        }
    }
}

/// Everything [`analyze`] finds.
///
/// Its JSON form ([`analysis_files::ANALYSIS_FILE`]) leaves out the two matrices, which are
/// stored as CSV; deserialising needs them back under their field names as
/// [`BarrierMatrix`] objects, which is how [`Analysis::read`] joins the files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// The options used.
    pub options: AnalyzeOptions,
    /// Models, in the order of `endpoints.parquet`; every per-model vector follows it.
    pub models: Vec<String>,
    /// Convexity gap of the in-domain loss curves ([`analysis_files::BARRIER_MATRIX_FILE`]).
    #[serde(skip_serializing)]
    pub convexity_gap: BarrierMatrix,
    /// Endpoint barrier of the in-domain loss curves
    /// ([`analysis_files::ENDPOINT_BARRIER_MATRIX_FILE`]).
    #[serde(skip_serializing)]
    pub endpoint_barrier: BarrierMatrix,
    /// Spectral clustering of the convexity-gap matrix.
    pub clustering: Clustering,
    /// The centroid-distance axis of the convexity-gap matrix.
    pub axis: CentroidAxis,
    /// Each model's `metric` on the diagnostic set.
    pub diagnostic_metric: Vec<f64>,
    /// Each model's `metric` on the in-domain set.
    pub in_domain_metric: Vec<f64>,
    /// HANS cell names and, per model, accuracies (when `hans_cells.parquet` exists).
    pub hans: Option<(Vec<String>, Vec<Vec<f64>>)>,
    /// Centroid distance (x) vs diagnostic metric (y).
    pub correlation: Correlation,
    /// Per-cluster statistics.
    pub cluster_stats: Vec<ClusterStats>,
    /// Convexity gap within vs between clusters.
    pub convexity_gap_summary: BarrierSummary,
    /// Endpoint barrier within vs between clusters.
    pub endpoint_barrier_summary: BarrierSummary,
    /// Whether the clusters separate the convexity gaps more than clusters of shuffled matrices
    /// do; `None` when the clustering has no pair within or no pair between clusters (and in
    /// analyses written before the test existed).
    #[serde(default)]
    pub separation: Option<SeparationTest>,
    /// Triangle-inequality check of the convexity-gap matrix.
    pub triangle: TriangleCheck,
    /// Which program computed the analysis, as its caller describes it (the `lmc` binary writes
    /// its version, git commit and threads); written to `analysis.json` when set. A JSON value,
    /// so that this crate stays free of lmc's other crates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<serde_json::Value>,
}

/// Reads `pairs.parquet`, `endpoints.parquet` and (if present) `hans_cells.parquet` from
/// `results_dir` and analyses them with [`analyze_tables`].
///
/// # Errors
/// I/O, schema and table errors naming the file; those of [`analyze_tables`].
pub fn analyze(results_dir: &Path, options: &AnalyzeOptions) -> Result<Analysis> {
    let pairs = PairsTable::read(&results_dir.join(schema::PAIRS_FILE))?;
    let endpoints = EndpointsTable::read(&results_dir.join(schema::ENDPOINTS_FILE))?;
    let hans_path = results_dir.join(schema::HANS_CELLS_FILE);
    let hans = if hans_path.exists() {
        Some(HansTable::read(&hans_path)?)
    } else {
        None
    };
    analyze_tables(&pairs, &endpoints, hans.as_ref(), options)
}

/// The analysis on already-indexed tables (e.g. built from DataFrames): barrier matrices of the
/// in-domain loss, spectral clustering of the convexity gap, centroid axis and its correlation
/// with the diagnostic metric, per-cluster statistics, barrier summaries and the triangle check.
///
/// # Errors
/// [`AnalysisError::UnknownSet`] / [`AnalysisError::MissingModel`] when a set or a model's endpoint
/// row is missing, or a model has curves but no endpoint row; [`AnalysisError::MissingPairs`];
/// clustering and statistics errors.
pub fn analyze_tables(
    pairs: &PairsTable,
    endpoints: &EndpointsTable,
    hans: Option<&HansTable>,
    options: &AnalyzeOptions,
) -> Result<Analysis> {
    let id = &options.in_domain_set;
    let models = endpoints.models(id);
    if models.is_empty() {
        return Err(endpoints.unknown_set(id));
    }
    if let Some(extra) = pairs.models(id).into_iter().find(|m| !models.contains(m)) {
        return Err(AnalysisError::MissingModel {
            origin: endpoints.origin().to_owned(),
            model: extra,
            set: id.clone(),
        });
    }
    let matrix = |metric| {
        pairs.matrix(&MatrixSpec {
            set: id.clone(),
            quantity: Quantity::Loss,
            metric,
            models: Some(models.clone()),
        })
    };
    let convexity_gap = matrix(CurveMetric::ConvexityGap)?;
    let endpoint_barrier = matrix(CurveMetric::EndpointBarrier)?;

    let diagnostic_metric = models
        .iter()
        .map(|m| endpoints.get(m, &options.diagnostic_set).map(|r| r.metric))
        .collect::<Result<Vec<_>>>()?;
    let in_domain_metric = models
        .iter()
        .map(|m| endpoints.get(m, id).map(|r| r.metric))
        .collect::<Result<Vec<_>>>()?;
    let hans = hans
        .map(|table| {
            let values = models
                .iter()
                .map(|m| table.cells(m).map(|c| c.to_vec()))
                .collect::<Result<Vec<_>>>()?;
            Ok::<_, AnalysisError>((HansTable::cell_names(), values))
        })
        .transpose()?;

    let cluster = &options.cluster;
    let embedding = SpectralEmbedding::new(&convexity_gap, cluster.delta)?;
    let k = match cluster.k {
        KChoice::Fixed(k) => k,
        KChoice::Eigengap => embedding.eigengap_k(cluster.eigengap_max_k),
    };
    let clustering = embedding.cluster(k, cluster.eigengap_max_k, &cluster.kmeans)?;
    let axis = embedding.centroid_axis(&cluster.kmeans)?;
    let correlation = correlate(&axis.distances, &diagnostic_metric, &options.bootstrap)?;
    let cluster_stats = cluster_stats(
        &clustering.labels,
        k,
        &diagnostic_metric,
        &in_domain_metric,
        hans.as_ref()
            .map(|(names, values)| HansCells { names, values }),
    )?;
    let separation = separation_test(
        &convexity_gap,
        &clustering.labels,
        cluster,
        &options.separation,
    )?;
    Ok(Analysis {
        options: options.clone(),
        separation,
        convexity_gap_summary: within_between(&convexity_gap, &clustering.labels)?,
        endpoint_barrier_summary: within_between(&endpoint_barrier, &clustering.labels)?,
        triangle: convexity_gap.triangle_inequality(options.triangle_tolerance),
        models,
        convexity_gap,
        endpoint_barrier,
        clustering,
        axis,
        diagnostic_metric,
        in_domain_metric,
        hans,
        correlation,
        cluster_stats,
        provenance: None,
    })
}

fn polars_error(source: polars::prelude::PolarsError) -> AnalysisError {
    AnalysisError::Polars {
        origin: "analysis output".to_owned(),
        source,
    }
}

fn summary_columns(prefix: &str, summaries: &[Summary]) -> Vec<Column> {
    let stat = |name: &str, get: fn(&Summary) -> Option<f64>| {
        let values: Vec<Option<f64>> = summaries.iter().map(get).collect();
        Column::from(Series::new(format!("{prefix}_{name}").into(), values))
    };
    vec![
        stat("mean", |s| s.mean),
        stat("std", |s| s.std),
        stat("min", |s| s.min),
        stat("max", |s| s.max),
    ]
}

impl Analysis {
    /// The per-model table ([`analysis_files::CLUSTERS_PARQUET_FILE`]).
    ///
    /// # Errors
    /// [`AnalysisError::Polars`] if the frame cannot be built.
    pub fn clusters_frame(&self) -> Result<DataFrame> {
        let labels: Vec<u32> = self.clustering.labels.iter().map(|&l| l as u32).collect();
        DataFrame::new_infer_height(vec![
            Column::from(Series::new("model".into(), self.models.clone())),
            Column::from(Series::new("cluster".into(), labels)),
            Column::from(Series::new(
                "centroid_distance".into(),
                self.axis.distances.clone(),
            )),
            Column::from(Series::new(
                "diagnostic_metric".into(),
                self.diagnostic_metric.clone(),
            )),
            Column::from(Series::new(
                "in_domain_metric".into(),
                self.in_domain_metric.clone(),
            )),
        ])
        .map_err(polars_error)
    }

    /// The per-cluster table ([`analysis_files::CLUSTER_STATS_PARQUET_FILE`]).
    ///
    /// # Errors
    /// [`AnalysisError::Polars`] if the frame cannot be built.
    pub fn cluster_stats_frame(&self) -> Result<DataFrame> {
        let stats = &self.cluster_stats;
        let mut columns = vec![
            Column::from(Series::new(
                "cluster".into(),
                stats.iter().map(|s| s.cluster as u32).collect::<Vec<_>>(),
            )),
            Column::from(Series::new(
                "size".into(),
                stats.iter().map(|s| s.size as u32).collect::<Vec<_>>(),
            )),
        ];
        let diagnostic: Vec<Summary> = stats.iter().map(|s| s.diagnostic).collect();
        let in_domain: Vec<Summary> = stats.iter().map(|s| s.in_domain).collect();
        columns.extend(summary_columns("diagnostic", &diagnostic));
        columns.extend(summary_columns("in_domain", &in_domain));
        if let Some((names, _)) = &self.hans {
            for (cell, name) in names.iter().enumerate() {
                let prefix = format!("hans_{}", name.replace(['/', '-'], "_"));
                let cell_stats: Vec<Summary> = stats.iter().map(|s| s.hans[cell].1).collect();
                columns.extend(summary_columns(&prefix, &cell_stats));
            }
        }
        DataFrame::new_infer_height(columns).map_err(polars_error)
    }

    /// [`analysis_files::CORRELATION_FILE`]'s value.
    pub fn correlation_json(&self) -> serde_json::Value {
        serde_json::json!({
            "x": "centroid_distance",
            "y": format!("metric on set `{}`", self.options.diagnostic_set),
            "correlation": self.correlation,
        })
    }

    /// Writes every file of [`analysis_files`] into `out_dir`, creating it if needed, and returns
    /// their paths.
    ///
    /// # Errors
    /// [`AnalysisError::Io`], [`AnalysisError::Polars`] or [`AnalysisError::Json`] naming the file.
    pub fn write(&self, out_dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(out_dir).map_err(|source| AnalysisError::Io {
            path: out_dir.to_owned(),
            source,
        })?;
        let path = |name: &str| out_dir.join(name);
        let mut written = Vec::new();

        for (matrix, name) in [
            (&self.convexity_gap, BARRIER_MATRIX_FILE),
            (&self.endpoint_barrier, ENDPOINT_BARRIER_MATRIX_FILE),
        ] {
            matrix.write_csv(&path(name))?;
            written.push(path(name));
        }

        for (parquet_name, csv_name, mut frame) in [
            (
                CLUSTERS_PARQUET_FILE,
                CLUSTERS_CSV_FILE,
                self.clusters_frame()?,
            ),
            (
                CLUSTER_STATS_PARQUET_FILE,
                CLUSTER_STATS_CSV_FILE,
                self.cluster_stats_frame()?,
            ),
        ] {
            let parquet = path(parquet_name);
            write_parquet(&parquet, &mut frame)?;
            let csv = path(csv_name);
            write_csv(&csv, &mut frame)?;
            written.extend([parquet, csv]);
        }

        for (name, value) in [
            (CORRELATION_FILE, self.correlation_json()),
            (
                ANALYSIS_FILE,
                serde_json::to_value(self).map_err(|source| AnalysisError::Json {
                    path: path(ANALYSIS_FILE),
                    source,
                })?,
            ),
        ] {
            let file = path(name);
            let text =
                serde_json::to_string_pretty(&value).map_err(|source| AnalysisError::Json {
                    path: file.clone(),
                    source,
                })?;
            write_atomically(&file, format!("{text}\n").as_bytes())?;
            written.push(file);
        }

        write_atomically(&path(SUMMARY_FILE), self.summary_markdown().as_bytes())?;
        written.push(path(SUMMARY_FILE));
        Ok(written)
    }

    /// Reads an analysis directory that [`Analysis::write`] filled: [`ANALYSIS_FILE`] and the
    /// two matrices, which must agree with it (every per-model list has one entry per model, and
    /// both matrices are over the analysis' models, in its order).
    ///
    /// # Errors
    /// [`AnalysisError::Io`] or [`AnalysisError::Json`] naming [`ANALYSIS_FILE`]; the errors of
    /// [`BarrierMatrix::read_csv`]; [`AnalysisError::Inconsistent`] naming the file that
    /// disagrees.
    pub fn read(dir: &Path) -> Result<Self> {
        let record_path = dir.join(ANALYSIS_FILE);
        let json_error = |source| AnalysisError::Json {
            path: record_path.clone(),
            source,
        };
        let text = std::fs::read_to_string(&record_path).map_err(|source| AnalysisError::Io {
            path: record_path.clone(),
            source,
        })?;
        let mut record: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&text).map_err(json_error)?;
        for (field, name) in [
            ("convexity_gap", BARRIER_MATRIX_FILE),
            ("endpoint_barrier", ENDPOINT_BARRIER_MATRIX_FILE),
        ] {
            let matrix = BarrierMatrix::read_csv(&dir.join(name))?;
            record.insert(
                field.to_owned(),
                serde_json::to_value(matrix).map_err(json_error)?,
            );
        }
        let analysis: Self = serde_json::from_value(record.into()).map_err(json_error)?;
        analysis.check_models(dir)?;
        Ok(analysis)
    }

    /// The checks of [`Analysis::read`]: per-model lists and matrices follow `models`.
    fn check_models(&self, dir: &Path) -> Result<()> {
        let n = self.models.len();
        let mut lengths = vec![
            ("clustering.names", self.clustering.names.len()),
            ("clustering.labels", self.clustering.labels.len()),
            ("axis.names", self.axis.names.len()),
            ("axis.distances", self.axis.distances.len()),
            ("axis.labels", self.axis.labels.len()),
            ("diagnostic_metric", self.diagnostic_metric.len()),
            ("in_domain_metric", self.in_domain_metric.len()),
        ];
        if let Some((_, values)) = &self.hans {
            lengths.push(("hans", values.len()));
        }
        if let Some((field, len)) = lengths.into_iter().find(|&(_, len)| len != n) {
            return Err(AnalysisError::Inconsistent {
                path: dir.join(ANALYSIS_FILE),
                message: format!("`{field}` has {len} entries for {n} models"),
            });
        }
        for (matrix, name) in [
            (&self.convexity_gap, BARRIER_MATRIX_FILE),
            (&self.endpoint_barrier, ENDPOINT_BARRIER_MATRIX_FILE),
        ] {
            if matrix.names != self.models {
                return Err(AnalysisError::Inconsistent {
                    path: dir.join(name),
                    message: format!(
                        "its models ({}) differ from the `models` of {ANALYSIS_FILE} ({})",
                        matrix.names.join(", "),
                        self.models.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    /// The Markdown digest written as [`analysis_files::SUMMARY_FILE`].
    pub fn summary_markdown(&self) -> String {
        let o = &self.options;
        let c = &self.clustering;
        let fmt = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.4}"));
        let mut md = String::from("# Linear mode connectivity analysis\n\n");
        md.push_str(&format!(
            "{} models. Barriers: convexity gap of the loss on set `{}`; diagnostic metric: `metric` on set `{}`.\n\n",
            self.models.len(),
            o.in_domain_set,
            o.diagnostic_set
        ));
        md.push_str("## Clusters\n\n");
        let shown = c.eigenvalues.len().min(o.cluster.eigengap_max_k + 1);
        let eigenvalues: Vec<String> = c.eigenvalues[..shown]
            .iter()
            .map(|v| format!("{v:.4}"))
            .collect();
        md.push_str(&format!(
            "Spectral clustering with k = {} (requested: {}), δ = {}; the eigengap suggests k = {}. \
             Smallest Laplacian eigenvalues: {}.\n\n",
            c.k,
            o.cluster.k,
            o.cluster.delta,
            c.eigengap_k,
            eigenvalues.join(", ")
        ));
        md.push_str("| cluster | size | diagnostic mean | std | min | max | in-domain mean | std | min | max |\n");
        md.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
        for s in &self.cluster_stats {
            let (d, i) = (&s.diagnostic, &s.in_domain);
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                s.cluster,
                s.size,
                fmt(d.mean),
                fmt(d.std),
                fmt(d.min),
                fmt(d.max),
                fmt(i.mean),
                fmt(i.std),
                fmt(i.min),
                fmt(i.max)
            ));
        }
        if let Some((names, _)) = &self.hans {
            md.push_str("\n### HANS accuracy by cluster (mean ± std)\n\n| cell |");
            for s in &self.cluster_stats {
                md.push_str(&format!(" cluster {} |", s.cluster));
            }
            md.push_str(&format!(
                "\n|---|{}\n",
                "---|".repeat(self.cluster_stats.len())
            ));
            for (cell, name) in names.iter().enumerate() {
                md.push_str(&format!("| {name} |"));
                for s in &self.cluster_stats {
                    let summary = &s.hans[cell].1;
                    md.push_str(&format!(" {} ± {} |", fmt(summary.mean), fmt(summary.std)));
                }
                md.push('\n');
            }
        }
        let r = &self.correlation;
        md.push_str("\n## Centroid distance vs diagnostic metric\n\n");
        md.push_str(&format!(
            "Pearson r = {} ({:.0} % bootstrap interval [{}, {}], {} valid of {} resamples), Spearman ρ = {}, n = {}.",
            fmt(r.pearson),
            100.0 * r.pearson_interval.options.confidence,
            fmt(r.pearson_interval.low),
            fmt(r.pearson_interval.high),
            r.pearson_interval.valid_resamples,
            r.pearson_interval.options.resamples,
            fmt(r.spearman),
            r.n
        ));
        if let Some(fit) = r.fit {
            md.push_str(&format!(
                " Least squares: metric = {:.4} · distance + {:.4}.",
                fit.slope, fit.intercept
            ));
        }
        md.push_str("\n\n## Barriers within and between clusters\n\n");
        md.push_str(
            "| metric | pairs | count | mean | std | min | max |\n|---|---|---|---|---|---|---|\n",
        );
        for (metric, summary) in [
            ("convexity gap", &self.convexity_gap_summary),
            ("endpoint barrier", &self.endpoint_barrier_summary),
        ] {
            for (pairs, s) in [("within", &summary.within), ("between", &summary.between)] {
                md.push_str(&format!(
                    "| {metric} | {pairs} | {} | {} | {} | {} | {} |\n",
                    s.count,
                    fmt(s.mean),
                    fmt(s.std),
                    fmt(s.min),
                    fmt(s.max)
                ));
            }
        }
        md.push('\n');
        md.push_str(&match &self.separation {
            Some(test) => format!(
                "Separation: the mean convexity gap between clusters exceeds the mean within them by \
                 {:.4}; clusterings of {} shuffles of the matrix reach a median of {:.4}, and {} \
                 (p = {:.4}).\n",
                test.statistic,
                test.options.permutations,
                test.null_median,
                if test.p_value <= 0.05 {
                    "the observed split is stronger than chance"
                } else {
                    "the observed split is not stronger than chance"
                },
                test.p_value
            ),
            None => "Separation: not tested (no pair within or no pair between clusters).\n"
                .to_owned(),
        });
        let t = &self.triangle;
        md.push_str(&format!(
            "\nTriangle inequality of the convexity-gap matrix: {} of {} triples violate it by more than {} \
             (share {:.4}; largest excess {:.4}).\n",
            t.violating, t.triples, t.tolerance, t.share, t.worst_excess
        ));
        md
    }
}
