//! burn-flex patch 1 (`vendor/patches/burn-flex/0001-…`): new buffers are allocated with their
//! element's alignment instead of as bytes. The buffers must still be zeroed and of the right
//! length for every element size the allocation now distinguishes (2, 4 and 8 bytes, and the
//! byte-sized fallback), and products written into them must be right.

use burn::backend::Flex;
use burn::tensor::{Bool, DType, Int, Tensor, TensorData};

fn floats(tensor: Tensor<Flex, 2>) -> Vec<f64> {
    tensor.into_data().convert::<f64>().into_vec().unwrap()
}

#[test]
fn new_buffers_are_zeroed_in_every_element_size() {
    let device = Default::default();
    for dtype in [DType::F16, DType::BF16, DType::F32, DType::F64] {
        let values = floats(Tensor::<Flex, 2>::empty([7, 5], (&device, dtype)));
        assert_eq!(values, vec![0.0; 35], "{dtype:?}");
    }
    for dtype in [DType::I8, DType::I16, DType::I32, DType::I64] {
        let values: Vec<i64> = Tensor::<Flex, 2, Int>::empty([3, 11], (&device, dtype))
            .into_data()
            .convert::<i64>()
            .into_vec()
            .unwrap();
        assert_eq!(values, vec![0; 33], "{dtype:?}");
    }
    let flags: Vec<bool> = Tensor::<Flex, 2, Bool>::empty([4, 9], &device)
        .into_data()
        .into_vec()
        .unwrap();
    assert_eq!(flags, vec![false; 36]);
}

#[test]
fn products_into_new_buffers_are_exact_in_every_float_size() {
    let device = Default::default();
    // Small integers: every product and sum is exact in f16, bf16, f32 and f64.
    let a: Vec<f32> = (0..12).map(|i| (i % 5) as f32 - 2.0).collect();
    let b: Vec<f32> = (0..20).map(|i| (i % 3) as f32 - 1.0).collect();
    let expected: Vec<f64> = (0..3)
        .flat_map(|r| {
            let (a, b) = (&a, &b);
            (0..5).map(move |c| (0..4).map(|k| f64::from(a[r * 4 + k] * b[k * 5 + c])).sum())
        })
        .collect();
    for dtype in [DType::F16, DType::BF16, DType::F32, DType::F64] {
        let lhs =
            Tensor::<Flex, 2>::from_data(TensorData::new(a.clone(), [3, 4]), &device).cast(dtype);
        let rhs =
            Tensor::<Flex, 2>::from_data(TensorData::new(b.clone(), [4, 5]), &device).cast(dtype);
        assert_eq!(floats(lhs.matmul(rhs)), expected, "{dtype:?}");
    }
}
