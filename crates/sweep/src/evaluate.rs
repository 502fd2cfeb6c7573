//! One model on one prepared set: per-example logits and loss, aggregate metrics, calibration and
//! HANS cells.

use burn::tensor::backend::Backend;
use lmc_bert::{BertClassifier, BertInput, default_batch_slices, forward_in_slices};
use lmc_data::{Evaluation, Logits, evaluate as score};
use serde::Serialize;

use crate::error::{Result, SweepError};
use crate::sets::EvalSet;

/// Number of equal-width confidence bins of the expected calibration error.
pub const ECE_BINS: usize = 10;

/// The result of evaluating a model on a set, in dataset order.
#[derive(Debug, Clone)]
pub struct SetEvaluation {
    /// The set's name in result tables.
    pub set: String,
    /// Logits after the set's label mapping (MNLI → HANS collapse), one row per example.
    pub logits: Logits,
    /// Predictions, per-example losses, mean loss, accuracy and the task metric.
    pub scores: Evaluation,
    /// Expected calibration error ([`ECE_BINS`] bins).
    pub ece: f64,
}

/// Evaluates `model` on `set` (forward passes in the set's length-bucketed batches, outputs put
/// back in dataset order; each batch in [`lmc_bert::default_batch_slices`] parallel row slices),
/// without dropout.
///
/// # Errors
/// A model whose outputs do not fit the set's labels, naming the set.
pub fn evaluate<B: Backend>(
    model: &BertClassifier<B>,
    set: &EvalSet,
    device: &B::Device,
) -> Result<SetEvaluation> {
    evaluate_with_progress(model, set, device, &mut |_, _| {})
}

/// [`evaluate`], calling `progress(examples done, examples)` after each batch.
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_with_progress<B: Backend>(
    model: &BertClassifier<B>,
    set: &EvalSet,
    device: &B::Device,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SetEvaluation> {
    let context = format!("evaluating on `{}` ({})", set.label, set.dataset.name);
    let mut in_batch_order = Vec::with_capacity(set.len() * set.num_classes());
    let mut width = 0;
    let slices = default_batch_slices::<B>(device);
    for batch in set.plan.tensors::<B>(&set.tokenized, device) {
        let batch = batch.map_err(SweepError::data(&context))?;
        let input = BertInput {
            input_ids: batch.input_ids,
            token_type_ids: batch.token_type_ids,
            attention_mask: batch.attention_mask,
        };
        let logits = forward_in_slices(model, input, slices);
        let logits = set
            .mapping
            .apply_tensor(logits)
            .map_err(SweepError::data(&context))?;
        let host = Logits::from_tensor(logits).map_err(SweepError::data(&context))?;
        width = host.num_classes();
        in_batch_order.extend_from_slice(host.values());
        progress(in_batch_order.len() / width.max(1), set.len());
    }
    if width != set.num_classes() {
        return Err(SweepError::Invalid(format!(
            "{context}: the model gives {width} scores per example, the set has {} labels",
            set.num_classes()
        )));
    }
    let values = set
        .plan
        .restore_rows(&in_batch_order, width)
        .map_err(SweepError::data(&context))?;
    let logits = Logits::new(values, width).map_err(SweepError::data(&context))?;
    let scores = score(&logits, &set.labels, set.metric).map_err(SweepError::data(&context))?;
    let ece = expected_calibration_error(&logits, &set.labels, ECE_BINS);
    Ok(SetEvaluation {
        set: set.label.clone(),
        logits,
        scores,
        ece,
    })
}

/// Expected calibration error: examples binned by confidence (the largest softmax probability)
/// into `bins` equal-width bins of [0, 1]; the mean over examples of |accuracy − confidence| of
/// their bin, i.e. Σ_b (n_b / n)·|acc_b − conf_b|.
pub fn expected_calibration_error(logits: &Logits, labels: &[usize], bins: usize) -> f64 {
    let mut count = vec![0usize; bins];
    let mut correct = vec![0usize; bins];
    let mut confidence = vec![0.0f64; bins];
    for (row, &label) in logits.rows().zip(labels) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let total: f64 = row.iter().map(|&v| f64::from(v - max).exp()).sum();
        let (best, _) = row
            .iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
                if v > bv { (i, v) } else { (bi, bv) }
            });
        let p = 1.0 / total;
        let bin = ((p * bins as f64) as usize).min(bins - 1);
        count[bin] += 1;
        correct[bin] += usize::from(best == label);
        confidence[bin] += p;
    }
    let n: usize = count.iter().sum();
    if n == 0 {
        return 0.0;
    }
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| {
            let size = count[b] as f64;
            (correct[b] as f64 / size - confidence[b] / size).abs() * size / n as f64
        })
        .sum()
}

/// Accuracy of one HANS cell (heuristic × gold label).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HansCell {
    /// `lexical_overlap`, `subsequence` or `constituent`.
    pub heuristic: String,
    /// `entailment` or `non-entailment`.
    pub label: String,
    /// Accuracy on the cell.
    pub accuracy: f64,
    /// Examples in the cell.
    pub n_examples: usize,
}

/// Accuracy per HANS cell (3 heuristics × 2 labels, in lmc-analysis's report order) of an
/// evaluation of a HANS set; `None` if the set has no HANS metadata. Cells without examples
/// are left out.
pub fn hans_cells(set: &EvalSet, evaluation: &SetEvaluation) -> Option<Vec<HansCell>> {
    use lmc_analysis::schema::{HANS_HEURISTICS, HANS_LABELS};
    let examples = &set.dataset.examples;
    if examples.iter().any(|e| e.hans.is_none()) {
        return None;
    }
    let mut cells = Vec::new();
    for heuristic in HANS_HEURISTICS {
        for label in HANS_LABELS {
            let mut n = 0usize;
            let mut right = 0usize;
            for (example, &prediction) in examples.iter().zip(&evaluation.scores.predictions) {
                let meta = example.hans.as_ref().expect("checked above");
                if meta.heuristic.as_str() == heuristic
                    && set.dataset.label_names[example.label] == label
                {
                    n += 1;
                    right += usize::from(prediction == example.label);
                }
            }
            if n > 0 {
                cells.push(HansCell {
                    heuristic: heuristic.to_owned(),
                    label: label.to_owned(),
                    accuracy: right as f64 / n as f64,
                    n_examples: n,
                });
            }
        }
    }
    Some(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_error_of_confident_right_and_wrong_predictions() {
        let logits = Logits::from_rows(&[[10.0f32, -10.0], [10.0, -10.0]]).unwrap();
        assert!(expected_calibration_error(&logits, &[0, 0], 10) < 1e-6);
        assert!((expected_calibration_error(&logits, &[0, 1], 10) - 0.5).abs() < 1e-6);
        let uniform = Logits::from_rows(&[[0.0f32, 0.0], [0.0, 0.0]]).unwrap();
        // Confidence 0.5 in one bin, accuracy 0.5: calibrated.
        assert!(expected_calibration_error(&uniform, &[0, 1], 10) < 1e-9);
    }
}
