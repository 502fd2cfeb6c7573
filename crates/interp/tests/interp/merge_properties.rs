//! Algebraic properties of the merge methods over random tensors.

use lmc_interp::methods::{
    self, Consensus, SlerpPath, TaskArithmetic, TaskModel, Ties, magnitude_keep_count,
};
use proptest::prelude::*;

/// Moderate values, zeros included.
fn value() -> impl Strategy<Value = f32> + Clone {
    prop_oneof![9 => -1.0e3f32..1.0e3, 1 => Just(0.0f32)]
}

/// `count` vectors of one random length.
fn vectors(count: usize) -> impl Strategy<Value = Vec<Vec<f32>>> {
    (1usize..64)
        .prop_flat_map(move |len| prop::collection::vec(prop::collection::vec(value(), len), count))
}

fn weight() -> impl Strategy<Value = f32> {
    prop_oneof![0.01f32..100.0, -100.0f32..-0.01]
}

fn run_linear(models: &[Vec<f32>], weights: &[f32], normalize: bool) -> Vec<f32> {
    let refs: Vec<&[f32]> = models.iter().map(Vec::as_slice).collect();
    let mut out = vec![0.0; models[0].len()];
    methods::linear(&mut out, &refs, weights, normalize);
    out
}

fn task_models<'a>(models: &'a [Vec<f32>], weights: &[f32], density: f64) -> Vec<TaskModel<'a>> {
    models
        .iter()
        .zip(weights)
        .map(|(values, &weight)| TaskModel {
            values,
            weight,
            density,
        })
        .collect()
}

fn run_slerp(v0: &[f32], v1: &[f32], t: f64) -> (Vec<f32>, SlerpPath) {
    let mut out = vec![f32::NAN; v0.len()];
    let path = methods::slerp(&mut out, v0, v1, t);
    (out, path)
}

