//! N-model merges driven by a [`MergeConfig`], checkpoint files to a checkpoint directory, one
//! tensor at a time.
//!
//! [`ModelMerge::open`] binds a configuration to its inputs and checks everything that can be
//! checked before a single tensor is read: every path resolves to a safetensors file, every
//! file's header has the base (or first) model's names, shapes and dtypes, and every tensor gets
//! valid parameters (weights present and finite, densities that keep at least one entry, …).
//! [`ModelMerge::write`] then streams the merge: for each tensor it reads the inputs from their
//! memory maps, combines them with [`crate::methods`], and appends the result to
//! `model.safetensors`, so the memory used is a few copies of the largest tensor, never a whole
//! model. The output directory receives:
//!
//! - `model.safetensors`, written atomically, in `out_dtype`, else `dtype`, else the stored type
//!   of the base (or first) model's tensor; integer and boolean buffers and the file metadata are
//!   copied from that model;
//! - the companion files ([`CHECKPOINT_COMPANION_FILES`]) of that model when it is a directory:
//!   `config.json` (with `torch_dtype` set to the output type when `dtype` or `out_dtype` is
//!   given, as mergekit sets it) and the tokenizer files, so transformers loads the result;
//! - `mergekit_config.yml` ([`MERGEKIT_CONFIG_FILE`]), the configuration as given, where mergekit
//!   puts it;
//! - `merge.json` ([`MERGE_RECORD_FILE`]), written last: the configuration text, the method, and
//!   the path and SHA-256 of every input weights file.

use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::Dtype;
use crate::bytes::{
    all_finite, narrow_into, numbers_as_le_bytes, numbers_from_le_bytes, round_through, widen_into,
};
use crate::error::InterpError;
use crate::mapped::{MappedSafetensors, MappedTensor};
use crate::merge::{CHECKPOINT_COMPANION_FILES, CHECKPOINT_WEIGHTS_FILE};
use crate::merge_config::{MergeConfig, MergeMethod, ParameterValue};
use crate::methods::{self, Consensus, SlerpPath, TaskArithmetic, TaskModel, Ties};
use crate::param_set::compare_signatures;
use crate::writer::{AtomicSafetensorsWriter, HeaderEntry, copy_atomically, write_atomically};

/// The record of a merge, written last into the output directory.
pub const MERGE_RECORD_FILE: &str = "merge.json";

/// The configuration as given, copied into the output directory under mergekit's name for it.
pub const MERGEKIT_CONFIG_FILE: &str = "mergekit_config.yml";

/// A merge configuration bound to its input checkpoints, checked, ready to write.
#[derive(Debug)]
pub struct ModelMerge {
    config: MergeConfig,
    inputs: Vec<MergeInput>,
    files: Vec<MappedSafetensors>,
    /// Index of the input whose buffers, metadata and companion files the output takes.
    reference: usize,
    /// One plan per tensor, in name order.
    plans: Vec<TensorPlan>,
    ignored_parameters: Vec<String>,
}

/// One input of a merge, in mergekit's order: the models as listed, then the base model if the
/// list does not hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeInput {
    /// The model as the configuration names it.
    pub model: String,
    /// The safetensors file read.
    pub weights_file: PathBuf,
    /// The checkpoint directory, when the model was given as one.
    pub checkpoint_dir: Option<PathBuf>,
    /// Whether this is `base_model`.
    pub is_base: bool,
    /// Its index in `models`, or `None` for a base model the list does not hold.
    pub models_index: Option<usize>,
}

/// What [`ModelMerge::write`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelMergeSummary {
    /// The output directory.
    pub output_dir: PathBuf,
    /// The merged weights, `output_dir/model.safetensors`.
    pub weights_file: PathBuf,
    /// The record, `output_dir/merge.json`.
    pub record_file: PathBuf,
    /// Float tensors merged.
    pub merged_tensors: usize,
    /// Integer and boolean tensors copied from the base (or first) model.
    pub carried_tensors: usize,
    /// Float values merged.
    pub merged_values: u64,
    /// Size of the weights file.
    pub bytes_written: u64,
    /// Output tensors holding a NaN or an infinity, in storage order.
    pub non_finite_tensors: Vec<String>,
    /// For slerp, the tensors that were (anti-)colinear and were interpolated linearly.
    pub linear_fallback_tensors: Vec<String>,
    /// Files copied (or, for `config.json` with a requested dtype, rewritten) from the base (or
    /// first) model, and `mergekit_config.yml`.
    pub copied_files: Vec<PathBuf>,
    /// Each input and the SHA-256 of its weights file, in [`ModelMerge::inputs`] order.
    pub input_hashes: Vec<(MergeInput, String)>,
}

