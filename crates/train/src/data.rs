//! The training examples of a task, tokenized once and shared by every run of a population.

use std::path::Path;

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};
use lmc_bert::BertInput;
use lmc_data::{
    Batch, DataDirSearch, DataMode, PairTokenizer, Subset, TaskName, TaskSpec, TokenizedDataset,
};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::recipe::{Recipe, TRAIN_SUBSET_SEED};

/// What identifies a training set: part of a run's configuration hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataIdentity {
    /// The task.
    pub task: TaskName,
    /// Official files or the offline split of a stand-in file.
    pub mode: DataMode,
    /// The train file, relative to its data directory.
    pub train_file: String,
    /// SHA-256 of the train file.
    pub train_sha256: String,
    /// Examples trained on.
    pub examples: usize,
    /// `Some(n)`: the first n of a fixed shuffle (seed [`TRAIN_SUBSET_SEED`]).
    pub subset: Option<usize>,
    /// The tokenizer's fingerprint.
    pub tokenizer: String,
    /// Longest tokenized pair.
    pub max_length: usize,
}

/// Tokenized training examples and the task's label names.
#[derive(Debug, Clone)]
pub struct TrainingSet {
    /// The examples, tokenized.
    pub examples: TokenizedDataset,
    /// Label names in logit order (written to the models' `config.json`).
    pub labels: Vec<String>,
    /// What identifies this set.
    pub identity: DataIdentity,
}

impl TrainingSet {
    /// Locates `task`'s train set through `search`, takes `recipe.train_examples` of it and
    /// tokenizes it with the tokenizer of the checkpoint in `model_dir`.
    pub fn prepare(
        task: TaskName,
        search: &DataDirSearch,
        model_dir: &Path,
        recipe: &Recipe,
    ) -> Result<Self> {
        let spec = TaskSpec::builtin(task);
        let files = spec.locate(search)?;
        let full = files.load_train()?;
        let dataset = match recipe.train_examples {
            Some(count) => full.subset(Subset::ShuffledFirst {
                seed: TRAIN_SUBSET_SEED,
                count,
            })?,
            None => full,
        };
        if dataset.is_empty() {
            return Err(TrainError::InvalidRecipe(format!(
                "{}: no training examples",
                files.train.path.display()
            )));
        }
        let tokenizer = PairTokenizer::from_model_dir(model_dir, recipe.max_length)?;
        let examples = tokenizer.encode_dataset(&dataset)?;
        let train_sha256 = lmc_bert::pretrained::sha256_file(&files.train.path)?;
        Ok(TrainingSet {
            identity: DataIdentity {
                task,
                mode: files.mode,
                train_file: files.train.relative.clone(),
                train_sha256,
                examples: examples.len(),
                subset: recipe.train_examples,
                tokenizer: tokenizer.fingerprint().to_owned(),
                max_length: recipe.max_length,
            },
            labels: spec.labels.names.clone(),
            examples,
        })
    }
}

/// The model's input and the labels of a batch of the data crate (the two crates do not know
/// each other; lmc-train wires them).
pub(crate) fn model_input<B: Backend>(batch: Batch<B>) -> (BertInput<B>, Tensor<B, 1, Int>) {
    let input = BertInput {
        input_ids: batch.input_ids,
        token_type_ids: batch.token_type_ids,
        attention_mask: batch.attention_mask,
    };
    (input, batch.labels)
}
