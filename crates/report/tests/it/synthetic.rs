//! Small synthetic result tables: six models in two basins (`a1`–`a4` generalise, `b1`–`b2` follow
//! a heuristic), convex curves inside a basin and a bump across.

use std::f64::consts::PI;
use std::fs::File;
use std::path::Path;

use lmc_analysis::{EndpointsTable, PairsTable, schema};
use polars::prelude::{DataFrame, ParquetWriter, df};

/// The six models.
pub const MODELS: [&str; 6] = ["a1", "a2", "a3", "a4", "b1", "b2"];

/// α grid of every curve.
const ALPHAS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

fn in_domain_loss(i: usize) -> f64 {
    0.40 + 0.01 * i as f64
}

fn diagnostic_metric(i: usize, basin_of: &dyn Fn(usize) -> char) -> f64 {
    match basin_of(i) {
        'a' => 0.60 + 0.03 * i as f64,
        _ => 0.10 + 0.02 * i as f64,
    }
}

/// The basin of model `i` as named.
pub fn named_basin(i: usize) -> char {
    MODELS[i].chars().next().expect("non-empty name")
}

/// `pairs.parquet` rows for every unordered pair; `basin_of` decides where the bumps are.
pub fn pairs_frame(basin_of: &dyn Fn(usize) -> char) -> DataFrame {
    let (mut a, mut b, mut set, mut index, mut alpha) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut loss, mut metric, mut accuracy, mut n) = (vec![], vec![], vec![], vec![]);
    for i in 0..MODELS.len() {
        for j in i + 1..MODELS.len() {
            let bump = if basin_of(i) == basin_of(j) {
                -0.02
            } else {
                0.30
            };
            for (name, offset) in [("id", 0.0), ("ood", 0.2)] {
                let (li, lj) = (in_domain_loss(i) + offset, in_domain_loss(j) + offset);
                for (k, &al) in ALPHAS.iter().enumerate() {
                    let l = (1.0 - al) * li + al * lj + bump * (PI * al).sin();
                    a.push(MODELS[i]);
                    b.push(MODELS[j]);
                    set.push(name);
                    index.push(k as u32);
                    alpha.push(al);
                    loss.push(l);
                    metric.push(0.85 - 0.5 * (l - 0.4));
                    accuracy.push(0.85 - 0.5 * (l - 0.4));
                    n.push(64_u32);
                }
            }
        }
    }
    df!(
        schema::MODEL_A => a, schema::MODEL_B => b, schema::SET => set,
        schema::ALPHA_INDEX => index, schema::ALPHA => alpha, schema::LOSS => loss,
        schema::METRIC => metric, schema::ACCURACY => accuracy, schema::N_EXAMPLES => n
    )
    .expect("pairs frame")
}

/// `endpoints.parquet` rows: in-domain and diagnostic metrics per model.
pub fn endpoints_frame(basin_of: &dyn Fn(usize) -> char) -> DataFrame {
    let (mut model, mut set, mut loss, mut metric) = (vec![], vec![], vec![], vec![]);
    for i in 0..MODELS.len() {
        model.extend([MODELS[i], MODELS[i]]);
        set.extend(["id", "ood"]);
        loss.extend([in_domain_loss(i), in_domain_loss(i) + 0.2]);
        metric.extend([0.84 + 0.005 * i as f64, diagnostic_metric(i, basin_of)]);
    }
    let n = vec![64_u32; model.len()];
    df!(
        schema::MODEL => model, schema::SET => set, schema::LOSS => loss,
        schema::METRIC => metric.clone(), schema::ACCURACY => metric, schema::N_EXAMPLES => n
    )
    .expect("endpoints frame")
}

/// `hans_cells.parquet` rows: the heuristic basin fails the non-entailed cells.
pub fn hans_frame() -> DataFrame {
    let (mut model, mut heuristic, mut label, mut accuracy) = (vec![], vec![], vec![], vec![]);
    for (i, name) in MODELS.iter().enumerate() {
        for h in schema::HANS_HEURISTICS {
            for l in schema::HANS_LABELS {
                let good = named_basin(i) == 'a' || l == "entailment";
                model.push(*name);
                heuristic.push(h);
                label.push(l);
                accuracy.push(if good {
                    0.7 + 0.04 * i as f64
                } else {
                    0.05 + 0.02 * i as f64
                });
            }
        }
    }
    let n = vec![1000_u32; model.len()];
    df!(
        schema::MODEL => model, schema::HEURISTIC => heuristic, schema::LABEL => label,
        schema::ACCURACY => accuracy, schema::N_EXAMPLES => n
    )
    .expect("hans frame")
}

