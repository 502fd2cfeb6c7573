//! The training recipe: every hyper-parameter of a fine-tuning run, with the paper's values as
//! the default (see `shared/docs/paper-method.md`, "Fine-tuning").

use std::path::Path;

use lmc_bert::{DropoutMasks, Precision};
use lmc_data::TaskName;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::optim::AdamWSettings;

/// Hyper-parameters of one fine-tuning run. TOML files override any subset of the fields
/// ([`Recipe::with_toml_file`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Share of the updates spent warming up linearly from 0.
    pub warmup_ratio: f64,
    /// Decoupled weight decay (not applied to biases and LayerNorm parameters).
    pub weight_decay: f64,
    /// Adam β₁.
    pub beta1: f64,
    /// Adam β₂.
    pub beta2: f64,
    /// Adam ε.
    pub epsilon: f64,
    /// Examples per update.
    pub batch_size: usize,
    /// Longest tokenized pair; longer pairs are truncated.
    pub max_length: usize,
    /// Dropout of hidden states and attention probabilities; `None` keeps the checkpoint's.
    pub dropout: Option<f64>,
    /// Largest global gradient norm; `None` disables clipping.
    pub max_grad_norm: Option<f64>,
    /// Passes over the training set.
    pub epochs: u32,
    /// Stop after this many updates (the schedule is laid out over them); `None`: all epochs.
    pub max_steps: Option<u64>,
    /// Train on this many examples (a fixed shuffle of the train set, the same for every seed);
    /// `None`: all of them.
    pub train_examples: Option<usize>,
    /// Updates after which a checkpoint is kept in `checkpoints/step-<N>/` (training dynamics).
    pub save_steps: Vec<u64>,
    /// Updates between resume checkpoints (model, optimizer, position).
    pub resume_every: u64,
    /// Row slices each batch is split into, each computed on its own thread (see
    /// [`lmc_bert::batch_gradients`]). The weights depend on it through dropout streams and float
    /// rounding, so it is part of the recipe and does not follow the machine's core count.
    #[serde(default = "default_batch_slices")]
    pub batch_slices: usize,
    /// Batch examples of similar length together ([`lmc_data::BatchOrder::LengthGrouped`]): each
    /// epoch's shuffle is sorted by length within windows of this many batches (`transformers`'
    /// `group_by_length` uses 50). Less padding, so faster updates; `None`: a plain shuffle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_grouping_window: Option<usize>,
    /// How the model's matrix products compute (f32, tf32 or bf16 mixed precision). Left out of
    /// `run.json` when f32, so runs from before the option keep their hashes.
    #[serde(default, skip_serializing_if = "is_f32")]
    pub precision: Precision,
    /// Where dropout masks are drawn: on the host (the same masks on every backend) or on the
    /// device (fast on a GPU). Left out of `run.json` when host, as for `precision`.
    #[serde(default, skip_serializing_if = "is_host")]
    pub dropout_masks: DropoutMasks,
}

fn is_f32(precision: &Precision) -> bool {
    *precision == Precision::F32
}

fn is_host(masks: &DropoutMasks) -> bool {
    *masks == DropoutMasks::Host
}

fn default_batch_slices() -> usize {
    2
}

/// Seed of the shuffle that picks `train_examples` (independent of the run's seeds, so that every
/// seed of a population trains on the same examples).
pub const TRAIN_SUBSET_SEED: u64 = 2023;

impl Recipe {
    /// The paper's recipe for `task`: AdamW (0.9, 0.999, ε 1e-6, decay 0.01), lr 2e-5 with 10 %
    /// warm-up and linear decay, batch 32, length 128, dropout 0.1, clipping at 1.0; 3 epochs for
    /// MNLI and QQP, 6 for CoLA (and RTE).
    pub fn paper(task: TaskName) -> Self {
        Recipe {
            learning_rate: 2e-5,
            warmup_ratio: 0.1,
            weight_decay: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-6,
            batch_size: 32,
            max_length: 128,
            dropout: Some(0.1),
            max_grad_norm: Some(1.0),
            epochs: match task {
                TaskName::Mnli | TaskName::Qqp => 3,
                TaskName::Cola | TaskName::Rte => 6,
            },
            max_steps: None,
            train_examples: None,
            save_steps: Vec::new(),
            resume_every: 200,
            batch_slices: default_batch_slices(),
            length_grouping_window: None,
            precision: Precision::F32,
            dropout_masks: DropoutMasks::Host,
        }
    }

