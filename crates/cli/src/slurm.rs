//! Slurm array jobs: `lmc finetune slurm`, `lmc sweep slurm` and `lmc slurm pipeline`, the one
//! place where lmc writes sbatch scripts.
//!
//! A script's tasks run the lmc binary that wrote it, by absolute path, in the folder it was
//! written from (`#SBATCH --chdir`), so relative paths in the lmc options mean on the cluster
//! what they meant when the script was written. Those options are parsed with lmc's own command
//! line when the script is written: a typo fails then, with clap's message, instead of in every
//! task. The options a script sets per task (`--shard`, `--seed`/`--seeds`) are refused.
//!
//! Tasks are requeueable (`--requeue`), and safe to run again: a fine-tuning task resumes its
//! runs from their directories, a sweep shard takes its own lock back and skips the pairs it has
//! stored. Each task logs to `<log dir>/<job name>-<array job>_<task>.log`, appended to
//! (`--open-mode=append`) so that a requeued task keeps the log of its earlier attempts; every
//! attempt begins with a line saying which it is.
//!
//! Resources follow the backend of the lmc options: with `--backend cuda` a task asks for 1 GPU
//! and 4 CPUs, with `--backend cpu` for no GPU and 8 CPUs, and lmc computes on as many threads as
//! the task has CPUs (`--threads`, unless the options set it). `--gpus`, `--cpus-per-task`,
//! `--mem`, `--time`, `--partition`, `--account` and `--sbatch-option KEY=VALUE` change them.
//!
//! `lmc slurm pipeline` chains the jobs: fine-tuning, then the sweep's shards (`--no-merge`: no
//! two tasks write the same file), then one job that merges the tables (failing loudly when a
//! part is missing), analyses them and draws the report; `submit.sh` submits all three at once.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Parser, Subcommand};

use crate::backend::{BackendChoice, ComputeOptions};
use crate::finetune::{FinetuneArgs, FinetuneCommand, SeedList};
use crate::sweep::{RunArgs, SweepArgs};

/// CPUs of a task that computes on a GPU: enough to feed it.
const GPU_TASK_CPUS: usize = 4;
/// CPUs of a task that computes on the CPU.
const CPU_TASK_CPUS: usize = 8;
/// CPUs of the pipeline's merge job (merge, analysis and report) unless `--cpus-per-task` is set.
const MERGE_CPUS: usize = 4;

/// The `#SBATCH` settings of the jobs lmc writes, shared by every Slurm command.
#[derive(Debug, Clone, Args)]
pub struct SlurmOptions {
    /// Wall-time limit of each task (`--time`).
    #[arg(long, default_value = "24:00:00")]
    pub time: String,
    /// Partition (`--partition`) [default: the cluster's].
    #[arg(long)]
    pub partition: Option<String>,
    /// Account the jobs are charged to (`--account`) [default: the user's].
    #[arg(long)]
    pub account: Option<String>,
    /// GPUs per task (`--gres=gpu:N`; none for 0) [default: 1 with `--backend cuda` in the lmc
    /// options, else 0].
    #[arg(long)]
    pub gpus: Option<usize>,
    /// CPU cores per task (`--cpus-per-task`); on the CPU backend also lmc's `--threads`
    /// [default: 4 with `--backend cuda`, 8 with `--backend cpu`].
    #[arg(long, alias = "cpus")]
    pub cpus_per_task: Option<usize>,
    /// Memory per task (`--mem`).
    #[arg(long, default_value = "32G")]
    pub mem: String,
    /// Folder of the tasks' logs, created with the script [default: slurm-logs; for `lmc slurm pipeline`,
    /// logs/ in its --out].
    #[arg(long)]
    pub log_dir: Option<PathBuf>,
    /// Prefix of the job names (`--job-name`): NAME-finetune, NAME-sweep, NAME-merge.
    #[arg(long, default_value = "lmc")]
    pub job_name: String,
    /// Any other sbatch option, `KEY=VALUE` or `KEY`, repeatable (`--sbatch-option qos=long
    /// --sbatch-option constraint=a100`): one `#SBATCH --KEY=VALUE` line each.
    #[arg(long = "sbatch-option", value_name = "KEY[=VALUE]")]
    pub sbatch_options: Vec<SbatchOption>,
}

/// One `--sbatch-option`: an sbatch long option without its dashes, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbatchOption {
    key: String,
    value: Option<String>,
}

