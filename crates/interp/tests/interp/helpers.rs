//! Deterministic sets and comparisons shared by the tests.

use lmc_interp::{Dtype, ParamSet, ParamSetBuilder, TensorData};

/// Pseudo-random values in [-scale, scale), from a seed.
pub fn values(len: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// A set of `F32` tensors with the given names and shapes and pseudo-random values.
pub fn random_set(shapes: &[(&str, &[usize])], seed: u64) -> ParamSet {
    ParamSet::from_f32_tensors(shapes.iter().enumerate().map(|(i, (name, shape))| {
        let len = shape.iter().product();
        (
            *name,
            shape.to_vec(),
            values(len, seed * 1000 + i as u64, 1.0),
        )
    }))
    .expect("consistent test shapes")
}

/// Shapes spanning several parallel blocks, with small tensors in between.
pub const LARGE_SHAPES: &[(&str, &[usize])] = &[
    ("embeddings.word_embeddings.weight", &[700, 384]),
    ("embeddings.LayerNorm.bias", &[384]),
    ("encoder.layer.0.intermediate.dense.weight", &[1536, 96]),
    ("encoder.layer.0.intermediate.dense.bias", &[1536]),
    ("classifier.bias", &[3]),
];

/// A set mixing every kind of tensor: `F32` (large and small), `F16`, `BF16` and a carried `I64`
/// buffer whose contents depend on `seed`.
pub fn mixed_set(seed: u64) -> ParamSet {
    let position_ids: Vec<u8> = (0..8i64)
        .flat_map(|i| (i + seed as i64 * 100).to_le_bytes())
        .collect();
    let half = |len, salt| -> Vec<f32> {
        // Values exactly representable in f16 and bf16 alike: small multiples of 1/64.
        values(len, seed * 31 + salt, 1.0)
            .into_iter()
            .map(|v| (v * 64.0).round() / 64.0)
            .collect()
    };
    ParamSetBuilder::new()
        .float("encoder.weight", vec![300, 250], values(75_000, seed, 1.0))
        .float("encoder.bias", vec![250], values(250, seed + 7, 1.0))
        .float_stored_as("pooler.weight", vec![16, 8], half(128, 1), Dtype::F16)
        .float_stored_as("pooler.bias", vec![5], half(5, 2), Dtype::BF16)
        .carried(
            "embeddings.position_ids",
            vec![1, 8],
            Dtype::I64,
            position_ids,
        )
        .metadata("format", "pt")
        .build()
        .expect("consistent test set")
}

/// Bit patterns of all float values.
pub fn bits(set: &ParamSet) -> Vec<u32> {
    set.float_values().iter().map(|v| v.to_bits()).collect()
}

/// The carried tensors' bytes, by name.
pub fn carried(set: &ParamSet) -> Vec<(String, Vec<u8>)> {
    set.tensors()
        .filter_map(|tensor| match tensor.data {
            TensorData::Carried(bytes) => Some((tensor.name.to_owned(), bytes.to_vec())),
            TensorData::Float(_) => None,
        })
        .collect()
}
