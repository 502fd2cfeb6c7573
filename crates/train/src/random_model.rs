//! Randomly initialised "pretrained" checkpoints, for smoke runs and tests that need a tiny BERT
//! built in code instead of a downloaded one.

use std::path::Path;

use burn::backend::Flex;
use lmc_bert::{BertConfig, HostTensor, random_classifier};

use crate::error::{Result, TrainError};

/// Writes a checkpoint without a classification head into `dir` (`config.json`,
/// `model.safetensors` and the tokenizer files of `tokenizer_from`): the encoder and pooler drawn
/// from `seed` as transformers initialises BERT. Fine-tuning it adds a head from the head seed,
/// as for a real pretrained model.
pub fn write_random_checkpoint(
    config: &BertConfig,
    seed: u64,
    tokenizer_from: &Path,
    dir: &Path,
) -> Result<()> {
    config.validate().map_err(TrainError::InvalidRecipe)?;
    let model = random_classifier::<Flex>(config, 2, seed, &Default::default());
    let encoder: Vec<(String, HostTensor)> = model
        .hf_parameters()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("classifier."))
        .collect();
    std::fs::create_dir_all(dir).map_err(TrainError::io(dir))?;
    let mut config = config.clone();
    config.num_labels = None;
    config.id2label = None;
    config.label2id = None;
    config.save(&dir.join("config.json"))?;
    lmc_bert::copy_tokenizer_files(tokenizer_from, dir)?;
    // Last, so that a directory with weights is complete.
    lmc_bert::write_safetensors(&dir.join("model.safetensors"), &encoder)?;
    Ok(())
}
