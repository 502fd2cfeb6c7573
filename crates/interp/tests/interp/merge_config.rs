//! Parsing mergekit configurations: accepted forms, and errors that name the file, the place and
//! the key.

use std::path::Path;

use lmc_interp::{
    ConditionalValue, Dtype, InterpError, MergeConfig, MergeMethod, ParameterSetting,
    ParameterValue, UNSUPPORTED_FEATURES,
};

fn parse(yaml: &str) -> Result<MergeConfig, InterpError> {
    MergeConfig::from_yaml(yaml, "configs/merge.yaml")
}

/// The error's parts, for errors about the configuration.
fn config_error(yaml: &str) -> (Option<(usize, usize)>, String, String, String) {
    let error = parse(yaml).expect_err("the configuration is refused");
    let display = error.to_string();
    match error {
        InterpError::MergeConfig {
            file,
            location,
            key,
            message,
        } => {
            assert_eq!(file, Path::new("configs/merge.yaml"));
            assert!(display.starts_with("`configs/merge.yaml`"), "{display}");
            (location, key, message, display)
        }
        other => panic!("expected a configuration error, got {other}"),
    }
}

const TIES: &str = "\
models:
  - model: runs/seed-1
    parameters:
      weight: 1.0
      density: 0.5
  - model: runs/seed-2
    parameters:
      weight: [{filter: classifier, value: 0}, {value: 0.5}]
      density: 0.7
base_model: bert-base
merge_method: ties
parameters:
  normalize: true
  lambda: 0.9
  int8_mask: true
dtype: bfloat16
out_dtype: torch.float16
tokenizer_source: null
";

#[test]
fn a_mergekit_ties_configuration_parses_with_its_fields() {
    let config = parse(TIES).unwrap();
    assert_eq!(config.merge_method, MergeMethod::Ties);
    assert_eq!(config.base_model.as_deref(), Some("bert-base"));
    assert_eq!(config.dtype, Some(Dtype::BF16));
    assert_eq!(config.out_dtype, Some(Dtype::F16));
    assert_eq!(config.models.len(), 2);
    assert_eq!(config.models[0].model, "runs/seed-1");
    assert_eq!(
        config.models[0].parameters.get("density"),
        Some(&ParameterSetting::Value(ParameterValue::Number(0.5)))
    );
    assert_eq!(
        config.parameters.get("normalize"),
        Some(&ParameterSetting::Value(ParameterValue::Bool(true)))
    );
    assert_eq!(config.yaml(), TIES);
    assert_eq!(config.origin(), Path::new("configs/merge.yaml"));

    let weight = config.models[1].parameters.get("weight").unwrap();
    assert_eq!(
        weight,
        &ParameterSetting::Conditional(vec![
            ConditionalValue {
                filter: Some("classifier".to_owned()),
                value: ParameterValue::Number(0.0),
            },
            ConditionalValue {
                filter: None,
                value: ParameterValue::Number(0.5),
            },
        ])
    );
    // mergekit's evaluate_setting: the first matching condition, by substring of the name.
    assert_eq!(
        weight.for_tensor("classifier.weight"),
        Some(&ParameterValue::Number(0.0))
    );
    assert_eq!(
        weight.for_tensor("bert.pooler.dense.bias"),
        Some(&ParameterValue::Number(0.5))
    );
}

#[test]
fn conditions_without_a_match_fall_through() {
    let config = parse(
        "merge_method: linear\nmodels:\n  - model: a\n    parameters:\n      weight:\n        \
         - filter: attention\n          value: 2\n        - filter: '*'\n          value: 3\n",
    )
    .unwrap();
    let weight = config.models[0].parameters.get("weight").unwrap();
    assert_eq!(
        weight.for_tensor("encoder.layer.0.attention.self.query.weight"),
        Some(&ParameterValue::Number(2.0))
    );
    assert_eq!(
        weight.for_tensor("classifier.bias"),
        Some(&ParameterValue::Number(3.0))
    );
    let only_attention = ParameterSetting::Conditional(vec![ConditionalValue {
        filter: Some("attention".to_owned()),
        value: ParameterValue::Number(1.0),
    }]);
    assert_eq!(only_attention.for_tensor("classifier.bias"), None);
}

#[test]
fn a_syntax_error_names_the_file_line_and_column() {
    let (location, key, message, display) =
        config_error("merge_method: linear\nmodels:\n  - model: a\n  bad indent\n");
    assert_eq!(location, Some((4, 3)), "{display}");
    assert_eq!(key, "models[0]", "where the parser was: {display}");
    assert!(message.contains("expected ':'"), "{display}");
    assert!(display.contains("line 4, column 3"), "{display}");
}

