//! Spectral clustering of a barrier matrix, as scikit-learn's `SpectralClustering(affinity=
//! "precomputed")` does it, and the paper's centroid-distance axis.
//!
//! Steps, for a barrier matrix `D` over `n` models:
//!
//! 1. Affinity `A = exp(−D² / (2δ²))`, its diagonal set to 0 (scipy's `csgraph.laplacian` ignores it).
//! 2. Degrees `d_i = Σ_j A_ij` and the symmetric normalised Laplacian
//!    `L = I − diag(d)^(−1/2) · A · diag(d)^(−1/2)`; a model with degree 0 (every affinity underflowed)
//!    is treated as having `√d = 1`, as scipy does, and the diagonal of `L` is 1 as in scikit-learn's
//!    `spectral_embedding`.
//! 3. The eigendecomposition of `L` (dense, `linfa_linalg::eigh`), eigenvalues ascending.
//! 4. The embedding: the eigenvectors of the `c` smallest eigenvalues as columns, each row divided by
//!    `√d_i` (`norm_laplacian=True`, `drop_first=False`). The first column is then constant up to
//!    sign: it carries no information but is kept, as scikit-learn keeps it.
//! 5. k-means (k-means++ initialisation, [`KMeansOptions::n_runs`] restarts, best inertia) on the rows
//!    of the `k`-column embedding, seeded, then Lloyd iterations until the labels are stable, so the
//!    centroids are exactly the cluster means.
//!
//! Cluster labels are canonical: cluster 0 is the largest, ties broken by the smallest model index
//! in the cluster. The partition does not depend on the k-means run that found it, so the labels are
//! deterministic for a given matrix and seed, and equal up to renaming to scikit-learn's.
//!
//! The **centroid-distance axis** (the paper's Figure 4) uses the 2-column embedding and k = 2: for
//! each model `x = ‖e − c_0‖ − ‖e − c_1‖`, with `c_0` the centroid of the larger cluster (sign
//! convention: models of the larger cluster have `x < 0`). Since the first column is constant, `x` is a
//! signed position along the second eigenvector, saturating at `±‖c_0 − c_1‖` outside the segment
//! between the centroids.
//!
//! The eigengap heuristic proposes the `k ∈ [2, max_k]` with the largest `λ_k − λ_{k−1}` (eigenvalues
//! indexed from 0). `k = 1` is never proposed: for an affinity with any spread the first gap is
//! usually the largest and says only that the graph is connected.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use linfa::DatasetBase;
use linfa::traits::Fit;
use linfa_clustering::KMeans;
use linfa_linalg::eigh::{EigSort, EighInto};
use ndarray::{Array2, ArrayView1, ArrayView2};
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result};
use crate::io::write_atomically;
use crate::matrix::{BarrierMatrix, quote_csv};

/// How many clusters to form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KChoice {
    /// A fixed number (the paper uses 2).
    Fixed(usize),
    /// The eigengap heuristic over `k ∈ [2, ClusterOptions::eigengap_max_k]`.
    Eigengap,
}

impl Default for KChoice {
    fn default() -> Self {
        KChoice::Fixed(2)
    }
}

impl FromStr for KChoice {
    type Err = String;

    /// `"auto"` (or `"eigengap"`) selects the eigengap; a positive integer fixes k.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.trim() {
            "auto" | "eigengap" => Ok(KChoice::Eigengap),
            other => match other.parse::<usize>() {
                Ok(k) if k >= 1 => Ok(KChoice::Fixed(k)),
                _ => Err(format!(
                    "invalid k `{s}`: expected a positive integer or `auto`"
                )),
            },
        }
    }
}

impl fmt::Display for KChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KChoice::Fixed(k) => write!(f, "{k}"),
            KChoice::Eigengap => f.write_str("auto"),
        }
    }
}

/// Parameters of the k-means step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KMeansOptions {
    /// Seed of the k-means++ initialisations.
    pub seed: u64,
    /// Restarts; the run with the lowest inertia wins (scikit-learn's `n_init`, 10).
    pub n_runs: usize,
}

impl Default for KMeansOptions {
    fn default() -> Self {
        Self {
            seed: 42,
            n_runs: 10,
        }
    }
}

