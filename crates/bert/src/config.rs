//! The model's hyper-parameters, read from and written to Hugging Face's `config.json`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::BertError;

/// A BERT configuration with Hugging Face field names, so that `config.json` deserializes as is.
///
/// Fields this crate does not use (`architectures`, `transformers_version`, …) are kept in
/// [`BertConfig::extra`] and written back unchanged by [`BertConfig::save`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BertConfig {
    /// Size of the WordPiece vocabulary.
    pub vocab_size: usize,
    /// Width of every hidden state.
    pub hidden_size: usize,
    /// Number of transformer layers.
    pub num_hidden_layers: usize,
    /// Number of attention heads; must divide `hidden_size`.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Activation of the feed-forward layer; only `"gelu"` (the exact, erf-based GELU) is supported.
    #[serde(default = "default_hidden_act")]
    pub hidden_act: String,
    /// Dropout on embeddings, attention output and feed-forward output.
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    /// Dropout on attention probabilities.
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    /// Dropout before the classifier; `None` means `hidden_dropout_prob` (as in transformers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier_dropout: Option<f64>,
    /// Number of learned position embeddings (the longest sequence the model accepts).
    pub max_position_embeddings: usize,
    /// Number of token types (segments).
    #[serde(default = "default_type_vocab_size")]
    pub type_vocab_size: usize,
    /// Standard deviation of the normal initialisation of new weights.
    #[serde(default = "default_initializer_range")]
    pub initializer_range: f64,
    /// Epsilon of every LayerNorm.
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
    /// Id of the padding token.
    #[serde(default)]
    pub pad_token_id: usize,
    /// Only `"absolute"` position embeddings are supported.
    #[serde(default = "default_position_embedding_type")]
    pub position_embedding_type: String,
    /// Number of classes of the sequence-classification head, when the config names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_labels: Option<usize>,
    /// Class names by index (`{"0": "entailment", …}`), when the config names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id2label: Option<BTreeMap<String, String>>,
    /// Class indices by name, the inverse of `id2label`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label2id: Option<BTreeMap<String, usize>>,
    /// Every other field of `config.json`, preserved on save.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

fn default_hidden_act() -> String {
    "gelu".to_string()
}
fn default_dropout() -> f64 {
    0.1
}
fn default_type_vocab_size() -> usize {
    2
}
fn default_initializer_range() -> f64 {
    0.02
}
fn default_layer_norm_eps() -> f64 {
    1e-12
}
fn default_position_embedding_type() -> String {
    "absolute".to_string()
}

impl BertConfig {
    /// bert-base-uncased: 12 layers, hidden 768, 12 heads.
    pub fn bert_base_uncased() -> Self {
        Self::sized(30522, 768, 12, 12, 3072)
    }

    /// all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads.
    pub fn minilm_l6() -> Self {
        Self::sized(30522, 384, 6, 12, 1536)
    }

    /// A configuration with the given sizes and BERT's defaults for everything else.
    pub fn sized(
        vocab_size: usize,
        hidden_size: usize,
        num_hidden_layers: usize,
        num_attention_heads: usize,
        intermediate_size: usize,
    ) -> Self {
        Self {
            vocab_size,
            hidden_size,
            num_hidden_layers,
            num_attention_heads,
            intermediate_size,
            hidden_act: default_hidden_act(),
            hidden_dropout_prob: default_dropout(),
            attention_probs_dropout_prob: default_dropout(),
            classifier_dropout: None,
            max_position_embeddings: 512,
            type_vocab_size: default_type_vocab_size(),
            initializer_range: default_initializer_range(),
            layer_norm_eps: default_layer_norm_eps(),
            pad_token_id: 0,
            position_embedding_type: default_position_embedding_type(),
            num_labels: None,
            id2label: None,
            label2id: None,
            extra: BTreeMap::new(),
        }
    }

    /// Reads and validates a `config.json`.
    pub fn load(path: &Path) -> Result<Self, BertError> {
        let text = std::fs::read_to_string(path).map_err(|source| BertError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config: Self = serde_json::from_str(&text).map_err(|source| BertError::Config {
            path: path.to_path_buf(),
            message: source.to_string(),
        })?;
        // transformers writes `id2label` and derives `num_labels` from it.
        if config.num_labels.is_none() {
            config.num_labels = config.id2label.as_ref().map(BTreeMap::len);
        }
        config.validate().map_err(|message| BertError::Config {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(config)
    }

    /// Writes `config.json` in Hugging Face layout (pretty-printed, atomically).
    pub fn save(&self, path: &Path) -> Result<(), BertError> {
        let text = serde_json::to_string_pretty(self).map_err(|source| BertError::Config {
            path: path.to_path_buf(),
            message: source.to_string(),
        })?;
        crate::io::write_atomically(path, text.as_bytes())
    }

    /// Checks the constraints this implementation relies on; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.hidden_act != "gelu" {
            return Err(format!(
                "hidden_act `{}` is not supported (only the exact `gelu`)",
                self.hidden_act
            ));
        }
        if self.position_embedding_type != "absolute" {
            return Err(format!(
                "position_embedding_type `{}` is not supported (only `absolute`)",
                self.position_embedding_type
            ));
        }
        if self.num_attention_heads == 0 || self.hidden_size % self.num_attention_heads != 0 {
            return Err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        for (name, p) in [
            ("hidden_dropout_prob", self.hidden_dropout_prob),
            (
                "attention_probs_dropout_prob",
                self.attention_probs_dropout_prob,
            ),
            ("classifier_dropout", self.classifier_dropout.unwrap_or(0.0)),
        ] {
            if !(0.0..1.0).contains(&p) {
                return Err(format!("{name} {p} is not in [0, 1)"));
            }
        }
        Ok(())
    }

    /// The dropout probability applied before the classifier.
    pub fn classifier_dropout_prob(&self) -> f64 {
        self.classifier_dropout.unwrap_or(self.hidden_dropout_prob)
    }

    /// Sets the classification head's labels: `num_labels`, `id2label` and `label2id`.
    pub fn with_labels(mut self, labels: &[String]) -> Self {
        self.num_labels = Some(labels.len());
        self.id2label = Some(
            labels
                .iter()
                .enumerate()
                .map(|(i, name)| (i.to_string(), name.clone()))
                .collect(),
        );
        self.label2id = Some(
            labels
                .iter()
                .enumerate()
                .map(|(i, name)| (name.clone(), i))
                .collect(),
        );
        self.extra.insert(
            "architectures".to_string(),
            serde_json::json!(["BertForSequenceClassification"]),
        );
        self
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}
