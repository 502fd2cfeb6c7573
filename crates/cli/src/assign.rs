//! `lmc assign --reference ANALYSIS_DIR --models NEW…`: places new models in the basins of an
//! analysed population and predicts their out-of-domain behaviour from the basin's.
//!
//! Each new model is interpolated to the most central members of every basin (those with the
//! smallest mean convexity gap to the rest of their cluster), with the reference sweep's plan
//! (task, α grid, sets, batching, precision, label order) and its stored endpoint evaluations of
//! those members (copied, not recomputed). The convexity gap of the in-domain loss along each
//! path is the barrier; a model belongs to the basin with the smallest mean barrier, with the
//! margin to the next basin, and the prediction is what the basin's members measured on the
//! diagnostic set (and HANS cells when the analysis has them).
//!
//! Writes `--out` (default `<reference>/../assign`): the sweep's results directory of the new
//! paths, and [`ASSIGNMENTS_FILE`] with one row per new model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::tensor::backend::Backend;
use clap::Args;
use lmc_analysis::{Analysis, Curve};
use lmc_sweep::{
    ModelRef, PreparedSweep, ResultsDir, Shard, SweepSpec, check_unique_names, discover_models,
    read_pairs, write_parquet,
};
use polars::prelude::{Column, DataFrame};

use crate::backend::{ComputeOptions, OnBackend, run_on};

/// `assignments.parquet`'s name in `--out`: `model`, `cluster` (u32), `barrier` (mean convexity
/// gap to the cluster's reference members), `next_cluster` (u32), `next_barrier`, `margin`
/// (`next_barrier − barrier`), `diagnostic_mean`, `diagnostic_min`, `diagnostic_max` (the
/// cluster's members on the diagnostic set; f64).
pub const ASSIGNMENTS_FILE: &str = "assignments.parquet";

/// Arguments of `lmc assign`.
#[derive(Debug, Args)]
pub struct AssignArgs {
    /// The reference population's `lmc analyze` output directory (clusters, barriers, basin
    /// statistics).
    #[arg(long)]
    pub reference: PathBuf,
    /// The reference sweep's results directory (its plan and stored endpoint evaluations)
    /// [default: `results/` beside the reference analysis, as `lmc reproduce` lays them out].
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// The models to place: model or run directories, or `hf:` references.
    #[arg(long, num_args = 1.., required = true)]
    pub models: Vec<String>,
    /// Reference members per basin each new model is interpolated to (the most central ones).
    #[arg(long, default_value_t = 3)]
    pub per_basin: usize,
    /// Output directory [default: `assign/` beside the reference analysis].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Data directory [default: $LMC_DATA_DIR, the fetch cache, then ../shared/datasets].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub compute: ComputeOptions,
}

/// Where one new model lands.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The new model.
    pub model: String,
    /// Its basin.
    pub cluster: usize,
    /// Mean barrier to that basin's reference members.
    pub barrier: f64,
    /// The basin with the next smallest barrier, and that barrier (none with one basin).
    pub next: Option<(usize, f64)>,
}

impl Assignment {
    /// How much farther the next basin is.
    pub fn margin(&self) -> Option<f64> {
        self.next.map(|(_, barrier)| barrier - self.barrier)
    }
}

/// The basin with the smallest mean barrier, from `barriers[cluster]` (each a non-empty list).
pub fn assign(model: &str, barriers: &BTreeMap<usize, Vec<f64>>) -> Option<Assignment> {
    let mut means: Vec<(usize, f64)> = barriers
        .iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(&cluster, values)| (cluster, values.iter().sum::<f64>() / values.len() as f64))
        .collect();
    means.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let (&(cluster, barrier), rest) = means.split_first()?;
    Some(Assignment {
        model: model.to_owned(),
        cluster,
        barrier,
        next: rest.first().copied(),
    })
}

/// The `per_basin` most central members of each cluster: smallest mean convexity gap to the
/// other members of their cluster (ties by name).
fn central_members(analysis: &Analysis, per_basin: usize) -> BTreeMap<usize, Vec<String>> {
    let names = &analysis.clustering.names;
    let labels = &analysis.clustering.labels;
    let matrix = &analysis.convexity_gap;
    let mut by_cluster: BTreeMap<usize, Vec<(f64, String)>> = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        let mates: Vec<usize> = (0..names.len())
            .filter(|&j| j != i && labels[j] == labels[i])
            .collect();
        let spread = if mates.is_empty() {
            0.0
        } else {
            mates.iter().map(|&j| matrix.get(i, j)).sum::<f64>() / mates.len() as f64
        };
        by_cluster
            .entry(labels[i])
            .or_default()
            .push((spread, name.clone()));
    }
    by_cluster
        .into_iter()
        .map(|(cluster, mut members)| {
            members.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            let chosen = members
                .into_iter()
                .take(per_basin)
                .map(|(_, n)| n)
                .collect();
            (cluster, chosen)
        })
        .collect()
}

