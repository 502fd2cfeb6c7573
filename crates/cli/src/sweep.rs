//! `lmc sweep`: loss and metric along the straight path between every pair of models; plus
//! `lmc sweep merge` and `lmc sweep slurm`.
//!
//! A sweep writes into its results directory as it goes (see the lmc-sweep crate docs for the
//! files). Restarted with the same command it skips what is stored. `--shard i/n` runs one of n
//! disjoint parts (pairs k ≡ i mod n); n processes or cluster jobs may share one directory, and
//! the last to finish writes the merged tables (or, with `--no-merge` on every shard, one
//! `lmc sweep merge` does). `lmc sweep slurm` writes a Slurm array job whose task i runs shard i
//! (the `slurm` module).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::tensor::backend::Backend;
use clap::{Args, Subcommand};
use lmc_data::TaskName;

use crate::backend::{OnBackend, run_on};
use crate::eval::EvaluationOptions;
use crate::progress::Progress;
use lmc_sweep::{
    MergeOutcome, PreparedSweep, SetRequest, Shard, SweepSpec, alpha_grid, check_unique_names,
    default_full_sets, discover_models, merge_results,
};

/// Arguments of `lmc sweep`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    pub action: Option<SweepAction>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// What to do besides running a sweep.
#[derive(Debug, Subcommand)]
pub enum SweepAction {
    /// Combine the stored parts of a (sharded) sweep into the result tables.
    Merge(MergeArgs),
    /// Write a Slurm array job script that runs the shards of a sweep.
    Slurm(Box<crate::slurm::SweepJobArgs>),
}

/// Options of a sweep run.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The task the models were fine-tuned on.
    #[arg(long, required = true)]
    pub task: Option<TaskName>,
    /// Model directories (config.json), run directories (<run>/model/), population directories
    /// (a folder of runs) and/or Hugging Face hub references `hf:ORG/NAME[@REVISION]`, with one
    /// `{a..b}` range for a population (`hf:connectivity/feather_berts_{0..99}`).
    #[arg(long, num_args = 1.., required = true)]
    pub models: Vec<String>,
    /// Pairs to sweep instead of every unordered pair: `A:B,C:D`, or a file with one `A B` (or
    /// `A,B`) pair per line.
    #[arg(long)]
    pub pairs: Option<String>,
    /// The α grid: a count (evenly spaced from 0 to 1, both included) or a comma-separated list
    /// (any values, e.g. -0.5,0,0.5,1,1.5).
    #[arg(long, default_value = "10", allow_hyphen_values = true)]
    pub alphas: String,
    /// Sets evaluated along every path: `id`, `ood`, task set names or files, each with `:N`
    /// (the first N examples), `:A..B` (examples A to B − 1) or `:all`.
    #[arg(long, default_value = "id:512,ood:512")]
    pub sets: String,
    /// Sets each model is evaluated on once with per-example logits kept, or `none`
    /// [default: id:all and hans:all for MNLI, id:all and ood:all otherwise].
    #[arg(long)]
    pub full_sets: Option<String>,
    /// Results directory.
    #[arg(long, required = true)]
    pub out: Option<PathBuf>,
    /// Run shard i of n (0 ≤ i < n): pairs k with k mod n = i.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Also sweep the models' intermediate checkpoints (<run>/checkpoints/step-<N>/) into
    /// RESULTS/checkpoints/step-<N>/.
    #[arg(long)]
    pub checkpoints: bool,
    /// Sets of the checkpoint sweeps (`--checkpoints`), with no full sets: smaller sets keep the
    /// training-dynamics sweeps cheap [default: --sets and --full-sets].
    #[arg(long, requires = "checkpoints")]
    pub checkpoint_sets: Option<String>,
    /// Print the plan and its estimated cost, evaluate nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Store this shard's parts only, never the merged tables, so that no two shards write the
    /// same file; `lmc sweep merge` writes them after the last shard.
    #[arg(long)]
    pub no_merge: bool,
    #[command(flatten)]
    pub evaluation: EvaluationOptions,
}

/// Arguments of `lmc sweep merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Results directory of the sweep.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: SweepArgs) -> anyhow::Result<()> {
    match args.action {
        Some(SweepAction::Merge(merge)) => run_merge(&merge.out),
        Some(SweepAction::Slurm(job)) => crate::slurm::write_sweep_job(&job),
        None => run_sweep(args.run),
    }
}

fn parse_alphas(text: &str) -> anyhow::Result<Vec<f64>> {
    if let Ok(count) = text.trim().parse::<usize>() {
        if count < 3 {
            bail!("--alphas {count}: a grid needs at least 3 points (both ends and one between)");
        }
        return Ok(alpha_grid(count));
    }
    if !text.contains(',') {
        bail!(
            "--alphas {text}: give a count of grid points (an integer of at least 3, e.g. 10, \
             evenly spaced from 0 to 1) or a comma-separated list of α values (e.g. \
             0,0.25,0.5,0.75,1); a single α is `lmc interpolate --alpha`"
        );
    }
    let mut alphas = text
        .split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .with_context(|| format!("--alphas: `{v}` is not a number"))
        })
        .collect::<anyhow::Result<Vec<f64>>>()?;
    alphas.sort_by(f64::total_cmp);
    alphas.dedup();
    Ok(alphas)
}

