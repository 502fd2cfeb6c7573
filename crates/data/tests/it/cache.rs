//! The token cache: hits, keys, atomic files, and recovery from corrupt entries.

use lmc_data::{
    CacheKey, CacheStatus, DEFAULT_MAX_LENGTH, Dataset, DatasetFormat, PairTokenizer, Subset,
    TokenCache,
};

use crate::common::{dataset, minilm_dir, temp_dir};

fn rte_dev() -> Dataset {
    DatasetFormat::Rte
        .load(&dataset("glue/RTE/dev.tsv"))
        .expect("RTE dev")
}

fn tokenizer(max_length: usize) -> PairTokenizer {
    PairTokenizer::from_model_dir(&minilm_dir(), max_length).expect("tokenizer")
}

#[test]
fn builds_then_hits_with_identical_content() {
    let dir = temp_dir();
    let cache = TokenCache::new(dir.path().join("tokens"));
    let tokenizer = tokenizer(DEFAULT_MAX_LENGTH);
    let rte = rte_dev();
    let (built, status) = cache.load_or_tokenize(&rte, &tokenizer).expect("build");
    assert_eq!(status, CacheStatus::Built);
    assert_eq!(built, tokenizer.encode_dataset(&rte).expect("encode"));
    let (hit, status) = cache.load_or_tokenize(&rte, &tokenizer).expect("hit");
    assert_eq!(status, CacheStatus::Hit);
    assert_eq!(hit, built);
    let files: Vec<_> = std::fs::read_dir(cache.dir())
        .expect("cache dir")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(files.len(), 1, "no temporary files are left: {files:?}");
}

#[test]
fn key_covers_max_length_selection_and_labels() {
    let rte = rte_dev();
    let base = CacheKey::new(&rte, &tokenizer(DEFAULT_MAX_LENGTH));
    assert_eq!(base.file_sha256, rte.report.sha256);
    assert_eq!(base.max_length, 128);
    let shorter = CacheKey::new(&rte, &tokenizer(64));
    assert_ne!(base.digest(), shorter.digest());
    let subset = rte.subset(Subset::First(100)).expect("subset");
    assert_ne!(
        base.digest(),
        CacheKey::new(&subset, &tokenizer(DEFAULT_MAX_LENGTH)).digest()
    );
    let mut relabelled = rte.clone();
    relabelled.examples[0].label = 1 - relabelled.examples[0].label;
    assert_ne!(
        base.digest(),
        CacheKey::new(&relabelled, &tokenizer(DEFAULT_MAX_LENGTH)).digest()
    );
}

#[test]
fn corrupt_or_truncated_entries_are_rebuilt() {
    let dir = temp_dir();
    let cache = TokenCache::new(dir.path());
    let tokenizer = tokenizer(DEFAULT_MAX_LENGTH);
    let rte = rte_dev();
    let (expected, _) = cache.load_or_tokenize(&rte, &tokenizer).expect("build");
    let entry = cache.entry_path(&CacheKey::new(&rte, &tokenizer));

    let mut bytes = std::fs::read(&entry).expect("entry");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    std::fs::write(&entry, &bytes).expect("corrupt");
    let (rebuilt, status) = cache.load_or_tokenize(&rte, &tokenizer).expect("rebuild");
    assert_eq!(status, CacheStatus::Rebuilt);
    assert_eq!(rebuilt, expected);
    assert_eq!(
        cache.load_or_tokenize(&rte, &tokenizer).expect("hit").1,
        CacheStatus::Hit
    );

    let full = std::fs::read(&entry).expect("entry");
    std::fs::write(&entry, &full[..full.len() / 3]).expect("truncate");
    assert_eq!(
        cache.load_or_tokenize(&rte, &tokenizer).expect("rebuild").1,
        CacheStatus::Rebuilt
    );

    std::fs::write(
        &entry,
        b"not a cache file at all, but long enough to have a checksum",
    )
    .expect("garbage");
    assert_eq!(
        cache.load_or_tokenize(&rte, &tokenizer).expect("rebuild").1,
        CacheStatus::Rebuilt
    );
}
