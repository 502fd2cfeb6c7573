//! Agreement with `shared/fixtures/analysis/reference_cases.json` (scikit-learn 1.9): curve metrics
//! within 1e-9; identical partitions up to renaming, Laplacian eigenvalues within 1e-6, and the
//! centroid-distance difference within 1e-6 up to sign.

use std::path::Path;

use lmc_analysis::{BarrierMatrix, Curve, KMeansOptions, SpectralEmbedding};
use serde_json::Value;

use crate::{names, same_partition};

fn reference_cases() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/analysis/reference_cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str::<Value>(&text)
        .expect("valid JSON")
        .as_array()
        .expect("a list of case sets")
        .clone()
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

#[test]
fn curve_metrics_match_the_reference() {
    let mut checked = 0;
    for set in reference_cases() {
        for case in set["curves"].as_array().expect("curves") {
            let kind = case["kind"].as_str().expect("kind");
            let curve = Curve::evenly_spaced(floats(&case["losses"])).expect("valid curve");
            let on_unit_grid = Curve::new(
                (0..curve.values().len())
                    .map(|k| k as f64 / (curve.values().len() - 1) as f64)
                    .collect(),
                curve.values().to_vec(),
            )
            .expect("valid curve");
            let cg = case["cg"].as_f64().expect("cg");
            let barrier = case["endpoint_barrier"].as_f64().expect("endpoint_barrier");
            for c in [&curve, &on_unit_grid] {
                assert!(
                    (c.convexity_gap() - cg).abs() < 1e-9,
                    "{kind}: cg {} vs {cg}",
                    c.convexity_gap()
                );
                assert!(
                    (c.convexity_gap_brute_force() - cg).abs() < 1e-9,
                    "{kind}: brute-force cg"
                );
                assert!(
                    (c.endpoint_barrier() - barrier).abs() < 1e-9,
                    "{kind}: endpoint barrier"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 0);
}

#[test]
fn spectral_clustering_matches_scikit_learn() {
    let mut checked = 0;
    for set in reference_cases() {
        for case in set["clustering"].as_array().expect("clustering") {
            let n = case["n"].as_u64().expect("n") as usize;
            let k = case["k"].as_u64().expect("k") as usize;
            let delta = case["delta"].as_f64().expect("delta");
            let values: Vec<f64> = case["barrier"]
                .as_array()
                .expect("rows")
                .iter()
                .flat_map(floats)
                .collect();
            let d = BarrierMatrix::new(names(n), values, "fixture").expect("square");
            d.validate(1e-12, "fixture").expect("a barrier matrix");
            let embedding = SpectralEmbedding::new(&d, delta).expect("decomposes");

            let expected_eigenvalues = floats(&case["normalized_laplacian_smallest_eigenvalues"]);
            for (i, (ours, theirs)) in embedding
                .eigenvalues()
                .iter()
                .zip(&expected_eigenvalues)
                .enumerate()
            {
                assert!(
                    (ours - theirs).abs() < 1e-6,
                    "case n={n} k={k}: eigenvalue {i}: {ours} vs {theirs}"
                );
            }

            let expected_labels: Vec<usize> = case["sklearn_labels"]
                .as_array()
                .expect("labels")
                .iter()
                .map(|v| v.as_u64().expect("label") as usize)
                .collect();
            let clustering = embedding
                .cluster(k, 10, &KMeansOptions::default())
                .expect("clusters");
            assert!(
                same_partition(&clustering.labels, &expected_labels),
                "case n={n} k={k}: {:?} vs {:?}",
                clustering.labels,
                expected_labels
            );

            if let Some(expected) = case.get("centroid_distance_difference") {
                let expected = floats(expected);
                let axis = embedding
                    .centroid_axis(&KMeansOptions::default())
                    .expect("axis");
                let error_for = |sign: f64| {
                    axis.distances
                        .iter()
                        .zip(&expected)
                        .map(|(x, e)| (sign * x - e).abs())
                        .fold(0.0, f64::max)
                };
                let error = error_for(1.0).min(error_for(-1.0));
                assert!(
                    error < 1e-6,
                    "case n={n}: centroid distances differ by {error}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 0);
}
