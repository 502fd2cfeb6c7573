//! Merge configurations in mergekit's YAML format: parsing, parameter look-up, and what lmc does
//! not support.
//!
//! `lmc merge CONFIG.yaml OUT_DIR` reads the file mergekit's `mergekit-yaml` reads, with the same
//! field names, defaults and parameter look-up, so that a mergekit configuration for a BERT
//! classifier runs unchanged (semantics checked against mergekit's source, `mergekit/config.py`,
//! `plan.py` and `merge_methods/`, at commit a6e40288 of 2026-06-17):
//!
//! ```yaml
//! models:
//!   - model: runs/seed-1            # a checkpoint directory or a .safetensors file
//!     parameters: {weight: 1.0, density: 0.5}
//!   - model: runs/seed-2
//!     parameters:
//!       weight: [{filter: classifier, value: 0.0}, {value: 1.0}]   # per-tensor values
//! base_model: bert-base-uncased-local
//! merge_method: ties                # linear | slerp | task_arithmetic | ties
//! parameters: {normalize: true, lambda: 1.0}
//! dtype: float32                    # float32 | float16 | bfloat16 (optional)
//! out_dtype: bfloat16               # optional
//! ```
//!
//! # Fields
//!
//! Supported, with mergekit's meaning:
//!
//! - `merge_method`: `linear`, `slerp`, `task_arithmetic` or `ties` (see [`crate::methods`]).
//! - `models`: a list of `{model, parameters}`. `model` is a path, relative to the directory the
//!   caller names (`lmc merge` passes the working directory, as mergekit does).
//! - `base_model`: a path. As in mergekit it is added to the inputs when `models` does not list
//!   it, it is `t = 0` of `slerp`, the origin of task vectors, and the source of the copied
//!   `config.json`, tokenizer files and integer buffers (otherwise the first model is).
//! - `parameters` (top level) and `models[].parameters`: each value is a number, a boolean, a
//!   string, or a list of `{filter, value}` conditions: the first condition whose `filter` is
//!   absent, `*`, or a substring of the tensor's name gives the value for that tensor. A
//!   per-model value wins over a top-level one, and a top-level `weight` or `density` applies to
//!   every model that has none. Per method: `linear` reads `weight` (required) and `normalize`
//!   (default true); `slerp` reads `t` (required); `task_arithmetic` reads `weight` (required
//!   except for the base), `normalize` (default false), `lambda` (default 1) and `int8_mask`;
//!   `ties` reads `weight`, `density` (default 1), `normalize` (default true), `lambda`,
//!   `rescale` (default false), `int8_mask`, and lmc's `consensus_method` (`sum`, the default and
//!   mergekit's only choice, or `count`). `int8_mask` only changes the storage type of mergekit's
//!   sign mask, never a result: it is accepted and has no effect. The values of these parameters
//!   are checked as the YAML is parsed (`weight: abc` is an error at its line). Parameters no
//!   method reads take any value and are ignored, as mergekit ignores them; those the chosen
//!   method does not read are listed by
//!   [`ModelMerge::ignored_parameters`](crate::ModelMerge::ignored_parameters).
//! - `dtype`: inputs are rounded to this type as they are read, as mergekit does; lmc then
//!   computes in `f32` where mergekit computes in `dtype`. Also the default output type.
//! - `out_dtype`: the output's float type. Without `out_dtype` and `dtype`, each tensor keeps the
//!   stored type of the base (or first) model.
//!
//! Not supported, each refused with an error that names it ([`UNSUPPORTED_FEATURES`]):
//! `slices`, `modules`, `tokenizer_source`, `tokenizer`, `chat_template`, gradient values (a
//! list of numbers such as `t: [0, 0.5, 1]`), LoRA references (`model+adapter`), revisions and
//! Hugging Face Hub ids (`model@rev`, a path that does not exist), and every merge method but the
//! four above. Fields mergekit does not know either are refused too (mergekit ignores them), so
//! that a misspelt field is an error rather than a silent default.
//!
//! # The YAML crate
//!
//! serde_yaml, which most Rust code used, is deprecated; serde_yml is unmaintained (its last
//! release is a shim that forwards to another crate). Of the maintained choices, serde_norway
//! keeps serde_yaml's API on `unsafe-libyaml-norway`, libyaml translated to unsafe Rust;
//! serde-saphyr (`=2.2.0`) is pure Rust with `unsafe` forbidden, fuzzed, actively released, and
//! its errors carry line and column. It does not report the key path of an error, so
//! serde_path_to_error (dtolnay's, one small crate) supplies it: every YAML error names the file,
//! the line and column, and the key, for example
//!
//! ```text
//! `merge.yaml`, line 4, column 15, key `models[0].parameters.weight`: invalid floating point
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::Dtype;
use crate::error::InterpError;

