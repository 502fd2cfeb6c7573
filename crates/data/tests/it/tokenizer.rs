//! Tokenizer parity with the Hugging Face tokenizer on every case of
//! `shared/fixtures/minilm/cases.json`, through `tokenizer.json` and through the `vocab.txt`
//! fallback.

use std::path::PathBuf;

use lmc_data::{
    DEFAULT_MAX_LENGTH, Dataset, DatasetFormat, PaddedBatch, PairTokenizer, TokenizedDataset,
    TokenizedExample, TokenizerSource,
};
use serde::Deserialize;

use crate::common::{dataset, minilm_dir, temp_dir};

#[derive(Deserialize)]
struct Cases {
    max_length: usize,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    sentence1: String,
    sentence2: Option<String>,
    input_ids: Vec<u32>,
    token_type_ids: Vec<u32>,
    attention_mask: Vec<i64>,
}

fn cases() -> Cases {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/minilm/cases.json"
    ));
    let text = std::fs::read_to_string(&path).expect("cases.json is readable");
    serde_json::from_str(&text).expect("cases.json parses")
}

fn assert_parity(tokenizer: &PairTokenizer) {
    let cases = cases();
    assert_eq!(cases.max_length, tokenizer.max_length());
    assert_eq!(cases.cases.len(), 8);
    for (number, case) in cases.cases.iter().enumerate() {
        let encoded = tokenizer
            .encode(&case.sentence1, case.sentence2.as_deref())
            .expect("encodes");
        assert_eq!(encoded.input_ids, case.input_ids, "case {number}: ids");
        assert_eq!(
            encoded.token_type_ids, case.token_type_ids,
            "case {number}: token types"
        );
        let single = TokenizedDataset {
            name: "case".to_owned(),
            num_labels: 3,
            examples: vec![TokenizedExample {
                source_index: number,
                label: 0,
                input_ids: encoded.input_ids,
                token_type_ids: encoded.token_type_ids,
            }],
        };
        let batch = PaddedBatch::new(&single, &[0]).expect("batch");
        assert_eq!(
            batch.attention_mask, case.attention_mask,
            "case {number}: mask"
        );
    }
    let longest = cases.cases.iter().map(|case| case.input_ids.len()).max();
    assert_eq!(longest, Some(128), "the truncated case is among them");
}

#[test]
fn tokenizer_json_matches_hugging_face() {
    let tokenizer = PairTokenizer::from_tokenizer_json(
        &minilm_dir().join("tokenizer.json"),
        DEFAULT_MAX_LENGTH,
    )
    .expect("tokenizer.json loads");
    assert!(matches!(
        tokenizer.source(),
        TokenizerSource::TokenizerJson { .. }
    ));
    assert_parity(&tokenizer);
}

#[test]
fn vocab_fallback_matches_hugging_face() {
    let dir = minilm_dir();
    let tokenizer = PairTokenizer::from_vocab(
        &dir.join("vocab.txt"),
        Some(&dir.join("tokenizer_config.json")),
        DEFAULT_MAX_LENGTH,
    )
    .expect("vocab.txt loads");
    assert!(matches!(
        tokenizer.source(),
        TokenizerSource::Vocab {
            lowercase: true,
            ..
        }
    ));
    assert_parity(&tokenizer);
}

#[test]
fn model_dir_prefers_tokenizer_json_and_falls_back_to_vocab() {
    let tokenizer =
        PairTokenizer::from_model_dir(&minilm_dir(), DEFAULT_MAX_LENGTH).expect("loads");
    assert!(matches!(
        tokenizer.source(),
        TokenizerSource::TokenizerJson { .. }
    ));

    let bare = temp_dir();
    for file in ["vocab.txt", "tokenizer_config.json"] {
        std::fs::copy(minilm_dir().join(file), bare.path().join(file)).expect("copy");
    }
    let fallback = PairTokenizer::from_model_dir(bare.path(), DEFAULT_MAX_LENGTH).expect("loads");
    assert!(matches!(fallback.source(), TokenizerSource::Vocab { .. }));
    assert_ne!(tokenizer.fingerprint(), fallback.fingerprint());
    assert_parity(&fallback);

    let empty = temp_dir();
    let error = PairTokenizer::from_model_dir(empty.path(), DEFAULT_MAX_LENGTH)
        .expect_err("no tokenizer files");
    assert!(error.to_string().contains("vocab.txt"), "{error}");
}

#[test]
fn vocab_fallback_without_config_lowercases() {
    let bare = temp_dir();
    std::fs::copy(
        minilm_dir().join("vocab.txt"),
        bare.path().join("vocab.txt"),
    )
    .expect("copy");
    let tokenizer = PairTokenizer::from_model_dir(bare.path(), DEFAULT_MAX_LENGTH).expect("loads");
    assert_parity(&tokenizer);
}

#[test]
fn both_paths_agree_on_real_data_at_a_short_max_length() {
    let dir = minilm_dir();
    let json = PairTokenizer::from_tokenizer_json(&dir.join("tokenizer.json"), 24).expect("json");
    let vocab = PairTokenizer::from_vocab(
        &dir.join("vocab.txt"),
        Some(&dir.join("tokenizer_config.json")),
        24,
    )
    .expect("vocab");
    let mnli: Dataset = DatasetFormat::Mnli
        .load(&dataset("glue/MNLI/dev_matched.reconstructed.tsv"))
        .expect("MNLI")
        .subset(lmc_data::Subset::First(300))
        .expect("subset");
    let from_json = json.encode_dataset(&mnli).expect("json encodes");
    let from_vocab = vocab.encode_dataset(&mnli).expect("vocab encodes");
    assert_eq!(from_json, from_vocab);
    assert!(
        from_json
            .examples
            .iter()
            .all(|example| example.input_ids.len() <= 24)
    );
    assert!(
        from_json
            .examples
            .iter()
            .any(|example| example.input_ids.len() == 24)
    );
    for (tokenized, example) in from_json.examples.iter().zip(&mnli.examples) {
        assert_eq!(tokenized.source_index, example.index);
        assert_eq!(tokenized.label, example.label);
        assert_eq!(tokenized.input_ids.first(), Some(&101));
        assert_eq!(tokenized.input_ids.last(), Some(&102));
    }
}

#[test]
fn single_sentences_have_one_segment() {
    let tokenizer =
        PairTokenizer::from_model_dir(&minilm_dir(), DEFAULT_MAX_LENGTH).expect("loads");
    let cola = DatasetFormat::Cola
        .load(&dataset("glue/CoLA/in_domain_dev.tsv"))
        .expect("CoLA");
    let tokenized = tokenizer.encode_dataset(&cola).expect("encodes");
    assert_eq!(tokenized.len(), 527);
    assert!(tokenized.examples.iter().all(|example| {
        example
            .token_type_ids
            .iter()
            .all(|&token_type| token_type == 0)
    }));
}

#[test]
fn max_length_below_three_is_refused() {
    let error = PairTokenizer::from_tokenizer_json(&minilm_dir().join("tokenizer.json"), 2)
        .expect_err("too short");
    assert!(error.to_string().contains("max length 2"), "{error}");
}
