//! The arithmetic, on flat `f32` slices.
//!
//! Every element-wise kernel splits its output into blocks of [`BLOCK_LEN`] elements that rayon
//! processes in parallel; inside a block the loop is a plain zip over slices, which the compiler
//! vectorises with no bounds checks. Large lerp outputs are written with non-temporal stores on
//! x86-64, the one hand-written SIMD loop, which computes the same bits as the plain one.
//! Reductions accumulate in `f64`, block by block, and add the block sums in block order, so their
//! result does not depend on the number of threads.
//!
//! Callers guarantee equal lengths (layouts are validated before any kernel runs); the kernels
//! assert it, since a mismatch here would be a bug in this crate, not bad input.

use rayon::prelude::*;

/// Elements per parallel work item: 256 KiB of `f32`, large enough to amortise scheduling, small
/// enough that a ~400-element bias vector and a 12-million-element embedding both split sensibly.
pub(crate) const BLOCK_LEN: usize = 1 << 16;

/// Elements per tile of the affine kernel: 8 KiB, so the output tile stays in L1 cache while each
/// input adds its term to it.
const AFFINE_TILE_LEN: usize = 2048;

/// Independent `f64` accumulators in the reductions, enough for the adds to pipeline and vectorise.
const LANES: usize = 8;

/// Outputs of at least this many elements (16 MiB) are written with non-temporal stores on x86-64.
/// They cannot stay in cache anyway, and bypassing it spares the read-for-ownership of every output
/// cache line: a quarter of lerp's memory traffic.
const STREAMING_STORE_MIN_LEN: usize = 1 << 22;

/// `out = src`, in parallel blocks.
pub(crate) fn copy(out: &mut [f32], src: &[f32]) {
    assert_eq!(out.len(), src.len());
    if out.len() <= BLOCK_LEN {
        out.copy_from_slice(src);
        return;
    }
    out.par_chunks_mut(BLOCK_LEN)
        .zip(src.par_chunks(BLOCK_LEN))
        .for_each(|(out, src)| out.copy_from_slice(src));
}

/// `out = (1 − alpha)·a + alpha·b`, except that `alpha == 0` copies `a` and `alpha == 1` copies `b`,
/// so the endpoints are the inputs bit for bit whatever they hold (signed zeros, infinities and NaNs
/// in the other input included).
pub(crate) fn lerp(out: &mut [f32], a: &[f32], b: &[f32], alpha: f32) {
    assert!(out.len() == a.len() && a.len() == b.len());
    if alpha == 0.0 {
        return copy(out, a);
    }
    if alpha == 1.0 {
        return copy(out, b);
    }
    lerp_formula(out, a, b, alpha);
}

/// The interpolation formula without the endpoint copies.
///
/// The form (1 − α)·a + α·b, unlike a + α·(b − a), is exact at α = 0 and α = 1 for finite inputs
/// (up to the sign of a zero), and it is symmetric: swapping `a` and `b` and replacing α by 1 − α
/// changes the result by a few ulps at most.
fn lerp_formula(out: &mut [f32], a: &[f32], b: &[f32], alpha: f32) {
    let weight_a = 1.0 - alpha;
    if out.len() <= BLOCK_LEN {
        lerp_block(out, a, b, weight_a, alpha);
        return;
    }
    let block = if out.len() >= STREAMING_STORE_MIN_LEN {
        lerp_block_streaming
    } else {
        lerp_block
    };
    out.par_chunks_mut(BLOCK_LEN)
        .zip(a.par_chunks(BLOCK_LEN))
        .zip(b.par_chunks(BLOCK_LEN))
        .for_each(|((out, a), b)| block(out, a, b, weight_a, alpha));
}

