//! `lmc reproduce <task>` (and `cargo xtask reproduce <task>`, which builds lmc and runs this):
//! the whole study from one command. The stages are a typed plan of `lmc` commands (their own
//! argument structs, filled field by field), each printed as the command line it equals before it
//! runs in this process, so that any stage can be rerun or changed by hand:
//!
//! 1. model and data: install all-MiniLM-L6-v2 (bert-base-uncased for `paper`, which must be in
//!    the lmc or Hugging Face cache) and locate the task's files;
//! 2. `lmc finetune`: the population, keeping two intermediate checkpoints per run (finished runs
//!    are skipped, interrupted ones resume); with `--from-hub`, the paper's released population
//!    instead, resolved into the Hugging Face cache;
//! 3. `lmc sweep`: every pair × α grid × {in-domain, diagnostic}, then the same at each
//!    checkpoint for the training-dynamics figure (stored pairs are skipped);
//! 4. `lmc analyze`: barrier matrices, clusters, correlation;
//! 5. `lmc surface`: the loss surface on the plane through three models, two of one basin and
//!    one of the other (when there are two);
//! 6. `lmc report`: all seven figures, `report.html` and `report.md`.
//!
//! Everything lands in `--out` (default `runs/reproduce/<task>-<preset>`): `population/`,
//! `results/`, `analysis/`, `report/`, plus `reproduce.json` with the plan, stage times and
//! provenance.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Parser};
use lmc_data::{DataDirSearch, DataMode, SearchEnv, TaskName, TaskSpec};
use lmc_train::{Preset, TrainingSet};
use serde_json::json;

use crate::Cli;
use crate::backend::{BackendChoice, ComputeOptions};
use crate::cluster::AnalyzeArgs;
use crate::finetune::{FinetuneArgs, SeedList, parse_preset};
use crate::progress::clock;
use crate::report::ReportArgs;
use crate::surface::SurfaceArgs;
use crate::sweep::SweepArgs;

/// Arguments of `lmc reproduce` (and `cargo xtask reproduce`).
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Task: mnli, qqp or cola.
    pub task: TaskName,
    /// Size of the reproduction: smoke (tiny random BERT, tiny data slices, 3 seeds: the whole
    /// pipeline in seconds), default (all-MiniLM-L6-v2 on the offline data, sized for a 2-core
    /// CPU; 8 seeds sharing two head initialisations), gpu (MiniLM with the paper's recipe on all
    /// the data, 12 seeds, 10 α, 512 examples per set; for `--backend cuda`), paper (the paper's
    /// settings and model, bert-base-uncased: 100 seeds, 10 α, 512 examples per set; for GPUs
    /// and clusters).
    #[arg(long, default_value = "default", value_parser = parse_preset)]
    pub preset: Preset,
    /// Skip fine-tuning: sweep, analyse and report the paper's own released population from the
    /// Hugging Face hub (MNLI: `connectivity/feather_berts_<seed>`, the 100 models of McCoy et
    /// al.; QQP: `connectivity/bert_ft_qqp-<seed>`, with its checkpoints at steps 15000 to 30000
    /// for the training dynamics), with the paper's 10 α and 512 examples per set [default
    /// seeds: 0..100; e.g. `--seeds 0..20` for a subset]. Needs the network, or the models in
    /// the Hugging Face cache with HF_HUB_OFFLINE=1.
    #[arg(long)]
    pub from_hub: bool,
    /// Compute backend and precision of fine-tuning, sweep and surface.
    #[command(flatten)]
    pub compute: ComputeOptions,
    /// Output directory [default: runs/reproduce/<task>-<preset>, `-hub` for `--from-hub`,
    /// `-cuda` for GPU runs, under the current directory].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Data directory [default: $LMC_DATA_DIR, the fetch cache, then ../shared/datasets].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Seeds of the population, as `finetune --seeds`: a count `8` (seeds 0 to 7), a range
    /// `8..16` or a list `0,3,7` [default: the preset's count].
    #[arg(long)]
    pub seeds: Option<SeedList>,
    /// Classifier-head initialisations the population shares: seed s starts from head seed
    /// s mod K, while every seed keeps its own data order and dropout. K = the number of seeds is
    /// the paper's design (each seed its own head) [default: 2 for the default preset, one per
    /// seed otherwise].
    #[arg(long)]
    pub head_seeds: Option<u64>,
    /// Cache directory of the pretrained model [default: $LMC_CACHE_DIR or ~/.cache/lmc].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
}

/// The sizes of each stage for one preset and task.
struct Plan {
    seeds: u64,
    /// Head initialisations shared by the seeds (`None`: one per seed, as in the paper).
    head_seeds: Option<u64>,
    alphas: usize,
    examples_per_set: usize,
    /// `--full-sets` of the sweep: sets each model is evaluated on once in full (HANS cells).
    full_sets: &'static str,
    /// `--checkpoint-sets` of the sweep at the intermediate checkpoints.
    checkpoint_sets: &'static str,
    /// `--grid` and `--sets` of the surface.
    surface_grid: &'static str,
    surface_sets: &'static str,
}

