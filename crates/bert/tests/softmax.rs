//! Softmax of the CPU backend (lmc's patched burn-flex computes its exp without libm,
//! `vendor/README.md`) against softmax computed in f64, on rows like attention's: scores of
//! either sign, a masked tail, and NaN.

use burn::backend::Flex;
use burn::tensor::activation::softmax;
use burn::tensor::{Tensor, TensorData};

fn softmax_rows(values: Vec<f32>, rows: usize, columns: usize) -> Vec<f32> {
    let x = Tensor::<Flex, 2>::from_data(
        TensorData::new(values, [rows, columns]),
        &Default::default(),
    );
    softmax(x, 1).into_data().into_vec::<f32>().unwrap()
}

fn reference(row: &[f32]) -> Vec<f64> {
    let max = row.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x as f64));
    let exps: Vec<f64> = row.iter().map(|&x| (x as f64 - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

#[test]
fn rows_of_every_length_match_softmax_in_f64() {
    for columns in [1, 7, 8, 31, 128, 129] {
        let rows = 16;
        let values: Vec<f32> = (0..rows * columns)
            .map(|i| ((i * 7919 % 1000) as f32 / 1000.0 - 0.5) * 30.0)
            .collect();
        let output = softmax_rows(values.clone(), rows, columns);
        for (row, out) in values.chunks(columns).zip(output.chunks(columns)) {
            for (got, want) in out.iter().zip(reference(row)) {
                assert!(
                    (*got as f64 - want).abs() <= 1e-6 * want.max(1e-30) + 1e-9,
                    "{columns} columns: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn masked_scores_get_exactly_zero_weight() {
    let mut row = vec![0.5f32, -1.0, 2.0, 0.0];
    row.extend([-10_000.0f32; 12]);
    let output = softmax_rows(row.clone(), 1, 16);
    assert!(output[4..].iter().all(|&p| p == 0.0), "{output:?}");
    let unmasked = softmax_rows(row[..4].to_vec(), 1, 4);
    for (a, b) in output[..4].iter().zip(&unmasked) {
        assert!((a - b).abs() <= 1e-7, "{a} vs {b}");
    }
}

#[test]
fn a_nan_score_makes_its_row_nan() {
    let mut values = vec![0.0f32; 32];
    values[20] = f32::NAN;
    let output = softmax_rows(values, 2, 16);
    assert!(output[..16].iter().all(|p| (p - 1.0 / 16.0).abs() < 1e-7));
    assert!(
        output[16..].iter().all(|p| p.is_nan()),
        "{:?}",
        &output[16..]
    );
}
