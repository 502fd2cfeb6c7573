//! Reading a study's stored tables, drawing every figure, and writing `report.html` and
//! `report.md`.

use std::path::{Path, PathBuf};

use lmc_analysis::{Analysis, PairsTable, Summary, schema};

use crate::context::{ReportContext, ReportInputs};
use crate::document::{Block, to_html, to_markdown};
use crate::error::{ReportError, Result};
use crate::figure::{FIGURES_DIR, Figure};
use crate::figures::clusters::{cluster_table, format_optional};
use crate::figures::curves::{CurveValue, interpolation_curves};
use crate::figures::dynamics::training_dynamics_figure;
use crate::figures::hans::hans_breakdown;
use crate::figures::heatmap::barrier_heatmap;
use crate::figures::scatter::centroid_scatter;
use crate::figures::soups::soup_scatter;
use crate::figures::surface::{SurfaceValue, loss_surfaces};
use crate::palette::{cluster_colour, css_hex};
use crate::paper::{PaperReference, paper_reference};
use crate::render::write_atomically;
use crate::stored::{
    CheckpointResults, SoupRow, SurfacePlane, model_rows, read_checkpoints, read_soups,
    read_surfaces,
};

/// The HTML report's file name.
pub const HTML_FILE: &str = "report.html";
/// The Markdown report's file name.
pub const MARKDOWN_FILE: &str = "report.md";

/// Every stored table the figures are drawn from, read once.
#[derive(Debug, Clone)]
pub struct StudyTables {
    /// The analysis directory, read with [`Analysis::read`].
    pub analysis: Analysis,
    /// `pairs.parquet`.
    pub pairs: PairsTable,
    /// The planes of `surface.parquet` on the surface set (`None` when the file is absent).
    pub surfaces: Option<Vec<SurfacePlane>>,
    /// Per-checkpoint results (empty when there are none).
    pub checkpoints: Vec<CheckpointResults>,
    /// `soups/soups.parquet` (`None` when absent).
    pub soups: Option<Vec<SoupRow>>,
}

impl StudyTables {
    /// Reads the analysis directory, `pairs.parquet`, and the optional surface, checkpoint and
    /// soup tables of `inputs`.
    ///
    /// # Errors
    /// I/O, schema and consistency errors naming the file.
    pub fn read(inputs: &ReportInputs) -> Result<Self> {
        let analysis = Analysis::read(&inputs.analysis_dir)?;
        let pairs = PairsTable::read(&inputs.results_dir.join(schema::PAIRS_FILE))?;
        let surface_set = inputs
            .context
            .figures
            .surface_set
            .clone()
            .unwrap_or_else(|| analysis.options.in_domain_set.clone());
        Ok(Self {
            surfaces: read_surfaces(&inputs.results_dir, &surface_set)?,
            checkpoints: read_checkpoints(&inputs.results_dir)?,
            soups: read_soups(&inputs.results_dir)?,
            analysis,
            pairs,
        })
    }
}

/// Display names of the diagnostic and in-domain metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricNames {
    /// E.g. "HANS-LO accuracy".
    pub diagnostic: String,
    /// E.g. "MNLI-m accuracy".
    pub in_domain: String,
}

impl MetricNames {
    /// The task's names when the paper covers it, else "metric on `<set>`".
    pub fn new(context: &ReportContext, analysis: &Analysis) -> Self {
        let options = &analysis.options;
        match context.task.as_deref().and_then(paper_reference) {
            Some(reference) => Self {
                diagnostic: reference.diagnostic_metric.to_owned(),
                in_domain: reference.in_domain_metric.to_owned(),
            },
            None => Self {
                diagnostic: format!("metric on `{}`", options.diagnostic_set),
                in_domain: format!("metric on `{}`", options.in_domain_set),
            },
        }
    }
}