/// Runs the new paths' sweep on the chosen backend.
struct RunPaths<'a> {
    sweep: &'a PreparedSweep,
    out: &'a Path,
}

impl OnBackend for RunPaths<'_> {
    type Output = ();

    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<()> {
        let provenance = crate::backend::provenance::<B>(&device);
        let mut progress: Option<crate::progress::Progress> = None;
        self.sweep
            .run::<B>(self.out, Shard::ALL, Some(&provenance), &device, &mut |p| {
                let (done, total) = (p.evaluations_done() as u64, p.evaluations_total() as u64);
                progress
                    .get_or_insert_with(|| {
                        crate::progress::Progress::new("assign", "model evaluations", done, total)
                    })
                    .update(
                        done,
                        total,
                        format!("pairs {}/{}", p.pairs_done, p.pairs_total),
                    );
            })?;
        if let Some(progress) = progress {
            progress.finish();
        }
        Ok(())
    }
}

pub fn run(args: AssignArgs) -> anyhow::Result<()> {
    args.compute.threads.apply()?;
    if args.per_basin == 0 {
        bail!("--per-basin must be at least 1");
    }
    let beside = |name: &str| {
        args.reference
            .parent()
            .map_or_else(|| PathBuf::from(name), |parent| parent.join(name))
    };
    let reference_results = args.results.clone().unwrap_or_else(|| beside("results"));
    let out = args.out.clone().unwrap_or_else(|| beside("assign"));
    let analysis = Analysis::read(&args.reference)?;
    let plan = ResultsDir::new(&reference_results)
        .read_spec()
        .with_context(|| format!("the reference sweep in {}", reference_results.display()))?;
    let chosen = central_members(&analysis, args.per_basin);
    let reference_models: Vec<ModelRef> = chosen
        .values()
        .flatten()
        .map(|name| {
            plan.models
                .iter()
                .find(|m| &m.name == name)
                .cloned()
                .with_context(|| {
                    format!("model `{name}` of the analysis is not in the reference sweep's plan")
                })
        })
        .collect::<anyhow::Result<_>>()?;

    let (mut new_models, local) = crate::models::resolve(&args.models)?;
    if !local.is_empty() {
        new_models.extend(discover_models(&local)?.models);
    }
    if let Some(clash) = new_models
        .iter()
        .find(|m| plan.models.iter().any(|r| r.name == m.name))
    {
        bail!(
            "model `{}` has the name of a reference member; assign places models that are not in the reference",
            clash.name
        );
    }
    let mut models = reference_models.clone();
    models.extend(new_models.iter().cloned());
    check_unique_names(&models)?;
    let pairs: Vec<(String, String)> = new_models
        .iter()
        .flat_map(|new| {
            reference_models
                .iter()
                .map(|r| (new.name.clone(), r.name.clone()))
        })
        .collect();
    let spec = SweepSpec {
        models,
        pairs,
        full_sets: Vec::new(),
        ..plan.clone()
    };
    // The reference members' endpoints, evaluated on the same sets by the reference sweep.
    let (reference_dir, results) = (ResultsDir::new(&reference_results), ResultsDir::new(&out));
    for model in &reference_models {
        let (from, to) = (
            reference_dir.endpoint_part(&model.name),
            results.endpoint_part(&model.name),
        );
        if from.is_file() && !to.is_file() {
            crate::paths::create_parent(&to)?;
            std::fs::copy(&from, &to).with_context(|| format!("copying {}", from.display()))?;
        }
    }
    let search = lmc_data::DataDirSearch::new(
        args.data_dir.as_deref(),
        &lmc_data::SearchEnv::from_process(),
    );
    let sweep = PreparedSweep::new(spec, &search)?;
    let compute = ComputeOptions {
        precision: Some(plan.precision),
        ..args.compute
    };
    run_on(
        compute,
        RunPaths {
            sweep: &sweep,
            out: &out,
        },
    )?;

    let in_domain = &analysis.options.in_domain_set;
    let (rows, _) = read_pairs(&out.join(lmc_analysis::schema::PAIRS_FILE))?;
    let cluster_of: BTreeMap<&str, usize> = chosen
        .iter()
        .flat_map(|(&cluster, names)| names.iter().map(move |n| (n.as_str(), cluster)))
        .collect();
    let mut assignments = Vec::new();
    for new in &new_models {
        let mut barriers: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
        for reference in &reference_models {
            let mut points: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| {
                    r.model_a == new.name && r.model_b == reference.name && &r.set == in_domain
                })
                .map(|r| (r.alpha, r.loss))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let curve = Curve::new(
                points.iter().map(|p| p.0).collect(),
                points.iter().map(|p| p.1).collect(),
            )
            .with_context(|| format!("the path from `{}` to `{}`", new.name, reference.name))?;
            barriers
                .entry(cluster_of[reference.name.as_str()])
                .or_default()
                .push(curve.convexity_gap());
        }
        assignments.push(assign(&new.name, &barriers).context("no basin to assign to")?);
    }
    write_assignments(&out.join(ASSIGNMENTS_FILE), &assignments, &analysis)?;
    for assignment in &assignments {
        println!("{}", describe(assignment, &analysis));
    }
    println!("table: {}", out.join(ASSIGNMENTS_FILE).display());
    Ok(())
}

