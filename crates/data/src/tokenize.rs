//! BERT tokenization of sentence pairs, identical to the Hugging Face tokenizer.
//!
//! A [`PairTokenizer`] comes from a model directory's `tokenizer.json` or, when that file is
//! absent, is built from `vocab.txt` the way `BertTokenizerFast` builds it (BERT normalizer with
//! lower-casing per `tokenizer_config.json`'s `do_lower_case`, BERT pre-tokenizer, WordPiece with
//! `[UNK]` and `##`, `[CLS] a [SEP] b [SEP]` with token types 0 for `[CLS] a [SEP]` and 1 for
//! `b [SEP]`). Pairs are truncated `longest_first` to a maximum length (default 128, special
//! tokens included). Whatever padding or truncation the `tokenizer.json` presets is replaced:
//! encodings are never padded here; padding happens per batch (see [`crate::batch`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{
    AddedToken, EncodeInput, Model, Tokenizer, TruncationDirection, TruncationParams,
    TruncationStrategy,
};

use crate::dataset::Dataset;
use crate::digest::sha256_hex;
use crate::error::{DataError, Result};

/// The maximum sequence length of the paper's recipe.
pub const DEFAULT_MAX_LENGTH: usize = 128;

/// Examples tokenized per call into the tokenizers library (bounds its temporary memory).
const ENCODE_CHUNK: usize = 4096;

/// Which files a tokenizer was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenizerSource {
    /// A Hugging Face `tokenizer.json`.
    TokenizerJson {
        /// The file.
        path: PathBuf,
    },
    /// A WordPiece `vocab.txt` (with the settings of `tokenizer_config.json` when present).
    Vocab {
        /// The vocabulary file.
        path: PathBuf,
        /// Whether text is lower-cased.
        lowercase: bool,
    },
}

/// One encoded example, unpadded: its attention mask is all ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encoded {
    /// Token ids, `[CLS]` … `[SEP]` included.
    pub input_ids: Vec<u32>,
    /// Token type (segment) ids: 0 for the first sentence, 1 for the second.
    pub token_type_ids: Vec<u32>,
}

/// A tokenized example, with what is needed to batch it and trace it back to its row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenizedExample {
    /// The example's row index in its source file (see [`crate::Example::index`]).
    pub source_index: usize,
    /// Label id.
    pub label: usize,
    /// Token ids.
    pub input_ids: Vec<u32>,
    /// Token type ids.
    pub token_type_ids: Vec<u32>,
}

/// A tokenized dataset, in the dataset's example order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenizedDataset {
    /// The dataset's name.
    pub name: String,
    /// Number of label classes.
    pub num_labels: usize,
    /// The examples; an example's position here is its position in the source [`Dataset`].
    pub examples: Vec<TokenizedExample>,
}

impl TokenizedDataset {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// The labels, in order.
    pub fn labels(&self) -> Vec<usize> {
        self.examples.iter().map(|example| example.label).collect()
    }
}

/// A BERT tokenizer for sentences and sentence pairs with a fixed maximum length.
#[derive(Clone)]
pub struct PairTokenizer {
    inner: Tokenizer,
    max_length: usize,
    source: TokenizerSource,
    fingerprint: String,
}

impl std::fmt::Debug for PairTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PairTokenizer")
            .field("source", &self.source)
            .field("max_length", &self.max_length)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// The parts of `tokenizer_config.json` the vocabulary fallback uses; missing keys take
/// `BertTokenizerFast`'s defaults.
#[derive(Debug, Deserialize)]
#[serde(default)]
struct TokenizerConfig {
    do_lower_case: bool,
    strip_accents: Option<bool>,
    tokenize_chinese_chars: bool,
    #[serde(deserialize_with = "special_token")]
    unk_token: String,
    #[serde(deserialize_with = "special_token")]
    sep_token: String,
    #[serde(deserialize_with = "special_token")]
    cls_token: String,
    #[serde(deserialize_with = "special_token")]
    pad_token: String,
    #[serde(deserialize_with = "special_token")]
    mask_token: String,
}