/// The merge methods lmc implements, under mergekit's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MergeMethod {
    /// Weighted average: Σ wᵢ·θᵢ, divided by Σ wᵢ when `normalize` (the default).
    Linear,
    /// Spherical interpolation between the base model (`t = 0`) and one other model.
    Slerp,
    /// θ_base + λ·Σ wᵢ·(θᵢ − θ_base).
    TaskArithmetic,
    /// TIES: task vectors trimmed to their largest entries, a sign elected per entry, and the
    /// agreeing entries averaged.
    Ties,
}

impl MergeMethod {
    /// Every method, in the order the documentation lists them.
    pub const ALL: [MergeMethod; 4] = [
        MergeMethod::Linear,
        MergeMethod::Slerp,
        MergeMethod::TaskArithmetic,
        MergeMethod::Ties,
    ];

    /// The method's name in a configuration (`linear`, `slerp`, `task_arithmetic`, `ties`).
    pub fn name(self) -> &'static str {
        match self {
            MergeMethod::Linear => "linear",
            MergeMethod::Slerp => "slerp",
            MergeMethod::TaskArithmetic => "task_arithmetic",
            MergeMethod::Ties => "ties",
        }
    }

    /// The method called `name`, if lmc implements it.
    pub fn from_name(name: &str) -> Option<MergeMethod> {
        MergeMethod::ALL
            .into_iter()
            .find(|method| method.name() == name)
    }

    /// Whether the method starts from `base_model` (task vectors, or slerp's `t = 0`).
    pub fn needs_base_model(self) -> bool {
        !matches!(self, MergeMethod::Linear)
    }

    /// The parameters the method reads once per tensor from the top-level `parameters`
    /// (mergekit's `parameters()`); per-model values of these are ignored, as in mergekit.
    pub fn global_parameter_names(self) -> &'static [&'static str] {
        match self {
            MergeMethod::Linear => &["normalize"],
            MergeMethod::Slerp => &["t"],
            MergeMethod::TaskArithmetic => &["normalize", "lambda", "rescale", "int8_mask"],
            MergeMethod::Ties => &[
                "normalize",
                "lambda",
                "rescale",
                "int8_mask",
                "consensus_method",
            ],
        }
    }

    /// The parameters the method reads for each model, from its own `parameters` or else from
    /// the top-level ones (mergekit's `tensor_parameters()`).
    pub fn model_parameter_names(self) -> &'static [&'static str] {
        match self {
            MergeMethod::Linear => &["weight"],
            MergeMethod::Slerp => &[],
            MergeMethod::TaskArithmetic | MergeMethod::Ties => &["weight", "density"],
        }
    }
}

