//! Turns sweep results into the findings of "Linear Connectivity Reveals Generalization Strategies"
//! (Juneja et al., ICLR 2023): barrier metrics, spectral clusters of models, and how the clusters
//! relate to out-of-domain behaviour.
//!
//! A sweep interpolates every pair of fine-tuned models, `θ(α) = (1 − α)·θ_A + α·θ_B`, and records
//! the loss along each path. This crate reads those curves and answers the paper's questions. Which
//! pairs are separated by a barrier? [`Curve`] measures one path: the endpoint barrier, the paper's
//! **convexity gap** (the largest rise above the chord of any sub-segment, computed in linear time
//! from the lower convex hull; the cubic definition is kept as a reference), and the area above the
//! minimum. Do the barriers split the models into groups? [`BarrierMatrix`] holds the pairwise
//! matrix `D`, built from a result table by [`PairsTable::matrix`] or read from CSV, and
//! [`spectral_clustering`] partitions it exactly as scikit-learn's
//! `SpectralClustering(affinity="precomputed")` does, on the affinity `exp(−D²/(2δ²))`, with a
//! fixed k or the eigengap ([`KChoice`]). Do the groups generalise differently? [`analyze`] places
//! every model on the paper's centroid-distance axis ([`CentroidAxis`]), correlates it with the
//! model's diagnostic metric (Pearson, Spearman, a seeded bootstrap interval), summarises each
//! cluster (including the six HANS cells for MNLI), compares barriers within and between clusters,
//! tests whether the clusters separate `D` more than clusters of shuffled matrices do
//! ([`separation_test`]), checks the triangle inequality of `D`, and writes tables, JSON and a
//! Markdown summary ([`Analysis::write`]), which [`Analysis::read`] reads back.
//! [`training_dynamics`] follows cluster membership across checkpoints.
//!
//! The contract with the sweep crate, which writes the result tables, is [`schema`]; the files of
//! an analysis directory, written here and read by the report crate, are [`analysis_files`]. The
//! crate uses polars for tables and linfa for k-means and the eigendecomposition; it never links
//! the deep learning framework. Errors are [`AnalysisError`] values that name the file, row,
//! column or model pair at fault.
//!
//! # Example
//!
//! Two basins of three models each: curves inside a basin are convex, curves across have a bump.
//!
//! ```
//! use lmc_analysis::{BarrierMatrix, ClusterOptions, Curve, spectral_clustering};
//!
//! let across = Curve::evenly_spaced(vec![0.40, 0.43, 0.70, 0.95, 0.72, 0.44, 0.41])?;
//! let within = Curve::evenly_spaced(vec![0.40, 0.388, 0.38, 0.376, 0.378, 0.388, 0.41])?;
//! assert!(across.convexity_gap() > 0.4);
//! assert_eq!(within.convexity_gap(), 0.0);
//! assert!((across.convexity_gap() - across.convexity_gap_brute_force()).abs() < 1e-12);
//!
//! let names: Vec<String> = ["a1", "a2", "a3", "b1", "b2", "b3"].map(String::from).into();
//! let basin = |i: usize| i / 3;
//! let values = (0..36)
//!     .map(|x| (x / 6, x % 6))
//!     .map(|(i, j)| if basin(i) == basin(j) { 0.0 } else { across.convexity_gap() * 5.0 })
//!     .collect();
//! let d = BarrierMatrix::new(names, values, "example")?;
//! let clustering = spectral_clustering(&d, &ClusterOptions::default())?;
//! assert_eq!(clustering.labels, vec![0, 0, 0, 1, 1, 1]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! For the command line: `lmc cluster` is [`BarrierMatrix::read_csv`] →
//! [`spectral_clustering`] → [`Clustering::write_labels_csv`]; `lmc analyze` is [`analyze`] →
//! [`Analysis::write`].

mod analyze;
mod curve;
mod dynamics;
mod error;
mod io;
mod matrix;
mod report;
mod separation;
mod spectral;
mod stats;
mod tables;

pub use analyze::{Analysis, AnalyzeOptions, analysis_files, analyze, analyze_tables};
pub use curve::{Curve, CurveMetric};
pub use dynamics::{Checkpoint, Dynamics, MAX_ALIGNED_CLUSTERS, Switch, training_dynamics};
pub use error::{AnalysisError, CurveError, MatrixProblem, Result};
pub use matrix::{BarrierMatrix, DEFAULT_MATRIX_TOLERANCE, TriangleCheck};
pub use report::{BarrierSummary, ClusterStats, HansCells, cluster_stats, within_between};
pub use separation::{SeparationOptions, SeparationTest, separation_statistic, separation_test};
pub use spectral::{
    CentroidAxis, ClusterOptions, Clustering, KChoice, KMeansOptions, SpectralEmbedding, affinity,
    centroid_axis, spectral_clustering,
};
pub use stats::{
    BootstrapInterval, BootstrapOptions, Correlation, LinearFit, Summary, bootstrap_pearson,
    correlate, least_squares, pearson, ranks, spearman,
};
pub use tables::{
    EndpointRow, EndpointsTable, HansTable, MatrixSpec, PairsTable, Quantity, pairwise_matrix,
    schema,
};
