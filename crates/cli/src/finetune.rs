//! `lmc finetune`: train a population of models, one run per seed, resumably.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::backend::Autodiff;
use burn::tensor::backend::Backend;
use clap::{Args, Subcommand};
use lmc_bert::DropoutMasks;
use lmc_data::{DataDirSearch, SearchEnv, TaskName};
use lmc_train::{
    PopulationReport, Preset, Recipe, RunOutcome, RunSummary, Seeds, StepRecord, TrainObserver,
    TrainingSet, train_population,
};

use crate::backend::{BackendChoice, ComputeOptions, OnBackend, run_on};
use crate::progress::Progress;

/// `lmc finetune`: a population here, or `lmc finetune slurm`.
#[derive(Debug)]
pub enum FinetuneCommand {
    /// Fine-tune here.
    Run(FinetuneArgs),
    /// Write a Slurm array job.
    Slurm(crate::slurm::FinetuneJobArgs),
}

/// The subcommands of `lmc finetune`.
#[derive(Debug, Subcommand)]
enum FinetuneAction {
    /// Write a Slurm array job script whose task i fine-tunes seed i (or group i of
    /// `--seeds-per-task` seeds) into the population: the same run directories as a local run.
    Slurm(crate::slurm::FinetuneJobArgs),
}

// By hand, not derived: a derived struct of an optional subcommand and the run's options would
// need every required option (`--task`) to be an `Option`, and clap's optional `flatten` loses
// the options of nested groups (`--backend`).
impl clap::FromArgMatches for FinetuneCommand {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut matches.clone())
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        if matches.subcommand_name().is_some() {
            let FinetuneAction::Slurm(job) = FinetuneAction::from_arg_matches_mut(matches)?;
            Ok(FinetuneCommand::Slurm(job))
        } else {
            FinetuneArgs::from_arg_matches_mut(matches).map(FinetuneCommand::Run)
        }
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for FinetuneCommand {
    fn augment_args(command: clap::Command) -> clap::Command {
        FinetuneAction::augment_subcommands(FinetuneArgs::augment_args(command))
            .args_conflicts_with_subcommands(true)
            .subcommand_negates_reqs(true)
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

/// Options of a fine-tuning run.
#[derive(Debug, Args)]
pub struct FinetuneArgs {
    /// Task: mnli, qqp, cola or rte.
    #[arg(long)]
    pub task: TaskName,
    /// Seeds of the population: a count `8` (seeds 0 to 7), a range `8..16` (end excluded) or a
    /// list `0,3,7`.
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
    /// Model and recipe preset: smoke (tiny random BERT), default (MiniLM, a slice of the data,
    /// sized for a 2-core CPU), gpu (MiniLM, the paper's recipe on all data), paper (the paper's
    /// recipe on all data).
    #[arg(long, default_value = "default", value_parser = parse_preset)]
    pub preset: Preset,
    /// Pretrained checkpoint: a directory or `hf:ORG/NAME[@REVISION]` [default: the preset's:
    /// all-MiniLM-L6-v2 from the lmc cache; bert-base-uncased for `paper`].
    #[arg(long)]
    pub model: Option<String>,
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
    /// Where dropout masks are drawn: `host` (the same masks on every backend, so CPU and GPU
    /// runs compare update by update) or `device` (fast on a GPU) [default: host on the CPU,
    /// device on CUDA].
    #[arg(long)]
    pub dropout_masks: Option<DropoutMasks>,
    /// Compute backend and precision (part of the recipe). Runs on another backend than flex
    /// get their own directories.
    #[command(flatten)]
    pub compute: ComputeOptions,
}

/// `--seeds` of `finetune` and `reproduce`: a count `N` (seeds 0 … N − 1), a range `a..b` (end
/// excluded) or a list `a,b,c`.
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
        let seeds: Vec<u64> = match text.split_once("..") {
            Some((start, end)) => {
                let (start, end) = (number(start)?, number(end)?);
                if start >= end {
                    return Err(format!("the range {text} is empty (the end is excluded)"));
                }
                (start..end).collect()
            }
            None if !text.contains(',') => {
                let count = number(text)?;
                if count == 0 {
                    return Err(
                        "0 seeds: give a count of at least 1, a range a..b or a list a,b,c \
                                (a single seed: --seed N, or the list `N,`)"
                            .into(),
                    );
                }
                (0..count).collect()
            }
            None => text
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(number)
                .collect::<Result<_, _>>()?,
        };
        let mut unique = seeds.clone();
        unique.sort_unstable();
        unique.dedup();
        if unique.len() != seeds.len() {
            return Err(format!("{text} names a seed twice"));
        }
        Ok(SeedList(seeds))
    }
}

pub fn parse_preset(text: &str) -> Result<Preset, String> {
    Preset::ALL
        .into_iter()
        .find(|preset| preset.name() == text)
        .ok_or_else(|| {
            let names: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
            format!("unknown preset `{text}` ({})", names.join(", "))
        })
}

impl std::fmt::Display for SeedList {
    /// The seeds as `--seeds` reads them back: a range for consecutive seeds, else a list (one
    /// seed with a trailing comma, since a bare number is a count).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "{one},"),
            [first, .., last] if self.0.windows(2).all(|w| w[1] == w[0] + 1) => {
                write!(f, "{first}..{}", last + 1)
            }
            seeds => {
                let texts: Vec<String> = seeds.iter().map(u64::to_string).collect();
                write!(f, "{}", texts.join(","))
            }
        }
    }
}