impl fmt::Display for MergeMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// mergekit features lmc refuses, each with the reason given in its error. The first column is
/// the field or form as a configuration spells it.
pub const UNSUPPORTED_FEATURES: [(&str, &str); 9] = [
    (
        "slices",
        "layer slices need the model's layer layout, which lmc-interp does not know; list whole \
         models under `models:`",
    ),
    (
        "modules",
        "per-module merges need the model's module layout, which lmc-interp does not know; list \
         whole models under `models:`",
    ),
    (
        "tokenizer_source",
        "lmc merges no tokenizers: remove the field; the output takes the base (or first) \
         model's tokenizer files, which is what `tokenizer_source: base` gives when the models \
         share one vocabulary",
    ),
    (
        "tokenizer",
        "lmc merges no tokenizers: remove the field; the output takes the base (or first) \
         model's tokenizer files",
    ),
    (
        "chat_template",
        "lmc copies tokenizer files as they are and sets no chat template",
    ),
    (
        "gradient",
        "a list of numbers (a gradient such as `t: [0, 0.5, 1]`) is spread by mergekit over the \
         layer index, which needs the model's architecture; give one number, or per-tensor \
         values as a list of `{filter, value}` conditions",
    ),
    (
        "lora",
        "`model+adapter` (a LoRA to apply first) is not supported: merge the adapter into its \
         model and give the merged checkpoint",
    ),
    (
        "revision",
        "`model@revision` names a Hugging Face Hub revision; lmc merges local checkpoints only",
    ),
    (
        "merge_method",
        "lmc implements linear, slerp, task_arithmetic and ties",
    ),
];

/// The reason [`UNSUPPORTED_FEATURES`] gives for `feature`.
fn unsupported_reason(feature: &str) -> &'static str {
    UNSUPPORTED_FEATURES
        .iter()
        .find(|(name, _)| *name == feature)
        .map(|(_, reason)| *reason)
        .expect("every refused feature is listed")
}

/// A parsed merge configuration: the YAML's fields, with mergekit's defaults still unapplied
/// (they depend on the method and are applied per tensor by [`ModelMerge`](crate::ModelMerge)).
#[derive(Debug, Clone, PartialEq)]
pub struct MergeConfig {
    /// The method.
    pub merge_method: MergeMethod,
    /// The input models, in the order given.
    pub models: Vec<ModelSpec>,
    /// `base_model`, as written.
    pub base_model: Option<String>,
    /// `dtype`: the type inputs are rounded to as they are read, and the default output type.
    pub dtype: Option<Dtype>,
    /// `out_dtype`: the output's float type.
    pub out_dtype: Option<Dtype>,
    /// Top-level `parameters`.
    pub parameters: Parameters,
    origin: PathBuf,
    yaml: String,
}

/// One entry of `models`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// The model's path, as written.
    pub model: String,
    /// Its `parameters`.
    pub parameters: Parameters,
}

/// A `parameters` map: setting by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parameters(BTreeMap<String, ParameterSetting>);

/// A parameter's setting: one value for every tensor, or values chosen by tensor name.
#[derive(Debug, Clone, PartialEq)]
pub enum ParameterSetting {
    /// One value for every tensor.
    Value(ParameterValue),
    /// mergekit's conditional form, a list of `{filter, value}`: the first condition that matches
    /// the tensor's name gives its value.
    Conditional(Vec<ConditionalValue>),
}

/// A parameter's value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParameterValue {
    /// A number (YAML integers included).
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A string, e.g. `consensus_method: count`.
    Text(String),
}

/// One `{filter, value}` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionalValue {
    /// A substring of the tensor names the condition applies to; `None` or `*` match every tensor.
    pub filter: Option<String>,
    /// The value for those tensors.
    pub value: ParameterValue,
}

