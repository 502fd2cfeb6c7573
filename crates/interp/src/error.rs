//! The crate's error type. Every variant names the file, tensor key or value involved.

use std::fmt;
use std::path::PathBuf;

use crate::Dtype;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum InterpError {
    /// A file or directory could not be opened, mapped or read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The path that failed.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },

    /// An output could not be created, written, synced or moved into place. No partial output is
    /// left at `path`: a failed write leaves whatever was there before.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The output path.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },

    /// A file is not a valid safetensors file: truncated, garbage, or with an inconsistent header.
    #[error("`{}` is not a valid safetensors file: {source}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the safetensors parser found wrong.
        source: safetensors::SafeTensorError,
    },

    /// A file holds a tensor whose element type this crate neither interpolates nor carries.
    #[error("`{}`: tensor `{key}` has dtype {dtype}, which lmc-interp does not handle", path.display())]
    UnsupportedDtype {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        key: String,
        /// The type as the file header spells it.
        dtype: String,
    },

    /// Two parameter sets (or files) do not have the same keys, shapes and dtypes.
    #[error(transparent)]
    Mismatch(Box<LayoutMismatch>),

    /// A tensor handed to [`ParamSetBuilder`](crate::ParamSetBuilder) is inconsistent.
    #[error("tensor `{key}`: {reason}")]
    InvalidTensor {
        /// The tensor's name.
        key: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Two tensors handed to [`ParamSetBuilder`](crate::ParamSetBuilder) share a name.
    #[error("tensor `{key}` is given twice")]
    DuplicateKey {
        /// The repeated name.
        key: String,
    },

    /// A parameter set holds a NaN or an infinity (see [`ParamSet::check_finite`](crate::ParamSet::check_finite)).
    #[error("tensor `{key}` holds the non-finite value {value} at flat index {index}")]
    NonFinite {
        /// The first tensor, in name order, holding a non-finite value.
        key: String,
        /// Row-major index of the first such element inside that tensor.
        index: usize,
        /// The value itself.
        value: f32,
    },

    /// An interpolation coefficient or combination weight is NaN or infinite.
    #[error("weight {value} is not finite")]
    NonFiniteWeight {
        /// The offending weight.
        value: f32,
    },

    /// An affine combination was given no inputs, or not one weight per input.
    #[error(
        "an affine combination needs one weight per set and at least one set: got {sets} sets and {weights} weights"
    )]
    WeightCount {
        /// Number of sets given.
        sets: usize,
        /// Number of weights given.
        weights: usize,
    },

    /// Three models that do not span a plane (two coincide, or all three are collinear).
    #[error("the three models do not span a plane: {reason}")]
    DegeneratePlane {
        /// Which degeneracy was found.
        reason: &'static str,
    },

    /// A checkpoint directory lacks the weights file.
    #[error("checkpoint directory `{}` has no `{file}`", dir.display())]
    MissingCheckpointFile {
        /// The directory.
        dir: PathBuf,
        /// The file looked for.
        file: &'static str,
    },

    /// A merge configuration that cannot be used: YAML that does not parse, a field of the wrong
    /// type, a field lmc does not support, or values that do not fit the models.
    #[error("{}", describe_config_error(file, *location, key, message))]
    MergeConfig {
        /// The configuration file.
        file: PathBuf,
        /// Line and column (from 1) in that file, where known.
        location: Option<(usize, usize)>,
        /// The key at fault, as a path (`models[1].parameters.weight`); empty for the whole file.
        key: String,
        /// What is wrong.
        message: String,
    },

    /// An input of a merge is not a checkpoint lmc-interp can read: a path that does not exist,
    /// a `pytorch_model.bin` checkpoint, a sharded one.
    #[error("`{}`: {reason}", path.display())]
    UnsupportedCheckpoint {
        /// The path given.
        path: PathBuf,
        /// Why it cannot be read, and what to do.
        reason: String,
    },

    /// The two inputs of a merge are not both directories or both files.
    #[error("cannot merge `{}` with `{}`: give two checkpoint directories or two .safetensors files", a.display(), b.display())]
    MixedInputs {
        /// The first input.
        a: PathBuf,
        /// The second input.
        b: PathBuf,
    },
}

/// `` `merge.yaml`, line 4, column 15, key `models[0].parameters.weight`: invalid floating point ``.
fn describe_config_error(
    file: &std::path::Path,
    location: Option<(usize, usize)>,
    key: &str,
    message: &str,
) -> String {
    let mut out = format!("`{}`", file.display());
    if let Some((line, column)) = location {
        out.push_str(&format!(", line {line}, column {column}"));
    }
    if !key.is_empty() {
        out.push_str(&format!(", key `{key}`"));
    }
    out.push_str(": ");
    out.push_str(message);
    out
}

/// The first difference found between two layouts, and how many more there are.
///
/// Displays as, for example, ``key `encoder.layer.3.output.dense.weight`: shape [384, 1536] in A vs
/// [384, 768] in B (and 4 more mismatches)``. The sides are labelled `A`/`B` (or `anchor`,
/// `base1`, `set 2`, …) for in-memory sets and by path for files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutMismatch {
    /// Label of the left side.
    pub left: String,
    /// Label of the right side.
    pub right: String,
    /// The first offending key, in name order.
    pub key: String,
    /// How that key differs.
    pub kind: MismatchKind,
    /// How many further keys differ.
    pub further: usize,
}

/// How one key differs between two layouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MismatchKind {
    /// Present on the left, absent on the right.
    MissingOnRight,
    /// Present on the right, absent on the left.
    MissingOnLeft,
    /// Same key, different shapes.
    Shape {
        /// Shape on the left.
        left: Vec<usize>,
        /// Shape on the right.
        right: Vec<usize>,
    },
    /// Same key and shape, different element types.
    Dtype {
        /// Type on the left.
        left: Dtype,
        /// Type on the right.
        right: Dtype,
    },
}

impl fmt::Display for LayoutMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (key, left, right) = (&self.key, &self.left, &self.right);
        match &self.kind {
            MismatchKind::MissingOnRight => {
                write!(f, "key `{key}` is in {left} but not in {right}")?
            }
            MismatchKind::MissingOnLeft => {
                write!(f, "key `{key}` is in {right} but not in {left}")?
            }
            MismatchKind::Shape { left: l, right: r } => {
                write!(f, "key `{key}`: shape {l:?} in {left} vs {r:?} in {right}")?
            }
            MismatchKind::Dtype { left: l, right: r } => {
                write!(f, "key `{key}`: dtype {l} in {left} vs {r} in {right}")?
            }
        }
        match self.further {
            0 => Ok(()),
            1 => write!(f, " (and 1 more mismatch)"),
            n => write!(f, " (and {n} more mismatches)"),
        }
    }
}

impl std::error::Error for LayoutMismatch {}
