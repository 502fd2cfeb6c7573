//! [`ParamSet`]: named tensors with their float values in one flat buffer.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::error::{InterpError, LayoutMismatch, MismatchKind};
use crate::{Dtype, kernels};

/// A set of named tensors — one model's parameters and buffers — ready to be combined with others.
///
/// Tensors are kept in name order. The values of all float tensors live in one contiguous `f32`
/// buffer, tensor after tensor in that order ([`float_values`](Self::float_values)), so that every
/// combination is a single pass over flat memory whatever the number of tensors. Float tensors
/// remember their stored [`Dtype`] (`F32`, `F16` or `BF16`): values are held and combined in `f32`
/// and rounded to the stored type only by [`save_safetensors`](Self::save_safetensors). Integer and
/// boolean tensors are held as raw little-endian bytes and are carried, unchanged, from the first
/// input of every combination.
///
/// The description of the tensors (names, shapes, types, offsets, file metadata) is shared between
/// a set and every set computed from it, so an in-place combination neither allocates nor
/// re-validates its destination.
#[derive(Clone, Default)]
pub struct ParamSet {
    layout: Arc<Layout>,
    values: Vec<f32>,
    carried: Vec<u8>,
}

/// The shape of a parameter set without its values.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Layout {
    /// Sorted by name, names unique.
    entries: Vec<Entry>,
    float_len: usize,
    carried_len: usize,
    metadata: BTreeMap<String, String>,
}

#[derive(Debug, PartialEq)]
struct Entry {
    name: String,
    shape: Vec<usize>,
    dtype: Dtype,
    /// Element range in the float buffer for float tensors, byte range in the carried buffer
    /// otherwise.
    range: Range<usize>,
}

/// Name, shape and type of a tensor about to be laid out.
#[derive(Debug)]
pub(crate) struct TensorDecl {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) dtype: Dtype,
}

/// What validation compares between two tensors of the same name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TensorSignature<'a> {
    pub(crate) name: &'a str,
    pub(crate) shape: &'a [usize],
    pub(crate) dtype: Dtype,
}

/// A borrowed view of one tensor of a [`ParamSet`].
#[derive(Debug, Clone, Copy)]
pub struct TensorRef<'a> {
    /// The tensor's name, e.g. `encoder.layer.0.attention.self.query.weight`.
    pub name: &'a str,
    /// Its shape, row-major.
    pub shape: &'a [usize],
    /// The type it is stored as in files.
    pub dtype: Dtype,
    /// Its values.
    pub data: TensorData<'a>,
}