impl MergeConfig {
    /// Reads and parses a configuration file.
    pub fn load(path: impl AsRef<Path>) -> Result<MergeConfig, InterpError> {
        let path = path.as_ref();
        let yaml = std::fs::read_to_string(path).map_err(|source| InterpError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        MergeConfig::from_yaml(&yaml, path)
    }

    /// Parses YAML text; `origin` is the file it came from, for error messages and the record
    /// of the merge.
    ///
    /// Errors name the file, the line and column, and the key (`models[1].parameters.weight`);
    /// unsupported fields are refused here, by name.
    pub fn from_yaml(yaml: &str, origin: impl AsRef<Path>) -> Result<MergeConfig, InterpError> {
        let origin = origin.as_ref().to_path_buf();
        let mut key = String::new();
        let parsed = serde_saphyr::with_deserializer_from_str(yaml, |deserializer| {
            serde_path_to_error::deserialize::<_, RawConfig>(deserializer).map_err(|error| {
                key = error.path().to_string();
                error.into_inner()
            })
        });
        let raw = parsed.map_err(|error| yaml_error(&origin, &key, &error))?;
        raw.into_config(origin, yaml)
    }

    /// The file the configuration came from.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// The YAML text, as read.
    pub fn yaml(&self) -> &str {
        &self.yaml
    }

    /// An error about this configuration's `key`.
    pub(crate) fn error(&self, key: impl Into<String>, message: impl Into<String>) -> InterpError {
        InterpError::MergeConfig {
            file: self.origin.clone(),
            location: None,
            key: key.into(),
            message: message.into(),
        }
    }
}

impl Parameters {
    /// The setting called `name`.
    pub fn get(&self, name: &str) -> Option<&ParameterSetting> {
        self.0.get(name)
    }

    /// Settings by name, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParameterSetting)> {
        self.0
            .iter()
            .map(|(name, setting)| (name.as_str(), setting))
    }

    /// Whether no parameter is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<const N: usize> From<[(&str, ParameterSetting); N]> for Parameters {
    fn from(settings: [(&str, ParameterSetting); N]) -> Self {
        Parameters(
            settings
                .into_iter()
                .map(|(name, setting)| (name.to_owned(), setting))
                .collect(),
        )
    }
}

impl ParameterSetting {
    /// The value for the tensor called `tensor`, as mergekit's `evaluate_setting` chooses it: the
    /// value itself, or that of the first condition whose filter is absent, `*`, or a substring
    /// of `tensor`. `None` when no condition matches (the look-up then falls back to the
    /// top-level parameters, then to the method's default).
    pub fn for_tensor(&self, tensor: &str) -> Option<&ParameterValue> {
        match self {
            ParameterSetting::Value(value) => Some(value),
            ParameterSetting::Conditional(conditions) => conditions
                .iter()
                .find(|condition| match condition.filter.as_deref() {
                    None | Some("*") => true,
                    Some(filter) => !tensor.is_empty() && tensor.contains(filter),
                })
                .map(|condition| &condition.value),
        }
    }
}

impl fmt::Display for ParameterValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParameterValue::Number(number) => write!(f, "{number}"),
            ParameterValue::Bool(flag) => write!(f, "{flag}"),
            ParameterValue::Text(text) => write!(f, "{text:?}"),
        }
    }
}

/// The error for YAML that did not parse into a configuration.
fn yaml_error(origin: &Path, key: &str, error: &serde_saphyr::Error) -> InterpError {
    let location = error
        .location()
        .map(|location| (location.line() as usize, location.column() as usize));
    let mut message = error.without_snippet().to_string();
    if let Some((line, column)) = location {
        // serde-saphyr appends the location, which the error reports on its own.
        let suffix = format!(" at line {line}, column {column}");
        if let Some(stripped) = message.strip_suffix(&suffix) {
            message = stripped.to_owned();
        }
    }
    // serde_path_to_error writes `.` for the root and `?` for a key it never read (the parser
    // failed first): keep the part of the path that was reached.
    let key = key.trim_end_matches('?').trim_end_matches('.');
    InterpError::MergeConfig {
        file: origin.to_path_buf(),
        location,
        key: key.to_owned(),
        message,
    }
}

