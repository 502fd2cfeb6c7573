//! Loading and saving Hugging Face checkpoints: round trips, key variants, and every kind of
//! mismatch reported by name. Uses a tiny random BERT so that it runs in milliseconds.

use std::collections::BTreeMap;
use std::path::Path;

use burn::backend::Flex;
use burn::tensor::Tensor;
use lmc_bert::{
    BertClassifier, BertConfig, BertError, BertInput, HeadSpec, HostTensor, load_classifier,
    random_classifier, save_classifier, write_safetensors,
};

fn tiny_config() -> BertConfig {
    BertConfig {
        max_position_embeddings: 32,
        ..BertConfig::sized(64, 16, 2, 2, 32)
    }
}

fn labels(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("class_{i}")).collect()
}

fn sample_input() -> BertInput<Flex> {
    BertInput::from_rows(
        &[vec![2, 17, 33, 5, 3, 9, 3], vec![2, 40, 3, 11, 3, 0, 0]],
        &[vec![0, 0, 0, 0, 1, 1, 1], vec![0, 0, 0, 1, 1, 0, 0]],
        &[vec![1; 7], vec![1, 1, 1, 1, 1, 0, 0]],
        &Default::default(),
    )
}

fn logits(model: &BertClassifier<Flex>) -> Vec<f32> {
    let out: Tensor<Flex, 2> = model.forward(sample_input());
    out.into_data().into_vec().unwrap()
}

/// A saved tiny checkpoint whose tensors the test may edit before loading.
struct TinyCheckpoint {
    dir: tempfile::TempDir,
    tensors: BTreeMap<String, HostTensor>,
}

impl TinyCheckpoint {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let model = random_classifier::<Flex>(&tiny_config(), 3, 7, &Default::default());
        save_classifier(&model, &tiny_config(), &labels(3), dir.path()).unwrap();
        Self {
            dir,
            tensors: model.hf_parameters().into_iter().collect(),
        }
    }

    fn rewrite(&self) {
        let tensors: Vec<(String, HostTensor)> = self.tensors.clone().into_iter().collect();
        write_safetensors(&self.dir.path().join("model.safetensors"), &tensors).unwrap();
    }

    fn load(
        &self,
        num_labels: Option<usize>,
    ) -> Result<lmc_bert::LoadedClassifier<Flex>, BertError> {
        load_classifier(
            self.dir.path(),
            HeadSpec {
                num_labels,
                seed: 11,
            },
            &Default::default(),
        )
    }
}