/// The values of a [`TensorRef`].
#[derive(Debug, Clone, Copy)]
pub enum TensorData<'a> {
    /// A float tensor, as `f32` whatever its stored type.
    Float(&'a [f32]),
    /// An integer or boolean tensor, as its stored little-endian bytes.
    Carried(&'a [u8]),
}

impl ParamSet {
    /// Builds a set of `F32` tensors from `(name, shape, values)` triples, in any order.
    ///
    /// This is the entry point for adapting a model held by a deep-learning framework: export each
    /// parameter as a triple, combine, and read the results back with [`tensors`](Self::tensors).
    /// Fails if a name repeats or a shape does not match its number of values.
    pub fn from_f32_tensors<I, S>(tensors: I) -> Result<ParamSet, InterpError>
    where
        I: IntoIterator<Item = (S, Vec<usize>, Vec<f32>)>,
        S: Into<String>,
    {
        tensors
            .into_iter()
            .fold(ParamSetBuilder::new(), |builder, (name, shape, values)| {
                builder.float(name, shape, values)
            })
            .build()
    }

    /// Reads a safetensors file into memory (see [`MappedSafetensors`](crate::MappedSafetensors)
    /// to work on a file without copying it).
    pub fn load_safetensors(path: impl AsRef<Path>) -> Result<ParamSet, InterpError> {
        crate::MappedSafetensors::open(path)?.to_param_set()
    }

    /// Number of tensors, float and carried.
    pub fn len(&self) -> usize {
        self.layout.entries.len()
    }

    /// Whether the set holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.layout.entries.is_empty()
    }

    /// Number of float values, i.e. of interpolated parameters.
    pub fn float_len(&self) -> usize {
        self.layout.float_len
    }

    /// All float values, tensor after tensor in name order.
    pub fn float_values(&self) -> &[f32] {
        &self.values
    }

    /// The tensors, in name order.
    pub fn tensors(&self) -> impl ExactSizeIterator<Item = TensorRef<'_>> {
        self.layout.entries.iter().map(|entry| self.view(entry))
    }

    /// The tensor called `name`, if there is one.
    pub fn tensor(&self, name: &str) -> Option<TensorRef<'_>> {
        let index = self
            .layout
            .entries
            .binary_search_by(|entry| entry.name.as_str().cmp(name))
            .ok()?;
        Some(self.view(&self.layout.entries[index]))
    }

    /// The file-level `__metadata__` map (Hugging Face checkpoints hold `{"format": "pt"}`), kept
    /// from the file the set was read from and passed on to combinations from their first input.
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.layout.metadata
    }

    /// Returns an error naming the first tensor (in name order) that holds a NaN or an infinity.
    ///
    /// Combinations follow IEEE arithmetic and check nothing themselves: a non-finite input value
    /// gives non-finite outputs wherever it is used (except that α = 0 and α = 1 copy an endpoint
    /// and ignore the other set). Call this on inputs or results when that matters; it is one
    /// parallel pass over the values.
    pub fn check_finite(&self) -> Result<(), InterpError> {
        let Some(flat_index) = kernels::first_non_finite(&self.values) else {
            return Ok(());
        };
        let entry = self
            .layout
            .entries
            .iter()
            .find(|entry| entry.dtype.is_float() && entry.range.contains(&flat_index))
            .expect("every float value belongs to a float tensor");
        Err(InterpError::NonFinite {
            key: entry.name.clone(),
            index: flat_index - entry.range.start,
            value: self.values[flat_index],
        })
    }

    /// Euclidean norm of the float values, accumulated in `f64`. Carried tensors do not count.
    pub fn norm(&self) -> f64 {
        kernels::dot(&self.values, &self.values).sqrt()
    }

    /// A set shaped like `source`, with its carried bytes and zeroed float values.
    pub(crate) fn zeroed_like(source: &ParamSet) -> ParamSet {
        ParamSet {
            layout: Arc::clone(&source.layout),
            // `vec!` of zeros comes from the allocator already zeroed: no separate fill pass.
            values: vec![0.0; source.values.len()],
            carried: source.carried.clone(),
        }
    }

    /// Makes `self` a destination shaped like `source`: its layout, its carried bytes, and a float
    /// buffer of the right length whose contents are about to be overwritten. Reuses the existing
    /// buffers, so this allocates nothing when `self` already has that shape.
    pub(crate) fn reshape_like(&mut self, source: &ParamSet) {
        self.layout = Arc::clone(&source.layout);
        if self.values.len() != source.values.len() {
            self.values = vec![0.0; source.values.len()];
        }
        self.carried.clone_from(&source.carried);
    }

    pub(crate) fn values_mut(&mut self) -> &mut [f32] {
        &mut self.values
    }

    pub(crate) fn from_parts(layout: Layout, values: Vec<f32>, carried: Vec<u8>) -> ParamSet {
        debug_assert_eq!(values.len(), layout.float_len);
        debug_assert_eq!(carried.len(), layout.carried_len);
        ParamSet {
            layout: Arc::new(layout),
            values,
            carried,
        }
    }

    fn view<'a>(&'a self, entry: &'a Entry) -> TensorRef<'a> {
        let data = if entry.dtype.is_float() {
            TensorData::Float(&self.values[entry.range.clone()])
        } else {
            TensorData::Carried(&self.carried[entry.range.clone()])
        };
        TensorRef {
            name: &entry.name,
            shape: &entry.shape,
            dtype: entry.dtype,
            data,
        }
    }
}

/// Shows the size of the set, not its values.
impl fmt::Debug for ParamSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParamSet")
            .field("tensors", &self.len())
            .field("float_values", &self.values.len())
            .field("carried_bytes", &self.carried.len())
            .finish()
    }
}

impl Layout {
    /// Lays out tensors given in any order: sorts them by name, rejects duplicates, and assigns
    /// each its range in the float or carried buffer. Returns the layout and, for each entry in
    /// layout order, the index it had in `tensors`.
    pub(crate) fn from_unsorted(
        tensors: Vec<TensorDecl>,
        metadata: BTreeMap<String, String>,
    ) -> Result<(Layout, Vec<usize>), InterpError> {
        let mut indexed: Vec<(usize, TensorDecl)> = tensors.into_iter().enumerate().collect();
        indexed.sort_by(|(_, x), (_, y)| x.name.cmp(&y.name));
        if let Some(pair) = indexed
            .windows(2)
            .find(|pair| pair[0].1.name == pair[1].1.name)
        {
            return Err(InterpError::DuplicateKey {
                key: pair[0].1.name.clone(),
            });
        }
        let mut layout = Layout {
            metadata,
            ..Layout::default()
        };
        let mut order = Vec::with_capacity(indexed.len());
        for (index, TensorDecl { name, shape, dtype }) in indexed {
            let overflow = || InterpError::InvalidTensor {
                key: name.clone(),
                reason: format!("shape {shape:?} overflows"),
            };
            let elements = element_count(&shape).ok_or_else(overflow)?;
            let range = if dtype.is_float() {
                let start = layout.float_len;
                layout.float_len += elements;
                start..layout.float_len
            } else {
                let bytes = elements
                    .checked_mul(dtype.size_in_bytes())
                    .ok_or_else(overflow)?;
                let start = layout.carried_len;
                layout.carried_len += bytes;
                start..layout.carried_len
            };
            order.push(index);
            layout.entries.push(Entry {
                name,
                shape,
                dtype,
                range,
            });
        }
        Ok((layout, order))
    }

