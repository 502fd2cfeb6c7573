//! Properties of the combinations over random sets.

use lmc_interp::{ParamSet, affine, affine_into, distance, dot, lerp, lerp_into};
use proptest::prelude::*;

use crate::helpers::bits;

/// Random shapes: one to four tensors of one or two dimensions.
fn shapes() -> impl Strategy<Value = Vec<Vec<usize>>> {
    prop::collection::vec(prop::collection::vec(1usize..12, 1..3), 1..5)
}

/// `count` sets sharing one random layout, with values drawn from `value`.
fn sets<V>(count: usize, value: V) -> impl Strategy<Value = Vec<ParamSet>>
where
    V: Strategy<Value = f32> + Clone + 'static,
{
    shapes().prop_flat_map(move |shapes| {
        let total: usize = shapes
            .iter()
            .map(|shape| shape.iter().product::<usize>())
            .sum();
        prop::collection::vec(prop::collection::vec(value.clone(), total), count).prop_map(
            move |all_values| {
                all_values
                    .into_iter()
                    .map(|flat| {
                        let mut rest = flat.as_slice();
                        let tensors = shapes.iter().enumerate().map(|(i, shape)| {
                            let (head, tail) = rest.split_at(shape.iter().product());
                            rest = tail;
                            (format!("t{i}"), shape.clone(), head.to_vec())
                        });
                        ParamSet::from_f32_tensors(tensors.collect::<Vec<_>>()).unwrap()
                    })
                    .collect()
            },
        )
    })
}

/// Moderate values, with signed zeros and subnormals mixed in.
fn moderate() -> impl Strategy<Value = f32> + Clone {
    prop_oneof![
        8 => -1.0e4f32..1.0e4f32,
        1 => Just(0.0f32),
        1 => Just(-0.0f32),
        1 => prop::num::f32::SUBNORMAL,
    ]
}

proptest! {
    #[test]
    fn endpoints_are_the_inputs_bit_for_bit(
        pair in sets(2, prop::num::f32::ANY),
        dst_seed in sets(1, moderate()),
    ) {
        let (a, b) = (&pair[0], &pair[1]);
        prop_assert_eq!(bits(&lerp(a, b, 0.0).unwrap()), bits(a));
        prop_assert_eq!(bits(&lerp(a, b, 1.0).unwrap()), bits(b));
        let mut dst = dst_seed[0].clone();
        lerp_into(&mut dst, a, b, 0.0).unwrap();
        prop_assert_eq!(bits(&dst), bits(a));
        lerp_into(&mut dst, a, b, 1.0).unwrap();
        prop_assert_eq!(bits(&dst), bits(b));
    }

    #[test]
    fn swapping_the_models_mirrors_alpha(pair in sets(2, moderate()), alpha in -1.0f32..2.0) {
        let (a, b) = (&pair[0], &pair[1]);
        let forward = lerp(a, b, alpha).unwrap();
        let backward = lerp(b, a, 1.0 - alpha).unwrap();
        // 1 − α is rounded, so the two weightings differ by about one ulp of 1: the tolerance is a
        // few ulps of the terms' magnitudes, plus a few of the smallest subnormal for products that
        // underflow.
        let spread = alpha.abs() + (1.0 - alpha).abs();
        let values = forward.float_values().iter().zip(backward.float_values());
        for (i, (&f, &g)) in values.enumerate() {
            let (x, y) = (a.float_values()[i], b.float_values()[i]);
            let tolerance =
                4.0 * f32::EPSILON * spread * (x.abs() + y.abs()) + 4.0 * f32::from_bits(1);
            prop_assert!((f - g).abs() <= tolerance, "element {i}: {f} vs {g} (a {x}, b {y}, alpha {alpha})");
        }
    }

    #[test]
    fn weights_summing_to_one_keep_a_constant_set(
        one in sets(1, -1.0e4f32..1.0e4),
        mut weights in prop::collection::vec(-3.0f32..3.0, 1..6),
    ) {
        let theta = &one[0];
        let last = weights.len() - 1;
        weights[last] = 1.0 - weights[..last].iter().sum::<f32>();
        let copies = vec![theta; weights.len()];
        let combined = affine(&copies, &weights).unwrap();
        let total: f64 = weights.iter().map(|&w| f64::from(w)).sum();
        let magnitude: f32 = weights.iter().map(|w| w.abs()).sum();
        for (&c, &t) in combined.float_values().iter().zip(theta.float_values()) {
            let tolerance = (2.0 * weights.len() as f32 * f32::EPSILON * magnitude
                + (1.0 - total).abs() as f32)
                * t.abs();
            prop_assert!((c - t).abs() <= tolerance, "{c} vs {t} with weights {weights:?}");
        }
    }

    #[test]
    fn in_place_forms_equal_allocating_forms(
        triple in sets(3, moderate()),
        unrelated in sets(1, moderate()),
        alpha in -1.0f32..2.0,
        weights in prop::collection::vec(-3.0f32..3.0, 3),
    ) {
        let (a, b, c) = (&triple[0], &triple[1], &triple[2]);
        // The destination starts with an unrelated layout, then is reused.
        let mut dst = unrelated[0].clone();
        lerp_into(&mut dst, a, b, alpha).unwrap();
        prop_assert_eq!(bits(&dst), bits(&lerp(a, b, alpha).unwrap()));
        lerp_into(&mut dst, b, c, alpha).unwrap();
        prop_assert_eq!(bits(&dst), bits(&lerp(b, c, alpha).unwrap()));
        affine_into(&mut dst, &[a, b, c], &weights).unwrap();
        prop_assert_eq!(bits(&dst), bits(&affine(&[a, b, c], &weights).unwrap()));
        prop_assert_eq!(dst.tensors().map(|t| t.name.to_owned()).collect::<Vec<_>>(),
                        a.tensors().map(|t| t.name.to_owned()).collect::<Vec<_>>());
    }

    #[test]
    fn reductions_are_symmetric(pair in sets(2, moderate())) {
        let (a, b) = (&pair[0], &pair[1]);
        prop_assert_eq!(dot(a, b).unwrap().to_bits(), dot(b, a).unwrap().to_bits());
        prop_assert_eq!(distance(a, b).unwrap().to_bits(), distance(b, a).unwrap().to_bits());
        prop_assert_eq!(distance(a, a).unwrap(), 0.0);
        prop_assert!((a.norm() - dot(a, a).unwrap().sqrt()).abs() <= 1e-12 * a.norm());
    }
}