/// `surface.parquet` and `surface_models.parquet`: two planes, 5 × 5 grids, quadratic bowls.
pub fn surface_frames() -> (DataFrame, DataFrame) {
    let (mut plane, mut gi, mut gj, mut x, mut y, mut set) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut loss, mut accuracy, mut ece, mut n) = (vec![], vec![], vec![], vec![]);
    for (p, name) in ["G-G-G", "G-H-H"].iter().enumerate() {
        for i in 0..5_u32 {
            for j in 0..5_u32 {
                let (cx, cy) = (-0.5 + 0.5 * j as f64, -0.5 + 0.5 * i as f64);
                let l = 0.4 + (cx - 0.5).powi(2) + (cy - 0.3).powi(2) + 0.3 * p as f64 * cx;
                plane.push(*name);
                gi.push(i);
                gj.push(j);
                x.push(cx);
                y.push(cy);
                set.push("id");
                loss.push(l);
                accuracy.push(0.9 - 0.3 * l);
                ece.push(0.02 + 0.05 * l);
                n.push(256_u32);
            }
        }
    }
    let surface = df!(
        schema::PLANE => plane, schema::GRID_I => gi, schema::GRID_J => gj, schema::X => x,
        schema::Y => y, schema::SET => set, schema::LOSS => loss, schema::ACCURACY => accuracy,
        schema::ECE => ece, schema::N_EXAMPLES => n
    )
    .expect("surface frame");
    let models = df!(
        schema::PLANE => ["G-G-G", "G-G-G", "G-G-G", "G-H-H", "G-H-H", "G-H-H"],
        schema::MODEL => ["a1", "a2", "a3", "a1", "b1", "b2"],
        schema::X => [0.0, 1.0, 0.4, 0.0, 1.0, 0.3],
        schema::Y => [0.0, 0.0, 0.8, 0.0, 0.0, 0.9]
    )
    .expect("surface models frame");
    (surface, models)
}

/// `lmc soup`'s table for the named basins: every model, each basin's soup and the soup of all,
/// on `id` and `ood`.
pub fn soups_frame() -> DataFrame {
    let (mut model, mut kind, mut members, mut set) = (vec![], vec![], vec![], vec![]);
    let mut cluster: Vec<i64> = vec![];
    let (mut loss, mut metric, mut accuracy, mut n): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<u32>) =
        (vec![], vec![], vec![], vec![]);
    let mut push = |name: &str, what: &str, label: i64, of: &str, id: f64, ood: f64| {
        for (s, value) in [("id", id), ("ood", ood)] {
            model.push(name.to_owned());
            kind.push(what.to_owned());
            cluster.push(label);
            members.push(of.to_owned());
            set.push(s.to_owned());
            loss.push(1.0 - value);
            metric.push(value);
            accuracy.push(value);
            n.push(64_u32);
        }
    };
    for (i, name) in MODELS.iter().enumerate() {
        let label = i64::from(named_basin(i) == 'b');
        push(
            name,
            "member",
            label,
            name,
            0.84 + 0.005 * i as f64,
            diagnostic_metric(i, &named_basin),
        );
    }
    push("basin-0", "basin", 0, "a1,a2,a3,a4", 0.86, 0.7);
    push("basin-1", "basin", 1, "b1,b2", 0.86, 0.2);
    push("all", "all", -1, &MODELS.join(","), 0.5, 0.3);
    df!(
        schema::MODEL => model, schema::KIND => kind, schema::CLUSTER => cluster,
        schema::MEMBERS => members, schema::SET => set, schema::LOSS => loss,
        schema::METRIC => metric, schema::ACCURACY => accuracy, schema::N_EXAMPLES => n
    )
    .expect("soups frame")
}

/// Writes `frame` to `path` as Parquet.
pub fn write_parquet(path: &Path, mut frame: DataFrame) {
    let file = File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetWriter::new(file)
        .finish(&mut frame)
        .expect("parquet");
}

/// Writes pairs and endpoints tables into `dir`.
pub fn write_results(dir: &Path, basin_of: &dyn Fn(usize) -> char) {
    std::fs::create_dir_all(dir).expect("results dir");
    write_parquet(&dir.join(schema::PAIRS_FILE), pairs_frame(basin_of));
    write_parquet(&dir.join(schema::ENDPOINTS_FILE), endpoints_frame(basin_of));
}

/// Indexed tables of the named basins.
pub fn tables() -> (PairsTable, EndpointsTable) {
    (
        PairsTable::from_dataframe(&pairs_frame(&named_basin), "synthetic pairs").expect("pairs"),
        EndpointsTable::from_dataframe(&endpoints_frame(&named_basin), "synthetic endpoints")
            .expect("endpoints"),
    )
}