/// Everything [`spectral_clustering`] needs besides the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClusterOptions {
    /// Number of clusters, or the eigengap.
    pub k: KChoice,
    /// Affinity bandwidth δ in `exp(−D²/(2δ²))` (default 1).
    pub delta: f64,
    /// k-means seed and restarts.
    pub kmeans: KMeansOptions,
    /// Largest k the eigengap heuristic considers (default 10).
    pub eigengap_max_k: usize,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            k: KChoice::default(),
            delta: 1.0,
            kmeans: KMeansOptions::default(),
            eigengap_max_k: 10,
        }
    }
}

/// A partition of models into clusters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    /// Model names, in matrix order.
    pub names: Vec<String>,
    /// Cluster of each model, canonical (0 is the largest cluster).
    pub labels: Vec<usize>,
    /// Number of clusters used.
    pub k: usize,
    /// What the eigengap heuristic proposes (reported whatever `k` is).
    pub eigengap_k: usize,
    /// All eigenvalues of the normalised Laplacian, ascending.
    pub eigenvalues: Vec<f64>,
}

impl Clustering {
    /// Number of models in each cluster, by label.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.k];
        for &label in &self.labels {
            sizes[label] += 1;
        }
        sizes
    }

    /// The labels as CSV: header `model,cluster`, one row per model in matrix order.
    pub fn to_csv_string(&self) -> String {
        let mut out = String::from("model,cluster\n");
        for (name, label) in self.names.iter().zip(&self.labels) {
            out.push_str(&format!("{},{label}\n", quote_csv(name)));
        }
        out
    }

    /// Writes [`Clustering::to_csv_string`] to `path` atomically: the output of `lmc cluster`.
    ///
    /// # Errors
    /// [`AnalysisError::Io`].
    pub fn write_labels_csv(&self, path: &Path) -> Result<()> {
        write_atomically(path, self.to_csv_string().as_bytes())
    }
}

/// The paper's centroid-distance axis (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CentroidAxis {
    /// Model names, in matrix order.
    pub names: Vec<String>,
    /// `‖e − c_0‖ − ‖e − c_1‖` per model.
    pub distances: Vec<f64>,
    /// The k = 2 partition the centroids come from (0 is the larger cluster).
    pub labels: Vec<usize>,
    /// The two centroids in the 2-column embedding, `[c_0, c_1]`.
    pub centroids: [[f64; 2]; 2],
}

/// The affinity `exp(−D²/(2δ²))` of a barrier matrix, row-major, diagonal included (it is 1).
///
/// # Errors
/// [`AnalysisError::Clustering`] if δ is not a positive finite number.
pub fn affinity(d: &BarrierMatrix, delta: f64) -> Result<Vec<f64>> {
    if !(delta.is_finite() && delta > 0.0) {
        return Err(AnalysisError::Clustering(format!(
            "delta must be a positive finite number, got {delta}"
        )));
    }
    let scale = 2.0 * delta * delta;
    Ok(d.values.iter().map(|&x| (-(x * x) / scale).exp()).collect())
}

/// The eigendecomposition of a barrier matrix's normalised Laplacian, from which embeddings,
/// clusterings and the centroid axis are read without decomposing again.
#[derive(Debug, Clone)]
pub struct SpectralEmbedding {
    names: Vec<String>,
    eigenvalues: Vec<f64>,
    /// Eigenvectors as columns, in eigenvalue order.
    eigenvectors: Array2<f64>,
    sqrt_degree: Vec<f64>,
}

impl SpectralEmbedding {
    /// Decomposes the normalised Laplacian of the affinity of `d` (steps 1–3 of the module docs).
    /// `d` is used as given; validate it first if it comes from outside.
    ///
    /// # Errors
    /// [`AnalysisError::Clustering`] for a bad δ or a non-finite entry, [`AnalysisError::Eigen`] if
    /// the eigensolver fails.
    pub fn new(d: &BarrierMatrix, delta: f64) -> Result<Self> {
        let n = d.len();
        if n == 0 || d.values.len() != n * n {
            return Err(AnalysisError::Clustering(format!(
                "{n} model names need {} matrix entries, found {}",
                n * n,
                d.values.len()
            )));
        }
        if let Some(index) = d.values.iter().position(|v| !v.is_finite()) {
            return Err(AnalysisError::Clustering(format!(
                "entry (row `{}`, column `{}`) is not finite",
                d.names[index / n],
                d.names[index % n]
            )));
        }
        let mut a = affinity(d, delta)?;
        for i in 0..n {
            a[i * n + i] = 0.0;
        }
        let sqrt_degree: Vec<f64> = (0..n)
            .map(|i| {
                let degree: f64 = a[i * n..(i + 1) * n].iter().sum();
                if degree > 0.0 { degree.sqrt() } else { 1.0 }
            })
            .collect();
        let laplacian = Array2::from_shape_fn((n, n), |(i, j)| {
            if i == j {
                1.0
            } else {
                -a[i * n + j] / (sqrt_degree[i] * sqrt_degree[j])
            }
        });
        let (eigenvalues, eigenvectors) = laplacian.eigh_into()?.sort_eig_asc();
        Ok(Self {
            names: d.names.clone(),
            eigenvalues: eigenvalues.to_vec(),
            eigenvectors,
            sqrt_degree,
        })
    }

