//! Integration tests of `lmc-analysis`, in one binary: agreement with the scikit-learn reference
//! fixtures, property tests of the metrics and the clustering, CSV error handling, training dynamics,
//! and `analyze` end to end on small Parquet files.

mod analyze;
mod csv;
mod dynamics;
mod fixtures;
mod properties;

use lmc_analysis::BarrierMatrix;

/// Model names `m0`, `m1`, ….
pub fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("m{i}")).collect()
}

/// A barrier matrix of planted basins: `basin[i]` is model `i`'s basin; pairs inside a basin get
/// `within + jitter(i, j)`, pairs across get `between + jitter(i, j)`, with `jitter` symmetric in
/// `[0, 0.01)`.
pub fn planted(basin: &[usize], within: f64, between: f64) -> BarrierMatrix {
    let n = basin.len();
    let jitter = |i: usize, j: usize| {
        let (a, b) = (i.min(j) as u64, i.max(j) as u64);
        ((a * 7919 + b * 104_729) % 1000) as f64 * 1e-5
    };
    let values = (0..n * n)
        .map(|x| (x / n, x % n))
        .map(|(i, j)| match (i == j, basin[i] == basin[j]) {
            (true, _) => 0.0,
            (false, true) => within + jitter(i, j),
            (false, false) => between + jitter(i, j),
        })
        .collect();
    BarrierMatrix::new(names(n), values, "planted").expect("valid shape")
}

/// Whether two labelings describe the same partition (equal up to renaming the clusters).
pub fn same_partition(a: &[usize], b: &[usize]) -> bool {
    use std::collections::HashMap;
    if a.len() != b.len() {
        return false;
    }
    let (mut forward, mut backward) = (HashMap::new(), HashMap::new());
    a.iter()
        .zip(b)
        .all(|(x, y)| *forward.entry(x).or_insert(y) == y && *backward.entry(y).or_insert(x) == x)
}
