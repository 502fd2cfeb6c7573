//! Batching: every example exactly once, padding, tensors, and restoring dataset order.

use burn::backend::Flex;
use burn::tensor::Int;
use lmc_data::{BatchOrder, BatchPlan, PaddedBatch, TokenizedDataset, TokenizedExample};
use proptest::prelude::*;

/// A dataset whose example `i` has `lengths[i]` tokens `[101, i, i, …, 102]`-like ids.
fn synthetic(lengths: &[usize]) -> TokenizedDataset {
    TokenizedDataset {
        name: "synthetic".to_owned(),
        num_labels: 3,
        examples: lengths
            .iter()
            .enumerate()
            .map(|(position, &len)| TokenizedExample {
                source_index: 1000 + position,
                label: position % 3,
                input_ids: (0..len)
                    .map(|token| (position * 100 + token + 1) as u32)
                    .collect(),
                token_type_ids: (0..len).map(|token| u32::from(token >= len / 2)).collect(),
            })
            .collect(),
    }
}

fn orders() -> impl Strategy<Value = BatchOrder> {
    prop_oneof![
        Just(BatchOrder::Sequential),
        Just(BatchOrder::ByLength),
        any::<u64>().prop_map(|seed| BatchOrder::Shuffled { seed }),
        (any::<u64>(), 1_usize..6).prop_map(|(seed, window_batches)| BatchOrder::LengthGrouped {
            seed,
            window_batches
        }),
    ]
}

/// (rows, longest example) of each batch, sorted: what padding costs, whatever the batch order.
fn padded_shapes(dataset: &TokenizedDataset, plan: &BatchPlan) -> Vec<(usize, usize)> {
    let mut shapes: Vec<(usize, usize)> = plan
        .batches()
        .iter()
        .map(|batch| {
            let longest = batch
                .iter()
                .map(|&p| dataset.examples[p].input_ids.len())
                .max();
            (batch.len(), longest.unwrap_or(0))
        })
        .collect();
    shapes.sort_unstable();
    shapes
}

proptest! {
    #[test]
    fn every_example_exactly_once_and_order_restored(
        lengths in prop::collection::vec(1_usize..40, 0..120),
        batch_size in 1_usize..17,
        order in orders(),
    ) {
        let dataset = synthetic(&lengths);
        let plan = BatchPlan::new(&dataset, batch_size, order).expect("plan");
        let mut seen = plan.positions_in_batch_order();
        prop_assert!(plan.batches().iter().all(|batch| !batch.is_empty() && batch.len() <= batch_size));
        prop_assert_eq!(plan.len(), lengths.len().div_ceil(batch_size));
        seen.sort_unstable();
        prop_assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>());

        // A per-example "model output" computed batch by batch, from what the batch carries.
        let mut outputs = Vec::new();
        let mut logits = Vec::new();
        for batch in 0..plan.len() {
            let padded = plan.padded(&dataset, batch).expect("batch");
            for row in 0..padded.batch_size {
                let tokens = padded.attention_mask[row * padded.seq_len..(row + 1) * padded.seq_len]
                    .iter()
                    .sum::<i64>();
                outputs.push((padded.source_indices[row], tokens));
                logits.extend([padded.positions[row] as f32, -(padded.positions[row] as f32)]);
            }
        }
        let restored = plan.restore_order(outputs).expect("restore");
        let expected: Vec<(usize, i64)> = dataset
            .examples
            .iter()
            .map(|example| (example.source_index, example.input_ids.len() as i64))
            .collect();
        prop_assert_eq!(restored, expected);
        let rows = plan.restore_rows(&logits, 2).expect("restore rows");
        let expected_rows: Vec<f32> = (0..lengths.len())
            .flat_map(|position| [position as f32, -(position as f32)])
            .collect();
        prop_assert_eq!(rows, expected_rows);
    }
}

#[test]
fn by_length_puts_similar_lengths_together_longest_first() {
    let dataset = synthetic(&[3, 9, 5, 9, 1, 7]);
    let plan = BatchPlan::new(&dataset, 2, BatchOrder::ByLength).expect("plan");
    assert_eq!(plan.batches(), [vec![1, 3], vec![5, 2], vec![0, 4]]);
    let padded = plan.padded(&dataset, 0).expect("batch");
    assert_eq!(padded.seq_len, 9);
    assert!(
        padded.attention_mask.iter().all(|&mask| mask == 1),
        "no padding needed"
    );
}

proptest! {
    #[test]
    fn length_grouping_over_one_window_pads_like_sorting_by_length(
        lengths in prop::collection::vec(1_usize..40, 1..120),
        batch_size in 1_usize..17,
        seed in any::<u64>(),
    ) {
        let dataset = synthetic(&lengths);
        let whole = lengths.len().div_ceil(batch_size);
        let grouped = BatchPlan::new(
            &dataset,
            batch_size,
            BatchOrder::LengthGrouped { seed, window_batches: whole },
        )
        .expect("plan");
        let by_length = BatchPlan::new(&dataset, batch_size, BatchOrder::ByLength).expect("plan");
        prop_assert_eq!(padded_shapes(&dataset, &grouped), padded_shapes(&dataset, &by_length));
    }
}