    /// Model names, in matrix order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// All eigenvalues of the normalised Laplacian, ascending.
    pub fn eigenvalues(&self) -> &[f64] {
        &self.eigenvalues
    }

    /// The eigengap heuristic's k in `[2, max_k]` (limited to `n − 1`); 1 when fewer than 3 models
    /// leave no candidate.
    pub fn eigengap_k(&self, max_k: usize) -> usize {
        let upper = max_k.min(self.eigenvalues.len().saturating_sub(1));
        (2..=upper)
            .map(|k| (k, self.eigenvalues[k] - self.eigenvalues[k - 1]))
            .fold(None, |best: Option<(usize, f64)>, (k, gap)| match best {
                Some((_, best_gap)) if best_gap >= gap => best,
                _ => Some((k, gap)),
            })
            .map_or(1, |(k, _)| k)
    }

    /// The `n × components` embedding: eigenvectors of the smallest eigenvalues, rows divided by
    /// `√degree` (step 4 of the module docs). Eigenvector signs are arbitrary.
    ///
    /// # Panics
    /// If `components > n`.
    pub fn coordinates(&self, components: usize) -> Array2<f64> {
        let n = self.names.len();
        assert!(components <= n, "{components} components for {n} models");
        Array2::from_shape_fn((n, components), |(i, c)| {
            self.eigenvectors[[i, c]] / self.sqrt_degree[i]
        })
    }

    fn check_k(&self, k: usize) -> Result<()> {
        if k == 0 || k > self.names.len() {
            return Err(AnalysisError::Clustering(format!(
                "k = {k} clusters for {} models: need 1 ≤ k ≤ number of models",
                self.names.len()
            )));
        }
        Ok(())
    }

    /// Spectral clustering into `k` clusters (step 5); `eigengap_max_k` only sets the reported
    /// [`Clustering::eigengap_k`].
    ///
    /// # Errors
    /// [`AnalysisError::Clustering`] if `k` is 0 or exceeds the number of models;
    /// [`AnalysisError::KMeans`] if linfa fails.
    pub fn cluster(
        &self,
        k: usize,
        eigengap_max_k: usize,
        kmeans: &KMeansOptions,
    ) -> Result<Clustering> {
        self.check_k(k)?;
        let (labels, _) = k_means(self.coordinates(k).view(), k, kmeans)?;
        Ok(Clustering {
            names: self.names.clone(),
            labels,
            k,
            eigengap_k: self.eigengap_k(eigengap_max_k),
            eigenvalues: self.eigenvalues.clone(),
        })
    }

    /// The centroid-distance axis (see the module docs).
    ///
    /// # Errors
    /// [`AnalysisError::Clustering`] with fewer than 2 models; [`AnalysisError::KMeans`].
    pub fn centroid_axis(&self, kmeans: &KMeansOptions) -> Result<CentroidAxis> {
        self.check_k(2)?;
        let points = self.coordinates(2);
        let (labels, centroids) = k_means(points.view(), 2, kmeans)?;
        let distance = |row: ArrayView1<f64>, c: usize| {
            row.iter()
                .zip(centroids.row(c))
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f64>()
                .sqrt()
        };
        let distances = points
            .rows()
            .into_iter()
            .map(|row| distance(row, 0) - distance(row, 1))
            .collect();
        Ok(CentroidAxis {
            names: self.names.clone(),
            distances,
            labels,
            centroids: [
                [centroids[[0, 0]], centroids[[0, 1]]],
                [centroids[[1, 0]], centroids[[1, 1]]],
            ],
        })
    }
}

