//! Parity with PyTorch + transformers on the reference fixtures (`shared/fixtures/minilm`):
//! all-MiniLM-L6-v2 with a fixed 3-way head, 8 padded cases, eval mode.

mod common;

use std::collections::BTreeMap;

use burn::backend::{Autodiff, Flex};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use common::{fixture_dir, floats, int_rows, max_abs_diff, minilm_dir, read_all, relative_error};
use lmc_bert::{
    BertClassifier, BertConfig, BertInput, HeadSpec, HostTensor, classifier_from_parameters,
    cross_entropy, load_classifier,
};

const LABELS: [i64; 8] = [1, 1, 0, 2, 0, 1, 2, 0];

/// all-MiniLM-L6-v2 with the fixture's classifier head, dropout off.
fn reference_model<B: Backend>(device: &B::Device) -> BertClassifier<B> {
    let loaded = load_classifier::<B>(
        &minilm_dir(),
        HeadSpec {
            num_labels: Some(3),
            seed: 0,
        },
        device,
    )
    .unwrap();
    assert_eq!(
        loaded.report.initialised,
        ["classifier.weight", "classifier.bias"]
    );
    let head = read_all(&fixture_dir().join("head.safetensors"));
    let mut parameters: BTreeMap<String, HostTensor> =
        loaded.model.hf_parameters().into_iter().collect();
    for name in ["classifier.weight", "classifier.bias"] {
        let (shape, values) = floats(&head, name);
        parameters.insert(
            name.to_string(),
            HostTensor::new(shape.to_vec(), values.to_vec()),
        );
    }
    let config = BertConfig {
        hidden_dropout_prob: 0.0,
        attention_probs_dropout_prob: 0.0,
        ..loaded.config
    };
    classifier_from_parameters(&config, 3, parameters, device).unwrap()
}

fn fixture_input<B: Backend>(
    expected: &BTreeMap<String, common::Value>,
    device: &B::Device,
) -> BertInput<B> {
    BertInput::from_rows(
        &int_rows(expected, "input_ids"),
        &int_rows(expected, "token_type_ids"),
        &int_rows(expected, "attention_mask"),
        device,
    )
}

fn values<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Vec<f32> {
    tensor.into_data().convert::<f32>().into_vec().unwrap()
}

#[test]
fn forward_matches_transformers_within_1e4() {
    let device = Default::default();
    let expected = read_all(&fixture_dir().join("expected.safetensors"));
    let model = reference_model::<Flex>(&device);
    let outputs = model.forward_outputs(fixture_input(&expected, &device));

    let (_, reference) = floats(&expected, "last_hidden_state");
    let actual = values(outputs.last_hidden_state);
    let mask = int_rows(&expected, "attention_mask");
    let (mut real_tokens, mut padding) = (0f32, 0f32);
    for (i, (a, r)) in actual.iter().zip(reference).enumerate() {
        let (row, position) = (i / (128 * 384), (i / 384) % 128);
        let worst = if mask[row][position] == 1 {
            &mut real_tokens
        } else {
            &mut padding
        };
        *worst = worst.max((a - r).abs());
    }
    eprintln!("last_hidden_state: max diff {real_tokens:e} (real tokens), {padding:e} (padding)");
    assert!(
        real_tokens < 1e-4,
        "last_hidden_state, real tokens: max diff {real_tokens:e}"
    );
    // Hidden states at padded positions are ill-conditioned in float32: the reference itself
    // differs from a float64 run of transformers by 2.6e-4 there (4e-6 at real tokens), so they
    // are held to that, not to 1e-4. Nothing downstream reads them (pooling takes [CLS]).
    assert!(
        padding < 3e-4,
        "last_hidden_state, padded positions: max diff {padding:e}"
    );
    for (name, actual) in [
        ("pooler_output", values(outputs.pooler_output)),
        ("logits", values(outputs.logits.clone())),
    ] {
        let (_, reference) = floats(&expected, name);
        let diff = max_abs_diff(&actual, reference);
        eprintln!("{name}: max |lmc - transformers| = {diff:e}");
        assert!(diff < 1e-4, "{name}: max |lmc - transformers| = {diff:e}");
    }
    let labels = Tensor::<Flex, 1, Int>::from_data(TensorData::new(LABELS.to_vec(), [8]), &device);
    let loss = values(cross_entropy(outputs.logits, labels))[0];
    let (_, reference_loss) = floats(&expected, "loss");
    eprintln!("loss: lmc {loss} vs transformers {}", reference_loss[0]);
    assert!(
        (loss - reference_loss[0]).abs() < 1e-5,
        "loss {loss} vs {}",
        reference_loss[0]
    );
}

#[test]
fn gradients_match_transformers_within_1e3_relative() {
    type B = Autodiff<Flex>;
    let device = Default::default();
    let expected = read_all(&fixture_dir().join("expected.safetensors"));
    let model = reference_model::<B>(&device);
    let labels = Tensor::<B, 1, Int>::from_data(TensorData::new(LABELS.to_vec(), [8]), &device);
    let loss = cross_entropy(model.forward(fixture_input(&expected, &device)), labels);
    let gradients: BTreeMap<String, HostTensor> =
        model.hf_gradients(&loss.backward()).into_iter().collect();

    let checked = expected
        .keys()
        .filter_map(|k| k.strip_prefix("grad."))
        .collect::<Vec<_>>();
    assert_eq!(checked.len(), 5);
    for name in checked {
        let (shape, reference) = floats(&expected, &format!("grad.{name}"));
        let actual = &gradients[name];
        assert_eq!(actual.shape, shape, "{name}");
        let error = relative_error(&actual.values, reference);
        eprintln!("grad {name}: relative error {error:e}");
        assert!(error < 1e-3, "{name}: relative error {error:e}");
    }
}

#[test]
fn padding_does_not_change_a_sequence_outputs() {
    let device = Default::default();
    let expected = read_all(&fixture_dir().join("expected.safetensors"));
    let model = reference_model::<Flex>(&device);
    let ids = int_rows(&expected, "input_ids");
    let types = int_rows(&expected, "token_type_ids");
    let mask = int_rows(&expected, "attention_mask");
    let length = mask[0].iter().filter(|&&m| m == 1).count();
    let trim = |rows: &[Vec<i64>], n: usize| vec![rows[0][..n].to_vec()];

    let alone = model.forward_outputs(BertInput::<Flex>::from_rows(
        &trim(&ids, length),
        &trim(&types, length),
        &trim(&mask, length),
        &device,
    ));
    let padded = model.forward_outputs(BertInput::<Flex>::from_rows(
        &trim(&ids, 40),
        &trim(&types, 40),
        &trim(&mask, 40),
        &device,
    ));
    let diff = max_abs_diff(&values(alone.logits), &values(padded.logits));
    assert!(diff < 1e-5, "logits moved by {diff:e} under padding");
    let hidden_alone = values(alone.last_hidden_state);
    let hidden_padded = values(padded.last_hidden_state);
    let diff = max_abs_diff(&hidden_alone, &hidden_padded[..hidden_alone.len()]);
    assert!(
        diff < 1e-5,
        "hidden states of real tokens moved by {diff:e} under padding"
    );
}