/// Reads the tables of `inputs` and draws every figure into `figures_dir` (created if needed).
///
/// # Errors
/// As [`StudyTables::read`] and [`draw_study_figures`].
pub fn draw_figures(inputs: &ReportInputs, figures_dir: &Path) -> Result<Vec<Figure>> {
    let tables = StudyTables::read(inputs)?;
    draw_study_figures(&tables, &inputs.context, figures_dir)
}

/// Draws figures 1–7 (the paper's) and 8 (soups) from `tables` into `figures_dir`; a figure
/// whose optional input is missing is returned as skipped.
///
/// # Errors
/// Drawing, I/O and table errors naming the figure or file.
pub fn draw_study_figures(
    tables: &StudyTables,
    context: &ReportContext,
    figures_dir: &Path,
) -> Result<Vec<Figure>> {
    std::fs::create_dir_all(figures_dir).map_err(|source| ReportError::Io {
        path: figures_dir.to_owned(),
        source,
    })?;
    let analysis = &tables.analysis;
    let options = &analysis.options;
    let names = MetricNames::new(context, analysis);
    let models = model_rows(analysis);
    let png = context.figures.png;
    let mut figures = Vec::new();

    let sets = [
        (
            options.in_domain_set.clone(),
            format!("in-domain (`{}`)", options.in_domain_set),
        ),
        (
            options.diagnostic_set.clone(),
            format!("diagnostic (`{}`)", options.diagnostic_set),
        ),
    ];
    for value in [CurveValue::Loss, CurveValue::Accuracy] {
        let stem = format!("fig1_interpolation_{}", value.name());
        let title = format!("Interpolation {} by group", value.name());
        match interpolation_curves(&tables.pairs, &models, &sets, value, context.figures.group_size)? {
            Some(plot) => figures.push(Figure::draw(
                &plot,
                1,
                &stem,
                &title,
                format!(
                    "Mean {} along the linear path between models (shaded: 95 % CI, mean ± 1.96 SE) for ordered pairs \
                     within the generalising group G ({}), from G to the heuristic group H ({}), and within H, \
                     ranked by {}. Rows: evaluation sets.",
                    value.name(),
                    plot.generalising.join(", "),
                    plot.heuristic.join(", "),
                    names.diagnostic
                ),
                figures_dir,
                png,
            )?),
            None => figures.push(Figure::skipped(
                1,
                &stem,
                &title,
                "fewer than two models, or no curves on the analysed sets".to_owned(),
            )),
        }
    }

    for value in SurfaceValue::ALL {
        let stem = format!("fig2_surface_{}", value.name());
        let title = format!("{} surfaces", value.name());
        let plot = tables.surfaces.as_ref().and_then(|planes| {
            loss_surfaces(
                planes,
                value,
                context
                    .figures
                    .surface_set
                    .as_deref()
                    .unwrap_or(&options.in_domain_set),
            )
        });
        figures.push(match (&tables.surfaces, plot) {
            (_, Some(plot)) => Figure::draw(
                &plot,
                2,
                &stem,
                &title,
                format!(
                    "{} on planes through three models (anchor θ_a, bases θ_b1 and θ_b2 made orthogonal), \
                     isometric axes, one colour scale for every plane; white circles mark the models.",
                    value.label()
                ),
                figures_dir,
                png,
            )?,
            (None, None) => Figure::skipped(
                2,
                &stem,
                &title,
                format!("no {} in the results directory", schema::SURFACE_FILE),
            ),
            (Some(_), None) => Figure::skipped(
                2,
                &stem,
                &title,
                format!("{} has no grid points on the surface set", schema::SURFACE_FILE),
            ),
        });
    }

    let heatmap = barrier_heatmap(&analysis.convexity_gap, &models, &names.diagnostic)?;
    figures.push(Figure::draw(
        &heatmap,
        3,
        "fig3_barrier_heatmap",
        "Barrier heatmap",
        format!(
            "Convexity gap of the in-domain loss between every pair of models. Left: sorted by {} \
             (tick labels); right: grouped by cluster (colour strip; white lines separate clusters).",
            names.diagnostic
        ),
        figures_dir,
        png,
    )?);

    let scatter = centroid_scatter(
        &models,
        analysis.clustering.k,
        &analysis.correlation,
        &names.diagnostic,
    );
    figures.push(Figure::draw(
        &scatter,
        4,
        "fig4_centroid_scatter",
        "Centroid distance vs diagnostic metric",
        format!(
            "Each model's position on the centroid-distance axis of the 2-D spectral embedding against its {}, \
             coloured by cluster, with the least-squares line; right: histograms of the metric per cluster.",
            names.diagnostic
        ),
        figures_dir,
        png,
    )?);

    let table = cluster_table(&analysis.cluster_stats, &names.diagnostic, &names.in_domain);
    figures.push(Figure::draw(
        &table,
        5,
        "fig5_cluster_table",
        "Cluster table",
        "Size of each cluster and the mean / standard deviation / minimum / maximum of the diagnostic \
         and in-domain metrics of its models."
            .to_owned(),
        figures_dir,
        png,
    )?);

    let dynamics = training_dynamics_figure(
        &tables.checkpoints,
        &options.in_domain_set,
        &options.diagnostic_set,
        &options.cluster,
        &names.diagnostic,
    )?;
    figures.push(match dynamics {
        Some(plot) => Figure::draw(
            &plot,
            6,
            "fig6_training_dynamics",
            "Training dynamics",
            format!(
                "Clusters recomputed at each training checkpoint ({}); arrows follow each model from one \
                 checkpoint to the next, coloured by its cluster at the later one.",
                plot.checkpoints.join(", ")
            ),
            figures_dir,
            png,
        )?,
        None => Figure::skipped(
            6,
            "fig6_training_dynamics",
            "Training dynamics",
            format!(
                "fewer than two checkpoints under {}/ in the results directory (found {})",
                schema::CHECKPOINTS_DIR,
                tables.checkpoints.len()
            ),
        ),
    });

    figures.push(match &analysis.hans {
        Some((cells, values)) => {
            let plot = hans_breakdown(cells, values, &models, analysis.clustering.k, &names.in_domain)?;
            Figure::draw(
                &plot,
                7,
                "fig7_hans_breakdown",
                "HANS breakdown by cluster",
                "Accuracy of every model (dots) on the six HANS cells and in domain, by cluster; bars: \
                 cluster means. Failing non-entailed lexical overlap while passing entailed cells is the \
                 bag-of-words signature."
                    .to_owned(),
                figures_dir,
                png,
            )?
        }
        None => Figure::skipped(
            7,
            "fig7_hans_breakdown",
            "HANS breakdown by cluster",
            format!("no HANS cells in the analysis ({} absent)", schema::HANS_CELLS_FILE),
        ),
    });

    let soups_file = format!("{}/{}", schema::SOUPS_DIR, schema::SOUPS_FILE);
    let (stem, title) = ("fig8_soups", "Soups inside and across basins");
    let soups = tables.soups.as_deref().map(|rows| {
        soup_scatter(
            rows,
            (&options.in_domain_set, &names.in_domain),
            (&options.diagnostic_set, &names.diagnostic),
        )
    });
    figures.push(match soups {
        Some(Some(plot)) => Figure::draw(
            &plot,
            8,
            stem,
            title,
            "Beyond the paper: the uniform soup of each basin, the greedy soup and the soup of every model \
             (diamonds, in their basin's colour, black across basins) beside the models (dots), from lmc soup."
                .to_owned(),
            figures_dir,
            png,
        )?,
        Some(None) => Figure::skipped(
            8,
            stem,
            title,
            format!(
                "{soups_file} has no soup with rows on both `{}` and `{}`",
                options.in_domain_set, options.diagnostic_set
            ),
        ),
        None => Figure::skipped(
            8,
            stem,
            title,
            format!("no {soups_file} in the results directory (run `lmc soup --out <results>/{}`)", schema::SOUPS_DIR),
        ),
    });
    Ok(figures)
}

