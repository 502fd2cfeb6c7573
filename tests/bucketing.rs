//! Evaluation results must not depend on how examples are batched: per-example logits of real
//! MNLI pairs are the same in file order and with length bucketing, once put back in order.

use std::path::Path;

use burn::backend::Flex;
use lmc_bert::{BertConfig, BertInput, random_classifier};
use lmc_data::{BatchOrder, BatchPlan, DatasetFormat, PairTokenizer, Subset};

fn logits_in_dataset_order(order: BatchOrder) -> Vec<f32> {
    let device = Default::default();
    let cache = lmc_bert::pretrained::default_cache_dir()
        .expect("no cache directory: set LMC_CACHE_DIR or HOME");
    let model_dir = lmc_bert::pretrained::ensure_minilm(&cache).unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/glue/MNLI/dev_matched.reconstructed.tsv");
    let dataset = DatasetFormat::Mnli
        .load(&data)
        .unwrap()
        .subset(Subset::First(48))
        .unwrap();
    let tokenized = PairTokenizer::from_model_dir(&model_dir, 128)
        .unwrap()
        .encode_dataset(&dataset)
        .unwrap();
    let config = BertConfig {
        max_position_embeddings: 128,
        ..BertConfig::sized(30522, 32, 2, 2, 64)
    };
    let model = random_classifier::<Flex>(&config, 3, 5, &device);
    let plan = BatchPlan::new(&tokenized, 8, order).unwrap();
    let mut in_batch_order = Vec::new();
    for batch in plan.tensors::<Flex>(&tokenized, &device) {
        let batch = batch.unwrap();
        let input = BertInput {
            input_ids: batch.input_ids,
            token_type_ids: batch.token_type_ids,
            attention_mask: batch.attention_mask,
        };
        in_batch_order.extend(model.forward(input).into_data().into_vec::<f32>().unwrap());
    }
    plan.restore_rows(&in_batch_order, 3).unwrap()
}

#[test]
fn bucketing_by_length_leaves_per_example_logits_unchanged() {
    let sequential = logits_in_dataset_order(BatchOrder::Sequential);
    let bucketed = logits_in_dataset_order(BatchOrder::ByLength);
    assert_eq!(sequential.len(), 48 * 3);
    let worst = sequential
        .iter()
        .zip(&bucketed)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "logits differ by {worst:e} between batchings");
}
