//! Every validation failure is a typed error that names what is wrong.

use std::fs;

use lmc_interp::{
    Dtype, InterpError, MappedSafetensors, MismatchKind, ParamSet, ParamSetBuilder, affine,
    check_compatible, dot, lerp, lerp_into, merge_safetensors_files,
};

use crate::helpers::{mixed_set, random_set, values};

fn zeros<S: AsRef<str>>(shapes: &[(S, Vec<usize>)]) -> ParamSet {
    ParamSet::from_f32_tensors(shapes.iter().map(|(name, shape)| {
        (
            name.as_ref(),
            shape.clone(),
            vec![0.0; shape.iter().product()],
        )
    }))
    .unwrap()
}

fn mismatch(error: InterpError) -> lmc_interp::LayoutMismatch {
    match error {
        InterpError::Mismatch(mismatch) => *mismatch,
        other => panic!("expected a layout mismatch, got {other}"),
    }
}

#[test]
fn shape_mismatch_names_the_first_key_and_counts_the_rest() {
    let name = |layer: usize| format!("encoder.layer.{layer}.output.dense.weight");
    let mut left = vec![(name(3), vec![384, 1536])];
    let mut right = vec![(name(3), vec![384, 768])];
    for layer in 4..8 {
        left.push((name(layer), vec![4, 6]));
        right.push((name(layer), vec![4, 3]));
    }
    left.push(("classifier.bias".to_owned(), vec![3]));
    right.push(("classifier.bias".to_owned(), vec![3]));
    let (a, b) = (zeros(&left), zeros(&right));
    let error = lerp(&a, &b, 0.5).unwrap_err();
    assert_eq!(
        error.to_string(),
        "key `encoder.layer.3.output.dense.weight`: shape [384, 1536] in A vs [384, 768] in B \
         (and 4 more mismatches)"
    );
    let mismatch = mismatch(error);
    assert_eq!(mismatch.further, 4);
    assert_eq!(
        mismatch.kind,
        MismatchKind::Shape {
            left: vec![384, 1536],
            right: vec![384, 768]
        }
    );
}

#[test]
fn missing_and_extra_keys_are_reported_from_either_side() {
    let a = zeros(&[("a.weight", vec![2]), ("b.weight", vec![2])]);
    let b = zeros(&[("b.weight", vec![2]), ("c.weight", vec![2])]);
    let error = check_compatible(&a, &b).unwrap_err();
    assert_eq!(
        error.to_string(),
        "key `a.weight` is in A but not in B (and 1 more mismatch)"
    );
    let error = mismatch(check_compatible(&b, &a).unwrap_err());
    assert_eq!(error.key, "a.weight");
    assert_eq!(error.kind, MismatchKind::MissingOnLeft);
    assert!(dot(&a, &b).is_err());
}

#[test]
fn dtype_mismatch_is_reported() {
    let a = ParamSetBuilder::new()
        .float("w", vec![2], vec![1.0, 2.0])
        .build()
        .unwrap();
    let b = ParamSetBuilder::new()
        .float_stored_as("w", vec![2], vec![1.0, 2.0], Dtype::F16)
        .build()
        .unwrap();
    let error = lerp(&a, &b, 0.5).unwrap_err();
    assert_eq!(error.to_string(), "key `w`: dtype F32 in A vs F16 in B");
}

#[test]
fn affine_mismatch_labels_the_set_by_position() {
    let a = zeros(&[("w", vec![2])]);
    let c = zeros(&[("w", vec![3])]);
    let error = affine(&[&a, &a, &c], &[1.0, 1.0, 1.0]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "key `w`: shape [2] in set 0 vs [3] in set 2"
    );
    let error = affine(&[&a, &a], &[1.0]).unwrap_err();
    assert!(matches!(
        error,
        InterpError::WeightCount {
            sets: 2,
            weights: 1
        }
    ));
    assert!(matches!(
        affine(&[], &[]),
        Err(InterpError::WeightCount { .. })
    ));
}

#[test]
fn a_failed_in_place_call_leaves_the_destination_untouched() {
    let a = zeros(&[("w", vec![2])]);
    let b = zeros(&[("w", vec![3])]);
    let mut dst = ParamSet::from_f32_tensors([("v", vec![1], vec![7.0])]).unwrap();
    assert!(lerp_into(&mut dst, &a, &b, 0.5).is_err());
    assert!(lerp_into(&mut dst, &a, &a, f32::NAN).is_err());
    assert_eq!(dst.float_values(), &[7.0]);
    assert_eq!(dst.tensors().next().unwrap().name, "v");
}