#[test]
fn a_value_of_the_wrong_type_names_its_key_and_place() {
    let (location, key, _, display) = config_error(
        "merge_method: linear\nmodels:\n  - model: a\n    parameters:\n      weight: {x: 1}\n",
    );
    assert_eq!(key, "models[0].parameters.weight", "{display}");
    assert_eq!(location.map(|(line, _)| line), Some(5), "{display}");
    assert!(
        display.contains("key `models[0].parameters.weight`"),
        "{display}"
    );

    let (location, key, _, display) =
        config_error("merge_method: linear\nmodels:\n  - model: [a, b]\n");
    assert_eq!(key, "models[0].model", "{display}");
    assert_eq!(location, Some((3, 12)), "{display}");
}

#[test]
fn parameters_of_the_wrong_kind_are_refused_at_their_place() {
    for (parameters, key, line, expected) in [
        (
            "{weight: abc}",
            "models[0].parameters.weight",
            5,
            "`weight` must be a number, not \"abc\"",
        ),
        (
            "{density: [{filter: x, value: yes}]}",
            "models[0].parameters.density[0].value",
            5,
            "must be a number, not true",
        ),
        (
            "{normalize: maybe}",
            "parameters.normalize",
            6,
            "must be true or false",
        ),
        (
            "{consensus_method: majority}",
            "parameters.consensus_method",
            6,
            "must be `sum` or `count`",
        ),
    ] {
        let (model_parameters, top_parameters) = if key.starts_with("models") {
            (parameters, "{}")
        } else {
            ("{}", parameters)
        };
        let yaml = format!(
            "merge_method: ties\nbase_model: b\nmodels:\n  - model: a\n    parameters: {model_parameters}\n\
             parameters: {top_parameters}\n"
        );
        let (location, found_key, message, display) = config_error(&yaml);
        assert_eq!(found_key, key, "{display}");
        assert_eq!(location.map(|(l, _)| l), Some(line), "{display}");
        assert!(message.contains(expected), "{display}");
    }
    // Parameters no method reads take any value, as in mergekit.
    parse("merge_method: linear\nmodels:\n  - model: a\nparameters: {gamma: abc, epsilon: [{value: x}]}\n")
        .unwrap();
}

#[test]
fn a_misspelt_field_is_refused_by_name() {
    let (location, key, message, display) = config_error(
        "merge_method: linear\nmodels:\n  - model: a\n    paramters:\n      weight: 1\n",
    );
    assert_eq!(key, "models[0].paramters", "{display}");
    assert_eq!(location, Some((4, 5)), "{display}");
    assert!(message.contains("unknown field `paramters`"), "{display}");

    let (_, key, _, display) = config_error("merge_methd: linear\nmodels:\n  - model: a\n");
    assert_eq!(key, "merge_methd", "{display}");
}

#[test]
fn missing_required_fields_are_named() {
    let (_, key, message, _) = config_error("models:\n  - model: a\n");
    assert_eq!(key, "", "the whole file");
    assert!(
        message.contains("missing field `merge_method`"),
        "{message}"
    );
    let (_, key, message, _) = config_error("merge_method: linear\n");
    assert_eq!(key, "models");
    assert!(message.contains("slices"), "{message}");
    let (_, key, message, _) = config_error("merge_method: linear\nmodels: []\n");
    assert_eq!(
        (key.as_str(), message.as_str()),
        ("models", "the list of models is empty")
    );
    for method in ["slerp", "task_arithmetic", "ties"] {
        let (_, key, message, _) =
            config_error(&format!("merge_method: {method}\nmodels:\n  - model: a\n"));
        assert_eq!(key, "base_model");
        assert!(message.contains(method), "{message}");
    }
}

#[test]
fn unsupported_top_level_fields_are_refused_by_name_at_their_place() {
    let slices = "merge_method: slerp\nbase_model: a\nslices:\n  - sources:\n      - model: a\n        \
                  layer_range: [0, 12]\n";
    let (location, key, message, display) = config_error(slices);
    assert_eq!(key, "slices", "{display}");
    assert_eq!(location.map(|(line, _)| line), Some(4), "{display}");
    assert!(
        message.starts_with("`slices` is not supported"),
        "{display}"
    );

    for (field, value) in [
        ("modules", "{text: {models: [{model: a}]}}"),
        ("tokenizer_source", "union"),
        ("tokenizer", "{source: base}"),
        ("chat_template", "chatml"),
    ] {
        let yaml = format!("merge_method: linear\nmodels:\n  - model: a\n{field}: {value}\n");
        let (location, key, message, display) = config_error(&yaml);
        assert_eq!(key, field, "{display}");
        assert_eq!(location.map(|(line, _)| line), Some(4), "{display}");
        assert!(
            message.starts_with(&format!("`{field}` is not supported")),
            "{display}"
        );
    }
    // Null is what mergekit writes for an absent field: accepted.
    parse("merge_method: linear\nmodels:\n  - model: a\nslices: null\nchat_template: ~\n").unwrap();
}