/// The configuration as the YAML gives it: every field mergekit's `MergeConfiguration` has.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    merge_method: MethodName,
    #[serde(default)]
    models: Option<Vec<RawModel>>,
    #[serde(default)]
    base_model: Option<ModelRef>,
    #[serde(default)]
    dtype: Option<DtypeName>,
    #[serde(default)]
    out_dtype: Option<DtypeName>,
    #[serde(default)]
    parameters: Option<Parameters>,
    #[serde(default, deserialize_with = "reject_slices")]
    #[allow(
        dead_code,
        reason = "only ever null: any other value is refused while parsing"
    )]
    slices: Option<()>,
    #[serde(default, deserialize_with = "reject_modules")]
    #[allow(
        dead_code,
        reason = "only ever null: any other value is refused while parsing"
    )]
    modules: Option<()>,
    #[serde(default, deserialize_with = "reject_tokenizer_source")]
    #[allow(
        dead_code,
        reason = "only ever null: any other value is refused while parsing"
    )]
    tokenizer_source: Option<()>,
    #[serde(default, deserialize_with = "reject_tokenizer")]
    #[allow(
        dead_code,
        reason = "only ever null: any other value is refused while parsing"
    )]
    tokenizer: Option<()>,
    #[serde(default, deserialize_with = "reject_chat_template")]
    #[allow(
        dead_code,
        reason = "only ever null: any other value is refused while parsing"
    )]
    chat_template: Option<()>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    model: ModelRef,
    #[serde(default)]
    parameters: Option<Parameters>,
}

impl RawConfig {
    /// Checks what parsing alone cannot: models are given, none twice, a base where the method
    /// needs one.
    fn into_config(self, origin: PathBuf, yaml: &str) -> Result<MergeConfig, InterpError> {
        let error = |key: &str, message: String| InterpError::MergeConfig {
            file: origin.clone(),
            location: None,
            key: key.to_owned(),
            message,
        };
        let merge_method = self.merge_method.0;
        let models: Vec<ModelSpec> = self
            .models
            .ok_or_else(|| {
                error(
                    "models",
                    "no `models`: lmc merges whole models listed under `models:` (mergekit's \
                     `slices:` and `modules:` are not supported)"
                        .to_owned(),
                )
            })?
            .into_iter()
            .map(|raw| ModelSpec {
                model: raw.model.0,
                parameters: raw.parameters.unwrap_or_default(),
            })
            .collect();
        if models.is_empty() {
            return Err(error("models", "the list of models is empty".to_owned()));
        }
        for (index, spec) in models.iter().enumerate() {
            if let Some(first) = models[..index]
                .iter()
                .position(|other| other.model == spec.model)
            {
                return Err(error(
                    &format!("models[{index}].model"),
                    format!(
                        "`{}` is listed twice (also models[{first}]); mergekit would silently \
                         count it once",
                        spec.model
                    ),
                ));
            }
        }
        let base_model = self.base_model.map(|model| model.0);
        if merge_method.needs_base_model() && base_model.is_none() {
            return Err(error(
                "base_model",
                format!("`{merge_method}` needs a `base_model`"),
            ));
        }
        Ok(MergeConfig {
            merge_method,
            models,
            base_model,
            dtype: self.dtype.map(|name| name.0),
            out_dtype: self.out_dtype.map(|name| name.0),
            parameters: self.parameters.unwrap_or_default(),
            origin,
            yaml: yaml.to_owned(),
        })
    }
}

/// A `merge_method` value.
struct MethodName(MergeMethod);

impl<'de> Deserialize<'de> for MethodName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        MergeMethod::from_name(&name)
            .map(MethodName)
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "merge method `{name}` is not supported: {}",
                    unsupported_reason("merge_method")
                ))
            })
    }
}

/// A `dtype` or `out_dtype` value: mergekit's names, with or without `torch.`.
struct DtypeName(Dtype);

impl<'de> Deserialize<'de> for DtypeName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        let dtype = match name.strip_prefix("torch.").unwrap_or(&name) {
            "float32" => Dtype::F32,
            "float16" => Dtype::F16,
            "bfloat16" => Dtype::BF16,
            _ => {
                return Err(de::Error::custom(format!(
                    "dtype `{name}` is not supported: give float32, float16 or bfloat16"
                )));
            }
        };
        Ok(DtypeName(dtype))
    }
}

