//! Small statistics: summaries, Pearson and Spearman correlation, a seeded bootstrap interval and
//! a least-squares line.
//!
//! Undefined statistics (the standard deviation of one value, the correlation of a constant) are
//! `None`, written as null in JSON and Parquet, never NaN.

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result};

/// Count, mean, sample standard deviation (n − 1 denominator), minimum and maximum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values.
    pub count: usize,
    /// Mean (`None` when empty).
    pub mean: Option<f64>,
    /// Sample standard deviation (`None` with fewer than 2 values).
    pub std: Option<f64>,
    /// Minimum (`None` when empty).
    pub min: Option<f64>,
    /// Maximum (`None` when empty).
    pub max: Option<f64>,
}

impl Summary {
    /// Summarises `values`.
    pub fn of(values: &[f64]) -> Self {
        let count = values.len();
        if count == 0 {
            return Self {
                count,
                mean: None,
                std: None,
                min: None,
                max: None,
            };
        }
        let mean = values.iter().sum::<f64>() / count as f64;
        let std = (count > 1).then(|| {
            (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (count - 1) as f64)
                .sqrt()
        });
        Self {
            count,
            mean: Some(mean),
            std,
            min: Some(values.iter().copied().fold(f64::INFINITY, f64::min)),
            max: Some(values.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        }
    }
}

/// Pearson's correlation coefficient; `None` when fewer than 2 points or either side is constant.
///
/// # Panics
/// If the slices differ in length.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    assert_eq!(x.len(), y.len(), "pearson: slices differ in length");
    let n = x.len();
    if n < 2 {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// Ranks from 1, ties sharing their average rank.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Spearman's rank correlation (Pearson on average ranks).
///
/// # Panics
/// If the slices differ in length.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    pearson(&ranks(x), &ranks(y))
}

/// A least-squares line `y = slope · x + intercept`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinearFit {
    /// Slope.
    pub slope: f64,
    /// Intercept.
    pub intercept: f64,
}

/// The least-squares line through the points; `None` when fewer than 2 points or `x` is constant.
///
/// # Panics
/// If the slices differ in length.
pub fn least_squares(x: &[f64], y: &[f64]) -> Option<LinearFit> {
    assert_eq!(x.len(), y.len(), "least_squares: slices differ in length");
    let n = x.len();
    if n < 2 {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    (sxx > 0.0).then(|| {
        let slope = sxy / sxx;
        LinearFit {
            slope,
            intercept: my - slope * mx,
        }
    })
}

/// Bootstrap settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapOptions {
    /// Number of resamples (default 2,000).
    pub resamples: usize,
    /// Coverage of the interval (default 0.95).
    pub confidence: f64,
    /// Seed of the resampling.
    pub seed: u64,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            resamples: 2000,
            confidence: 0.95,
            seed: 42,
        }
    }
}

/// A percentile bootstrap interval for Pearson's r.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapInterval {
    /// The settings used.
    pub options: BootstrapOptions,
    /// Resamples whose r was defined (a resample can be constant on one side).
    pub valid_resamples: usize,
    /// Lower bound (`None` when no resample was valid).
    pub low: Option<f64>,
    /// Upper bound.
    pub high: Option<f64>,
}

/// The `q`-quantile of sorted values, linear interpolation between order statistics (NumPy's
/// default).
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    sorted[below] + (position - below as f64) * (sorted[above] - sorted[below])
}

/// A uniform index in `0..n`: multiply-shift maps a uniform u64 onto it with bias below n / 2⁶⁴.
pub(crate) fn uniform_index(rng: &mut Xoshiro256PlusPlus, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// Percentile bootstrap of Pearson's r: resample the `(x, y)` pairs with replacement, seeded.
///
/// # Panics
/// If the slices differ in length.
pub fn bootstrap_pearson(x: &[f64], y: &[f64], options: &BootstrapOptions) -> BootstrapInterval {
    assert_eq!(
        x.len(),
        y.len(),
        "bootstrap_pearson: slices differ in length"
    );
    let n = x.len();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(options.seed);
    let mut rs = Vec::with_capacity(options.resamples);
    let (mut xs, mut ys) = (vec![0.0; n], vec![0.0; n]);
    if n > 0 {
        for _ in 0..options.resamples {
            for slot in 0..n {
                let i = uniform_index(&mut rng, n);
                xs[slot] = x[i];
                ys[slot] = y[i];
            }
            if let Some(r) = pearson(&xs, &ys) {
                rs.push(r);
            }
        }
    }
    rs.sort_by(f64::total_cmp);
    let tail = (1.0 - options.confidence) / 2.0;
    let (low, high) = if rs.is_empty() {
        (None, None)
    } else {
        (Some(quantile(&rs, tail)), Some(quantile(&rs, 1.0 - tail)))
    };
    BootstrapInterval {
        options: *options,
        valid_resamples: rs.len(),
        low,
        high,
    }
}

/// How one per-model quantity relates to another (the paper: centroid distance vs diagnostic metric).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    /// Number of models.
    pub n: usize,
    /// Pearson's r.
    pub pearson: Option<f64>,
    /// Spearman's ρ.
    pub spearman: Option<f64>,
    /// Bootstrap interval of Pearson's r.
    pub pearson_interval: BootstrapInterval,
    /// Least-squares line of y on x.
    pub fit: Option<LinearFit>,
}

/// Pearson, Spearman, bootstrap interval and least-squares line of `y` against `x`.
///
/// # Errors
/// [`AnalysisError::Statistics`] if the lengths differ, a value is not finite, or the confidence is
/// not in (0, 1).
pub fn correlate(x: &[f64], y: &[f64], bootstrap: &BootstrapOptions) -> Result<Correlation> {
    if x.len() != y.len() {
        return Err(AnalysisError::Statistics(format!(
            "correlation of {} values with {} values",
            x.len(),
            y.len()
        )));
    }
    if let Some(i) = (0..x.len()).find(|&i| !x[i].is_finite() || !y[i].is_finite()) {
        return Err(AnalysisError::Statistics(format!(
            "correlation input {i} is not finite ({}, {})",
            x[i], y[i]
        )));
    }
    if !(bootstrap.confidence > 0.0 && bootstrap.confidence < 1.0) {
        return Err(AnalysisError::Statistics(format!(
            "bootstrap confidence must be in (0, 1), got {}",
            bootstrap.confidence
        )));
    }
    Ok(Correlation {
        n: x.len(),
        pearson: pearson(x, y),
        spearman: spearman(x, y),
        pearson_interval: bootstrap_pearson(x, y, bootstrap),
        fit: least_squares(x, y),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 30.0]), vec![1.5, 3.0, 1.5, 4.0]);
    }

    #[test]
    fn correlations_of_a_monotone_relation() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [1.0, 4.0, 9.0, 16.0, 25.0];
        assert_eq!(spearman(&x, &y), Some(1.0));
        let r = pearson(&x, &y).unwrap();
        assert!((r - 60.0 / 3740_f64.sqrt()).abs() < 1e-12);
        let fit = least_squares(&x, &y).unwrap();
        assert!((fit.slope - 6.0).abs() < 1e-12 && (fit.intercept + 7.0).abs() < 1e-12);
    }
}
