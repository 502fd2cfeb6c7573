//! Streaming interpolation of checkpoint files: file to file, tensor by tensor.

use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};

use crate::bytes::{
    all_finite, narrow_into, numbers_as_le_bytes, numbers_from_le_bytes, widen_into,
};
use crate::error::InterpError;
use crate::mapped::{MappedSafetensors, MappedTensor};
use crate::param_set::compare_signatures;
use crate::writer::{AtomicSafetensorsWriter, HeaderEntry, copy_atomically};
use crate::{Dtype, kernels};

/// The weights file of a Hugging Face checkpoint directory.
pub const CHECKPOINT_WEIGHTS_FILE: &str = "model.safetensors";

/// The files [`merge_checkpoint_dirs`] copies from the first checkpoint when it has them: what a
/// Hugging Face BERT checkpoint needs besides its weights.
pub const CHECKPOINT_COMPANION_FILES: [&str; 5] = [
    "config.json",
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

/// Two safetensors files mapped and checked to have the same keys, shapes and dtypes, ready to be
/// interpolated into new files.
///
/// Opening validates before any output exists; [`write_lerp`](Self::write_lerp) can then be called
/// for as many α as needed without re-reading the headers.
#[derive(Debug)]
pub struct MergeInputs {
    a: MappedSafetensors,
    b: MappedSafetensors,
}

/// What a merge wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeSummary {
    /// The safetensors file written.
    pub output: PathBuf,
    /// Float tensors interpolated.
    pub interpolated_tensors: usize,
    /// Integer and boolean tensors copied from the first input.
    pub carried_tensors: usize,
    /// Float values interpolated.
    pub interpolated_values: u64,
    /// Size of the output file.
    pub bytes_written: u64,
    /// Tensors of the output holding a NaN or an infinity, in storage order. Empty for finite
    /// inputs and moderate α; non-empty when an input was already non-finite or when rounding
    /// to `F16`/`BF16` overflowed.
    pub non_finite_tensors: Vec<String>,
    /// Companion files copied from the first checkpoint (directory merges only).
    pub copied_files: Vec<PathBuf>,
}

impl MergeInputs {
    /// Maps both files and checks that they have the same keys, shapes and dtypes. A mismatch
    /// error labels the sides by path, names the first offending key and counts the rest.
    pub fn open(a: impl AsRef<Path>, b: impl AsRef<Path>) -> Result<MergeInputs, InterpError> {
        let a = MappedSafetensors::open(a)?;
        let b = MappedSafetensors::open(b)?;
        compare_signatures(
            a.signatures(),
            b.signatures(),
            (
                &a.path().display().to_string(),
                &b.path().display().to_string(),
            ),
        )?;
        Ok(MergeInputs { a, b })
    }

    /// The first input.
    pub fn a(&self) -> &MappedSafetensors {
        &self.a
    }

    /// The second input.
    pub fn b(&self) -> &MappedSafetensors {
        &self.b
    }

    /// Writes θ(α) = (1 − α)·A + α·B to the safetensors file `out`.
    ///
    /// Each tensor is computed and written in turn, reading both inputs from their memory maps, so
    /// the owned memory used is a few buffers the size of the largest tensor. Float tensors keep
    /// their stored type: `F16`/`BF16` values are widened to `f32`, interpolated and rounded back.
    /// At α = 0 and α = 1 float tensors are copied byte for byte from the chosen input. Integer
    /// and boolean tensors, and the `__metadata__` map, come from A. The output appears only once
    /// complete (temporary file, then rename); on error nothing is left at `out`.
    pub fn write_lerp(
        &self,
        alpha: f32,
        out: impl AsRef<Path>,
    ) -> Result<MergeSummary, InterpError> {
        if !alpha.is_finite() {
            return Err(InterpError::NonFiniteWeight { value: alpha });
        }
        let out = out.as_ref();
        let tensors: Vec<MappedTensor<'_>> = self.a.tensors().collect();
        let headers: Vec<HeaderEntry<'_>> = tensors.iter().map(HeaderEntry::from).collect();
        let (mut writer, order) =
            AtomicSafetensorsWriter::create(out, &headers, self.a.metadata())?;
        let mut summary = MergeSummary {
            output: out.to_path_buf(),
            interpolated_tensors: 0,
            carried_tensors: 0,
            interpolated_values: 0,
            bytes_written: 0,
            non_finite_tensors: Vec::new(),
            copied_files: Vec::new(),
        };
        let mut scratch = Scratch::default();
        for &index in &order {
            let (a, b) = (tensors[index], self.b.tensor_at(index));
            if !a.dtype.is_float() {
                writer.write_tensor(a.bytes)?;
                summary.carried_tensors += 1;
                continue;
            }
            let bytes = scratch.lerp_tensor(a, b, alpha);
            if !all_finite(&bytes, a.dtype) {
                summary.non_finite_tensors.push(a.name.to_owned());
            }
            writer.write_tensor(&bytes)?;
            summary.interpolated_tensors += 1;
            summary.interpolated_values += (a.bytes.len() / a.dtype.size_in_bytes()) as u64;
        }
        summary.bytes_written = writer.finish()?;
        Ok(summary)
    }
}

/// Buffers reused from tensor to tensor, grown to the largest tensor seen.
#[derive(Default)]
struct Scratch {
    a: Vec<f32>,
    b: Vec<f32>,
    out: Vec<f32>,
    half_bits: Vec<u16>,
}

