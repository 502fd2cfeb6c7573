//! 2-D loss surfaces on the plane through three models (lmc-interp's Gram–Schmidt [`Plane`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use lmc_analysis::schema;
use lmc_bert::{BertClassifier, HostTensor, Precision, classifier_from_parameters};
use lmc_data::{DataDirSearch, PairTokenizer, TaskName};
use lmc_interp::{ParamSet, Plane, TensorData};
use polars::prelude::{Column, DataFrame, NamedFrom, Series};

use crate::error::{Result, SweepError};
use crate::evaluate::evaluate;
use crate::models::{
    ModelRef, check_max_length, file_safe, load_model, model_config, task_for_model,
};
use crate::sets::{EvalSet, SetRequest, prepare_sets};
use crate::sweep::PARTS_DIR;
use crate::table::{read_parquet, write_parquet};

/// What [`run_surface`] evaluates.
#[derive(Debug, Clone, PartialEq)]
pub struct SurfaceSpec {
    /// The task.
    pub task: TaskName,
    /// Name of the plane in the tables (e.g. `G-G-G`).
    pub plane: String,
    /// The anchor model (the origin of the plane).
    pub anchor: ModelRef,
    /// The two base models.
    pub bases: [ModelRef; 2],
    /// Grid coefficients c1 along v1.
    pub c1: Vec<f64>,
    /// Grid coefficients c2 along v2⊥.
    pub c2: Vec<f64>,
    /// Sets evaluated at every grid point.
    pub sets: Vec<SetRequest>,
    /// Examples per batch.
    pub batch_size: usize,
    /// Longest token sequence.
    pub max_length: usize,
    /// How the models' matrix products compute.
    pub precision: Precision,
    /// The order of the models' outputs when their configs name no labels ([`task_for_model`]).
    pub label_order: Option<Vec<String>>,
}

/// What [`run_surface`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct SurfaceSummary {
    /// Grid rows evaluated by this call.
    pub rows_evaluated: usize,
    /// Grid rows found stored.
    pub rows_skipped: usize,
    /// ‖v1‖ and ‖v2⊥‖.
    pub norms: (f64, f64),
    /// The files written.
    pub files: Vec<PathBuf>,
}

fn param_set<B: Backend>(model: &BertClassifier<B>, name: &str) -> Result<ParamSet> {
    ParamSet::from_f32_tensors(
        model
            .hf_parameters()
            .into_iter()
            .map(|(n, t)| (n, t.shape, t.values)),
    )
    .map_err(|source| SweepError::Interp {
        context: format!("parameters of model `{name}`"),
        source,
    })
}

fn parameters(set: &ParamSet) -> BTreeMap<String, HostTensor> {
    set.tensors()
        .filter_map(|t| match t.data {
            TensorData::Float(values) => Some((
                t.name.to_owned(),
                HostTensor::new(t.shape.to_vec(), values.to_vec()),
            )),
            TensorData::Carried(_) => None,
        })
        .collect()
}

fn column<T>(name: &str, values: Vec<T>) -> Column
where
    Series: NamedFrom<Vec<T>, [T]>,
{
    Column::from(Series::new(name.into(), values))
}