impl FromStr for SbatchOption {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (key, value) = match text.split_once('=') {
            Some((key, value)) => (key, Some(value.to_owned())),
            None => (text, None),
        };
        if key.len() < 2
            || key.starts_with('-')
            || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(format!(
                "`{text}`: give an sbatch long option without its dashes, KEY=VALUE or KEY \
                 (e.g. qos=long, exclusive)"
            ));
        }
        let set_by = match key {
            "time" => "--time",
            "partition" => "--partition",
            "account" => "--account",
            "gres" | "gpus" | "gpus-per-task" | "gpus-per-node" => "--gpus",
            "cpus-per-task" => "--cpus-per-task",
            "mem" => "--mem",
            "job-name" => "--job-name",
            "output" => "--log-dir",
            "array" | "requeue" | "no-requeue" | "open-mode" | "chdir" => {
                return Err(format!("`{key}`: lmc sets it in every script"));
            }
            _ => {
                return Ok(SbatchOption {
                    key: key.to_owned(),
                    value,
                });
            }
        };
        Err(format!("`{key}`: use lmc's {set_by} option"))
    }
}

/// `--seeds` and `--seeds-per-task` of the fine-tuning job.
#[derive(Debug, Clone, Args)]
pub struct SeedTasks {
    /// Seeds of the population, as `lmc finetune --seeds`: a count `8` (seeds 0 to 7), a range
    /// `8..16` or a list `0,3,7`.
    #[arg(long)]
    pub seeds: SeedList,
    /// Seeds each array task trains, one after the other.
    #[arg(long, default_value_t = 1)]
    pub seeds_per_task: usize,
}

/// Arguments of `lmc finetune slurm`.
#[derive(Debug, Args)]
pub struct FinetuneJobArgs {
    #[command(flatten)]
    pub seeds: SeedTasks,
    /// Where to write the script.
    #[arg(long, default_value = "finetune.sbatch")]
    pub script: PathBuf,
    #[command(flatten)]
    pub slurm: SlurmOptions,
    /// The `lmc finetune` options of every task (after `--`), without `--seed` and `--seeds`.
    #[arg(last = true, required = true)]
    pub finetune: Vec<String>,
}

/// Arguments of `lmc sweep slurm`.
#[derive(Debug, Args)]
pub struct SweepJobArgs {
    /// Number of shards: array task i runs `--shard i/n`.
    #[arg(long)]
    pub shards: usize,
    /// Where to write the script.
    #[arg(long, default_value = "sweep.sbatch")]
    pub script: PathBuf,
    #[command(flatten)]
    pub slurm: SlurmOptions,
    /// The `lmc sweep` options every shard runs with (after `--`), without `--shard`.
    #[arg(last = true, required = true)]
    pub sweep: Vec<String>,
}

/// `lmc slurm`: jobs that span several commands.
#[derive(Debug, Subcommand)]
pub enum SlurmCommand {
    /// Write the whole study as one submission: finetune.sbatch, sweep.sbatch, merge.sbatch and
    /// submit.sh.
    ///
    /// After `--` come the stages' own options, each stage after `--` and its name, as they would
    /// run here: `-- finetune <lmc finetune options> -- sweep <lmc sweep options>`, optionally
    /// followed by `-- analyze <options>` and `-- report <options>`. finetune.sbatch trains the
    /// population (array tasks of `--seeds-per-task` seeds); sweep.sbatch runs `--shards` shards
    /// with `--no-merge` once every fine-tuning task has succeeded (afterok), and its `--models`
    /// must name the population (finetune's `--out`); merge.sbatch runs once every shard has ended
    /// (afterany: Slurm never satisfies afterok after a task was cancelled and requeued) and runs
    /// `lmc sweep merge`, which fails when a part is missing, then `lmc analyze` and `lmc report`
    /// on the sweep's `--out` (into analysis/ and report/ in --out unless their stages say
    /// `--out`). `submit.sh` submits the three and prints `<stage> <job id>` lines.
    ///
    /// A fine-tuning task that was cancelled and then requeued leaves the sweep waiting forever
    /// (afterok): once the population is trained, cancel the waiting sweep and merge jobs and
    /// submit them again (`sbatch sweep.sbatch`, then `sbatch --dependency=afterany:<sweep job>
    /// merge.sbatch`).
    ///
    /// Example: lmc slurm pipeline --out jobs/cola --seeds 100 --shards 50 --partition gpu --
    /// finetune --task cola --preset paper --backend cuda --out runs/cola -- sweep --task cola
    /// --models runs/cola --backend cuda --out results/cola
    Pipeline(PipelineArgs),
}

/// Arguments of `lmc slurm pipeline`.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Folder of the scripts (and of logs/, analysis/ and report/ unless set elsewhere).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub seeds: SeedTasks,
    /// Shards of the sweep: array task i runs `--shard i/n`.
    #[arg(long)]
    pub shards: usize,
    #[command(flatten)]
    pub slurm: SlurmOptions,
    /// The stages: `finetune <options> -- sweep <options> [-- analyze <options>] [-- report
    /// <options>]`.
    #[arg(last = true, required = true, value_name = "STAGES")]
    pub stages: Vec<String>,
}

