//! `lmc assign` and `lmc soup` on a population with two basins by construction: a tiny BERT
//! learns 64 CoLA sentences (model A), and model B is A with the coordinates of its hidden space
//! permuted, the same function in another place of weight space. The path from A to B mixes
//! unrelated coordinates, so it crosses a barrier; copies of each with a little noise are linearly
//! connected. Held-out copies must land in their own basin, and soups inside a basin must stay
//! low in loss while the soup across basins pays the barrier.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lmc_bert::{HostTensor, SplitMix64, WeightsFormat, read_weights_file, write_safetensors};

fn data_dir() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets")
        .display()
        .to_string()
}

fn lmc(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_lmc"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "lmc {}:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn weights(dir: &Path) -> BTreeMap<String, HostTensor> {
    read_weights_file(&dir.join("model.safetensors"), WeightsFormat::Safetensors)
        .unwrap()
        .0
}

/// The model with the coordinates of its hidden (residual) space reordered by `order`: every
/// tensor that reads the hidden state has its input columns permuted, every one that writes it
/// its output rows, and the embeddings and LayerNorms their hidden axis. The same function, in
/// another place of weight space, where every coordinate means something else.
fn permute_hidden(tensors: &mut BTreeMap<String, HostTensor>, order: &[usize]) {
    let columns = |t: &mut HostTensor| {
        let width = t.shape[1];
        t.values = t
            .values
            .chunks(width)
            .flat_map(|row| order.iter().map(|&c| row[c]).collect::<Vec<_>>())
            .collect();
    };
    let rows = |t: &mut HostTensor| {
        let width = t.values.len() / t.shape[0];
        t.values = order
            .iter()
            .flat_map(|&r| t.values[r * width..(r + 1) * width].to_vec())
            .collect();
    };
    for (name, tensor) in tensors.iter_mut() {
        let reads = name.ends_with("_embeddings.weight")
            || name.ends_with("self.query.weight")
            || name.ends_with("self.key.weight")
            || name.ends_with("self.value.weight")
            || name.ends_with("intermediate.dense.weight")
            || name.ends_with("pooler.dense.weight");
        let writes = name.ends_with("attention.output.dense.weight")
            || name.ends_with("attention.output.dense.bias")
            || (name.contains(".output.dense.") && !name.contains("attention"))
            || name.contains("LayerNorm");
        if reads {
            columns(tensor);
        } else if writes {
            rows(tensor);
        }
    }
}

/// A copy of the model in `from` as `to`, with the given weights plus uniform noise of ±`noise`.
fn copy_model(
    from: &Path,
    to: &Path,
    tensors: &BTreeMap<String, HostTensor>,
    noise: f32,
    seed: u64,
) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "model.safetensors" {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
    let mut rng = SplitMix64::new(seed);
    let noisy: Vec<(String, HostTensor)> = tensors
        .iter()
        .map(|(name, tensor)| {
            let values = tensor
                .values
                .iter()
                .map(|v| v + noise * ((rng.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0))
                .collect();
            (name.clone(), HostTensor::new(tensor.shape.clone(), values))
        })
        .collect();
    write_safetensors(&to.join("model.safetensors"), &noisy).unwrap();
}

/// A data directory whose three CoLA files hold the same 64 training sentences, so that a tiny
/// BERT can learn them (memorise them) and every evaluation set measures what it learned.
fn memorised_cola(dir: &Path) -> String {
    let source = Path::new(&data_dir()).join("glue/CoLA/in_domain_train.tsv");
    let text = std::fs::read_to_string(source).unwrap();
    let lines: String = text.lines().take(64).map(|l| format!("{l}\n")).collect();
    let cola = dir.join("data/glue/CoLA");
    std::fs::create_dir_all(&cola).unwrap();
    for name in [
        "in_domain_train.tsv",
        "in_domain_dev.tsv",
        "out_of_domain_dev.tsv",
    ] {
        std::fs::write(cola.join(name), &lines).unwrap();
    }
    dir.join("data").display().to_string()
}

/// Trains A, builds a0–a3 and b0–b3 in `dir`; returns the data directory.
fn population(dir: &Path) -> String {
    let data = memorised_cola(dir);
    lmc(
        dir,
        &[
            "finetune",
            "--task",
            "cola",
            "--preset",
            "smoke",
            "--seed",
            "0",
            "--epochs",
            "60",
            "--learning-rate",
            "3e-3",
            "--data-dir",
            &data,
            "--out",
            "trained",
        ],
    );
    let trained: PathBuf = std::fs::read_dir(dir.join("trained"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("model").join("config.json").is_file())
        .expect("a trained run")
        .join("model");
    let a = weights(&trained);
    let hidden = a["bert.embeddings.LayerNorm.weight"].values.len();
    let order: Vec<usize> = (0..hidden).rev().collect();
    let mut b = a.clone();
    permute_hidden(&mut b, &order);
    for i in 0..4 {
        copy_model(&trained, &dir.join(format!("a{i}")), &a, 2e-4, 10 + i);
        copy_model(&trained, &dir.join(format!("b{i}")), &b, 2e-4, 20 + i);
    }
    data
}

fn cluster_of(analysis: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(analysis.join("clusters.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (model, cluster) = (
        header.iter().position(|c| *c == "model").unwrap(),
        header.iter().position(|c| *c == "cluster").unwrap(),
    );
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (fields[model].to_owned(), fields[cluster].to_owned())
        })
        .collect()
}

#[test]
fn new_models_land_in_their_basin_and_soups_inside_a_basin_avoid_the_barrier() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let data = population(root);
    let reference = ["a0", "a1", "a2", "b0", "b1", "b2"];
    let mut sweep = vec!["sweep", "--task", "cola", "--models"];
    sweep.extend(reference);
    sweep.extend([
        "--alphas",
        "5",
        "--sets",
        "id:32,ood:64",
        "--full-sets",
        "none",
        "--max-length",
        "64",
        "--data-dir",
        &data,
        "--out",
        "ref/results",
    ]);
    lmc(root, &sweep);
    lmc(
        root,
        &[
            "analyze",
            "--results",
            "ref/results",
            "--out",
            "ref/analysis",
        ],
    );
    let clusters = cluster_of(&root.join("ref/analysis"));
    assert_eq!(clusters["a0"], clusters["a1"]);
    assert_eq!(clusters["a0"], clusters["a2"]);
    assert_eq!(clusters["b0"], clusters["b2"]);
    assert_ne!(
        clusters["a0"], clusters["b0"],
        "the construction gives two basins: {clusters:?}"
    );

    let assigned = lmc(
        root,
        &[
            "assign",
            "--reference",
            "ref/analysis",
            "--models",
            "a3",
            "b3",
            "--per-basin",
            "2",
            "--data-dir",
            &data,
        ],
    );
    let stdout = String::from_utf8_lossy(&assigned.stdout);
    let basin = |model: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{model}: basin ")))
            .and_then(|l| l.split_whitespace().nth(2))
            .unwrap_or_else(|| panic!("no line for {model}:\n{stdout}"))
            .to_owned()
    };
    assert_eq!(basin("a3"), clusters["a0"], "{stdout}");
    assert_eq!(basin("b3"), clusters["b0"], "{stdout}");
    let table = lmc_sweep::read_parquet(&root.join("ref/assign/assignments.parquet")).unwrap();
    let margins = table.column("margin").unwrap().f64().unwrap();
    assert!(margins.into_no_null_iter().all(|m| m > 0.0), "{table}");

    let mut soup = vec!["soup", "--task", "cola", "--models"];
    soup.extend(reference);
    soup.extend([
        "--analysis",
        "ref/analysis",
        "--select-set",
        "id:32..64",
        "--sets",
        "id:32,ood:64",
        "--max-length",
        "64",
        "--data-dir",
        &data,
        "--out",
        "ref/results/soups",
    ]);
    lmc(root, &soup);
    let soups = lmc_sweep::read_parquet(&root.join("ref/results/soups/soups.parquet")).unwrap();
    let loss = |model: &str| -> f64 {
        let models = soups.column("model").unwrap().str().unwrap();
        let sets = soups.column("set").unwrap().str().unwrap();
        let losses = soups.column("loss").unwrap().f64().unwrap();
        (0..soups.height())
            .find(|&i| models.get(i) == Some(model) && sets.get(i) == Some("id"))
            .and_then(|i| losses.get(i))
            .unwrap_or_else(|| panic!("no id row for {model}"))
    };
    let basin_a = format!("basin-{}", clusters["a0"]);
    let basin_b = format!("basin-{}", clusters["b0"]);
    // B computes what A computes: the permutation is exact, the noise small.
    assert!((loss("b0") - loss("a0")).abs() < 0.01, "{soups}");
    // A basin's soup is (almost) its members; the soup across basins mixes unrelated units.
    assert!((loss(&basin_a) - loss("a0")).abs() < 0.05, "{soups}");
    assert!(
        loss("all") > loss(&basin_a) + 0.05 && loss("all") > loss(&basin_b) + 0.05,
        "{soups}"
    );
    assert!(loss("greedy").is_finite());
    // The basin soup is the mean of its members' weights.
    let members: Vec<BTreeMap<String, HostTensor>> = ["a0", "a1", "a2"]
        .iter()
        .map(|m| weights(&root.join(m)))
        .collect();
    let soup_weights = weights(&root.join("ref/results/soups").join(&basin_a));
    let name = "classifier.weight";
    for (i, value) in soup_weights[name].values.iter().enumerate() {
        let mean = members.iter().map(|m| m[name].values[i]).sum::<f32>() / 3.0;
        assert!(
            (value - mean).abs() <= 1e-6,
            "{name}[{i}]: {value} vs {mean}"
        );
    }

    // The report draws the soups beside the population.
    lmc(
        root,
        &[
            "report",
            "--results",
            "ref/results",
            "--analysis",
            "ref/analysis",
            "--out",
            "ref/report",
        ],
    );
    assert!(root.join("ref/report/figures/fig8_soups.svg").exists());
}