/// How one tensor is merged, with its parameters resolved.
#[derive(Debug, Clone, PartialEq)]
enum TensorPlan {
    /// Integer or boolean: copied from the reference input.
    Carried,
    /// A one-input slerp or task-vector merge: the base, copied.
    Base,
    Linear {
        weights: Vec<f32>,
        normalize: bool,
    },
    Slerp {
        t: f64,
    },
    TaskArithmetic {
        weights: Vec<f32>,
        options: TaskArithmetic,
    },
    Ties {
        weights: Vec<f32>,
        densities: Vec<f64>,
        options: Ties,
    },
}

impl ModelMerge {
    /// Resolves the configuration's models (relative paths against `base_dir`), maps their
    /// weights files, checks every header against the base (or first) model's, and resolves
    /// every tensor's parameters. Reads no tensor data; nothing is written.
    ///
    /// A model is a checkpoint directory holding `model.safetensors`, or a `.safetensors` file.
    /// A directory with only `pytorch_model.bin` is refused with the way to convert it, as are
    /// sharded checkpoints and paths that do not exist (mergekit would look them up on the
    /// Hugging Face Hub).
    pub fn open(
        config: MergeConfig,
        base_dir: impl AsRef<Path>,
    ) -> Result<ModelMerge, InterpError> {
        let base_dir = base_dir.as_ref();
        let mut inputs: Vec<MergeInput> = Vec::new();
        for (index, spec) in config.models.iter().enumerate() {
            let (weights_file, checkpoint_dir) = resolve_model(&spec.model, base_dir)?;
            inputs.push(MergeInput {
                model: spec.model.clone(),
                weights_file,
                checkpoint_dir,
                is_base: config.base_model.as_deref() == Some(spec.model.as_str()),
                models_index: Some(index),
            });
        }
        if let Some(base) = &config.base_model
            && !inputs.iter().any(|input| input.is_base)
        {
            let (weights_file, checkpoint_dir) = resolve_model(base, base_dir)?;
            inputs.push(MergeInput {
                model: base.clone(),
                weights_file,
                checkpoint_dir,
                is_base: true,
                models_index: None,
            });
        }
        check_distinct_files(&config, &inputs)?;
        let reference = inputs.iter().position(|input| input.is_base).unwrap_or(0);

        let files = inputs
            .iter()
            .map(|input| MappedSafetensors::open(&input.weights_file))
            .collect::<Result<Vec<_>, _>>()?;
        let reference_label = files[reference].path().display().to_string();
        for (index, file) in files.iter().enumerate() {
            if index != reference {
                compare_signatures(
                    files[reference].signatures(),
                    file.signatures(),
                    (&reference_label, &file.path().display().to_string()),
                )?;
            }
        }

        let resolver = Resolver {
            config: &config,
            inputs: &inputs,
        };
        resolver.check_input_count()?;
        let plans = files[reference]
            .tensors()
            .map(|tensor| resolver.plan(tensor))
            .collect::<Result<Vec<_>, _>>()?;
        let ignored_parameters = resolver.ignored_parameters();
        Ok(ModelMerge {
            config,
            inputs,
            files,
            reference,
            plans,
            ignored_parameters,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MergeConfig {
        &self.config
    }

    /// The inputs, in mergekit's order: the models as listed, then the base if not listed.
    pub fn inputs(&self) -> &[MergeInput] {
        &self.inputs
    }

    /// Parameters set in the configuration that the method does not read, as key paths
    /// (`models[1].parameters.t`, `parameters.gamma`). mergekit ignores them silently; so does
    /// the merge, and a caller may warn.
    pub fn ignored_parameters(&self) -> &[String] {
        &self.ignored_parameters
    }

    /// Writes the merge into `out_dir` (created with its parents if missing): see the module
    /// documentation for the files. Each file is written atomically and `merge.json` last, so a
    /// directory with `merge.json` holds a complete merge; files of an earlier merge in the same
    /// directory are replaced.
    pub fn write(&self, out_dir: impl AsRef<Path>) -> Result<ModelMergeSummary, InterpError> {
        let out_dir = out_dir.as_ref();
        fs::create_dir_all(out_dir).map_err(|source| InterpError::Write {
            path: out_dir.to_path_buf(),
            source,
        })?;
        let hashes: Vec<String> = self
            .files
            .par_iter()
            .map(|file| sha256_hex(file.file_bytes()))
            .collect();
        let weights_file = out_dir.join(CHECKPOINT_WEIGHTS_FILE);
        let mut summary = ModelMergeSummary {
            output_dir: out_dir.to_path_buf(),
            weights_file: weights_file.clone(),
            record_file: out_dir.join(MERGE_RECORD_FILE),
            merged_tensors: 0,
            carried_tensors: 0,
            merged_values: 0,
            bytes_written: 0,
            non_finite_tensors: Vec::new(),
            linear_fallback_tensors: Vec::new(),
            copied_files: Vec::new(),
            input_hashes: self.inputs.iter().cloned().zip(hashes).collect(),
        };
        self.write_weights(&weights_file, &mut summary)?;
        self.copy_companions(out_dir, &mut summary)?;
        let config_copy = out_dir.join(MERGEKIT_CONFIG_FILE);
        write_atomically(&config_copy, self.config.yaml().as_bytes())?;
        summary.copied_files.push(config_copy);
        let record = self.record(&summary);
        let mut bytes = serde_json::to_vec_pretty(&record).expect("a JSON value serialises");
        bytes.push(b'\n');
        write_atomically(&summary.record_file, &bytes)?;
        Ok(summary)
    }

    fn write_weights(
        &self,
        path: &Path,
        summary: &mut ModelMergeSummary,
    ) -> Result<(), InterpError> {
        let reference = &self.files[self.reference];
        let tensors: Vec<MappedTensor<'_>> = reference.tensors().collect();
        let headers: Vec<HeaderEntry<'_>> = tensors
            .iter()
            .map(|tensor| HeaderEntry {
                name: tensor.name,
                shape: tensor.shape,
                dtype: self.output_dtype(tensor.dtype),
            })
            .collect();
        let (mut writer, order) =
            AtomicSafetensorsWriter::create(path, &headers, reference.metadata())?;
        let mut out: Vec<f32> = Vec::new();
        let mut half_bits: Vec<u16> = Vec::new();
        for &index in &order {
            let tensor = tensors[index];
            let plan = &self.plans[index];
            if *plan == TensorPlan::Carried {
                writer.write_tensor(tensor.bytes)?;
                summary.carried_tensors += 1;
                continue;
            }
            let len = tensor.bytes.len() / tensor.dtype.size_in_bytes();
            out.resize(len, 0.0);
            if self.merge_tensor(index, plan, &mut out) == Some(SlerpPath::Linear) {
                summary.linear_fallback_tensors.push(tensor.name.to_owned());
            }
            let dtype = headers[index].dtype;
            let bytes = if dtype == Dtype::F32 {
                numbers_as_le_bytes(&out)
            } else {
                half_bits.resize(len, 0);
                narrow_into(&out, dtype, &mut half_bits);
                numbers_as_le_bytes(&half_bits)
            };
            if !all_finite(&bytes, dtype) {
                summary.non_finite_tensors.push(tensor.name.to_owned());
            }
            writer.write_tensor(&bytes)?;
            summary.merged_tensors += 1;
            summary.merged_values += len as u64;
        }
        summary.bytes_written = writer.finish()?;
        Ok(())
    }

    /// Computes float tensor `index` into `out`; for slerp, returns the formula used.
    fn merge_tensor(&self, index: usize, plan: &TensorPlan, out: &mut [f32]) -> Option<SlerpPath> {
        let values: Vec<Cow<'_, [f32]>> = self
            .files
            .iter()
            .map(|file| self.read_values(file.tensor_at(index)))
            .collect();
        let base = self.inputs.iter().position(|input| input.is_base);
        // The task models: every input but the base, in order, with their values.
        let task_values = || {
            values
                .iter()
                .zip(&self.inputs)
                .filter(|(_, input)| !input.is_base)
                .map(|(values, _)| values.as_ref())
        };
        match plan {
            TensorPlan::Carried => unreachable!("carried tensors are copied, not merged"),
            TensorPlan::Base => {
                out.copy_from_slice(&values[base.expect("a base model")]);
                None
            }
            TensorPlan::Linear { weights, normalize } => {
                let models: Vec<&[f32]> = values.iter().map(AsRef::as_ref).collect();
                methods::linear(out, &models, weights, *normalize);
                None
            }
            TensorPlan::Slerp { t } => {
                let base = base.expect("slerp has a base model");
                let other = task_values().next().expect("slerp has a second model");
                Some(methods::slerp(out, &values[base], other, *t))
            }
            TensorPlan::TaskArithmetic { weights, options } => {
                let models: Vec<TaskModel<'_>> = task_values()
                    .zip(weights)
                    .map(|(values, &weight)| TaskModel {
                        values,
                        weight,
                        density: 1.0,
                    })
                    .collect();
                let base = &values[base.expect("task arithmetic has a base model")];
                methods::task_arithmetic(out, base, &models, *options);
                None
            }
            TensorPlan::Ties {
                weights,
                densities,
                options,
            } => {
                let models: Vec<TaskModel<'_>> = task_values()
                    .zip(weights.iter().zip(densities))
                    .map(|(values, (&weight, &density))| TaskModel {
                        values,
                        weight,
                        density,
                    })
                    .collect();
                let base = &values[base.expect("ties has a base model")];
                methods::ties(out, base, &models, *options);
                None
            }
        }
    }

    /// A float tensor's values in `f32`, rounded through `dtype` when the configuration sets
    /// one, as mergekit casts its inputs.
    fn read_values<'a>(&self, tensor: MappedTensor<'a>) -> Cow<'a, [f32]> {
        let mut values: Cow<'a, [f32]> = if tensor.dtype == Dtype::F32 {
            numbers_from_le_bytes(tensor.bytes)
        } else {
            let mut widened = vec![0.0; tensor.bytes.len() / tensor.dtype.size_in_bytes()];
            widen_into(tensor.bytes, tensor.dtype, &mut widened);
            Cow::Owned(widened)
        };
        if let Some(dtype) = self.config.dtype
            && dtype != Dtype::F32
            && dtype != tensor.dtype
        {
            round_through(values.to_mut(), dtype);
        }
        values
    }

