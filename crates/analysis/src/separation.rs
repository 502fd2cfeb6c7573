//! Is a clustering of a barrier matrix stronger than chance? A permutation test.
//!
//! Spectral clustering always returns k clusters, even from a matrix without any block structure:
//! with a handful of models and barriers of the same size everywhere, the split follows noise.
//! [`separation_test`] measures how much the clusters separate the barriers,
//!
//! `S = mean of D over pairs in different clusters − mean of D over pairs in one cluster`,
//!
//! and compares it with the same statistic on matrices without structure. Each null matrix keeps the
//! observed barrier values but deals them out to the model pairs in a random order (a seeded shuffle
//! of the upper triangle), and is clustered again with the same options. Clustering the null
//! matrices again matters: the clusters of the observed matrix were chosen to separate it, so
//! random labels of the observed matrix would make any clustering look significant.
//!
//! The p-value is `(1 + #{null S ≥ observed S}) / (1 + permutations)`, so it is never 0 and a
//! matrix whose entries are all equal gets p = 1 (ties are judged up to 1e-12 of the largest
//! barrier, the rounding of the means).

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result};
use crate::matrix::BarrierMatrix;
use crate::report::within_between;
use crate::spectral::{ClusterOptions, spectral_clustering};
use crate::stats::{quantile, uniform_index};

/// Settings of [`separation_test`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeparationOptions {
    /// Shuffled matrices clustered for the null distribution (default 999).
    pub permutations: usize,
    /// Seed of the shuffles (default 42).
    pub seed: u64,
}

impl Default for SeparationOptions {
    fn default() -> Self {
        Self {
            permutations: 999,
            seed: 42,
        }
    }
}

/// The outcome of [`separation_test`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeparationTest {
    /// The settings used.
    pub options: SeparationOptions,
    /// Mean barrier between clusters minus mean barrier within clusters, for the clustering of the
    /// observed matrix.
    pub statistic: f64,
    /// Median of the statistic over the shuffled matrices.
    pub null_median: f64,
    /// `(1 + #{shuffled statistic ≥ observed}) / (1 + permutations)`.
    pub p_value: f64,
}

/// Mean of `d` over pairs in different clusters minus the mean over pairs in one cluster; `None`
/// when one of the two kinds of pair does not occur.
///
/// # Panics
/// If `labels` does not have one entry per model.
pub fn separation_statistic(d: &BarrierMatrix, labels: &[usize]) -> Option<f64> {
    let pairs = within_between(d, labels).expect("one label per model");
    Some(pairs.between.mean? - pairs.within.mean?)
}

/// Tests the separation of `labels`, the clustering of `d` with `cluster`, against
/// `options.permutations` shuffles of `d`, each clustered with `cluster` again (see the module
/// docs). `None` when `labels` have no pair within or no pair between clusters (e.g. k = 1, or
/// every model alone). A shuffle whose clustering has no such pairs counts as no separation
/// (statistic 0).
///
/// # Errors
/// [`AnalysisError::Statistics`] when `permutations` is 0 or `labels` does not have one entry per
/// model; the errors of [`spectral_clustering`].
pub fn separation_test(
    d: &BarrierMatrix,
    labels: &[usize],
    cluster: &ClusterOptions,
    options: &SeparationOptions,
) -> Result<Option<SeparationTest>> {
    if options.permutations == 0 {
        return Err(AnalysisError::Statistics(
            "the separation test needs at least one permutation".to_owned(),
        ));
    }
    if labels.len() != d.len() {
        return Err(AnalysisError::Statistics(format!(
            "{} labels for a {}-model matrix",
            labels.len(),
            d.len()
        )));
    }
    let Some(statistic) = separation_statistic(d, labels) else {
        return Ok(None);
    };

    let n = d.len();
    let mut upper: Vec<f64> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .map(|(i, j)| d.get(i, j))
        .collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(options.seed);
    let mut shuffled = d.clone();
    let mut null = Vec::with_capacity(options.permutations);
    for _ in 0..options.permutations {
        for slot in (1..upper.len()).rev() {
            upper.swap(slot, uniform_index(&mut rng, slot + 1));
        }
        let mut values = upper.iter();
        for i in 0..n {
            for j in i + 1..n {
                let value = *values.next().expect("one value per pair");
                shuffled.values[i * n + j] = value;
                shuffled.values[j * n + i] = value;
            }
        }
        let labels = spectral_clustering(&shuffled, cluster)?.labels;
        null.push(separation_statistic(&shuffled, &labels).unwrap_or(0.0));
    }
    // Means of equal barriers differ in their last bits with the number of pairs averaged; a
    // shuffle that ties the observed split up to rounding counts as reaching it.
    let tolerance = 1e-12 * d.values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let at_least = null.iter().filter(|&&s| s >= statistic - tolerance).count();
    null.sort_by(f64::total_cmp);
    let null_median = quantile(&null, 0.5);
    Ok(Some(SeparationTest {
        options: *options,
        statistic,
        null_median,
        p_value: (1 + at_least) as f64 / (1 + options.permutations) as f64,
    }))
}

