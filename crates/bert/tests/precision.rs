//! bf16 mixed precision on the CPU backend: the model casts the inputs of its matrix products to
//! bf16 and keeps everything else in f32, so its outputs and gradients stay within bf16's
//! rounding of the f32 ones, and the parameters stay f32.

use burn::backend::{Autodiff, Flex};
use burn::tensor::{DType, Int, Tensor, TensorData};
use lmc_bert::{
    BertClassifier, BertConfig, BertInput, DropoutMasks, Precision, SplitMix64, batch_gradients,
    lerp_modules, random_classifier,
};

type B = Autodiff<Flex>;

fn config() -> BertConfig {
    BertConfig {
        hidden_dropout_prob: 0.0,
        attention_probs_dropout_prob: 0.0,
        ..BertConfig::sized(300, 64, 2, 4, 128)
    }
}

/// Six right-padded rows of different lengths, and their labels.
fn batch<Be: burn::tensor::backend::Backend>(
    device: &Be::Device,
) -> (BertInput<Be>, Tensor<Be, 1, Int>) {
    let mut rng = SplitMix64::new(8);
    let seq = 12;
    let (mut ids, mut types, mut mask) = (Vec::new(), Vec::new(), Vec::new());
    for row in 0..6 {
        let length = 5 + row;
        for position in 0..seq {
            let real = position < length;
            ids.push(if real {
                103 + (rng.next_u64() % 190) as i64
            } else {
                0
            });
            types.push(i64::from(real && position >= length / 2));
            mask.push(i64::from(real));
        }
    }
    let tensor = |values: Vec<i64>| {
        Tensor::<Be, 2, Int>::from_data(TensorData::new(values, [6, seq]), device)
    };
    let labels =
        Tensor::<Be, 1, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 1, 0, 2], [6]), device);
    (
        BertInput {
            input_ids: tensor(ids),
            token_type_ids: tensor(types),
            attention_mask: tensor(mask),
        },
        labels,
    )
}

