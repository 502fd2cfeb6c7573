//! The merge methods against the NumPy reference (`tests/fixtures/merge_reference.py`, which
//! follows mergekit's code; its output is committed as `merge_reference.json`), in memory through
//! [`lmc_interp::methods`] and file to file through a YAML configuration.
//!
//! Tolerances:
//! - linear, task arithmetic, TIES and trimming: none. Rust and the reference perform the same
//!   `f32` operations in the same order, so the values are equal (compared with `==`, so
//!   `-0.0 == 0.0`: sums starting from zero and from the first term may differ in the sign of a
//!   zero, which nothing downstream can tell apart).
//! - TIES with `rescale`: 4 ulps of the entry's magnitude. The L1 norms are exactly rounded sums
//!   in the reference and `f64` running sums here; their ratio, rounded to `f32`, may differ in
//!   its last bit.
//! - slerp: one `f32` ulp of each coefficient, i.e. `2ε·(|v0| + |v1|)` per entry. The cosine is an
//!   exactly rounded sum in the reference and an `f64` running sum here, and the coefficients go
//!   through the platform's `acos` and `sin`; any of these may move a coefficient by one ulp when
//!   it is rounded to `f32`.

use std::fs;
use std::path::Path;

use lmc_interp::methods::{self, Consensus, SlerpPath, TaskArithmetic, TaskModel, Ties};
use lmc_interp::{MergeConfig, ModelMerge, ParamSet, TensorData};
use serde_json::Value;

const FIXTURE: &str = include_str!("../fixtures/merge_reference.json");

fn cases() -> Vec<Value> {
    let document: Value = serde_json::from_str(FIXTURE).expect("the fixture is JSON");
    document["cases"]
        .as_array()
        .expect("a list of cases")
        .clone()
}

fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .expect("a list of numbers")
        .iter()
        .map(|number| number.as_f64().expect("a number") as f32)
        .collect()
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("a list of numbers")
        .iter()
        .map(|number| number.as_f64().expect("a number"))
        .collect()
}

fn lists(value: &Value) -> Vec<Vec<f32>> {
    value
        .as_array()
        .expect("a list")
        .iter()
        .map(floats)
        .collect()
}

/// How close a result must be to the reference, per entry (see the module documentation).
#[derive(Clone, Copy)]
enum Tolerance {
    Exact,
    /// `ulps` units in the last place of the larger of the expected value and `scale[i]`.
    Ulps(f32),
    /// `2ε·(|v0| + |v1|)`.
    SlerpCoefficients,
}

fn assert_matches(
    name: &str,
    actual: &[f32],
    expected: &[f32],
    tolerance: Tolerance,
    case: &Value,
) {
    assert_eq!(actual.len(), expected.len(), "{name}: length");
    for (index, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let allowed = match tolerance {
            Tolerance::Exact => 0.0,
            Tolerance::Ulps(ulps) => ulps * f32::EPSILON * e.abs().max(f32::MIN_POSITIVE),
            Tolerance::SlerpCoefficients => {
                let (v0, v1) = (floats(&case["v0"]), floats(&case["v1"]));
                2.0 * f32::EPSILON * (v0[index].abs() + v1[index].abs())
            }
        };
        assert!(
            a == e || (a - e).abs() <= allowed,
            "{name}[{index}]: {a} vs reference {e} (allowed {allowed})"
        );
    }
}

fn tolerance_of(case: &Value) -> Tolerance {
    match case["method"].as_str().unwrap() {
        "slerp" => Tolerance::SlerpCoefficients,
        "ties" if case["rescale"].as_bool().unwrap() => Tolerance::Ulps(4.0),
        _ => Tolerance::Exact,
    }
}

fn ties_options(case: &Value) -> Ties {
    Ties {
        normalize: case["normalize"].as_bool().unwrap(),
        lambda: case["lambda"].as_f64().unwrap() as f32,
        consensus: match case["consensus"].as_str().unwrap() {
            "sum" => Consensus::Sum,
            "count" => Consensus::Count,
            other => panic!("consensus {other}"),
        },
        rescale: case["rescale"].as_bool().unwrap(),
    }
}

/// Runs one case through `lmc_interp::methods`.
fn run_in_memory(case: &Value) -> Vec<f32> {
    let expected_len = case["expected"].as_array().unwrap().len();
    let mut out = vec![f32::NAN; expected_len];
    match case["method"].as_str().unwrap() {
        "linear" => {
            let models = lists(&case["models"]);
            let refs: Vec<&[f32]> = models.iter().map(Vec::as_slice).collect();
            let weights: Vec<f32> = numbers(&case["weights"])
                .iter()
                .map(|&w| w as f32)
                .collect();
            methods::linear(
                &mut out,
                &refs,
                &weights,
                case["normalize"].as_bool().unwrap(),
            );
        }
        "slerp" => {
            let path = methods::slerp(
                &mut out,
                &floats(&case["v0"]),
                &floats(&case["v1"]),
                case["t"].as_f64().unwrap(),
            );
            let expected_path = match case["path"].as_str().unwrap() {
                "spherical" => SlerpPath::Spherical,
                _ => SlerpPath::Linear,
            };
            assert_eq!(path, expected_path, "{}", case["name"]);
        }
        "task_arithmetic" | "ties" => {
            let base = floats(&case["base"]);
            let models = lists(&case["models"]);
            let weights = numbers(&case["weights"]);
            let densities = case
                .get("densities")
                .map(numbers)
                .unwrap_or_else(|| vec![1.0; models.len()]);
            let task_models: Vec<TaskModel<'_>> = models
                .iter()
                .zip(weights.iter().zip(&densities))
                .map(|(values, (&weight, &density))| TaskModel {
                    values,
                    weight: weight as f32,
                    density,
                })
                .collect();
            if case["method"] == "ties" {
                methods::ties(&mut out, &base, &task_models, ties_options(case));
            } else {
                let options = TaskArithmetic {
                    normalize: case["normalize"].as_bool().unwrap(),
                    lambda: case["lambda"].as_f64().unwrap() as f32,
                };
                methods::task_arithmetic(&mut out, &base, &task_models, options);
            }
        }
        "trim" => {
            out = floats(&case["delta"]);
            methods::trim_to_density(&mut out, case["density"].as_f64().unwrap());
        }
        other => panic!("unknown method {other}"),
    }
    out
}