/// A special token as `tokenizer_config.json` writes it: a string, or (newer `transformers`) an
/// object with a `content` field.
fn special_token<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Plain(String),
        Detailed { content: String },
    }
    Ok(match Written::deserialize(deserializer)? {
        Written::Plain(content) | Written::Detailed { content } => content,
    })
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        TokenizerConfig {
            do_lower_case: true,
            strip_accents: None,
            tokenize_chinese_chars: true,
            unk_token: "[UNK]".to_owned(),
            sep_token: "[SEP]".to_owned(),
            cls_token: "[CLS]".to_owned(),
            pad_token: "[PAD]".to_owned(),
            mask_token: "[MASK]".to_owned(),
        }
    }
}

fn tokenizer_error(path: &Path, message: impl std::fmt::Display) -> DataError {
    DataError::Tokenizer {
        path: path.to_owned(),
        message: message.to_string(),
    }
}

impl PairTokenizer {
    /// The tokenizer of a model directory: `tokenizer.json` when present, otherwise `vocab.txt`
    /// with `tokenizer_config.json` (when present).
    pub fn from_model_dir(dir: &Path, max_length: usize) -> Result<Self> {
        let tokenizer_json = dir.join("tokenizer.json");
        if tokenizer_json.is_file() {
            return PairTokenizer::from_tokenizer_json(&tokenizer_json, max_length);
        }
        let vocab = dir.join("vocab.txt");
        if vocab.is_file() {
            let config = dir.join("tokenizer_config.json");
            let config = config.is_file().then_some(config);
            return PairTokenizer::from_vocab(&vocab, config.as_deref(), max_length);
        }
        Err(tokenizer_error(
            dir,
            "the model directory has neither tokenizer.json nor vocab.txt",
        ))
    }

