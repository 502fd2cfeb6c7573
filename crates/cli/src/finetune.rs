//! `lmc finetune`: train a population of models, one run per seed, resumably.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use burn::backend::Autodiff;
use burn::tensor::backend::Backend;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lmc_data::{DataDirSearch, SearchEnv, TaskName};
use lmc_train::{
    PopulationReport, Preset, Recipe, RunOutcome, RunSummary, Seeds, StepRecord, TrainObserver,
    TrainingSet, train_population,
};

use crate::backend::{BackendChoice, OnBackend, run_on};

/// Arguments of `lmc finetune`.
#[derive(Debug, Args)]
pub struct FinetuneArgs {
    /// Task: mnli, qqp, cola or rte.
    #[arg(long)]
    pub task: TaskName,
    /// Seeds of the population: a range `0..8` (end excluded) or a list `0,3,7`.
    #[arg(long, conflicts_with = "seed")]
    pub seeds: Option<SeedList>,
    /// A single run's seed (also its dropout seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Seed of the classification head [default: the run's seed].
    #[arg(long)]
    pub head_seed: Option<u64>,
    /// Seed of the training-data order [default: the run's seed].
    #[arg(long)]
    pub data_seed: Option<u64>,
    /// Model and recipe preset: smoke (tiny random BERT), default (MiniLM, a slice of the data),
    /// paper (the paper's recipe on all data).
    #[arg(long, default_value = "paper", value_parser = parse_preset)]
    pub preset: Preset,
    /// Pretrained checkpoint directory [default: the preset's; all-MiniLM-L6-v2 from the cache].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// TOML file whose keys replace the preset's recipe values (field names as in run.json).
    #[arg(long)]
    pub recipe: Option<PathBuf>,
    /// Peak learning rate.
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Epochs.
    #[arg(long)]
    pub epochs: Option<u32>,
    /// Stop after this many updates.
    #[arg(long)]
    pub max_steps: Option<u64>,
    /// Examples per update.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Longest tokenized pair.
    #[arg(long)]
    pub max_length: Option<usize>,
    /// Train on this many examples of a fixed shuffle of the train set.
    #[arg(long)]
    pub train_examples: Option<usize>,
    /// Share of updates spent warming up.
    #[arg(long)]
    pub warmup_ratio: Option<f64>,
    /// Decoupled weight decay.
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Dropout of hidden states and attention.
    #[arg(long)]
    pub dropout: Option<f64>,
    /// Global gradient-norm clipping threshold.
    #[arg(long)]
    pub max_grad_norm: Option<f64>,
    /// Keep checkpoints after these updates, e.g. `15000,25000`.
    #[arg(long, value_delimiter = ',')]
    pub save_steps: Option<Vec<u64>>,
    /// Updates between resume states.
    #[arg(long)]
    pub resume_every: Option<u64>,
    /// Row slices each batch is split into, computed on parallel threads (part of the recipe:
    /// the weights depend on it) [default: 2 on the CPU, 1 on CUDA].
    #[arg(long)]
    pub batch_slices: Option<usize>,
    /// Batch examples of similar length: sort each epoch's shuffle by length within windows of
    /// this many batches (`transformers`' `group_by_length` uses 50) [default: the preset's].
    #[arg(long)]
    pub length_grouping_window: Option<usize>,
    /// Data directory [default: $LMC_DATA_DIR, the fetch cache, then ../shared/datasets].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Population directory [default: runs/<task>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Cache directory of the pretrained model [default: $LMC_CACHE_DIR or ~/.cache/lmc].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Compute backend (`cuda` needs a binary built with `cargo xtask build-gpu`). Runs on
    /// another backend than flex get their own directories.
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
}

/// Seeds given as `a..b` or `a,b,c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedList(pub Vec<u64>);