/// One line: the basin, the barriers behind the choice, and the basin's measured behaviour.
fn describe(assignment: &Assignment, analysis: &Analysis) -> String {
    let mut line = format!(
        "{}: basin {} (barrier {:.4}",
        assignment.model, assignment.cluster, assignment.barrier
    );
    if let (Some((next, barrier)), Some(margin)) = (assignment.next, assignment.margin()) {
        line.push_str(&format!(
            " vs {barrier:.4} to basin {next}, margin {margin:.4}"
        ));
    }
    line.push(')');
    if let Some(stats) = analysis
        .cluster_stats
        .iter()
        .find(|s| s.cluster == assignment.cluster)
    {
        let d = &stats.diagnostic;
        if let (Some(mean), Some(min), Some(max)) = (d.mean, d.min, d.max) {
            line.push_str(&format!(
                "; its {} members measured {} {min:.3}–{max:.3} (mean {mean:.3}) on `{}`",
                stats.size, "the diagnostic metric", analysis.options.diagnostic_set
            ));
        }
        for (cell, summary) in &stats.hans {
            if let (Some(min), Some(max)) = (summary.min, summary.max) {
                line.push_str(&format!(", HANS {cell} {min:.3}–{max:.3}"));
            }
        }
    }
    line
}

fn write_assignments(
    path: &Path,
    assignments: &[Assignment],
    analysis: &Analysis,
) -> anyhow::Result<()> {
    let stat = |a: &Assignment, pick: fn(&lmc_analysis::Summary) -> Option<f64>| {
        analysis
            .cluster_stats
            .iter()
            .find(|s| s.cluster == a.cluster)
            .and_then(|s| pick(&s.diagnostic))
    };
    let values = |pick: &dyn Fn(&Assignment) -> Option<f64>| {
        assignments.iter().map(pick).collect::<Vec<_>>()
    };
    let columns = vec![
        Column::new(
            "model".into(),
            assignments
                .iter()
                .map(|a| a.model.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "cluster".into(),
            assignments
                .iter()
                .map(|a| a.cluster as u32)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "barrier".into(),
            assignments.iter().map(|a| a.barrier).collect::<Vec<_>>(),
        ),
        Column::new(
            "next_cluster".into(),
            assignments
                .iter()
                .map(|a| a.next.map(|n| n.0 as u32))
                .collect::<Vec<_>>(),
        ),
        Column::new("next_barrier".into(), values(&|a| a.next.map(|n| n.1))),
        Column::new("margin".into(), values(&Assignment::margin)),
        Column::new("diagnostic_mean".into(), values(&|a| stat(a, |s| s.mean))),
        Column::new("diagnostic_min".into(), values(&|a| stat(a, |s| s.min))),
        Column::new("diagnostic_max".into(), values(&|a| stat(a, |s| s.max))),
    ];
    write_parquet(path, &mut DataFrame::new_infer_height(columns)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_goes_to_the_basin_with_the_smallest_mean_barrier() {
        let barriers =
            BTreeMap::from([(0, vec![0.20, 0.30]), (1, vec![0.01, 0.03]), (2, vec![0.5])]);
        let assignment = assign("new", &barriers).unwrap();
        assert_eq!(assignment.cluster, 1);
        assert!((assignment.barrier - 0.02).abs() < 1e-12);
        assert_eq!(assignment.next.map(|n| n.0), Some(0));
        assert!((assignment.margin().unwrap() - 0.23).abs() < 1e-12);
        let alone = assign("new", &BTreeMap::from([(4, vec![0.1])])).unwrap();
        assert_eq!((alone.cluster, alone.next), (4, None));
        assert!(assign("new", &BTreeMap::new()).is_none());
    }
}
