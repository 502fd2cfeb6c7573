//! N-model merges from a YAML configuration, checkpoint files to a checkpoint directory.

use std::fs;
use std::path::{Path, PathBuf};

use half::{bf16, f16};
use lmc_interp::methods::{self, TaskModel, Ties};
use lmc_interp::{
    CHECKPOINT_WEIGHTS_FILE, Dtype, InterpError, MERGE_RECORD_FILE, MERGEKIT_CONFIG_FILE,
    MergeConfig, ModelMerge, ParamSet, ParameterSetting, ParameterValue, Parameters, TensorData,
    merge_models,
};
use sha2::{Digest, Sha256};

use crate::helpers::{carried, mixed_set, random_set};

/// A Hugging Face-style checkpoint directory with `mixed_set(seed)` weights.
fn write_checkpoint(dir: &Path, seed: u64) {
    fs::create_dir_all(dir).unwrap();
    mixed_set(seed)
        .save_safetensors(dir.join(CHECKPOINT_WEIGHTS_FILE))
        .unwrap();
    fs::write(
        dir.join("config.json"),
        format!("{{\"model_type\": \"bert\", \"torch_dtype\": \"float32\", \"seed\": {seed}}}"),
    )
    .unwrap();
    fs::write(dir.join("vocab.txt"), format!("[PAD]\n[UNK]\nseed{seed}\n")).unwrap();
}

/// Writes `yaml` as `root/merge.yaml` and opens the merge with `root` as the base directory.
fn open(root: &Path, yaml: &str) -> Result<ModelMerge, InterpError> {
    let path = root.join("merge.yaml");
    fs::write(&path, yaml).unwrap();
    ModelMerge::open(MergeConfig::load(&path)?, root)
}

fn float_values(set: &ParamSet, name: &str) -> Vec<f32> {
    match set.tensor(name).unwrap().data {
        TensorData::Float(values) => values.to_vec(),
        TensorData::Carried(_) => panic!("{name} is carried"),
    }
}

fn round_to(values: &[f32], dtype: Dtype) -> Vec<f32> {
    values
        .iter()
        .map(|&value| match dtype {
            Dtype::F32 => value,
            Dtype::F16 => f16::from_f32(value).to_f32(),
            Dtype::BF16 => bf16::from_f32(value).to_f32(),
            other => panic!("{other}"),
        })
        .collect()
}

