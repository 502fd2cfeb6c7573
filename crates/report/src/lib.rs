//! Figures and reports drawn from lmc's stored result tables.
//!
//! This crate reproduces the figures of "Linear Connectivity Reveals Generalization Strategies"
//! (Juneja et al., ICLR 2023) from what a sweep and its analysis stored on disk: it never
//! evaluates a model or recomputes the clustering of the final models. Its inputs are a results
//! directory (the tables of [`lmc_analysis::schema`]: `pairs.parquet`, `endpoints.parquet`, and the
//! optional `hans_cells.parquet`, `surface.parquet`, `surface_models.parquet` and `checkpoints/`)
//! and an analysis directory written by [`lmc_analysis::Analysis::write`] (the files of
//! [`lmc_analysis::analysis_files`]). [`StudyTables::read`] parses them once, the analysis
//! directory with [`lmc_analysis::Analysis::read`]: the figures and the report take
//! lmc-analysis' own types.
//!
//! Each figure is a function from parsed tables to a value that implements [`Plot`], so it can be
//! drawn on any plotters backend and tested on small fixed tables:
//!
//! | figure | builder | shows |
//! |---|---|---|
//! | 1 | [`interpolation_curves`] | mean ± 95 % CI of loss / accuracy along the path, G–G, G–H, H–H, per set |
//! | 2 | [`loss_surfaces`] | loss / accuracy / ECE on planes through three models, one colour scale |
//! | 3 | [`barrier_heatmap`] | the convexity-gap matrix sorted by the diagnostic metric and by cluster |
//! | 4 | [`centroid_scatter`] | centroid distance vs diagnostic metric, fit line, r; per-cluster histograms |
//! | 5 | [`cluster_table`] | per-cluster size and metric statistics |
//! | 6 | [`training_dynamics_figure`] | clusters recomputed per checkpoint, arrows between checkpoints |
//! | 7 | [`hans_breakdown`] | per-cluster accuracy on the six HANS cells and in domain |
//!
//! [`render_svg`] gives a deterministic SVG string (text is laid out with the embedded DejaVu Sans,
//! so the same input gives the same bytes on every machine); [`write_png`] rasterises the same
//! drawing. Every figure takes its cluster colours from [`cluster_colour`].
//!
//! [`write_report`] draws everything into `<out>/figures/` and writes a self-contained
//! `report.html` (inline SVG, no external resources) and `report.md`, with the configuration and
//! data provenance of [`ReportContext`], the cluster and barrier tables, and a paper-vs-this-run
//! table built from [`PAPER_REFERENCES`]. A figure whose optional input is missing is listed as
//! skipped, with the reason, instead of failing the report.
//!
//! ```no_run
//! use lmc_report::{ReportContext, ReportInputs, write_report};
//!
//! let inputs = ReportInputs {
//!     results_dir: "runs/mnli".into(),
//!     analysis_dir: "runs/mnli/analysis".into(),
//!     context: ReportContext { task: Some("mnli".into()), ..ReportContext::default() },
//! };
//! let files = write_report(&inputs, "runs/mnli/report".as_ref())?;
//! println!("{}", files.html.display());
//! # Ok::<(), lmc_report::ReportError>(())
//! ```

mod context;
mod document;
mod error;
mod figure;
mod figures;
mod palette;
mod paper;
mod render;
mod report;
mod stored;

pub use context::{FigureOptions, ReportContext, ReportInputs};
pub use error::{ReportError, Result};
pub use figure::{FIGURES_DIR, Figure, FigureOutcome};
pub use figures::clusters::{ClusterTable, cluster_table};
pub use figures::curves::{
    CurvePanel, CurveRow, CurveValue, GROUP_PAIRS, InterpolationCurves, groups,
    interpolation_curves,
};
pub use figures::dynamics::{TrainingDynamicsFigure, training_dynamics_figure};
pub use figures::hans::{HansBreakdown, hans_breakdown};
pub use figures::heatmap::{BarrierHeatmap, HeatmapPanel, barrier_heatmap};
pub use figures::scatter::{CentroidScatter, centroid_scatter};
pub use figures::surface::{SurfaceFigure, SurfaceValue, loss_surfaces};
pub use palette::{ColourScale, GROUP_PAIR_COLOURS, cluster_colour, sequential_colour};
pub use paper::{PAPER_REFERENCES, PaperReference, paper_reference};
pub use render::{DrawResult, FONT_FAMILY, Plot, render_svg, write_png};
pub use report::{
    HTML_FILE, MARKDOWN_FILE, MetricNames, ReportFiles, StudyTables, draw_figures,
    draw_study_figures, write_report,
};
pub use stored::{
    CheckpointResults, MarkedModel, ModelRow, SurfacePlane, SurfacePoint, model_rows,
    read_checkpoints, read_surfaces,
};
