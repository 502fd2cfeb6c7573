//! `lmc surface`: loss, accuracy and calibration error on a grid of the plane through three models.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::tensor::backend::Backend;
use clap::Args;
use lmc_data::{DataDirSearch, TaskName};

use crate::backend::{OnBackend, run_on};
use crate::eval::EvaluationOptions;
use crate::progress::Progress;
use lmc_sweep::{ModelRef, SetRequest, SurfaceSpec, SurfaceSummary, discover_models, run_surface};

/// Arguments of `lmc surface`.
#[derive(Debug, Args)]
pub struct SurfaceArgs {
    /// The task the models were fine-tuned on.
    #[arg(long)]
    pub task: TaskName,
    /// The anchor model (origin of the plane): a model or run directory, or `hf:ORG/NAME[@REV]`.
    #[arg(long)]
    pub anchor: String,
    /// The two base models spanning the plane with the anchor (as `--anchor`).
    #[arg(long, num_args = 2)]
    pub bases: Vec<String>,
    /// Grid coefficients `FROM:TO:N` (N evenly spaced values, both ends included) for both axes,
    /// or `FROM:TO:N,FROM:TO:N` for c1 and c2 separately.
    #[arg(long, default_value = "-0.5:1.5:21", allow_hyphen_values = true)]
    pub grid: String,
    /// Sets evaluated at every grid point (as `lmc sweep --sets`).
    #[arg(long, default_value = "id:256")]
    pub sets: String,
    /// Name of the plane in the tables [default: ANCHOR-BASE1-BASE2].
    #[arg(long)]
    pub plane: Option<String>,
    /// Results directory (surface.parquet and surface_models.parquet, shared by every plane).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub evaluation: EvaluationOptions,
}

fn parse_axis(text: &str) -> anyhow::Result<Vec<f64>> {
    let parts: Vec<&str> = text.split(':').collect();
    let [from, to, n] = parts.as_slice() else {
        bail!("--grid: `{text}` is not FROM:TO:N");
    };
    let from: f64 = from
        .trim()
        .parse()
        .with_context(|| format!("--grid: bad start in `{text}`"))?;
    let to: f64 = to
        .trim()
        .parse()
        .with_context(|| format!("--grid: bad end in `{text}`"))?;
    let n: usize = n
        .trim()
        .parse()
        .with_context(|| format!("--grid: bad count in `{text}`"))?;
    match n {
        0 => bail!("--grid: `{text}` has no points"),
        1 => Ok(vec![from]),
        _ => Ok((0..n)
            .map(|i| from + (to - from) * i as f64 / (n - 1) as f64)
            .collect()),
    }
}

/// The two axes of `--grid`: `FROM:TO:N` for both, or `X_AXIS,Y_AXIS`.
pub(crate) fn grid_axes(grid: &str) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    match grid.split_once(',') {
        Some((x, y)) => Ok((parse_axis(x)?, parse_axis(y)?)),
        None => Ok((parse_axis(grid)?, parse_axis(grid)?)),
    }
}

fn model(argument: &str) -> anyhow::Result<ModelRef> {
    let (mut hub, local) = crate::models::resolve(&[argument.to_owned()])?;
    let mut found = match local.as_slice() {
        [] => std::mem::take(&mut hub),
        paths => discover_models(paths)?.models,
    };
    if found.len() != 1 {
        bail!(
            "{argument}: expected one model, found {} models",
            found.len()
        );
    }
    Ok(found.remove(0))
}

/// Evaluates the grid of one plane, with progress by grid row.
struct Surface<'a> {
    spec: &'a SurfaceSpec,
    search: &'a DataDirSearch,
    out: &'a Path,
}

impl OnBackend for Surface<'_> {
    type Output = SurfaceSummary;

    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<SurfaceSummary> {
        let rows = self.spec.c1.len() as u64;
        let mut progress =
            Progress::new(&format!("plane {}", self.spec.plane), "grid rows", 0, rows);
        let summary = run_surface::<B>(
            self.spec,
            self.search,
            self.out,
            &device,
            &mut |done, total| progress.update(done as u64, total as u64, String::new()),
        );
        progress.finish();
        Ok(summary?)
    }
}

pub fn run(args: SurfaceArgs) -> anyhow::Result<()> {
    args.evaluation.compute.threads.apply()?;
    let (c1, c2) = grid_axes(&args.grid)?;
    let anchor = model(&args.anchor)?;
    let bases = [model(&args.bases[0])?, model(&args.bases[1])?];
    let plane = args
        .plane
        .clone()
        .unwrap_or_else(|| format!("{}-{}-{}", anchor.name, bases[0].name, bases[1].name));
    let spec = SurfaceSpec {
        task: args.task,
        plane,
        anchor,
        bases,
        c1,
        c2,
        sets: SetRequest::parse_list(&args.sets)?,
        batch_size: args.evaluation.batch_size,
        max_length: args.evaluation.max_length,
        precision: args.evaluation.compute.precision()?,
        label_order: args.evaluation.label_order.clone(),
    };
    let search = args.evaluation.search();
    crate::paths::create_dir(&args.out)?;
    let job = Surface {
        spec: &spec,
        search: &search,
        out: &args.out,
    };
    let summary = run_on(args.evaluation.compute, job)?;
    println!(
        "plane {}: {} grid rows evaluated, {} already stored; |v1| = {:.4}, |v2⊥| = {:.4}; wrote {}",
        spec.plane,
        summary.rows_evaluated,
        summary.rows_skipped,
        summary.norms.0,
        summary.norms.1,
        summary
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
