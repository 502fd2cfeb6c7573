//! [`MappedSafetensors`]: a safetensors file read in place through a memory map.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use safetensors::SafeTensors;

use crate::bytes::{numbers_from_le_bytes, widen_into};
use crate::error::InterpError;
use crate::param_set::{Layout, ParamSet, TensorDecl, TensorSignature};
use crate::{Dtype, kernels};

/// Length of the little-endian `u64` that starts every safetensors file: the header's size.
const HEADER_SIZE_LEN: usize = 8;

/// A safetensors file opened for reading without copying it into memory.
///
/// Opening maps the file, parses and checks the header (the safetensors parser verifies that the
/// tensors exactly cover the data section, so a truncated file is caught here), and rejects element
/// types this crate does not handle. Tensor data is then read straight from the mapping, one tensor
/// at a time: this is the streaming path of [`MergeInputs`](crate::MergeInputs), which never holds
/// a whole model in owned memory.
///
/// The mapping assumes the file is not modified while it is open (as every memory-mapped reader
/// of model files does); truncating it meanwhile may crash the process.
#[derive(Debug)]
pub struct MappedSafetensors {
    path: PathBuf,
    mmap: Mmap,
    /// Sorted by name.
    entries: Vec<MappedEntry>,
    metadata: BTreeMap<String, String>,
}

#[derive(Debug)]
struct MappedEntry {
    name: String,
    shape: Vec<usize>,
    dtype: Dtype,
    /// Byte range in the whole mapped file.
    bytes: Range<usize>,
}

/// One tensor of a [`MappedSafetensors`], borrowed from the mapping.
#[derive(Debug, Clone, Copy)]
pub struct MappedTensor<'a> {
    /// The tensor's name.
    pub name: &'a str,
    /// Its shape, row-major.
    pub shape: &'a [usize],
    /// Its stored element type.
    pub dtype: Dtype,
    /// Its little-endian bytes, straight from the file.
    pub bytes: &'a [u8],
}

impl MappedTensor<'_> {
    /// The values as `f32`, or `None` for a carried (integer or boolean) tensor.
    ///
    /// `F32` data is borrowed from the mapping when it is 4-byte aligned on a little-endian machine
    /// (files written by safetensors libraries always are); other float data is widened into an
    /// owned vector.
    pub fn f32_values(&self) -> Option<Cow<'_, [f32]>> {
        match self.dtype {
            Dtype::F32 => Some(numbers_from_le_bytes(self.bytes)),
            dtype if dtype.is_float() => {
                let mut values = vec![0.0; self.bytes.len() / dtype.size_in_bytes()];
                widen_into(self.bytes, dtype, &mut values);
                Some(Cow::Owned(values))
            }
            _ => None,
        }
    }
}

impl MappedSafetensors {
    /// Maps and checks the file at `path`. Errors name the file: unreadable
    /// ([`InterpError::Read`]), not a valid safetensors file ([`InterpError::Corrupt`]), or holding
    /// an unsupported element type ([`InterpError::UnsupportedDtype`]).
    pub fn open(path: impl AsRef<Path>) -> Result<MappedSafetensors, InterpError> {
        let path = path.as_ref().to_path_buf();
        let read_error = |source| InterpError::Read {
            path: path.clone(),
            source,
        };
        let file = File::open(&path).map_err(read_error)?;
        // SAFETY: the map is read-only and private to this value; it stays valid as long as the
        // file is not truncated by someone else while open, which the type's docs require.
        let mmap = unsafe { Mmap::map(&file) }.map_err(read_error)?;
        let (header_len, header) =
            SafeTensors::read_metadata(&mmap).map_err(|source| InterpError::Corrupt {
                path: path.clone(),
                source,
            })?;
        let data_start = HEADER_SIZE_LEN + header_len;
        let mut infos: Vec<_> = header.tensors().into_iter().collect();
        infos.sort_by(|(x, _), (y, _)| x.cmp(y));
        let mut entries = Vec::with_capacity(infos.len());
        for (name, info) in infos {
            let Some(dtype) = Dtype::from_safetensors(info.dtype) else {
                return Err(InterpError::UnsupportedDtype {
                    path,
                    key: name,
                    dtype: info.dtype.to_string(),
                });
            };
            let (start, end) = info.data_offsets;
            entries.push(MappedEntry {
                name,
                shape: info.shape.clone(),
                dtype,
                bytes: data_start + start..data_start + end,
            });
        }
        let metadata = header
            .metadata()
            .iter()
            .flatten()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        Ok(MappedSafetensors {
            path,
            mmap,
            entries,
            metadata,
        })
    }

    /// The file's path, as given to [`open`](Self::open).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the file holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The tensors, in name order.
    pub fn tensors(&self) -> impl ExactSizeIterator<Item = MappedTensor<'_>> {
        self.entries.iter().map(|entry| self.view(entry))
    }

    /// The tensor called `name`, if there is one.
    pub fn tensor(&self, name: &str) -> Option<MappedTensor<'_>> {
        let index = self
            .entries
            .binary_search_by(|entry| entry.name.as_str().cmp(name))
            .ok()?;
        Some(self.view(&self.entries[index]))
    }

    /// The header's `__metadata__` map (empty if the file has none).
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// Copies the file into an in-memory [`ParamSet`], widening `F16`/`BF16` values to `f32`.
    pub fn to_param_set(&self) -> Result<ParamSet, InterpError> {
        let decls = self
            .entries
            .iter()
            .map(|entry| TensorDecl {
                name: entry.name.clone(),
                shape: entry.shape.clone(),
                dtype: entry.dtype,
            })
            .collect();
        let (layout, order) = Layout::from_unsorted(decls, self.metadata.clone())?;
        let mut values = vec![0.0f32; layout.float_len()];
        let mut carried = Vec::with_capacity(layout.carried_len());
        for (position, &index) in order.iter().enumerate() {
            let entry = &self.entries[index];
            let bytes = &self.mmap[entry.bytes.clone()];
            let range = layout.range(position);
            match entry.dtype {
                Dtype::F32 => kernels::copy(&mut values[range], &numbers_from_le_bytes(bytes)),
                dtype if dtype.is_float() => widen_into(bytes, dtype, &mut values[range]),
                _ => carried.extend_from_slice(bytes),
            }
        }
        Ok(ParamSet::from_parts(layout, values, carried))
    }

    /// Names, shapes and types, in name order, for layout validation.
    pub(crate) fn signatures(&self) -> impl Iterator<Item = TensorSignature<'_>> {
        self.entries.iter().map(|entry| TensorSignature {
            name: &entry.name,
            shape: &entry.shape,
            dtype: entry.dtype,
        })
    }

    /// The whole file, header included, as mapped.
    pub(crate) fn file_bytes(&self) -> &[u8] {
        &self.mmap
    }

    /// Tensor `index` in name order.
    pub(crate) fn tensor_at(&self, index: usize) -> MappedTensor<'_> {
        self.view(&self.entries[index])
    }

    fn view<'a>(&'a self, entry: &'a MappedEntry) -> MappedTensor<'a> {
        MappedTensor {
            name: &entry.name,
            shape: &entry.shape,
            dtype: entry.dtype,
            bytes: &self.mmap[entry.bytes.clone()],
        }
    }
}
