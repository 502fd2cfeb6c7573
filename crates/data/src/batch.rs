//! Batches of tokenized examples as burn tensors, with dynamic padding.
//!
//! A [`BatchPlan`] decides which examples go together: in dataset order, in a seeded shuffle (for
//! training), in a seeded shuffle grouped by length (training with less padding), or by length
//! (for evaluation: examples of similar length share a batch, so less padding is computed). Each
//! batch is padded to its own longest example with [`PAD_TOKEN_ID`]; the attention mask is an
//! `Int` tensor with 1 for real tokens and 0 for padding. Every batch carries the positions of its
//! examples in the dataset and their row indices in the source file, and
//! [`BatchPlan::restore_order`] puts per-example outputs computed batch by batch back into dataset
//! order, so results never depend on the batching.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::rng::shuffled_indices;
use crate::tokenize::TokenizedDataset;

/// The padding id: BERT's `[PAD]`.
pub const PAD_TOKEN_ID: u32 = 0;

/// How examples are grouped into batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchOrder {
    /// Consecutive examples in dataset order.
    Sequential,
    /// A seeded shuffle (the crate's SplitMix64 + Fisher–Yates), then consecutive groups.
    Shuffled {
        /// Seed of the shuffle.
        seed: u64,
    },
    /// A seeded shuffle whose batches hold examples of similar length (what `transformers` calls
    /// `group_by_length`): the shuffle is cut into windows of `window_batches` batches, each window
    /// is sorted by token count (longest first) and cut into batches, and the batches are then
    /// shuffled. Every epoch still sees a fresh random order, with far less padding.
    LengthGrouped {
        /// Seed of both shuffles.
        seed: u64,
        /// Batches per window sorted by length (1 keeps the first shuffle's batches, in another
        /// order; `transformers` uses 50).
        window_batches: usize,
    },
    /// Sorted by token count, longest first (ties in dataset order), then consecutive groups.
    ByLength,
}

/// Mixed into the seed of [`BatchOrder::LengthGrouped`]'s second shuffle (of whole batches), so
/// that it is not the first shuffle's stream again.
const BATCH_SHUFFLE_SALT: u64 = 0x6261_7463_6865_7321;

/// Which dataset positions form each batch, in the order the batches are processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchPlan {
    batches: Vec<Vec<usize>>,
    dataset_len: usize,
}

impl BatchPlan {
    /// Groups the examples of `dataset` into batches of `batch_size` (the last one may be
    /// smaller) in the given order.
    pub fn new(dataset: &TokenizedDataset, batch_size: usize, order: BatchOrder) -> Result<Self> {
        if batch_size == 0 {
            return Err(DataError::InvalidInput(
                "the batch size must be positive".to_owned(),
            ));
        }
        let token_count =
            |position: &usize| std::cmp::Reverse(dataset.examples[*position].input_ids.len());
        let into_batches = |positions: &[usize]| -> Vec<Vec<usize>> {
            positions
                .chunks(batch_size)
                .map(<[usize]>::to_vec)
                .collect()
        };
        let batches = match order {
            BatchOrder::Sequential => into_batches(&(0..dataset.len()).collect::<Vec<_>>()),
            BatchOrder::Shuffled { seed } => into_batches(&shuffled_indices(dataset.len(), seed)),
            BatchOrder::LengthGrouped {
                seed,
                window_batches,
            } => {
                if window_batches == 0 {
                    return Err(DataError::InvalidInput(
                        "a length-grouping window must hold at least one batch".to_owned(),
                    ));
                }
                let mut positions = shuffled_indices(dataset.len(), seed);
                for window in positions.chunks_mut(window_batches.saturating_mul(batch_size)) {
                    window.sort_by_key(token_count);
                }
                let batches = into_batches(&positions);
                shuffled_indices(batches.len(), seed ^ BATCH_SHUFFLE_SALT)
                    .into_iter()
                    .map(|batch| batches[batch].clone())
                    .collect()
            }
            BatchOrder::ByLength => {
                let mut positions: Vec<usize> = (0..dataset.len()).collect();
                positions.sort_by_key(token_count);
                into_batches(&positions)
            }
        };
        Ok(BatchPlan {
            batches,
            dataset_len: dataset.len(),
        })
    }

    /// The batches, each a list of dataset positions.
    pub fn batches(&self) -> &[Vec<usize>] {
        &self.batches
    }

    /// Number of batches.
    pub fn len(&self) -> usize {
        self.batches.len()
    }

    /// Whether there are no batches.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Every position, in batch processing order.
    pub fn positions_in_batch_order(&self) -> Vec<usize> {
        self.batches.iter().flatten().copied().collect()
    }

    /// Puts per-example outputs produced in batch order (batch 0's examples, then batch 1's, …)
    /// back into dataset order.
    pub fn restore_order<T>(&self, outputs: Vec<T>) -> Result<Vec<T>> {
        if outputs.len() != self.dataset_len {
            return Err(DataError::InvalidInput(format!(
                "{} outputs for a plan of {} examples",
                outputs.len(),
                self.dataset_len
            )));
        }
        let mut restored: Vec<Option<T>> = std::iter::repeat_with(|| None)
            .take(self.dataset_len)
            .collect();
        for (position, output) in self.batches.iter().flatten().zip(outputs) {
            restored[*position] = Some(output);
        }
        restored
            .into_iter()
            .enumerate()
            .map(|(position, output)| {
                output.ok_or_else(|| {
                    DataError::InvalidInput(format!("no output for example {position}"))
                })
            })
            .collect()
    }

