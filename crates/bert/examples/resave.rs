//! Loads a Hugging Face BERT checkpoint strictly and saves it again in Hugging Face layout
//! (`model.safetensors` + `config.json` + tokenizer files): converts `pytorch_model.bin`
//! checkpoints to safetensors and checks them on the way.
//!
//! `cargo run -p lmc-bert --example resave -- IN_DIR OUT_DIR [NUM_LABELS]`

use std::path::PathBuf;

use burn::backend::Flex;
use lmc_bert::{HeadSpec, copy_tokenizer_files, load_classifier, save_classifier};

fn main() -> Result<(), lmc_bert::BertError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = [0, 1].map(|i| {
        PathBuf::from(
            args.get(i)
                .expect("usage: resave IN_DIR OUT_DIR [NUM_LABELS]"),
        )
    });
    let num_labels = args
        .get(2)
        .map(|n| n.parse().expect("NUM_LABELS is a whole number"));
    let loaded = load_classifier::<Flex>(
        &input,
        HeadSpec {
            num_labels,
            seed: 0,
        },
        &Default::default(),
    )?;
    let labels: Vec<String> = match &loaded.config.id2label {
        Some(names) if names.len() == loaded.model.num_labels() => {
            names.values().cloned().collect()
        }
        _ => (0..loaded.model.num_labels())
            .map(|i| format!("LABEL_{i}"))
            .collect(),
    };
    save_classifier(&loaded.model, &loaded.config, &labels, &output)?;
    copy_tokenizer_files(&input, &output)?;
    eprintln!("{:?}", loaded.report);
    Ok(())
}
