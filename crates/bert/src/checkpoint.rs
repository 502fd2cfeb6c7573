//! Reading Hugging Face weight files into host memory, and the strict key-by-key matching of a
//! checkpoint against the model being built.
//!
//! A checkpoint's keys are normalised to the names of `BertForSequenceClassification`: encoder
//! keys get the `bert.` prefix when the file has none (sentence-transformers and `BertModel`
//! exports), TF-era `LayerNorm.gamma`/`beta` become `weight`/`bias`. Two kinds of keys are
//! accepted without being used, and reported: integer buffers (`embeddings.position_ids`,
//! `embeddings.token_type_ids`) and the pre-training heads (`cls.*`) of checkpoints such as
//! bert-base-uncased. Every other key must be consumed by the model with the right shape.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

use crate::BertError;
use crate::init::SplitMix64;

/// A tensor in host memory: row-major `f32` values and their shape, as in the checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    /// Dimensions, outermost first (Hugging Face layout: linear weights are `[out, in]`).
    pub shape: Vec<usize>,
    /// Values in row-major order.
    pub values: Vec<f32>,
}

impl HostTensor {
    /// A tensor from its shape and values; panics if they disagree in size.
    pub fn new(shape: Vec<usize>, values: Vec<f32>) -> Self {
        assert_eq!(
            shape.iter().product::<usize>(),
            values.len(),
            "shape {shape:?} does not hold {} values",
            values.len()
        );
        Self { shape, values }
    }
}

/// Which weights file a checkpoint directory provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsFormat {
    /// `model.safetensors`.
    Safetensors,
    /// `pytorch_model.bin` (a PyTorch pickle, read by burn-store).
    PytorchBin,
}

/// Finds the weights file of a checkpoint directory, preferring safetensors.
pub fn find_weights_file(dir: &Path) -> Result<(PathBuf, WeightsFormat), BertError> {
    let safetensors = dir.join("model.safetensors");
    if safetensors.is_file() {
        return Ok((safetensors, WeightsFormat::Safetensors));
    }
    let bin = dir.join("pytorch_model.bin");
    if bin.is_file() {
        return Ok((bin, WeightsFormat::PytorchBin));
    }
    Err(BertError::NoWeights {
        dir: dir.to_path_buf(),
    })
}

/// Reads every floating-point tensor of a weights file, converted to `f32`; integer tensors are
/// returned by name only (they are buffers, never parameters).
pub fn read_weights_file(
    path: &Path,
    format: WeightsFormat,
) -> Result<(BTreeMap<String, HostTensor>, Vec<String>), BertError> {
    match format {
        WeightsFormat::Safetensors => read_safetensors(path),
        WeightsFormat::PytorchBin => read_pytorch_bin(path),
    }
}

fn weights_error(path: &Path, message: impl Into<String>) -> BertError {
    BertError::Weights {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn read_safetensors(path: &Path) -> Result<(BTreeMap<String, HostTensor>, Vec<String>), BertError> {
    let bytes = std::fs::read(path).map_err(|source| BertError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| weights_error(path, e.to_string()))?;
    let mut floats = BTreeMap::new();
    let mut integers = Vec::new();
    for (name, view) in file.tensors() {
        let data = view.data();
        let values: Vec<f32> = match view.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::I64 | Dtype::I32 | Dtype::I16 | Dtype::I8 | Dtype::U8 | Dtype::BOOL => {
                integers.push(name);
                continue;
            }
            other => {
                return Err(weights_error(
                    path,
                    format!("tensor `{name}` has unsupported dtype {other:?}"),
                ));
            }
        };
        floats.insert(name, HostTensor::new(view.shape().to_vec(), values));
    }
    Ok((floats, integers))
}

fn read_pytorch_bin(path: &Path) -> Result<(BTreeMap<String, HostTensor>, Vec<String>), BertError> {
    let reader = burn_store::pytorch::PytorchReader::new(path)
        .map_err(|e| weights_error(path, e.to_string()))?;
    let mut floats = BTreeMap::new();
    let mut integers = Vec::new();
    for (name, snapshot) in reader.into_tensors() {
        if !snapshot.dtype.is_float() {
            integers.push(name);
            continue;
        }
        let data = snapshot
            .to_data()
            .map_err(|e| weights_error(path, format!("tensor `{name}`: {e:?}")))?;
        let shape = data.shape.to_vec();
        let values = data
            .convert::<f32>()
            .into_vec::<f32>()
            .map_err(|e| weights_error(path, format!("tensor `{name}`: {e:?}")))?;
        floats.insert(name, HostTensor::new(shape, values));
    }
    integers.sort();
    Ok((floats, integers))
}

/// How a new (not loaded) parameter is initialised, following transformers' `_init_weights`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Init {
    /// N(0, initializer_range²): linear and embedding weights.
    Normal,
    /// Zeros: biases, LayerNorm shift.
    Zeros,
    /// Ones: LayerNorm scale.
    Ones,
}

/// Which parameters may be initialised when a checkpoint does not have them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MissingPolicy {
    /// Every parameter is initialised (a model built from scratch).
    InitialiseAll,
    /// Only the pooler and the classifier may be missing; anything else is an error.
    HeadsOnly,
    /// Nothing may be missing.
    Strict,
}

