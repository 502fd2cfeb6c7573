//! Benchmarks: the convexity gap (linear-time hull vs the cubic definition) on 10- and 1,000-point
//! curves, spectral clustering of 100 and 1,000 models, and the separation test of 100 models
//! with 99 shuffles.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use lmc_analysis::{
    BarrierMatrix, ClusterOptions, Curve, SeparationOptions, separation_test, spectral_clustering,
};

/// A deterministic bumpy curve: a parabola plus a few bumps.
fn curve(points: usize) -> Curve {
    let values = (0..points)
        .map(|k| {
            let a = k as f64 / (points - 1) as f64;
            0.4 + 0.1 * (a - 0.5).powi(2) + 0.05 * (17.0 * a).sin().powi(2)
        })
        .collect();
    Curve::evenly_spaced(values).expect("valid curve")
}

/// Two planted basins (sizes 88 % / 12 %, as in the paper) with deterministic jitter.
fn planted(models: usize) -> BarrierMatrix {
    let small = models * 12 / 100;
    let basin = |i: usize| usize::from(i < small);
    let values = (0..models * models)
        .map(|x| (x / models, x % models))
        .map(|(i, j)| {
            if i == j {
                return 0.0;
            }
            let jitter = ((i.min(j) * 7919 + i.max(j) * 104_729) % 1000) as f64 * 1e-4;
            if basin(i) == basin(j) {
                0.01 + jitter
            } else {
                1.5 + jitter
            }
        })
        .collect();
    let names = (0..models).map(|i| format!("m{i}")).collect();
    BarrierMatrix::new(names, values, "bench").expect("valid shape")
}

fn convexity_gap(c: &mut Criterion) {
    let mut group = c.benchmark_group("convexity_gap");
    for points in [10, 1000] {
        let curve = curve(points);
        group.bench_with_input(BenchmarkId::new("hull", points), &curve, |b, curve| {
            b.iter(|| black_box(curve).convexity_gap())
        });
        group.bench_with_input(
            BenchmarkId::new("brute_force", points),
            &curve,
            |b, curve| b.iter(|| black_box(curve).convexity_gap_brute_force()),
        );
    }
    group.finish();
}

fn clustering(c: &mut Criterion) {
    let mut group = c.benchmark_group("spectral_clustering");
    group.sample_size(10);
    let options = ClusterOptions::default();
    for models in [100, 1000] {
        let d = planted(models);
        group.bench_with_input(BenchmarkId::from_parameter(models), &d, |b, d| {
            b.iter(|| spectral_clustering(black_box(d), &options).expect("clusters"))
        });
    }
    group.finish();
}

fn separation(c: &mut Criterion) {
    let mut group = c.benchmark_group("separation_test");
    group.sample_size(10);
    let cluster = ClusterOptions::default();
    let options = SeparationOptions {
        permutations: 99,
        seed: 42,
    };
    let d = planted(100);
    let labels = spectral_clustering(&d, &cluster).expect("clusters").labels;
    group.bench_with_input(BenchmarkId::from_parameter(100), &d, |b, d| {
        b.iter(|| separation_test(black_box(d), &labels, &cluster, &options).expect("test"))
    });
    group.finish();
}

criterion_group!(benches, convexity_gap, clustering, separation);
criterion_main!(benches);
