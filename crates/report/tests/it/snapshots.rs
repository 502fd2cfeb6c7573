//! Every figure rendered to SVG from small fixed tables and compared byte for byte with the stored
//! snapshot (`LMC_UPDATE_SNAPSHOTS=1` rewrites them; see the crate's test docs in `main.rs`).

use std::path::PathBuf;

use lmc_analysis::{
    BarrierMatrix, BootstrapInterval, BootstrapOptions, ClusterOptions, ClusterStats, Correlation,
    EndpointsTable, LinearFit, PairsTable, Summary,
};
use lmc_report::{
    CheckpointResults, CurveValue, MarkedModel, ModelRow, Plot, SurfacePlane, SurfacePoint,
    SurfaceValue, barrier_heatmap, centroid_scatter, cluster_table, hans_breakdown,
    interpolation_curves, loss_surfaces, render_svg, training_dynamics_figure,
};

use crate::synthetic::{self, MODELS, named_basin};

fn assert_snapshot(name: &str, plot: &impl Plot) {
    let svg = render_svg(plot, name).expect("renders");
    assert_eq!(
        svg,
        render_svg(plot, name).expect("renders"),
        "{name}: not deterministic"
    );
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.svg"));
    if std::env::var_os("LMC_UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &svg).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with LMC_UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    assert!(
        stored == svg,
        "{name}: the SVG differs from {}; if the change is intended, rerun with \
         LMC_UPDATE_SNAPSHOTS=1 and review the new snapshot",
        path.display()
    );
}

/// Six models: `a*` generalise (cluster 0), `b*` follow a heuristic (cluster 1).
fn model_rows() -> Vec<ModelRow> {
    MODELS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let heuristic = named_basin(i) == 'b';
            ModelRow {
                name: (*name).to_owned(),
                cluster: usize::from(heuristic),
                centroid_distance: if heuristic {
                    0.8 + 0.05 * i as f64
                } else {
                    -0.6 + 0.1 * i as f64
                },
                diagnostic_metric: if heuristic {
                    0.1 + 0.02 * i as f64
                } else {
                    0.6 + 0.03 * i as f64
                },
                in_domain_metric: 0.84 + 0.005 * i as f64,
            }
        })
        .collect()
}

fn summary(values: &[f64]) -> Summary {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    Summary {
        count: values.len(),
        mean: Some(mean),
        std: Some(std),
        min: values.iter().copied().reduce(f64::min),
        max: values.iter().copied().reduce(f64::max),
    }
}

#[test]
fn barrier_heatmap_snapshot() {
    let names: Vec<String> = MODELS.iter().map(|m| (*m).to_owned()).collect();
    let values = (0..36)
        .map(|x| (x / 6, x % 6))
        .map(|(i, j)| match (i == j, named_basin(i) == named_basin(j)) {
            (true, _) => 0.0,
            (false, true) => 0.01 * (i + j) as f64,
            (false, false) => 0.3 + 0.01 * (i + j) as f64,
        })
        .collect();
    let matrix = BarrierMatrix::new(names, values, "fixed").expect("square");
    let plot = barrier_heatmap(&matrix, &model_rows(), "HANS-LO accuracy").expect("builds");
    assert_eq!(
        plot.panels[0].labels[0], "0.180",
        "sorted by the metric, worst first"
    );
    assert_snapshot("fig3_barrier_heatmap", &plot);
}

#[test]
fn centroid_scatter_snapshot() {
    let correlation = Correlation {
        n: 6,
        pearson: Some(-0.93),
        spearman: Some(-0.89),
        pearson_interval: BootstrapInterval {
            options: BootstrapOptions::default(),
            valid_resamples: 2000,
            low: Some(-0.99),
            high: Some(-0.6),
        },
        fit: Some(LinearFit {
            slope: -0.45,
            intercept: 0.55,
        }),
    };
    let plot = centroid_scatter(&model_rows(), 2, &correlation, "HANS-LO accuracy");
    assert!(plot.title.contains("r = -0.930"));
    assert_snapshot("fig4_centroid_scatter", &plot);
}

#[test]
fn cluster_table_snapshot() {
    let stats = vec![
        ClusterStats {
            cluster: 0,
            size: 4,
            diagnostic: summary(&[0.6, 0.63, 0.66, 0.69]),
            in_domain: summary(&[0.84, 0.845, 0.85, 0.855]),
            hans: Vec::new(),
        },
        ClusterStats {
            cluster: 1,
            size: 2,
            diagnostic: summary(&[0.18, 0.2]),
            in_domain: summary(&[0.86, 0.865]),
            hans: Vec::new(),
        },
    ];
    let plot = cluster_table(&stats, "HANS-LO accuracy", "MNLI-m accuracy");
    assert_eq!(plot.rows[1].1[..3], ["1", "2", "0.190"]);
    assert_snapshot("fig5_cluster_table", &plot);
}

