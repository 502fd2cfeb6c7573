//! Task metrics, computed on the host from logits and label ids.
//!
//! Conventions (all metrics refuse empty inputs and inputs of different lengths):
//! - **accuracy**: fraction of predictions equal to the label.
//! - **F1 of a positive class** `c`: `2·TP / (2·TP + FP + FN)`, the harmonic mean of precision and
//!   recall. When there are no positives at all (no example labelled `c` and none predicted `c`)
//!   the ratio is 0/0 and the F1 is defined as **0** (scikit-learn's `zero_division=0`); with no
//!   true positives but some false ones it is 0 by the formula.
//! - **Matthews correlation**: the multi-class form of scikit-learn's `matthews_corrcoef`
//!   (Gorodkin's R_K), equal to the usual φ coefficient for two classes; **0** when its denominator
//!   is 0 (all labels, or all predictions, of one class).
//! - **cross-entropy**: `logsumexp(logits) − logits[label]` per example, with the maximum
//!   subtracted before exponentiating (numerically stable log-softmax), computed in f64.
//! - **prediction**: the arg-max of the logits; ties go to the lowest class index (as NumPy and
//!   PyTorch do).

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};

/// A row-major matrix of logits, one row per example.
#[derive(Debug, Clone, PartialEq)]
pub struct Logits {
    num_classes: usize,
    values: Vec<f32>,
}

impl Logits {
    /// Wraps row-major `values` with `num_classes` columns.
    pub fn new(values: Vec<f32>, num_classes: usize) -> Result<Self> {
        if num_classes == 0 || !values.len().is_multiple_of(num_classes) {
            return Err(DataError::InvalidInput(format!(
                "{} logit values do not form rows of {num_classes} classes",
                values.len()
            )));
        }
        Ok(Logits {
            num_classes,
            values,
        })
    }

    /// Builds logits from equally long rows.
    pub fn from_rows<R: AsRef<[f32]>>(rows: &[R]) -> Result<Self> {
        let num_classes = rows.first().map_or(0, |row| row.as_ref().len());
        if rows.iter().any(|row| row.as_ref().len() != num_classes) {
            return Err(DataError::InvalidInput(
                "logit rows have different lengths".to_owned(),
            ));
        }
        let values = rows
            .iter()
            .flat_map(|row| row.as_ref().iter().copied())
            .collect();
        Logits::new(values, num_classes)
    }

    /// Copies a `[examples, classes]` float tensor to the host.
    pub fn from_tensor<B: Backend>(tensor: Tensor<B, 2>) -> Result<Self> {
        let [_, num_classes] = tensor.dims();
        let values = tensor
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .map_err(|error| DataError::InvalidInput(format!("reading logits: {error:?}")))?;
        Logits::new(values, num_classes)
    }

    /// Number of classes (columns).
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Number of examples (rows).
    pub fn num_examples(&self) -> usize {
        self.values.len() / self.num_classes
    }

    /// The logits of example `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.num_classes..(i + 1) * self.num_classes]
    }

    /// The rows, in order.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, f32> {
        self.values.chunks_exact(self.num_classes)
    }

    /// All values, row-major.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The arg-max class of each row (ties: lowest index).
    pub fn predictions(&self) -> Vec<usize> {
        self.rows()
            .map(|row| {
                let mut best = 0;
                for (class, &value) in row.iter().enumerate().skip(1) {
                    if value > row[best] {
                        best = class;
                    }
                }
                best
            })
            .collect()
    }
}

/// The metric a task is scored with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskMetric {
    /// Fraction correct.
    Accuracy,
    /// F1 of one class (QQP/PAWS: class 1, "duplicate").
    F1 {
        /// The class treated as positive.
        positive_class: usize,
    },
    /// Matthews correlation coefficient (CoLA).
    MatthewsCorrelation,
}

impl TaskMetric {
    /// Short name for tables: `accuracy`, `f1`, `mcc`.
    pub fn name(self) -> &'static str {
        match self {
            TaskMetric::Accuracy => "accuracy",
            TaskMetric::F1 { .. } => "f1",
            TaskMetric::MatthewsCorrelation => "mcc",
        }
    }

    /// The metric's value for these predictions.
    pub fn compute(self, predictions: &[usize], labels: &[usize]) -> Result<f64> {
        match self {
            TaskMetric::Accuracy => accuracy(predictions, labels),
            TaskMetric::F1 { positive_class } => f1_score(predictions, labels, positive_class),
            TaskMetric::MatthewsCorrelation => matthews_correlation(predictions, labels),
        }
    }
}