/// A model reference: a plain path (mergekit's `+lora` and `@revision` forms are refused).
struct ModelRef(String);

impl<'de> Deserialize<'de> for ModelRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PathVisitor;
        impl Visitor<'_> for PathVisitor {
            type Value = ModelRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a model path")
            }
            fn visit_str<E: de::Error>(self, path: &str) -> Result<ModelRef, E> {
                if path.contains('+') {
                    return Err(E::custom(format!(
                        "`{path}`: {}",
                        unsupported_reason("lora")
                    )));
                }
                if path.contains('@') {
                    return Err(E::custom(format!(
                        "`{path}`: {}",
                        unsupported_reason("revision")
                    )));
                }
                if path.is_empty() {
                    return Err(E::custom("the model path is empty"));
                }
                Ok(ModelRef(path.to_owned()))
            }
        }
        deserializer.deserialize_str(PathVisitor)
    }
}

/// Accepts only an absent or null value for an unsupported field, refusing anything else at its
/// position in the YAML.
struct Reject(&'static str);

impl<'de> Visitor<'de> for Reject {
    type Value = Option<()>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no `{}`", self.0)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(self.refuse())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(self.refuse())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(self.refuse())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(self.refuse())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(self.refuse())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.refuse())
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.refuse())
    }
}

impl Reject {
    fn refuse<E: de::Error>(&self) -> E {
        E::custom(format!(
            "`{}` is not supported: {}",
            self.0,
            unsupported_reason(self.0)
        ))
    }
}

macro_rules! rejecting {
    ($($function:ident => $field:literal),* $(,)?) => {$(
        fn $function<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<()>, D::Error> {
            deserializer.deserialize_any(Reject($field))
        }
    )*};
}

rejecting! {
    reject_slices => "slices",
    reject_modules => "modules",
    reject_tokenizer_source => "tokenizer_source",
    reject_tokenizer => "tokenizer",
    reject_chat_template => "chat_template",
}

impl<'de> Deserialize<'de> for Parameters {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = Parameters;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of parameters")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Parameters, E> {
                Ok(Parameters::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parameters, A::Error> {
                let mut settings = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    let setting = map.next_value_seed(SettingSeed {
                        name: &name,
                        kind: Kind::of(&name),
                    })?;
                    if settings.insert(name.clone(), setting).is_some() {
                        return Err(de::Error::custom(format!("`{name}` is given twice")));
                    }
                }
                Ok(Parameters(settings))
            }
        }
        deserializer.deserialize_map(MapVisitor)
    }
}

/// What a parameter's values must be, checked as they are parsed so that a wrong one is reported
/// at its place in the file.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// `weight`, `density`, `lambda`, `t`.
    Number,
    /// `normalize`, `rescale`, `int8_mask`: a boolean, or a number read as Python reads it.
    Flag,
    /// `consensus_method`: `sum` or `count`.
    Consensus,
    /// Any other parameter: no method reads it, so anything goes, as in mergekit.
    Any,
}

impl Kind {
    fn of(name: &str) -> Kind {
        match name {
            "weight" | "density" | "lambda" | "t" => Kind::Number,
            "normalize" | "rescale" | "int8_mask" => Kind::Flag,
            "consensus_method" => Kind::Consensus,
            _ => Kind::Any,
        }
    }

    fn check<E: de::Error>(self, name: &str, value: ParameterValue) -> Result<ParameterValue, E> {
        use ParameterValue::{Bool, Number, Text};
        match (self, &value) {
            (Kind::Any, _) | (Kind::Number, Number(_)) | (Kind::Flag, Bool(_) | Number(_)) => {
                Ok(value)
            }
            (Kind::Consensus, Text(text)) if text == "sum" || text == "count" => Ok(value),
            (Kind::Number, _) => Err(E::custom(format!("`{name}` must be a number, not {value}"))),
            (Kind::Flag, _) => Err(E::custom(format!(
                "`{name}` must be true or false, not {value}"
            ))),
            (Kind::Consensus, _) => Err(E::custom(format!(
                "`{name}` must be `sum` or `count`, not {value}"
            ))),
        }
    }
}