#[test]
fn gradients_are_refused_with_the_alternative() {
    let yaml = "merge_method: slerp\nbase_model: a\nmodels:\n  - model: a\n  - model: b\n\
                parameters:\n  t: [0, 0.5, 1]\n";
    let (location, key, message, display) = config_error(yaml);
    assert_eq!(key, "parameters.t[0]", "{display}");
    assert_eq!(location, Some((7, 7)), "{display}");
    assert!(
        message.contains("gradient values are not supported"),
        "{display}"
    );
    assert!(message.contains("filter"), "{display}");

    // A gradient inside a condition, too.
    let yaml = "merge_method: slerp\nbase_model: a\nmodels:\n  - model: a\n  - model: b\n\
                parameters:\n  t:\n    - filter: self_attn\n      value: [0, 1]\n    - value: 0.5\n";
    let (_, key, message, display) = config_error(yaml);
    assert!(key.starts_with("parameters.t"), "{display}");
    assert!(message.contains("gradient"), "{display}");
}

#[test]
fn lora_revisions_methods_and_dtypes_lmc_lacks_are_refused() {
    let (_, key, message, display) =
        config_error("merge_method: linear\nmodels:\n  - model: base+adapter\n");
    assert_eq!(key, "models[0].model", "{display}");
    assert!(message.contains("LoRA"), "{display}");
    let (_, key, message, display) =
        config_error("merge_method: slerp\nbase_model: org/bert@main\nmodels:\n  - model: a\n");
    assert_eq!(key, "base_model", "{display}");
    assert!(message.contains("revision"), "{display}");
    let (location, key, message, display) =
        config_error("models:\n  - model: a\nmerge_method: dare_ties\n");
    assert_eq!(
        (key.as_str(), location),
        ("merge_method", Some((3, 15))),
        "{display}"
    );
    assert!(
        message.contains("`dare_ties` is not supported"),
        "{display}"
    );
    assert!(
        message.contains("linear, slerp, task_arithmetic and ties"),
        "{display}"
    );
    let (_, key, message, display) =
        config_error("merge_method: linear\nmodels:\n  - model: a\ndtype: int64\n");
    assert_eq!(key, "dtype", "{display}");
    assert!(
        message.contains("float32, float16 or bfloat16"),
        "{display}"
    );
}

#[test]
fn odd_parameter_forms_are_refused() {
    for (value, expected) in [
        ("null", "cannot be null"),
        ("[]", "empty list"),
        ("{filter: a, value: 1}", "must be an item of a list"),
        ("[{filter: a, value: 1, extra: 2}]", "unknown field `extra`"),
    ] {
        let yaml = format!(
            "merge_method: linear\nmodels:\n  - model: a\n    parameters:\n      weight: {value}\n"
        );
        let (_, key, message, display) = config_error(&yaml);
        assert!(key.starts_with("models[0].parameters.weight"), "{display}");
        assert!(message.contains(expected), "{value}: {display}");
    }
}

#[test]
fn a_model_listed_twice_is_refused() {
    let (_, key, message, _) =
        config_error("merge_method: linear\nmodels:\n  - model: a\n  - model: b\n  - model: a\n");
    assert_eq!(key, "models[2].model");
    assert!(message.contains("listed twice"), "{message}");
}

#[test]
fn every_refused_feature_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/merge.md"))
        .expect("docs/merge.md exists");
    let doc = doc.to_lowercase();
    for (feature, _) in UNSUPPORTED_FEATURES {
        assert!(
            doc.contains(feature),
            "docs/merge.md does not mention `{feature}`"
        );
    }
}

#[test]
fn loading_a_missing_file_names_it() {
    let error = MergeConfig::load("/nonexistent/merge.yaml").unwrap_err();
    assert!(matches!(error, InterpError::Read { .. }));
    assert!(error.to_string().contains("/nonexistent/merge.yaml"));
}