/// The files [`write_report`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFiles {
    /// `report.html`.
    pub html: PathBuf,
    /// `report.md`.
    pub markdown: PathBuf,
    /// The figures (drawn ones are in `<out>/figures/`).
    pub figures: Vec<Figure>,
}

/// Reads the tables of `inputs`, draws every figure into `<out_dir>/figures/`, and writes
/// `<out_dir>/report.html` (self-contained: figures inline) and `<out_dir>/report.md`.
///
/// # Errors
/// As [`StudyTables::read`] and [`draw_study_figures`]; I/O errors naming the file.
pub fn write_report(inputs: &ReportInputs, out_dir: &Path) -> Result<ReportFiles> {
    let tables = StudyTables::read(inputs)?;
    let figures = draw_study_figures(&tables, &inputs.context, &out_dir.join(FIGURES_DIR))?;
    let blocks = report_blocks(inputs, &tables, &figures)?;
    let title = &inputs.context.title;
    let html = out_dir.join(HTML_FILE);
    write_atomically(&html, to_html(title, &blocks).as_bytes())?;
    let markdown = out_dir.join(MARKDOWN_FILE);
    write_atomically(&markdown, to_markdown(title, &blocks).as_bytes())?;
    Ok(ReportFiles {
        html,
        markdown,
        figures,
    })
}