#[test]
fn length_grouping_is_seeded_and_sorts_within_windows_only() {
    let lengths: Vec<usize> = (0..64).map(|i| 1 + (i * 37) % 50).collect();
    let dataset = synthetic(&lengths);
    let plan = |seed, window_batches| {
        BatchPlan::new(
            &dataset,
            4,
            BatchOrder::LengthGrouped {
                seed,
                window_batches,
            },
        )
        .expect("plan")
    };
    assert_eq!(plan(7, 4), plan(7, 4), "same seed, same plan");
    assert_ne!(
        plan(7, 4).batches(),
        plan(8, 4).batches(),
        "another seed, another order"
    );
    let padding = |plan: &BatchPlan| -> usize {
        padded_shapes(&dataset, plan)
            .iter()
            .map(|(rows, longest)| rows * longest)
            .sum()
    };
    let shuffled = BatchPlan::new(&dataset, 4, BatchOrder::Shuffled { seed: 7 }).expect("plan");
    assert!(padding(&plan(7, 4)) < padding(&shuffled));
    assert!(padding(&plan(7, 16)) <= padding(&plan(7, 4)));
    // Windows of 4 batches: the examples of one batch come from one window of the first shuffle.
    let first_shuffle = lmc_data::rng::shuffled_indices(64, 7);
    let window_of =
        |position: usize| first_shuffle.iter().position(|&p| p == position).unwrap() / 16;
    for batch in plan(7, 4).batches() {
        assert!(
            batch.iter().all(|&p| window_of(p) == window_of(batch[0])),
            "{batch:?}"
        );
        let batch_lengths: Vec<usize> = batch.iter().map(|&p| lengths[p]).collect();
        assert!(
            batch_lengths.windows(2).all(|pair| pair[0] >= pair[1]),
            "{batch_lengths:?}"
        );
    }
    assert!(
        BatchPlan::new(
            &dataset,
            4,
            BatchOrder::LengthGrouped {
                seed: 7,
                window_batches: 0
            }
        )
        .is_err()
    );
}

#[test]
fn padding_uses_zero_ids_types_and_mask() {
    let dataset = synthetic(&[2, 4]);
    let batch = PaddedBatch::new(&dataset, &[0, 1]).expect("batch");
    assert_eq!((batch.batch_size, batch.seq_len), (2, 4));
    assert_eq!(batch.input_ids, [1, 2, 0, 0, 101, 102, 103, 104]);
    assert_eq!(batch.token_type_ids, [0, 1, 0, 0, 0, 0, 1, 1]);
    assert_eq!(batch.attention_mask, [1, 1, 0, 0, 1, 1, 1, 1]);
    assert_eq!(batch.labels, [0, 1]);
    assert_eq!(batch.positions, [0, 1]);
    assert_eq!(batch.source_indices, [1000, 1001]);
    assert!(PaddedBatch::new(&dataset, &[2]).is_err(), "out of range");
}

#[test]
fn tensors_have_the_padded_values() {
    let dataset = synthetic(&[2, 4, 3]);
    let plan = BatchPlan::new(&dataset, 2, BatchOrder::Sequential).expect("plan");
    let device = Default::default();
    let batches: Vec<_> = plan
        .tensors::<Flex>(&dataset, &device)
        .collect::<Result<_, _>>()
        .expect("tensors");
    assert_eq!(batches.len(), 2);
    let first = &batches[0];
    assert_eq!(first.input_ids.dims(), [2, 4]);
    let ints = |tensor: burn::tensor::Tensor<Flex, 2, Int>| -> Vec<i64> {
        tensor.into_data().convert::<i64>().to_vec().expect("ints")
    };
    assert_eq!(
        ints(first.input_ids.clone()),
        [1, 2, 0, 0, 101, 102, 103, 104]
    );
    assert_eq!(ints(first.token_type_ids.clone()), [0, 1, 0, 0, 0, 0, 1, 1]);
    assert_eq!(ints(first.attention_mask.clone()), [1, 1, 0, 0, 1, 1, 1, 1]);
    let labels: Vec<i64> = first
        .labels
        .clone()
        .into_data()
        .convert::<i64>()
        .to_vec()
        .expect("labels");
    assert_eq!(labels, [0, 1]);
    assert_eq!(first.positions, [0, 1]);
    assert_eq!(batches[1].input_ids.dims(), [1, 3]);
    assert_eq!(batches[1].source_indices, [1002]);
}

#[test]
fn bad_plans_and_outputs_are_refused() {
    let dataset = synthetic(&[2, 3]);
    assert!(BatchPlan::new(&dataset, 0, BatchOrder::Sequential).is_err());
    let plan = BatchPlan::new(&dataset, 1, BatchOrder::Sequential).expect("plan");
    assert!(plan.restore_order(vec![1]).is_err(), "too few outputs");
    assert!(plan.restore_rows(&[1.0_f32, 2.0, 3.0], 2).is_err());
    assert!(plan.padded(&dataset, 5).is_err());
}