    /// The type a float tensor stored as `stored` is written in (carried types are kept).
    fn output_dtype(&self, stored: Dtype) -> Dtype {
        if !stored.is_float() {
            return stored;
        }
        self.config
            .out_dtype
            .or(self.config.dtype)
            .unwrap_or(stored)
    }

    fn copy_companions(
        &self,
        out_dir: &Path,
        summary: &mut ModelMergeSummary,
    ) -> Result<(), InterpError> {
        let Some(source_dir) = &self.inputs[self.reference].checkpoint_dir else {
            return Ok(());
        };
        let requested = self.config.out_dtype.or(self.config.dtype);
        for name in CHECKPOINT_COMPANION_FILES {
            let source = source_dir.join(name);
            if !source.is_file() {
                continue;
            }
            let destination = out_dir.join(name);
            match requested {
                Some(dtype) if name == "config.json" => {
                    write_config_with_dtype(&source, &destination, dtype)?
                }
                _ => copy_atomically(&source, &destination)?,
            }
            summary.copied_files.push(destination);
        }
        Ok(())
    }

    fn record(&self, summary: &ModelMergeSummary) -> serde_json::Value {
        let inputs: Vec<serde_json::Value> = summary
            .input_hashes
            .iter()
            .map(|(input, sha256)| {
                serde_json::json!({
                    "model": input.model,
                    "weights_file": input.weights_file.display().to_string(),
                    "sha256": sha256,
                    "base_model": input.is_base,
                })
            })
            .collect();
        serde_json::json!({
            "tool": format!("lmc-interp {}", env!("CARGO_PKG_VERSION")),
            "merge_method": self.config.merge_method.name(),
            "config_file": self.config.origin().display().to_string(),
            "config_yaml": self.config.yaml(),
            "inputs": inputs,
            "output": {
                "weights_file": CHECKPOINT_WEIGHTS_FILE,
                "merged_tensors": summary.merged_tensors,
                "carried_tensors": summary.carried_tensors,
                "non_finite_tensors": summary.non_finite_tensors,
                "linear_fallback_tensors": summary.linear_fallback_tensors,
            },
            "ignored_parameters": self.ignored_parameters,
        })
    }
}

