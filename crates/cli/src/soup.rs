//! `lmc soup`: weight-space soups of a population, built along its basins (Wortsman et al.
//! 2022's model soups, with lmc analyze's clusters), each evaluated beside its members.
//!
//! Soups: the uniform soup of each basin (every member of one cluster, averaged), the greedy
//! soup of the whole population (members in decreasing order of their metric on the selection
//! set, each kept when the soup's metric on that set does not get worse), and the uniform soup
//! across basins (every member). The hypothesis they test: a soup inside a basin keeps or raises
//! both the in-domain and the out-of-domain metric, while a soup across basins pays the barrier
//! between them. Members and soups are evaluated with `lmc eval`'s code on the same sets.
//!
//! Writes into `--out`: one checkpoint per soup (`<soup>/`, as `lmc merge` writes them, with
//! `merge.json`), and `soups.parquet` / `soups.csv`, one row per (model or soup, set), columns as
//! `lmc_analysis::schema::SOUPS_FILE` says. With `--out <results>/soups`, `lmc report` on that
//! results directory draws the soups beside the population.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use lmc_data::TaskName;
use lmc_interp::{MergeConfig, ModelMerge};
use lmc_sweep::{EvalSet, ModelRef, SetRequest, discover_models, write_csv, write_parquet};
use polars::prelude::{Column, DataFrame};

use crate::eval::{EvaluationOptions, evaluate_model, prepare_set};

use lmc_analysis::schema::{
    ACCURACY, CLUSTER, KIND, LOSS, MEMBERS, METRIC, MODEL, N_EXAMPLES, SET, SOUPS_CSV_FILE,
    SOUPS_FILE,
};

/// Arguments of `lmc soup`.
#[derive(Debug, Args)]
pub struct SoupArgs {
    /// The task the population was fine-tuned on.
    #[arg(long)]
    pub task: TaskName,
    /// The population, as `lmc sweep --models` takes it (population or run directories, `hf:`
    /// references); every model must be in the analysis' clusters.
    #[arg(long, num_args = 1.., required = true)]
    pub models: Vec<String>,
    /// The population's `lmc analyze` output directory (its clusters).
    #[arg(long)]
    pub analysis: PathBuf,
    /// The set the greedy soup selects members on (as `lmc eval --set`); by default in-domain
    /// examples 512 to 1023, disjoint from the report's `id:512`, so the greedy soup is not
    /// reported on the examples that chose it.
    #[arg(long, default_value = "id:512..1024")]
    pub select_set: String,
    /// Sets every member and soup is reported on, comma-separated.
    #[arg(long, default_value = "id:512,ood:512")]
    pub sets: String,
    /// Output directory: the soups' checkpoints and soups.parquet / soups.csv (`<results>/soups`
    /// puts them in the population's report).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub evaluation: EvaluationOptions,
}

/// One evaluated model or soup on one set.
struct Row {
    model: String,
    kind: &'static str,
    cluster: i64,
    members: String,
    set: String,
    loss: f64,
    metric: f64,
    accuracy: f64,
    examples: u32,
}

/// The prepared sets and how to evaluate on them.
struct Evaluator<'a> {
    options: &'a EvaluationOptions,
    select: EvalSet,
    report: Vec<EvalSet>,
}

impl Evaluator<'_> {
    /// The selection set's metric of `model`.
    fn selection_metric(&self, model: &ModelRef) -> anyhow::Result<f64> {
        Ok(evaluate_model(model, &self.select, self.options)?
            .scores
            .metric_value)
    }

    /// `model`'s rows on every report set.
    fn rows(
        &self,
        model: &ModelRef,
        kind: &'static str,
        cluster: i64,
        members: &[&ModelRef],
    ) -> anyhow::Result<Vec<Row>> {
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        let mut rows = Vec::new();
        for set in &self.report {
            let evaluation = evaluate_model(model, set, self.options)
                .with_context(|| format!("evaluating `{}` on {}", model.name, set.label))?;
            let scores = &evaluation.scores;
            rows.push(Row {
                model: model.name.clone(),
                kind,
                cluster,
                members: names.join(","),
                set: set.label.clone(),
                loss: scores.mean_loss,
                metric: scores.metric_value,
                accuracy: scores.accuracy,
                examples: scores.losses.len() as u32,
            });
        }
        Ok(rows)
    }
}

/// Writes the uniform soup of `members` into `dir` (lmc-interp's linear merge, `lmc merge`'s
/// output) and returns it as a model.
fn uniform_soup(name: &str, members: &[&ModelRef], dir: &Path) -> anyhow::Result<ModelRef> {
    let quote = |path: &Path| format!("'{}'", path.display().to_string().replace('\'', "''"));
    let mut yaml = String::from("merge_method: linear\nmodels:\n");
    for member in members {
        yaml.push_str(&format!(
            "  - model: {}\n    parameters: {{weight: 1.0}}\n",
            quote(&member.dir)
        ));
    }
    let config = MergeConfig::from_yaml(&yaml, dir.join("soup.yaml"))?;
    let working_dir = std::env::current_dir().context("the working directory")?;
    ModelMerge::open(config, &working_dir)?
        .write(dir)
        .with_context(|| format!("writing soup `{name}`"))?;
    Ok(ModelRef {
        name: name.to_owned(),
        dir: dir.to_path_buf(),
        run_dir: None,
    })
}

