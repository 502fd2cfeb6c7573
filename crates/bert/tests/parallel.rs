//! Dropout streams and batches computed in parallel row slices: the same results as one pass.

use burn::backend::{Autodiff, Flex};
use burn::tensor::{Int, Tensor, TensorData};
use lmc_bert::{
    BertClassifier, BertConfig, BertInput, DropoutMasks, DropoutStream, SplitMix64,
    batch_gradients, cross_entropy, forward_in_slices, random_classifier,
};

type B = Autodiff<Flex>;

fn config(dropout: f64) -> BertConfig {
    BertConfig {
        hidden_dropout_prob: dropout,
        attention_probs_dropout_prob: dropout,
        ..BertConfig::sized(200, 16, 2, 2, 32)
    }
}

/// Seven right-padded rows of different lengths, and their labels.
fn batch<Be: burn::tensor::backend::Backend>(
    device: &Be::Device,
) -> (BertInput<Be>, Tensor<Be, 1, Int>) {
    let mut rng = SplitMix64::new(5);
    let seq = 9;
    let (mut ids, mut types, mut mask) = (Vec::new(), Vec::new(), Vec::new());
    for row in 0..7 {
        let length = 4 + row % 6;
        for position in 0..seq {
            let real = position < length;
            ids.push(if real {
                1 + (rng.next_u64() % 199) as i64
            } else {
                0
            });
            types.push(i64::from(real && position >= length / 2));
            mask.push(i64::from(real));
        }
    }
    let tensor = |values: Vec<i64>| {
        Tensor::<Be, 2, Int>::from_data(TensorData::new(values, [7, seq]), device)
    };
    let labels =
        Tensor::<Be, 1, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 1, 0, 2, 1], [7]), device);
    (
        BertInput {
            input_ids: tensor(ids),
            token_type_ids: tensor(types),
            attention_mask: tensor(mask),
        },
        labels,
    )
}

/// Device masks come from the backend's one generator per process, so tests that draw them take
/// turns (`DropoutStream`'s contract: no other pass draws from that generator at the same time).
static DEVICE_GENERATOR: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn device_generator() -> std::sync::MutexGuard<'static, ()> {
    DEVICE_GENERATOR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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

/// Every parameter gradient, flattened, in module order.
fn gradient_values(
    model: &BertClassifier<B>,
    gradients: &<B as burn::tensor::backend::AutodiffBackend>::Gradients,
) -> Vec<f32> {
    model
        .hf_gradients(gradients)
        .into_iter()
        .flat_map(|(_, tensor)| tensor.values)
        .collect()
}

#[test]
fn dropout_stream_drops_the_configured_share_and_rescales_the_rest() {
    let device = Default::default();
    let ones = Tensor::<Flex, 1>::ones([100_000], &device);
    let dropped = values(DropoutStream::new(1).apply(ones.clone(), 0.1));
    let zeros = dropped.iter().filter(|v| **v == 0.0).count() as f64 / dropped.len() as f64;
    assert!((zeros - 0.1).abs() < 0.005, "share dropped {zeros}");
    let scale = (1.0 / 0.9) as f32;
    assert!(dropped.iter().all(|v| *v == 0.0 || *v == scale));
    assert_eq!(
        values(DropoutStream::new(1).apply(ones.clone(), 0.1)),
        dropped
    );
    assert_ne!(
        values(DropoutStream::new(2).apply(ones.clone(), 0.1)),
        dropped
    );
    assert_eq!(
        values(DropoutStream::new(1).apply(ones.clone(), 0.0)),
        values(ones)
    );
}

