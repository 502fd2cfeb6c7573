//! Combinations and reductions of whole parameter sets.
//!
//! Every function validates its inputs first (same keys, shapes and dtypes, finite weights) and
//! does no work if they fail. Results take their layout, file metadata and carried (integer)
//! tensors from the first input.

use crate::error::InterpError;
use crate::kernels;
use crate::param_set::{ParamSet, check_same_layout};

/// θ(α) = (1 − α)·a + α·b over every float value, as a new set.
///
/// α = 0 and α = 1 give copies of `a` and `b`, bit for bit; any finite α works, including values
/// outside [0, 1] (extrapolation). Carried tensors come from `a`.
///
/// ```
/// use lmc_interp::{ParamSet, lerp};
///
/// let a = ParamSet::from_f32_tensors([("w", vec![2], vec![0.0, 1.0])])?;
/// let b = ParamSet::from_f32_tensors([("w", vec![2], vec![1.0, 3.0])])?;
/// assert_eq!(lerp(&a, &b, 0.5)?.float_values(), &[0.5, 2.0]);
/// # Ok::<(), lmc_interp::InterpError>(())
/// ```
pub fn lerp(a: &ParamSet, b: &ParamSet, alpha: f32) -> Result<ParamSet, InterpError> {
    check_lerp_inputs(a, b, alpha)?;
    let mut out = ParamSet::zeroed_like(a);
    kernels::lerp(out.values_mut(), a.float_values(), b.float_values(), alpha);
    Ok(out)
}

/// [`lerp`] into an existing destination, reusing its buffers.
///
/// Whatever `dst` held is replaced: it takes the layout and carried tensors of `a`. When `dst`
/// already has that layout — the case in a sweep over α, where `dst` is the previous point — the
/// call allocates nothing.
pub fn lerp_into(
    dst: &mut ParamSet,
    a: &ParamSet,
    b: &ParamSet,
    alpha: f32,
) -> Result<(), InterpError> {
    check_lerp_inputs(a, b, alpha)?;
    dst.reshape_like(a);
    kernels::lerp(dst.values_mut(), a.float_values(), b.float_values(), alpha);
    Ok(())
}

/// Σ wᵢ·θᵢ over every float value, as a new set; carried tensors come from `sets[0]`.
///
/// The weights need not sum to one. Terms are added in the order given, in `f32`.
pub fn affine(sets: &[&ParamSet], weights: &[f32]) -> Result<ParamSet, InterpError> {
    check_affine_inputs(sets, weights)?;
    let mut out = ParamSet::zeroed_like(sets[0]);
    affine_values(&mut out, sets, weights);
    Ok(out)
}

/// [`affine`] into an existing destination, reusing its buffers as [`lerp_into`] does.
pub fn affine_into(
    dst: &mut ParamSet,
    sets: &[&ParamSet],
    weights: &[f32],
) -> Result<(), InterpError> {
    check_affine_inputs(sets, weights)?;
    dst.reshape_like(sets[0]);
    affine_values(dst, sets, weights);
    Ok(())
}

/// a − b over every float value, as a new set; carried tensors come from `a`.
pub fn difference(a: &ParamSet, b: &ParamSet) -> Result<ParamSet, InterpError> {
    affine(&[a, b], &[1.0, -1.0])
}

/// ⟨a, b⟩ over the float values, accumulated in `f64`.
pub fn dot(a: &ParamSet, b: &ParamSet) -> Result<f64, InterpError> {
    check_same_layout(a, b, ("A", "B"))?;
    Ok(kernels::dot(a.float_values(), b.float_values()))
}

/// ‖a − b‖ over the float values, accumulated in `f64` without forming a − b.
pub fn distance(a: &ParamSet, b: &ParamSet) -> Result<f64, InterpError> {
    check_same_layout(a, b, ("A", "B"))?;
    Ok(kernels::squared_distance(a.float_values(), b.float_values()).sqrt())
}

/// Checks that two sets have the same keys, shapes and dtypes. On failure the error names the
/// first offending key (in name order), labels the sides `A` and `B`, and counts the other
/// mismatches.
pub fn check_compatible(a: &ParamSet, b: &ParamSet) -> Result<(), InterpError> {
    check_same_layout(a, b, ("A", "B"))
}

fn check_lerp_inputs(a: &ParamSet, b: &ParamSet, alpha: f32) -> Result<(), InterpError> {
    check_weight(alpha)?;
    check_same_layout(a, b, ("A", "B"))
}

fn check_affine_inputs(sets: &[&ParamSet], weights: &[f32]) -> Result<(), InterpError> {
    if sets.is_empty() || sets.len() != weights.len() {
        return Err(InterpError::WeightCount {
            sets: sets.len(),
            weights: weights.len(),
        });
    }
    for &weight in weights {
        check_weight(weight)?;
    }
    for (index, set) in sets.iter().enumerate().skip(1) {
        check_same_layout(sets[0], set, ("set 0", &format!("set {index}")))?;
    }
    Ok(())
}

fn check_weight(weight: f32) -> Result<(), InterpError> {
    if weight.is_finite() {
        Ok(())
    } else {
        Err(InterpError::NonFiniteWeight { value: weight })
    }
}

fn affine_values(out: &mut ParamSet, sets: &[&ParamSet], weights: &[f32]) {
    let inputs: Vec<&[f32]> = sets.iter().map(|set| set.float_values()).collect();
    kernels::affine(out.values_mut(), &inputs, weights);
}