#[cfg(test)]
mod tests {
    use rand_xoshiro::rand_core::RngCore;

    use super::*;

    fn matrix(n: usize, value: impl Fn(usize, usize) -> f64) -> BarrierMatrix {
        let names = (0..n).map(|i| format!("m{i}")).collect();
        let values = (0..n * n)
            .map(|x| (x / n, x % n))
            .map(|(i, j)| {
                if i == j {
                    0.0
                } else {
                    value(i.min(j), i.max(j))
                }
            })
            .collect();
        BarrierMatrix::new(names, values, "test").unwrap()
    }

    /// The separation test of `d`'s own default clustering.
    fn test_of(d: &BarrierMatrix, permutations: usize) -> SeparationTest {
        let cluster = ClusterOptions::default();
        let labels = spectral_clustering(d, &cluster).unwrap().labels;
        separation_test(d, &labels, &cluster, &options(permutations))
            .unwrap()
            .expect("pairs within and between clusters")
    }

    fn options(permutations: usize) -> SeparationOptions {
        SeparationOptions {
            permutations,
            seed: 7,
        }
    }

    /// A uniform value in [0, 1) from a pair and a matrix number, for matrices without structure.
    fn noise(i: usize, j: usize, matrix: usize) -> f64 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64((matrix * 10_000 + i * 100 + j) as u64);
        (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn two_basins_are_significant() {
        let d = matrix(8, |i, j| {
            let base = if (i < 4) == (j < 4) { 0.01 } else { 0.05 };
            base + 0.002 * noise(i, j, 0)
        });
        let test = test_of(&d, 199);
        assert!(test.statistic > 0.035, "{test:?}");
        assert!(test.null_median < 0.02, "{test:?}");
        assert_eq!(test.p_value, 1.0 / 200.0, "{test:?}");
    }

    #[test]
    fn equal_barriers_give_p_one() {
        let d = matrix(6, |_, _| 0.02);
        let test = test_of(&d, 49);
        assert!(test.statistic.abs() < 1e-15, "{test:?}");
        assert_eq!(test.p_value, 1.0);
    }

    #[test]
    fn matrices_without_structure_are_rarely_significant() {
        // Under the null each p-value is (close to) uniform: about 1 in 20 falls below 0.05.
        let p_values: Vec<f64> = (0..40)
            .map(|m| {
                let d = matrix(8, |i, j| noise(i, j, m + 1));
                test_of(&d, 39).p_value
            })
            .collect();
        let significant = p_values.iter().filter(|&&p| p <= 0.05).count();
        assert!(
            significant <= 6,
            "{significant} of 40 below 0.05: {p_values:?}"
        );
        let mean = p_values.iter().sum::<f64>() / p_values.len() as f64;
        assert!((0.35..0.65).contains(&mean), "mean p {mean}: {p_values:?}");
    }

    #[test]
    fn shuffles_follow_the_seed() {
        let d = matrix(7, |i, j| noise(i, j, 99));
        assert_eq!(test_of(&d, 59), test_of(&d, 59));
    }

    #[test]
    fn degenerate_requests_are_errors_or_untested() {
        let d = matrix(5, |i, j| noise(i, j, 3));
        let cluster = ClusterOptions::default();
        let labels = [0, 0, 1, 1, 1];
        assert!(separation_test(&d, &labels, &cluster, &options(0)).is_err());
        assert!(separation_test(&d, &labels[..4], &cluster, &options(9)).is_err());
        let two = matrix(2, |_, _| 0.1);
        assert_eq!(
            separation_test(&two, &[0, 1], &cluster, &options(9)).unwrap(),
            None
        );
        assert_eq!(
            separation_test(&d, &[0; 5], &cluster, &options(9)).unwrap(),
            None
        );
    }

    #[test]
    fn statistic_is_between_minus_within() {
        let d = matrix(4, |i, j| (i * 4 + j) as f64);
        // Pairs: (0,1)=1 (0,2)=2 (0,3)=3 (1,2)=6 (1,3)=7 (2,3)=11.
        let s = separation_statistic(&d, &[0, 0, 1, 1]).unwrap();
        assert!((s - ((2.0 + 3.0 + 6.0 + 7.0) / 4.0 - (1.0 + 11.0) / 2.0)).abs() < 1e-12);
        assert_eq!(separation_statistic(&d, &[0, 0, 0, 0]), None);
    }
}