impl FinetuneArgs {
    /// The population directory: `--out`, or `runs/<task>`.
    pub fn population_dir(&self) -> PathBuf {
        match &self.out {
            Some(out) => out.clone(),
            None => PathBuf::from("runs").join(self.task.as_str()),
        }
    }

    fn recipe(&self) -> anyhow::Result<Recipe> {
        let mut recipe = self.preset.recipe(self.task);
        if self.compute.backend == BackendChoice::Cuda {
            // Row slices fill idle CPU cores; a GPU is fed best by whole batches, with masks
            // drawn where they are used, and bf16 matrix products.
            recipe.batch_slices = 1;
            recipe.dropout_masks = DropoutMasks::Device;
            recipe.precision = ComputeOptions::on(BackendChoice::Cuda).precision()?;
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
        if let Some(masks) = self.dropout_masks {
            recipe.dropout_masks = masks;
        }
        if self.compute.precision.is_some() {
            recipe.precision = self.compute.precision()?;
        }
        ComputeOptions {
            precision: Some(recipe.precision),
            ..self.compute
        }
        .precision()
        .context("the recipe's precision")?;
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

/// Progress per run (a bar on a terminal, a line every 30 s elsewhere) and a log line per run.
struct RunProgress {
    current: Option<(Progress, u64)>,
}

impl TrainObserver for RunProgress {
    fn run_started(&mut self, name: &str, done: u64, total: u64) {
        if done > 0 {
            tracing::info!("{name}: resuming at update {done} of {total}");
        } else {
            tracing::info!("{name}: training, {total} updates");
        }
        self.current = Some((Progress::new(name, "updates", done, total), total));
    }

    fn step(&mut self, record: &StepRecord) {
        if let Some((progress, total)) = &mut self.current {
            progress.update(
                record.step,
                *total,
                format!(
                    "loss {:.4}, {:.1} ex/s",
                    record.loss, record.examples_per_second
                ),
            );
        }
    }

    fn run_finished(&mut self, name: &str, summary: &RunSummary) {
        if let Some((progress, _)) = self.current.take() {
            progress.finish();
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
        let mut progress = RunProgress { current: None };
        let provenance = crate::backend::provenance::<B>(&device);
        let report = train_population::<Autodiff<B>>(
            self.model_dir,
            self.recipe,
            self.seeds,
            self.data,
            self.out,
            Some(&provenance),
            &device,
            &mut progress,
        );
        if let Some((progress, _)) = progress.current.take() {
            progress.finish();
        }
        Ok(report)
    }
}

/// Runs `lmc finetune` or `lmc finetune slurm`.
pub fn run_command(command: FinetuneCommand) -> anyhow::Result<()> {
    match command {
        FinetuneCommand::Run(args) => run(args),
        FinetuneCommand::Slurm(job) => crate::slurm::write_finetune_job(&job),
    }
}

pub fn run(args: FinetuneArgs) -> anyhow::Result<()> {
    let recipe = args.recipe()?;
    let compute = ComputeOptions {
        precision: Some(recipe.precision),
        ..args.compute
    };
    crate::backend::check(compute)?;
    let seeds = args.seeds();
    let out = args.population_dir();
    let model_dir = match &args.model {
        Some(model) => {
            let dir = crate::models::resolve_one(model)?;
            if !dir.is_dir() {
                anyhow::bail!(
                    "--model {}: no such directory (a Hugging Face BERT checkpoint directory: \
                     config.json, model.safetensors or pytorch_model.bin, tokenizer files; or \
                     hf:ORG/NAME)",
                    dir.display()
                );
            }
            dir
        }
        None if args.preset == Preset::Paper => {
            crate::models::bert_base_uncased(&crate::setup::cache_dir(args.cache_dir.clone())?)?
        }
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
    let report = run_on(compute, job)?;
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
        anyhow::bail!(
            "{failed} of {} runs failed (see above); the others are kept",
            report.runs.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::SeedList;

    #[test]
    fn seeds_are_a_count_a_range_or_a_list() {
        let seeds = |text: &str| text.parse::<SeedList>().map(|list| list.0);
        assert_eq!(seeds("3"), Ok(vec![0, 1, 2]));
        assert_eq!(seeds("8..11"), Ok(vec![8, 9, 10]));
        assert_eq!(seeds("0,3,7"), Ok(vec![0, 3, 7]));
        assert_eq!(seeds("5,"), Ok(vec![5]));
        assert!(seeds("0").unwrap_err().contains("--seed N"));
        assert!(seeds("4..4").unwrap_err().contains("is empty"));
        assert!(seeds("1,1").unwrap_err().contains("twice"));
        assert!(seeds("x").unwrap_err().contains("`x` is not a seed"));
    }

    #[test]
    fn seed_lists_print_as_they_parse() {
        for (seeds, text) in [
            (vec![3], "3,"),
            (vec![0, 1, 2], "0..3"),
            (vec![5, 7, 9], "5,7,9"),
        ] {
            let list = SeedList(seeds);
            assert_eq!(list.to_string(), text);
            assert_eq!(text.parse::<SeedList>(), Ok(list));
        }
    }
}