fn summary_row(label: &[&str], s: &Summary) -> Vec<String> {
    let mut row: Vec<String> = label.iter().map(|l| (*l).to_owned()).collect();
    row.push(s.count.to_string());
    row.extend([s.mean, s.std, s.min, s.max].map(format_optional));
    row
}

/// The document: heading, configuration, provenance, comparison with the paper, tables, figures.
fn report_blocks<'a>(
    inputs: &ReportInputs,
    tables: &StudyTables,
    figures: &'a [Figure],
) -> Result<Vec<Block<'a>>> {
    let context = &inputs.context;
    let analysis = &tables.analysis;
    let options = &analysis.options;
    let names = MetricNames::new(context, analysis);
    let models = model_rows(analysis);
    let mut blocks = Vec::new();

    let mut facts = vec![format!("{} models", analysis.models.len())];
    if let Some(task) = &context.task {
        facts.push(format!("task {task}"));
    }
    if let Some(preset) = &context.preset {
        facts.push(format!("preset {preset}"));
    }
    facts.push(format!(
        "in-domain set `{}`, diagnostic set `{}`",
        options.in_domain_set, options.diagnostic_set
    ));
    blocks.push(Block::Paragraph(facts.join(" · ")));

    blocks.push(Block::Heading(2, "Configuration".to_owned()));
    let mut configuration = context.configuration.clone();
    configuration.extend([
        (
            "clustering k (requested)".to_owned(),
            options.cluster.k.to_string(),
        ),
        ("clustering δ".to_owned(), options.cluster.delta.to_string()),
        (
            "k-means seed / restarts".to_owned(),
            format!(
                "{} / {}",
                options.cluster.kmeans.seed, options.cluster.kmeans.n_runs
            ),
        ),
        (
            "group size (figure 1)".to_owned(),
            context.figures.group_size.to_string(),
        ),
    ]);
    blocks.push(Block::Table {
        header: vec!["setting".to_owned(), "value".to_owned()],
        rows: configuration.into_iter().map(|(k, v)| vec![k, v]).collect(),
        swatches: None,
    });

    blocks.push(Block::Heading(2, "Data provenance".to_owned()));
    let mut provenance = context.provenance.clone();
    provenance.push(format!(
        "results directory: {}",
        inputs.results_dir.display()
    ));
    provenance.push(format!(
        "analysis directory: {}",
        inputs.analysis_dir.display()
    ));
    for (file, present) in [
        (schema::HANS_CELLS_FILE, analysis.hans.is_some()),
        (schema::SURFACE_FILE, tables.surfaces.is_some()),
    ] {
        if !present {
            provenance.push(format!("{file}: absent"));
        }
    }
    provenance.push(format!(
        "training checkpoints with results: {}",
        tables.checkpoints.len()
    ));
    blocks.push(Block::List(provenance));

    blocks.push(Block::Heading(2, "Paper vs this run".to_owned()));
    let reference = context.task.as_deref().and_then(paper_reference);
    blocks.push(Block::Paragraph(match reference {
        Some(_) => {
            "Reference values: Juneja et al. (ICLR 2023) as summarised in paper-method.md, section \
                    \"Clustering\" (reference outcome at the paper's scale)."
                .to_owned()
        }
        None => {
            "No task given (or not one of MNLI, QQP, CoLA): the paper column is empty.".to_owned()
        }
    }));
    let group_size = context.figures.group_size;
    let gh_curve = interpolation_curves(
        &tables.pairs,
        &models,
        &[(options.in_domain_set.clone(), String::new())],
        CurveValue::Loss,
        group_size,
    )?
    .and_then(|c| c.mean_curve(&options.in_domain_set, 1));
    blocks.push(Block::Table {
        header: vec![
            "quantity".to_owned(),
            "paper".to_owned(),
            "this run".to_owned(),
        ],
        rows: comparison_rows(analysis, reference, gh_curve.as_ref()),
        swatches: None,
    });

    blocks.push(Block::Heading(2, "Clusters".to_owned()));
    let c = &analysis.clustering;
    blocks.push(Block::Paragraph(format!(
        "Spectral clustering of the convexity-gap matrix with k = {} (eigengap suggests k = {}); smallest \
         Laplacian eigenvalues: {}.",
        c.k,
        c.eigengap_k,
        c.eigenvalues.iter().take(6).map(|v| format!("{v:.4}")).collect::<Vec<_>>().join(", ")
    )));
    let table = cluster_table(&analysis.cluster_stats, &names.diagnostic, &names.in_domain);
    blocks.push(Block::Table {
        header: table.header.clone(),
        swatches: Some(
            table
                .rows
                .iter()
                .map(|(k, _)| css_hex(cluster_colour(*k)))
                .collect(),
        ),
        rows: table.rows.into_iter().map(|(_, cells)| cells).collect(),
    });
    if let Some((cells, _)) = &analysis.hans {
        let mut header = vec!["HANS cell".to_owned()];
        header.extend(
            analysis
                .cluster_stats
                .iter()
                .map(|s| format!("cluster {} mean ± std", s.cluster)),
        );
        let rows = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let mut row = vec![cell.clone()];
                row.extend(analysis.cluster_stats.iter().map(|s| {
                    s.hans.get(i).map_or_else(
                        || "—".to_owned(),
                        |(_, summary)| {
                            format!(
                                "{} ± {}",
                                format_optional(summary.mean),
                                format_optional(summary.std)
                            )
                        },
                    )
                }));
                row
            })
            .collect();
        blocks.push(Block::Table {
            header,
            rows,
            swatches: None,
        });
    }

    blocks.push(Block::Heading(2, "Barriers and correlation".to_owned()));
    blocks.push(Block::Table {
        header: ["metric", "pairs", "count", "mean", "std", "min", "max"]
            .map(String::from)
            .to_vec(),
        rows: vec![
            summary_row(
                &["convexity gap", "within clusters"],
                &analysis.convexity_gap_summary.within,
            ),
            summary_row(
                &["convexity gap", "between clusters"],
                &analysis.convexity_gap_summary.between,
            ),
            summary_row(
                &["endpoint barrier", "within clusters"],
                &analysis.endpoint_barrier_summary.within,
            ),
            summary_row(
                &["endpoint barrier", "between clusters"],
                &analysis.endpoint_barrier_summary.between,
            ),
        ],
        swatches: None,
    });
    let r = &analysis.correlation;
    let mut correlation = format!(
        "Centroid distance vs {}: Pearson r = {} (bootstrap interval [{}, {}]), Spearman ρ = {}, n = {}.",
        names.diagnostic,
        format_optional(r.pearson),
        format_optional(r.pearson_interval.low),
        format_optional(r.pearson_interval.high),
        format_optional(r.spearman),
        r.n
    );
    if let Some(fit) = r.fit {
        correlation.push_str(&format!(
            " Least squares: metric = {:.4} · distance + {:.4}.",
            fit.slope, fit.intercept
        ));
    }
    let t = &analysis.triangle;
    correlation.push_str(&format!(
        " Triangle inequality of the convexity-gap matrix: {} of {} triples violate it (largest excess {:.4}).",
        t.violating, t.triples, t.worst_excess
    ));
    blocks.push(Block::Paragraph(correlation));

    if let Some(rows) = &tables.soups {
        blocks.push(Block::Heading(2, "Soups".to_owned()));
        blocks.push(Block::Paragraph(format!(
            "From `lmc soup` ({}/{}): each soup's metric beside its members'. A basin's uniform soup \
             averages the weights of that cluster's models; `all` averages every model; the greedy soup \
             adds models best first while its selection-set metric does not drop.",
            schema::SOUPS_DIR,
            schema::SOUPS_FILE
        )));
        blocks.push(soup_table(rows));
    }

    blocks.push(Block::Heading(2, "Figures".to_owned()));
    blocks.extend(figures.iter().map(Block::Figure));
    Ok(blocks)
}