fn plan(preset: Preset, task: TaskName) -> Plan {
    let hans = |text: &'static str| match task {
        TaskName::Mnli => text,
        _ => "none",
    };
    match preset {
        Preset::Smoke => Plan {
            seeds: 3,
            head_seeds: None,
            alphas: 5,
            examples_per_set: 32,
            full_sets: hans("hans:60"),
            checkpoint_sets: "id:16,ood:16",
            surface_grid: "-0.5:1.5:3",
            surface_sets: "id:16",
        },
        Preset::Default => Plan {
            seeds: 8,
            // With a few hundred updates, two seeds are linearly connected when they share the
            // head's initialisation and separated by a barrier when they do not (ARCHITECTURE.md,
            // "What the presets vary"): two heads give two basins of four seeds.
            head_seeds: Some(2),
            alphas: 6,
            examples_per_set: 256,
            full_sets: hans("hans:600"),
            checkpoint_sets: "id:64,ood:64",
            surface_grid: "-0.5:1.5:5",
            surface_sets: "id:64",
        },
        Preset::Gpu => Plan {
            seeds: 12,
            head_seeds: None,
            alphas: 10,
            examples_per_set: 512,
            full_sets: hans("hans:all"),
            checkpoint_sets: "id:256,ood:256",
            surface_grid: "-0.5:1.5:11",
            surface_sets: "id:256",
        },
        Preset::Paper => Plan {
            seeds: 100,
            head_seeds: None,
            alphas: 10,
            examples_per_set: 512,
            full_sets: match task {
                TaskName::Mnli => "id:all,hans:all",
                _ => "id:all,ood:all",
            },
            checkpoint_sets: "id:512,ood:512",
            surface_grid: "-0.5:1.5:21",
            surface_sets: "id:512",
        },
    }
}

/// The paper's released population of `task` on the hub, and the revisions of its intermediate
/// checkpoints, with the order of its models' outputs when their configs name no labels.
struct HubPopulation {
    /// `hf:` reference of seed `{seed}`'s final model.
    reference: fn(u64) -> String,
    /// Steps with a checkpoint of every model (`@step=N`), for the training dynamics.
    steps: &'static [u64],
    /// `--label-order` of the models (the feather BERTs were trained with Google's BERT code,
    /// whose MNLI labels are contradiction, entailment, neutral).
    label_order: Option<&'static [&'static str]>,
}

fn hub_population(task: TaskName) -> anyhow::Result<HubPopulation> {
    match task {
        TaskName::Mnli => Ok(HubPopulation {
            reference: |seed| format!("hf:connectivity/feather_berts_{seed}"),
            steps: &[],
            label_order: Some(&["contradiction", "entailment", "neutral"]),
        }),
        TaskName::Qqp => Ok(HubPopulation {
            reference: |seed| format!("hf:connectivity/bert_ft_qqp-{seed}"),
            steps: &[15000, 20000, 25000, 30000],
            label_order: None,
        }),
        other => {
            bail!("--from-hub: the paper released populations for mnli and qqp only, not {other}")
        }
    }
}

/// One stage of the plan: an `lmc` command, typed.
enum Stage {
    Finetune(Box<FinetuneArgs>),
    Sweep(Box<SweepArgs>),
    Analyze(Box<AnalyzeArgs>),
    Surface(Box<SurfaceArgs>),
    Report(Box<ReportArgs>),
}

impl Stage {
    /// The `lmc` command line this stage equals (without `lmc`).
    fn command_line(&self) -> Vec<String> {
        let mut line = CommandLine::default();
        match self {
            Stage::Finetune(args) => render_finetune(&mut line, args),
            Stage::Sweep(args) => render_sweep(&mut line, args),
            Stage::Analyze(args) => render_analyze(&mut line, args),
            Stage::Surface(args) => render_surface(&mut line, args),
            Stage::Report(args) => render_report(&mut line, args),
        }
        line.0
    }

    fn run(self) -> anyhow::Result<()> {
        match self {
            Stage::Finetune(args) => crate::finetune::run(*args),
            Stage::Sweep(args) => crate::sweep::run(*args),
            Stage::Analyze(args) => crate::cluster::run_analyze(*args),
            Stage::Surface(args) => crate::surface::run(*args),
            Stage::Report(args) => crate::report::run(*args),
        }
    }
}

/// An `lmc` command line being written, option by option.
#[derive(Default)]
struct CommandLine(Vec<String>);

impl CommandLine {
    fn word(&mut self, word: impl ToString) {
        self.0.push(word.to_string());
    }

    fn option(&mut self, name: &str, value: impl ToString) {
        self.word(name);
        self.word(value);
    }

    fn maybe(&mut self, name: &str, value: Option<impl ToString>) {
        if let Some(value) = value {
            self.option(name, value);
        }
    }

    fn path(&mut self, name: &str, path: &Path) {
        self.option(name, path.display());
    }

    fn flag(&mut self, name: &str, on: bool) {
        if on {
            self.word(name);
        }
    }

    fn list<T: ToString>(&mut self, name: &str, values: Option<&[T]>) {
        if let Some(values) = values {
            let text: Vec<String> = values.iter().map(T::to_string).collect();
            self.option(name, text.join(","));
        }
    }

    fn compute(&mut self, compute: &ComputeOptions) {
        self.option("--backend", compute.backend.as_str());
        self.maybe("--device", compute.device);
        self.maybe("--threads", compute.threads.threads);
        self.maybe("--precision", compute.precision);
    }

    fn evaluation(&mut self, evaluation: &crate::eval::EvaluationOptions) {
        if let Some(dir) = &evaluation.data_dir {
            self.path("--data-dir", dir);
        }
        self.option("--batch-size", evaluation.batch_size);
        self.option("--max-length", evaluation.max_length);
        self.list("--label-order", evaluation.label_order.as_deref());
        self.compute(&evaluation.compute);
    }
}