#[test]
fn hans_breakdown_snapshot() {
    let cells = lmc_analysis::HansTable::cell_names();
    let values: Vec<Vec<f64>> = (0..MODELS.len())
        .map(|i| {
            (0..6)
                .map(|c| {
                    if named_basin(i) == 'b' && c % 2 == 1 {
                        0.05 + 0.01 * i as f64
                    } else {
                        0.7 + 0.04 * i as f64
                    }
                })
                .collect()
        })
        .collect();
    let plot =
        hans_breakdown(&cells, &values, &model_rows(), 2, "MNLI-m accuracy").expect("builds");
    assert_eq!(plot.categories.len(), 7);
    assert_snapshot("fig7_hans_breakdown", &plot);
}

#[test]
fn interpolation_curves_snapshot() {
    let (pairs, _) = synthetic::tables();
    let sets = [
        ("id".to_owned(), "in-domain (`id`)".to_owned()),
        ("ood".to_owned(), "diagnostic (`ood`)".to_owned()),
    ];
    for value in [CurveValue::Loss, CurveValue::Accuracy] {
        let plot = interpolation_curves(&pairs, &model_rows(), &sets, value, 2)
            .expect("builds")
            .expect("two groups");
        assert_eq!(plot.generalising, ["a4", "a3"]);
        assert_eq!(plot.heuristic, ["b1", "b2"]);
        let n: Vec<usize> = plot.rows[0].panels.iter().map(|p| p.n).collect();
        assert_eq!(n, [2, 4, 2], "ordered pairs per group pair");
        assert_snapshot(&format!("fig1_interpolation_{}", value.name()), &plot);
    }
    let gh = interpolation_curves(&pairs, &model_rows(), &sets, CurveValue::Loss, 2)
        .expect("builds")
        .expect("two groups")
        .mean_curve("id", 1)
        .expect("G–H curve");
    assert!(gh.convexity_gap() > 0.2, "the bump across basins shows");
}

#[test]
fn surface_snapshot() {
    let plane = |name: &str, tilt: f64| SurfacePlane {
        name: name.to_owned(),
        points: (0..9)
            .map(|k| {
                let (x, y) = (-0.5 + 0.75 * (k % 3) as f64, -0.5 + 0.75 * (k / 3) as f64);
                let loss = 0.4 + (x - 0.5).powi(2) + y * y + tilt * x;
                SurfacePoint {
                    x,
                    y,
                    loss,
                    accuracy: 0.9 - 0.3 * loss,
                    ece: 0.05 * loss,
                }
            })
            .collect(),
        models: [("a1", 0.0, 0.0), ("a2", 1.0, 0.0), ("a3", 0.3, 0.8)]
            .map(|(name, x, y)| MarkedModel {
                name: name.to_owned(),
                x,
                y,
            })
            .to_vec(),
    };
    let planes = [plane("G-G-G", 0.0), plane("G-H-H", 0.3)];
    let plot = loss_surfaces(&planes, SurfaceValue::Loss, "`id`").expect("has points");
    assert!(plot.scale.max > plot.scale.min);
    assert_snapshot("fig2_surface_loss", &plot);
    assert!(loss_surfaces(&[], SurfaceValue::Loss, "`id`").is_none());
}

#[test]
fn training_dynamics_snapshot() {
    let early = |i: usize| if i == 3 { 'b' } else { named_basin(i) };
    let checkpoint = |step: u64, basin_of: &dyn Fn(usize) -> char| CheckpointResults {
        step,
        pairs: PairsTable::from_dataframe(&synthetic::pairs_frame(basin_of), "pairs")
            .expect("pairs"),
        endpoints: EndpointsTable::from_dataframe(
            &synthetic::endpoints_frame(basin_of),
            "endpoints",
        )
        .expect("endpoints"),
    };
    let checkpoints = [checkpoint(100, &early), checkpoint(200, &named_basin)];
    let plot = training_dynamics_figure(
        &checkpoints,
        "id",
        "ood",
        &ClusterOptions::default(),
        "HANS-LO accuracy",
    )
    .expect("builds")
    .expect("two checkpoints");
    assert_eq!(plot.checkpoints, ["step 100", "step 200"]);
    let a4 = plot.names.iter().position(|n| n == "a4").expect("a4");
    assert_ne!(
        plot.labels[0][a4], plot.labels[1][a4],
        "a4 switches cluster"
    );
    assert_snapshot("fig6_training_dynamics", &plot);
    assert!(
        training_dynamics_figure(
            &checkpoints[..1],
            "id",
            "ood",
            &ClusterOptions::default(),
            "m"
        )
        .expect("builds")
        .is_none()
    );
}