/// One row per model or soup of `lmc soup`'s table, one column per set, soups first.
fn soup_table(rows: &[SoupRow]) -> Block<'static> {
    let mut sets: Vec<&str> = Vec::new();
    let mut models: Vec<&SoupRow> = Vec::new();
    for row in rows {
        if !sets.contains(&row.set.as_str()) {
            sets.push(&row.set);
        }
        if !models.iter().any(|m| m.model == row.model) {
            models.push(row);
        }
    }
    models.sort_by_key(|m| !m.is_soup());
    let mut header = ["model", "kind", "cluster"].map(String::from).to_vec();
    header.extend(sets.iter().map(|set| format!("metric on `{set}`")));
    let table_rows = models
        .iter()
        .map(|m| {
            let mut cells = vec![
                m.model.clone(),
                m.kind.clone(),
                m.cluster
                    .map_or_else(|| "across".to_owned(), |c| c.to_string()),
            ];
            cells.extend(sets.iter().map(|set| {
                rows.iter()
                    .find(|r| r.model == m.model && r.set == *set)
                    .map_or_else(|| "—".to_owned(), |r| format!("{:.4}", r.metric))
            }));
            cells
        })
        .collect();
    Block::Table {
        header,
        swatches: Some(
            models
                .iter()
                .map(|m| {
                    m.cluster
                        .map_or_else(|| "#000000".to_owned(), |c| css_hex(cluster_colour(c)))
                })
                .collect(),
        ),
        rows: table_rows,
    }
}