/// Parses the configuration file `config_file`, opens its models (relative paths against
/// `base_dir`) and writes the merge into `out_dir`: what `lmc merge CONFIG OUT_DIR` runs, with
/// the working directory as `base_dir`, as mergekit resolves paths.
pub fn merge_models(
    config_file: impl AsRef<Path>,
    base_dir: impl AsRef<Path>,
    out_dir: impl AsRef<Path>,
) -> Result<ModelMergeSummary, InterpError> {
    let config = MergeConfig::load(config_file)?;
    ModelMerge::open(config, base_dir)?.write(out_dir)
}

/// The weights file (and checkpoint directory) of the model `model`.
fn resolve_model(model: &str, base_dir: &Path) -> Result<(PathBuf, Option<PathBuf>), InterpError> {
    let path = base_dir.join(model);
    let unsupported = |reason: String| InterpError::UnsupportedCheckpoint {
        path: path.clone(),
        reason,
    };
    let convert = "lmc-interp reads safetensors only; convert the checkpoint with `cargo run -p \
                   lmc-bert --example resave -- IN_DIR OUT_DIR` (lmc-bert reads pytorch_model.bin) \
                   or transformers' `save_pretrained(dir, safe_serialization=True)`";
    let metadata = match fs::metadata(&path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(unsupported(format!(
                "model `{model}` does not exist; lmc merges local checkpoints (a directory with \
                 model.safetensors, or a .safetensors file) and downloads nothing, where mergekit \
                 would look the name up on the Hugging Face Hub"
            )));
        }
        Err(source) => return Err(InterpError::Read { path, source }),
    };
    if !metadata.is_dir() {
        if path.extension().is_some_and(|extension| extension == "bin") {
            return Err(unsupported(format!("a PyTorch pickle: {convert}")));
        }
        return Ok((path, None));
    }
    let weights = path.join(CHECKPOINT_WEIGHTS_FILE);
    if weights.is_file() {
        return Ok((weights, Some(path)));
    }
    if path.join("model.safetensors.index.json").is_file() {
        return Err(unsupported(
            "a sharded checkpoint (model.safetensors.index.json): lmc merges single-file \
             checkpoints; save it with a larger `max_shard_size`"
                .to_owned(),
        ));
    }
    if path.join("pytorch_model.bin").is_file() {
        return Err(unsupported(format!(
            "has pytorch_model.bin but no model.safetensors: {convert}"
        )));
    }
    Err(InterpError::MissingCheckpointFile {
        dir: path,
        file: CHECKPOINT_WEIGHTS_FILE,
    })
}