fn parse_pairs(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let path = Path::new(text);
    let (items, separators): (Vec<String>, &[char]) = if path.is_file() {
        let content = std::fs::read_to_string(path)
            .with_context(|| format!("reading pairs from {}", path.display()))?;
        let lines = content
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
        (lines, &[' ', '\t', ','])
    } else {
        (text.split(',').map(str::to_owned).collect(), &[':'])
    };
    items
        .iter()
        .map(|item| {
            let parts: Vec<&str> = item
                .split(separators)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect();
            match parts.as_slice() {
                [a, b] => Ok(((*a).to_owned(), (*b).to_owned())),
                _ => bail!("--pairs: `{item}` is not a pair of model names"),
            }
        })
        .collect()
}

fn build_spec(args: &RunArgs) -> anyhow::Result<SweepSpec> {
    let task = args.task.context("--task is required")?;
    let (mut models, local) = crate::models::resolve(&args.models)?;
    if !local.is_empty() {
        let discovery = discover_models(&local)?;
        for line in &discovery.skipped {
            tracing::warn!("{line}");
        }
        models.extend(discovery.models);
    }
    check_unique_names(&models)?;
    if models.len() < 2 {
        bail!("a sweep needs at least two models, found {}", models.len());
    }
    let pairs = match &args.pairs {
        Some(text) => parse_pairs(text)?,
        None => SweepSpec::all_pairs(&models),
    };
    let full_sets = match args.full_sets.as_deref() {
        None => default_full_sets(task),
        Some("none") => Vec::new(),
        Some(text) => SetRequest::parse_list(text)?,
    };
    Ok(SweepSpec {
        task,
        models,
        pairs,
        alphas: parse_alphas(&args.alphas)?,
        sets: SetRequest::parse_list(&args.sets)?,
        full_sets,
        batch_size: args.evaluation.batch_size,
        max_length: args.evaluation.max_length,
        precision: args.evaluation.compute.precision()?,
        label_order: args.evaluation.label_order.clone(),
    })
}

fn run_sweep(args: RunArgs) -> anyhow::Result<()> {
    // Before the sets are prepared, which starts the thread pool.
    args.evaluation.compute.threads.apply()?;
    let out = args.out.clone().context("--out is required")?;
    let shard = args.shard.unwrap_or(Shard::ALL);
    let spec = build_spec(&args)?;
    let search = args.evaluation.search();
    let prepared = PreparedSweep::new(spec, &search)?;
    let mut sweeps = vec![(out.clone(), prepared.clone())];
    if args.checkpoints {
        // The checkpoints' sweeps share the main sweep's prepared sets, or their own smaller ones.
        let checkpoint_sets = match &args.checkpoint_sets {
            Some(text) => {
                let spec = SweepSpec {
                    sets: SetRequest::parse_list(text)?,
                    full_sets: Vec::new(),
                    ..prepared.spec.clone()
                };
                PreparedSweep::new(spec, &search)?
            }
            None => prepared.clone(),
        };
        for (step, spec) in checkpoint_sets.spec.checkpoint_sweeps()? {
            let dir = lmc_analysis::schema::checkpoint_results(&out, step);
            sweeps.push((
                dir,
                PreparedSweep {
                    spec,
                    ..checkpoint_sets.clone()
                },
            ));
        }
    }
    if args.dry_run {
        let first = &sweeps[0].1;
        let throughput = run_on(args.evaluation.compute, MeasureThroughput { sweep: first })?;
        return print_plan(&sweeps, shard, throughput);
    }
    let job = RunSweeps {
        sweeps: &sweeps,
        shard,
        merge: !args.no_merge,
    };
    run_on(args.evaluation.compute, job)
}

/// Runs each sweep (the main one, then one per checkpoint step) in turn, printing a summary of
/// each; merges each one's tables when its parts are complete, if `merge`.
struct RunSweeps<'a> {
    sweeps: &'a [(PathBuf, PreparedSweep)],
    shard: Shard,
    merge: bool,
}