/// Evaluates loss, accuracy and expected calibration error (10 bins) on the grid
/// θ_anchor + c1·v1 + c2·v2⊥ for every (c1, c2) and set, and stores the grid in
/// `surface.parquet` and the three models' positions in `surface_models.parquet`.
///
/// Coordinates `x`, `y` are Euclidean: x = c1·‖v1‖, y = c2·‖v2⊥‖, so that a plot with isometric
/// axes shows true distances; the anchor is at (0, 0). Each grid row (one c1) is stored as soon as
/// it is done (`parts/surface-points-<plane>-<i>.parquet`), so a rerun resumes; the tables hold
/// every plane evaluated into `out`, in plane-name order.
///
/// # Errors
/// Degenerate planes (collinear models), model, data and file errors.
pub fn run_surface<B: Backend>(
    spec: &SurfaceSpec,
    search: &DataDirSearch,
    out: &Path,
    device: &B::Device,
    observer: &mut dyn FnMut(usize, usize),
) -> Result<SurfaceSummary> {
    if spec.c1.is_empty() || spec.c2.is_empty() {
        return Err(SweepError::Invalid("the surface grid is empty".into()));
    }
    let models = [&spec.anchor, &spec.bases[0], &spec.bases[1]];
    let config = model_config(&spec.anchor)?;
    check_max_length(&spec.anchor, &config, spec.max_length)?;
    let task = task_for_model(
        spec.task,
        &spec.anchor,
        &config,
        spec.label_order.as_deref(),
    )?;
    let tokenizer = PairTokenizer::from_model_dir(&spec.anchor.dir, spec.max_length).map_err(
        SweepError::data(format!("tokenizer of model `{}`", spec.anchor.name)),
    )?;
    let sets = prepare_sets(&spec.sets, &task, search, &tokenizer, spec.batch_size)?;
    let mut loaded = Vec::new();
    for model in models {
        let classifier = load_model::<B>(model, spec.precision, device)?;
        loaded.push(param_set(&classifier, &model.name)?);
    }
    let anchor = loaded.remove(0);
    let plane =
        Plane::through(anchor, &loaded[0], &loaded[1]).map_err(|source| SweepError::Interp {
            context: format!(
                "plane through `{}`, `{}`, `{}`",
                spec.anchor.name, spec.bases[0].name, spec.bases[1].name
            ),
            source,
        })?;
    drop(loaded);
    let (n1, n2) = (plane.v1_norm(), plane.v2_norm());
    let parts = out.join(PARTS_DIR);
    std::fs::create_dir_all(&parts).map_err(SweepError::io(&parts))?;
    let safe = file_safe(&spec.plane);
    let coordinates = plane.coordinates();
    let mut marks = DataFrame::new_infer_height(vec![
        column(schema::PLANE, vec![spec.plane.clone(); 3]),
        column(
            schema::MODEL,
            models.iter().map(|m| m.name.clone()).collect(),
        ),
        column(
            schema::X,
            [coordinates.anchor, coordinates.base1, coordinates.base2]
                .iter()
                .map(|c| c[0] * n1)
                .collect(),
        ),
        column(
            schema::Y,
            [coordinates.anchor, coordinates.base1, coordinates.base2]
                .iter()
                .map(|c| c[1] * n2)
                .collect(),
        ),
    ])
    .map_err(SweepError::table(schema::SURFACE_MODELS_FILE))?;
    write_parquet(
        &parts.join(format!("surface-models-{safe}.parquet")),
        &mut marks,
    )?;

    let num_labels = config.num_labels.unwrap_or(task.num_labels());
    let mut point = plane.point(0.0, 0.0).map_err(|source| SweepError::Interp {
        context: format!("plane `{}`", spec.plane),
        source,
    })?;
    let (mut evaluated, mut skipped) = (0, 0);
    for (i, &c1) in spec.c1.iter().enumerate() {
        let part = parts.join(format!("surface-points-{safe}-{i:05}.parquet"));
        if part.is_file() {
            skipped += 1;
            observer(i + 1, spec.c1.len());
            continue;
        }
        let mut rows = SurfaceRows::default();
        for (j, &c2) in spec.c2.iter().enumerate() {
            plane
                .point_into(&mut point, c1 as f32, c2 as f32)
                .map_err(|source| SweepError::Interp {
                    context: format!("plane `{}` at ({c1}, {c2})", spec.plane),
                    source,
                })?;
            let model =
                classifier_from_parameters::<B>(&config, num_labels, parameters(&point), device)
                    .map_err(SweepError::model(format!("{} at ({c1}, {c2})", spec.plane)))?
                    .with_precision(spec.precision);
            for set in &sets {
                rows.push(i, j, c1 * n1, c2 * n2, set, &model, device)?;
            }
        }
        write_parquet(&part, &mut rows.frame(&spec.plane)?)?;
        evaluated += 1;
        observer(i + 1, spec.c1.len());
    }
    let files = merge_surfaces(out)?;
    Ok(SurfaceSummary {
        rows_evaluated: evaluated,
        rows_skipped: skipped,
        norms: (n1, n2),
        files,
    })
}

#[derive(Default)]
struct SurfaceRows {
    grid_i: Vec<u32>,
    grid_j: Vec<u32>,
    x: Vec<f64>,
    y: Vec<f64>,
    set: Vec<String>,
    loss: Vec<f64>,
    accuracy: Vec<f64>,
    ece: Vec<f64>,
    n_examples: Vec<u32>,
}

impl SurfaceRows {
    #[allow(clippy::too_many_arguments)]
    fn push<B: Backend>(
        &mut self,
        i: usize,
        j: usize,
        x: f64,
        y: f64,
        set: &EvalSet,
        model: &BertClassifier<B>,
        device: &B::Device,
    ) -> Result<()> {
        let evaluation = evaluate(model, set, device)?;
        self.grid_i.push(i as u32);
        self.grid_j.push(j as u32);
        self.x.push(x);
        self.y.push(y);
        self.set.push(set.label.clone());
        self.loss.push(evaluation.scores.mean_loss);
        self.accuracy.push(evaluation.scores.accuracy);
        self.ece.push(evaluation.ece);
        self.n_examples.push(set.len() as u32);
        Ok(())
    }

    fn frame(self, plane: &str) -> Result<DataFrame> {
        DataFrame::new_infer_height(vec![
            column(schema::PLANE, vec![plane.to_owned(); self.x.len()]),
            column(schema::GRID_I, self.grid_i),
            column(schema::GRID_J, self.grid_j),
            column(schema::X, self.x),
            column(schema::Y, self.y),
            column(schema::SET, self.set),
            column(schema::LOSS, self.loss),
            column(schema::ACCURACY, self.accuracy),
            column(schema::ECE, self.ece),
            column(schema::N_EXAMPLES, self.n_examples),
        ])
        .map_err(SweepError::table(schema::SURFACE_FILE))
    }
}

/// Concatenates every stored surface part of `out` into `surface.parquet` and
/// `surface_models.parquet` (parts in file-name order: plane, then grid row).
///
/// # Errors
/// Unreadable parts or tables that do not stack.
pub fn merge_surfaces(out: &Path) -> Result<Vec<PathBuf>> {
    let parts = out.join(PARTS_DIR);
    let mut names: Vec<PathBuf> = std::fs::read_dir(&parts)
        .map_err(SweepError::io(&parts))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    names.sort();
    let mut files = Vec::new();
    for (prefix, file) in [
        ("surface-points-", schema::SURFACE_FILE),
        ("surface-models-", schema::SURFACE_MODELS_FILE),
    ] {
        let mut combined: Option<DataFrame> = None;
        for path in names.iter().filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        }) {
            let df = read_parquet(path)?;
            match &mut combined {
                Some(all) => {
                    all.vstack_mut(&df)
                        .map_err(SweepError::table(path.display().to_string()))?;
                }
                None => combined = Some(df),
            }
        }
        if let Some(mut df) = combined {
            let path = out.join(file);
            write_parquet(&path, &mut df)?;
            files.push(path);
        }
    }
    Ok(files)
}
