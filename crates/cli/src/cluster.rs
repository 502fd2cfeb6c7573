//! `lmc cluster` and `lmc analyze`: spectral clustering of barrier matrices, and the paper's
//! analysis of a sweep's result tables.

use std::path::PathBuf;

use clap::Args;

use crate::backend::ThreadsOption;
use lmc_analysis::{
    AnalyzeOptions, BarrierMatrix, ClusterOptions, KChoice, KMeansOptions, analyze,
    spectral_clustering,
};

/// Clustering settings shared by `cluster` and `analyze`.
#[derive(Debug, Args)]
pub struct ClusterFlags {
    /// Number of clusters, or `auto` for the eigengap heuristic.
    #[arg(long, default_value = "2")]
    pub k: KChoice,
    /// Affinity bandwidth δ in exp(−D²/(2δ²)).
    #[arg(long, default_value_t = 1.0)]
    pub delta: f64,
    /// Seed of the k-means initialisations (`--seed` is the older spelling).
    #[arg(long, alias = "seed", default_value_t = 42)]
    pub kmeans_seed: u64,
    /// k-means restarts (the lowest inertia wins).
    #[arg(long, default_value_t = 10)]
    pub restarts: usize,
}

impl ClusterFlags {
    fn options(&self) -> ClusterOptions {
        ClusterOptions {
            k: self.k,
            delta: self.delta,
            kmeans: KMeansOptions {
                seed: self.kmeans_seed,
                n_runs: self.restarts,
            },
            ..ClusterOptions::default()
        }
    }
}

/// Arguments of `lmc cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Barrier matrix: CSV with a header row of model names and one row per model, first cell its name.
    #[arg(long)]
    pub barriers: PathBuf,
    #[command(flatten)]
    pub clustering: ClusterFlags,
    /// Output CSV `model,cluster` (cluster 0 is the largest).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub threads: ThreadsOption,
}

pub fn run_cluster(args: ClusterArgs) -> anyhow::Result<()> {
    args.threads.apply()?;
    let matrix = BarrierMatrix::read_csv(&args.barriers)?;
    let clustering = spectral_clustering(&matrix, &args.clustering.options())?;
    clustering.write_labels_csv(&args.out)?;
    let eigenvalues: Vec<String> = clustering
        .eigenvalues
        .iter()
        .take(5)
        .map(|v| format!("{v:.4}"))
        .collect();
    println!(
        "{} models, k = {} (eigengap suggests {}), cluster sizes {:?}; smallest eigenvalues {}",
        clustering.labels.len(),
        clustering.k,
        clustering.eigengap_k,
        clustering.sizes(),
        eigenvalues.join(", ")
    );
    println!("labels: {}", args.out.display());
    Ok(())
}

/// Arguments of `lmc analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Sweep results directory (pairs.parquet, endpoints.parquet, optional hans_cells.parquet).
    #[arg(long, required_unless_present = "results_positional")]
    pub results: Option<PathBuf>,
    /// The results directory as the first argument (the spelling before `--results`).
    #[arg(hide = true, conflicts_with = "results")]
    pub results_positional: Option<PathBuf>,
    /// Output directory for the tables and summary.md.
    #[arg(long)]
    pub out: PathBuf,
    /// Set whose loss curves define the barriers.
    #[arg(long, default_value = "id")]
    pub in_domain_set: String,
    /// Set whose metric ranks the models (HANS-LO, PAWS-QQP, CoLA-OOD).
    #[arg(long, default_value = "ood")]
    pub diagnostic_set: String,
    #[command(flatten)]
    pub clustering: ClusterFlags,
    #[command(flatten)]
    pub threads: ThreadsOption,
}

pub fn run_analyze(args: AnalyzeArgs) -> anyhow::Result<()> {
    args.threads.apply()?;
    let options = AnalyzeOptions {
        in_domain_set: args.in_domain_set,
        diagnostic_set: args.diagnostic_set,
        cluster: args.clustering.options(),
        ..AnalyzeOptions::default()
    };
    let results = args
        .results
        .as_ref()
        .or(args.results_positional.as_ref())
        .expect("clap requires one of --results and the positional form");
    let mut analysis = analyze(results, &options)?;
    analysis.provenance = Some(serde_json::to_value(crate::backend::provenance_on(
        "none".to_owned(),
    ))?);
    let written = analysis.write(&args.out)?;
    let r = analysis
        .correlation
        .pearson
        .map_or("n/a".to_string(), |r| format!("{r:.3}"));
    println!(
        "{} models in clusters of sizes {:?}; centroid distance vs diagnostic metric: Pearson r = {r}",
        analysis.models.len(),
        analysis.clustering.sizes()
    );
    for path in written {
        println!("  {}", path.display());
    }
    Ok(())
}
