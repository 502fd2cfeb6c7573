//! Building a classifier from a Hugging Face checkpoint directory, from named tensors, or from
//! scratch; saving one back in Hugging Face layout.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::backend::Backend;
use safetensors::Dtype;
use safetensors::tensor::TensorView;

use crate::BertError;
use crate::checkpoint::{
    HostTensor, LoadReport, MissingPolicy, ParamSource, find_weights_file, read_weights_file,
};
use crate::config::BertConfig;
use crate::model::{BertClassifier, Builder};

/// Files of a checkpoint directory that describe the tokenizer; copied along with a model.
pub const TOKENIZER_FILES: [&str; 4] = [
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

/// How to get the classification head when loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadSpec {
    /// Number of classes. `None`: take it from the config's `num_labels` (fine-tuned checkpoints).
    pub num_labels: Option<usize>,
    /// Seed of the N(0, initializer_range²) initialisation of a head (or pooler) the checkpoint lacks.
    pub seed: u64,
}

/// A classifier together with the configuration it was built from and what the load did.
#[derive(Debug)]
pub struct LoadedClassifier<B: Backend> {
    /// The model.
    pub model: BertClassifier<B>,
    /// Its configuration, with `num_labels` set.
    pub config: BertConfig,
    /// Loaded, initialised and ignored tensors.
    pub report: LoadReport,
}

/// Loads `config.json` and `model.safetensors` (or `pytorch_model.bin`) from a Hugging Face
/// checkpoint directory.
///
/// Keys may carry the `bert.` prefix or not. Strict: a missing encoder key, a key the model does
/// not have, or a tensor of the wrong shape is an error naming each such key. A checkpoint
/// without a pooler or classifier gets new ones from `head.seed`; the report says so.
pub fn load_classifier<B: Backend>(
    dir: &Path,
    head: HeadSpec,
    device: &B::Device,
) -> Result<LoadedClassifier<B>, BertError> {
    let mut config = BertConfig::load(&dir.join("config.json"))?;
    let num_labels = head
        .num_labels
        .or(config.num_labels)
        .ok_or_else(|| BertError::Config {
            path: dir.join("config.json"),
            message:
                "no num_labels in config.json and none requested: say how many classes the head has"
                    .into(),
        })?;
    if config.num_labels != Some(num_labels) {
        config.num_labels = Some(num_labels);
        config.id2label = None;
        config.label2id = None;
    }
    let (weights_path, format) = find_weights_file(dir)?;
    let (tensors, buffers) = read_weights_file(&weights_path, format)?;
    let (source, mut report) = ParamSource::from_checkpoint(
        weights_path.display().to_string(),
        tensors,
        buffers,
        MissingPolicy::HeadsOnly,
        head.seed,
        config.initializer_range,
    );
    let (model, loaded, initialised) = build(source, &config, num_labels, device)?;
    report.loaded = loaded;
    report.initialised = initialised;
    Ok(LoadedClassifier {
        model,
        config,
        report,
    })
}

/// Builds a classifier from tensors under Hugging Face names (e.g. from [`BertClassifier::hf_parameters`]
/// or an interpolation of two of them). Every parameter must be present with the right shape.
pub fn classifier_from_parameters<B: Backend>(
    config: &BertConfig,
    num_labels: usize,
    parameters: BTreeMap<String, HostTensor>,
    device: &B::Device,
) -> Result<BertClassifier<B>, BertError> {
    let (source, _) = ParamSource::from_checkpoint(
        "in-memory parameters".to_string(),
        parameters,
        Vec::new(),
        MissingPolicy::Strict,
        0,
        config.initializer_range,
    );
    let (model, _, _) = build(source, config, num_labels, device)?;
    Ok(model)
}

/// A classifier with every weight freshly drawn from `seed` as transformers initialises BERT:
/// N(0, initializer_range²) for linear and embedding weights, zero biases, unit LayerNorm scales.
pub fn random_classifier<B: Backend>(
    config: &BertConfig,
    num_labels: usize,
    seed: u64,
    device: &B::Device,
) -> BertClassifier<B> {
    let source = ParamSource::fresh(seed, config.initializer_range);
    let (model, _, _) = build(source, config, num_labels, device)
        .expect("a fresh initialisation has no checkpoint keys to mismatch");
    model
}

fn build<B: Backend>(
    mut source: ParamSource,
    config: &BertConfig,
    num_labels: usize,
    device: &B::Device,
) -> Result<(BertClassifier<B>, usize, Vec<String>), BertError> {
    let mut builder = Builder {
        source: &mut source,
        device,
    };
    let model = BertClassifier::build(&mut builder, config, num_labels);
    let (loaded, initialised) = source.finish()?;
    Ok((model, loaded, initialised))
}

/// Writes `model.safetensors` (float32, Hugging Face key names) and `config.json` into `dir`, so
/// that `transformers.BertForSequenceClassification.from_pretrained(dir)` loads the model.
///
/// `labels` names the classes (written as `id2label`/`label2id`); each file is written atomically.
pub fn save_classifier<B: Backend>(
    model: &BertClassifier<B>,
    config: &BertConfig,
    labels: &[String],
    dir: &Path,
) -> Result<(), BertError> {
    if labels.len() != model.num_labels() {
        return Err(BertError::Config {
            path: dir.join("config.json"),
            message: format!(
                "{} label names given for a head with {} classes",
                labels.len(),
                model.num_labels()
            ),
        });
    }
    std::fs::create_dir_all(dir).map_err(|source| BertError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let parameters = model.hf_parameters();
    write_safetensors(&dir.join("model.safetensors"), &parameters)?;
    config
        .clone()
        .with_labels(labels)
        .save(&dir.join("config.json"))
}

/// Writes named `f32` tensors as a safetensors file (metadata `format: pt`), atomically.
pub fn write_safetensors(path: &Path, tensors: &[(String, HostTensor)]) -> Result<(), BertError> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, t)| t.values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, t), data)| {
            TensorView::new(Dtype::F32, t.shape.clone(), data)
                .map(|view| (name.clone(), view))
                .map_err(|e| BertError::Weights {
                    path: path.to_path_buf(),
                    message: format!("tensor `{name}`: {e}"),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // transformers refuses safetensors files without `format: pt` in their metadata.
    let metadata = std::collections::HashMap::from([("format".to_string(), "pt".to_string())]);
    let serialized =
        safetensors::serialize(views, Some(metadata)).map_err(|e| BertError::Weights {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    crate::io::write_atomically(path, &serialized)
}

/// Copies the tokenizer files that exist in `from` into `to` (see [`TOKENIZER_FILES`]).
pub fn copy_tokenizer_files(from: &Path, to: &Path) -> Result<(), BertError> {
    for name in TOKENIZER_FILES {
        let source = from.join(name);
        if source.is_file() {
            let bytes = std::fs::read(&source).map_err(|e| BertError::Io {
                path: source.clone(),
                source: e,
            })?;
            crate::io::write_atomically(&to.join(name), &bytes)?;
        }
    }
    Ok(())
}