/// Spectral clustering of a barrier matrix, as `lmc cluster` runs it: decompose, choose k (fixed or
/// eigengap), k-means.
///
/// # Errors
/// As [`SpectralEmbedding::new`] and [`SpectralEmbedding::cluster`].
pub fn spectral_clustering(d: &BarrierMatrix, options: &ClusterOptions) -> Result<Clustering> {
    let embedding = SpectralEmbedding::new(d, options.delta)?;
    let k = match options.k {
        KChoice::Fixed(k) => k,
        KChoice::Eigengap => embedding.eigengap_k(options.eigengap_max_k),
    };
    embedding.cluster(k, options.eigengap_max_k, &options.kmeans)
}

/// The centroid-distance axis of a barrier matrix with affinity bandwidth `delta`.
///
/// # Errors
/// As [`SpectralEmbedding::new`] and [`SpectralEmbedding::centroid_axis`].
pub fn centroid_axis(
    d: &BarrierMatrix,
    delta: f64,
    kmeans: &KMeansOptions,
) -> Result<CentroidAxis> {
    SpectralEmbedding::new(d, delta)?.centroid_axis(kmeans)
}

fn squared_distance(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Index of the centroid nearest to `point` (lowest index on ties).
fn nearest(point: ArrayView1<f64>, centroids: &Array2<f64>) -> usize {
    let mut best = (0, f64::INFINITY);
    for (c, centroid) in centroids.rows().into_iter().enumerate() {
        let d = squared_distance(point, centroid);
        if d < best.1 {
            best = (c, d);
        }
    }
    best.0
}

/// Seeded k-means with restarts (linfa), refined by Lloyd iterations to stable labels, relabelled
/// canonically. Returns labels and the matching centroids (row `c` is cluster `c`'s mean).
fn k_means(
    points: ArrayView2<f64>,
    k: usize,
    options: &KMeansOptions,
) -> Result<(Vec<usize>, Array2<f64>)> {
    let n = points.nrows();
    let dataset = DatasetBase::from(points.to_owned());
    let model = KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(options.seed))
        .n_runs(options.n_runs)
        .tolerance(1e-12)
        .max_n_iterations(1000)
        .fit(&dataset)?;
    let mut centroids = model.centroids().clone();
    let mut labels: Vec<usize> = points
        .rows()
        .into_iter()
        .map(|p| nearest(p, &centroids))
        .collect();
    for _ in 0..1000 {
        let mut sums = Array2::<f64>::zeros(centroids.dim());
        let mut counts = vec![0_usize; k];
        for (point, &label) in points.rows().into_iter().zip(&labels) {
            sums.row_mut(label).scaled_add(1.0, &point);
            counts[label] += 1;
        }
        for (c, &count) in counts.iter().enumerate() {
            if count > 0 {
                let mean = &sums.row(c) / count as f64;
                centroids.row_mut(c).assign(&mean);
            }
        }
        let next: Vec<usize> = points
            .rows()
            .into_iter()
            .map(|p| nearest(p, &centroids))
            .collect();
        if next == labels {
            break;
        }
        labels = next;
    }
    // Canonical order: larger clusters first, ties by the first model in the cluster.
    let mut counts = vec![0_usize; k];
    let mut first = vec![n; k];
    for (i, &label) in labels.iter().enumerate() {
        counts[label] += 1;
        first[label] = first[label].min(i);
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by_key(|&c| (std::cmp::Reverse(counts[c]), first[c]));
    let mut rename = vec![0; k];
    for (new, &old) in order.iter().enumerate() {
        rename[old] = new;
    }
    let canonical = Array2::from_shape_fn(centroids.dim(), |(c, j)| centroids[[order[c], j]]);
    Ok((labels.into_iter().map(|l| rename[l]).collect(), canonical))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_choice_parses() {
        assert_eq!("auto".parse::<KChoice>(), Ok(KChoice::Eigengap));
        assert_eq!("3".parse::<KChoice>(), Ok(KChoice::Fixed(3)));
        assert!("0".parse::<KChoice>().is_err());
        assert!("two".parse::<KChoice>().is_err());
        assert_eq!(KChoice::Fixed(2).to_string(), "2");
    }
}
