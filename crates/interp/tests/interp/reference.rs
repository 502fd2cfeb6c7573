//! Equality with naive scalar implementations, on sets spanning several parallel blocks.

use lmc_interp::{ParamSet, TensorData, affine, difference, distance, dot, lerp};

use crate::helpers::{LARGE_SHAPES, carried, mixed_set, random_set};

/// Float values by tensor name, from a set's tensor views.
fn float_tensors(set: &ParamSet) -> Vec<(String, Vec<f32>)> {
    set.tensors()
        .filter_map(|tensor| match tensor.data {
            TensorData::Float(values) => Some((tensor.name.to_owned(), values.to_vec())),
            TensorData::Carried(_) => None,
        })
        .collect()
}

fn naive_lerp(a: &ParamSet, b: &ParamSet, alpha: f32) -> Vec<(String, Vec<f32>)> {
    float_tensors(a)
        .into_iter()
        .zip(float_tensors(b))
        .map(|((name, xs), (_, ys))| {
            let out = xs
                .iter()
                .zip(&ys)
                .map(|(&x, &y)| (1.0 - alpha) * x + alpha * y)
                .collect();
            (name, out)
        })
        .collect()
}

fn naive_affine(sets: &[&ParamSet], weights: &[f32]) -> Vec<(String, Vec<f32>)> {
    let per_set: Vec<_> = sets.iter().map(|set| float_tensors(set)).collect();
    (0..per_set[0].len())
        .map(|t| {
            let len = per_set[0][t].1.len();
            let out = (0..len)
                .map(|i| {
                    let mut sum = weights[0] * per_set[0][t].1[i];
                    for (set, &w) in per_set.iter().zip(weights).skip(1) {
                        sum += w * set[t].1[i];
                    }
                    sum
                })
                .collect();
            (per_set[0][t].0.clone(), out)
        })
        .collect()
}

fn assert_bitwise_equal(actual: &ParamSet, expected: &[(String, Vec<f32>)]) {
    let actual = float_tensors(actual);
    assert_eq!(actual.len(), expected.len());
    for ((name, xs), (expected_name, ys)) in actual.iter().zip(expected) {
        assert_eq!(name, expected_name);
        for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
            assert_eq!(x.to_bits(), y.to_bits(), "{name}[{i}]: {x} vs {y}");
        }
    }
}

#[test]
fn lerp_matches_the_scalar_formula_bit_for_bit() {
    let a = random_set(LARGE_SHAPES, 1);
    let b = random_set(LARGE_SHAPES, 2);
    for alpha in [0.3, 0.5, 1.0 / 9.0, -0.5, 1.5] {
        assert_bitwise_equal(&lerp(&a, &b, alpha).unwrap(), &naive_lerp(&a, &b, alpha));
    }
}

#[test]
fn affine_matches_the_scalar_sum_bit_for_bit() {
    let sets: Vec<_> = (1..=4).map(|seed| random_set(LARGE_SHAPES, seed)).collect();
    let refs: Vec<&ParamSet> = sets.iter().collect();
    let weights = [0.25, -1.5, 2.0, 0.125];
    assert_bitwise_equal(
        &affine(&refs, &weights).unwrap(),
        &naive_affine(&refs, &weights),
    );
    let minus = naive_affine(&refs[..2], &[1.0, -1.0]);
    assert_bitwise_equal(&difference(refs[0], refs[1]).unwrap(), &minus);
}

#[test]
fn reductions_match_a_naive_f64_sum() {
    let a = random_set(LARGE_SHAPES, 5);
    let b = random_set(LARGE_SHAPES, 6);
    let pairs = a.float_values().iter().zip(b.float_values());
    let naive_dot: f64 = pairs
        .clone()
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let naive_distance: f64 = pairs
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        .sqrt();
    let naive_norm: f64 = a
        .float_values()
        .iter()
        .map(|&x| f64::from(x).powi(2))
        .sum::<f64>()
        .sqrt();
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-10 * y.abs().max(1.0);
    assert!(close(dot(&a, &b).unwrap(), naive_dot));
    assert!(close(distance(&a, &b).unwrap(), naive_distance));
    assert!(close(a.norm(), naive_norm));
}

#[test]
fn carried_tensors_and_metadata_come_from_the_first_set() {
    let (a, b) = (mixed_set(1), mixed_set(2));
    assert_ne!(carried(&a), carried(&b));
    let mid = lerp(&a, &b, 0.4).unwrap();
    assert_eq!(carried(&mid), carried(&a));
    assert_eq!(mid.metadata().get("format").map(String::as_str), Some("pt"));
    let reversed = affine(&[&b, &a], &[0.5, 0.5]).unwrap();
    assert_eq!(carried(&reversed), carried(&b));
}

#[test]
fn tensor_views_follow_name_order_and_dtypes() {
    let set = mixed_set(3);
    let names: Vec<_> = set.tensors().map(|t| t.name).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let pooler = set.tensor("pooler.weight").unwrap();
    assert_eq!(pooler.dtype, lmc_interp::Dtype::F16);
    assert_eq!(pooler.shape, &[16, 8]);
    assert!(set.tensor("missing").is_none());
    assert_eq!(set.float_len(), 75_000 + 250 + 128 + 5);
}
