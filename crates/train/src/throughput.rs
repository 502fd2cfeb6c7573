//! Throughput of a BERT classifier on any backend: inference and training updates on random,
//! full-length batches, and training updates on real batches of a task (each padded to its own
//! longest example, as `lmc finetune` pads them), timed after one warm-up step.
//!
//! Each case runs what lmc runs: inference is [`lmc_bert::forward_in_slices`] (as `lmc eval` and
//! `lmc sweep`), a training update is [`lmc_bert::batch_gradients`] with dropout followed by
//! [`AdamW::step`] with global-norm clipping (as `lmc finetune`). The clock stops only after the
//! results are on the host, so asynchronous backends (CUDA) are timed to completion.

use std::time::Instant;

use burn::module::Module;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};
use lmc_bert::{
    BatchGradients, BertClassifier, BertConfig, BertInput, Precision, SplitMix64, batch_gradients,
    default_dropout_masks, forward_in_slices, lerp_modules, random_classifier,
};
use lmc_data::{PaddedBatch, TaskName};
use serde::Serialize;

use crate::data::model_input;
use crate::error::{Result, TrainError};
use crate::optim::AdamW;
use crate::recipe::Recipe;

/// Labels of the random classification head.
const NUM_LABELS: usize = 3;

/// What to time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ThroughputMode {
    /// Forward passes without dropout or gradients.
    Inference,
    /// Forward, backward and an AdamW update.
    Train,
}

/// One timed case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ThroughputCase {
    /// Inference or training.
    pub mode: ThroughputMode,
    /// Examples per batch.
    pub batch: usize,
    /// Tokens per example (no padding).
    pub seq_len: usize,
    /// Timed steps, after one untimed warm-up step.
    pub steps: usize,
    /// Row slices per batch, computed on parallel threads.
    pub slices: usize,
    /// How the matrix products compute.
    pub precision: Precision,
}

/// The time a case took.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ThroughputMeasurement {
    /// The case.
    #[serde(flatten)]
    pub case: ThroughputCase,
    /// Wall time of the timed steps.
    pub seconds: f64,
    /// `steps × batch / seconds`.
    pub examples_per_s: f64,
}

/// A batch of `batch` random sequences of `seq_len` tokens (`[CLS] … [SEP]`, second half
/// segment 1, no padding) and labels `0, 1, 2, 0, …`, the same for the same `seed`.
///
/// # Panics
/// If `vocab_size` is below 103 (BERT's `[SEP]` id is 102).
pub fn random_batch<B: Backend>(
    batch: usize,
    seq_len: usize,
    vocab_size: usize,
    seed: u64,
    device: &B::Device,
) -> (BertInput<B>, Tensor<B, 1, Int>) {
    assert!(
        vocab_size > 102,
        "a vocabulary of {vocab_size} has no [CLS] (101) and [SEP] (102)"
    );
    let mut rng = SplitMix64::new(seed);
    // Ordinary word pieces of BERT's vocabulary, as the PyTorch baseline draws them; the upper
    // half of a small test vocabulary.
    let (low, high) = if vocab_size > 29_000 {
        (1000, 29_000)
    } else {
        (vocab_size as u64 / 2, vocab_size as u64)
    };
    let span = high - low;
    let ids: Vec<Vec<i64>> = (0..batch)
        .map(|_| {
            let mut row: Vec<i64> = (0..seq_len)
                .map(|_| (low + rng.next_u64() % span) as i64)
                .collect();
            row[0] = 101;
            row[seq_len - 1] = 102;
            row
        })
        .collect();
    let types: Vec<Vec<i64>> = (0..batch)
        .map(|_| (0..seq_len).map(|i| i64::from(i >= seq_len / 2)).collect())
        .collect();
    let mask = vec![vec![1i64; seq_len]; batch];
    let labels: Vec<i64> = (0..batch).map(|i| (i % NUM_LABELS) as i64).collect();
    (
        BertInput::from_rows(&ids, &types, &mask, device),
        Tensor::from_data(TensorData::new(labels, [batch]), device),
    )
}

fn measurement(case: ThroughputCase, seconds: f64) -> ThroughputMeasurement {
    ThroughputMeasurement {
        case,
        seconds,
        examples_per_s: (case.steps * case.batch) as f64 / seconds,
    }
}

/// Times `case` (its mode decides which of [`measure_inference`] or [`measure_training`] runs)
/// on a randomly initialised classifier of shape `config`.
///
/// # Errors
/// [`TrainError::InvalidRecipe`] for a case the model cannot run (no examples, no tokens, no
/// slices, more tokens than the config has positions, a vocabulary without BERT's `[CLS]` and
/// `[SEP]` ids); [`TrainError::Device`] if the device fails.
pub fn measure<AB: AutodiffBackend>(
    config: &BertConfig,
    case: ThroughputCase,
    device: &AB::Device,
) -> Result<ThroughputMeasurement> {
    match case.mode {
        ThroughputMode::Inference => measure_inference::<AB::InnerBackend>(config, case, device),
        ThroughputMode::Train => measure_training::<AB>(config, case, device),
    }
}