fn sha256_hex(path: &Path) -> String {
    Sha256::digest(fs::read(path).unwrap())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

const TIES_YAML: &str = "\
models:
  - model: runs/seed-1
    parameters: {weight: 1.0, density: 0.5}
  - model: runs/seed-2
    parameters: {weight: 0.5, density: 0.7}
  - model: runs/seed-3
    parameters: {weight: 0.25}
base_model: pretrained
merge_method: ties
parameters: {lambda: 0.9}
";

#[test]
fn a_ties_merge_round_trips_file_to_file() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    write_checkpoint(&root.join("pretrained"), 10);
    for seed in 1..=3 {
        write_checkpoint(&root.join(format!("runs/seed-{seed}")), seed);
    }
    let merge = open(root, TIES_YAML).unwrap();
    let models: Vec<&str> = merge
        .inputs()
        .iter()
        .map(|input| input.model.as_str())
        .collect();
    assert_eq!(
        models,
        ["runs/seed-1", "runs/seed-2", "runs/seed-3", "pretrained"],
        "the base joins the inputs last, as in mergekit"
    );
    assert!(merge.inputs()[3].is_base && merge.inputs()[3].models_index.is_none());
    assert!(merge.ignored_parameters().is_empty());

    let out = root.join("merged");
    let summary = merge.write(&out).unwrap();
    assert_eq!(summary.weights_file, out.join(CHECKPOINT_WEIGHTS_FILE));
    assert_eq!((summary.merged_tensors, summary.carried_tensors), (4, 1));
    assert_eq!(summary.merged_values, 75_000 + 250 + 128 + 5);
    assert!(summary.non_finite_tensors.is_empty());
    assert_eq!(
        summary.bytes_written,
        fs::metadata(&summary.weights_file).unwrap().len()
    );

    // Tensor by tensor, the file holds what the in-memory method gives, rounded to the stored type.
    let load = |dir: &str| {
        ParamSet::load_safetensors(root.join(dir).join(CHECKPOINT_WEIGHTS_FILE)).unwrap()
    };
    let base = load("pretrained");
    let fine: Vec<ParamSet> = (1..=3)
        .map(|seed| load(&format!("runs/seed-{seed}")))
        .collect();
    let merged = ParamSet::load_safetensors(&summary.weights_file).unwrap();
    for tensor in base.tensors().filter(|tensor| tensor.dtype.is_float()) {
        let fine_values: Vec<Vec<f32>> = fine
            .iter()
            .map(|set| float_values(set, tensor.name))
            .collect();
        let models: Vec<TaskModel<'_>> = fine_values
            .iter()
            .zip([(1.0, 0.5), (0.5, 0.7), (0.25, 1.0)])
            .map(|(values, (weight, density))| TaskModel {
                values,
                weight,
                density,
            })
            .collect();
        let base_values = float_values(&base, tensor.name);
        let mut expected = vec![0.0; base_values.len()];
        let options = Ties {
            lambda: 0.9,
            ..Ties::default()
        };
        methods::ties(&mut expected, &base_values, &models, options);
        let expected = round_to(&expected, tensor.dtype);
        assert_eq!(
            float_values(&merged, tensor.name),
            expected,
            "{}",
            tensor.name
        );
        assert_eq!(merged.tensor(tensor.name).unwrap().dtype, tensor.dtype);
    }
    assert_eq!(
        carried(&merged),
        carried(&base),
        "integer buffers come from the base"
    );
    assert_eq!(merged.metadata(), base.metadata());

    // Companion files from the base, the configuration, and the record.
    for name in ["config.json", "vocab.txt"] {
        assert_eq!(
            fs::read(out.join(name)).unwrap(),
            fs::read(root.join("pretrained").join(name)).unwrap(),
            "{name}"
        );
    }
    assert_eq!(
        fs::read_to_string(out.join(MERGEKIT_CONFIG_FILE)).unwrap(),
        TIES_YAML
    );
    let record: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join(MERGE_RECORD_FILE)).unwrap()).unwrap();
    assert_eq!(record["merge_method"], "ties");
    assert_eq!(record["config_yaml"], TIES_YAML);
    let inputs = record["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 4);
    for (input, dir) in
        inputs
            .iter()
            .zip(["runs/seed-1", "runs/seed-2", "runs/seed-3", "pretrained"])
    {
        let weights = root.join(dir).join(CHECKPOINT_WEIGHTS_FILE);
        assert_eq!(input["model"], dir);
        assert_eq!(input["sha256"], sha256_hex(&weights), "{dir}");
        assert_eq!(input["weights_file"], weights.display().to_string());
        assert_eq!(input["base_model"], dir == "pretrained");
    }
    assert_eq!(
        summary.input_hashes[0].1,
        sha256_hex(&root.join("runs/seed-1/model.safetensors"))
    );

    // The same merge again through the one-call entry point gives the same bytes.
    let again = root.join("again");
    merge_models(root.join("merge.yaml"), root, &again).unwrap();
    assert_eq!(
        fs::read(again.join(CHECKPOINT_WEIGHTS_FILE)).unwrap(),
        fs::read(out.join(CHECKPOINT_WEIGHTS_FILE)).unwrap()
    );
}

#[test]
fn slerp_endpoints_reproduce_the_models() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let (a, b) = (root.join("a.safetensors"), root.join("b.safetensors"));
    random_set(&[("w", &[40, 3]), ("v", &[7])], 1)
        .save_safetensors(&a)
        .unwrap();
    random_set(&[("w", &[40, 3]), ("v", &[7])], 2)
        .save_safetensors(&b)
        .unwrap();
    for (t, expected) in [(0.0, &a), (1.0, &b)] {
        let yaml = format!(
            "merge_method: slerp\nbase_model: a.safetensors\nmodels:\n  - model: b.safetensors\n\
             parameters: {{t: {t:?}}}\n"
        );
        let out = root.join(format!("t{t}"));
        let summary = open(root, &yaml).unwrap().write(&out).unwrap();
        assert!(summary.linear_fallback_tensors.is_empty());
        assert!(
            summary
                .copied_files
                .iter()
                .all(|file| file.ends_with(MERGEKIT_CONFIG_FILE))
        );
        let merged = ParamSet::load_safetensors(&summary.weights_file).unwrap();
        let input = ParamSet::load_safetensors(expected).unwrap();
        assert_eq!(merged.float_values(), input.float_values(), "t = {t}");
    }
}

