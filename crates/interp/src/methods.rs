//! mergekit's merge methods, one tensor at a time, on flat `f32` slices.
//!
//! Each function computes what mergekit computes for one tensor (read in its source: `linear.py`,
//! `slerp.py`, `generalized_task_arithmetic.py`, `sparsify.py`), operation for operation in `f32`
//! where mergekit works on `float32` tensors, so that for `float32` inputs the results are
//! mergekit's up to the sign of zeros, with these exceptions (documented where they arise):
//!
//! - slerp's norms and cosine are accumulated in `f64` (mergekit: NumPy in `float32`), so its
//!   branch between the arc and the straight line may differ when |cos θ| is within about 1e-6
//!   of the threshold 0.9995;
//! - TIES keeps exactly ⌊density·n⌋ entries, like mergekit, and among entries of equal magnitude at
//!   the threshold keeps those of lowest index ([`trim_to_density`]); mergekit's unstable
//!   `torch.argsort` leaves that choice to the sort implementation;
//! - `rescale`'s L1 norms are accumulated in `f64`.
//!
//! Sums over models run in the order the models are given, from zero, as `torch.sum(dim=0)` runs
//! them. The functions take the tensors of every model at once; [`ModelMerge`](crate::ModelMerge)
//! feeds them one tensor at a time from memory-mapped files.
//!
//! # Panics
//!
//! Every slice must have the length of `out`; a mismatch is a caller's bug and panics.

use crate::kernels;

/// slerp falls back to linear interpolation when |cos θ| between the two tensors exceeds this
/// (mergekit's `DOT_THRESHOLD`).
pub const SLERP_DOT_THRESHOLD: f64 = 0.9995;

/// slerp divides a tensor by its norm only when the norm exceeds this (mergekit's `eps`); a
/// smaller tensor (a zero one) enters the cosine unnormalised.
pub const SLERP_NORM_EPS: f64 = 1e-8;

/// Linear merge (mergekit `linear`): `out = Σ wᵢ·xᵢ`, then divided by `Σ wᵢ` when `normalize`.
///
/// Terms are added left to right in `f32`; the sum of the weights too. With `normalize` and
/// weights that sum to zero the result is infinite or NaN, as in mergekit; a
/// [`ModelMerge`](crate::ModelMerge) refuses such a configuration before it starts.
pub fn linear(out: &mut [f32], models: &[&[f32]], weights: &[f32], normalize: bool) {
    assert_eq!(models.len(), weights.len(), "one weight per model");
    assert!(!models.is_empty(), "a linear merge needs a model");
    kernels::affine(out, models, weights);
    if normalize {
        let total = weights.iter().fold(0.0f32, |sum, &weight| sum + weight);
        for value in out.iter_mut() {
            *value /= total;
        }
    }
}

/// Which formula [`slerp`] used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlerpPath {
    /// Along the arc: `sin((1 − t)·θ)/sin θ · v0 + sin(t·θ)/sin θ · v1`.
    Spherical,
    /// The tensors were (anti-)colinear, |cos θ| > [`SLERP_DOT_THRESHOLD`]: `(1 − t)·v0 + t·v1`.
    Linear,
}