fn check_case(config: &BertConfig, case: ThroughputCase) -> Result<()> {
    let invalid = |message: String| Err(TrainError::InvalidRecipe(message));
    if case.batch == 0 || case.steps == 0 || case.slices == 0 {
        return invalid("batch, steps and slices must be at least 1".into());
    }
    if case.seq_len == 0 || case.seq_len > config.max_position_embeddings {
        return invalid(format!(
            "{} tokens per example: the model takes 1 to {}",
            case.seq_len, config.max_position_embeddings
        ));
    }
    if config.vocab_size <= 102 {
        return invalid(format!(
            "a vocabulary of {} has no [CLS] (101) and [SEP] (102)",
            config.vocab_size
        ));
    }
    Ok(())
}

/// Times forward passes of a random classifier (no dropout, no gradients).
///
/// # Errors
/// As [`measure`].
pub fn measure_inference<B: Backend>(
    config: &BertConfig,
    case: ThroughputCase,
    device: &B::Device,
) -> Result<ThroughputMeasurement> {
    check_case(config, case)?;
    let model: BertClassifier<B> =
        random_classifier(config, NUM_LABELS, 0, device).with_precision(case.precision);
    let (input, _) = random_batch::<B>(case.batch, case.seq_len, config.vocab_size, 1, device);
    let run = || {
        forward_in_slices(&model, input.clone(), case.slices).into_data();
    };
    run();
    let start = Instant::now();
    for _ in 0..case.steps {
        run();
    }
    Ok(measurement(case, start.elapsed().as_secs_f64()))
}

/// Times training updates of a random classifier: gradients with dropout, then AdamW (paper
/// settings, clipping at 1.0) at a fixed learning rate.
///
/// # Errors
/// As [`measure`].
pub fn measure_training<AB: AutodiffBackend>(
    config: &BertConfig,
    case: ThroughputCase,
    device: &AB::Device,
) -> Result<ThroughputMeasurement> {
    check_case(config, case)?;
    let (input, labels) =
        random_batch::<AB>(case.batch, case.seq_len, config.vocab_size, 1, device);
    let seconds = time_updates::<AB>(
        config,
        case.slices,
        case.precision,
        case.steps,
        device,
        |_| (input.clone(), labels.clone()),
    )?;
    Ok(measurement(case, seconds))
}

/// Updates a random classifier of shape `config` as `lmc finetune` does (gradients with dropout
/// in `slices` row slices, then AdamW with the paper's settings, the same for every task, at a
/// fixed learning rate, matrix products in `precision`, dropout masks where the backend draws
/// them fastest): once untimed on `batch(0)`, then `steps` times on `batch(1)` …
/// `batch(steps)`, update `i` with dropout seed `i`. Returns the seconds of the timed updates,
/// counted until the device has finished them.
fn time_updates<AB: AutodiffBackend>(
    config: &BertConfig,
    slices: usize,
    precision: Precision,
    steps: usize,
    device: &AB::Device,
    mut batch: impl FnMut(usize) -> (BertInput<AB>, Tensor<AB, 1, Int>),
) -> Result<f64> {
    let mut model: BertClassifier<AB> =
        random_classifier(config, NUM_LABELS, 0, device).with_precision(precision);
    let masks = default_dropout_masks::<AB::InnerBackend>(device);
    let mut optimizer = AdamW::<AB::InnerBackend>::new(Recipe::paper(TaskName::Mnli).adamw());
    let mut update = |model: BertClassifier<AB>, index: usize| {
        let (input, labels) = batch(index);
        let BatchGradients { gradients, .. } =
            batch_gradients(&model, input, labels, slices, index as u64, masks);
        optimizer.step(model, gradients, 2e-5).0
    };
    model = update(model, 0);
    let start = Instant::now();
    for index in 1..=steps {
        model = update(model, index);
    }
    // Asynchronous backends (CUDA) may still be computing the last update.
    AB::sync(device).map_err(|error| TrainError::Device(format!("{error:?}")))?;
    let seconds = start.elapsed().as_secs_f64();
    drop(model);
    Ok(seconds)
}

/// The time on-device interpolation of two models took, as `lmc sweep` forms θ(α) with
/// [`lerp_modules`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LerpMeasurement {
    /// Float parameters of each model.
    pub parameters: usize,
    /// Interpolated models timed, after one untimed warm-up.
    pub steps: usize,
    /// Wall time of the timed interpolations, until the device finished them.
    pub seconds: f64,
    /// Bytes read and written per second: 12 per parameter (two f32 inputs, one f32 output).
    pub bytes_per_s: f64,
}