proptest! {
    #[test]
    fn linear_of_one_model_is_the_model(one in vectors(1), w in weight()) {
        let x = &one[0];
        prop_assert_eq!(&run_linear(&one, &[1.0], true), x);
        prop_assert_eq!(&run_linear(&one, &[1.0], false), x);
        // (w·x)/w is rounded twice: within an ulp of x.
        for (&y, &x) in run_linear(&one, &[w], true).iter().zip(x) {
            prop_assert!((y - x).abs() <= 2.0 * f32::EPSILON * x.abs(), "{y} vs {x} (w {w})");
        }
    }

    #[test]
    fn linear_of_copies_is_the_model(one in vectors(1), weights in prop::collection::vec(0.01f32..10.0, 1..6)) {
        let copies = vec![one[0].clone(); weights.len()];
        let merged = run_linear(&copies, &weights, true);
        // Each of the n products and sums, and the division, rounds once.
        let tolerance = 2.0 * (weights.len() as f32 + 1.0) * f32::EPSILON;
        for (&y, &x) in merged.iter().zip(&one[0]) {
            prop_assert!((y - x).abs() <= tolerance * x.abs(), "{y} vs {x}");
        }
    }

    #[test]
    fn task_arithmetic_with_lambda_zero_or_no_change_is_the_base(
        sets in vectors(4),
        weights in prop::collection::vec(weight(), 3),
        normalize in any::<bool>(),
        lambda in -2.0f32..2.0,
    ) {
        let (base, models) = (&sets[0], &sets[1..]);
        let mut out = vec![f32::NAN; base.len()];
        let zero = TaskArithmetic { normalize, lambda: 0.0 };
        methods::task_arithmetic(&mut out, base, &task_models(models, &weights, 1.0), zero);
        prop_assert_eq!(&out, base);
        let unchanged = vec![base.clone(); 3];
        let options = TaskArithmetic { normalize, lambda };
        methods::task_arithmetic(&mut out, base, &task_models(&unchanged, &weights, 1.0), options);
        prop_assert_eq!(&out, base);
    }

    #[test]
    fn normalized_task_arithmetic_is_the_weighted_average(
        sets in vectors(3),
        weights in prop::collection::vec(0.01f32..10.0, 2),
    ) {
        let (base, models) = (&sets[0], &sets[1..]);
        let mut out = vec![f32::NAN; base.len()];
        let options = TaskArithmetic { normalize: true, lambda: 1.0 };
        methods::task_arithmetic(&mut out, base, &task_models(models, &weights, 1.0), options);
        let average = run_linear(models, &weights, true);
        for (i, (&t, &a)) in out.iter().zip(&average).enumerate() {
            // base + Σw(x − base)/Σw = Σwx/Σw, up to a few roundings of terms as large as the inputs.
            let scale = base[i].abs() + models[0][i].abs() + models[1][i].abs();
            prop_assert!((t - a).abs() <= 8.0 * f32::EPSILON * scale, "{t} vs {a}");
        }
    }

    #[test]
    fn slerp_endpoints_are_the_inputs(pair in vectors(2)) {
        let (v0, v1) = (&pair[0], &pair[1]);
        prop_assert_eq!(&run_slerp(v0, v1, 0.0).0, v0);
        prop_assert_eq!(&run_slerp(v0, v1, 1.0).0, v1);
    }

    #[test]
    fn slerp_is_symmetric(pair in vectors(2), t in 0.0f64..1.0) {
        let (v0, v1) = (&pair[0], &pair[1]);
        let (forward, path) = run_slerp(v0, v1, t);
        let (backward, back_path) = run_slerp(v1, v0, 1.0 - t);
        prop_assert_eq!(path, back_path, "the cosine does not depend on the order");
        // t and 1 − t are rounded: each coefficient may move by an ulp when rounded to f32.
        for (i, (&f, &b)) in forward.iter().zip(&backward).enumerate() {
            let tolerance = 2.0 * f32::EPSILON * (v0[i].abs() + v1[i].abs());
            prop_assert!((f - b).abs() <= tolerance, "{i}: {f} vs {b}");
        }
    }

    #[test]
    fn slerp_stays_on_the_sphere(v0 in prop::collection::vec(-10.0f32..10.0, 2..64), t in 0.0f64..1.0) {
        // Reversed and with every other sign flipped: the same norm, exactly, in another direction.
        let v1: Vec<f32> = v0.iter().rev().enumerate().map(|(i, &x)| if i % 2 == 0 { -x } else { x }).collect();
        let (out, path) = run_slerp(&v0, &v1, t);
        let norm = |v: &[f32]| v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        if path == SlerpPath::Spherical && norm(&v0) > 1e-3 {
            prop_assert!((norm(&out) - norm(&v0)).abs() <= 1e-5 * norm(&v0), "{} vs {}", norm(&out), norm(&v0));
        }
    }

    #[test]
    fn ties_with_full_density_and_agreeing_signs_is_task_arithmetic(
        base in prop::collection::vec(-10.0f32..10.0, 1..48),
        magnitudes in prop::collection::vec(prop::collection::vec(0.01f32..10.0, 48), 1..5),
        positive in prop::collection::vec(any::<bool>(), 48),
        weights in prop::collection::vec(0.01f32..5.0, 5),
        normalize in any::<bool>(),
        lambda in -2.0f32..2.0,
    ) {
        let models: Vec<Vec<f32>> = magnitudes
            .iter()
            .map(|row| {
                base.iter()
                    .enumerate()
                    .map(|(i, &b)| if positive[i] { b + row[i] } else { b - row[i] })
                    .collect()
            })
            .collect();
        let weights = &weights[..models.len()];
        let mut ties_out = vec![f32::NAN; base.len()];
        let mut ta_out = vec![f32::NAN; base.len()];
        for consensus in [Consensus::Sum, Consensus::Count] {
            let ties = Ties { normalize, lambda, consensus, rescale: false };
            methods::ties(&mut ties_out, &base, &task_models(&models, weights, 1.0), ties);
            let ta = TaskArithmetic { normalize, lambda };
            methods::task_arithmetic(&mut ta_out, &base, &task_models(&models, weights, 1.0), ta);
            prop_assert_eq!(&ties_out, &ta_out);
        }
    }

    #[test]
    fn trimming_keeps_the_largest_magnitudes_lowest_index_first(
        // Few distinct magnitudes, so that ties at the threshold are common.
        values in prop::collection::vec(prop_oneof![Just(1.0f32), Just(-1.0), Just(2.0), Just(-2.0), Just(0.5), Just(3.0)], 1..80),
        density in 0.0f64..1.2,
    ) {
        let mut trimmed = values.clone();
        methods::trim_to_density(&mut trimmed, density);
        let Some(keep) = magnitude_keep_count(values.len(), density) else {
            prop_assert_eq!(trimmed, values);
            return Ok(());
        };
        let kept: Vec<usize> = (0..values.len()).filter(|&i| trimmed[i] != 0.0).collect();
        prop_assert_eq!(kept.len(), keep);
        for i in 0..values.len() {
            let is_kept = kept.contains(&i);
            prop_assert_eq!(trimmed[i], if is_kept { values[i] } else { 0.0 });
            for &j in &kept {
                // Nothing dropped is larger than anything kept; among equals, kept come first.
                if !is_kept {
                    prop_assert!(values[i].abs() < values[j].abs() || (values[i].abs() == values[j].abs() && j < i));
                }
            }
        }
    }
}
