//! An on-disk cache of tokenized datasets, so repeated evaluations do not re-tokenize.
//!
//! An entry is keyed by the sha256 of the source file, the tokenizer's fingerprint, the maximum
//! length, and a digest of the selected rows and their label ids (a subset, split or filter of a
//! file is a different entry, and so is a different label order). Its file, `<key>.tok` in the
//! cache directory, is written atomically (a temporary file in the same directory, then a rename).
//!
//! File layout, little-endian: the magic `LMCTOK01`; a `u32` length and that many bytes of JSON
//! header (the key's parts, the dataset name, the number of labels and examples); per example
//! `u64` source row index, `u32` label, `u32` token count `n`, `n` × `u32` token ids, `n` × `u8`
//! token type ids; finally the 32-byte sha256 of everything before it. A file that is truncated,
//! fails its checksum or does not match its key is ignored with a warning and rebuilt.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dataset::Dataset;
use crate::digest::to_hex;
use crate::error::{DataError, Result};
use crate::tokenize::{PairTokenizer, TokenizedDataset, TokenizedExample};

const MAGIC: &[u8; 8] = b"LMCTOK01";

/// What identifies a cache entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// sha256 of the source data file.
    pub file_sha256: String,
    /// The tokenizer's fingerprint ([`PairTokenizer::fingerprint`]).
    pub tokenizer_fingerprint: String,
    /// Maximum sequence length.
    pub max_length: usize,
    /// sha256 of the selected rows' indices and label ids, in order.
    pub selection_sha256: String,
}

impl CacheKey {
    /// The key of `dataset` tokenized by `tokenizer`.
    pub fn new(dataset: &Dataset, tokenizer: &PairTokenizer) -> Self {
        let mut selection = Sha256::new();
        for example in &dataset.examples {
            selection.update((example.index as u64).to_le_bytes());
            selection.update((example.label as u64).to_le_bytes());
        }
        CacheKey {
            file_sha256: dataset.report.sha256.clone(),
            tokenizer_fingerprint: tokenizer.fingerprint().to_owned(),
            max_length: tokenizer.max_length(),
            selection_sha256: to_hex(&selection.finalize()),
        }
    }

    /// The digest naming the entry's file.
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [
            self.file_sha256.as_bytes(),
            self.tokenizer_fingerprint.as_bytes(),
            &(self.max_length as u64).to_le_bytes(),
            self.selection_sha256.as_bytes(),
        ] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        to_hex(&hasher.finalize())
    }
}

/// The header stored in each cache file.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct CacheHeader {
    key: CacheKey,
    name: String,
    num_labels: usize,
    examples: usize,
}

/// What [`TokenCache::load_or_tokenize`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheStatus {
    /// The entry existed and was read.
    Hit,
    /// There was no entry; the dataset was tokenized and stored.
    Built,
    /// The entry was unreadable or corrupt; it was rebuilt.
    Rebuilt,
}

/// A directory of tokenized datasets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCache {
    dir: PathBuf,
}

impl TokenCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        TokenCache { dir: dir.into() }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding the entry for `key`.
    pub fn entry_path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.tok", key.digest()))
    }

    /// The tokenized `dataset`: read from the cache when a valid entry exists, otherwise
    /// tokenized and stored.
    pub fn load_or_tokenize(
        &self,
        dataset: &Dataset,
        tokenizer: &PairTokenizer,
    ) -> Result<(TokenizedDataset, CacheStatus)> {
        let key = CacheKey::new(dataset, tokenizer);
        let path = self.entry_path(&key);
        let mut status = CacheStatus::Built;
        match std::fs::read(&path) {
            Ok(bytes) => match decode(&bytes, &key) {
                Ok(mut tokenized) => {
                    tokenized.name = dataset.name.clone();
                    return Ok((tokenized, CacheStatus::Hit));
                }
                Err(problem) => {
                    tracing::warn!(
                        path = %path.display(),
                        "ignoring unusable token-cache entry ({problem}); rebuilding it"
                    );
                    status = CacheStatus::Rebuilt;
                }
            },
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(DataError::io(&path, error)),
        }
        let tokenized = tokenizer.encode_dataset(dataset)?;
        self.store(&key, &tokenized)?;
        Ok((tokenized, status))
    }

    fn store(&self, key: &CacheKey, tokenized: &TokenizedDataset) -> Result<()> {
        let bytes = encode(key, tokenized)?;
        let path = self.entry_path(key);
        lmc_atomic::write(&path, &bytes).map_err(|error| DataError::io(&path, error))
    }
}

