//! `lmc report`: every figure of the study and a self-contained `report.html` + `report.md`,
//! drawn from a sweep's stored result tables (see `lmc_report`).

use std::path::PathBuf;

use clap::Args;
use lmc_analysis::{AnalyzeOptions, analyze};
use lmc_report::{FigureOutcome, ReportContext, ReportInputs, write_report};

/// Arguments of `lmc report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Sweep results directory (pairs.parquet, endpoints.parquet; optional hans_cells.parquet,
    /// surface.parquet, surface_models.parquet, checkpoints/step-<N>/, soups/soups.parquet).
    #[arg(long)]
    pub results: PathBuf,
    /// Analysis directory written by `lmc analyze`; when absent, the analysis is run with default
    /// settings into `<out>/analysis`.
    #[arg(long)]
    pub analysis: Option<PathBuf>,
    /// Output directory: report.html, report.md and figures/.
    #[arg(long)]
    pub out: PathBuf,
    /// JSON file with the report context: title, task, preset, configuration, provenance notes and
    /// figure options (every field optional).
    #[arg(long)]
    pub context: Option<PathBuf>,
    /// In-domain set, used only when the analysis is run here.
    #[arg(long, default_value = "id")]
    pub in_domain_set: String,
    /// Diagnostic set, used only when the analysis is run here.
    #[arg(long, default_value = "ood")]
    pub diagnostic_set: String,
}

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let context = match &args.context {
        Some(path) => ReportContext::read(path)?,
        None => ReportContext::default(),
    };
    let analysis_dir = match args.analysis {
        Some(dir) => dir,
        None => {
            let dir = args.out.join("analysis");
            let options = AnalyzeOptions {
                in_domain_set: args.in_domain_set,
                diagnostic_set: args.diagnostic_set,
                ..AnalyzeOptions::default()
            };
            analyze(&args.results, &options)?.write(&dir)?;
            println!("analysis: {}", dir.display());
            dir
        }
    };
    let inputs = ReportInputs {
        results_dir: args.results,
        analysis_dir,
        context,
    };
    let files = write_report(&inputs, &args.out)?;
    for figure in &files.figures {
        match &figure.outcome {
            FigureOutcome::Drawn { svg_file, .. } => {
                println!(
                    "figure {}: {}",
                    figure.number,
                    args.out.join(svg_file).display()
                );
            }
            FigureOutcome::Skipped { reason } => {
                println!(
                    "figure {} ({}) skipped: {reason}",
                    figure.number, figure.title
                );
            }
        }
    }
    println!("report: {}", files.html.display());
    println!("report: {}", files.markdown.display());
    Ok(())
}
