//! Barrier metrics of one interpolation curve.
//!
//! A curve is a sequence of points `(α_k, L_k)` with strictly increasing α: the loss (or error) of the
//! model `(1 − α)·θ_A + α·θ_B`. The paper's definitions (see the crate docs) are written with indices on
//! an evenly spaced grid; here the chord between points `i < j` evaluated at `k` is
//!
//! ```text
//! chord_ij(k) = L_i + (α_k − α_i) / (α_j − α_i) · (L_j − L_i)
//! ```
//!
//! which is exactly the index form `((j − k)·L_i + (k − i)·L_j) / (j − i)` when the α are evenly
//! spaced, and the geometrically right chord when they are not. [`Curve::evenly_spaced`] builds a curve
//! on the index grid `α_k = k` for callers that only have values.
//!
//! - **Endpoint barrier**: `max(0, max_k [L_k − chord_{0,n−1}(k)])`.
//! - **Convexity gap (CG)**: `max(0, max_{i<k<j} [L_k − chord_ij(k)])`, the largest rise of the curve
//!   above the chord of any contiguous sub-segment. [`Curve::convexity_gap`] computes it in O(n) from
//!   the lower convex hull; [`Curve::convexity_gap_brute_force`] is the O(n³) definition.
//! - **Area above the minimum**: `∫ (L(α) − min L) dα` by the trapezoid rule.
//!
//! # Why the hull gives the convexity gap
//!
//! Let `H` be the lower convex hull of the points, a piecewise-linear convex function with `H(α_k) ≤ L_k`
//! whose vertices are points of the curve. For any `i < k < j`, the chord `chord_ij` lies above `H` on
//! `[α_i, α_j]` (both its ends are on or above the convex `H`), so `L_k − chord_ij(k) ≤ L_k − H(α_k)`.
//! Conversely, if `k` is not a hull vertex it lies strictly between two consecutive hull vertices
//! `i' < k < j'`, and `chord_{i'j'}(k) = H(α_k)`, so the bound is attained; hull vertices contribute 0,
//! which the floor at 0 already allows. Hence `CG = max(0, max_k [L_k − H(α_k)])`. The hull of points
//! sorted by α is one pass of Andrew's monotone chain.

use serde::{Deserialize, Serialize};

use crate::error::CurveError;

/// A barrier metric computed from one curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurveMetric {
    /// Rise above the chord of the endpoints ([`Curve::endpoint_barrier`]).
    EndpointBarrier,
    /// Rise above the chord of any sub-segment ([`Curve::convexity_gap`]), the paper's clustering metric.
    ConvexityGap,
    /// Trapezoid area between the curve and its minimum ([`Curve::area_above_minimum`]).
    AreaAboveMinimum,
}

impl CurveMetric {
    /// Every metric, in a fixed order.
    pub const ALL: [CurveMetric; 3] = [
        CurveMetric::EndpointBarrier,
        CurveMetric::ConvexityGap,
        CurveMetric::AreaAboveMinimum,
    ];

    /// The metric's snake-case name, as used in file names and JSON.
    pub fn name(self) -> &'static str {
        match self {
            CurveMetric::EndpointBarrier => "endpoint_barrier",
            CurveMetric::ConvexityGap => "convexity_gap",
            CurveMetric::AreaAboveMinimum => "area_above_minimum",
        }
    }
}

/// A validated interpolation curve: at least two finite points with strictly increasing α.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    alphas: Vec<f64>,
    values: Vec<f64>,
}

impl Curve {
    /// A curve from its α grid and its values (loss, error, ...).
    ///
    /// # Errors
    /// [`CurveError`] when the lengths differ, there are fewer than two points, a number is not finite,
    /// or α is not strictly increasing.
    pub fn new(alphas: Vec<f64>, values: Vec<f64>) -> Result<Self, CurveError> {
        if alphas.len() != values.len() {
            return Err(CurveError::LengthMismatch {
                alphas: alphas.len(),
                values: values.len(),
            });
        }
        if values.len() < 2 {
            return Err(CurveError::TooShort(values.len()));
        }
        for (index, (&alpha, &value)) in alphas.iter().zip(&values).enumerate() {
            if !alpha.is_finite() || !value.is_finite() {
                return Err(CurveError::NonFinite {
                    index,
                    alpha,
                    value,
                });
            }
            if index > 0 && alpha <= alphas[index - 1] {
                return Err(CurveError::NotIncreasing {
                    index,
                    previous: alphas[index - 1],
                    alpha,
                });
            }
        }
        Ok(Self { alphas, values })
    }

    /// A curve on the index grid `α_k = k`, matching the paper's index-based definitions.
    ///
    /// # Errors
    /// As [`Curve::new`].
    pub fn evenly_spaced(values: Vec<f64>) -> Result<Self, CurveError> {
        let alphas = (0..values.len()).map(|k| k as f64).collect();
        Self::new(alphas, values)
    }

    /// The α grid.
    pub fn alphas(&self) -> &[f64] {
        &self.alphas
    }

