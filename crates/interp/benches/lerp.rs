//! Interpolation throughput next to plain copies of the same memory.
//!
//! Sets mimic BERT parameter shapes (one large embedding, many 384×1536-like matrices, many small
//! vectors), filled with pseudo-random values: MiniLM-L6-H384 (22.7 M parameters) and bert-base
//! (109 M). Throughput counts the bytes each operation must move: 12 per parameter for lerp (read
//! a, read b, write out), 8 for a copy (read, write). The ratio lerp / copy of those rates says how
//! close lerp runs to the memory-bandwidth bound a copy sets.
//!
//! The `merge` group times the streaming file-to-file merge of two MiniLM-sized safetensors files
//! (~91 MB each) against `std::fs::copy` of one, with and without the `fsync` the merge does.

use std::fs;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use lmc_interp::{ParamSet, lerp, lerp_into, merge_safetensors_files};
use rayon::prelude::*;

/// Dimensions of a BERT encoder with a 3-way classification head.
struct BertShape {
    name: &'static str,
    vocab: usize,
    hidden: usize,
    intermediate: usize,
    layers: usize,
}

const MINILM: BertShape = BertShape {
    name: "minilm-22.7M",
    vocab: 30522,
    hidden: 384,
    intermediate: 1536,
    layers: 6,
};

const BERT_BASE: BertShape = BertShape {
    name: "bert-base-109M",
    vocab: 30522,
    hidden: 768,
    intermediate: 3072,
    layers: 12,
};

impl BertShape {
    /// `(name, shape)` of every float parameter, in the Hugging Face naming.
    fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        let (h, i) = (self.hidden, self.intermediate);
        let mut tensors = vec![
            (
                "embeddings.word_embeddings.weight".to_owned(),
                vec![self.vocab, h],
            ),
            (
                "embeddings.position_embeddings.weight".to_owned(),
                vec![512, h],
            ),
            (
                "embeddings.token_type_embeddings.weight".to_owned(),
                vec![2, h],
            ),
            ("embeddings.LayerNorm.weight".to_owned(), vec![h]),
            ("embeddings.LayerNorm.bias".to_owned(), vec![h]),
            ("pooler.dense.weight".to_owned(), vec![h, h]),
            ("pooler.dense.bias".to_owned(), vec![h]),
            ("classifier.weight".to_owned(), vec![3, h]),
            ("classifier.bias".to_owned(), vec![3]),
        ];
        for layer in 0..self.layers {
            let p = format!("encoder.layer.{layer}");
            for (module, rows, cols) in [
                ("attention.self.query", h, h),
                ("attention.self.key", h, h),
                ("attention.self.value", h, h),
                ("attention.output.dense", h, h),
                ("intermediate.dense", i, h),
                ("output.dense", h, i),
            ] {
                tensors.push((format!("{p}.{module}.weight"), vec![rows, cols]));
                tensors.push((format!("{p}.{module}.bias"), vec![rows]));
            }
            for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
                tensors.push((format!("{p}.{norm}.weight"), vec![h]));
                tensors.push((format!("{p}.{norm}.bias"), vec![h]));
            }
        }
        tensors
    }

    /// A set of this shape with pseudo-random values in [-0.1, 0.1).
    fn random_set(&self, seed: u64) -> ParamSet {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let tensors = self.tensors().into_iter().map(|(name, shape)| {
            let len = shape.iter().product();
            let values = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.2
                })
                .collect();
            (name, shape, values)
        });
        ParamSet::from_f32_tensors(tensors).expect("synthetic shapes are consistent")
    }
}

fn in_memory(c: &mut Criterion) {
    let single_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");
    for shape in [MINILM, BERT_BASE] {
        let a = shape.random_set(1);
        let b = shape.random_set(2);
        let params = a.float_len();
        let mut dst = lerp(&a, &b, 0.5).expect("same layout");
        let mut copy_dst = vec![0.0f32; params];

        let mut group = c.benchmark_group(format!("lerp/{}", shape.name));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4))
            .sampling_mode(SamplingMode::Flat);

        group.throughput(Throughput::Bytes(8 * params as u64));
        group.bench_function("copy, 1 thread (memcpy)", |bench| {
            bench.iter(|| copy_dst.copy_from_slice(black_box(a.float_values())))
        });
        group.bench_function("copy, rayon", |bench| {
            bench.iter(|| {
                copy_dst
                    .par_chunks_mut(1 << 16)
                    .zip(black_box(a.float_values()).par_chunks(1 << 16))
                    .for_each(|(out, src)| out.copy_from_slice(src))
            })
        });

        group.throughput(Throughput::Bytes(12 * params as u64));
        group.bench_function("lerp_into, 1 thread", |bench| {
            bench.iter(|| {
                single_thread.install(|| lerp_into(&mut dst, black_box(&a), &b, 0.3).unwrap())
            })
        });
        group.bench_function("lerp_into, rayon", |bench| {
            bench.iter(|| lerp_into(&mut dst, black_box(&a), &b, 0.3).unwrap())
        });
        group.bench_function("lerp (allocating), rayon", |bench| {
            bench.iter(|| lerp(black_box(&a), &b, 0.3).unwrap())
        });
        group.finish();
    }
}

fn streaming(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (a_path, b_path) = (
        dir.path().join("a.safetensors"),
        dir.path().join("b.safetensors"),
    );
    MINILM
        .random_set(1)
        .save_safetensors(&a_path)
        .expect("write a");
    MINILM
        .random_set(2)
        .save_safetensors(&b_path)
        .expect("write b");
    let out_path = dir.path().join("out.safetensors");
    let file_len = fs::metadata(&a_path).expect("a exists").len();

    let mut group = c.benchmark_group("merge/minilm-91MB-files");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8))
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Bytes(file_len));
    group.bench_function("fs::copy of one file", |bench| {
        bench.iter(|| fs::copy(&a_path, &out_path).unwrap())
    });
    group.bench_function("fs::copy + fsync", |bench| {
        bench.iter(|| {
            fs::copy(&a_path, &out_path).unwrap();
            sync(&out_path);
        })
    });
    group.bench_function("merge_safetensors_files (atomic, fsync)", |bench| {
        bench.iter(|| merge_safetensors_files(&a_path, &b_path, 0.3, &out_path).unwrap())
    });
    group.finish();
}

fn sync(path: &Path) {
    fs::File::open(path)
        .and_then(|file| file.sync_all())
        .unwrap();
}

criterion_group!(benches, in_memory, streaming);
criterion_main!(benches);
