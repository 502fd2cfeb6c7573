//! Named starting points for a population: which model and which recipe.

use std::path::{Path, PathBuf};

use lmc_bert::BertConfig;
use lmc_data::TaskName;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::random_model::write_random_checkpoint;
use crate::recipe::Recipe;

/// A preset of model and recipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// A tiny BERT built in code (2 layers, width 32) on 64 examples, one epoch: seconds per run.
    Smoke,
    /// all-MiniLM-L6-v2 on a slice of the train set, sized for a 2-core CPU (see [`Preset::recipe`]).
    Default,
    /// all-MiniLM-L6-v2 with the paper's recipe on the whole train set: one GPU's population.
    Gpu,
    /// The paper's recipe on the whole train set (the paper fine-tunes bert-base-uncased).
    Paper,
}

impl Preset {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Smoke => "smoke",
            Preset::Default => "default",
            Preset::Gpu => "gpu",
            Preset::Paper => "paper",
        }
    }

    /// Every preset, smallest first.
    pub const ALL: [Preset; 4] = [Preset::Smoke, Preset::Default, Preset::Gpu, Preset::Paper];

    /// The recipe of this preset for `task`. `Default` keeps the paper's optimiser settings,
    /// groups batches by length (windows of 16 batches) and trains MNLI and QQP for one epoch on
    /// 4,096 pairs at lr 1e-4, CoLA for 2 epochs on all 8,551 sentences and RTE for 2 epochs on
    /// 2,000 pairs, both at lr 5e-5: a population of 8 MiniLM models in about 20 minutes on two
    /// cores. CoLA needs the whole train set: on 2,000 sentences every model predicts the
    /// majority class.
    pub fn recipe(self, task: TaskName) -> Recipe {
        let paper = Recipe::paper(task);
        match self {
            Preset::Gpu | Preset::Paper => paper,
            Preset::Default => {
                let (epochs, train_examples, learning_rate) = match task {
                    TaskName::Cola => (2, None, 5e-5),
                    TaskName::Rte => (2, Some(2000), 5e-5),
                    TaskName::Mnli | TaskName::Qqp => (1, Some(4096), 1e-4),
                };
                Recipe {
                    epochs,
                    train_examples,
                    learning_rate,
                    length_grouping_window: Some(16),
                    ..paper
                }
            }
            Preset::Smoke => Recipe {
                epochs: 1,
                batch_size: 16,
                max_length: 64,
                train_examples: Some(64),
                learning_rate: 1e-3,
                resume_every: 2,
                ..paper
            },
        }
    }

    /// The tiny configuration of [`Preset::Smoke`].
    pub fn smoke_config() -> BertConfig {
        BertConfig {
            max_position_embeddings: 64,
            ..BertConfig::sized(30522, 32, 2, 2, 64)
        }
    }

    /// The starting checkpoint: for `Smoke`, a random tiny BERT written once into
    /// `<work_dir>/tiny-bert` with the tokenizer of `minilm_dir`; otherwise `minilm_dir` itself.
    pub fn model_dir(self, minilm_dir: &Path, work_dir: &Path) -> Result<PathBuf> {
        match self {
            Preset::Smoke => {
                let dir = work_dir.join("tiny-bert");
                if !dir.join("model.safetensors").is_file() {
                    write_random_checkpoint(&Self::smoke_config(), 0, minilm_dir, &dir)?;
                }
                Ok(dir)
            }
            Preset::Default | Preset::Gpu | Preset::Paper => Ok(minilm_dir.to_path_buf()),
        }
    }
}