/// Refuses one checkpoint named two ways (`runs/a` and `./runs/a`), which mergekit would take
/// for two models.
fn check_distinct_files(config: &MergeConfig, inputs: &[MergeInput]) -> Result<(), InterpError> {
    let canonical: Vec<Option<PathBuf>> = inputs
        .iter()
        .map(|input| fs::canonicalize(&input.weights_file).ok())
        .collect();
    for (index, path) in canonical.iter().enumerate() {
        let Some(path) = path else { continue };
        if let Some(first) = canonical[..index]
            .iter()
            .position(|other| other.as_ref() == Some(path))
        {
            return Err(config.error(
                input_key(&inputs[index]),
                format!(
                    "`{}` and `{}` are the same checkpoint ({}); name it one way",
                    inputs[first].model,
                    inputs[index].model,
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Where an input comes from in the configuration.
fn input_key(input: &MergeInput) -> String {
    match input.models_index {
        Some(index) => format!("models[{index}]"),
        None => "base_model".to_owned(),
    }
}

/// Resolves parameters per tensor, as mergekit's `ConfigReader.parameter` does.
struct Resolver<'a> {
    config: &'a MergeConfig,
    inputs: &'a [MergeInput],
}

impl Resolver<'_> {
    fn method(&self) -> MergeMethod {
        self.config.merge_method
    }

    /// slerp takes exactly two inputs, the base and one other (one alone is copied).
    fn check_input_count(&self) -> Result<(), InterpError> {
        if self.method() == MergeMethod::Slerp && self.inputs.len() > 2 {
            let names: Vec<&str> = self
                .inputs
                .iter()
                .map(|input| input.model.as_str())
                .collect();
            return Err(self.config.error(
                "models",
                format!(
                    "slerp merges exactly two models, the base and one other; got {} ({})",
                    names.len(),
                    names.join(", ")
                ),
            ));
        }
        Ok(())
    }

    fn plan(&self, tensor: MappedTensor<'_>) -> Result<TensorPlan, InterpError> {
        if !tensor.dtype.is_float() {
            return Ok(TensorPlan::Carried);
        }
        let name = tensor.name;
        let len = tensor.bytes.len() / tensor.dtype.size_in_bytes();
        let task_inputs = || self.inputs.iter().filter(|input| !input.is_base);
        Ok(match self.method() {
            MergeMethod::Linear => {
                let weights = self
                    .inputs
                    .iter()
                    .map(|input| self.weight(input, name))
                    .collect::<Result<Vec<_>, _>>()?;
                let normalize = self.global_bool("normalize", name, true)?;
                let total = weights.iter().fold(0.0f32, |sum, &weight| sum + weight);
                if normalize && total == 0.0 {
                    return Err(self.config.error(
                        "parameters.normalize",
                        format!(
                            "the weights of tensor `{name}` sum to 0, and `normalize` divides by \
                             their sum; set `normalize: false` or change the weights"
                        ),
                    ));
                }
                TensorPlan::Linear { weights, normalize }
            }
            MergeMethod::Slerp => {
                let t = self.global_number("t", name)?.ok_or_else(|| {
                    self.config.error(
                        "parameters.t",
                        format!("slerp needs `t` (tensor `{name}` has none)"),
                    )
                })?;
                if self.inputs.len() == 1 {
                    TensorPlan::Base
                } else {
                    TensorPlan::Slerp { t }
                }
            }
            MergeMethod::TaskArithmetic => {
                let weights = task_inputs()
                    .map(|input| self.weight(input, name))
                    .collect::<Result<Vec<_>, _>>()?;
                self.global_bool("int8_mask", name, false)?;
                self.global_bool("rescale", name, false)?;
                let options = TaskArithmetic {
                    normalize: self.global_bool("normalize", name, false)?,
                    lambda: self.lambda(name)?,
                };
                if weights.is_empty() {
                    TensorPlan::Base
                } else {
                    TensorPlan::TaskArithmetic { weights, options }
                }
            }
            MergeMethod::Ties => {
                let mut weights = Vec::new();
                let mut densities = Vec::new();
                for input in task_inputs() {
                    weights.push(self.weight(input, name)?);
                    densities.push(self.density(input, name, len)?);
                }
                self.global_bool("int8_mask", name, false)?;
                let options = Ties {
                    normalize: self.global_bool("normalize", name, true)?,
                    lambda: self.lambda(name)?,
                    consensus: self.consensus(name)?,
                    rescale: self.global_bool("rescale", name, false)?,
                };
                if weights.is_empty() {
                    TensorPlan::Base
                } else {
                    TensorPlan::Ties {
                        weights,
                        densities,
                        options,
                    }
                }
            }
        })
    }

    /// The value of the per-model parameter `name` for `input` and `tensor`, with its key path:
    /// the model's own setting if it has one that applies, else the top-level one.
    fn model_value(
        &self,
        input: &MergeInput,
        name: &str,
        tensor: &str,
    ) -> Option<(&ParameterValue, String)> {
        if let Some(index) = input.models_index
            && let Some(setting) = self.config.models[index].parameters.get(name)
            && let Some(value) = setting.for_tensor(tensor)
        {
            return Some((value, format!("models[{index}].parameters.{name}")));
        }
        self.global_value(name, tensor)
    }

    fn global_value(&self, name: &str, tensor: &str) -> Option<(&ParameterValue, String)> {
        let value = self.config.parameters.get(name)?.for_tensor(tensor)?;
        Some((value, format!("parameters.{name}")))
    }

    fn weight(&self, input: &MergeInput, tensor: &str) -> Result<f32, InterpError> {
        let Some((value, key)) = self.model_value(input, "weight", tensor) else {
            return Err(self.config.error(
                input_key(input),
                format!(
                    "`{}` has no `weight` for tensor `{tensor}`: give it in this model's \
                     parameters or in the top-level parameters",
                    input.model
                ),
            ));
        };
        Ok(self.finite(value, &key, tensor)? as f32)
    }

    fn density(&self, input: &MergeInput, tensor: &str, len: usize) -> Result<f64, InterpError> {
        let Some((value, key)) = self.model_value(input, "density", tensor) else {
            return Ok(1.0);
        };
        let density = self.finite(value, &key, tensor)?;
        if len > 0 && methods::magnitude_keep_count(len, density) == Some(0) {
            return Err(self.config.error(
                key,
                format!(
                    "density {density} keeps ⌊{density}·{len}⌋ = 0 of the {len} values of tensor \
                     `{tensor}` for `{}`; mergekit refuses this too. Raise the density, or give \
                     this tensor its own with a `filter` condition",
                    input.model
                ),
            ));
        }
        Ok(density)
    }

    fn lambda(&self, tensor: &str) -> Result<f32, InterpError> {
        Ok(self.global_number("lambda", tensor)?.unwrap_or(1.0) as f32)
    }

    fn consensus(&self, tensor: &str) -> Result<Consensus, InterpError> {
        let Some((value, key)) = self.global_value("consensus_method", tensor) else {
            return Ok(Consensus::Sum);
        };
        match value {
            ParameterValue::Text(text) if text == "sum" => Ok(Consensus::Sum),
            ParameterValue::Text(text) if text == "count" => Ok(Consensus::Count),
            other => Err(self.config.error(
                key,
                format!("tensor `{tensor}`: expected `sum` or `count`, got {other}"),
            )),
        }
    }

    fn global_number(&self, name: &str, tensor: &str) -> Result<Option<f64>, InterpError> {
        self.global_value(name, tensor)
            .map(|(value, key)| self.finite(value, &key, tensor))
            .transpose()
    }

    /// A boolean: `true`/`false`, or a number (non-zero is true), as Python's truthiness reads
    /// mergekit's flags.
    fn global_bool(&self, name: &str, tensor: &str, default: bool) -> Result<bool, InterpError> {
        match self.global_value(name, tensor) {
            None => Ok(default),
            Some((ParameterValue::Bool(flag), _)) => Ok(*flag),
            Some((ParameterValue::Number(number), _)) => Ok(*number != 0.0),
            Some((other, key)) => Err(self.config.error(
                key,
                format!("tensor `{tensor}`: expected true or false, got {other}"),
            )),
        }
    }

    fn finite(&self, value: &ParameterValue, key: &str, tensor: &str) -> Result<f64, InterpError> {
        match value {
            ParameterValue::Number(number) if number.is_finite() => Ok(*number),
            other => Err(self.config.error(
                key,
                format!("tensor `{tensor}`: expected a finite number, got {other}"),
            )),
        }
    }

    /// Set parameters the method never reads, as key paths.
    fn ignored_parameters(&self) -> Vec<String> {
        let method = self.method();
        let mut ignored = Vec::new();
        for (name, _) in self.config.parameters.iter() {
            if !method.global_parameter_names().contains(&name)
                && !method.model_parameter_names().contains(&name)
            {
                ignored.push(format!("parameters.{name}"));
            }
        }
        for (index, spec) in self.config.models.iter().enumerate() {
            let is_base = self.config.base_model.as_deref() == Some(spec.model.as_str());
            for (name, _) in spec.parameters.iter() {
                let read = method.model_parameter_names().contains(&name)
                    && !(is_base && method.needs_base_model());
                if !read {
                    ignored.push(format!("models[{index}].parameters.{name}"));
                }
            }
        }
        ignored
    }
}

/// Copies `config.json` with `torch_dtype` (and `dtype`, transformers' newer name, where
/// present) set to the output type, as mergekit writes it. A file that is not a JSON object is
/// copied as it is.
fn write_config_with_dtype(
    source: &Path,
    destination: &Path,
    dtype: Dtype,
) -> Result<(), InterpError> {
    let text = fs::read(source).map_err(|error| InterpError::Read {
        path: source.to_path_buf(),
        source: error,
    })?;
    let Ok(serde_json::Value::Object(mut config)) = serde_json::from_slice(&text) else {
        return copy_atomically(source, destination);
    };
    let name = match dtype {
        Dtype::F32 => "float32",
        Dtype::F16 => "float16",
        Dtype::BF16 => "bfloat16",
        other => unreachable!("output dtypes are float types, not {other}"),
    };
    config.insert("torch_dtype".to_owned(), name.into());
    if config.contains_key("dtype") {
        config.insert("dtype".to_owned(), name.into());
    }
    let mut bytes =
        serde_json::to_vec_pretty(&serde_json::Value::Object(config)).expect("JSON serialises");
    bytes.push(b'\n');
    write_atomically(destination, &bytes)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
