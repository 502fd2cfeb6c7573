//! Writing safetensors files tensor by tensor, atomically.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use lmc_atomic::AtomicFile;
use safetensors::tensor::{Metadata, TensorInfo};

use crate::Dtype;
use crate::bytes::{narrow_into, numbers_as_le_bytes};
use crate::error::InterpError;
use crate::param_set::{ParamSet, TensorData, element_count};

/// Output buffer size: large tensors bypass it, small ones (biases, LayerNorms) are batched.
const WRITE_BUFFER_LEN: usize = 1 << 20;

/// Name, shape and type of a tensor to be written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderEntry<'a> {
    pub(crate) name: &'a str,
    pub(crate) shape: &'a [usize],
    pub(crate) dtype: Dtype,
}

impl<'a> From<&crate::mapped::MappedTensor<'a>> for HeaderEntry<'a> {
    fn from(tensor: &crate::mapped::MappedTensor<'a>) -> Self {
        Self {
            name: tensor.name,
            shape: tensor.shape,
            dtype: tensor.dtype,
        }
    }
}

impl<'a> From<&crate::param_set::TensorRef<'a>> for HeaderEntry<'a> {
    fn from(tensor: &crate::param_set::TensorRef<'a>) -> Self {
        Self {
            name: tensor.name,
            shape: tensor.shape,
            dtype: tensor.dtype,
        }
    }
}

/// The order in which to store `entries` (indices into it): widest element type first, then by
/// name, as safetensors' own serializer does, so that with the 8-byte-aligned header every tensor
/// starts aligned to its element size and readers can borrow it in place.
fn storage_order(entries: &[HeaderEntry<'_>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&index| {
        let entry = &entries[index];
        (Reverse(entry.dtype.to_safetensors()), entry.name)
    });
    order
}

/// A safetensors file being written into a temporary file next to its destination, renamed into
/// place by [`finish`](Self::finish). Dropping the writer before then deletes the temporary file,
/// so an error at any point leaves no partial output behind.
pub(crate) struct AtomicSafetensorsWriter {
    path: PathBuf,
    out: BufWriter<AtomicFile>,
    /// Byte lengths of the tensors still to write, in storage order, last one first.
    pending_lens: Vec<usize>,
    bytes_written: u64,
}

impl AtomicSafetensorsWriter {
    /// Creates the temporary file and writes the header for `tensors`. Returns the writer and the
    /// order (indices into `tensors`) in which [`write_tensor`](Self::write_tensor) must receive
    /// their data.
    pub(crate) fn create(
        path: &Path,
        tensors: &[HeaderEntry<'_>],
        metadata: &BTreeMap<String, String>,
    ) -> Result<(AtomicSafetensorsWriter, Vec<usize>), InterpError> {
        let write_error = |source| InterpError::Write {
            path: path.to_path_buf(),
            source,
        };
        let order = storage_order(tensors);
        let mut infos = Vec::with_capacity(tensors.len());
        let mut pending_lens = Vec::with_capacity(tensors.len());
        let mut offset = 0usize;
        for tensor in order.iter().map(|&index| &tensors[index]) {
            let len = element_count(tensor.shape)
                .and_then(|count| count.checked_mul(tensor.dtype.size_in_bytes()))
                .ok_or_else(|| write_error(std::io::Error::other("tensor size overflows")))?;
            infos.push((
                tensor.name.to_owned(),
                TensorInfo {
                    dtype: tensor.dtype.to_safetensors(),
                    shape: tensor.shape.to_vec(),
                    data_offsets: (offset, offset + len),
                },
            ));
            pending_lens.push(len);
            offset += len;
        }
        pending_lens.reverse();
        let file_metadata: Option<HashMap<String, String>> = (!metadata.is_empty()).then(|| {
            metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        });
        let header = Metadata::new(file_metadata, infos)
            .map_err(|error| write_error(std::io::Error::other(error)))?;
        let mut header_json = serde_json::to_vec(&header).map_err(|e| write_error(e.into()))?;
        // Pad with spaces to a multiple of 8 so the data section starts 8-byte aligned.
        header_json.resize(header_json.len().next_multiple_of(8), b' ');

        let temporary = AtomicFile::create(path).map_err(write_error)?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER_LEN, temporary);
        let header_len = header_json.len() as u64;
        out.write_all(&header_len.to_le_bytes())
            .and_then(|()| out.write_all(&header_json))
            .map_err(write_error)?;
        let writer = AtomicSafetensorsWriter {
            path: path.to_path_buf(),
            out,
            pending_lens,
            bytes_written: 8 + header_len,
        };
        Ok((writer, order))
    }