    /// The tensors' names, shapes and types, in name order.
    pub(crate) fn signatures(&self) -> impl Iterator<Item = TensorSignature<'_>> {
        self.entries.iter().map(|entry| TensorSignature {
            name: &entry.name,
            shape: &entry.shape,
            dtype: entry.dtype,
        })
    }

    /// Range of tensor `index` (layout order) in the float or carried buffer.
    pub(crate) fn range(&self, index: usize) -> Range<usize> {
        self.entries[index].range.clone()
    }

    pub(crate) fn float_len(&self) -> usize {
        self.float_len
    }

    pub(crate) fn carried_len(&self) -> usize {
        self.carried_len
    }
}

/// Number of elements of `shape`, or `None` on overflow.
pub(crate) fn element_count(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |count, &dim| count.checked_mul(dim))
}

/// Checks that two sets have the same keys, shapes and types; `labels` name the two sides in the
/// error.
pub(crate) fn check_same_layout(
    left: &ParamSet,
    right: &ParamSet,
    labels: (&str, &str),
) -> Result<(), InterpError> {
    if Arc::ptr_eq(&left.layout, &right.layout) {
        return Ok(());
    }
    compare_signatures(left.layout.signatures(), right.layout.signatures(), labels)
}

/// Walks two name-sorted signature lists side by side; reports the first difference and counts
/// the rest.
pub(crate) fn compare_signatures<'a, 'b>(
    left: impl Iterator<Item = TensorSignature<'a>>,
    right: impl Iterator<Item = TensorSignature<'b>>,
    labels: (&str, &str),
) -> Result<(), InterpError> {
    let mut left = left.peekable();
    let mut right = right.peekable();
    let mut first: Option<(String, MismatchKind)> = None;
    let mut count = 0usize;
    let mut record = |key: &str, kind: MismatchKind| {
        count += 1;
        if first.is_none() {
            first = Some((key.to_owned(), kind));
        }
    };
    loop {
        match (left.peek().copied(), right.peek().copied()) {
            (None, None) => break,
            (Some(l), None) => {
                record(l.name, MismatchKind::MissingOnRight);
                left.next();
            }
            (None, Some(r)) => {
                record(r.name, MismatchKind::MissingOnLeft);
                right.next();
            }
            (Some(l), Some(r)) => match l.name.cmp(r.name) {
                std::cmp::Ordering::Less => {
                    record(l.name, MismatchKind::MissingOnRight);
                    left.next();
                }
                std::cmp::Ordering::Greater => {
                    record(r.name, MismatchKind::MissingOnLeft);
                    right.next();
                }
                std::cmp::Ordering::Equal => {
                    if l.shape != r.shape {
                        record(
                            l.name,
                            MismatchKind::Shape {
                                left: l.shape.to_vec(),
                                right: r.shape.to_vec(),
                            },
                        );
                    } else if l.dtype != r.dtype {
                        record(
                            l.name,
                            MismatchKind::Dtype {
                                left: l.dtype,
                                right: r.dtype,
                            },
                        );
                    }
                    left.next();
                    right.next();
                }
            },
        }
    }
    match first {
        None => Ok(()),
        Some((key, kind)) => Err(InterpError::Mismatch(Box::new(LayoutMismatch {
            left: labels.0.to_owned(),
            right: labels.1.to_owned(),
            key,
            kind,
            further: count - 1,
        }))),
    }
}