fn lerp_block(out: &mut [f32], a: &[f32], b: &[f32], weight_a: f32, weight_b: f32) {
    for ((out, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *out = weight_a * a + weight_b * b;
    }
}

/// [`lerp_block`] with non-temporal stores: the same multiplications and addition, so the same
/// bits, written around the cache.
#[cfg(target_arch = "x86_64")]
fn lerp_block_streaming(out: &mut [f32], a: &[f32], b: &[f32], weight_a: f32, weight_b: f32) {
    use std::arch::x86_64::{
        _mm_add_ps, _mm_loadu_ps, _mm_mul_ps, _mm_set1_ps, _mm_sfence, _mm_stream_ps,
    };
    // Scalar up to the first 16-byte-aligned output element, as the streaming store requires.
    let head = out.as_ptr().align_offset(16).min(out.len());
    let (out_head, out_body) = out.split_at_mut(head);
    let ((a_head, a_body), (b_head, b_body)) = (a.split_at(head), b.split_at(head));
    lerp_block(out_head, a_head, b_head, weight_a, weight_b);

    let (out_quads, out_tail) = out_body.as_chunks_mut::<4>();
    let (a_quads, a_tail) = a_body.as_chunks::<4>();
    let (b_quads, b_tail) = b_body.as_chunks::<4>();
    // SAFETY: SSE is part of the x86-64 baseline, so the intrinsics are always available. Each
    // pointer addresses four valid `f32`s (one chunk); loads may be unaligned, and `out` chunks are
    // 16-byte aligned, as `_mm_stream_ps` requires, because `out_body` starts aligned and every
    // chunk is 16 bytes long.
    unsafe {
        let (weight_a4, weight_b4) = (_mm_set1_ps(weight_a), _mm_set1_ps(weight_b));
        for ((out, a), b) in out_quads.iter_mut().zip(a_quads).zip(b_quads) {
            let terms = _mm_add_ps(
                _mm_mul_ps(weight_a4, _mm_loadu_ps(a.as_ptr())),
                _mm_mul_ps(weight_b4, _mm_loadu_ps(b.as_ptr())),
            );
            _mm_stream_ps(out.as_mut_ptr(), terms);
        }
        // Non-temporal stores are weakly ordered: fence them before another thread reads the
        // output.
        _mm_sfence();
    }
    lerp_block(out_tail, a_tail, b_tail, weight_a, weight_b);
}

#[cfg(not(target_arch = "x86_64"))]
use lerp_block as lerp_block_streaming;

/// `out = Σ weights[i]·inputs[i]`, summed left to right in `f32`.
pub(crate) fn affine(out: &mut [f32], inputs: &[&[f32]], weights: &[f32]) {
    assert_eq!(inputs.len(), weights.len());
    assert!(!inputs.is_empty());
    assert!(inputs.iter().all(|input| input.len() == out.len()));
    if out.len() <= BLOCK_LEN {
        affine_block(out, 0, inputs, weights);
        return;
    }
    out.par_chunks_mut(BLOCK_LEN)
        .enumerate()
        .for_each(|(block, out)| affine_block(out, block * BLOCK_LEN, inputs, weights));
}

/// One block of [`affine`], starting at element `start` of the inputs, tile by tile.
fn affine_block(out: &mut [f32], start: usize, inputs: &[&[f32]], weights: &[f32]) {
    for (tile, out) in out.chunks_mut(AFFINE_TILE_LEN).enumerate() {
        let from = start + tile * AFFINE_TILE_LEN;
        let to = from + out.len();
        let (first, rest) = (&inputs[0][from..to], &inputs[1..]);
        let first_weight = weights[0];
        for (out, &x) in out.iter_mut().zip(first) {
            *out = first_weight * x;
        }
        for (input, &weight) in rest.iter().zip(&weights[1..]) {
            for (out, &x) in out.iter_mut().zip(&input[from..to]) {
                *out += weight * x;
            }
        }
    }
}

/// Σ a[i]·b[i], accumulated in `f64`.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f64 {
    reduce_pairs(a, b, |x, y| x * y)
}

/// Σ (a[i] − b[i])², accumulated in `f64`.
pub(crate) fn squared_distance(a: &[f32], b: &[f32]) -> f64 {
    reduce_pairs(a, b, |x, y| (x - y) * (x - y))
}

/// Σ term(a[i], b[i]) over `f64`-widened elements: block sums in parallel, added in block order.
fn reduce_pairs(a: &[f32], b: &[f32], term: impl Fn(f64, f64) -> f64 + Sync) -> f64 {
    assert_eq!(a.len(), b.len());
    if a.len() <= BLOCK_LEN {
        return reduce_block(a, b, &term);
    }
    let block_sums: Vec<f64> = a
        .par_chunks(BLOCK_LEN)
        .zip(b.par_chunks(BLOCK_LEN))
        .map(|(a, b)| reduce_block(a, b, &term))
        .collect();
    block_sums.iter().sum()
}

fn reduce_block(a: &[f32], b: &[f32], term: &impl Fn(f64, f64) -> f64) -> f64 {
    let (a_lanes, a_tail) = a.as_chunks::<LANES>();
    let (b_lanes, b_tail) = b.as_chunks::<LANES>();
    let mut lanes = [0.0f64; LANES];
    for (x, y) in a_lanes.iter().zip(b_lanes) {
        for lane in 0..LANES {
            lanes[lane] += term(f64::from(x[lane]), f64::from(y[lane]));
        }
    }
    let tail: f64 = a_tail
        .iter()
        .zip(b_tail)
        .map(|(&x, &y)| term(f64::from(x), f64::from(y)))
        .sum();
    lanes.iter().sum::<f64>() + tail
}