#[test]
fn slerp_reports_colinear_tensors() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    ParamSet::from_f32_tensors([
        ("w", vec![3], vec![1.0, 2.0, 3.0]),
        ("z", vec![2], vec![1.0, 0.0]),
    ])
    .unwrap()
    .save_safetensors(root.join("a.safetensors"))
    .unwrap();
    ParamSet::from_f32_tensors([
        ("w", vec![3], vec![2.0, 4.0, 6.0]),
        ("z", vec![2], vec![0.0, 1.0]),
    ])
    .unwrap()
    .save_safetensors(root.join("b.safetensors"))
    .unwrap();
    let yaml = "merge_method: slerp\nbase_model: a.safetensors\nmodels:\n  - model: a.safetensors\n  \
                - model: b.safetensors\nparameters: {t: 0.5}\n";
    let summary = open(root, yaml).unwrap().write(root.join("out")).unwrap();
    assert_eq!(summary.linear_fallback_tensors, ["w"]);
    let merged = ParamSet::load_safetensors(&summary.weights_file).unwrap();
    assert_eq!(float_values(&merged, "w"), [1.5, 3.0, 4.5]);
    let half = std::f32::consts::FRAC_1_SQRT_2;
    assert_eq!(float_values(&merged, "z"), [half, half]);
}

#[test]
fn dtypes_round_inputs_and_set_the_output_type() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    write_checkpoint(&root.join("a"), 1);
    write_checkpoint(&root.join("b"), 2);
    let base_yaml = "merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 1}\n  \
                     - model: b\n    parameters: {weight: 0}\n";

    // out_dtype: every float tensor is written in it; integer buffers keep their type.
    let out = root.join("bf16");
    open(root, &format!("{base_yaml}out_dtype: bfloat16\n"))
        .unwrap()
        .write(&out)
        .unwrap();
    let merged = ParamSet::load_safetensors(out.join(CHECKPOINT_WEIGHTS_FILE)).unwrap();
    let a = ParamSet::load_safetensors(root.join("a").join(CHECKPOINT_WEIGHTS_FILE)).unwrap();
    for tensor in merged.tensors() {
        let expected = if tensor.dtype.is_float() {
            Dtype::BF16
        } else {
            Dtype::I64
        };
        assert_eq!(tensor.dtype, expected, "{}", tensor.name);
    }
    assert_eq!(
        float_values(&merged, "encoder.weight"),
        round_to(&float_values(&a, "encoder.weight"), Dtype::BF16)
    );
    let config: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["torch_dtype"], "bfloat16", "as mergekit sets it");
    assert_eq!(config["seed"], 1);

    // dtype rounds the inputs as they are read (mergekit casts them); out_dtype keeps F32 here.
    let out = root.join("f16-inputs");
    open(
        root,
        &format!("{base_yaml}dtype: float16\nout_dtype: float32\n"),
    )
    .unwrap()
    .write(&out)
    .unwrap();
    let merged = ParamSet::load_safetensors(out.join(CHECKPOINT_WEIGHTS_FILE)).unwrap();
    assert_eq!(merged.tensor("encoder.weight").unwrap().dtype, Dtype::F32);
    assert_eq!(
        float_values(&merged, "encoder.weight"),
        round_to(&float_values(&a, "encoder.weight"), Dtype::F16)
    );

    // Without dtypes, each tensor keeps its stored type and config.json is copied as it is.
    let out = root.join("stored");
    open(root, base_yaml).unwrap().write(&out).unwrap();
    let merged = ParamSet::load_safetensors(out.join(CHECKPOINT_WEIGHTS_FILE)).unwrap();
    assert_eq!(merged.tensor("pooler.weight").unwrap().dtype, Dtype::F16);
    assert_eq!(merged.tensor("pooler.bias").unwrap().dtype, Dtype::BF16);
    assert_eq!(
        fs::read(out.join("config.json")).unwrap(),
        fs::read(root.join("a/config.json")).unwrap()
    );
}