fn render_finetune(line: &mut CommandLine, args: &FinetuneArgs) {
    line.word("finetune");
    line.option("--task", args.task);
    line.maybe("--seeds", args.seeds.as_ref().map(|s| seeds_text(&s.0)));
    line.maybe("--seed", args.seed);
    line.maybe("--head-seed", args.head_seed);
    line.maybe("--data-seed", args.data_seed);
    line.option("--preset", args.preset.name());
    line.maybe("--model", args.model.as_ref());
    if let Some(recipe) = &args.recipe {
        line.path("--recipe", recipe);
    }
    line.maybe("--learning-rate", args.learning_rate);
    line.maybe("--epochs", args.epochs);
    line.maybe("--max-steps", args.max_steps);
    line.maybe("--batch-size", args.batch_size);
    line.maybe("--max-length", args.max_length);
    line.maybe("--train-examples", args.train_examples);
    line.maybe("--warmup-ratio", args.warmup_ratio);
    line.maybe("--weight-decay", args.weight_decay);
    line.maybe("--dropout", args.dropout);
    line.maybe("--max-grad-norm", args.max_grad_norm);
    line.list("--save-steps", args.save_steps.as_deref());
    line.maybe("--resume-every", args.resume_every);
    line.maybe("--batch-slices", args.batch_slices);
    line.maybe("--length-grouping-window", args.length_grouping_window);
    if let Some(dir) = &args.data_dir {
        line.path("--data-dir", dir);
    }
    if let Some(dir) = &args.out {
        line.path("--out", dir);
    }
    if let Some(dir) = &args.cache_dir {
        line.path("--cache-dir", dir);
    }
    line.maybe("--dropout-masks", args.dropout_masks.map(|m| m.as_str()));
    line.compute(&args.compute);
}

fn render_sweep(line: &mut CommandLine, args: &SweepArgs) {
    let run = &args.run;
    line.word("sweep");
    line.maybe("--task", run.task);
    line.word("--models");
    for model in &run.models {
        line.word(model);
    }
    line.maybe("--pairs", run.pairs.as_ref());
    line.option("--alphas", &run.alphas);
    line.option("--sets", &run.sets);
    line.maybe("--full-sets", run.full_sets.as_ref());
    if let Some(dir) = &run.out {
        line.path("--out", dir);
    }
    line.maybe("--shard", run.shard);
    line.flag("--checkpoints", run.checkpoints);
    line.maybe("--checkpoint-sets", run.checkpoint_sets.as_ref());
    line.flag("--dry-run", run.dry_run);
    line.evaluation(&run.evaluation);
}

fn render_analyze(line: &mut CommandLine, args: &AnalyzeArgs) {
    line.word("analyze");
    if let Some(dir) = &args.results {
        line.path("--results", dir);
    }
    line.path("--out", &args.out);
    line.option("--in-domain-set", &args.in_domain_set);
    line.option("--diagnostic-set", &args.diagnostic_set);
    line.option("--k", args.clustering.k);
    line.option("--delta", args.clustering.delta);
    line.option("--kmeans-seed", args.clustering.kmeans_seed);
    line.option("--restarts", args.clustering.restarts);
    line.maybe("--threads", args.threads.threads);
}

fn render_surface(line: &mut CommandLine, args: &SurfaceArgs) {
    line.word("surface");
    line.option("--task", args.task);
    line.option("--anchor", &args.anchor);
    line.word("--bases");
    for base in &args.bases {
        line.word(base);
    }
    line.option("--grid", &args.grid);
    line.option("--sets", &args.sets);
    line.maybe("--plane", args.plane.as_ref());
    line.path("--out", &args.out);
    line.evaluation(&args.evaluation);
}

fn render_report(line: &mut CommandLine, args: &ReportArgs) {
    line.word("report");
    line.path("--results", &args.results);
    if let Some(dir) = &args.analysis {
        line.path("--analysis", dir);
    }
    line.path("--out", &args.out);
    if let Some(context) = &args.context {
        line.path("--context", context);
    }
    line.option("--in-domain-set", &args.in_domain_set);
    line.option("--diagnostic-set", &args.diagnostic_set);
}

/// A command's arguments with clap's defaults, from its required options only: every default is
/// defined once, by the command's own `#[arg]` attributes.
fn defaults(words: &[&str]) -> anyhow::Result<crate::Command> {
    let cli = Cli::try_parse_from(std::iter::once("lmc").chain(words.iter().copied()))
        .with_context(|| format!("lmc {}", words.join(" ")))?;
    Ok(cli.command)
}

fn finetune_defaults(task: TaskName) -> anyhow::Result<FinetuneArgs> {
    match defaults(&["finetune", "--task", task.as_str()])? {
        crate::Command::Finetune(crate::finetune::FinetuneCommand::Run(args)) => Ok(args),
        _ => unreachable!("`lmc finetune` parses as finetune"),
    }
}

fn sweep_defaults(task: TaskName) -> anyhow::Result<SweepArgs> {
    match defaults(&[
        "sweep",
        "--task",
        task.as_str(),
        "--models",
        "-",
        "--out",
        "-",
    ])? {
        crate::Command::Sweep(args) => Ok(args),
        _ => unreachable!("`lmc sweep` parses as sweep"),
    }
}

fn analyze_defaults() -> anyhow::Result<AnalyzeArgs> {
    match defaults(&["analyze", "--results", "-", "--out", "-"])? {
        crate::Command::Analyze(args) => Ok(args),
        _ => unreachable!("`lmc analyze` parses as analyze"),
    }
}

fn surface_defaults(task: TaskName) -> anyhow::Result<SurfaceArgs> {
    let words = [
        "surface",
        "--task",
        task.as_str(),
        "--anchor",
        "-",
        "--bases",
        "-",
        "-",
        "--out",
        "-",
    ];
    match defaults(&words)? {
        crate::Command::Surface(args) => Ok(args),
        _ => unreachable!("`lmc surface` parses as surface"),
    }
}

fn report_defaults() -> anyhow::Result<ReportArgs> {
    match defaults(&["report", "--results", "-", "--out", "-"])? {
        crate::Command::Report(args) => Ok(args),
        _ => unreachable!("`lmc report` parses as report"),
    }
}

/// Examples a stage runs through the model: trained (forward and backward) or evaluated
/// (forward only).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Work {
    trained: f64,
    evaluated: f64,
}

impl Work {
    fn training(examples: f64) -> Work {
        Work {
            trained: examples,
            evaluated: 0.0,
        }
    }

    fn evaluation(examples: f64) -> Work {
        Work {
            trained: 0.0,
            evaluated: examples,
        }
    }
}

