//! A batch computed in row slices on parallel threads: inference ([`forward_in_slices`]) and the
//! loss and gradient of a training batch ([`batch_gradients`]).
//!
//! burn's CPU backend runs matrix products on all cores but every element-wise kernel (GELU,
//! softmax, dropout, additions) on the calling thread, which left one of two cores idle for half
//! of a training step. Splitting the batch into row slices and running each slice's passes on
//! its own thread keeps both cores busy. Each slice runs inside its own rayon pool with its share
//! of the threads, so its matrix products do not compete with the other slice's for every core
//! (measured on 2 cores: a training update at length 128, 7.0 → 7.6 examples/s,
//! median of 5 interleaved runs). Results are the same function of the batch: logits are
//! concatenated in row order; for training, each slice's mean loss is weighted by its share of
//! the rows and the slices' gradients are summed in slice order, so the result is deterministic
//! and differs from a single pass only by float rounding.
//!
//! For training, each slice other than the first runs on a copy of the model whose parameters
//! are new leaves of the autodiff graph, so that the slices build separate graphs (burn locks a
//! graph for the whole backward pass) and their gradients can be told apart.

use std::collections::HashMap;
use std::ops::Range;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Int, Tensor};

use crate::init::SplitMix64;
use crate::model::{BertClassifier, BertInput, DropoutStream, cross_entropy};
use crate::precision::DropoutMasks;

/// burn's name of its flex CPU backend (`Backend::name`).
pub const CPU_BACKEND: &str = "flex";

/// The row slices that pay off on `device`: 2 on flex (whose element-wise kernels run on the
/// calling thread, see the module doc), 1 (whole batches) on any other backend, a GPU's included.
pub fn default_batch_slices<B: Backend>(device: &B::Device) -> usize {
    if B::name(device) == CPU_BACKEND { 2 } else { 1 }
}

/// The mean cross-entropy of a batch and its gradient with respect to the model's parameters.
pub struct BatchGradients<B: AutodiffBackend> {
    /// Mean cross-entropy over the batch.
    pub loss: f64,
    /// Gradients keyed by the parameters of the model passed to [`batch_gradients`].
    pub gradients: B::Gradients,
}

/// The mean cross-entropy of `model` on a batch, with dropout, and its gradient, computed in
/// `parts` row slices on as many threads (1 computes it in one pass on this thread).
///
/// Slice `k` draws its dropout masks from a [`DropoutStream`] seeded by `dropout_seed` and `k`,
/// where `masks` says, so the result is a function of the inputs, `parts`, `dropout_seed` and
/// the mask source alone (for [`DropoutMasks::Device`], on one backend: those slices run one after
/// the other on this thread, since they share the backend's generator).
pub fn batch_gradients<B: AutodiffBackend>(
    model: &BertClassifier<B>,
    input: BertInput<B>,
    labels: Tensor<B, 1, Int>,
    parts: usize,
    dropout_seed: u64,
    masks: DropoutMasks,
) -> BatchGradients<B> {
    let [rows, _] = input.input_ids.dims();
    let mut seeds = SplitMix64::new(dropout_seed);
    let ranges = row_slices(rows, parts);
    let parts = ranges.len();
    let mut slices = ranges.into_iter().map(|range| Slice {
        weight: range.len() as f64 / rows as f64,
        input: input.rows(range.clone()),
        labels: labels.clone().slice([range]),
        stream: DropoutStream::with_masks(seeds.next_u64(), masks),
    });
    let first = slices.next().expect("at least one slice");
    if masks == DropoutMasks::Device {
        return sequential_gradients(model, first, slices);
    }
    std::thread::scope(|scope| {
        let others: Vec<_> = slices
            .map(|slice| {
                let copy = model.clone().map(&mut NewLeaves);
                scope.spawn(move || {
                    with_thread_share(parts, || {
                        let loss = slice.loss(&copy);
                        let value: f64 = loss.clone().into_scalar().elem();
                        let gradients = loss.backward();
                        let mut collected = CollectGradients {
                            gradients: &gradients,
                            by_param: HashMap::new(),
                        };
                        copy.visit(&mut collected);
                        (value, collected.by_param)
                    })
                })
            })
            .collect();
        let (mut total, mut gradients) = with_thread_share(parts, || {
            let loss = first.loss(model);
            let total: f64 = loss.clone().into_scalar().elem();
            (total, loss.backward())
        });
        for handle in others {
            let (value, by_param) = joined(handle);
            total += value;
            model.visit(&mut AddGradients {
                gradients: &mut gradients,
                by_param,
            });
        }
        BatchGradients {
            loss: total,
            gradients,
        }
    })
}

/// [`batch_gradients`] of slices computed one after the other on this thread.
fn sequential_gradients<B: AutodiffBackend>(
    model: &BertClassifier<B>,
    first: Slice<B>,
    others: impl Iterator<Item = Slice<B>>,
) -> BatchGradients<B> {
    let loss = first.loss(model);
    let mut total: f64 = loss.clone().into_scalar().elem();
    let mut gradients = loss.backward();
    for slice in others {
        let copy = model.clone().map(&mut NewLeaves);
        let loss = slice.loss(&copy);
        total += loss.clone().into_scalar().elem::<f64>();
        let slice_gradients = loss.backward();
        let mut collected = CollectGradients {
            gradients: &slice_gradients,
            by_param: HashMap::new(),
        };
        copy.visit(&mut collected);
        model.visit(&mut AddGradients {
            gradients: &mut gradients,
            by_param: collected.by_param,
        });
    }
    BatchGradients {
        loss: total,
        gradients,
    }
}