/// Times `steps` interpolations `(1 − α)·a + α·b` of two random classifiers of shape `config`
/// on `device`, at α = 0.1, 0.2, … (never an endpoint, which would be a copy), after one
/// untimed warm-up. Every result is kept until the device has finished, so that a lazy backend
/// cannot skip one.
///
/// # Errors
/// [`TrainError::InvalidRecipe`] for no steps; [`TrainError::Device`] if the device fails.
pub fn measure_lerp<B: Backend>(
    config: &BertConfig,
    steps: usize,
    device: &B::Device,
) -> Result<LerpMeasurement> {
    if steps == 0 {
        return Err(TrainError::InvalidRecipe("steps must be at least 1".into()));
    }
    let a: BertClassifier<B> = random_classifier(config, NUM_LABELS, 0, device);
    let b: BertClassifier<B> = random_classifier(config, NUM_LABELS, 1, device);
    let sync = || B::sync(device).map_err(|error| TrainError::Device(format!("{error:?}")));
    let lerp = |alpha: f64| {
        lerp_modules(a.clone(), &b, alpha)
            .expect("two classifiers of one configuration have the same parameters")
    };
    let warm_up = lerp(0.5);
    sync()?;
    drop(warm_up);
    let start = Instant::now();
    let kept: Vec<BertClassifier<B>> = (0..steps)
        .map(|i| lerp(0.1 + 0.8 * i as f64 / steps as f64))
        .collect();
    sync()?;
    let seconds = start.elapsed().as_secs_f64();
    drop(kept);
    let parameters = a.num_params();
    Ok(LerpMeasurement {
        parameters,
        steps,
        seconds,
        bytes_per_s: (12 * parameters * steps) as f64 / seconds,
    })
}

/// The time training updates on a list of real batches took.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BatchesMeasurement {
    /// Batches timed (one update each).
    pub batches: usize,
    /// Examples in them.
    pub examples: usize,
    /// Tokens of the examples, without padding.
    pub tokens: usize,
    /// Tokens computed: each batch's rows × its longest example.
    pub padded_tokens: usize,
    /// Row slices per batch, computed on parallel threads.
    pub slices: usize,
    /// Wall time of the timed updates.
    pub seconds: f64,
    /// `examples / seconds`.
    pub examples_per_s: f64,
}