/// What an evaluated example costs in trained examples' time until a stage of evaluation has been
/// timed: measured on the CPU, default preset, MNLI, 2026-12-04 (fine-tuning 32,768 examples in
/// 678 s, sweeping 96,960 in 424 s: 48 trained and 229 evaluated examples per second with
/// all-MiniLM-L6-v2 on 2 cores).
const EVALUATION_COST: f64 = 48.0 / 229.0;

/// Stages shorter than this found their work already done (a rerun) and say nothing of a rate.
const TIMED_STAGE_SECONDS: f64 = 1.0;

/// The time left of a reproduction: the work of the stages to come over the rates of the stages
/// that finished, each kind of work at its own rate.
#[derive(Debug, Default)]
struct Estimate {
    left: Work,
    timed: Work,
    training_seconds: f64,
    evaluation_seconds: f64,
}

impl Estimate {
    fn plan(&mut self, work: Work) {
        self.left.trained += work.trained;
        self.left.evaluated += work.evaluated;
    }

    /// Records a finished stage; its time counts for the kind of work it did.
    fn finished(&mut self, work: Work, seconds: f64) {
        self.left.trained = (self.left.trained - work.trained).max(0.0);
        self.left.evaluated = (self.left.evaluated - work.evaluated).max(0.0);
        if seconds < TIMED_STAGE_SECONDS {
            return;
        }
        if work.trained > 0.0 {
            self.timed.trained += work.trained;
            self.training_seconds += seconds;
        } else if work.evaluated > 0.0 {
            self.timed.evaluated += work.evaluated;
            self.evaluation_seconds += seconds;
        }
    }

    /// Seconds left, once the kinds of work still to come have a rate.
    fn seconds_left(&self) -> Option<f64> {
        let rate = |examples: f64, seconds: f64| (seconds > 0.0).then(|| examples / seconds);
        let training = rate(self.timed.trained, self.training_seconds);
        let evaluation = rate(self.timed.evaluated, self.evaluation_seconds)
            .or_else(|| training.map(|r| r / EVALUATION_COST));
        let mut seconds = 0.0;
        if self.left.trained > 0.0 {
            seconds += self.left.trained / training?;
        }
        if self.left.evaluated > 0.0 {
            seconds += self.left.evaluated / evaluation?;
        }
        Some(seconds)
    }
}

/// The stages of one reproduction: each is announced with its command line, the time so far and
/// the estimate of the time left, then run and timed.
struct Stages {
    total: usize,
    started: Instant,
    estimate: Estimate,
}

impl Stages {
    /// Runs stage `number`, which does `work`; returns its wall time.
    fn run(&mut self, number: usize, name: &str, stage: Stage, work: Work) -> anyhow::Result<f64> {
        let left = match self.estimate.seconds_left() {
            Some(seconds) => format!("about {} left", clock(seconds)),
            None => "time left known after the first timed stage".to_owned(),
        };
        eprintln!(
            "\n[{number}/{}] {name} ({} into the reproduction, {left})\n$ lmc {}",
            self.total,
            clock(self.started.elapsed().as_secs_f64()),
            stage.command_line().join(" ")
        );
        let start = Instant::now();
        stage.run().with_context(|| {
            format!("stage {number} ({name}) failed; rerun the same command to resume")
        })?;
        let seconds = start.elapsed().as_secs_f64();
        self.estimate.finished(work, seconds);
        Ok(seconds)
    }
}

/// Evaluated examples of a sweep of `models` models at `alphas` points: every model once (the
/// endpoints, on `per_point` examples and the `full` ones) and every pair at each interior α.
fn sweep_work(models: usize, alphas: usize, per_point: usize, full: usize) -> Work {
    let pairs = models * models.saturating_sub(1) / 2;
    let points = models + pairs * alphas.saturating_sub(2);
    Work::evaluation((points * per_point + models * full) as f64)
}

/// Examples in `sets` (as `--sets` reads them, or `none`), loaded as the sweep loads them.
fn examples_in(
    sets: &str,
    task: &TaskSpec,
    search: &DataDirSearch,
    files: &mut Option<lmc_data::TaskFiles>,
) -> anyhow::Result<usize> {
    if sets == "none" {
        return Ok(0);
    }
    let mut examples = 0;
    for request in lmc_sweep::SetRequest::parse_list(sets)? {
        examples += lmc_sweep::load_set(&request, task, search, files)?.len();
    }
    Ok(examples)
}

/// The `lmc finetune` calls of a population: one per head seed when `head_seeds` K is fewer than
/// the seeds (seed s in the call of head seed s mod K), else one for all (each its own head).
fn seed_groups(seeds: &[u64], head_seeds: Option<u64>) -> Vec<(Vec<u64>, Option<u64>)> {
    match head_seeds {
        Some(k) if (k as usize) < seeds.len() => (0..k)
            .filter_map(|head| {
                let members: Vec<u64> = seeds.iter().copied().filter(|s| s % k == head).collect();
                (!members.is_empty()).then_some((members, Some(head)))
            })
            .collect(),
        _ => vec![(seeds.to_vec(), None)],
    }
}

/// `seeds` as `--seeds` reads them: a range for consecutive seeds, else a list (one seed with
/// a trailing comma, since a bare number is a count).
fn seeds_text(seeds: &[u64]) -> String {
    match seeds {
        [one] => format!("{one},"),
        [first, .., last] if seeds.windows(2).all(|w| w[1] == w[0] + 1) => {
            format!("{first}..{}", last + 1)
        }
        _ => seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(","),
    }
}

fn describe_heads(seeds: usize, head_seeds: Option<u64>) -> String {
    match head_seeds {
        Some(k) if (k as usize) < seeds => {
            format!("{k}, shared: seed s starts from head seed s mod {k}")
        }
        _ => "one per seed (the paper's design)".to_owned(),
    }
}

/// The updates after which each run keeps a checkpoint for the training-dynamics sweep: a third
/// and two thirds of its updates.
fn checkpoint_steps(total_updates: u64) -> Vec<u64> {
    let mut steps: Vec<u64> = [total_updates / 3, 2 * total_updates / 3]
        .into_iter()
        .filter(|&step| step > 0 && step < total_updates)
        .collect();
    steps.dedup();
    steps
}