fn values<Be: burn::tensor::backend::Backend, const D: usize>(tensor: Tensor<Be, D>) -> Vec<f32> {
    tensor.into_data().convert::<f32>().into_vec().unwrap()
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn largest(values: &[f32]) -> f32 {
    values.iter().fold(0.0, |m, v| m.max(v.abs()))
}

#[test]
fn bf16_logits_stay_within_bf16_rounding_of_f32() {
    let device = Default::default();
    let model: BertClassifier<Flex> = random_classifier(&config(), 3, 1, &device);
    let (input, _) = batch::<Flex>(&device);
    let f32_logits = model.forward(input.clone());
    assert_eq!(f32_logits.dtype(), DType::F32);
    let reference = values(f32_logits);
    let bf16 = model.with_precision(Precision::Bf16);
    assert_eq!(bf16.precision(), Precision::Bf16);
    let logits = bf16.forward(input);
    assert_eq!(logits.dtype(), DType::F32, "bf16 products come back as f32");
    let logits = values(logits);
    let difference = max_difference(&logits, &reference);
    // bf16 keeps 8 significant bits (relative rounding 2^-9 ≈ 2e-3 per input); through two
    // layers of products the logits move by a few times that, relative to their scale.
    assert!(
        difference <= 2e-2 * largest(&reference),
        "bf16 logits differ from f32 by {difference} (scale {})",
        largest(&reference)
    );
    assert!(
        difference > 0.0,
        "bf16 computed exactly the f32 logits: no rounding happened"
    );
}

#[test]
fn bf16_gradients_stay_close_to_f32_and_parameters_stay_f32() {
    let device = Default::default();
    let model: BertClassifier<B> = random_classifier(&config(), 3, 2, &device);
    let (input, labels) = batch::<B>(&device);
    let gradients = |model: &BertClassifier<B>| {
        let result = batch_gradients(
            model,
            input.clone(),
            labels.clone(),
            1,
            0,
            DropoutMasks::Host,
        );
        let named = model.hf_gradients(&result.gradients);
        (result.loss, named)
    };
    let (f32_loss, f32_gradients) = gradients(&model);
    let bf16_model = model.with_precision(Precision::Bf16);
    let (bf16_loss, bf16_gradients) = gradients(&bf16_model);
    assert!(
        (bf16_loss - f32_loss).abs() <= 1e-2 * f32_loss.abs(),
        "loss {bf16_loss} vs {f32_loss}"
    );
    assert_eq!(
        bf16_gradients.len(),
        f32_gradients.len(),
        "every parameter has a gradient"
    );
    // bf16 rounds each input of every product to 8 significant bits (2^-9 relative). Over the
    // whole gradient, a few such roundings in series give about 1 % (0.7 % measured); a wrong
    // cast or a gradient lost in the casts would be off by its whole size. Per tensor, biases
    // and LayerNorm shifts are sums over every token whose terms largely cancel, which
    // magnifies the relative error (4–8 % measured; weights 0.1–1.3 %). Tensors whose exact
    // gradient is zero (the attention key's bias: softmax ignores a shift shared by a row) are
    // measured against a thousandth of the whole gradient's norm, since their f32 gradient is
    // rounding noise too.
    let norm = |values: &[f32]| {
        values
            .iter()
            .map(|v| f64::from(*v).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let flat = |gradients: &[(String, lmc_bert::HostTensor)]| -> Vec<f32> {
        gradients
            .iter()
            .flat_map(|(_, t)| t.values.iter().copied())
            .collect()
    };
    let (all_f32, all_bf16) = (flat(&f32_gradients), flat(&bf16_gradients));
    let whole: Vec<f32> = all_bf16.iter().zip(&all_f32).map(|(a, b)| a - b).collect();
    let whole = norm(&whole) / norm(&all_f32);
    assert!(
        whole <= 2e-2,
        "the bf16 gradient is off by {whole:.3e} of its norm"
    );
    assert!(
        whole > 0.0,
        "bf16 gave exactly the f32 gradients: no rounding happened"
    );
    let floor = 1e-3 * norm(&all_f32);
    for ((name, got), (_, expected)) in bf16_gradients.iter().zip(&f32_gradients) {
        let difference: Vec<f32> = got
            .values
            .iter()
            .zip(&expected.values)
            .map(|(a, b)| a - b)
            .collect();
        let relative = norm(&difference) / norm(&expected.values).max(floor);
        assert!(
            relative <= 0.15,
            "{name}: bf16 gradient off by {relative:.3e} of its norm"
        );
    }
    for (name, tensor) in bf16_model.hf_parameters() {
        assert!(tensor.values.iter().all(|v| v.is_finite()), "{name}");
    }
}

#[test]
fn the_precision_survives_interpolation() {
    let device = Default::default();
    let a: BertClassifier<Flex> =
        random_classifier(&config(), 3, 1, &device).with_precision(Precision::Bf16);
    let b: BertClassifier<Flex> = random_classifier(&config(), 3, 2, &device);
    let mixed = lerp_modules(a, &b, 0.5).unwrap();
    assert_eq!(mixed.precision(), Precision::Bf16);
}

#[test]
fn precisions_and_mask_sources_parse_their_own_names() {
    for precision in [Precision::F32, Precision::Tf32, Precision::Bf16] {
        assert_eq!(precision.as_str().parse::<Precision>(), Ok(precision));
    }
    assert!(
        "fp16"
            .parse::<Precision>()
            .unwrap_err()
            .contains("f32, tf32 or bf16")
    );
    for masks in [DropoutMasks::Host, DropoutMasks::Device] {
        assert_eq!(masks.as_str().parse::<DropoutMasks>(), Ok(masks));
    }
    assert!(
        "gpu"
            .parse::<DropoutMasks>()
            .unwrap_err()
            .contains("host or device")
    );
}