fn encode(key: &CacheKey, tokenized: &TokenizedDataset) -> Result<Vec<u8>> {
    let header = serde_json::to_vec(&CacheHeader {
        key: key.clone(),
        name: tokenized.name.clone(),
        num_labels: tokenized.num_labels,
        examples: tokenized.len(),
    })
    .map_err(|error| DataError::InvalidInput(format!("cache header: {error}")))?;
    let mut bytes = Vec::new();
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&header);
    for example in &tokenized.examples {
        bytes.extend_from_slice(&(example.source_index as u64).to_le_bytes());
        bytes.extend_from_slice(&(example.label as u32).to_le_bytes());
        bytes.extend_from_slice(&(example.input_ids.len() as u32).to_le_bytes());
        for id in &example.input_ids {
            bytes.extend_from_slice(&id.to_le_bytes());
        }
        for &token_type in &example.token_type_ids {
            let token_type = u8::try_from(token_type).map_err(|_| {
                DataError::InvalidInput(format!("token type {token_type} does not fit a byte"))
            })?;
            bytes.push(token_type);
        }
    }
    let checksum = Sha256::digest(&bytes);
    bytes.extend_from_slice(&checksum);
    Ok(bytes)
}

/// Reads bytes off the front of a slice; every read reports truncation as an error.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> std::result::Result<&'a [u8], String> {
        if self.bytes.len() < count {
            return Err("the file is truncated".to_owned());
        }
        let (head, tail) = self.bytes.split_at(count);
        self.bytes = tail;
        Ok(head)
    }

    fn u32(&mut self) -> std::result::Result<u32, String> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn u64(&mut self) -> std::result::Result<u64, String> {
        let bytes = self.take(8)?;
        let mut array = [0; 8];
        array.copy_from_slice(bytes);
        Ok(u64::from_le_bytes(array))
    }
}

fn decode(bytes: &[u8], key: &CacheKey) -> std::result::Result<TokenizedDataset, String> {
    if bytes.len() < MAGIC.len() + 32 || &bytes[..MAGIC.len()] != MAGIC {
        return Err("not a token-cache file".to_owned());
    }
    let (content, checksum) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(content).as_slice() != checksum {
        return Err("checksum mismatch".to_owned());
    }
    let mut reader = Reader {
        bytes: &content[MAGIC.len()..],
    };
    let header_len = reader.u32()? as usize;
    let header: CacheHeader = serde_json::from_slice(reader.take(header_len)?)
        .map_err(|error| format!("bad header: {error}"))?;
    if &header.key != key {
        return Err("the entry belongs to another key".to_owned());
    }
    let mut examples = Vec::with_capacity(header.examples.min(content.len() / 16));
    for _ in 0..header.examples {
        let source_index = reader.u64()? as usize;
        let label = reader.u32()? as usize;
        let len = reader.u32()? as usize;
        let ids = reader.take(len.checked_mul(4).ok_or("bad token count")?)?;
        let types = reader.take(len)?;
        examples.push(TokenizedExample {
            source_index,
            label,
            input_ids: ids
                .chunks_exact(4)
                .map(|id| u32::from_le_bytes([id[0], id[1], id[2], id[3]]))
                .collect(),
            token_type_ids: types
                .iter()
                .map(|&token_type| u32::from(token_type))
                .collect(),
        });
    }
    if !reader.bytes.is_empty() {
        return Err("trailing bytes after the examples".to_owned());
    }
    Ok(TokenizedDataset {
        name: header.name,
        num_labels: header.num_labels,
        examples,
    })
}