/// Three models for the surface, from the analysis' clusters: two of the largest cluster
/// and one of the next when there is one (else a third of the same).
fn surface_models(clustering: &lmc_analysis::Clustering) -> anyhow::Result<(String, [String; 2])> {
    let of = |id: usize| {
        clustering
            .names
            .iter()
            .zip(&clustering.labels)
            .filter(move |(_, label)| **label == id)
            .map(|(name, _)| name.clone())
    };
    let largest: Vec<String> = of(0).collect();
    match (largest.as_slice(), of(1).next()) {
        ([a, b, ..], Some(c)) => Ok((a.clone(), [b.clone(), c])),
        ([a, b, c, ..], None) => Ok((a.clone(), [b.clone(), c.clone()])),
        _ => bail!(
            "the surface needs three models, two of them in one cluster; the clusters are {:?}",
            clustering.sizes()
        ),
    }
}

/// `runs/reproduce/<task>-<preset>`, with `-hub` for the released population and `-cuda` for GPU
/// runs, so that populations never share a folder (the sweep takes every run in the folder).
fn default_out(task: TaskName, preset: &str, from_hub: bool, backend: BackendChoice) -> PathBuf {
    let mut name = format!("{task}-{preset}");
    if from_hub {
        name.push_str("-hub");
    }
    if backend == BackendChoice::Cuda {
        name.push_str("-cuda");
    }
    PathBuf::from("runs").join("reproduce").join(name)
}