/// Assembles a [`ParamSet`] tensor by tensor, for sets that are not simply `F32` triples: tensors
/// stored as `F16`/`BF16`, carried integer buffers, file metadata.
///
/// ```
/// use lmc_interp::{Dtype, ParamSetBuilder};
///
/// let position_ids: Vec<u8> = (0i64..4).flat_map(|i| i.to_le_bytes()).collect();
/// let set = ParamSetBuilder::new()
///     .float("classifier.bias", vec![3], vec![0.0, 0.5, -0.5])
///     .float_stored_as("pooler.dense.bias", vec![2], vec![1.0, 2.0], Dtype::F16)
///     .carried("embeddings.position_ids", vec![1, 4], Dtype::I64, position_ids)
///     .metadata("format", "pt")
///     .build()?;
/// assert_eq!(set.len(), 3);
/// assert_eq!(set.float_len(), 5);
/// # Ok::<(), lmc_interp::InterpError>(())
/// ```
#[derive(Debug, Default)]
pub struct ParamSetBuilder {
    tensors: Vec<PendingTensor>,
    metadata: BTreeMap<String, String>,
}

#[derive(Debug)]
struct PendingTensor {
    name: String,
    shape: Vec<usize>,
    dtype: Dtype,
    data: PendingData,
}

#[derive(Debug)]
enum PendingData {
    Float(Vec<f32>),
    Carried(Vec<u8>),
}

impl ParamSetBuilder {
    /// An empty builder.
    pub fn new() -> ParamSetBuilder {
        ParamSetBuilder::default()
    }

    /// Adds a float tensor stored as `F32`.
    pub fn float(self, name: impl Into<String>, shape: Vec<usize>, values: Vec<f32>) -> Self {
        self.float_stored_as(name, shape, values, Dtype::F32)
    }

    /// Adds a float tensor that files store as `dtype` (`F32`, `F16` or `BF16`); `values` are kept
    /// as given and rounded to `dtype` only when saved.
    pub fn float_stored_as(
        mut self,
        name: impl Into<String>,
        shape: Vec<usize>,
        values: Vec<f32>,
        dtype: Dtype,
    ) -> Self {
        self.tensors.push(PendingTensor {
            name: name.into(),
            shape,
            dtype,
            data: PendingData::Float(values),
        });
        self
    }

    /// Adds an integer or boolean tensor as its little-endian bytes.
    pub fn carried(
        mut self,
        name: impl Into<String>,
        shape: Vec<usize>,
        dtype: Dtype,
        bytes: Vec<u8>,
    ) -> Self {
        self.tensors.push(PendingTensor {
            name: name.into(),
            shape,
            dtype,
            data: PendingData::Carried(bytes),
        });
        self
    }

    /// Sets one entry of the file-level metadata written by
    /// [`ParamSet::save_safetensors`].
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Checks every tensor (data length against shape and type, float types for float data, no
    /// repeated names) and assembles the set.
    pub fn build(self) -> Result<ParamSet, InterpError> {
        for tensor in &self.tensors {
            tensor.check()?;
        }
        let (decls, data): (Vec<_>, Vec<_>) = self
            .tensors
            .into_iter()
            .map(|tensor| {
                let decl = TensorDecl {
                    name: tensor.name,
                    shape: tensor.shape,
                    dtype: tensor.dtype,
                };
                (decl, tensor.data)
            })
            .unzip();
        let (layout, order) = Layout::from_unsorted(decls, self.metadata)?;
        let mut values = Vec::with_capacity(layout.float_len);
        let mut carried = Vec::with_capacity(layout.carried_len);
        for &index in &order {
            match &data[index] {
                PendingData::Float(tensor_values) => values.extend_from_slice(tensor_values),
                PendingData::Carried(bytes) => carried.extend_from_slice(bytes),
            }
        }
        Ok(ParamSet::from_parts(layout, values, carried))
    }
}

impl PendingTensor {
    fn check(&self) -> Result<(), InterpError> {
        let invalid = |reason: String| InterpError::InvalidTensor {
            key: self.name.clone(),
            reason,
        };
        let elements = element_count(&self.shape)
            .ok_or_else(|| invalid(format!("shape {:?} overflows", self.shape)))?;
        match &self.data {
            PendingData::Float(values) => {
                if !self.dtype.is_float() {
                    return Err(invalid(format!(
                        "float values cannot be stored as {}",
                        self.dtype
                    )));
                }
                if values.len() != elements {
                    return Err(invalid(format!(
                        "shape {:?} needs {elements} values, got {}",
                        self.shape,
                        values.len()
                    )));
                }
            }
            PendingData::Carried(bytes) => {
                if self.dtype.is_float() {
                    return Err(invalid(format!(
                        "{} tensors are interpolated, not carried: give them as float values",
                        self.dtype
                    )));
                }
                let expected = elements * self.dtype.size_in_bytes();
                if bytes.len() != expected {
                    return Err(invalid(format!(
                        "shape {:?} of {} needs {expected} bytes, got {}",
                        self.shape,
                        self.dtype,
                        bytes.len()
                    )));
                }
            }
        }
        Ok(())
    }
}
