//! Streaming file-to-file merges against the in-memory path.

use std::fs;
use std::path::Path;

use lmc_interp::{
    CHECKPOINT_WEIGHTS_FILE, InterpError, MappedSafetensors, ParamSet, lerp, merge_checkpoint_dirs,
    merge_checkpoints, merge_safetensors_files,
};
use safetensors::SafeTensors;

use crate::helpers::{bits, carried, mixed_set, random_set};

fn write_pair(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (a, b) = (dir.join("a.safetensors"), dir.join("b.safetensors"));
    mixed_set(1).save_safetensors(&a).unwrap();
    mixed_set(2).save_safetensors(&b).unwrap();
    (a, b)
}

#[test]
fn streamed_merge_equals_the_in_memory_lerp_saved() {
    let dir = tempfile::tempdir().unwrap();
    let (a_path, b_path) = write_pair(dir.path());
    for alpha in [0.3f32, -0.25, 1.0 / 3.0] {
        let streamed = dir.path().join("streamed.safetensors");
        let summary = merge_safetensors_files(&a_path, &b_path, alpha, &streamed).unwrap();
        assert_eq!(summary.interpolated_tensors, 4);
        assert_eq!(summary.carried_tensors, 1);
        assert_eq!(summary.interpolated_values, 75_000 + 250 + 128 + 5);
        assert!(summary.non_finite_tensors.is_empty());
        assert_eq!(
            summary.bytes_written,
            fs::metadata(&streamed).unwrap().len()
        );

        let a = ParamSet::load_safetensors(&a_path).unwrap();
        let b = ParamSet::load_safetensors(&b_path).unwrap();
        let in_memory = dir.path().join("in-memory.safetensors");
        lerp(&a, &b, alpha)
            .unwrap()
            .save_safetensors(&in_memory)
            .unwrap();
        // Same rounding to F16/BF16, same header, same order: the files are identical.
        assert_eq!(
            fs::read(&streamed).unwrap(),
            fs::read(&in_memory).unwrap(),
            "alpha {alpha}"
        );

        let merged = ParamSet::load_safetensors(&streamed).unwrap();
        assert_eq!(carried(&merged), carried(&a), "integer buffers come from A");
        assert_eq!(
            merged.metadata().get("format").map(String::as_str),
            Some("pt")
        );
        let pooler = merged.tensor("pooler.weight").unwrap();
        assert_eq!(
            pooler.dtype,
            lmc_interp::Dtype::F16,
            "stored types are kept"
        );
    }
}

#[test]
fn merge_at_the_endpoints_reproduces_the_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (a_path, b_path) = write_pair(dir.path());
    let out = dir.path().join("out.safetensors");
    merge_safetensors_files(&a_path, &b_path, 0.0, &out).unwrap();
    assert_eq!(fs::read(&out).unwrap(), fs::read(&a_path).unwrap());
    merge_safetensors_files(&a_path, &b_path, 1.0, &out).unwrap();
    let merged = ParamSet::load_safetensors(&out).unwrap();
    let b = ParamSet::load_safetensors(&b_path).unwrap();
    let a = ParamSet::load_safetensors(&a_path).unwrap();
    assert_eq!(bits(&merged), bits(&b));
    assert_eq!(carried(&merged), carried(&a));
}

#[test]
fn written_files_are_valid_for_the_safetensors_crate() {
    let dir = tempfile::tempdir().unwrap();
    let (a_path, _) = write_pair(dir.path());
    let bytes = fs::read(&a_path).unwrap();
    let parsed = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(parsed.len(), 5);
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    assert_eq!(header_len % 8, 0, "data section is 8-byte aligned");
    let ids = parsed.tensor("embeddings.position_ids").unwrap();
    assert_eq!(ids.dtype(), safetensors::Dtype::I64);
    assert_eq!(&ids.data()[8..16], &101i64.to_le_bytes());
    // Every F32 tensor is aligned in the file, so the mapped view borrows it.
    let mapped = MappedSafetensors::open(&a_path).unwrap();
    let weight = mapped.tensor("encoder.weight").unwrap();
    assert!(matches!(
        weight.f32_values(),
        Some(std::borrow::Cow::Borrowed(_))
    ));
    assert!(
        mapped
            .tensor("embeddings.position_ids")
            .unwrap()
            .f32_values()
            .is_none()
    );
}

#[test]
fn files_written_by_the_safetensors_crate_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("external.safetensors");
    let weights: Vec<u8> = [1.0f32, -2.0, 3.5]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let ids: Vec<u8> = [4i64, 5].iter().flat_map(|v| v.to_le_bytes()).collect();
    let tensors = [
        (
            "w",
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![3], &weights)
                .unwrap(),
        ),
        (
            "ids",
            safetensors::tensor::TensorView::new(safetensors::Dtype::I64, vec![2], &ids).unwrap(),
        ),
    ];
    safetensors::serialize_to_file(tensors, None, &path).unwrap();
    let set = ParamSet::load_safetensors(&path).unwrap();
    assert_eq!(set.float_values(), &[1.0, -2.0, 3.5]);
    assert_eq!(carried(&set), vec![("ids".to_owned(), ids)]);
}

