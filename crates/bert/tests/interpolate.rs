//! On-device interpolation of modules agrees with the host formula and keeps the endpoints exact.

use burn::backend::Flex;
use lmc_bert::{BertClassifier, BertConfig, BertInput, lerp_modules, random_classifier};

fn tiny(seed: u64, layers: usize) -> BertClassifier<Flex> {
    let config = BertConfig {
        max_position_embeddings: 16,
        ..BertConfig::sized(32, 8, layers, 2, 16)
    };
    random_classifier(&config, 2, seed, &Default::default())
}

fn logits(model: &BertClassifier<Flex>) -> Vec<f32> {
    let input = BertInput::from_rows(
        &[vec![2, 5, 9, 3]],
        &[vec![0, 0, 1, 1]],
        &[vec![1; 4]],
        &Default::default(),
    );
    model.forward(input).into_data().into_vec().unwrap()
}

#[test]
fn interior_points_equal_the_host_formula() {
    let (a, b) = (tiny(1, 2), tiny(2, 2));
    for alpha in [0.3, -0.5, 1.5] {
        let mixed = lerp_modules(a.clone(), &b, alpha).unwrap().hf_parameters();
        for (((name, m), (_, x)), (_, y)) in
            mixed.iter().zip(a.hf_parameters()).zip(b.hf_parameters())
        {
            for ((m, x), y) in m.values.iter().zip(&x.values).zip(&y.values) {
                let expected = (1.0 - alpha as f32) * x + alpha as f32 * y;
                assert!(
                    (m - expected).abs() <= 1e-6 * (1.0 + expected.abs()),
                    "{name}: {m} vs {expected}"
                );
            }
        }
    }
}

#[test]
fn endpoints_are_the_models_bit_for_bit() {
    let (a, b) = (tiny(1, 2), tiny(2, 2));
    assert_eq!(
        logits(&lerp_modules(a.clone(), &b, 0.0).unwrap()),
        logits(&a)
    );
    assert_eq!(
        logits(&lerp_modules(a.clone(), &b, 1.0).unwrap()),
        logits(&b)
    );
}

#[test]
fn modules_of_different_architectures_are_refused() {
    let result = lerp_modules(tiny(1, 2), &tiny(2, 1), 0.5);
    assert!(result.is_err());
    assert!(lerp_modules(tiny(1, 2), &tiny(2, 1), 1.0).is_err());
}