    /// The values.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The same path walked the other way: values reversed, `α ↦ α_first + α_last − α`.
    pub fn reversed(&self) -> Self {
        let first = self.alphas[0];
        let last = self.alphas[self.alphas.len() - 1];
        Self {
            alphas: self
                .alphas
                .iter()
                .rev()
                .map(|&a| first + last - a)
                .collect(),
            values: self.values.iter().rev().copied().collect(),
        }
    }

    /// The curve's value under `metric`.
    pub fn metric(&self, metric: CurveMetric) -> f64 {
        match metric {
            CurveMetric::EndpointBarrier => self.endpoint_barrier(),
            CurveMetric::ConvexityGap => self.convexity_gap(),
            CurveMetric::AreaAboveMinimum => self.area_above_minimum(),
        }
    }

    /// `L_k − chord_ij(k)`.
    fn rise_above_chord(&self, i: usize, k: usize, j: usize) -> f64 {
        let (a, l) = (&self.alphas, &self.values);
        let t = (a[k] - a[i]) / (a[j] - a[i]);
        l[k] - (l[i] + t * (l[j] - l[i]))
    }

    /// Endpoint barrier: the largest rise above the chord of the two endpoints, floored at 0.
    pub fn endpoint_barrier(&self) -> f64 {
        let last = self.values.len() - 1;
        (1..last)
            .map(|k| self.rise_above_chord(0, k, last))
            .fold(0.0, f64::max)
    }

    /// Convexity gap in O(n): the largest distance of the curve above its lower convex hull, floored
    /// at 0. Equal to [`Curve::convexity_gap_brute_force`] (see the module docs for the proof).
    pub fn convexity_gap(&self) -> f64 {
        let hull = self.lower_hull();
        let mut gap = 0.0_f64;
        for edge in hull.windows(2) {
            let (i, j) = (edge[0], edge[1]);
            for k in i + 1..j {
                gap = gap.max(self.rise_above_chord(i, k, j));
            }
        }
        gap
    }

    /// Convexity gap by its definition: the maximum over all `i < k < j` of `L_k − chord_ij(k)`,
    /// floored at 0. O(n³); the reference that tests and benchmarks compare
    /// [`Curve::convexity_gap`] against.
    pub fn convexity_gap_brute_force(&self) -> f64 {
        let n = self.values.len();
        let mut gap = 0.0_f64;
        for i in 0..n {
            for j in i + 2..n {
                for k in i + 1..j {
                    gap = gap.max(self.rise_above_chord(i, k, j));
                }
            }
        }
        gap
    }

    /// Trapezoid area between the curve and its minimum value, in units of α.
    pub fn area_above_minimum(&self) -> f64 {
        let min = self.values.iter().copied().fold(f64::INFINITY, f64::min);
        self.alphas
            .windows(2)
            .zip(self.values.windows(2))
            .map(|(a, l)| 0.5 * (a[1] - a[0]) * ((l[0] - min) + (l[1] - min)))
            .sum()
    }

    /// Indices of the lower convex hull's vertices, left to right (Andrew's monotone chain). Points on
    /// a hull edge are dropped: their rise above it is 0.
    fn lower_hull(&self) -> Vec<usize> {
        let (a, l) = (&self.alphas, &self.values);
        let mut hull: Vec<usize> = Vec::with_capacity(a.len());
        for k in 0..a.len() {
            while let [.., p, q] = hull[..] {
                let cross = (a[q] - a[p]) * (l[k] - l[p]) - (l[q] - l[p]) * (a[k] - a[p]);
                if cross > 0.0 {
                    break;
                }
                hull.pop();
            }
            hull.push(k);
        }
        hull
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bump_between_two_dips_has_cg_but_no_endpoint_barrier() {
        let curve = Curve::evenly_spaced(vec![1.0, 0.0, 0.5, 0.0, 1.0]).unwrap();
        assert_eq!(curve.endpoint_barrier(), 0.0);
        assert!((curve.convexity_gap() - 0.5).abs() < 1e-15);
        assert!((curve.convexity_gap_brute_force() - 0.5).abs() < 1e-15);
    }

    #[test]
    fn alpha_grid_sets_the_chord() {
        let curve = Curve::new(vec![0.0, 0.9, 1.0], vec![0.0, 1.0, 0.0]).unwrap();
        assert_eq!(curve.endpoint_barrier(), 1.0);
        let area = curve.area_above_minimum();
        assert!((area - 0.5).abs() < 1e-15, "{area}");
    }

    #[test]
    fn invalid_curves_are_rejected() {
        assert_eq!(
            Curve::evenly_spaced(vec![1.0]),
            Err(CurveError::TooShort(1))
        );
        assert!(matches!(
            Curve::new(vec![0.0, 0.0], vec![1.0, 2.0]),
            Err(CurveError::NotIncreasing { index: 1, .. })
        ));
        assert!(matches!(
            Curve::evenly_spaced(vec![1.0, f64::NAN]),
            Err(CurveError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            Curve::new(vec![0.0], vec![1.0, 2.0]),
            Err(CurveError::LengthMismatch { .. })
        ));
    }
}