pub fn run(args: ReproduceArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let preset = if args.from_hub {
        Preset::Paper
    } else {
        args.preset
    };
    let plan = plan(preset, args.task);
    let seed_list = args
        .seeds
        .clone()
        .map_or_else(|| (0..plan.seeds).collect(), |list| list.0);
    let seeds = seed_list.len();
    let head_seeds = args.head_seeds.or(plan.head_seeds);
    if let Some(k) = head_seeds
        && (k == 0 || k as usize > seeds)
    {
        bail!("--head-seeds {k}: need between 1 and the number of seeds ({seeds})");
    }
    if args.from_hub && args.head_seeds.is_some() {
        bail!(
            "--head-seeds chooses how lmc fine-tunes; --from-hub takes the released models as they are"
        );
    }
    let hub = if args.from_hub {
        Some(hub_population(args.task)?)
    } else {
        None
    };
    crate::backend::check(args.compute)?;
    let precision = args.compute.precision()?.as_str().to_owned();
    let backend = args.compute.backend.as_str().to_owned();
    let out = args.out.clone().unwrap_or_else(|| {
        default_out(
            args.task,
            args.preset.name(),
            args.from_hub,
            args.compute.backend,
        )
    });
    crate::paths::create_dir(&out)?;
    let mut stages = Stages {
        total: 6,
        started,
        estimate: Estimate::default(),
    };

    eprintln!("[1/{}] model and data", stages.total);
    let cache = crate::setup::cache_dir(args.cache_dir.clone())?;
    // The paper's model must be here before any work; MiniLM installs itself.
    let paper_model = match (&hub, preset) {
        (None, Preset::Paper) => Some(crate::models::bert_base_uncased(&cache)?),
        _ => None,
    };
    let minilm = lmc_bert::pretrained::ensure_minilm(&cache)?;
    let env = SearchEnv::from_process();
    let search = DataDirSearch::new(args.data_dir.as_deref(), &env);
    let files = TaskSpec::builtin(args.task)
        .locate(&search)
        .with_context(|| format!("locating the {} data", args.task))?;
    let data_dir = files.train.data_dir.root.clone();
    let mut provenance = vec![format!(
        "data directory: {} ({:?})",
        data_dir.display(),
        files.train.data_dir.source
    )];
    if files.mode == DataMode::OfflineSplit {
        provenance.push(format!(
            "offline split: {} stands in for the official train and evaluation files (see datasets/README.md)",
            files.train.relative
        ));
    }
    for located in &files.diagnostics {
        if located.relative.contains("regenerated") {
            provenance.push(format!(
                "{}: regenerated with the HANS templates, not the original release",
                located.relative
            ));
        }
    }
    let population = out.join("population");
    let results = out.join("results");
    let analysis = out.join("analysis");
    let report = out.join("report");
    let compute = ComputeOptions {
        precision: Some(args.compute.precision()?),
        ..args.compute
    };

    // The models are evaluated at the length they were trained at (the paper's 128; the smoke
    // preset's tiny BERT has 64 positions).
    let max_length = preset.recipe(args.task).max_length;

    // The evaluation work of stages 3 and 5, for the estimate of the time left.
    let task_spec = TaskSpec::builtin(args.task);
    let mut located = Some(files);
    let mut examples = |sets: &str| examples_in(sets, &task_spec, &search, &mut located);
    let sweep_examples = examples(&format!("id:{n},ood:{n}", n = plan.examples_per_set))?;
    let main_sweep_work = sweep_work(
        seeds,
        plan.alphas,
        sweep_examples,
        examples(plan.full_sets)?,
    );
    let checkpoint_work = sweep_work(seeds, plan.alphas, examples(plan.checkpoint_sets)?, 0);
    let (grid_x, grid_y) = crate::surface::grid_axes(plan.surface_grid)?;
    let surface_work =
        Work::evaluation((grid_x.len() * grid_y.len() * examples(plan.surface_sets)?) as f64);

    // Stage 2: the population (or the released one's references).
    let mut seconds = serde_json::Map::new();
    let (models, model_description, checkpoints): (Vec<String>, String, Vec<u64>) = match &hub {
        Some(hub) => {
            let models: Vec<String> = seed_list.iter().map(|&s| (hub.reference)(s)).collect();
            eprintln!(
                "\n[2/{}] the released population: {} … {} ({} models, from the Hugging Face cache or hub)",
                stages.total,
                models[0],
                models[models.len() - 1],
                models.len()
            );
            let start = Instant::now();
            crate::models::resolve(&models)?;
            seconds.insert("hub".into(), start.elapsed().as_secs_f64().into());
            let description = format!(
                "{} (released)",
                models[0].trim_end_matches(char::is_numeric)
            );
            (models, description, hub.steps.to_vec())
        }
        None => {
            let recipe = preset.recipe(args.task);
            let tokenizer_dir = paper_model.clone().unwrap_or_else(|| minilm.clone());
            let train = TrainingSet::prepare(args.task, &search, &tokenizer_dir, &recipe)
                .with_context(|| format!("preparing the {} training set", args.task))?;
            let per_epoch = train.examples.len().div_ceil(recipe.batch_size) as u64;
            let updates = recipe
                .max_steps
                .unwrap_or(per_epoch * u64::from(recipe.epochs));
            let steps = checkpoint_steps(updates);
            let trained_per_seed = (updates * recipe.batch_size as u64) as f64;
            stages
                .estimate
                .plan(Work::training(trained_per_seed * seeds as f64));
            let mut total = 0.0;
            for (group, head_seed) in seed_groups(&seed_list, head_seeds) {
                let work = Work::training(trained_per_seed * group.len() as f64);
                let mut finetune = finetune_defaults(args.task)?;
                finetune.preset = preset;
                finetune.seeds = Some(SeedList(group));
                finetune.head_seed = head_seed;
                finetune.save_steps = (!steps.is_empty()).then(|| steps.clone());
                finetune.data_dir = Some(data_dir.clone());
                finetune.out = Some(population.clone());
                finetune.model = paper_model.as_ref().map(|dir| dir.display().to_string());
                finetune.cache_dir = Some(cache.clone());
                finetune.compute = compute;
                total += stages.run(
                    2,
                    "fine-tune the population",
                    Stage::Finetune(Box::new(finetune)),
                    work,
                )?;
            }
            seconds.insert("finetune".into(), total.into());
            let description = match (preset, &paper_model) {
                (Preset::Smoke, _) => "tiny random BERT (2 layers, width 32)".to_owned(),
                (_, Some(dir)) => dir.display().to_string(),
                _ => minilm.display().to_string(),
            };
            (vec![population.display().to_string()], description, steps)
        }
    };

    // Stage 3: every pair, then every checkpoint step's population.
    let label_order: Option<Vec<String>> = hub
        .as_ref()
        .and_then(|h| h.label_order)
        .map(|order| order.iter().map(|s| (*s).to_owned()).collect());
    let main_sweep = || -> anyhow::Result<SweepArgs> {
        let mut sweep = sweep_defaults(args.task)?;
        sweep.run.models = models.clone();
        sweep.run.alphas = plan.alphas.to_string();
        sweep.run.sets = format!("id:{n},ood:{n}", n = plan.examples_per_set);
        sweep.run.full_sets = Some(plan.full_sets.to_owned());
        sweep.run.out = Some(results.clone());
        sweep.run.evaluation.data_dir = Some(data_dir.clone());
        sweep.run.evaluation.max_length = max_length;
        sweep.run.evaluation.label_order = label_order.clone();
        sweep.run.evaluation.compute = compute;
        Ok(sweep)
    };
    let checkpoint_work = |steps: usize| Work::evaluation(checkpoint_work.evaluated * steps as f64);
    stages.estimate.plan(main_sweep_work);
    stages.estimate.plan(checkpoint_work(checkpoints.len()));
    stages.estimate.plan(surface_work);
    let mut sweep_seconds = 0.0;
    match &hub {
        Some(_) => {
            sweep_seconds += stages.run(
                3,
                "sweep every pair",
                Stage::Sweep(Box::new(main_sweep()?)),
                main_sweep_work,
            )?;
            for &step in &checkpoints {
                let mut at_step = main_sweep()?;
                at_step.run.models = models.iter().map(|m| format!("{m}@step={step}")).collect();
                at_step.run.sets = plan.checkpoint_sets.to_owned();
                at_step.run.full_sets = Some("none".to_owned());
                at_step.run.out = Some(lmc_analysis::schema::checkpoint_results(&results, step));
                sweep_seconds += stages.run(
                    3,
                    &format!("sweep the checkpoints at step {step}"),
                    Stage::Sweep(Box::new(at_step)),
                    checkpoint_work(1),
                )?;
            }
        }
        None => {
            let mut sweep = main_sweep()?;
            sweep.run.checkpoints = !checkpoints.is_empty();
            sweep.run.checkpoint_sets = sweep
                .run
                .checkpoints
                .then(|| plan.checkpoint_sets.to_owned());
            let work = Work::evaluation(
                main_sweep_work.evaluated + checkpoint_work(checkpoints.len()).evaluated,
            );
            sweep_seconds += stages.run(
                3,
                "sweep every pair, then each checkpoint's population",
                Stage::Sweep(Box::new(sweep)),
                work,
            )?;
        }
    }
    seconds.insert("sweep".into(), sweep_seconds.into());

    let mut analyze = analyze_defaults()?;
    analyze.results = Some(results.clone());
    analyze.out = analysis.clone();
    let analyze_seconds = stages.run(
        4,
        "barriers, clusters, correlation",
        Stage::Analyze(Box::new(analyze)),
        Work::default(),
    )?;
    seconds.insert("analyze".into(), analyze_seconds.into());

    // Stage 5: the plane through two models of one basin and one of another.
    let (anchor, bases) = surface_models(&lmc_analysis::Analysis::read(&analysis)?.clustering)?;
    let model_argument = |name: &str| -> String {
        match &hub {
            Some(_) => models
                .iter()
                .find(|m| {
                    crate::models::hub_model_name(&lmc_hub::HubRef::parse(m).expect("built above"))
                        == name
                })
                .cloned()
                .unwrap_or_else(|| name.to_owned()),
            None => lmc_sweep::discover_models(std::slice::from_ref(&population))
                .ok()
                .and_then(|d| d.models.into_iter().find(|m| m.name == name))
                .and_then(|m| m.run_dir)
                .map_or_else(|| name.to_owned(), |dir| dir.display().to_string()),
        }
    };
    let mut surface = surface_defaults(args.task)?;
    surface.anchor = model_argument(&anchor);
    surface.bases = bases.iter().map(|b| model_argument(b)).collect();
    surface.grid = plan.surface_grid.to_owned();
    surface.sets = plan.surface_sets.to_owned();
    surface.plane = Some(format!("{anchor}-{}-{}", bases[0], bases[1]));
    surface.out = results.clone();
    surface.evaluation.data_dir = Some(data_dir.clone());
    surface.evaluation.max_length = max_length;
    surface.evaluation.label_order = label_order;
    surface.evaluation.compute = compute;
    let surface_seconds = stages.run(
        5,
        "loss surface through three models",
        Stage::Surface(Box::new(surface)),
        surface_work,
    )?;
    seconds.insert("surface".into(), surface_seconds.into());

    let context_path = out.join("context.json");
    let context = json!({
        "title": format!("Linear mode connectivity of {} fine-tunes ({} preset{})", args.task, preset.name(), if hub.is_some() { ", the paper's released models" } else { "" }),
        "task": args.task.as_str(),
        "preset": preset.name(),
        "configuration": [
            ["model", model_description],
            ["seeds", seeds.to_string()],
            ["head initialisations", if hub.is_some() { "as released".to_owned() } else { describe_heads(seeds, head_seeds) }],
            ["alpha points", plan.alphas.to_string()],
            ["examples per set", plan.examples_per_set.to_string()],
            ["backend", backend.clone()],
            ["precision", precision.clone()],
        ],
        "provenance": provenance,
    });
    lmc_atomic::write(&context_path, &serde_json::to_vec_pretty(&context)?)
        .with_context(|| format!("cannot write {}", context_path.display()))?;
    let mut report_args = report_defaults()?;
    report_args.results = results.clone();
    report_args.analysis = Some(analysis.clone());
    report_args.context = Some(context_path);
    report_args.out = report.clone();
    let report_seconds = stages.run(
        6,
        "figures and report",
        Stage::Report(Box::new(report_args)),
        Work::default(),
    )?;
    seconds.insert("report".into(), report_seconds.into());

    let total = started.elapsed().as_secs_f64();
    seconds.insert("total".into(), total.into());
    let record = json!({
        "task": args.task.as_str(),
        "preset": preset.name(),
        "from_hub": args.from_hub,
        "seeds": seeds,
        "seed_list": seed_list,
        "head_seeds": head_seeds.filter(|&k| (k as usize) < seeds).unwrap_or(seeds as u64),
        "alphas": plan.alphas,
        "examples_per_set": plan.examples_per_set,
        "checkpoint_steps": checkpoints,
        "seconds": seconds,
        "precision": precision,
        "provenance": crate::backend::provenance_on(backend.clone()),
    });
    let record_path = out.join("reproduce.json");
    lmc_atomic::write(&record_path, &serde_json::to_vec_pretty(&record)?)
        .with_context(|| format!("cannot write {}", record_path.display()))?;
    eprintln!(
        "\ndone in {}\n  report:  {}\n  figures: {}\n  tables:  {}\n  models:  {}",
        clock(total),
        report.join("report.html").display(),
        report.display(),
        analysis.display(),
        if hub.is_some() {
            "the Hugging Face cache".to_owned()
        } else {
            population.display().to_string()
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(n: u64) -> Vec<u64> {
        (0..n).collect()
    }

    #[test]
    fn shared_heads_split_the_seeds_by_their_remainder() {
        assert_eq!(
            seed_groups(&count(8), Some(2)),
            [(vec![0, 2, 4, 6], Some(0)), (vec![1, 3, 5, 7], Some(1))]
        );
        assert_eq!(
            seed_groups(&count(5), Some(3)),
            [
                (vec![0, 3], Some(0)),
                (vec![1, 4], Some(1)),
                (vec![2], Some(2))
            ]
        );
        assert_eq!(
            seed_groups(&[8, 9, 10, 11], Some(2)),
            [(vec![8, 10], Some(0)), (vec![9, 11], Some(1))]
        );
    }

    #[test]
    fn one_head_per_seed_is_one_call() {
        assert_eq!(seed_groups(&count(8), None), [(count(8), None)]);
        assert_eq!(seed_groups(&count(4), Some(4)), [(count(4), None)]);
    }

    #[test]
    fn seed_texts_read_back_as_the_same_seeds() {
        for seeds in [vec![3], vec![0, 1, 2], vec![5, 7, 9], vec![4, 5, 7]] {
            let text = seeds_text(&seeds);
            assert_eq!(text.parse::<SeedList>().unwrap().0, seeds, "{text}");
        }
    }

    #[test]
    fn a_sweep_evaluates_every_model_once_and_every_pair_inside_the_path() {
        // 8 models, 28 pairs, 4 interior points each: 120 model evaluations, as the sweep counts.
        let work = sweep_work(8, 6, 512, 600);
        assert_eq!(work, Work::evaluation((120 * 512 + 8 * 600) as f64));
        assert_eq!(sweep_work(1, 10, 512, 0), Work::evaluation(512.0));
    }

    #[test]
    fn the_time_left_comes_from_the_rates_of_the_stages_that_finished() {
        let mut estimate = Estimate::default();
        estimate.plan(Work::training(1000.0));
        estimate.plan(Work::evaluation(7000.0));
        assert_eq!(estimate.seconds_left(), None, "nothing timed yet");
        // A rerun's stage that found its work done says nothing of the rate.
        estimate.finished(Work::training(500.0), 0.1);
        assert_eq!(estimate.seconds_left(), None);
        // 500 trained examples in 50 s: 10/s; evaluation until timed at 10 / EVALUATION_COST.
        estimate.finished(Work::training(500.0), 50.0);
        let left = estimate.seconds_left().unwrap();
        assert!(
            (left - 7000.0 * EVALUATION_COST / 10.0).abs() < 1e-9,
            "{left}"
        );
        // Once evaluation is timed, its own rate: 3500 in 100 s leaves 3500 at 35/s.
        estimate.finished(Work::evaluation(3500.0), 100.0);
        assert!((estimate.seconds_left().unwrap() - 100.0).abs() < 1e-9);
        estimate.finished(Work::evaluation(3500.0), 100.0);
        assert_eq!(estimate.seconds_left(), Some(0.0));
    }

    #[test]
    fn evaluation_alone_waits_for_its_own_rate() {
        // The released population: no training, so no rate until the first sweep is timed.
        let mut estimate = Estimate::default();
        estimate.plan(Work::evaluation(100.0));
        estimate.finished(Work::default(), 30.0);
        assert_eq!(estimate.seconds_left(), None);
        estimate.finished(Work::evaluation(50.0), 5.0);
        assert_eq!(estimate.seconds_left(), Some(5.0));
    }

    #[test]
    fn checkpoints_fall_at_a_third_and_two_thirds() {
        assert_eq!(checkpoint_steps(128), [42, 85]);
        assert_eq!(checkpoint_steps(4), [1, 2]);
        assert_eq!(checkpoint_steps(2), [1]);
        assert!(checkpoint_steps(1).is_empty());
    }

    /// Every stage's printed command line parses back into the very arguments it stands for.
    #[test]
    fn printed_stages_parse_back_into_the_same_arguments() {
        let compute = ComputeOptions {
            precision: Some(lmc_bert::Precision::Bf16),
            device: Some(1),
            threads: crate::backend::ThreadsOption { threads: Some(3) },
            ..ComputeOptions::on(BackendChoice::Cuda)
        };
        let mut finetune = finetune_defaults(TaskName::Mnli).unwrap();
        finetune.preset = Preset::Default;
        finetune.seeds = Some(SeedList(vec![1, 3, 5]));
        finetune.head_seed = Some(1);
        finetune.save_steps = Some(vec![42, 85]);
        finetune.data_dir = Some(PathBuf::from("data dir"));
        finetune.out = Some(PathBuf::from("out/population"));
        finetune.model = Some("hf:bert-base-uncased".into());
        finetune.compute = compute;
        let mut sweep = sweep_defaults(TaskName::Mnli).unwrap();
        sweep.run.models = vec!["hf:connectivity/feather_berts_{0..3}".into(), "pop".into()];
        sweep.run.full_sets = Some("hans:600".into());
        sweep.run.out = Some(PathBuf::from("results"));
        sweep.run.checkpoints = true;
        sweep.run.checkpoint_sets = Some("id:64,ood:64".into());
        sweep.run.evaluation.label_order = Some(vec![
            "contradiction".into(),
            "entailment".into(),
            "neutral".into(),
        ]);
        sweep.run.evaluation.compute = compute;
        let mut analyze = analyze_defaults().unwrap();
        analyze.results = Some(PathBuf::from("results"));
        analyze.out = PathBuf::from("analysis");
        let mut surface = surface_defaults(TaskName::Mnli).unwrap();
        surface.anchor = "runs/seed0-abc".into();
        surface.bases = vec!["runs/seed2-def".into(), "hf:org/m@step=5".into()];
        surface.plane = Some("seed0-seed2-m".into());
        surface.evaluation.compute = compute;
        let mut report = report_defaults().unwrap();
        report.analysis = Some(PathBuf::from("analysis"));
        report.context = Some(PathBuf::from("context.json"));
        for stage in [
            Stage::Finetune(Box::new(finetune)),
            Stage::Sweep(Box::new(sweep)),
            Stage::Analyze(Box::new(analyze)),
            Stage::Surface(Box::new(surface)),
            Stage::Report(Box::new(report)),
        ] {
            let line = stage.command_line();
            let parsed = defaults(&line.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
            let expected = match stage {
                Stage::Finetune(args) => format!(
                    "{:?}",
                    crate::Command::Finetune(crate::finetune::FinetuneCommand::Run(*args))
                ),
                Stage::Sweep(args) => format!("{:?}", crate::Command::Sweep(*args)),
                Stage::Analyze(args) => format!("{:?}", crate::Command::Analyze(*args)),
                Stage::Surface(args) => format!("{:?}", crate::Command::Surface(*args)),
                Stage::Report(args) => format!("{:?}", crate::Command::Report(*args)),
            };
            assert_eq!(format!("{parsed:?}"), expected, "lmc {}", line.join(" "));
        }
    }

    #[test]
    fn the_surface_takes_two_models_of_one_basin_and_one_of_the_other() {
        let clustering = |pairs: &[(&str, usize)]| lmc_analysis::Clustering {
            names: pairs.iter().map(|(n, _)| (*n).to_owned()).collect(),
            labels: pairs.iter().map(|(_, l)| *l).collect(),
            k: pairs.iter().map(|(_, l)| l + 1).max().unwrap_or(0),
            eigengap_k: 1,
            eigenvalues: Vec::new(),
        };
        let two_basins = clustering(&[("seed0", 1), ("seed1", 0), ("seed2", 0), ("seed3", 1)]);
        assert_eq!(
            surface_models(&two_basins).unwrap(),
            ("seed1".into(), ["seed2".into(), "seed0".into()])
        );
        let one_basin = clustering(&[("a", 0), ("b", 0), ("c", 0)]);
        assert_eq!(
            surface_models(&one_basin).unwrap(),
            ("a".into(), ["b".into(), "c".into()])
        );
        assert!(surface_models(&clustering(&[("a", 0), ("b", 1)])).is_err());
    }
}