#[test]
fn methods_match_the_numpy_reference() {
    let cases = cases();
    assert!(cases.len() >= 30, "the fixture holds every case");
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let actual = run_in_memory(case);
        assert_matches(
            name,
            &actual,
            &floats(&case["expected"]),
            tolerance_of(case),
            case,
        );
    }
}

#[test]
fn trimming_keeps_mergekits_count_and_the_lowest_indices_among_ties() {
    let case = cases()
        .into_iter()
        .find(|case| case["name"] == "trim_ties_keep_lowest_indices")
        .unwrap();
    // Five entries of magnitude 1 compete for four places: indices 0, 1, 2 and 4 win.
    assert_eq!(
        floats(&case["expected"]),
        [1.0, -1.0, 1.0, 0.0, -1.0, 0.0, 0.0, -0.0]
    );
}

/// Writes one tensor `w` with the case's shape and `values` as an F32 safetensors file.
fn write_tensor(path: &Path, shape: &[usize], values: Vec<f32>) {
    ParamSet::from_f32_tensors([("w", shape.to_vec(), values)])
        .unwrap()
        .save_safetensors(path)
        .unwrap();
}

/// A YAML model entry with per-model parameters.
fn model_entry(file: &str, parameters: &[(&str, f64)]) -> String {
    let parameters: Vec<String> = parameters
        .iter()
        .map(|(name, value)| format!("{name}: {value:?}"))
        .collect();
    format!(
        "  - model: {file}\n    parameters: {{{}}}\n",
        parameters.join(", ")
    )
}

/// The same case as a YAML configuration over safetensors files, merged file to file.
fn run_through_files(case: &Value, dir: &Path) -> Vec<f32> {
    let shape: Vec<usize> = case["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|dim| dim.as_u64().unwrap() as usize)
        .collect();
    let flag = |name: &str| case[name].as_bool().unwrap();
    let mut yaml = format!(
        "merge_method: {}\nmodels:\n",
        case["method"].as_str().unwrap()
    );
    match case["method"].as_str().unwrap() {
        "linear" => {
            for (index, (values, weight)) in lists(&case["models"])
                .into_iter()
                .zip(numbers(&case["weights"]))
                .enumerate()
            {
                let file = format!("m{index}.safetensors");
                write_tensor(&dir.join(&file), &shape, values);
                yaml += &model_entry(&file, &[("weight", weight)]);
            }
            yaml += &format!("parameters:\n  normalize: {}\n", flag("normalize"));
        }
        "slerp" => {
            write_tensor(&dir.join("v0.safetensors"), &shape, floats(&case["v0"]));
            write_tensor(&dir.join("v1.safetensors"), &shape, floats(&case["v1"]));
            yaml += "  - model: v0.safetensors\n  - model: v1.safetensors\n";
            yaml += "base_model: v0.safetensors\n";
            yaml += &format!("parameters:\n  t: {:?}\n", case["t"].as_f64().unwrap());
        }
        method => {
            write_tensor(&dir.join("base.safetensors"), &shape, floats(&case["base"]));
            let densities = case.get("densities").map(numbers);
            for (index, (values, weight)) in lists(&case["models"])
                .into_iter()
                .zip(numbers(&case["weights"]))
                .enumerate()
            {
                let file = format!("m{index}.safetensors");
                write_tensor(&dir.join(&file), &shape, values);
                let mut parameters = vec![("weight", weight)];
                if let Some(densities) = &densities {
                    parameters.push(("density", densities[index]));
                }
                yaml += &model_entry(&file, &parameters);
            }
            yaml += "base_model: base.safetensors\nparameters:\n";
            yaml += &format!("  normalize: {}\n", flag("normalize"));
            yaml += &format!("  lambda: {:?}\n", case["lambda"].as_f64().unwrap());
            if method == "ties" {
                yaml += &format!(
                    "  consensus_method: {}\n",
                    case["consensus"].as_str().unwrap()
                );
                yaml += &format!("  rescale: {}\n", flag("rescale"));
            }
        }
    }
    let config_path = dir.join("merge.yaml");
    fs::write(&config_path, &yaml).unwrap();
    let config = MergeConfig::load(&config_path).unwrap();
    let out = dir.join("out");
    ModelMerge::open(config, dir).unwrap().write(&out).unwrap();
    let merged = ParamSet::load_safetensors(out.join("model.safetensors")).unwrap();
    match merged.tensor("w").unwrap().data {
        TensorData::Float(values) => values.to_vec(),
        TensorData::Carried(_) => unreachable!(),
    }
}

#[test]
fn configured_file_merges_match_the_numpy_reference() {
    for case in cases().iter().filter(|case| case["method"] != "trim") {
        let name = case["name"].as_str().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let actual = run_through_files(case, dir.path());
        assert_matches(
            name,
            &actual,
            &floats(&case["expected"]),
            tolerance_of(case),
            case,
        );
    }
}
