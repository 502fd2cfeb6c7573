//! `lmc interpolate` on two saved checkpoints gives the model that interpolating in memory gives.

use std::collections::BTreeMap;
use std::process::Command;

use burn::backend::Flex;
use lmc_bert::{
    BertClassifier, BertConfig, BertInput, HeadSpec, HostTensor, classifier_from_parameters,
    load_classifier, random_classifier, save_classifier,
};
use lmc_interp::{ParamSet, lerp};

fn config() -> BertConfig {
    BertConfig {
        max_position_embeddings: 16,
        ..BertConfig::sized(40, 8, 2, 2, 16)
    }
}

fn logits(model: &BertClassifier<Flex>) -> Vec<f32> {
    let input = BertInput::from_rows(
        &[vec![2, 7, 19, 3, 4, 3]],
        &[vec![0, 0, 0, 0, 1, 1]],
        &[vec![1; 6]],
        &Default::default(),
    );
    model.forward(input).into_data().into_vec().unwrap()
}

fn as_param_set(model: &BertClassifier<Flex>) -> ParamSet {
    ParamSet::from_f32_tensors(
        model
            .hf_parameters()
            .into_iter()
            .map(|(name, t)| (name, t.shape, t.values)),
    )
    .unwrap()
}

#[test]
fn merged_checkpoint_equals_in_memory_interpolation() {
    let dir = tempfile::tempdir().unwrap();
    let labels = vec!["no".to_string(), "yes".to_string()];
    let device = Default::default();
    let models: Vec<BertClassifier<Flex>> = [3, 4]
        .iter()
        .map(|&seed| random_classifier(&config(), 2, seed, &device))
        .collect();
    for (model, name) in models.iter().zip(["a", "b"]) {
        save_classifier(model, &config(), &labels, &dir.path().join(name)).unwrap();
    }
    let output = dir.path().join("mid");
    let status = Command::new(env!("CARGO_BIN_EXE_lmc"))
        .arg("interpolate")
        .arg(dir.path().join("a"))
        .arg(dir.path().join("b"))
        .args(["--alpha", "0.3", "-o"])
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success());

    let merged = load_classifier::<Flex>(
        &output,
        HeadSpec {
            num_labels: None,
            seed: 0,
        },
        &device,
    )
    .unwrap();
    let in_memory = lerp(&as_param_set(&models[0]), &as_param_set(&models[1]), 0.3).unwrap();
    let parameters: BTreeMap<String, HostTensor> = in_memory
        .tensors()
        .map(|t| {
            let values = match t.data {
                lmc_interp::TensorData::Float(values) => values.to_vec(),
                lmc_interp::TensorData::Carried(_) => {
                    panic!("no integer tensors in a BERT classifier")
                }
            };
            (
                t.name.to_string(),
                HostTensor::new(t.shape.to_vec(), values),
            )
        })
        .collect();
    let expected = classifier_from_parameters::<Flex>(&config(), 2, parameters, &device).unwrap();
    assert_eq!(logits(&merged.model), logits(&expected));
    assert_ne!(logits(&merged.model), logits(&models[0]));
}

#[test]
fn mismatched_checkpoints_fail_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let device = Default::default();
    let labels = vec!["no".to_string(), "yes".to_string()];
    save_classifier(
        &random_classifier::<Flex>(&config(), 2, 1, &device),
        &config(),
        &labels,
        &dir.path().join("a"),
    )
    .unwrap();
    let wider = BertConfig {
        intermediate_size: 24,
        ..config()
    };
    save_classifier(
        &random_classifier::<Flex>(&wider, 2, 1, &device),
        &wider,
        &labels,
        &dir.path().join("b"),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_lmc"))
        .arg("interpolate")
        .arg(dir.path().join("a"))
        .arg(dir.path().join("b"))
        .args(["--alpha", "0.5", "-o"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("intermediate.dense"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("out").exists(),
        "no partial output on failure"
    );
}
