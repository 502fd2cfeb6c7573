//! Contiguous copies of permuted tensors on the CPU backend (lmc's patched burn-flex copies
//! layouts whose innermost dim is contiguous run by run, `vendor/README.md`), checked element by
//! element against the index arithmetic of the permutation.

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};

fn counting(shape: [usize; 4]) -> Tensor<Flex, 4> {
    let n = shape.iter().product::<usize>();
    let values: Vec<f32> = (0..n).map(|i| i as f32).collect();
    Tensor::from_data(TensorData::new(values, shape), &Default::default())
}

fn values<const D: usize>(tensor: Tensor<Flex, D>) -> Vec<f32> {
    tensor.into_data().into_vec::<f32>().unwrap()
}

#[test]
fn swapping_heads_and_positions_then_flattening_copies_every_element_to_its_place() {
    let [batch, heads, seq, head] = [3, 4, 5, 6];
    let x = counting([batch, heads, seq, head]);
    let flat = values(x.swap_dims(1, 2).reshape([batch * seq, heads * head]));
    for b in 0..batch {
        for s in 0..seq {
            for h in 0..heads {
                for d in 0..head {
                    let source = ((b * heads + h) * seq + s) * head + d;
                    let target = ((b * seq + s) * heads + h) * head + d;
                    assert_eq!(flat[target], source as f32, "b {b} s {s} h {h} d {d}");
                }
            }
        }
    }
}

#[test]
fn a_sliced_permuted_view_copies_from_its_offset() {
    let x = counting([2, 3, 4, 5]);
    let view = x.slice([1..2, 0..3, 1..4, 0..5]).swap_dims(1, 2);
    let copied = values(view.reshape([9, 5]));
    let mut expected = Vec::new();
    for s in 1..4 {
        for h in 0..3 {
            for d in 0..5 {
                expected.push((((3 + h) * 4 + s) * 5 + d) as f32);
            }
        }
    }
    assert_eq!(copied, expected);
}

#[test]
fn a_permutation_moving_the_innermost_dim_still_copies_correctly() {
    let x = counting([2, 3, 4, 5]);
    let copied = values(x.permute([3, 1, 0, 2]).reshape([5, 24]));
    let mut expected = Vec::new();
    for d in 0..5 {
        for h in 0..3 {
            for b in 0..2 {
                for s in 0..4 {
                    expected.push((((b * 3 + h) * 4 + s) * 5 + d) as f32);
                }
            }
        }
    }
    assert_eq!(copied, expected);
}