impl OnBackend for RunSweeps<'_> {
    type Output = ();

    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<()> {
        let shard = self.shard;
        let provenance = crate::backend::provenance::<B>(&device);
        for (dir, sweep) in self.sweeps {
            let mut progress: Option<Progress> = None;
            let mut observer = |p: &lmc_sweep::Progress| {
                let (done, total) = (p.evaluations_done() as u64, p.evaluations_total() as u64);
                let message = format!(
                    "endpoints {}/{}, pairs {}/{}",
                    p.endpoints_done, p.endpoints_total, p.pairs_done, p.pairs_total
                );
                progress
                    .get_or_insert_with(|| {
                        Progress::new(&dir.display().to_string(), "model evaluations", done, total)
                    })
                    .update(done, total, message);
            };
            let summary = if self.merge {
                sweep.run::<B>(dir, shard, Some(&provenance), &device, &mut observer)?
            } else {
                sweep.store_parts::<B>(dir, shard, Some(&provenance), &device, &mut observer)?
            };
            if let Some(progress) = progress {
                progress.finish();
            }
            let total = summary.total_time.as_secs_f64();
            let outside = total - summary.evaluation_time.as_secs_f64();
            println!(
                "{}: shard {shard}: {} pairs evaluated, {} already stored; {} models' endpoints \
                 evaluated; {:.1} s, {:.1} % outside model evaluation",
                dir.display(),
                summary.pairs_evaluated,
                summary.pairs_skipped,
                summary.endpoints_evaluated,
                total,
                100.0 * outside / total.max(1e-9)
            );
            match &summary.merge {
                Some(outcome) => print_merge(dir, outcome),
                None => println!(
                    "{}: parts stored; `lmc sweep merge --out {}` writes the tables",
                    dir.display(),
                    dir.display()
                ),
            }
        }
        Ok(())
    }
}

/// Examples per second of forward passes on one batch of a sweep's first set.
struct MeasureThroughput<'a> {
    sweep: &'a PreparedSweep,
}

impl OnBackend for MeasureThroughput<'_> {
    type Output = f64;

    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<f64> {
        Ok(self
            .sweep
            .measure_throughput::<B>(self.sweep.spec.batch_size, &device)?)
    }
}

/// Prints what a sweep would do, and how long it would take at `throughput` examples/s.
fn print_plan(
    sweeps: &[(PathBuf, PreparedSweep)],
    shard: Shard,
    throughput: f64,
) -> anyhow::Result<()> {
    for (dir, sweep) in sweeps {
        let spec = &sweep.spec;
        let plan = sweep.plan(dir, shard);
        println!("{} (shard {shard}):", dir.display());
        println!(
            "  task {}, {} models, α = {:?}",
            spec.task,
            spec.models.len(),
            spec.alphas
        );
        for set in sweep.sets.iter().chain(&sweep.full_sets) {
            println!(
                "  set {}: {} examples ({})",
                set.label,
                set.len(),
                set.dataset.report.provenance
            );
        }
        println!(
            "  pairs: {} in this shard, {} stored; endpoints: {} models, {} stored",
            plan.pairs, plan.pairs_stored, plan.endpoints, plan.endpoints_stored
        );
        let seconds = plan.forward_examples as f64 / throughput;
        println!(
            "  to do: {} example forward passes, about {:.0} s ({:.1} h) at the measured {:.1} examples/s",
            plan.forward_examples,
            seconds,
            seconds / 3600.0,
            throughput
        );
    }
    Ok(())
}

fn print_merge(dir: &Path, outcome: &MergeOutcome) {
    match outcome {
        MergeOutcome::Complete { files } => {
            let names: Vec<String> = files
                .iter()
                .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            println!("{}: complete, wrote {}", dir.display(), names.join(", "));
        }
        MergeOutcome::Incomplete {
            missing_pairs,
            missing_endpoints,
        } => println!(
            "{}: waiting for other shards ({missing_pairs} pairs and {missing_endpoints} models' \
             endpoints not stored yet)",
            dir.display()
        ),
    }
}

fn run_merge(out: &Path) -> anyhow::Result<()> {
    let mut dirs = vec![out.to_path_buf()];
    let checkpoints = out.join(lmc_analysis::schema::CHECKPOINTS_DIR);
    if checkpoints.is_dir() {
        let mut steps: Vec<PathBuf> = std::fs::read_dir(&checkpoints)
            .with_context(|| format!("listing {}", checkpoints.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join(lmc_sweep::PLAN_FILE).is_file())
            .collect();
        steps.sort();
        dirs.extend(steps);
    }
    let mut incomplete = 0;
    for dir in &dirs {
        let outcome = merge_results(dir)?;
        incomplete += usize::from(matches!(outcome, MergeOutcome::Incomplete { .. }));
        print_merge(dir, &outcome);
    }
    if incomplete > 0 {
        bail!("{incomplete} results directories are incomplete: run the missing shards first");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_alphas;

    #[test]
    fn alphas_are_a_count_or_a_list_and_a_single_value_says_which() {
        assert_eq!(parse_alphas("3").unwrap(), [0.0, 0.5, 1.0]);
        assert_eq!(parse_alphas("1,-0.5,0,0.5").unwrap(), [-0.5, 0.0, 0.5, 1.0]);
        let error = parse_alphas("0.5").unwrap_err().to_string();
        assert!(
            error.contains("a count of grid points") && error.contains("list"),
            "{error}"
        );
        assert!(
            parse_alphas("2")
                .unwrap_err()
                .to_string()
                .contains("at least 3")
        );
    }
}