/// Cluster sizes, largest first, as "a / b (x % / y %)".
fn format_sizes(sizes: &[usize]) -> String {
    let total: usize = sizes.iter().sum();
    let counts: Vec<String> = sizes.iter().map(usize::to_string).collect();
    let shares: Vec<String> = sizes
        .iter()
        .map(|&s| format!("{:.0} %", 100.0 * s as f64 / total.max(1) as f64))
        .collect();
    format!("{} ({})", counts.join(" / "), shares.join(" / "))
}

fn comparison_rows(
    analysis: &Analysis,
    reference: Option<&PaperReference>,
    gh_curve: Option<&lmc_analysis::Curve>,
) -> Vec<Vec<String>> {
    let not_stated = || "not stated".to_owned();
    let paper = |value: Option<Option<f64>>, approx: bool| match value {
        None => String::new(),
        Some(None) => not_stated(),
        Some(Some(v)) if approx => format!("≈ {v}"),
        Some(Some(v)) => v.to_string(),
    };
    let mut sizes: Vec<usize> = analysis.cluster_stats.iter().map(|s| s.size).collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    let smallest_size = analysis.cluster_stats.iter().map(|s| s.size).min();
    let smallest: Vec<usize> = analysis
        .cluster_stats
        .iter()
        .filter(|s| Some(s.size) == smallest_size)
        .map(|s| s.cluster)
        .collect();
    let worst = analysis
        .cluster_stats
        .iter()
        .filter(|s| s.diagnostic.mean.is_some())
        .min_by(|a, b| {
            a.diagnostic
                .mean
                .unwrap_or(0.0)
                .total_cmp(&b.diagnostic.mean.unwrap_or(0.0))
        })
        .map(|s| s.cluster);
    vec![
        vec![
            "models".to_owned(),
            reference.map_or_else(String::new, |r| r.models.to_string()),
            analysis.models.len().to_string(),
        ],
        vec![
            "cluster sizes (largest first)".to_owned(),
            reference.map_or_else(String::new, |r| format_sizes(r.cluster_sizes)),
            format_sizes(&sizes),
        ],
        vec![
            "mean within-cluster convexity gap (in-domain loss)".to_owned(),
            paper(reference.map(|r| r.within_cluster_convexity_gap), true),
            format_optional(analysis.convexity_gap_summary.within.mean),
        ],
        vec![
            "mean between-cluster convexity gap".to_owned(),
            reference.map_or_else(String::new, |_| not_stated()),
            format_optional(analysis.convexity_gap_summary.between.mean),
        ],
        vec![
            "between minus within, against shuffled matrices (permutation p)".to_owned(),
            reference.map_or_else(String::new, |_| "not tested".to_owned()),
            analysis.separation.map_or_else(
                || "—".to_owned(),
                |s| {
                    format!(
                        "{:.4} vs shuffles' median {:.4} (p = {:.3}, {} shuffles)",
                        s.statistic, s.null_median, s.p_value, s.options.permutations
                    )
                },
            ),
        ],
        vec![
            "convexity gap of the mean G–H in-domain loss curve".to_owned(),
            paper(reference.map(|r| r.mean_gh_curve_convexity_gap), true),
            gh_curve.map_or_else(|| "—".to_owned(), |c| format!("{:.4}", c.convexity_gap())),
        ],
        vec![
            "endpoint barrier of the mean G–H in-domain loss curve".to_owned(),
            paper(reference.map(|r| r.mean_gh_curve_endpoint_barrier), true),
            gh_curve.map_or_else(
                || "—".to_owned(),
                |c| format!("{:.4}", c.endpoint_barrier()),
            ),
        ],
        vec![
            "smallest cluster is the worst on the diagnostic metric".to_owned(),
            reference.map_or_else(String::new, |r| r.finding.to_owned()),
            match (smallest.as_slice(), worst) {
                ([s], Some(w)) if *s == w => format!("yes (cluster {s})"),
                ([s], Some(w)) => format!("no (smallest: cluster {s}; worst: cluster {w})"),
                ([_, _, ..], Some(w)) => {
                    format!("— (no smallest: the smallest size is shared; worst: cluster {w})")
                }
                _ => "—".to_owned(),
            },
        ],
        vec![
            "Pearson r, centroid distance vs diagnostic metric".to_owned(),
            reference.map_or_else(String::new, |_| not_stated()),
            format!(
                "{} [{}, {}]",
                format_optional(analysis.correlation.pearson),
                format_optional(analysis.correlation.pearson_interval.low),
                format_optional(analysis.correlation.pearson_interval.high)
            ),
        ],
    ]
}