/// Index of the first NaN or infinity in `values`, if any.
pub(crate) fn first_non_finite(values: &[f32]) -> Option<usize> {
    let block = values
        .par_chunks(BLOCK_LEN)
        .position_first(|block| block.iter().fold(false, |bad, v| bad | !v.is_finite()))?;
    let start = block * BLOCK_LEN;
    values[start..]
        .iter()
        .position(|v| !v.is_finite())
        .map(|offset| start + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(len: usize, seed: u32) -> Vec<f32> {
        // A cheap deterministic generator: values in [-2, 2) with varied exponents.
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state as f32 / u32::MAX as f32) * 4.0 - 2.0
            })
            .collect()
    }

    #[test]
    fn formula_alone_is_exact_at_both_ends_for_finite_values() {
        let a = sample(3 * BLOCK_LEN + 17, 1);
        let b = sample(3 * BLOCK_LEN + 17, 2);
        let mut out = vec![0.0; a.len()];
        lerp_formula(&mut out, &a, &b, 0.0);
        assert!(out.iter().zip(&a).all(|(o, x)| o.to_bits() == x.to_bits()));
        lerp_formula(&mut out, &a, &b, 1.0);
        assert!(out.iter().zip(&b).all(|(o, x)| o.to_bits() == x.to_bits()));
    }

    #[test]
    fn endpoint_copies_keep_negative_zero_and_ignore_the_other_input() {
        let a = [-0.0f32, 1.0];
        let b = [f32::NAN, f32::INFINITY];
        let mut out = [7.0f32; 2];
        lerp(&mut out, &a, &b, 0.0);
        assert_eq!(out[0].to_bits(), (-0.0f32).to_bits());
        assert_eq!(out[1], 1.0);
    }

    #[test]
    fn blocked_kernels_match_a_scalar_loop() {
        let len = 2 * BLOCK_LEN + 3 * AFFINE_TILE_LEN + 5;
        let (a, b, c) = (sample(len, 3), sample(len, 4), sample(len, 5));
        let mut out = vec![0.0; len];
        affine(&mut out, &[&a, &b, &c], &[0.5, -1.25, 2.0]);
        for i in 0..len {
            let expected = 0.5 * a[i] + -1.25 * b[i] + 2.0 * c[i];
            assert_eq!(out[i].to_bits(), expected.to_bits(), "element {i}");
        }
        lerp(&mut out, &a, &b, 0.3);
        for i in 0..len {
            let expected = (1.0 - 0.3f32) * a[i] + 0.3 * b[i];
            assert_eq!(out[i].to_bits(), expected.to_bits(), "element {i}");
        }
    }

    #[test]
    fn streaming_stores_write_the_same_bits_at_every_alignment() {
        let len = 1000;
        let (a, b) = (sample(len + 4, 8), sample(len + 4, 9));
        let mut expected = vec![0.0; len + 4];
        let mut actual = vec![0.0; len + 4];
        for offset in 0..4 {
            let range = offset..offset + len - offset;
            lerp_block(
                &mut expected[range.clone()],
                &a[range.clone()],
                &b[range.clone()],
                0.7,
                0.3,
            );
            lerp_block_streaming(
                &mut actual[range.clone()],
                &a[range.clone()],
                &b[range.clone()],
                0.7,
                0.3,
            );
            assert!(
                expected[range.clone()]
                    .iter()
                    .zip(&actual[range])
                    .all(|(x, y)| x.to_bits() == y.to_bits()),
                "offset {offset}"
            );
        }
        let big = STREAMING_STORE_MIN_LEN + 5;
        let (a, b) = (sample(big, 10), sample(big, 11));
        let mut out = vec![0.0; big];
        lerp(&mut out, &a, &b, 0.25);
        for i in (0..big).step_by(997).chain(big - 5..big) {
            assert_eq!(
                out[i].to_bits(),
                (0.75 * a[i] + 0.25 * b[i]).to_bits(),
                "element {i}"
            );
        }
    }

    #[test]
    fn reductions_match_a_scalar_f64_sum() {
        let len = 2 * BLOCK_LEN + 11;
        let (a, b) = (sample(len, 6), sample(len, 7));
        let naive_dot: f64 = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| f64::from(x) * f64::from(y))
            .sum();
        let naive_sq: f64 = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum();
        assert!((dot(&a, &b) - naive_dot).abs() <= 1e-9 * naive_dot.abs().max(1.0));
        assert!((squared_distance(&a, &b) - naive_sq).abs() <= 1e-9 * naive_sq);
    }

    #[test]
    fn finds_the_first_non_finite_value_across_blocks() {
        let mut values = vec![1.0f32; 3 * BLOCK_LEN];
        assert_eq!(first_non_finite(&values), None);
        values[2 * BLOCK_LEN + 9] = f32::NEG_INFINITY;
        values[2 * BLOCK_LEN + 40] = f32::NAN;
        assert_eq!(first_non_finite(&values), Some(2 * BLOCK_LEN + 9));
    }
}