    /// Appends the data of the next tensor, in the order [`create`](Self::create) returned.
    pub(crate) fn write_tensor(&mut self, bytes: &[u8]) -> Result<(), InterpError> {
        let expected = self.pending_lens.pop();
        assert_eq!(
            expected,
            Some(bytes.len()),
            "tensor data must follow the header, in order"
        );
        self.out
            .write_all(bytes)
            .map_err(|source| InterpError::Write {
                path: self.path.clone(),
                source,
            })?;
        self.bytes_written += bytes.len() as u64;
        Ok(())
    }

    /// Flushes, syncs and renames the file into place; returns its size in bytes.
    pub(crate) fn finish(self) -> Result<u64, InterpError> {
        assert!(self.pending_lens.is_empty(), "every tensor must be written");
        let path = self.path;
        let write_error = |source| InterpError::Write {
            path: path.clone(),
            source,
        };
        let temporary = self
            .out
            .into_inner()
            .map_err(|error| write_error(error.into_error()))?;
        temporary.commit().map_err(write_error)?;
        Ok(self.bytes_written)
    }
}

/// Copies the file `source` to `destination` atomically.
pub(crate) fn copy_atomically(source: &Path, destination: &Path) -> Result<(), InterpError> {
    let mut input = fs::File::open(source).map_err(|error| InterpError::Read {
        path: source.to_path_buf(),
        source: error,
    })?;
    let write_error = |source| InterpError::Write {
        path: destination.to_path_buf(),
        source,
    };
    let mut temporary = AtomicFile::create(destination).map_err(write_error)?;
    std::io::copy(&mut input, &mut temporary).map_err(write_error)?;
    temporary.commit().map_err(write_error)
}

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), InterpError> {
    lmc_atomic::write(path, bytes).map_err(|source| InterpError::Write {
        path: path.to_path_buf(),
        source,
    })
}

impl ParamSet {
    /// Writes the set as a safetensors file, atomically (a temporary file in the same directory,
    /// renamed into place).
    ///
    /// Float tensors are written in their stored type: `F32` values as they are, `F16`/`BF16`
    /// values rounded to nearest (ties to even), magnitudes beyond the type's range becoming
    /// infinities. Carried tensors are written unchanged, and the set's
    /// [`metadata`](Self::metadata) becomes the file's `__metadata__`.
    pub fn save_safetensors(&self, path: impl AsRef<Path>) -> Result<(), InterpError> {
        let path = path.as_ref();
        let tensors: Vec<_> = self.tensors().collect();
        let headers: Vec<HeaderEntry<'_>> = tensors.iter().map(HeaderEntry::from).collect();
        let (mut writer, order) = AtomicSafetensorsWriter::create(path, &headers, self.metadata())?;
        let mut half_bits: Vec<u16> = Vec::new();
        for &index in &order {
            let tensor = &tensors[index];
            match tensor.data {
                TensorData::Carried(bytes) => writer.write_tensor(bytes)?,
                TensorData::Float(values) if tensor.dtype == Dtype::F32 => {
                    writer.write_tensor(&numbers_as_le_bytes(values))?
                }
                TensorData::Float(values) => {
                    half_bits.resize(values.len(), 0);
                    narrow_into(values, tensor.dtype, &mut half_bits);
                    writer.write_tensor(&numbers_as_le_bytes(&half_bits))?;
                }
            }
        }
        writer.finish()?;
        Ok(())
    }
}