/// Spherical linear interpolation between `v0` (`t = 0`, mergekit's base model) and `v1`
/// (mergekit `slerp`).
///
/// The angle θ comes from the cosine of the two tensors, each divided by its norm unless the
/// norm is at most [`SLERP_NORM_EPS`] (so a zero tensor has cosine 0 with anything, θ = π/2).
/// Above [`SLERP_DOT_THRESHOLD`] the tensors are treated as colinear and interpolated linearly.
/// The coefficients are computed in `f64` and rounded to `f32`, then `out = s0·v0 + s1·v1` in
/// `f32`; at `t = 0` and `t = 1` they are exactly 1 and 0, so the endpoints are the inputs.
/// Values of `t` outside [0, 1] extrapolate, as mergekit's formula does.
pub fn slerp(out: &mut [f32], v0: &[f32], v1: &[f32], t: f64) -> SlerpPath {
    assert!(out.len() == v0.len() && v0.len() == v1.len());
    let unit = |norm: f64| if norm > SLERP_NORM_EPS { norm } else { 1.0 };
    let norm0 = kernels::dot(v0, v0).sqrt();
    let norm1 = kernels::dot(v1, v1).sqrt();
    let cos = kernels::dot(v0, v1) / (unit(norm0) * unit(norm1));
    let (s0, s1, path) = if cos.abs() > SLERP_DOT_THRESHOLD {
        ((1.0 - t) as f32, t as f32, SlerpPath::Linear)
    } else {
        let theta = cos.acos();
        let sin_theta = theta.sin();
        let theta_t = theta * t;
        let s0 = (theta - theta_t).sin() / sin_theta;
        let s1 = theta_t.sin() / sin_theta;
        (s0 as f32, s1 as f32, SlerpPath::Spherical)
    };
    for ((out, &a), &b) in out.iter_mut().zip(v0).zip(v1) {
        *out = s0 * a + s1 * b;
    }
    path
}

/// One fine-tuned model's tensor in a task-vector merge, with its parameters.
#[derive(Debug, Clone, Copy)]
pub struct TaskModel<'a> {
    /// The model's tensor θᵢ (not the task vector: the functions subtract the base).
    pub values: &'a [f32],
    /// Its weight wᵢ.
    pub weight: f32,
    /// The fraction of the task vector's entries TIES keeps; 1 keeps all. Task arithmetic ignores
    /// it, as mergekit does.
    pub density: f64,
}

/// Options of [`task_arithmetic`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskArithmetic {
    /// Divide the weighted sum by Σ wᵢ (mergekit's default for `task_arithmetic`: false). A sum
    /// of magnitude below 1e-8 is replaced by 1.
    pub normalize: bool,
    /// λ, the scale of the merged task vector (default 1).
    pub lambda: f32,
}

impl Default for TaskArithmetic {
    fn default() -> Self {
        TaskArithmetic {
            normalize: false,
            lambda: 1.0,
        }
    }
}

/// Task arithmetic (mergekit `task_arithmetic`): `out = base + λ·Σ wᵢ·(θᵢ − base)`, with the sum
/// divided by Σ wᵢ when `normalize`.
///
/// Per element, in `f32` and in mergekit's order: δᵢ = θᵢ − base, the sum of δᵢ·wᵢ from zero,
/// the division, the product by λ (skipped when λ = 1), and the addition of the base.
pub fn task_arithmetic(
    out: &mut [f32],
    base: &[f32],
    models: &[TaskModel<'_>],
    options: TaskArithmetic,
) {
    check_lengths(out, base, models);
    let mut divisor = models.iter().fold(0.0f32, |sum, model| sum + model.weight);
    if divisor.abs() < 1e-8 {
        divisor = 1.0;
    }
    for (index, (out, &base)) in out.iter_mut().zip(base).enumerate() {
        let mut mixed = 0.0f32;
        for model in models {
            mixed += (model.values[index] - base) * model.weight;
        }
        *out = base + finish_delta(mixed, divisor, options.normalize, options.lambda);
    }
}

/// How TIES elects the sign of each entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consensus {
    /// The sign of Σ wᵢ·δᵢ, the total mass (the TIES paper; mergekit's `sum`, its only choice for
    /// `ties`). A zero sum elects `+`.
    #[default]
    Sum,
    /// The sign held by more of the wᵢ·δᵢ (mergekit's `count`); a draw elects `+`.
    Count,
}

impl Consensus {
    /// The name in a configuration (`sum`, `count`).
    pub fn name(self) -> &'static str {
        match self {
            Consensus::Sum => "sum",
            Consensus::Count => "count",
        }
    }
}

/// Options of [`ties`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ties {
    /// Divide each entry's sum by the total weight of the models that agree with the elected
    /// sign there (mergekit's default for `ties`: true). A total of 0 is replaced by 1.
    pub normalize: bool,
    /// λ, the scale of the merged task vector (default 1).
    pub lambda: f32,
    /// How the sign is elected.
    pub consensus: Consensus,
    /// After trimming, scale each task vector so that its L1 norm is what it was (mergekit's
    /// `rescale`, default false; only with density below 1).
    pub rescale: bool,
}