#[test]
fn filters_give_tensors_their_own_parameters() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    write_checkpoint(&root.join("a"), 1);
    write_checkpoint(&root.join("b"), 2);
    // The pooler comes from `b` alone; everything else is an even average.
    let yaml = "merge_method: linear\nmodels:\n  - model: a\n    parameters:\n      weight:\n        \
                - {filter: pooler, value: 0}\n        - {value: 1}\n  - model: b\nparameters:\n  \
                weight: 1\n";
    let merge = open(root, yaml).unwrap();
    let summary = merge.write(root.join("out")).unwrap();
    let merged = ParamSet::load_safetensors(&summary.weights_file).unwrap();
    let a = ParamSet::load_safetensors(root.join("a").join(CHECKPOINT_WEIGHTS_FILE)).unwrap();
    let b = ParamSet::load_safetensors(root.join("b").join(CHECKPOINT_WEIGHTS_FILE)).unwrap();
    assert_eq!(
        float_values(&merged, "pooler.bias"),
        float_values(&b, "pooler.bias")
    );
    let mean: Vec<f32> = float_values(&a, "encoder.bias")
        .iter()
        .zip(float_values(&b, "encoder.bias"))
        .map(|(&x, y)| (x + y) / 2.0)
        .collect();
    assert_eq!(float_values(&merged, "encoder.bias"), mean);
}

#[test]
fn parameters_the_method_does_not_read_are_listed() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    write_checkpoint(&root.join("a"), 1);
    write_checkpoint(&root.join("b"), 2);
    let yaml = "merge_method: task_arithmetic\nbase_model: a\nmodels:\n  - model: a\n    \
                parameters: {weight: 1}\n  - model: b\n    parameters: {weight: 1, density: 0.5, \
                normalize: true}\nparameters: {gamma: 0.01, int8_mask: true}\n";
    let merge = open(root, yaml).unwrap();
    assert_eq!(
        merge.ignored_parameters(),
        [
            "parameters.gamma",
            "models[0].parameters.weight",
            "models[1].parameters.normalize"
        ]
    );
}

fn config_error(result: Result<ModelMerge, InterpError>) -> (String, String) {
    match result.expect_err("the merge is refused") {
        InterpError::MergeConfig { key, message, .. } => (key, message),
        other => panic!("expected a configuration error, got {other}"),
    }
}

#[test]
fn parameters_that_do_not_fit_the_models_are_refused_before_any_output() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    write_checkpoint(&root.join("a"), 1);
    write_checkpoint(&root.join("b"), 2);
    write_checkpoint(&root.join("c"), 3);

    let (key, message) = config_error(open(
        root,
        "merge_method: linear\nmodels:\n  - model: a\n    parameters: \
                                 {weight: 1}\n  - model: b\n",
    ));
    assert_eq!(key, "models[1]");
    assert!(message.contains("`b` has no `weight`"), "{message}");

    // ⌊0.1 · 5⌋ = 0 values of the 5-value BF16 bias would survive: mergekit asserts k > 0.
    let (key, message) = config_error(open(
        root,
        "merge_method: ties\nbase_model: a\nmodels:\n  - model: b\n    parameters: {weight: 1, \
         density: 0.1}\n",
    ));
    assert_eq!(key, "models[0].parameters.density");
    assert!(
        message.contains("`pooler.bias`") && message.contains("= 0"),
        "{message}"
    );

    let (key, message) = config_error(open(
        root,
        "merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 1}\n  - model: b\n    \
         parameters: {weight: -1}\n",
    ));
    assert_eq!(key, "parameters.normalize");
    assert!(message.contains("sum to 0"), "{message}");

    let (key, message) = config_error(open(
        root,
        "merge_method: slerp\nbase_model: a\nmodels:\n  - model: b\n  - model: c\nparameters: {t: 0.5}\n",
    ));
    assert_eq!(key, "models");
    assert!(message.contains("exactly two models"), "{message}");

    let (key, message) = config_error(open(
        root,
        "merge_method: slerp\nbase_model: a\nmodels:\n  - model: b\n",
    ));
    assert_eq!(key, "parameters.t");
    assert!(message.contains("needs `t`"), "{message}");

    // Values of the wrong kind are refused while parsing (merge_config.rs); a configuration
    // changed in code is checked again when the merge opens.
    let mut config = MergeConfig::from_yaml(
        "merge_method: slerp\nbase_model: a\nmodels:\n  - model: b\nparameters: {t: 0.5}\n",
        root.join("in-code.yaml"),
    )
    .unwrap();
    config.parameters = Parameters::from([(
        "t",
        ParameterSetting::Value(ParameterValue::Text("half".to_owned())),
    )]);
    let (key, message) = config_error(ModelMerge::open(config, root));
    assert_eq!(key, "parameters.t");
    assert!(message.contains("expected a finite number"), "{message}");

    let (key, message) = config_error(open(
        root,
        "merge_method: linear\nmodels:\n  - model: a\n  - model: ./a\nparameters: {weight: 1}\n",
    ));
    assert_eq!(key, "models[1]");
    assert!(message.contains("same checkpoint"), "{message}");
    assert!(!root.join("out").exists());
}