    /// A tokenizer from a Hugging Face `tokenizer.json`, with its padding removed and its
    /// truncation set to `longest_first` at `max_length`.
    pub fn from_tokenizer_json(path: &Path, max_length: usize) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| DataError::io(path, source))?;
        let inner = Tokenizer::from_bytes(&bytes).map_err(|error| tokenizer_error(path, error))?;
        let fingerprint = sha256_hex(&[b"tokenizer.json\0".as_slice(), &bytes].concat());
        PairTokenizer::configure(
            inner,
            max_length,
            TokenizerSource::TokenizerJson {
                path: path.to_owned(),
            },
            fingerprint,
            path,
        )
    }

    /// A BERT WordPiece tokenizer from `vocab.txt`, configured like `BertTokenizerFast` from the
    /// optional `tokenizer_config.json` (`do_lower_case`, `strip_accents`,
    /// `tokenize_chinese_chars`, special tokens; defaults: lower-case, `[UNK]` `[SEP]` `[CLS]`
    /// `[PAD]` `[MASK]`).
    pub fn from_vocab(vocab: &Path, config: Option<&Path>, max_length: usize) -> Result<Self> {
        let config_bytes = match config {
            Some(path) => std::fs::read(path).map_err(|source| DataError::io(path, source))?,
            None => Vec::new(),
        };
        let settings: TokenizerConfig = match config {
            Some(path) => serde_json::from_slice(&config_bytes)
                .map_err(|error| tokenizer_error(path, error))?,
            None => TokenizerConfig::default(),
        };
        let vocab_bytes = std::fs::read(vocab).map_err(|source| DataError::io(vocab, source))?;
        let vocab_text = vocab
            .to_str()
            .ok_or_else(|| tokenizer_error(vocab, "the vocabulary path is not valid UTF-8"))?;
        let model = WordPiece::from_file(vocab_text)
            .unk_token(settings.unk_token.clone())
            .continuing_subword_prefix("##".to_owned())
            .max_input_chars_per_word(100)
            .build()
            .map_err(|error| tokenizer_error(vocab, error))?;
        let id_of = |token: &str| {
            model.token_to_id(token).ok_or_else(|| {
                tokenizer_error(
                    vocab,
                    format!("the vocabulary lacks the special token {token}"),
                )
            })
        };
        let sep = (settings.sep_token.clone(), id_of(&settings.sep_token)?);
        let cls = (settings.cls_token.clone(), id_of(&settings.cls_token)?);
        let mut inner = Tokenizer::new(model);
        inner
            .with_normalizer(Some(BertNormalizer::new(
                true,
                settings.tokenize_chinese_chars,
                settings.strip_accents,
                settings.do_lower_case,
            )))
            .map_err(|error| tokenizer_error(vocab, error))?;
        inner.with_pre_tokenizer(Some(BertPreTokenizer));
        inner.with_post_processor(Some(BertProcessing::new(sep, cls)));
        let specials = [
            &settings.pad_token,
            &settings.unk_token,
            &settings.cls_token,
            &settings.sep_token,
            &settings.mask_token,
        ]
        .map(|token| AddedToken::from(token.as_str(), true));
        inner
            .add_special_tokens(specials)
            .map_err(|error| tokenizer_error(vocab, error))?;
        let fingerprint = sha256_hex(
            &[
                b"vocab.txt\0".as_slice(),
                &vocab_bytes,
                b"\0tokenizer_config.json\0",
                &config_bytes,
            ]
            .concat(),
        );
        PairTokenizer::configure(
            inner,
            max_length,
            TokenizerSource::Vocab {
                path: vocab.to_owned(),
                lowercase: settings.do_lower_case,
            },
            fingerprint,
            vocab,
        )
    }

    fn configure(
        mut inner: Tokenizer,
        max_length: usize,
        source: TokenizerSource,
        fingerprint: String,
        path: &Path,
    ) -> Result<Self> {
        if max_length < 3 {
            return Err(tokenizer_error(
                path,
                format!("max length {max_length} leaves no room for [CLS] a [SEP] b [SEP]"),
            ));
        }
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|error| tokenizer_error(path, error))?;
        Ok(PairTokenizer {
            inner,
            max_length,
            source,
            fingerprint,
        })
    }

    /// The maximum sequence length, special tokens included.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// The files the tokenizer came from.
    pub fn source(&self) -> &TokenizerSource {
        &self.source
    }

    /// sha256 identifying the tokenizer's files and settings (the maximum length excluded).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Encodes one sentence (`text_b` = `None`) or a pair.
    pub fn encode(&self, text_a: &str, text_b: Option<&str>) -> Result<Encoded> {
        let input: EncodeInput = match text_b {
            Some(text_b) => (text_a, text_b).into(),
            None => text_a.into(),
        };
        let encoding = self
            .inner
            .encode(input, true)
            .map_err(|error| self.encode_error(error))?;
        Ok(Encoded {
            input_ids: encoding.get_ids().to_vec(),
            token_type_ids: encoding.get_type_ids().to_vec(),
        })
    }

    /// Encodes every example of `dataset` (in parallel), keeping order, row indices and labels.
    pub fn encode_dataset(&self, dataset: &Dataset) -> Result<TokenizedDataset> {
        let mut examples = Vec::with_capacity(dataset.len());
        for chunk in dataset.examples.chunks(ENCODE_CHUNK) {
            let inputs: Vec<EncodeInput> = chunk
                .iter()
                .map(|example| match &example.text_b {
                    Some(text_b) => (example.text_a.as_str(), text_b.as_str()).into(),
                    None => example.text_a.as_str().into(),
                })
                .collect();
            let encodings = self
                .inner
                .encode_batch(inputs, true)
                .map_err(|error| self.encode_error(error))?;
            examples.extend(chunk.iter().zip(encodings).map(|(example, encoding)| {
                TokenizedExample {
                    source_index: example.index,
                    label: example.label,
                    input_ids: encoding.get_ids().to_vec(),
                    token_type_ids: encoding.get_type_ids().to_vec(),
                }
            }));
        }
        Ok(TokenizedDataset {
            name: dataset.name.clone(),
            num_labels: dataset.label_names.len(),
            examples,
        })
    }

    fn encode_error(&self, error: tokenizers::Error) -> DataError {
        let path = match &self.source {
            TokenizerSource::TokenizerJson { path } | TokenizerSource::Vocab { path, .. } => path,
        };
        tokenizer_error(path, format!("encoding failed: {error}"))
    }
}