    /// This recipe with the fields present in a TOML file replacing its values.
    pub fn with_toml_file(self, path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(TrainError::io(path))?;
        self.with_toml_str(&text)
            .map_err(|message| TrainError::Corrupt {
                path: path.to_path_buf(),
                message,
            })
    }

    fn with_toml_str(self, text: &str) -> std::result::Result<Self, String> {
        let overrides: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut merged = toml::Table::try_from(self).map_err(|e| e.to_string())?;
        for (key, value) in overrides {
            merged.insert(key, value);
        }
        merged.try_into::<Recipe>().map_err(|e| e.to_string())
    }

    /// The optimizer settings of this recipe.
    pub fn adamw(&self) -> AdamWSettings {
        AdamWSettings {
            beta1: self.beta1,
            beta2: self.beta2,
            epsilon: self.epsilon,
            weight_decay: self.weight_decay,
            max_grad_norm: self.max_grad_norm,
        }
    }

    /// Checks ranges; the message names the field.
    pub fn validate(&self) -> Result<()> {
        let fail = |message: String| Err(TrainError::InvalidRecipe(message));
        if !(self.learning_rate.is_finite() && self.learning_rate >= 0.0) {
            return fail(format!(
                "learning_rate {} must be finite and non-negative",
                self.learning_rate
            ));
        }
        if !(0.0..=1.0).contains(&self.warmup_ratio) {
            return fail(format!(
                "warmup_ratio {} must lie in [0, 1]",
                self.warmup_ratio
            ));
        }
        if !(0.0..1.0).contains(&self.beta1) || !(0.0..1.0).contains(&self.beta2) {
            return fail(format!(
                "beta1 {} and beta2 {} must lie in [0, 1)",
                self.beta1, self.beta2
            ));
        }
        if self.epsilon <= 0.0 {
            return fail(format!("epsilon {} must be positive", self.epsilon));
        }
        if self.batch_size == 0 || self.max_length < 3 {
            return fail(format!(
                "batch_size {} must be positive and max_length {} at least 3",
                self.batch_size, self.max_length
            ));
        }
        if self.batch_slices == 0 {
            return fail("batch_slices must be at least 1".into());
        }
        if let Some(dropout) = self.dropout
            && !(0.0..1.0).contains(&dropout)
        {
            return fail(format!("dropout {dropout} must lie in [0, 1)"));
        }
        if self.max_grad_norm.is_some_and(|norm| norm <= 0.0) {
            return fail(
                "max_grad_norm must be positive (leave it out to disable clipping)".into(),
            );
        }
        if self.epochs == 0 && self.max_steps.is_none() {
            return fail("epochs must be positive".into());
        }
        if self.length_grouping_window == Some(0) {
            return fail("length_grouping_window must be at least 1 batch".into());
        }
        if self.resume_every == 0 {
            return fail("resume_every must be positive".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_recipe_has_the_papers_epochs() {
        assert_eq!(Recipe::paper(TaskName::Mnli).epochs, 3);
        assert_eq!(Recipe::paper(TaskName::Cola).epochs, 6);
        Recipe::paper(TaskName::Qqp).validate().unwrap();
    }

    #[test]
    fn toml_overrides_only_the_fields_it_names() {
        let recipe = Recipe::paper(TaskName::Cola)
            .with_toml_str("learning_rate = 5e-5\nsave_steps = [10, 20]\n")
            .unwrap();
        assert_eq!(recipe.learning_rate, 5e-5);
        assert_eq!(recipe.save_steps, vec![10, 20]);
        assert_eq!(recipe.epochs, 6);
    }

    #[test]
    fn unknown_toml_keys_are_rejected_by_name() {
        let error = Recipe::paper(TaskName::Cola)
            .with_toml_str("learning_rat = 5e-5\n")
            .unwrap_err();
        assert!(error.contains("learning_rat"), "{error}");
    }

    #[test]
    fn out_of_range_values_name_the_field() {
        let mut recipe = Recipe::paper(TaskName::Cola);
        recipe.warmup_ratio = 1.5;
        assert!(
            recipe
                .validate()
                .unwrap_err()
                .to_string()
                .contains("warmup_ratio")
        );
    }
}