    /// [`BatchPlan::restore_order`] for row-major values with `width` values per example (e.g.
    /// logits with `width` classes).
    pub fn restore_rows<T: Copy>(&self, values: &[T], width: usize) -> Result<Vec<T>> {
        if width == 0 || values.len() != self.dataset_len * width {
            return Err(DataError::InvalidInput(format!(
                "{} values are not {} rows of {width}",
                values.len(),
                self.dataset_len
            )));
        }
        let rows: Vec<&[T]> = values.chunks_exact(width).collect();
        Ok(self.restore_order(rows)?.concat())
    }

    /// The padded host-side batch number `batch` of `dataset`.
    pub fn padded(&self, dataset: &TokenizedDataset, batch: usize) -> Result<PaddedBatch> {
        let positions = self.batches.get(batch).ok_or_else(|| {
            DataError::InvalidInput(format!(
                "batch {batch} does not exist ({} batches)",
                self.len()
            ))
        })?;
        PaddedBatch::new(dataset, positions)
    }

    /// The batches of `dataset` as tensors on `device`, in plan order.
    pub fn tensors<'a, B: Backend>(
        &'a self,
        dataset: &'a TokenizedDataset,
        device: &'a B::Device,
    ) -> impl Iterator<Item = Result<Batch<B>>> + 'a {
        self.batches.iter().map(move |positions| {
            PaddedBatch::new(dataset, positions).map(|batch| batch.to_tensors(device))
        })
    }
}

/// A batch padded on the host: row-major `[batch_size, seq_len]` arrays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaddedBatch {
    /// Examples in the batch.
    pub batch_size: usize,
    /// Length of the longest example; every row is padded to it.
    pub seq_len: usize,
    /// Token ids, padded with [`PAD_TOKEN_ID`].
    pub input_ids: Vec<i64>,
    /// Token type ids, padded with 0.
    pub token_type_ids: Vec<i64>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Vec<i64>,
    /// Label ids.
    pub labels: Vec<i64>,
    /// Position of each example in the dataset.
    pub positions: Vec<usize>,
    /// Row index of each example in its source file.
    pub source_indices: Vec<usize>,
}

impl PaddedBatch {
    /// Pads the examples of `dataset` at `positions` to the longest of them.
    pub fn new(dataset: &TokenizedDataset, positions: &[usize]) -> Result<Self> {
        let examples = positions
            .iter()
            .map(|&position| {
                dataset.examples.get(position).ok_or_else(|| {
                    DataError::InvalidInput(format!(
                        "{}: position {position} is out of range ({} examples)",
                        dataset.name,
                        dataset.len()
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let seq_len = examples
            .iter()
            .map(|example| example.input_ids.len())
            .max()
            .unwrap_or(0);
        let cells = examples.len() * seq_len;
        let mut batch = PaddedBatch {
            batch_size: examples.len(),
            seq_len,
            input_ids: Vec::with_capacity(cells),
            token_type_ids: Vec::with_capacity(cells),
            attention_mask: Vec::with_capacity(cells),
            labels: Vec::with_capacity(examples.len()),
            positions: positions.to_vec(),
            source_indices: Vec::with_capacity(examples.len()),
        };
        for example in examples {
            let padding = seq_len - example.input_ids.len();
            let pad = |values: &mut Vec<i64>, with: i64| {
                values.extend(std::iter::repeat_n(with, padding));
            };
            batch
                .input_ids
                .extend(example.input_ids.iter().map(|&id| i64::from(id)));
            pad(&mut batch.input_ids, i64::from(PAD_TOKEN_ID));
            batch
                .token_type_ids
                .extend(example.token_type_ids.iter().map(|&id| i64::from(id)));
            pad(&mut batch.token_type_ids, 0);
            batch
                .attention_mask
                .extend(std::iter::repeat_n(1, example.input_ids.len()));
            pad(&mut batch.attention_mask, 0);
            batch.labels.push(example.label as i64);
            batch.source_indices.push(example.source_index);
        }
        Ok(batch)
    }

    /// The batch as tensors on `device`.
    pub fn to_tensors<B: Backend>(&self, device: &B::Device) -> Batch<B> {
        let shape = [self.batch_size, self.seq_len];
        let matrix = |values: &[i64]| {
            Tensor::<B, 2, Int>::from_data(TensorData::new(values.to_vec(), shape), device)
        };
        Batch {
            input_ids: matrix(&self.input_ids),
            token_type_ids: matrix(&self.token_type_ids),
            attention_mask: matrix(&self.attention_mask),
            labels: Tensor::<B, 1, Int>::from_data(
                TensorData::new(self.labels.clone(), [self.batch_size]),
                device,
            ),
            positions: self.positions.clone(),
            source_indices: self.source_indices.clone(),
        }
    }
}

/// A batch on a device.
#[derive(Debug, Clone)]
pub struct Batch<B: Backend> {
    /// Token ids `[batch, seq_len]`.
    pub input_ids: Tensor<B, 2, Int>,
    /// Token type ids `[batch, seq_len]`.
    pub token_type_ids: Tensor<B, 2, Int>,
    /// Attention mask `[batch, seq_len]`: 1 for real tokens, 0 for padding.
    pub attention_mask: Tensor<B, 2, Int>,
    /// Label ids `[batch]`.
    pub labels: Tensor<B, 1, Int>,
    /// Position of each example in the dataset.
    pub positions: Vec<usize>,
    /// Row index of each example in its source file.
    pub source_indices: Vec<usize>,
}