#[test]
fn mismatched_headers_name_both_files_and_the_key_before_any_output() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    random_set(&[("w", &[4, 4]), ("v", &[2])], 1)
        .save_safetensors(root.join("a.safetensors"))
        .unwrap();
    random_set(&[("w", &[4, 4]), ("v", &[2])], 2)
        .save_safetensors(root.join("b.safetensors"))
        .unwrap();
    random_set(&[("w", &[4, 2]), ("v", &[2])], 3)
        .save_safetensors(root.join("c.safetensors"))
        .unwrap();
    random_set(&[("w", &[4, 4])], 4)
        .save_safetensors(root.join("d.safetensors"))
        .unwrap();
    lmc_interp::ParamSetBuilder::new()
        .float_stored_as("w", vec![4, 4], vec![0.0; 16], Dtype::F16)
        .float("v", vec![2], vec![0.0; 2])
        .build()
        .unwrap()
        .save_safetensors(root.join("e.safetensors"))
        .unwrap();
    let yaml = |third: &str| {
        format!(
            "merge_method: linear\nmodels:\n  - model: a.safetensors\n  - model: b.safetensors\n  \
             - model: {third}\nparameters: {{weight: 1}}\n"
        )
    };
    let mismatch = |third: &str| match open(root, &yaml(third)).unwrap_err() {
        InterpError::Mismatch(mismatch) => *mismatch,
        other => panic!("expected a layout mismatch, got {other}"),
    };
    let shape = mismatch("c.safetensors");
    assert_eq!(shape.key, "w");
    assert!(shape.left.ends_with("a.safetensors") && shape.right.ends_with("c.safetensors"));
    assert!(shape.to_string().contains("shape [4, 4] in "), "{shape}");
    assert_eq!(mismatch("d.safetensors").key, "v");
    assert!(mismatch("e.safetensors").to_string().contains("dtype F32"));

    // A corrupt header is found before anything is written, too.
    let bytes = fs::read(root.join("b.safetensors")).unwrap();
    fs::write(root.join("cut.safetensors"), &bytes[..bytes.len() - 3]).unwrap();
    let error = open(root, &yaml("cut.safetensors")).unwrap_err();
    assert!(matches!(error, InterpError::Corrupt { .. }), "{error}");
    assert!(error.to_string().contains("cut.safetensors"));

    let leftovers: Vec<PathBuf> = fs::read_dir(root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn checkpoints_lmc_interp_cannot_read_get_a_way_forward() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    write_checkpoint(&root.join("a"), 1);
    fs::create_dir_all(root.join("pickled")).unwrap();
    fs::write(
        root.join("pickled/pytorch_model.bin"),
        b"not really a pickle",
    )
    .unwrap();
    fs::write(root.join("pickled/config.json"), b"{}").unwrap();
    fs::create_dir_all(root.join("sharded")).unwrap();
    fs::write(root.join("sharded/model.safetensors.index.json"), b"{}").unwrap();
    fs::create_dir_all(root.join("empty")).unwrap();

    let refusal = |model: &str| {
        let yaml = format!(
            "merge_method: linear\nmodels:\n  - model: a\n  - model: {model}\nparameters: {{weight: 1}}\n"
        );
        open(root, &yaml).unwrap_err()
    };
    for model in ["pickled", "pickled/pytorch_model.bin"] {
        let error = refusal(model);
        assert!(
            matches!(error, InterpError::UnsupportedCheckpoint { .. }),
            "{error}"
        );
        let message = error.to_string();
        assert!(
            message.contains("lmc-bert") && message.contains("resave"),
            "{message}"
        );
        assert!(message.contains(model), "{message}");
    }
    let message = refusal("sharded").to_string();
    assert!(message.contains("sharded"), "{message}");
    let message = refusal("bert-base-uncased").to_string();
    assert!(
        message.contains("does not exist") && message.contains("Hub"),
        "{message}"
    );
    assert!(matches!(
        refusal("empty"),
        InterpError::MissingCheckpointFile { .. }
    ));
}
