//! A population: one run per seed, from one pretrained checkpoint, on one training set.

use std::path::Path;

use burn::tensor::backend::AutodiffBackend;
use lmc_data::Provenance;

use crate::data::TrainingSet;
use crate::error::TrainError;
use crate::recipe::Recipe;
use crate::run::{RunOutcome, RunSpec, Seeds, TrainObserver, train};

/// How each run of a population ended.
#[derive(Debug)]
pub struct PopulationReport {
    /// Each run's seeds and result, in the order trained.
    pub runs: Vec<(Seeds, Result<RunOutcome, TrainError>)>,
}

impl PopulationReport {
    /// The runs that failed.
    pub fn failures(&self) -> impl Iterator<Item = (&Seeds, &TrainError)> {
        self.runs
            .iter()
            .filter_map(|(seeds, result)| result.as_ref().err().map(|error| (seeds, error)))
    }
}

/// Trains every seed in `seeds` (skipping finished runs, resuming interrupted ones). A failing run
/// (a NaN loss, an unwritable file) is recorded and the next one starts. `provenance` goes into
/// each new run's `run.json`.
#[allow(clippy::too_many_arguments)]
pub fn train_population<AB: AutodiffBackend>(
    model_dir: &Path,
    recipe: &Recipe,
    seeds: &[Seeds],
    data: &TrainingSet,
    root: &Path,
    provenance: Option<&Provenance>,
    device: &AB::Device,
    observer: &mut dyn TrainObserver,
) -> PopulationReport {
    let runs = seeds
        .iter()
        .map(|seeds| {
            let spec = RunSpec {
                model_dir: model_dir.to_path_buf(),
                recipe: recipe.clone(),
                seeds: *seeds,
                provenance: provenance.cloned(),
            };
            (*seeds, train::<AB>(&spec, data, root, device, observer))
        })
        .collect();
    PopulationReport { runs }
}