/// A source of parameter values, asked by name, shape and default initialisation.
///
/// It never fails mid-build: problems are recorded so that one error can list all of them.
pub(crate) struct ParamSource {
    source_name: String,
    tensors: BTreeMap<String, HostTensor>,
    taken: BTreeSet<String>,
    problems: Vec<String>,
    initialised: Vec<String>,
    policy: MissingPolicy,
    seed: u64,
    init_std: f64,
}

/// What a load did besides copying tensors: for logs and run manifests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadReport {
    /// The file (or in-memory source) the weights came from.
    pub source: String,
    /// Number of tensors copied from it.
    pub loaded: usize,
    /// Parameters that the checkpoint lacked and that were freshly initialised (pooler, head).
    pub initialised: Vec<String>,
    /// Integer buffers in the file that the model recomputes (e.g. `position_ids`).
    pub ignored_buffers: Vec<String>,
    /// Pre-training heads in the file (`cls.*`) that a sequence classifier does not use.
    pub dropped_pretraining_heads: Vec<String>,
}

impl ParamSource {
    /// A source backed by a checkpoint's tensors, whose keys are normalised here.
    pub(crate) fn from_checkpoint(
        source_name: String,
        raw: BTreeMap<String, HostTensor>,
        integer_buffers: Vec<String>,
        policy: MissingPolicy,
        seed: u64,
        init_std: f64,
    ) -> (Self, LoadReport) {
        let mut report = LoadReport {
            source: source_name.clone(),
            ignored_buffers: integer_buffers,
            ..LoadReport::default()
        };
        let mut tensors = BTreeMap::new();
        for (key, tensor) in raw {
            if key.starts_with("cls.") {
                report.dropped_pretraining_heads.push(key);
                continue;
            }
            if key.ends_with("position_ids") || key.ends_with("embeddings.token_type_ids") {
                report.ignored_buffers.push(key);
                continue;
            }
            tensors.insert(normalise_key(&key), tensor);
        }
        let source = Self {
            source_name,
            tensors,
            taken: BTreeSet::new(),
            problems: Vec::new(),
            initialised: Vec::new(),
            policy,
            seed,
            init_std,
        };
        (source, report)
    }

    /// A source with no tensors: every parameter is initialised from `seed`.
    pub(crate) fn fresh(seed: u64, init_std: f64) -> Self {
        let (source, _) = Self::from_checkpoint(
            "fresh initialisation".to_string(),
            BTreeMap::new(),
            Vec::new(),
            MissingPolicy::InitialiseAll,
            seed,
            init_std,
        );
        source
    }

    /// The values of parameter `name` with `shape` (Hugging Face layout).
    pub(crate) fn take(&mut self, name: &str, shape: &[usize], init: Init) -> Vec<f32> {
        let count = shape.iter().product();
        if let Some(tensor) = self.tensors.get(name) {
            self.taken.insert(name.to_string());
            if tensor.shape == shape {
                return tensor.values.clone();
            }
            self.problems.push(format!(
                "key `{name}` has shape {:?}, the model expects {shape:?}",
                tensor.shape
            ));
            return vec![0.0; count];
        }
        let may_initialise = match self.policy {
            MissingPolicy::InitialiseAll => true,
            MissingPolicy::HeadsOnly => {
                name.starts_with("bert.pooler.") || name.starts_with("classifier.")
            }
            MissingPolicy::Strict => false,
        };
        if !may_initialise {
            self.problems.push(format!("key `{name}` is missing"));
            return vec![0.0; count];
        }
        self.initialised.push(name.to_string());
        match init {
            Init::Normal => {
                SplitMix64::for_parameter(self.seed, name).normal_vec(count, self.init_std)
            }
            Init::Zeros => vec![0.0; count],
            Init::Ones => vec![1.0; count],
        }
    }

    /// Ends the build: an error listing every problem, or the parameters that were initialised.
    pub(crate) fn finish(self) -> Result<(usize, Vec<String>), BertError> {
        let mut problems = self.problems;
        for key in self.tensors.keys() {
            if !self.taken.contains(key) {
                problems.push(format!("key `{key}` is not a parameter of the model"));
            }
        }
        if problems.is_empty() {
            Ok((self.taken.len(), self.initialised))
        } else {
            Err(BertError::Mismatch {
                source_name: self.source_name,
                problems,
            })
        }
    }
}

/// Maps a checkpoint key to the name it has in `BertForSequenceClassification`.
fn normalise_key(key: &str) -> String {
    let key = key
        .replace("LayerNorm.gamma", "LayerNorm.weight")
        .replace("LayerNorm.beta", "LayerNorm.bias");
    if key.starts_with("bert.") || key.starts_with("classifier.") {
        key
    } else {
        format!("bert.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_normalised_to_sequence_classification_names() {
        assert_eq!(
            normalise_key("embeddings.word_embeddings.weight"),
            "bert.embeddings.word_embeddings.weight"
        );
        assert_eq!(
            normalise_key("bert.pooler.dense.bias"),
            "bert.pooler.dense.bias"
        );
        assert_eq!(normalise_key("classifier.weight"), "classifier.weight");
        assert_eq!(
            normalise_key("bert.encoder.layer.0.output.LayerNorm.gamma"),
            "bert.encoder.layer.0.output.LayerNorm.weight"
        );
    }
}