#[test]
fn device_masks_drop_the_configured_share_and_repeat_with_the_seed() {
    let _turn = device_generator();
    let device = Default::default();
    let ones = Tensor::<Flex, 1>::ones([100_000], &device);
    let draw = |seed| {
        let mut stream = DropoutStream::with_masks(seed, DropoutMasks::Device);
        let first = values(stream.apply(ones.clone(), 0.1));
        let second = values(stream.apply(ones.clone(), 0.1));
        (first, second)
    };
    let (first, second) = draw(1);
    let scale = (1.0 / 0.9) as f32;
    for dropped in [&first, &second] {
        let zeros = dropped.iter().filter(|v| **v == 0.0).count() as f64 / dropped.len() as f64;
        assert!((zeros - 0.1).abs() < 0.005, "share dropped {zeros}");
        assert!(
            dropped
                .iter()
                .all(|v| *v == 0.0 || (*v - scale).abs() <= 1e-6)
        );
    }
    assert_ne!(first, second, "each mask of a pass is a new draw");
    assert_eq!(
        draw(1),
        (first.clone(), second),
        "the stream's seed decides every mask"
    );
    assert_ne!(draw(2).0, first);
}

#[test]
fn training_passes_apply_dropout_and_inference_passes_do_not() {
    let device = Default::default();
    let model: BertClassifier<Flex> = random_classifier(&config(0.1), 3, 0, &device);
    let (input, _) = batch::<Flex>(&device);
    let plain = values(model.forward(input.clone()));
    let trained = values(model.forward_train(input.clone(), &mut DropoutStream::new(3)));
    let again = values(model.forward_train(input.clone(), &mut DropoutStream::new(3)));
    assert!(
        max_difference(&plain, &trained) > 1e-3,
        "dropout changed nothing"
    );
    assert_eq!(trained, again, "one stream seed, one result");

    let without: BertClassifier<Flex> = random_classifier(&config(0.0), 3, 0, &device);
    assert_eq!(
        values(without.forward_train(input.clone(), &mut DropoutStream::new(3))),
        values(without.forward(input)),
    );
}

#[test]
fn slices_give_the_logits_of_one_pass() {
    let device = Default::default();
    let model: BertClassifier<Flex> = random_classifier(&config(0.1), 3, 4, &device);
    let (input, _) = batch::<Flex>(&device);
    let whole = values(model.forward(input.clone()));
    for parts in [1, 2, 3, 7, 20] {
        let sliced = values(forward_in_slices(&model, input.clone(), parts));
        assert!(max_difference(&whole, &sliced) < 1e-5, "{parts} slices");
    }
}

#[test]
fn slices_give_the_loss_and_gradient_of_one_pass() {
    let _turn = device_generator();
    let device = Default::default();
    let model: BertClassifier<B> = random_classifier(&config(0.0), 3, 6, &device);
    let (input, labels) = batch::<B>(&device);
    let loss = cross_entropy(model.forward(input.clone()), labels.clone());
    let expected_loss: f32 = values(loss.clone())[0];
    let expected = gradient_values(&model, &loss.backward());
    assert!(!expected.is_empty());
    for (parts, masks) in [1, 2, 3]
        .into_iter()
        .flat_map(|parts| [(parts, DropoutMasks::Host), (parts, DropoutMasks::Device)])
    {
        let result = batch_gradients(&model, input.clone(), labels.clone(), parts, 9, masks);
        assert!(
            (result.loss - f64::from(expected_loss)).abs() < 1e-6,
            "{parts} slices ({masks:?}): loss"
        );
        let got = gradient_values(&model, &result.gradients);
        assert_eq!(
            got.len(),
            expected.len(),
            "{parts} slices: every parameter has a gradient"
        );
        let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(
            max_difference(&got, &expected) <= 1e-5 * scale,
            "{parts} slices: gradients differ by {}",
            max_difference(&got, &expected)
        );
    }
}

#[test]
fn sliced_training_passes_are_deterministic_with_dropout() {
    let _turn = device_generator();
    let device = Default::default();
    let model: BertClassifier<B> = random_classifier(&config(0.1), 3, 6, &device);
    let (input, labels) = batch::<B>(&device);
    for masks in [DropoutMasks::Host, DropoutMasks::Device] {
        let run = |seed| {
            let result = batch_gradients(&model, input.clone(), labels.clone(), 2, seed, masks);
            (result.loss, gradient_values(&model, &result.gradients))
        };
        let first = run(11);
        assert_eq!(
            first,
            run(11),
            "{masks:?}: same dropout seed, same loss and gradients, bit for bit"
        );
        assert_ne!(
            first.1,
            run(12).1,
            "{masks:?}: another dropout seed draws other masks"
        );
    }
}
