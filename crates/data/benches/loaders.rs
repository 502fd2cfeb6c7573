//! Loader and tokenizer throughput on the offline data: rows/s for HANS and MNLI, tokenized
//! examples/s for a HANS sample. Needs `../shared/datasets` beside the workspace and the
//! all-MiniLM-L6-v2 tokenizer (`cargo xtask setup`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lmc_data::{DEFAULT_MAX_LENGTH, DatasetFormat, PairTokenizer, SearchEnv, Subset};

fn datasets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

fn model_dir() -> PathBuf {
    std::env::var_os("LMC_MINILM_DIR")
        .map(PathBuf::from)
        .or_else(|| SearchEnv::from_process().model_dir("all-MiniLM-L6-v2"))
        .filter(|dir| dir.is_dir())
        .expect("the all-MiniLM-L6-v2 tokenizer is missing: run `cargo xtask setup` first")
}

fn loading(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for (name, format, relative) in [
        (
            "hans",
            DatasetFormat::Hans,
            "hans/heuristics_evaluation_set.regenerated.txt",
        ),
        (
            "mnli",
            DatasetFormat::Mnli,
            "glue/MNLI/dev_matched.reconstructed.tsv",
        ),
    ] {
        let path = datasets_dir().join(relative);
        let rows = format.load(&path).expect("the offline file loads").len();
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(name, |bench| {
            bench.iter(|| format.load(&path).expect("the offline file loads"))
        });
    }
    group.finish();
}

fn tokenizing(c: &mut Criterion) {
    let tokenizer = PairTokenizer::from_model_dir(&model_dir(), DEFAULT_MAX_LENGTH)
        .expect("the tokenizer loads");
    let hans = DatasetFormat::Hans
        .load(&datasets_dir().join("hans/heuristics_evaluation_set.regenerated.txt"))
        .expect("HANS loads")
        .subset(Subset::ShuffledFirst {
            seed: 0,
            count: 4096,
        })
        .expect("HANS has 4,096 examples");
    let mut group = c.benchmark_group("tokenize");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(hans.len() as u64));
    group.bench_function("hans_4096", |bench| {
        bench.iter(|| tokenizer.encode_dataset(&hans).expect("tokenizes"))
    });
    group.finish();
}

criterion_group!(benches, loading, tokenizing);
criterion_main!(benches);