#[test]
fn a_failed_merge_leaves_an_existing_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (a_path, _) = write_pair(dir.path());
    let other = dir.path().join("other.safetensors");
    random_set(&[("w", &[3])], 4)
        .save_safetensors(&other)
        .unwrap();
    let out = dir.path().join("out.safetensors");
    fs::write(&out, b"previous result").unwrap();
    assert!(merge_safetensors_files(&a_path, &other, 0.5, &out).is_err());
    assert!(merge_safetensors_files(&a_path, &a_path, f32::NAN, &out).is_err());
    assert_eq!(fs::read(&out).unwrap(), b"previous result");

    // A file where the output's folder should be: no folder can be made there.
    let blocker = dir.path().join("not-a-dir");
    fs::write(&blocker, b"a file").unwrap();
    let unwritable = blocker.join("out.safetensors");
    let error = merge_safetensors_files(&a_path, &a_path, 0.5, &unwritable).unwrap_err();
    assert!(matches!(error, InterpError::Write { .. }), "{error}");
    assert!(error.to_string().contains("not-a-dir"));
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn non_finite_outputs_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (a_path, b_path) = (
        dir.path().join("a.safetensors"),
        dir.path().join("b.safetensors"),
    );
    ParamSet::from_f32_tensors([
        ("bad", vec![2], vec![f32::NAN, 1.0]),
        ("good", vec![1], vec![1.0]),
    ])
    .unwrap()
    .save_safetensors(&a_path)
    .unwrap();
    ParamSet::from_f32_tensors([
        ("bad", vec![2], vec![0.0, 1.0]),
        ("good", vec![1], vec![2.0]),
    ])
    .unwrap()
    .save_safetensors(&b_path)
    .unwrap();
    let out = dir.path().join("out.safetensors");
    let summary = merge_safetensors_files(&a_path, &b_path, 0.5, &out).unwrap();
    assert_eq!(summary.non_finite_tensors, vec!["bad".to_owned()]);
}

fn write_checkpoint(dir: &Path, seed: u64) {
    fs::create_dir_all(dir).unwrap();
    mixed_set(seed)
        .save_safetensors(dir.join(CHECKPOINT_WEIGHTS_FILE))
        .unwrap();
    fs::write(dir.join("config.json"), format!("{{\"seed\": {seed}}}")).unwrap();
    fs::write(dir.join("vocab.txt"), format!("[PAD]\n[UNK]\nseed{seed}\n")).unwrap();
}

#[test]
fn checkpoint_directories_merge_weights_and_copy_companions_from_a() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    write_checkpoint(&a, 1);
    write_checkpoint(&b, 2);
    fs::write(b.join("tokenizer.json"), "{}").unwrap();
    let out = root.path().join("runs").join("mid");
    let summary = merge_checkpoint_dirs(&a, &b, 0.5, &out).unwrap();
    assert_eq!(summary.output, out.join(CHECKPOINT_WEIGHTS_FILE));
    assert_eq!(
        summary.copied_files,
        vec![out.join("config.json"), out.join("vocab.txt")]
    );
    assert_eq!(
        fs::read(out.join("config.json")).unwrap(),
        fs::read(a.join("config.json")).unwrap()
    );
    assert!(
        !out.join("tokenizer.json").exists(),
        "companions come from A only"
    );

    let expected = lerp(
        &ParamSet::load_safetensors(a.join(CHECKPOINT_WEIGHTS_FILE)).unwrap(),
        &ParamSet::load_safetensors(b.join(CHECKPOINT_WEIGHTS_FILE)).unwrap(),
        0.5,
    )
    .unwrap();
    let merged = ParamSet::load_safetensors(&summary.output).unwrap();
    // F16/BF16 tensors were rounded on the way to the file; the F32 ones are exact.
    let weight = |set: &ParamSet| match set.tensor("encoder.weight").unwrap().data {
        lmc_interp::TensorData::Float(values) => values.to_vec(),
        lmc_interp::TensorData::Carried(_) => unreachable!(),
    };
    assert_eq!(weight(&merged), weight(&expected));

    // The dispatching entry point accepts the same directories, or two files.
    let again = root.path().join("again");
    merge_checkpoints(&a, &b, 0.5, &again).unwrap();
    assert_eq!(
        fs::read(again.join(CHECKPOINT_WEIGHTS_FILE)).unwrap(),
        fs::read(out.join(CHECKPOINT_WEIGHTS_FILE)).unwrap()
    );
    let file_out = root.path().join("file.safetensors");
    merge_checkpoints(
        a.join(CHECKPOINT_WEIGHTS_FILE),
        b.join(CHECKPOINT_WEIGHTS_FILE),
        0.5,
        &file_out,
    )
    .unwrap();
    assert_eq!(
        fs::read(&file_out).unwrap(),
        fs::read(out.join(CHECKPOINT_WEIGHTS_FILE)).unwrap()
    );
}

#[test]
fn checkpoint_errors_name_the_directory_or_inputs() {
    let root = tempfile::tempdir().unwrap();
    let (a, empty) = (root.path().join("a"), root.path().join("empty"));
    write_checkpoint(&a, 1);
    fs::create_dir_all(&empty).unwrap();
    let out = root.path().join("out");
    let error = merge_checkpoint_dirs(&a, &empty, 0.5, &out).unwrap_err();
    assert!(matches!(error, InterpError::MissingCheckpointFile { .. }));
    assert!(error.to_string().contains("empty"), "{error}");
    assert!(
        !out.exists(),
        "nothing is created before the inputs check out"
    );

    let error = merge_checkpoints(&a, a.join(CHECKPOINT_WEIGHTS_FILE), 0.5, &out).unwrap_err();
    assert!(matches!(error, InterpError::MixedInputs { .. }));
    let error = merge_checkpoints(root.path().join("nope"), &a, 0.5, &out).unwrap_err();
    assert!(matches!(error, InterpError::Read { .. }));
}