/// Runs `lmc slurm`.
pub fn run(command: SlurmCommand) -> anyhow::Result<()> {
    match command {
        SlurmCommand::Pipeline(args) => write_pipeline(&args),
    }
}

/// What a task asks for.
#[derive(Debug, Clone, Copy)]
struct Resources {
    gpus: usize,
    cpus: usize,
}

impl SlurmOptions {
    /// The resources of a task that computes on `backend`.
    fn resources(&self, backend: BackendChoice) -> anyhow::Result<Resources> {
        let gpus = self.gpus.unwrap_or(match backend {
            BackendChoice::Cuda => 1,
            BackendChoice::Cpu => 0,
        });
        if backend == BackendChoice::Cuda && gpus == 0 {
            bail!("--gpus 0 with `--backend cuda` in the lmc options: the tasks would have no GPU");
        }
        let cpus = self.cpus_per_task.unwrap_or(match backend {
            BackendChoice::Cuda => GPU_TASK_CPUS,
            BackendChoice::Cpu => CPU_TASK_CPUS,
        });
        if cpus == 0 {
            bail!("--cpus-per-task 0: a task needs at least 1 CPU");
        }
        Ok(Resources { gpus, cpus })
    }
}

/// Where the jobs of one command run and log.
struct JobContext<'a> {
    options: &'a SlurmOptions,
    /// Every task's working directory: the one the script is written from.
    workdir: PathBuf,
    /// The logs' folder, absolute; created with the scripts.
    log_dir: PathBuf,
    /// This lmc binary.
    lmc: PathBuf,
}

impl<'a> JobContext<'a> {
    fn new(options: &'a SlurmOptions, default_log_dir: &Path) -> anyhow::Result<Self> {
        let log_dir = options.log_dir.as_deref().unwrap_or(default_log_dir);
        let log_dir = std::path::absolute(log_dir)
            .with_context(|| format!("--log-dir {}", log_dir.display()))?;
        Ok(JobContext {
            options,
            workdir: std::env::current_dir().context("reading the working directory")?,
            log_dir,
            lmc: std::env::current_exe().context("locating the lmc binary")?,
        })
    }