#[test]
fn non_finite_weights_are_rejected() {
    let a = zeros(&[("w", vec![2])]);
    for alpha in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        assert!(matches!(
            lerp(&a, &a, alpha),
            Err(InterpError::NonFiniteWeight { .. })
        ));
    }
}

#[test]
fn builder_rejects_inconsistent_tensors() {
    let error = ParamSetBuilder::new()
        .float("w", vec![2, 3], vec![0.0; 5])
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "tensor `w`: shape [2, 3] needs 6 values, got 5"
    );
    let error = ParamSet::from_f32_tensors([("w", vec![1], vec![0.0]), ("w", vec![1], vec![1.0])])
        .unwrap_err();
    assert!(matches!(error, InterpError::DuplicateKey { key } if key == "w"));
    let error = ParamSetBuilder::new()
        .carried("ids", vec![2], Dtype::I64, vec![0; 8])
        .build()
        .unwrap_err();
    assert!(
        error.to_string().contains("needs 16 bytes, got 8"),
        "{error}"
    );
    let error = ParamSetBuilder::new()
        .carried("w", vec![1], Dtype::F32, vec![0; 4])
        .build()
        .unwrap_err();
    assert!(matches!(error, InterpError::InvalidTensor { .. }));
    let error = ParamSetBuilder::new()
        .float_stored_as("w", vec![1], vec![0.0], Dtype::I32)
        .build()
        .unwrap_err();
    assert!(matches!(error, InterpError::InvalidTensor { .. }));
}

#[test]
fn check_finite_names_the_first_offending_tensor() {
    let mut w = values(10, 1, 1.0);
    w[7] = f32::NAN;
    let mut z = values(4, 2, 1.0);
    z[1] = f32::INFINITY;
    let set = ParamSet::from_f32_tensors([
        ("b.weight", vec![10], w),
        ("a.bias", vec![4], values(4, 3, 1.0)),
        ("z.weight", vec![4], z),
    ])
    .unwrap();
    match set.check_finite() {
        Err(InterpError::NonFinite { key, index, value }) => {
            assert_eq!((key.as_str(), index), ("b.weight", 7));
            assert!(value.is_nan());
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
    assert!(mixed_set(1).check_finite().is_ok());
}

#[test]
fn truncated_garbage_and_empty_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let valid = dir.path().join("valid.safetensors");
    random_set(&[("w", &[64, 3])], 1)
        .save_safetensors(&valid)
        .unwrap();
    let full = fs::read(&valid).unwrap();

    let truncated = dir.path().join("truncated.safetensors");
    fs::write(&truncated, &full[..full.len() - 10]).unwrap();
    let header_cut = dir.path().join("header-cut.safetensors");
    fs::write(&header_cut, &full[..20]).unwrap();
    let garbage = dir.path().join("garbage.safetensors");
    fs::write(
        &garbage,
        values(100, 9, 1.0)
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let empty = dir.path().join("empty.safetensors");
    fs::write(&empty, b"").unwrap();

    for path in [&truncated, &header_cut, &garbage, &empty] {
        let error = MappedSafetensors::open(path).unwrap_err();
        assert!(matches!(error, InterpError::Corrupt { .. }), "{error}");
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
        assert!(ParamSet::load_safetensors(path).is_err());
    }
    let missing = dir.path().join("missing.safetensors");
    let error = MappedSafetensors::open(&missing).unwrap_err();
    assert!(matches!(error, InterpError::Read { .. }));
    assert!(error.to_string().contains("missing.safetensors"));
}

#[test]
fn unsupported_dtypes_are_rejected_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f64.safetensors");
    let data = vec![0u8; 16];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F64, vec![2], &data).unwrap();
    safetensors::serialize_to_file([("double", view)], None, &path).unwrap();
    let error = MappedSafetensors::open(&path).unwrap_err();
    assert!(
        matches!(&error, InterpError::UnsupportedDtype { key, dtype, .. } if key == "double" && dtype == "F64"),
        "{error}"
    );
}

#[test]
fn merging_mismatched_files_names_both_paths_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        dir.path().join("a.safetensors"),
        dir.path().join("b.safetensors"),
    );
    random_set(&[("w", &[4, 4]), ("v", &[2])], 1)
        .save_safetensors(&a)
        .unwrap();
    random_set(&[("w", &[4, 2]), ("v", &[2])], 2)
        .save_safetensors(&b)
        .unwrap();
    let out = dir.path().join("out.safetensors");
    let error = merge_safetensors_files(&a, &b, 0.5, &out).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("key `w`: shape [4, 4] in "),
        "{message}"
    );
    assert!(
        message.contains(&a.display().to_string()) && message.contains(&b.display().to_string())
    );
    assert!(!out.exists());
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        2,
        "no stray temporary file"
    );
}