impl Scratch {
    /// The bytes of the float tensor (1 − α)·a + α·b, in the tensors' stored type.
    fn lerp_tensor<'s>(
        &'s mut self,
        a: MappedTensor<'s>,
        b: MappedTensor<'s>,
        alpha: f32,
    ) -> Cow<'s, [u8]> {
        if alpha == 0.0 {
            return Cow::Borrowed(a.bytes);
        }
        if alpha == 1.0 {
            return Cow::Borrowed(b.bytes);
        }
        let len = a.bytes.len() / a.dtype.size_in_bytes();
        let out = grown(&mut self.out, len);
        if a.dtype == Dtype::F32 {
            let (a_values, b_values) = (
                numbers_from_le_bytes(a.bytes),
                numbers_from_le_bytes(b.bytes),
            );
            kernels::lerp(out, &a_values, &b_values, alpha);
            return numbers_as_le_bytes(out);
        }
        let a_values = grown(&mut self.a, len);
        widen_into(a.bytes, a.dtype, a_values);
        let b_values = grown(&mut self.b, len);
        widen_into(b.bytes, b.dtype, b_values);
        kernels::lerp(out, a_values, b_values, alpha);
        let bits = grown(&mut self.half_bits, len);
        narrow_into(out, a.dtype, bits);
        numbers_as_le_bytes(bits)
    }
}

/// The first `len` elements of `buffer`, growing it if needed.
fn grown<T: Copy + Default>(buffer: &mut Vec<T>, len: usize) -> &mut [T] {
    if buffer.len() < len {
        buffer.resize(len, T::default());
    }
    &mut buffer[..len]
}

/// Interpolates two safetensors files into a third: [`MergeInputs::open`] then
/// [`MergeInputs::write_lerp`].
pub fn merge_safetensors_files(
    a: impl AsRef<Path>,
    b: impl AsRef<Path>,
    alpha: f32,
    out: impl AsRef<Path>,
) -> Result<MergeSummary, InterpError> {
    MergeInputs::open(a, b)?.write_lerp(alpha, out)
}

/// Interpolates two Hugging Face checkpoint directories into a third.
///
/// Merges `model.safetensors` ([`CHECKPOINT_WEIGHTS_FILE`]) as [`MergeInputs::write_lerp`] does,
/// then copies each of [`CHECKPOINT_COMPANION_FILES`] that `a_dir` holds. Both inputs are checked
/// before `out_dir` is created (with its parents, if missing). Every output file is written
/// atomically; a failure part-way may leave the weights without their companion files, never a
/// partial file. Sharded checkpoints (`model-00001-of-00002.safetensors`) are not supported.
pub fn merge_checkpoint_dirs(
    a_dir: impl AsRef<Path>,
    b_dir: impl AsRef<Path>,
    alpha: f32,
    out_dir: impl AsRef<Path>,
) -> Result<MergeSummary, InterpError> {
    let (a_dir, b_dir, out_dir) = (a_dir.as_ref(), b_dir.as_ref(), out_dir.as_ref());
    let inputs = MergeInputs::open(weights_file(a_dir)?, weights_file(b_dir)?)?;
    if !alpha.is_finite() {
        return Err(InterpError::NonFiniteWeight { value: alpha });
    }
    fs::create_dir_all(out_dir).map_err(|source| InterpError::Write {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let mut summary = inputs.write_lerp(alpha, out_dir.join(CHECKPOINT_WEIGHTS_FILE))?;
    for name in CHECKPOINT_COMPANION_FILES {
        let source = a_dir.join(name);
        if source.is_file() {
            let destination = out_dir.join(name);
            copy_atomically(&source, &destination)?;
            summary.copied_files.push(destination);
        }
    }
    Ok(summary)
}

/// Interpolates two checkpoints given either as two directories ([`merge_checkpoint_dirs`], `out`
/// is a directory) or as two safetensors files ([`merge_safetensors_files`], `out` is a file).
/// This is what `lmc interpolate A B --alpha 0.3 -o OUT` runs.
pub fn merge_checkpoints(
    a: impl AsRef<Path>,
    b: impl AsRef<Path>,
    alpha: f32,
    out: impl AsRef<Path>,
) -> Result<MergeSummary, InterpError> {
    let (a, b) = (a.as_ref(), b.as_ref());
    let kind = |path: &Path| {
        fs::metadata(path)
            .map(|metadata| metadata.is_dir())
            .map_err(|source| InterpError::Read {
                path: path.to_path_buf(),
                source,
            })
    };
    match (kind(a)?, kind(b)?) {
        (true, true) => merge_checkpoint_dirs(a, b, alpha, out),
        (false, false) => merge_safetensors_files(a, b, alpha, out),
        _ => Err(InterpError::MixedInputs {
            a: a.to_path_buf(),
            b: b.to_path_buf(),
        }),
    }
}

/// `dir/model.safetensors`, or an error naming the directory if it is not there.
fn weights_file(dir: &Path) -> Result<PathBuf, InterpError> {
    let path = dir.join(CHECKPOINT_WEIGHTS_FILE);
    if path.is_file() {
        Ok(path)
    } else {
        Err(InterpError::MissingCheckpointFile {
            dir: dir.to_path_buf(),
            file: CHECKPOINT_WEIGHTS_FILE,
        })
    }
}