    /// `lmc <words>` as a shell command line.
    fn lmc_command(&self, words: &[String]) -> String {
        std::iter::once(self.lmc.display().to_string())
            .chain(words.iter().cloned())
            .map(|word| shell_quote(&word))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A job script: what it is, what it asks for and what its tasks run.
struct JobScript {
    /// `--job-name`, also the start of the log files' names.
    name: String,
    /// Array tasks 0 … n − 1, or `None` for a single job.
    tasks: Option<usize>,
    resources: Resources,
    /// Comment lines after the shebang.
    about: Vec<String>,
    /// The shell lines the tasks run.
    body: Vec<String>,
}

impl JobScript {
    fn render(&self, context: &JobContext) -> anyhow::Result<String> {
        let options = context.options;
        let mut text = String::from("#!/bin/bash\n");
        for line in &self.about {
            writeln!(text, "# {line}")?;
        }
        let mut sbatch = |key: &str, value: Option<&str>| -> anyhow::Result<()> {
            match value {
                None => writeln!(text, "#SBATCH --{key}")?,
                Some(value) => writeln!(text, "#SBATCH --{key}={}", sbatch_value(key, value)?)?,
            }
            Ok(())
        };
        sbatch("job-name", Some(&self.name))?;
        let log = match self.tasks {
            Some(tasks) => {
                sbatch("array", Some(&format!("0-{}", tasks - 1)))?;
                format!("{}-%A_%a.log", self.name)
            }
            None => format!("{}-%j.log", self.name),
        };
        sbatch("time", Some(&options.time))?;
        if let Some(partition) = &options.partition {
            sbatch("partition", Some(partition))?;
        }
        if let Some(account) = &options.account {
            sbatch("account", Some(account))?;
        }
        sbatch("cpus-per-task", Some(&self.resources.cpus.to_string()))?;
        sbatch("mem", Some(&options.mem))?;
        if self.resources.gpus > 0 {
            sbatch("gres", Some(&format!("gpu:{}", self.resources.gpus)))?;
        }
        sbatch("requeue", None)?;
        sbatch("open-mode", Some("append"))?;
        sbatch("chdir", Some(&context.workdir.display().to_string()))?;
        sbatch(
            "output",
            Some(&context.log_dir.join(log).display().to_string()),
        )?;
        for extra in &options.sbatch_options {
            sbatch(&extra.key, extra.value.as_deref())?;
        }
        text.push_str("set -euo pipefail\n");
        let attempt =
            "attempt $((${SLURM_RESTART_COUNT:-0} + 1)) on $(hostname) at $(date -u +%FT%TZ)";
        if self.tasks.is_some() {
            text.push_str(
                ": \"${SLURM_ARRAY_TASK_ID:?is not set: submit this array job with sbatch}\"\n",
            );
            writeln!(
                text,
                "echo \"lmc: task ${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}, {attempt}\""
            )?;
        } else {
            writeln!(
                text,
                "echo \"lmc: job ${{SLURM_JOB_ID:-(not under Slurm)}}, {attempt}\""
            )?;
        }
        for line in &self.body {
            writeln!(text, "{line}")?;
        }
        Ok(text)
    }

    /// Writes the script to `path`, atomically, executable, and creates the log folder (a task
    /// whose log folder is missing fails at once, writing nothing).
    fn write(&self, context: &JobContext, path: &Path) -> anyhow::Result<()> {
        let text = self.render(context)?;
        crate::paths::create_dir(&context.log_dir)?;
        write_executable(path, &text)
    }
}

/// `value` as an `#SBATCH` line holds it: in double quotes when it has white space.
fn sbatch_value(key: &str, value: &str) -> anyhow::Result<String> {
    if value.contains(['\n', '"']) {
        bail!("`--{key}={value}`: an #SBATCH value cannot hold a line break or a double quote");
    }
    Ok(if value.contains(char::is_whitespace) {
        format!("\"{value}\"")
    } else {
        value.to_owned()
    })
}

/// Writes a script atomically and makes it executable.
fn write_executable(path: &Path, text: &str) -> anyhow::Result<()> {
    lmc_atomic::write(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", path.display()))?;
    }
    Ok(())
}

/// `word` for a POSIX shell: as it is when that is safe, else single-quoted.
fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `first` followed by `rest`.
fn command_words(first: &str, rest: &[String]) -> Vec<String> {
    std::iter::once(first.to_owned())
        .chain(rest.iter().cloned())
        .collect()
}

/// Parses `lmc <words>` as every task will.
///
/// # Errors
/// clap's message when the words are not an lmc command line.
fn parse_lmc(words: &[String]) -> anyhow::Result<crate::Command> {
    crate::Cli::try_parse_from(std::iter::once("lmc".to_owned()).chain(words.iter().cloned()))
        .map(|cli| cli.command)
        .map_err(|error| {
            let message = error.to_string();
            anyhow!(
                "`lmc {}` is not a valid command line: {}",
                words.join(" "),
                message.trim().trim_start_matches("error: ")
            )
        })
}

/// Adds `--threads <cpus>` for the CPU backend when the options do not set it.
fn add_threads(words: &mut Vec<String>, compute: &ComputeOptions, resources: Resources) {
    if compute.backend == BackendChoice::Cpu && compute.threads.threads.is_none() {
        words.extend(["--threads".to_owned(), resources.cpus.to_string()]);
    }
}

/// The sweep job of `shards` shards on `sweep` (the `lmc sweep` options), and the sweep's options.
/// Unless `merge`, every shard runs with `--no-merge` (the tables are another job's).
fn sweep_job(
    sweep: &[String],
    shards: usize,
    merge: bool,
    context: &JobContext,
) -> anyhow::Result<(JobScript, RunArgs)> {
    if shards == 0 {
        bail!("--shards must be at least 1");
    }
    let mut words = command_words("sweep", sweep);
    let run = match parse_lmc(&words)? {
        crate::Command::Sweep(SweepArgs { action: None, run }) => run,
        _ => bail!("after `--`: the options of a sweep (`--task … --models … --out …`)"),
    };
    if run.shard.is_some() {
        bail!(
            "--shard: the script gives task i `--shard i/{shards}`; leave it out of the sweep options"
        );
    }
    let resources = context.options.resources(run.evaluation.compute.backend)?;
    add_threads(&mut words, &run.evaluation.compute, resources);
    if !merge && !run.no_merge {
        words.push("--no-merge".to_owned());
    }
    parse_lmc(
        &[
            words.clone(),
            vec!["--shard".to_owned(), format!("0/{shards}")],
        ]
        .concat(),
    )?;
    let merging = if merge && !run.no_merge {
        "the last shard to finish writes the merged tables (or run `lmc sweep merge --out RESULTS`)"
    } else {
        "`lmc sweep merge --out RESULTS` writes the merged tables after the last shard"
    };
    let script = JobScript {
        name: format!("{}-sweep", context.options.job_name),
        tasks: Some(shards),
        resources,
        about: vec![
            format!(
                "Written by lmc {}: array task i runs shard i of {shards} of the sweep;",
                env!("CARGO_PKG_VERSION")
            ),
            format!("{merging}."),
        ],
        body: vec![format!(
            "exec {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{shards}\"",
            context.lmc_command(&words)
        )],
    };
    Ok((script, run))
}

/// The fine-tuning job of `seeds` on `finetune` (the `lmc finetune` options), and those options.
fn finetune_job(
    finetune: &[String],
    seeds: &SeedTasks,
    context: &JobContext,
) -> anyhow::Result<(JobScript, FinetuneArgs)> {
    if seeds.seeds.0.is_empty() {
        bail!("--seeds names no seed");
    }
    if seeds.seeds_per_task == 0 {
        bail!("--seeds-per-task must be at least 1");
    }
    let mut words = command_words("finetune", finetune);
    let args = match parse_lmc(&words)? {
        crate::Command::Finetune(FinetuneCommand::Run(args)) => args,
        _ => bail!("after `--`: the options of a fine-tuning run (`--task … --out …`)"),
    };
    if args.seeds.is_some() || args.seed.is_some() {
        bail!(
            "--seed/--seeds: the script gives each task its seeds (`--seeds` and \
             `--seeds-per-task` before `--`); leave them out of the finetune options"
        );
    }
    let resources = context.options.resources(args.compute.backend)?;
    add_threads(&mut words, &args.compute, resources);
    let groups: Vec<String> = seeds
        .seeds
        .0
        .chunks(seeds.seeds_per_task)
        .map(|group| SeedList(group.to_vec()).to_string())
        .collect();
    for group in &groups {
        parse_lmc(&[words.clone(), vec!["--seeds".to_owned(), group.clone()]].concat())?;
    }
    let quoted: Vec<String> = groups.iter().map(|g| shell_quote(g)).collect();
    let script = JobScript {
        name: format!("{}-finetune", context.options.job_name),
        tasks: Some(groups.len()),
        resources,
        about: vec![
            format!(
                "Written by lmc {}: array task i fine-tunes seeds[i] into the population;",
                env!("CARGO_PKG_VERSION")
            ),
            "a requeued task resumes its runs from their directories.".to_owned(),
        ],
        body: vec![
            format!("seeds=({})", quoted.join(" ")),
            format!(
                "exec {} --seeds \"${{seeds[$SLURM_ARRAY_TASK_ID]}}\"",
                context.lmc_command(&words)
            ),
        ],
    };
    Ok((script, args))
}

/// Writes `lmc sweep slurm`'s script.
pub fn write_sweep_job(args: &SweepJobArgs) -> anyhow::Result<()> {
    let context = JobContext::new(&args.slurm, Path::new("slurm-logs"))?;
    let (script, _) = sweep_job(&args.sweep, args.shards, true, &context)?;
    script.write(&context, &args.script)?;
    print_written(&args.script, &script, &context);
    Ok(())
}

/// Writes `lmc finetune slurm`'s script.
pub fn write_finetune_job(args: &FinetuneJobArgs) -> anyhow::Result<()> {
    let context = JobContext::new(&args.slurm, Path::new("slurm-logs"))?;
    let (script, _) = finetune_job(&args.finetune, &args.seeds, &context)?;
    script.write(&context, &args.script)?;
    print_written(&args.script, &script, &context);
    Ok(())
}

fn print_written(path: &Path, script: &JobScript, context: &JobContext) {
    let gpus = match script.resources.gpus {
        0 => "no GPU".to_owned(),
        n => format!("{n} GPU"),
    };
    println!(
        "{}: {} array tasks, each {} CPUs, {gpus}, {}; logs in {}; submit with `sbatch {}`",
        path.display(),
        script.tasks.unwrap_or(1),
        script.resources.cpus,
        context.options.mem,
        context.log_dir.display(),
        path.display()
    );
}

/// The stages after `lmc slurm pipeline … --`.
struct Stages {
    finetune: Vec<String>,
    sweep: Vec<String>,
    analyze: Option<Vec<String>>,
    report: Option<Vec<String>>,
}

impl Stages {
    fn split(words: &[String]) -> anyhow::Result<Stages> {
        const ORDER: [&str; 4] = ["finetune", "sweep", "analyze", "report"];
        let mut stages: [Option<Vec<String>>; 4] = Default::default();
        let mut last = None;
        for stage in words.split(|word| word == "--") {
            let name = stage.first().map_or("", String::as_str);
            let Some(position) = ORDER.iter().position(|s| *s == name) else {
                bail!(
                    "after `--`: stages `finetune <options> -- sweep <options> [-- analyze \
                     <options>] [-- report <options>]`, found `{}`",
                    stage.join(" ")
                );
            };
            if last.is_some_and(|last| last >= position) {
                bail!(
                    "after `--`: the stages go in the order {}, each once",
                    ORDER.join(", ")
                );
            }
            last = Some(position);
            stages[position] = Some(stage[1..].to_vec());
        }
        let [finetune, sweep, analyze, report] = stages;
        let (Some(finetune), Some(sweep)) = (finetune, sweep) else {
            bail!("after `--`: both `finetune <options>` and `-- sweep <options>` are needed");
        };
        Ok(Stages {
            finetune,
            sweep,
            analyze,
            report,
        })
    }
}

/// Refuses `option` in a stage's options, which the pipeline sets as `why` says.
fn refuse(stage: &str, words: &[String], option: &str, why: &str) -> anyhow::Result<()> {
    let given = words
        .iter()
        .any(|w| w == option || w.starts_with(&format!("{option}=")));
    if given {
        bail!("{option} in the {stage} options: the pipeline sets it ({why})");
    }
    Ok(())
}

/// Writes `lmc slurm pipeline`'s folder.
fn write_pipeline(args: &PipelineArgs) -> anyhow::Result<()> {
    let stages = Stages::split(&args.stages)?;
    let out =
        std::path::absolute(&args.out).with_context(|| format!("--out {}", args.out.display()))?;
    let context = JobContext::new(&args.slurm, &out.join("logs"))?;

    let (finetune, training) = finetune_job(&stages.finetune, &args.seeds, &context)?;
    let population = training.population_dir();
    let (sweep, run) = sweep_job(&stages.sweep, args.shards, false, &context)?;
    let trained = std::path::absolute(&population)
        .with_context(|| format!("the finetune --out {}", population.display()))?;
    let sweeps_population = run
        .models
        .iter()
        .any(|model| std::path::absolute(model).is_ok_and(|model| model == trained));
    if !sweeps_population {
        bail!(
            "the sweep's --models must name the population that finetune trains ({}, its \
             --out): the sweep starts when it is trained",
            population.display()
        );
    }
    let results = run.out.context("the sweep's --out is required")?;
    let merge = merge_job(&stages, &results, &out, &context)?;

    let files = [
        (out.join("finetune.sbatch"), &finetune),
        (out.join("sweep.sbatch"), &sweep),
        (out.join("merge.sbatch"), &merge),
    ];
    for (file, script) in &files {
        script.write(&context, file)?;
    }
    let submit = out.join("submit.sh");
    write_executable(
        &submit,
        &submit_script(&files[0].0, &files[1].0, &files[2].0),
    )?;
    println!(
        "{}: finetune.sbatch ({} tasks), sweep.sbatch ({} shards), merge.sbatch; logs in {}",
        out.display(),
        finetune.tasks.unwrap_or(1),
        args.shards,
        context.log_dir.display()
    );
    println!("submit all three with {}", submit.display());
    Ok(())
}

/// The pipeline's last job: `lmc sweep merge` on `results` (failing while a part is missing),
/// then `lmc analyze` and `lmc report` with their stages' options (by default into analysis/ and
/// report/ in `out`).
fn merge_job(
    stages: &Stages,
    results: &Path,
    out: &Path,
    context: &JobContext,
) -> anyhow::Result<JobScript> {
    let path = |p: &Path| p.display().to_string();
    let resources = Resources {
        gpus: 0,
        cpus: context.options.cpus_per_task.unwrap_or(MERGE_CPUS),
    };
    let from_sweep = "the sweep's --out";
    let analyze_options = match &stages.analyze {
        Some(words) => {
            refuse("analyze", words, "--results", from_sweep)?;
            words.clone()
        }
        None => vec!["--out".to_owned(), path(&out.join("analysis"))],
    };
    let mut analyze = command_words("analyze", &["--results".to_owned(), path(results)]);
    analyze.extend(analyze_options);
    let crate::Command::Analyze(analysis) = parse_lmc(&analyze)? else {
        unreachable!("the words start with `analyze`")
    };
    if analysis.threads.threads.is_none() {
        analyze.extend(["--threads".to_owned(), resources.cpus.to_string()]);
    }
    let report_options = match &stages.report {
        Some(words) => {
            refuse("report", words, "--results", from_sweep)?;
            refuse("report", words, "--analysis", "the analyze stage's --out")?;
            words.clone()
        }
        None => vec!["--out".to_owned(), path(&out.join("report"))],
    };
    let mut report = command_words("report", &["--results".to_owned(), path(results)]);
    report.extend(["--analysis".to_owned(), path(&analysis.out)]);
    report.extend(report_options);
    parse_lmc(&report)?;
    let merge = ["sweep", "merge", "--out"].map(str::to_owned);
    let merge = context.lmc_command(&[merge.as_slice(), &[path(results)]].concat());
    Ok(JobScript {
        name: format!("{}-merge", context.options.job_name),
        tasks: None,
        resources,
        about: vec![
            format!(
                "Written by lmc {}: once every shard of the sweep has ended, merges its tables",
                env!("CARGO_PKG_VERSION")
            ),
            "(failing while a shard's parts are missing), analyses them and draws the report."
                .to_owned(),
        ],
        body: vec![
            format!(
                "{merge} || {{ echo \"lmc: the sweep is incomplete: requeue its failed tasks \
                 (scontrol requeue JOB_TASK) or run sweep.sbatch again, then this job\" >&2; \
                 exit 1; }}"
            ),
            context.lmc_command(&analyze),
            context.lmc_command(&report),
        ],
    })
}

/// `submit.sh`: the three jobs with their dependencies, printing `<stage> <job id>` lines.
fn submit_script(finetune: &Path, sweep: &Path, merge: &Path) -> String {
    let quoted = |p: &Path| shell_quote(&p.display().to_string());
    format!(
        "#!/bin/bash\n\
         # Written by lmc {version}: submits the fine-tuning array, the sweep's shards once every\n\
         # fine-tuning task has succeeded (afterok), and the merge once every shard has ended\n\
         # (afterany: after a task is cancelled and requeued Slurm never satisfies afterok; the\n\
         # merge checks that every part is stored). Prints one `<stage> <job id>` line per job.\n\
         set -euo pipefail\n\
         finetune=$(sbatch --parsable {finetune})\n\
         finetune=${{finetune%%;*}}\n\
         sweep=$(sbatch --parsable --dependency=afterok:\"$finetune\" {sweep})\n\
         sweep=${{sweep%%;*}}\n\
         merge=$(sbatch --parsable --dependency=afterany:\"$sweep\" {merge})\n\
         merge=${{merge%%;*}}\n\
         echo \"finetune $finetune\"\n\
         echo \"sweep $sweep\"\n\
         echo \"merge $merge\"\n",
        version = env!("CARGO_PKG_VERSION"),
        finetune = quoted(finetune),
        sweep = quoted(sweep),
        merge = quoted(merge),
    )
}

#[cfg(test)]
mod tests {
    use super::SbatchOption;

    /// Runs the command line `lmc <line>` (words split at white space) in this process.
    fn lmc(line: &str) -> anyhow::Result<()> {
        let words = std::iter::once("lmc").chain(line.split_whitespace());
        let cli = <crate::Cli as clap::Parser>::try_parse_from(words)?;
        crate::run_command(cli.command)
    }

    /// A script and a log folder in a fresh folder.
    fn scratch(script: &str) -> (tempfile::TempDir, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join(script).display().to_string();
        let logs = dir.path().join("logs").display().to_string();
        (dir, script, logs)
    }

    #[test]
    fn a_cpu_sweep_requeues_appends_to_per_task_logs_and_asks_for_no_gpu() {
        let (_dir, script, logs) = scratch("sweep.sbatch");
        lmc(&format!(
            "sweep slurm --shards 4 --script {script} --log-dir {logs} --partition cpu \
             --sbatch-option qos=long -- --task mnli --models runs/mnli --out results/mnli"
        ))
        .unwrap();
        let text = std::fs::read_to_string(&script).unwrap();
        for line in [
            "#SBATCH --job-name=lmc-sweep\n",
            "#SBATCH --array=0-3\n",
            "#SBATCH --requeue\n",
            "#SBATCH --open-mode=append\n",
            &format!("#SBATCH --output={logs}/lmc-sweep-%A_%a.log\n"),
            "#SBATCH --cpus-per-task=8\n",
            "#SBATCH --partition=cpu\n",
            "#SBATCH --qos=long\n",
            &format!(
                "#SBATCH --chdir={}\n",
                std::env::current_dir().unwrap().display()
            ),
        ] {
            assert!(text.contains(line), "no `{}` in:\n{text}", line.trim());
        }
        assert!(
            !text.contains("--gres"),
            "no GPU for the CPU backend:\n{text}"
        );
        let command = format!(
            "exec {} sweep --task mnli --models runs/mnli --out results/mnli --threads 8 --shard \
             \"${{SLURM_ARRAY_TASK_ID}}/4\"\n",
            std::env::current_exe().unwrap().display()
        );
        assert!(text.contains(&command), "{text}");
        assert!(
            std::path::Path::new(&logs).is_dir(),
            "the log folder exists before any task"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&script).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
    }

    #[test]
    fn a_cuda_task_asks_for_a_gpu_and_lmc_keeps_its_threads() {
        let (_dir, script, logs) = scratch("sweep.sbatch");
        let job = |resources: &str| {
            lmc(&format!(
                "sweep slurm --shards 2 --script {script} --log-dir {logs} {resources} -- \
                 --task mnli --models m --out r --backend cuda"
            ))
        };
        job("").unwrap();
        let text = std::fs::read_to_string(&script).unwrap();
        assert!(text.contains("#SBATCH --gres=gpu:1\n"), "{text}");
        assert!(text.contains("#SBATCH --cpus-per-task=4\n"), "{text}");
        assert!(!text.contains("--threads"), "{text}");
        let error = job("--gpus 0").unwrap_err().to_string();
        assert!(error.contains("--gpus 0 with `--backend cuda`"), "{error}");
    }

    #[test]
    fn a_typo_in_the_lmc_options_fails_with_clap_s_message_and_writes_nothing() {
        let (_dir, script, logs) = scratch("job.sbatch");
        let error = lmc(&format!(
            "sweep slurm --shards 2 --script {script} --log-dir {logs} -- --task mnli \
             --modles m --out r"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("unexpected argument '--modles' found"),
            "{error}"
        );
        assert!(error.contains("'--models'"), "clap's suggestion: {error}");
        let error = lmc(&format!(
            "finetune slurm --seeds 2 --script {script} --log-dir {logs} -- --task colla"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("invalid value 'colla' for '--task <TASK>'"),
            "{error}"
        );
        assert!(!std::path::Path::new(&script).exists());
    }

    #[test]
    fn what_the_script_sets_per_task_is_refused() {
        let (_dir, script, logs) = scratch("job.sbatch");
        let error = lmc(&format!(
            "sweep slurm --shards 2 --script {script} --log-dir {logs} -- --task mnli \
             --models m --out r --shard=0/2"
        ))
        .unwrap_err();
        assert!(error.to_string().starts_with("--shard:"), "{error}");
        let error = lmc(&format!(
            "finetune slurm --seeds 2 --script {script} --log-dir {logs} -- --task cola --seed 3"
        ))
        .unwrap_err();
        assert!(error.to_string().starts_with("--seed/--seeds:"), "{error}");
        let refusal = |text: &str| text.parse::<SbatchOption>().unwrap_err();
        assert!("qos=long".parse::<SbatchOption>().is_ok());
        assert!("exclusive".parse::<SbatchOption>().is_ok());
        assert!(refusal("time=1:00:00").contains("--time"));
        assert!(refusal("gres=gpu:2").contains("--gpus"));
        assert!(refusal("array=0-3").contains("lmc sets it"));
        assert!(refusal("--qos=long").contains("without its dashes"));
    }

    #[test]
    fn finetune_tasks_train_their_group_of_seeds() {
        let (_dir, script, logs) = scratch("finetune.sbatch");
        lmc(&format!(
            "finetune slurm --seeds 5 --seeds-per-task 2 --script {script} --log-dir {logs} \
             --cpus-per-task 2 -- --task cola --out runs/cola"
        ))
        .unwrap();
        let text = std::fs::read_to_string(&script).unwrap();
        assert!(text.contains("#SBATCH --array=0-2\n"), "{text}");
        assert!(text.contains("\nseeds=(0..2 2..4 4,)\n"), "{text}");
        let command = "--out runs/cola --threads 2 --seeds \"${seeds[$SLURM_ARRAY_TASK_ID]}\"\n";
        assert!(text.contains(command), "{text}");
    }

    #[test]
    fn the_pipeline_chains_three_jobs_on_one_population() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("jobs").display().to_string();
        let pipeline = |models: &str| {
            lmc(&format!(
                "slurm pipeline --out {out} --seeds 4 --shards 3 -- finetune --task cola \
                 --out runs/cola -- sweep --task cola --models {models} --out res -- report \
                 --out rep"
            ))
        };
        let error = pipeline("runs/other").unwrap_err().to_string();
        assert!(
            error.contains("must name the population that finetune trains"),
            "{error}"
        );
        pipeline("runs/cola/").unwrap();
        let read = |name: &str| std::fs::read_to_string(format!("{out}/{name}")).unwrap();
        assert!(read("finetune.sbatch").contains("#SBATCH --job-name=lmc-finetune\n"));
        let sweep = read("sweep.sbatch");
        assert!(
            sweep.contains("--no-merge --shard \"${SLURM_ARRAY_TASK_ID}/3\"\n"),
            "{sweep}"
        );
        let merge = read("merge.sbatch");
        assert!(
            !merge.contains("--array") && merge.contains("lmc-merge-%j.log"),
            "{merge}"
        );
        for command in [
            " sweep merge --out res || {".to_owned(),
            format!(" analyze --results res --out {out}/analysis --threads 4\n"),
            format!(" report --results res --analysis {out}/analysis --out rep\n"),
        ] {
            assert!(merge.contains(&command), "no `{command}` in:\n{merge}");
        }
        let submit = read("submit.sh");
        for dependency in [
            format!("--dependency=afterok:\"$finetune\" {out}/sweep.sbatch)"),
            format!("--dependency=afterany:\"$sweep\" {out}/merge.sbatch)"),
        ] {
            assert!(
                submit.contains(&dependency),
                "no `{dependency}` in:\n{submit}"
            );
        }
        let error = lmc(&format!(
            "slurm pipeline --out {out} --seeds 4 --shards 3 -- sweep --task cola --models m \
             --out r -- finetune --task cola"
        ))
        .unwrap_err();
        assert!(
            error.to_string().contains("in the order finetune, sweep"),
            "{error}"
        );
    }
}