fn error_text(result: Result<lmc_bert::LoadedClassifier<Flex>, BertError>) -> String {
    match result {
        Ok(_) => panic!("the load should have failed"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn save_then_load_reproduces_outputs_exactly() {
    let checkpoint = TinyCheckpoint::new();
    let original = random_classifier::<Flex>(&tiny_config(), 3, 7, &Default::default());
    let loaded = checkpoint.load(None).unwrap();
    assert_eq!(loaded.model.num_labels(), 3);
    assert!(loaded.report.initialised.is_empty());
    assert_eq!(loaded.report.loaded, 5 + 16 * 2 + 2 + 2);
    assert_eq!(logits(&loaded.model), logits(&original));
    let config = BertConfig::load(&checkpoint.dir.path().join("config.json")).unwrap();
    assert_eq!(config.num_labels, Some(3));
    assert_eq!(config.id2label.unwrap()["2"], "class_2");
    assert_eq!(
        config.extra["architectures"],
        serde_json::json!(["BertForSequenceClassification"])
    );
}

#[test]
fn parameter_names_follow_transformers() {
    let checkpoint = TinyCheckpoint::new();
    let names: Vec<&str> = checkpoint.tensors.keys().map(String::as_str).collect();
    for expected in [
        "bert.embeddings.word_embeddings.weight",
        "bert.embeddings.LayerNorm.bias",
        "bert.encoder.layer.1.attention.self.query.weight",
        "bert.encoder.layer.1.attention.output.LayerNorm.weight",
        "bert.encoder.layer.0.intermediate.dense.weight",
        "bert.pooler.dense.bias",
        "classifier.weight",
    ] {
        assert!(names.contains(&expected), "no `{expected}` in {names:?}");
    }
    assert_eq!(
        checkpoint.tensors["bert.encoder.layer.0.intermediate.dense.weight"].shape,
        [32, 16]
    );
    assert_eq!(checkpoint.tensors["classifier.weight"].shape, [3, 16]);
}

#[test]
fn keys_without_bert_prefix_and_without_head_load_with_a_seeded_head() {
    let mut checkpoint = TinyCheckpoint::new();
    checkpoint.tensors = checkpoint
        .tensors
        .iter()
        .filter(|(k, _)| !k.starts_with("classifier."))
        .map(|(k, v)| (k.trim_start_matches("bert.").to_string(), v.clone()))
        .collect();
    checkpoint.rewrite();
    let first = checkpoint.load(Some(2)).unwrap();
    assert_eq!(
        first.report.initialised,
        ["classifier.weight", "classifier.bias"]
    );
    assert_eq!(first.model.num_labels(), 2);
    let second = checkpoint.load(Some(2)).unwrap();
    assert_eq!(
        logits(&first.model),
        logits(&second.model),
        "the head seed must fix the head"
    );
}

#[test]
fn missing_pooler_is_initialised_and_reported() {
    let mut checkpoint = TinyCheckpoint::new();
    checkpoint
        .tensors
        .retain(|k, _| !k.starts_with("bert.pooler."));
    checkpoint.rewrite();
    let loaded = checkpoint.load(None).unwrap();
    assert_eq!(
        loaded.report.initialised,
        ["bert.pooler.dense.weight", "bert.pooler.dense.bias"]
    );
}

#[test]
fn missing_encoder_key_is_an_error_naming_it() {
    let mut checkpoint = TinyCheckpoint::new();
    checkpoint
        .tensors
        .remove("bert.encoder.layer.1.output.dense.weight");
    checkpoint.rewrite();
    let text = error_text(checkpoint.load(None));
    assert!(
        text.contains("key `bert.encoder.layer.1.output.dense.weight` is missing"),
        "{text}"
    );
}

#[test]
fn unexpected_key_is_an_error_naming_it() {
    let mut checkpoint = TinyCheckpoint::new();
    checkpoint.tensors.insert(
        "bert.encoder.layer.7.output.dense.weight".into(),
        HostTensor::new(vec![2], vec![0.0; 2]),
    );
    checkpoint.rewrite();
    let text = error_text(checkpoint.load(None));
    assert!(
        text.contains(
            "key `bert.encoder.layer.7.output.dense.weight` is not a parameter of the model"
        ),
        "{text}"
    );
}

#[test]
fn wrong_shape_is_an_error_naming_key_and_shapes() {
    let mut checkpoint = TinyCheckpoint::new();
    checkpoint.tensors.insert(
        "bert.embeddings.LayerNorm.weight".into(),
        HostTensor::new(vec![8], vec![1.0; 8]),
    );
    checkpoint.rewrite();
    let text = error_text(checkpoint.load(None));
    assert!(
        text.contains(
            "key `bert.embeddings.LayerNorm.weight` has shape [8], the model expects [16]"
        ),
        "{text}"
    );
}

#[test]
fn head_of_another_size_is_an_error() {
    let checkpoint = TinyCheckpoint::new();
    let text = error_text(checkpoint.load(Some(2)));
    assert!(
        text.contains("key `classifier.weight` has shape [3, 16], the model expects [2, 16]"),
        "{text}"
    );
}

#[test]
fn every_problem_is_listed_in_one_error() {
    let mut checkpoint = TinyCheckpoint::new();
    checkpoint
        .tensors
        .remove("bert.encoder.layer.0.attention.self.key.bias");
    checkpoint
        .tensors
        .insert("bert.extra".into(), HostTensor::new(vec![1], vec![0.0]));
    checkpoint.rewrite();
    match checkpoint.load(None) {
        Err(BertError::Mismatch { problems, .. }) => assert_eq!(problems.len(), 2, "{problems:?}"),
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn truncated_weights_file_is_an_error_naming_the_file() {
    let checkpoint = TinyCheckpoint::new();
    let path = checkpoint.dir.path().join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let text = error_text(checkpoint.load(None));
    assert!(
        text.contains(&path.display().to_string()) && text.contains("cannot read weights"),
        "{text}"
    );
}

#[test]
fn pretraining_heads_and_integer_buffers_are_reported_not_loaded() {
    let checkpoint = TinyCheckpoint::new();
    let path = checkpoint.dir.path().join("model.safetensors");
    let mut tensors: Vec<(String, Vec<usize>, safetensors::Dtype, Vec<u8>)> = checkpoint
        .tensors
        .iter()
        .map(|(k, t)| {
            (
                k.clone(),
                t.shape.clone(),
                safetensors::Dtype::F32,
                t.values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            )
        })
        .collect();
    tensors.push((
        "cls.predictions.bias".into(),
        vec![64],
        safetensors::Dtype::F32,
        vec![0; 64 * 4],
    ));
    tensors.push((
        "bert.embeddings.position_ids".into(),
        vec![1, 32],
        safetensors::Dtype::I64,
        (0..32i64).flat_map(|v| v.to_le_bytes()).collect(),
    ));
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(k, shape, dtype, data)| {
            (
                k.clone(),
                safetensors::tensor::TensorView::new(*dtype, shape.clone(), data).unwrap(),
            )
        })
        .collect();
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
    let loaded = checkpoint.load(None).unwrap();
    assert_eq!(
        loaded.report.dropped_pretraining_heads,
        ["cls.predictions.bias"]
    );
    assert_eq!(
        loaded.report.ignored_buffers,
        ["bert.embeddings.position_ids"]
    );
}

#[test]
fn unsupported_config_is_an_error_naming_the_field() {
    let checkpoint = TinyCheckpoint::new();
    let path = checkpoint.dir.path().join("config.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"gelu\"", "\"relu\"");
    std::fs::write(&path, text).unwrap();
    let error = error_text(checkpoint.load(None));
    assert!(
        error.contains("hidden_act `relu` is not supported"),
        "{error}"
    );
}

#[test]
fn directory_without_weights_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    tiny_config().save(&dir.path().join("config.json")).unwrap();
    let result = load_classifier::<Flex>(
        dir.path(),
        HeadSpec {
            num_labels: Some(2),
            seed: 0,
        },
        &Default::default(),
    );
    assert!(
        matches!(result, Err(BertError::NoWeights { .. })),
        "{result:?}"
    );
}

#[test]
fn random_initialisation_depends_on_the_seed_only() {
    let device = Default::default();
    let a = random_classifier::<Flex>(&tiny_config(), 3, 1, &device);
    let b = random_classifier::<Flex>(&tiny_config(), 3, 1, &device);
    let c = random_classifier::<Flex>(&tiny_config(), 3, 2, &device);
    assert_eq!(logits(&a), logits(&b));
    assert_ne!(logits(&a), logits(&c));
    let weights = a.hf_parameters();
    let (_, word) = weights
        .iter()
        .find(|(k, _)| k == "bert.embeddings.word_embeddings.weight")
        .unwrap();
    let std = (word
        .values
        .iter()
        .map(|v| f64::from(*v).powi(2))
        .sum::<f64>()
        / word.values.len() as f64)
        .sqrt();
    assert!((std - 0.02).abs() < 0.002, "embedding std {std}");
    let (_, gamma) = weights
        .iter()
        .find(|(k, _)| k == "bert.embeddings.LayerNorm.weight")
        .unwrap();
    assert!(gamma.values.iter().all(|&v| v == 1.0));
}

#[test]
fn save_refuses_label_names_that_do_not_fit_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let model = random_classifier::<Flex>(&tiny_config(), 3, 7, &Default::default());
    let result = save_classifier(&model, &tiny_config(), &labels(2), Path::new(dir.path()));
    assert!(matches!(result, Err(BertError::Config { .. })));
}

#[test]
fn pytorch_bin_from_transformers_gives_its_logits() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-bert-pytorch");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let rows =
        |key: &str| -> Vec<Vec<i64>> { serde_json::from_value(expected[key].clone()).unwrap() };
    let loaded = load_classifier::<Flex>(
        &dir,
        HeadSpec {
            num_labels: None,
            seed: 0,
        },
        &Default::default(),
    )
    .unwrap();
    assert_eq!(
        loaded.model.num_labels(),
        3,
        "num_labels comes from id2label"
    );
    assert!(loaded.report.initialised.is_empty());
    let input = BertInput::<Flex>::from_rows(
        &rows("input_ids"),
        &rows("token_type_ids"),
        &rows("attention_mask"),
        &Default::default(),
    );
    let actual: Vec<f32> = loaded.model.forward(input).into_data().into_vec().unwrap();
    let reference: Vec<Vec<f32>> = serde_json::from_value(expected["logits"].clone()).unwrap();
    for (a, r) in actual.iter().zip(reference.iter().flatten()) {
        assert!((a - r).abs() < 1e-6, "logit {a} vs transformers {r}");
    }
}

#[test]
fn saved_weights_carry_the_metadata_transformers_requires() {
    let checkpoint = TinyCheckpoint::new();
    let bytes = std::fs::read(checkpoint.dir.path().join("model.safetensors")).unwrap();
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let format = metadata
        .metadata()
        .as_ref()
        .and_then(|m| m.get("format"))
        .map(String::as_str);
    assert_eq!(
        format,
        Some("pt"),
        "transformers refuses safetensors without format=pt"
    );
}

#[test]
fn parameters_missing_a_key_are_refused_naming_it() {
    let mut parameters: BTreeMap<String, HostTensor> =
        random_classifier::<Flex>(&tiny_config(), 3, 7, &Default::default())
            .hf_parameters()
            .into_iter()
            .collect();
    parameters.remove("bert.pooler.dense.bias");
    let result = lmc_bert::classifier_from_parameters::<Flex>(
        &tiny_config(),
        3,
        parameters,
        &Default::default(),
    );
    match result {
        Err(BertError::Mismatch { problems, .. }) => {
            assert_eq!(problems, ["key `bert.pooler.dense.bias` is missing"])
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
}
