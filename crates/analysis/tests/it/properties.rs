//! Property tests of the curve metrics and of the clustering.

use lmc_analysis::{ClusterOptions, Curve, spectral_clustering};
use proptest::prelude::*;

use crate::{planted, same_partition};

/// Curves of 2–40 points on an even or an irregular α grid.
fn curves() -> impl Strategy<Value = Curve> {
    (2_usize..40).prop_flat_map(|n| {
        (
            prop::collection::vec(-2.0_f64..2.0, n),
            prop::option::of(prop::collection::vec(0.01_f64..1.0, n)),
        )
            .prop_map(|(values, steps)| match steps {
                None => Curve::evenly_spaced(values).expect("valid"),
                Some(steps) => {
                    let alphas = steps
                        .iter()
                        .scan(-0.5, |a, step| {
                            *a += step;
                            Some(*a)
                        })
                        .collect();
                    Curve::new(alphas, values).expect("valid")
                }
            })
    })
}

/// Convex curves: increasing slopes on an irregular grid.
fn convex_curves() -> impl Strategy<Value = Curve> {
    (2_usize..40).prop_flat_map(|n| {
        (
            prop::collection::vec(-3.0_f64..3.0, n - 1),
            prop::collection::vec(0.05_f64..1.0, n - 1),
            -1.0_f64..1.0,
        )
            .prop_map(|(mut slopes, steps, start)| {
                slopes.sort_by(f64::total_cmp);
                let (mut alphas, mut values) = (vec![0.0], vec![start]);
                for (slope, step) in slopes.iter().zip(&steps) {
                    alphas.push(alphas[alphas.len() - 1] + step);
                    values.push(values[values.len() - 1] + slope * step);
                }
                Curve::new(alphas, values).expect("valid")
            })
    })
}

const TOLERANCE: f64 = 1e-12;

proptest! {
    #[test]
    fn metrics_are_non_negative(curve in curves()) {
        prop_assert!(curve.convexity_gap() >= 0.0);
        prop_assert!(curve.endpoint_barrier() >= 0.0);
        prop_assert!(curve.area_above_minimum() >= 0.0);
    }

    #[test]
    fn linear_time_cg_equals_brute_force(curve in curves()) {
        let (fast, slow) = (curve.convexity_gap(), curve.convexity_gap_brute_force());
        prop_assert!((fast - slow).abs() <= TOLERANCE, "fast {fast} vs brute force {slow}");
    }

    #[test]
    fn metrics_are_symmetric_under_reversal(curve in curves()) {
        let reversed = curve.reversed();
        prop_assert!((curve.convexity_gap() - reversed.convexity_gap()).abs() <= TOLERANCE);
        prop_assert!((curve.endpoint_barrier() - reversed.endpoint_barrier()).abs() <= TOLERANCE);
        prop_assert!((curve.area_above_minimum() - reversed.area_above_minimum()).abs() <= TOLERANCE);
    }

    #[test]
    fn cg_bounds_the_endpoint_barrier(curve in curves()) {
        prop_assert!(curve.convexity_gap() >= curve.endpoint_barrier() - TOLERANCE);
    }

    #[test]
    fn convex_curves_have_no_gap(curve in convex_curves()) {
        prop_assert!(curve.convexity_gap() <= 1e-9, "cg {}", curve.convexity_gap());
        prop_assert!(curve.endpoint_barrier() <= 1e-9);
        prop_assert!(curve.convexity_gap_brute_force() <= 1e-9);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn clusters_do_not_depend_on_model_order(
        sizes in prop::collection::vec(2_usize..7, 2..4),
        shuffle in any::<u64>(),
    ) {
        let basin: Vec<usize> = sizes.iter().enumerate().flat_map(|(b, &s)| std::iter::repeat_n(b, s)).collect();
        let d = planted(&basin, 0.02, 2.5);
        let n = d.len();
        // A seeded Fisher–Yates shuffle of the model order.
        let mut order: Vec<usize> = (0..n).collect();
        let mut state = shuffle | 1;
        for i in (1..n).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let options = ClusterOptions { k: lmc_analysis::KChoice::Fixed(sizes.len()), ..ClusterOptions::default() };
        let original = spectral_clustering(&d, &options).expect("clusters");
        let permuted = spectral_clustering(&d.permuted(&order), &options).expect("clusters");
        let back: Vec<usize> = {
            let mut back = vec![0; n];
            for (position, &model) in order.iter().enumerate() {
                back[model] = permuted.labels[position];
            }
            back
        };
        prop_assert!(same_partition(&original.labels, &back));
        prop_assert!(same_partition(&original.labels, &basin));
    }
}