/// Times one training update per batch of `batches` (gradients with dropout in `slices` row
/// slices, then AdamW with the paper's settings), after an untimed warm-up update on the first
/// batch, on a random classifier of shape `config` with 3 labels.
///
/// # Errors
/// [`TrainError::InvalidRecipe`] if there are no batches, no slices, a label of 3 or more, or a
/// batch longer than the config has positions; [`TrainError::Device`] if the device fails.
pub fn measure_training_on_batches<AB: AutodiffBackend>(
    config: &BertConfig,
    batches: &[PaddedBatch],
    slices: usize,
    device: &AB::Device,
) -> Result<BatchesMeasurement> {
    let invalid = |message: String| Err(TrainError::InvalidRecipe(message));
    if batches.is_empty() {
        return invalid("no batches to time".into());
    }
    if slices == 0 {
        return invalid("slices must be at least 1".into());
    }
    if let Some(batch) = batches
        .iter()
        .find(|b| b.seq_len > config.max_position_embeddings)
    {
        return invalid(format!(
            "a batch of {} tokens per row: the model takes at most {}",
            batch.seq_len, config.max_position_embeddings
        ));
    }
    if let Some(label) = batches
        .iter()
        .flat_map(|b| &b.labels)
        .find(|&&l| !(0..NUM_LABELS as i64).contains(&l))
    {
        return invalid(format!(
            "label {label}: the timed classifier has {NUM_LABELS} labels"
        ));
    }
    let seconds = time_updates::<AB>(
        config,
        slices,
        Precision::F32,
        batches.len(),
        device,
        |index| model_input(batches[index.saturating_sub(1)].to_tensors::<AB>(device)),
    )?;
    let examples = batches.iter().map(|b| b.batch_size).sum();
    Ok(BatchesMeasurement {
        batches: batches.len(),
        examples,
        tokens: batches
            .iter()
            .map(|b| b.attention_mask.iter().filter(|&&m| m == 1).count())
            .sum(),
        padded_tokens: batches.iter().map(|b| b.batch_size * b.seq_len).sum(),
        slices,
        seconds,
        examples_per_s: examples as f64 / seconds,
    })
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, Flex};

    use super::*;

    #[test]
    fn every_case_runs_and_counts_examples_per_second() {
        let config = BertConfig {
            max_position_embeddings: 16,
            ..BertConfig::sized(200, 16, 1, 2, 32)
        };
        for mode in [ThroughputMode::Inference, ThroughputMode::Train] {
            let case = ThroughputCase {
                mode,
                batch: 4,
                seq_len: 8,
                steps: 2,
                slices: 2,
                precision: Precision::F32,
            };
            let measured = measure::<Autodiff<Flex>>(&config, case, &Default::default()).unwrap();
            assert_eq!(measured.case, case);
            assert!(measured.seconds > 0.0);
            let expected = 8.0 / measured.seconds;
            assert!((measured.examples_per_s - expected).abs() <= 1e-9 * expected);
        }
    }

    #[test]
    fn real_batches_are_timed_one_update_each_and_counted() {
        let config = BertConfig {
            max_position_embeddings: 16,
            ..BertConfig::sized(200, 16, 1, 2, 32)
        };
        let dataset = lmc_data::TokenizedDataset {
            name: "tiny".to_owned(),
            num_labels: 2,
            examples: [3_usize, 7, 5, 2, 6]
                .iter()
                .enumerate()
                .map(|(i, &len)| lmc_data::TokenizedExample {
                    source_index: i,
                    label: i % 2,
                    input_ids: (0..len as u32).map(|t| 101 + t % 90).collect(),
                    token_type_ids: vec![0; len],
                })
                .collect(),
        };
        let batches = vec![
            PaddedBatch::new(&dataset, &[0, 1]).unwrap(),
            PaddedBatch::new(&dataset, &[2, 3, 4]).unwrap(),
        ];
        let measured = measure_training_on_batches::<Autodiff<Flex>>(
            &config,
            &batches,
            2,
            &Default::default(),
        )
        .unwrap();
        assert_eq!((measured.batches, measured.examples), (2, 5));
        assert_eq!(measured.tokens, 3 + 7 + 5 + 2 + 6);
        assert_eq!(measured.padded_tokens, 2 * 7 + 3 * 6);
        assert!(
            (measured.examples_per_s - 5.0 / measured.seconds).abs()
                <= 1e-9 * measured.examples_per_s
        );
        let error =
            measure_training_on_batches::<Autodiff<Flex>>(&config, &[], 2, &Default::default())
                .unwrap_err();
        assert!(error.to_string().contains("no batches"), "{error}");
    }

    #[test]
    fn interpolations_are_timed_and_counted_in_bytes() {
        let config = BertConfig::sized(200, 16, 1, 2, 32);
        let measured = measure_lerp::<Flex>(&config, 3, &Default::default()).unwrap();
        let parameters =
            random_classifier::<Flex>(&config, NUM_LABELS, 0, &Default::default()).num_params();
        assert_eq!(measured.parameters, parameters);
        assert_eq!(measured.steps, 3);
        let expected = (12 * parameters * 3) as f64 / measured.seconds;
        assert!((measured.bytes_per_s - expected).abs() <= 1e-9 * expected);
        assert!(measure_lerp::<Flex>(&config, 0, &Default::default()).is_err());
    }

    #[test]
    fn cases_the_model_cannot_run_are_errors() {
        let config = BertConfig {
            max_position_embeddings: 16,
            ..BertConfig::sized(200, 16, 1, 2, 32)
        };
        let case = ThroughputCase {
            mode: ThroughputMode::Inference,
            batch: 2,
            seq_len: 17,
            steps: 1,
            slices: 1,
            precision: Precision::F32,
        };
        let error = measure::<Autodiff<Flex>>(&config, case, &Default::default()).unwrap_err();
        assert!(error.to_string().contains("1 to 16"), "{error}");
        let small = BertConfig {
            vocab_size: 100,
            ..config
        };
        let case = ThroughputCase { seq_len: 8, ..case };
        let error = measure::<Autodiff<Flex>>(&small, case, &Default::default()).unwrap_err();
        assert!(error.to_string().contains("[SEP]"), "{error}");
    }

    #[test]
    fn random_batches_stay_inside_the_vocabulary() {
        let (input, labels) = random_batch::<Flex>(5, 6, 200, 3, &Default::default());
        let ids = input
            .input_ids
            .into_data()
            .convert::<i64>()
            .into_vec::<i64>()
            .unwrap();
        assert!(ids.iter().all(|&id| (0..200).contains(&id)), "{ids:?}");
        assert!(
            ids.chunks(6).all(|row| row[0] == 101 && row[5] == 102),
            "{ids:?}"
        );
        let labels = labels
            .into_data()
            .convert::<i64>()
            .into_vec::<i64>()
            .unwrap();
        assert_eq!(labels, vec![0, 1, 2, 0, 1]);
    }
}