impl Default for Ties {
    fn default() -> Self {
        Ties {
            normalize: true,
            lambda: 1.0,
            consensus: Consensus::Sum,
            rescale: false,
        }
    }
}

/// TIES merging (mergekit `ties`): trim, elect, disjoint merge.
///
/// 1. Each task vector δᵢ = θᵢ − base is trimmed to its ⌊densityᵢ·n⌋ largest magnitudes
///    ([`trim_to_density`]; optionally rescaled to its former L1 norm), then weighted: wᵢ·δᵢ.
/// 2. Each entry elects a sign from the weighted entries ([`Consensus`]).
/// 3. The weighted entries whose sign is the elected one (zeros never are) are summed, and with
///    `normalize` divided by the sum of those models' weights (1 where none agrees).
/// 4. `out = base + λ·that`.
///
/// A density whose ⌊density·n⌋ is 0 zeroes that task vector; mergekit refuses it, and so does a
/// [`ModelMerge`](crate::ModelMerge) before it reads any tensor.
pub fn ties(out: &mut [f32], base: &[f32], models: &[TaskModel<'_>], options: Ties) {
    check_lengths(out, base, models);
    let weighted: Vec<Vec<f32>> = models
        .iter()
        .map(|model| {
            let mut delta: Vec<f32> = model
                .values
                .iter()
                .zip(base)
                .map(|(&x, &b)| x - b)
                .collect();
            if options.rescale {
                trim_and_rescale(&mut delta, model.density);
            } else {
                trim_to_density(&mut delta, model.density);
            }
            for value in &mut delta {
                *value *= model.weight;
            }
            delta
        })
        .collect();
    for (index, (out, &base)) in out.iter_mut().zip(base).enumerate() {
        let elected = match options.consensus {
            Consensus::Sum => weighted.iter().fold(0.0f32, |sum, w| sum + w[index]),
            Consensus::Count => weighted.iter().fold(0.0f32, |sum, w| sum + sign(w[index])),
        };
        let majority = if elected >= 0.0 { 1.0 } else { -1.0 };
        let mut mixed = 0.0f32;
        let mut divisor = 0.0f32;
        for (values, model) in weighted.iter().zip(models) {
            let agrees = if sign(values[index]) == majority {
                1.0
            } else {
                0.0
            };
            mixed += values[index] * agrees;
            divisor += model.weight * agrees;
        }
        if divisor == 0.0 {
            divisor = 1.0;
        }
        *out = base + finish_delta(mixed, divisor, options.normalize, options.lambda);
    }
}

/// How many of `len` entries a density keeps: `None` for all (density ≥ 1), otherwise
/// ⌊density·len⌋ computed in `f64`, as mergekit's `int(density * tensor.numel())`.
pub fn magnitude_keep_count(len: usize, density: f64) -> Option<usize> {
    if density >= 1.0 {
        None
    } else {
        // `as` truncates toward zero and maps negative and NaN products to 0, like `int()` of a
        // product that mergekit then refuses.
        Some((density * len as f64) as usize)
    }
}

/// Zeroes all but the ⌊density·n⌋ entries of largest magnitude (mergekit's `magnitude`
/// sparsification); density ≥ 1 keeps everything.
///
/// Entries are dropped by multiplying them by 0, as mergekit multiplies by its mask (so a
/// dropped `-x` becomes `-0.0`). NaN counts as the largest magnitude, as in torch's descending
/// sort. When several entries share the magnitude at the threshold and only some fit, those of
/// lowest flat index are kept: what a stable descending sort gives (NumPy's
/// `argsort(-abs(x), kind="stable")`). mergekit's `torch.argsort` is unstable, so which of them it
/// keeps depends on the sort implementation (x86-simd-sort or `std::sort` on CPUs, another sort
/// on GPUs); it keeps the same number.
///
/// The threshold is found by selection, in O(n) time and with one `u32` scratch per entry.
pub fn trim_to_density(delta: &mut [f32], density: f64) {
    let Some(keep) = magnitude_keep_count(delta.len(), density) else {
        return;
    };
    if keep == 0 {
        for value in delta.iter_mut() {
            *value *= 0.0;
        }
        return;
    }
    // The bits of |x| order magnitudes as the values do, with NaN above infinity.
    let magnitude = |value: f32| value.to_bits() & 0x7fff_ffff;
    let mut keys: Vec<u32> = delta.iter().map(|&value| magnitude(value)).collect();
    let rank = keys.len() - keep;
    let threshold = *keys.select_nth_unstable(rank).1;
    let above = delta
        .iter()
        .filter(|&&value| magnitude(value) > threshold)
        .count();
    let mut at_threshold = keep - above;
    for value in delta.iter_mut() {
        let key = magnitude(*value);
        let kept = key > threshold || (key == threshold && at_threshold > 0);
        if key == threshold && kept {
            at_threshold -= 1;
        }
        if !kept {
            *value *= 0.0;
        }
    }
}

/// [`trim_to_density`], then the trimmed vector scaled by ‖δ‖₁ / ‖trimmed‖₁ (mergekit's L1
/// `rescale`), unless either norm is below 1e-7. Density ≥ 1 leaves the vector alone.
fn trim_and_rescale(delta: &mut [f32], density: f64) {
    if magnitude_keep_count(delta.len(), density).is_none() {
        return;
    }
    let l1 = |values: &[f32]| values.iter().map(|&v| f64::from(v.abs())).sum::<f64>() as f32;
    let before = l1(delta);
    trim_to_density(delta, density);
    let after = l1(delta);
    if before < 1e-7 || after < 1e-7 {
        return;
    }
    let scale = before / after;
    for value in delta.iter_mut() {
        *value *= scale;
    }
}

/// The last steps shared by task arithmetic and TIES: normalise, scale by λ.
fn finish_delta(mixed: f32, divisor: f32, normalize: bool, lambda: f32) -> f32 {
    let mut delta = mixed;
    if normalize {
        delta /= divisor;
    }
    if lambda != 1.0 {
        delta *= lambda;
    }
    delta
}

/// torch's `sign`: 1, −1, or 0 for zeros (and NaN for NaN).
fn sign(value: f32) -> f32 {
    if value > 0.0 {
        1.0
    } else if value < 0.0 {
        -1.0
    } else if value == 0.0 {
        0.0
    } else {
        f32::NAN
    }
}

fn check_lengths(out: &[f32], base: &[f32], models: &[TaskModel<'_>]) {
    assert_eq!(out.len(), base.len(), "the output has the base's length");
    assert!(
        models.iter().all(|model| model.values.len() == base.len()),
        "every model has the base's length"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_keeps_the_lowest_indices_among_equal_magnitudes() {
        let mut delta = [1.0, -1.0, 1.0, 0.5, -1.0, 0.25];
        trim_to_density(&mut delta, 0.5);
        assert_eq!(delta, [1.0, -1.0, 1.0, 0.0, -0.0, 0.0]);
        assert!(
            delta[4].is_sign_negative(),
            "dropped entries are multiplied by 0"
        );
    }

    #[test]
    fn keep_count_truncates_the_f64_product_like_python_int() {
        // 0.29 · 100 = 28.999999999999996 in f64.
        assert_eq!(magnitude_keep_count(100, 0.29), Some(28));
        assert_eq!(magnitude_keep_count(10, 0.3), Some(3));
        assert_eq!(magnitude_keep_count(10, 1.0), None);
        assert_eq!(magnitude_keep_count(2, 0.2), Some(0));
        assert_eq!(magnitude_keep_count(2, -0.5), Some(0));
    }

    #[test]
    fn nan_counts_as_the_largest_magnitude() {
        let mut delta = [f32::INFINITY, f32::NAN, 3.0];
        trim_to_density(&mut delta, 0.4);
        assert!(delta[1].is_nan());
        assert!(delta[0].is_nan(), "inf · 0 is NaN, as in mergekit");
        assert_eq!(delta[2], 0.0);
    }
}