impl std::str::FromStr for SeedList {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let number = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{s}` is not a seed (a non-negative integer)"))
        };
        let seeds = match text.split_once("..") {
            Some((start, end)) => {
                let (start, end) = (number(start)?, number(end)?);
                if start >= end {
                    return Err(format!("the range {text} is empty (the end is excluded)"));
                }
                (start..end).collect()
            }
            None => text.split(',').map(number).collect::<Result<Vec<_>, _>>()?,
        };
        Ok(SeedList(seeds))
    }
}

pub fn parse_preset(text: &str) -> Result<Preset, String> {
    match text {
        "smoke" => Ok(Preset::Smoke),
        "default" => Ok(Preset::Default),
        "paper" => Ok(Preset::Paper),
        other => Err(format!("unknown preset `{other}` (smoke, default or paper)")),
    }
}

impl FinetuneArgs {
    fn recipe(&self) -> anyhow::Result<Recipe> {
        let mut recipe = self.preset.recipe(self.task);
        if self.backend == BackendChoice::Cuda {
            // Row slices fill idle CPU cores; a GPU is fed best by whole batches.
            recipe.batch_slices = 1;
        }
        if let Some(path) = &self.recipe {
            recipe = recipe.with_toml_file(path)?;
        }
        macro_rules! set {
            ($field:ident) => {
                if let Some(value) = self.$field.clone() {
                    recipe.$field = value;
                }
            };
        }
        set!(learning_rate);
        set!(epochs);
        set!(batch_size);
        set!(max_length);
        set!(warmup_ratio);
        set!(weight_decay);
        set!(resume_every);
        set!(batch_slices);
        set!(save_steps);
        if let Some(steps) = self.max_steps {
            recipe.max_steps = Some(steps);
        }
        if let Some(count) = self.train_examples {
            recipe.train_examples = Some(count);
        }
        if let Some(dropout) = self.dropout {
            recipe.dropout = Some(dropout);
        }
        if let Some(window) = self.length_grouping_window {
            recipe.length_grouping_window = Some(window);
        }
        if let Some(norm) = self.max_grad_norm {
            recipe.max_grad_norm = Some(norm);
        }
        recipe.validate()?;
        Ok(recipe)
    }

    fn seeds(&self) -> Vec<Seeds> {
        let base: Vec<u64> = match (&self.seeds, self.seed) {
            (Some(list), _) => list.0.clone(),
            (None, Some(seed)) => vec![seed],
            (None, None) => vec![0],
        };
        base.into_iter()
            .map(|seed| Seeds {
                seed,
                head: self.head_seed.unwrap_or(seed),
                data: self.data_seed.unwrap_or(seed),
            })
            .collect()
    }
}

/// A progress bar per run (hidden when stderr is not a terminal) and a log line per run.
struct Progress {
    bar: Option<ProgressBar>,
}

impl TrainObserver for Progress {
    fn run_started(&mut self, name: &str, done: u64, total: u64) {
        if done > 0 {
            tracing::info!("{name}: resuming at update {done} of {total}");
        } else {
            tracing::info!("{name}: training, {total} updates");
        }
        let bar = ProgressBar::new(total).with_position(done);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} updates, {msg} ({elapsed} < {eta})",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(name.to_owned());
        bar.enable_steady_tick(Duration::from_millis(500));
        self.bar = Some(bar);
    }

    fn step(&mut self, record: &StepRecord) {
        if let Some(bar) = &self.bar {
            bar.set_position(record.step);
            bar.set_message(format!(
                "loss {:.4}, {:.1} ex/s",
                record.loss, record.examples_per_second
            ));
        }
    }

    fn run_finished(&mut self, name: &str, summary: &RunSummary) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        tracing::info!(
            "{name}: done, final loss {:.4}, {:.1} examples/s, {:.0} s",
            summary.final_loss,
            summary.examples_per_second,
            summary.seconds
        );
    }
}

/// Trains every run of a population (with autodiff on the chosen backend), with progress bars.
struct TrainPopulation<'a> {
    model_dir: &'a Path,
    recipe: &'a Recipe,
    seeds: &'a [Seeds],
    data: &'a TrainingSet,
    out: &'a Path,
}

impl OnBackend for TrainPopulation<'_> {
    type Output = PopulationReport;

    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<PopulationReport> {
        let mut progress = Progress { bar: None };
        let report = train_population::<Autodiff<B>>(
            self.model_dir,
            self.recipe,
            self.seeds,
            self.data,
            self.out,
            &device,
            &mut progress,
        );
        if let Some(bar) = progress.bar.take() {
            bar.abandon();
        }
        Ok(report)
    }
}

pub fn run(args: FinetuneArgs) -> anyhow::Result<()> {
    crate::backend::check(args.backend)?;
    let recipe = args.recipe()?;
    let seeds = args.seeds();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(args.task.as_str()));
    let model_dir = match &args.model {
        Some(dir) => dir.clone(),
        None => {
            let cache = crate::setup::cache_dir(args.cache_dir.clone())?;
            let minilm = lmc_bert::pretrained::ensure_minilm(&cache)?;
            args.preset.model_dir(&minilm, &out)?
        }
    };
    let search = DataDirSearch::new(args.data_dir.as_deref(), &SearchEnv::from_process());
    let data = TrainingSet::prepare(args.task, &search, &model_dir, &recipe)
        .with_context(|| format!("preparing the {} training set", args.task))?;
    tracing::info!(
        "{} runs of {} on {} examples ({:?} data), model {}, into {}",
        seeds.len(),
        args.task,
        data.examples.len(),
        data.identity.mode,
        model_dir.display(),
        out.display()
    );
    let job = TrainPopulation {
        model_dir: &model_dir,
        recipe: &recipe,
        seeds: &seeds,
        data: &data,
        out: &out,
    };
    let report = run_on(args.backend, job)?;
    for (seeds, result) in &report.runs {
        match result {
            Ok(RunOutcome::Trained { dir, summary }) => println!(
                "{:<24} trained  loss {:.4}  {}",
                seeds.name(),
                summary.final_loss,
                dir.display()
            ),
            Ok(RunOutcome::AlreadyDone { dir }) => {
                println!("{:<24} done     {}", seeds.name(), dir.display())
            }
            Err(error) => println!("{:<24} FAILED   {error}", seeds.name()),
        }
    }
    let failed = report.failures().count();
    if failed > 0 {
        anyhow::bail!("{failed} of {} runs failed (see above); the others are kept", report.runs.len());
    }
    Ok(())
}