pub fn run(args: SoupArgs) -> anyhow::Result<()> {
    args.evaluation.compute.threads.apply()?;
    let (mut models, local) = crate::models::resolve(&args.models)?;
    if !local.is_empty() {
        models.extend(discover_models(&local)?.models);
    }
    let analysis = lmc_analysis::Analysis::read(&args.analysis)?;
    let cluster_of: BTreeMap<&str, usize> = analysis
        .clustering
        .names
        .iter()
        .map(String::as_str)
        .zip(analysis.clustering.labels.iter().copied())
        .collect();
    let mut basins: BTreeMap<usize, Vec<&ModelRef>> = BTreeMap::new();
    for model in &models {
        let cluster = cluster_of.get(model.name.as_str()).with_context(|| {
            format!(
                "model `{}` is not in the clusters of {}",
                model.name,
                args.analysis.display()
            )
        })?;
        basins.entry(*cluster).or_default().push(model);
    }
    if models.len() < 2 {
        bail!("a soup needs at least two models, found {}", models.len());
    }
    crate::paths::create_dir(&args.out)?;
    let first = &models[0];
    let select: SetRequest = args.select_set.parse()?;
    let evaluator = Evaluator {
        options: &args.evaluation,
        select: prepare_set(first, args.task, &select, &args.evaluation)
            .with_context(|| format!("--select-set {}", args.select_set))?,
        report: SetRequest::parse_list(&args.sets)?
            .iter()
            .map(|request| prepare_set(first, args.task, request, &args.evaluation))
            .collect::<anyhow::Result<_>>()?,
    };

    let mut rows = Vec::new();
    let mut selection = Vec::new();
    for (&cluster, members) in &basins {
        for &member in members {
            rows.extend(evaluator.rows(member, "member", cluster as i64, &[member])?);
            selection.push((evaluator.selection_metric(member)?, member));
        }
    }
    for (&cluster, members) in &basins {
        if members.len() < 2 {
            continue;
        }
        let name = format!("basin-{cluster}");
        let soup = uniform_soup(&name, members, &args.out.join(&name))?;
        rows.extend(evaluator.rows(&soup, "basin", cluster as i64, members)?);
    }
    let everyone: Vec<&ModelRef> = models.iter().collect();
    let all = uniform_soup("all", &everyone, &args.out.join("all"))?;
    rows.extend(evaluator.rows(&all, "all", -1, &everyone)?);

    // Greedy (Wortsman et al., recipe 1): best member first, then each next kept when the soup's
    // selection metric does not get worse.
    selection.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut best, first_member) = selection[0];
    let mut ingredients = vec![first_member];
    let greedy_dir = args.out.join("greedy");
    let candidate_dir = args.out.join(".greedy-candidate");
    for &(_, member) in &selection[1..] {
        let mut candidate = ingredients.clone();
        candidate.push(member);
        let soup = uniform_soup("greedy", &candidate, &candidate_dir)?;
        let metric = evaluator.selection_metric(&soup)?;
        tracing::info!(
            "greedy soup + `{}`: {metric:.4} (best {best:.4})",
            member.name
        );
        if metric >= best {
            best = metric;
            ingredients = candidate;
        }
    }
    let greedy = uniform_soup("greedy", &ingredients, &greedy_dir)?;
    std::fs::remove_dir_all(&candidate_dir).ok();
    let clusters: Vec<usize> = ingredients
        .iter()
        .map(|m| cluster_of[m.name.as_str()])
        .collect();
    let greedy_cluster = if clusters.iter().all(|&c| c == clusters[0]) {
        clusters[0] as i64
    } else {
        -1
    };
    rows.extend(evaluator.rows(&greedy, "greedy", greedy_cluster, &ingredients)?);

    let mut frame = frame(&rows)?;
    let table = args.out.join(SOUPS_FILE);
    write_parquet(&table, &mut frame)?;
    write_csv(&args.out.join(SOUPS_CSV_FILE), &mut frame)?;
    print_table(&rows, &evaluator.report);
    println!("table: {}", table.display());
    Ok(())
}

fn frame(rows: &[Row]) -> anyhow::Result<DataFrame> {
    let text = |f: fn(&Row) -> String| rows.iter().map(f).collect::<Vec<String>>();
    let number = |f: fn(&Row) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    let columns = vec![
        Column::new(MODEL.into(), text(|r| r.model.clone())),
        Column::new(KIND.into(), text(|r| r.kind.to_owned())),
        Column::new(
            CLUSTER.into(),
            rows.iter().map(|r| r.cluster).collect::<Vec<i64>>(),
        ),
        Column::new(MEMBERS.into(), text(|r| r.members.clone())),
        Column::new(SET.into(), text(|r| r.set.clone())),
        Column::new(LOSS.into(), number(|r| r.loss)),
        Column::new(METRIC.into(), number(|r| r.metric)),
        Column::new(ACCURACY.into(), number(|r| r.accuracy)),
        Column::new(
            N_EXAMPLES.into(),
            rows.iter().map(|r| r.examples).collect::<Vec<u32>>(),
        ),
    ];
    Ok(DataFrame::new_infer_height(columns)?)
}

/// The metric of every model and soup on every report set, members first.
fn print_table(rows: &[Row], sets: &[EvalSet]) {
    let labels: Vec<&str> = sets.iter().map(|s| s.label.as_str()).collect();
    println!("| model | kind | cluster | {} |", labels.join(" | "));
    println!("|---|---|---|{}", "---|".repeat(labels.len()));
    let mut seen: Vec<&str> = Vec::new();
    for row in rows {
        if seen.contains(&row.model.as_str()) {
            continue;
        }
        seen.push(&row.model);
        let values: Vec<String> = labels
            .iter()
            .map(|label| {
                rows.iter()
                    .find(|r| r.model == row.model && r.set == *label)
                    .map_or_else(String::new, |r| format!("{:.4}", r.metric))
            })
            .collect();
        let cluster = if row.cluster < 0 {
            "mixed".to_owned()
        } else {
            row.cluster.to_string()
        };
        println!(
            "| {} | {} | {cluster} | {} |",
            row.model,
            row.kind,
            values.join(" | ")
        );
    }
}
