//! Fine-tuning runs on a tiny random BERT and real CoLA sentences: determinism, resume after an
//! interruption, skip-if-done, the separate effects of the seeds, and the NaN guard.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use burn::backend::{Autodiff, Flex};
use lmc_bert::{BertConfig, HostTensor, read_weights_file};
use lmc_data::{DataDirSearch, TaskName};
use lmc_train::{
    CPU_BACKEND, Recipe, RunIdentity, RunOutcome, RunSpec, Seeds, Silent, StepRecord, TrainError,
    TrainObserver, TrainingSet, checkpoint_dir, run_dir, train, train_population,
    write_random_checkpoint,
};

type AB = Autodiff<Flex>;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

fn tiny_checkpoint(dir: &Path) -> PathBuf {
    let cache = lmc_bert::pretrained::default_cache_dir()
        .expect("no cache directory: set LMC_CACHE_DIR or HOME");
    let minilm = lmc_bert::pretrained::ensure_minilm(&cache).unwrap();
    let config = BertConfig {
        max_position_embeddings: 64,
        ..BertConfig::sized(30522, 32, 2, 2, 64)
    };
    let model = dir.join("tiny-pretrained");
    write_random_checkpoint(&config, 11, &minilm, &model).unwrap();
    model
}

fn tiny_recipe() -> Recipe {
    Recipe {
        batch_size: 8,
        max_length: 32,
        epochs: 2,
        train_examples: Some(40),
        learning_rate: 1e-3,
        resume_every: 2,
        ..Recipe::paper(TaskName::Cola)
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    model: PathBuf,
    data: TrainingSet,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_checkpoint(dir.path());
    let data = TrainingSet::prepare(
        TaskName::Cola,
        &DataDirSearch::only(data_dir()),
        &model,
        &tiny_recipe(),
    )
    .unwrap();
    Setup {
        root: dir.path().join("runs"),
        _dir: dir,
        model,
        data,
    }
}

fn spec(setup: &Setup, seeds: Seeds, recipe: Recipe) -> RunSpec {
    RunSpec {
        model_dir: setup.model.clone(),
        recipe,
        seeds,
        provenance: None,
    }
}

fn run(setup: &Setup, spec: &RunSpec, root: &Path) -> PathBuf {
    train::<AB>(spec, &setup.data, root, &Default::default(), &mut Silent)
        .unwrap()
        .dir()
        .to_path_buf()
}

/// The weights file's bytes, compared by digest so that a failure prints two short strings.
fn weights(dir: &Path) -> String {
    lmc_bert::pretrained::sha256_file(&dir.join("model.safetensors")).unwrap()
}

fn tensor(dir: &Path, name: &str) -> HostTensor {
    let (tensors, _) = read_weights_file(
        &dir.join("model.safetensors"),
        lmc_bert::WeightsFormat::Safetensors,
    )
    .unwrap();
    tensors
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .clone()
}

#[test]
fn same_seeds_give_bit_identical_models_and_a_finished_run_is_skipped() {
    let setup = setup();
    let spec = spec(&setup, Seeds::same(3), tiny_recipe());
    let first = run(&setup, &spec, &setup.root.join("a"));
    let second = run(&setup, &spec, &setup.root.join("b"));
    assert_eq!(
        first.file_name(),
        second.file_name(),
        "same configuration, same hash"
    );
    assert_eq!(
        weights(&first.join("model")),
        weights(&second.join("model"))
    );
    let again = train::<AB>(
        &spec,
        &setup.data,
        &setup.root.join("a"),
        &Default::default(),
        &mut Silent,
    )
    .unwrap();
    assert!(matches!(again, RunOutcome::AlreadyDone { .. }), "{again:?}");
    let metrics = std::fs::read_to_string(first.join("metrics.csv")).unwrap();
    assert_eq!(
        metrics.lines().count(),
        1 + 10,
        "header + 2 epochs × 5 updates:\n{metrics}"
    );
}

/// Panics after a given update, as a kill would stop the process.
struct Interrupt(u64);

impl TrainObserver for Interrupt {
    fn step(&mut self, record: &StepRecord) {
        if record.step == self.0 {
            panic!("interrupted after update {}", self.0);
        }
    }
}

/// Trains `recipe` whole and, in another root, interrupted after update 7 then resumed; returns
/// the run directory of the uninterrupted run after checking that both end with the same weights.
fn check_resume_gives_the_same_weights(setup: &Setup, recipe: Recipe) -> PathBuf {
    let spec = spec(setup, Seeds::same(5), recipe);
    let uninterrupted = run(setup, &spec, &setup.root.join("whole"));
    let root = setup.root.join("interrupted");
    // Stopped after update 7: the newest resume state is at update 6 (every 2), in epoch 1.
    let result = catch_unwind(AssertUnwindSafe(|| {
        train::<AB>(
            &spec,
            &setup.data,
            &root,
            &Default::default(),
            &mut Interrupt(7),
        )
    }));
    assert!(result.is_err());
    let resumed = run(setup, &spec, &root);
    assert!(
        !resumed.join("resume").exists(),
        "resume states are removed at the end"
    );
    assert_eq!(
        weights(&resumed.join("model")),
        weights(&uninterrupted.join("model"))
    );
    let metrics = std::fs::read_to_string(resumed.join("metrics.csv")).unwrap();
    let steps: Vec<&str> = metrics
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(steps, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
    uninterrupted
}

/// `done.json` of a run directory.
fn summary(dir: &Path) -> lmc_train::RunSummary {
    serde_json::from_str(&std::fs::read_to_string(dir.join("done.json")).unwrap()).unwrap()
}

#[test]
fn a_run_resumed_near_its_end_reports_the_final_loss_of_an_uninterrupted_one() {
    let setup = setup();
    // 20 updates: the final loss is the mean of the last 2. Interrupted after update 19, the
    // run resumes from its state at update 18 and makes only 2 updates in the second process.
    let recipe = Recipe {
        epochs: 4,
        ..tiny_recipe()
    };
    let spec = spec(&setup, Seeds::same(2), recipe);
    let whole = run(&setup, &spec, &setup.root.join("whole"));
    let root = setup.root.join("interrupted");
    let result = catch_unwind(AssertUnwindSafe(|| {
        train::<AB>(
            &spec,
            &setup.data,
            &root,
            &Default::default(),
            &mut Interrupt(19),
        )
    }));
    assert!(result.is_err());
    let resumed = run(&setup, &spec, &root);
    assert_eq!(
        weights(&resumed.join("model")),
        weights(&whole.join("model"))
    );
    let (resumed, whole) = (summary(&resumed), summary(&whole));
    assert_eq!(resumed.steps, 20);
    assert_eq!(
        resumed.final_loss, whole.final_loss,
        "the mean of the same last 2 losses"
    );
}

#[test]
fn an_interrupted_run_resumes_to_the_same_weights() {
    check_resume_gives_the_same_weights(&setup(), tiny_recipe());
}

#[test]
fn a_length_grouped_run_resumes_to_the_same_weights_and_differs_from_a_plain_shuffle() {
    let setup = setup();
    let grouped = Recipe {
        length_grouping_window: Some(2),
        ..tiny_recipe()
    };
    let grouped_run = check_resume_gives_the_same_weights(&setup, grouped);
    let plain_run = run(
        &setup,
        &spec(&setup, Seeds::same(5), tiny_recipe()),
        &setup.root.join("plain"),
    );
    assert_ne!(
        grouped_run.file_name(),
        plain_run.file_name(),
        "the grouping is in the hash"
    );
    assert_ne!(
        weights(&grouped_run.join("model")),
        weights(&plain_run.join("model"))
    );
}

#[test]
fn the_data_seed_keeps_the_head_initialisation_and_the_head_seed_changes_only_the_head() {
    let setup = setup();
    let recipe = Recipe {
        save_steps: vec![0],
        ..tiny_recipe()
    };
    let base = run(
        &setup,
        &spec(&setup, Seeds::same(1), recipe.clone()),
        &setup.root,
    );
    let other_data = Seeds {
        data: 2,
        ..Seeds::same(1)
    };
    let other_head = Seeds {
        head: 2,
        ..Seeds::same(1)
    };
    let data_run = run(
        &setup,
        &spec(&setup, other_data, recipe.clone()),
        &setup.root,
    );
    let head_run = run(&setup, &spec(&setup, other_head, recipe), &setup.root);
    let initial_head = |dir: &Path| tensor(&checkpoint_dir(dir, 0), "classifier.weight");
    assert_eq!(initial_head(&base), initial_head(&data_run));
    assert_ne!(initial_head(&base), initial_head(&head_run));
    let encoder = "bert.encoder.layer.0.attention.self.query.weight";
    assert_eq!(
        tensor(&checkpoint_dir(&base, 0), encoder),
        tensor(&checkpoint_dir(&head_run, 0), encoder),
        "the pretrained encoder does not depend on the seeds"
    );
    assert_ne!(
        weights(&base.join("model")),
        weights(&data_run.join("model"))
    );
}

#[test]
fn a_nan_loss_stops_that_run_and_the_population_goes_on() {
    let setup = setup();
    let broken = setup.root.join("broken-pretrained");
    std::fs::create_dir_all(&broken).unwrap();
    for file in std::fs::read_dir(&setup.model).unwrap() {
        let path = file.unwrap().path();
        std::fs::copy(&path, broken.join(path.file_name().unwrap())).unwrap();
    }
    let (mut tensors, _) = read_weights_file(
        &broken.join("model.safetensors"),
        lmc_bert::WeightsFormat::Safetensors,
    )
    .unwrap();
    tensors
        .get_mut("bert.pooler.dense.bias")
        .expect("the tiny checkpoint has a pooler")
        .values[0] = f32::NAN;
    let tensors: Vec<(String, HostTensor)> = tensors.into_iter().collect();
    lmc_bert::write_safetensors(&broken.join("model.safetensors"), &tensors).unwrap();

    let seeds = [Seeds::same(0), Seeds::same(1)];
    let report = train_population::<AB>(
        &broken,
        &tiny_recipe(),
        &seeds,
        &setup.data,
        &setup.root,
        None,
        &Default::default(),
        &mut Silent,
    );
    assert_eq!(report.runs.len(), 2, "the second run was attempted");
    for (_, result) in &report.runs {
        match result {
            Err(TrainError::NonFiniteLoss { step: 1, loss, run }) => {
                assert!(loss.is_nan());
                assert!(run.starts_with("seed"), "{run}");
            }
            other => panic!("expected a NaN-loss error, got {other:?}"),
        }
    }
    let good = train_population::<AB>(
        &setup.model,
        &tiny_recipe(),
        &seeds[..1],
        &setup.data,
        &setup.root,
        None,
        &Default::default(),
        &mut Silent,
    );
    assert_eq!(good.failures().count(), 0);
}

#[test]
fn runs_on_another_backend_get_their_own_directory_and_cpu_runs_keep_theirs() {
    let setup = setup();
    let spec = spec(&setup, Seeds::same(0), tiny_recipe());
    let trained = run(&setup, &spec, &setup.root);
    let (cpu, identity) = run_dir(&spec, &setup.data, &setup.root, CPU_BACKEND).unwrap();
    assert_eq!(
        trained, cpu,
        "flex runs live where run_dir(…, CPU_BACKEND) says"
    );

    let json = serde_json::to_value(&identity).unwrap();
    assert!(
        json.get("backend").is_none(),
        "flex is left out of the hashed JSON: {json}"
    );
    let read_back: RunIdentity = serde_json::from_value(json).unwrap();
    assert_eq!(read_back.backend, CPU_BACKEND);

    let (gpu, _) = run_dir(&spec, &setup.data, &setup.root, "fusion<cubecl<cuda>>").unwrap();
    assert_ne!(gpu, cpu);
    assert_eq!(gpu.parent(), cpu.parent());
}