/// One row slice of a batch.
struct Slice<B: AutodiffBackend> {
    /// Share of the batch's rows.
    weight: f64,
    input: BertInput<B>,
    labels: Tensor<B, 1, Int>,
    stream: DropoutStream,
}

impl<B: AutodiffBackend> Slice<B> {
    /// The slice's mean cross-entropy times its weight.
    fn loss(mut self, model: &BertClassifier<B>) -> Tensor<B, 1> {
        let logits = model.forward_train(self.input, &mut self.stream);
        cross_entropy(logits, self.labels).mul_scalar(self.weight)
    }
}

/// Class scores `[batch, num_labels]` of `model` without dropout, as
/// [`BertClassifier::forward`], computed in `parts` row slices on as many threads.
pub fn forward_in_slices<B: Backend>(
    model: &BertClassifier<B>,
    input: BertInput<B>,
    parts: usize,
) -> Tensor<B, 2> {
    let [rows, _] = input.input_ids.dims();
    let ranges = row_slices(rows, parts);
    let parts = ranges.len();
    let mut slices = ranges.into_iter().map(|range| input.rows(range));
    let first = slices.next().expect("at least one slice");
    let logits = std::thread::scope(|scope| {
        let others: Vec<_> = slices
            .map(|slice| scope.spawn(move || with_thread_share(parts, || model.forward(slice))))
            .collect();
        let mut logits = vec![with_thread_share(parts, || model.forward(first))];
        logits.extend(others.into_iter().map(joined));
        logits
    });
    Tensor::cat(logits, 0)
}

/// Runs `work` in a new rayon pool of this slice's share of the global pool's threads (at
/// least one; the whole pool when there is one slice). The backend's parallel kernels (flex's
/// matrix products) then split into as many threads as the slice's share, so that with 2 slices
/// on 2 cores each slice runs on one thread instead of both slices' products competing for both
/// cores. Threads are not pinned; the kernel's scheduler places them. (Pools kept for the whole
/// process measured no faster than one per pass.)
fn with_thread_share<R: Send>(parts: usize, work: impl FnOnce() -> R + Send) -> R {
    if parts == 1 {
        return work();
    }
    let threads = (rayon::current_num_threads() / parts).max(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("threads for the slice")
        .install(work)
}

/// The result of a slice's thread; a panic there continues on this thread.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// `parts` contiguous, nearly equal row ranges covering `0..rows` (at least one, none empty).
fn row_slices(rows: usize, parts: usize) -> Vec<Range<usize>> {
    let parts = parts.clamp(1, rows.max(1));
    (0..parts)
        .map(|k| k * rows / parts..(k + 1) * rows / parts)
        .collect()
}

/// Replaces every parameter by a new autodiff leaf with the same value and id.
struct NewLeaves;

impl<B: AutodiffBackend> ModuleMapper<B> for NewLeaves {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        param.map(|tensor| tensor.detach().require_grad())
    }
}

/// A flattened gradient and the shape to restore.
type FlatGradient<B> = (Tensor<<B as AutodiffBackend>::InnerBackend, 1>, Vec<usize>);

/// Takes every parameter's gradient out of a slice's gradients, by parameter id.
struct CollectGradients<'a, B: AutodiffBackend> {
    gradients: &'a B::Gradients,
    by_param: HashMap<ParamId, FlatGradient<B>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for CollectGradients<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(gradient) = param.val().grad(self.gradients) {
            let dims = gradient.dims().to_vec();
            let count: usize = dims.iter().product();
            self.by_param
                .insert(param.id, (gradient.reshape([count]), dims));
        }
    }
}

/// Adds a slice's gradients into the first slice's, parameter by parameter.
struct AddGradients<'a, B: AutodiffBackend> {
    gradients: &'a mut B::Gradients,
    by_param: HashMap<ParamId, FlatGradient<B>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for AddGradients<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let Some((extra, dims)) = self.by_param.remove(&param.id) else {
            return;
        };
        let shape: [usize; D] = dims.try_into().expect("same parameter, same rank");
        let extra = extra.reshape(shape);
        let value = param.val();
        let sum = match value.grad_remove(self.gradients) {
            Some(own) => own + extra,
            None => extra,
        };
        value.grad_replace(self.gradients, sum);
    }
}

#[cfg(test)]
mod tests {
    use super::row_slices;

    #[test]
    fn row_slices_cover_the_batch_without_empty_parts() {
        assert_eq!(row_slices(32, 2), vec![0..16, 16..32]);
        assert_eq!(row_slices(5, 2), vec![0..2, 2..5]);
        assert_eq!(row_slices(3, 8), vec![0..1, 1..2, 2..3]);
        assert_eq!(row_slices(7, 0), vec![0..7]);
    }
}