/// Deserialises the setting of the parameter `name`.
struct SettingSeed<'n> {
    name: &'n str,
    kind: Kind,
}

impl<'de> de::DeserializeSeed<'de> for SettingSeed<'_> {
    type Value = ParameterSetting;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(SettingVisitor(self))
    }
}

/// A parameter setting: a scalar, or a list of conditions. Lists of scalars (gradients) and a
/// lone condition outside a list (which mergekit accepts, then fails on) are refused.
struct SettingVisitor<'n>(SettingSeed<'n>);

impl SettingVisitor<'_> {
    fn scalar<E: de::Error>(self, value: ParameterValue) -> Result<ParameterSetting, E> {
        Ok(ParameterSetting::Value(
            self.0.kind.check(self.0.name, value)?,
        ))
    }
}

impl<'de> Visitor<'de> for SettingVisitor<'_> {
    type Value = ParameterSetting;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a boolean, a string, or a list of `{filter, value}` conditions")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        self.scalar(ParameterValue::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        self.scalar(ParameterValue::Number(value as f64))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        self.scalar(ParameterValue::Number(value as f64))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        self.scalar(ParameterValue::Number(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        self.scalar(ParameterValue::Text(value.to_owned()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(E::custom(
            "a parameter cannot be null: give a value or leave the parameter out",
        ))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut conditions = Vec::new();
        let SettingSeed { name, kind } = self.0;
        while let Some(condition) = seq.next_element_seed(ConditionSeed { name, kind })? {
            conditions.push(condition);
        }
        if conditions.is_empty() {
            return Err(de::Error::custom(
                "an empty list gives no value: give a value or leave the parameter out",
            ));
        }
        Ok(ParameterSetting::Conditional(conditions))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom(
            "a `{filter, value}` condition must be an item of a list: `[{filter: ..., value: \
             ...}, {value: ...}]`",
        ))
    }
}

/// One item of a parameter's list: a `{filter, value}` condition. A scalar item makes the list
/// a gradient.
struct ConditionSeed<'n> {
    name: &'n str,
    kind: Kind,
}

impl<'de> de::DeserializeSeed<'de> for ConditionSeed<'_> {
    type Value = ConditionalValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ConditionSeed<'_> {
    type Value = ConditionalValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a `{filter, value}` condition")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(gradient_error())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(gradient_error())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(gradient_error())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(gradient_error())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(gradient_error())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut filter: Option<Option<String>> = None;
        let mut value: Option<ParameterValue> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "filter" if filter.is_none() => filter = Some(map.next_value()?),
                "value" if value.is_none() => {
                    let seed = SettingSeed {
                        name: self.name,
                        kind: self.kind,
                    };
                    value = match map.next_value_seed(seed)? {
                        ParameterSetting::Value(value) => Some(value),
                        ParameterSetting::Conditional(_) => {
                            return Err(de::Error::custom(
                                "a condition's value must be a number, a boolean or a string",
                            ));
                        }
                    };
                }
                "filter" | "value" => {
                    return Err(de::Error::custom(format!("`{key}` is given twice")));
                }
                _ => return Err(de::Error::unknown_field(&key, &["filter", "value"])),
            }
        }
        let value = value.ok_or_else(|| de::Error::missing_field("value"))?;
        Ok(ConditionalValue {
            filter: filter.flatten(),
            value,
        })
    }
}

fn gradient_error<E: de::Error>() -> E {
    E::custom(format!(
        "gradient values are not supported: {}",
        unsupported_reason("gradient")
    ))
}