fn check_lengths(what: &str, found: usize, labels: usize) -> Result<()> {
    if labels == 0 {
        return Err(DataError::InvalidInput(
            "a metric of zero examples is undefined".to_owned(),
        ));
    }
    if found != labels {
        return Err(DataError::InvalidInput(format!(
            "{found} {what} for {labels} labels"
        )));
    }
    Ok(())
}

/// Fraction of `predictions` equal to `labels`.
pub fn accuracy(predictions: &[usize], labels: &[usize]) -> Result<f64> {
    check_lengths("predictions", predictions.len(), labels.len())?;
    let correct = predictions
        .iter()
        .zip(labels)
        .filter(|(prediction, label)| prediction == label)
        .count();
    Ok(correct as f64 / labels.len() as f64)
}

/// F1 of `positive_class` (module documentation: 0 when there are no positives at all).
pub fn f1_score(predictions: &[usize], labels: &[usize], positive_class: usize) -> Result<f64> {
    check_lengths("predictions", predictions.len(), labels.len())?;
    let (mut true_positives, mut false_positives, mut false_negatives) = (0_u64, 0_u64, 0_u64);
    for (&prediction, &label) in predictions.iter().zip(labels) {
        match (prediction == positive_class, label == positive_class) {
            (true, true) => true_positives += 1,
            (true, false) => false_positives += 1,
            (false, true) => false_negatives += 1,
            (false, false) => {}
        }
    }
    let denominator = 2 * true_positives + false_positives + false_negatives;
    if denominator == 0 {
        return Ok(0.0);
    }
    Ok(2.0 * true_positives as f64 / denominator as f64)
}

/// Matthews correlation coefficient, multi-class form (module documentation: 0 when undefined).
pub fn matthews_correlation(predictions: &[usize], labels: &[usize]) -> Result<f64> {
    check_lengths("predictions", predictions.len(), labels.len())?;
    let classes = predictions
        .iter()
        .chain(labels)
        .max()
        .map_or(0, |max| max + 1);
    let mut true_counts = vec![0_f64; classes];
    let mut predicted_counts = vec![0_f64; classes];
    let mut correct = 0_f64;
    for (&prediction, &label) in predictions.iter().zip(labels) {
        true_counts[label] += 1.0;
        predicted_counts[prediction] += 1.0;
        if prediction == label {
            correct += 1.0;
        }
    }
    let samples = labels.len() as f64;
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let covariance_true_predicted = correct * samples - dot(&true_counts, &predicted_counts);
    let covariance_predicted = samples * samples - dot(&predicted_counts, &predicted_counts);
    let covariance_true = samples * samples - dot(&true_counts, &true_counts);
    let denominator = (covariance_predicted * covariance_true).sqrt();
    if denominator == 0.0 {
        return Ok(0.0);
    }
    Ok(covariance_true_predicted / denominator)
}

/// Cross-entropy of each example: `logsumexp(row) − row[label]`, stable, in f64.
pub fn cross_entropy_per_example(logits: &Logits, labels: &[usize]) -> Result<Vec<f64>> {
    check_lengths("logit rows", logits.num_examples(), labels.len())?;
    logits
        .rows()
        .zip(labels)
        .map(|(row, &label)| {
            let target = row.get(label).ok_or_else(|| {
                DataError::InvalidInput(format!(
                    "label {label} is out of range for {} classes",
                    row.len()
                ))
            })?;
            let max = row
                .iter()
                .map(|&value| f64::from(value))
                .fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = row
                .iter()
                .map(|&value| (f64::from(value) - max).exp())
                .sum();
            Ok(max + sum.ln() - f64::from(*target))
        })
        .collect()
}

/// Mean cross-entropy over the examples.
pub fn mean_cross_entropy(logits: &Logits, labels: &[usize]) -> Result<f64> {
    let losses = cross_entropy_per_example(logits, labels)?;
    Ok(losses.iter().sum::<f64>() / losses.len() as f64)
}

/// Per-example and aggregated results of scoring logits against labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Arg-max prediction of each example.
    pub predictions: Vec<usize>,
    /// Cross-entropy of each example.
    pub losses: Vec<f64>,
    /// Mean of `losses`.
    pub mean_loss: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// The task metric used.
    pub metric: TaskMetric,
    /// Its value.
    pub metric_value: f64,
}

/// Scores `logits` against `labels` with the loss, accuracy and `metric`.
pub fn evaluate(logits: &Logits, labels: &[usize], metric: TaskMetric) -> Result<Evaluation> {
    let losses = cross_entropy_per_example(logits, labels)?;
    let predictions = logits.predictions();
    let mean_loss = losses.iter().sum::<f64>() / losses.len() as f64;
    Ok(Evaluation {
        accuracy: accuracy(&predictions, labels)?,
        metric_value: metric.compute(&predictions, labels)?,
        metric,
        mean_loss,
        losses,
        predictions,
    })
}
