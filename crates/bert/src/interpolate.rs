//! Interpolation of two burn modules on their device, for sweeps that should not round-trip
//! weights through host memory (GPU backends). The host-side kernel for named tensors and files
//! is `lmc-interp`; this is its counterpart for modules already resident on a device.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::BertError;

/// Float parameters of a module in visiting order, flattened, with their shapes.
struct FlatParameters<B: Backend> {
    tensors: Vec<Tensor<B, 1>>,
    shapes: Vec<Vec<usize>>,
}

impl<B: Backend> ModuleVisitor<B> for FlatParameters<B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val();
        self.shapes.push(value.dims().to_vec());
        self.tensors.push(value.flatten(0, D - 1));
    }
}

/// Replaces each float parameter `a` by `(1 − alpha)·a + alpha·b`, `b` taken in visiting order.
struct LerpMapper<B: Backend> {
    others: std::iter::Zip<std::vec::IntoIter<Tensor<B, 1>>, std::vec::IntoIter<Vec<usize>>>,
    alpha: f64,
    visited: usize,
    mismatch: Option<String>,
}

impl<B: Backend> ModuleMapper<B> for LerpMapper<B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        self.visited += 1;
        let Some((other, other_shape)) = self.others.next() else {
            self.mismatch
                .get_or_insert_with(|| "the first module has more parameters".to_string());
            return param;
        };
        let alpha = self.alpha;
        let index = self.visited;
        let mismatch = &mut self.mismatch;
        param.map(|a| {
            let dims = a.dims();
            if dims.as_slice() != other_shape.as_slice() {
                mismatch.get_or_insert_with(|| {
                    format!("parameter {index}: shape {dims:?} in the first module, {other_shape:?} in the second")
                });
                return a;
            }
            a.mul_scalar(1.0 - alpha) + other.reshape(dims).mul_scalar(alpha)
        })
    }
}

/// `(1 − alpha)·a + alpha·b` for every float parameter of two modules of the same architecture,
/// computed on their device. `alpha` = 0 and 1 return the endpoints themselves, bit for bit; any
/// real `alpha` is allowed (extrapolation included).
pub fn lerp_modules<B: Backend, M: Module<B>>(a: M, b: &M, alpha: f64) -> Result<M, BertError> {
    let mut flat = FlatParameters {
        tensors: Vec::new(),
        shapes: Vec::new(),
    };
    b.visit(&mut flat);
    let count = flat.tensors.len();
    if alpha == 0.0 || alpha == 1.0 {
        let own = a.num_params();
        if own != b.num_params() {
            return Err(mismatch(format!(
                "{own} values in the first module, {} in the second",
                b.num_params()
            )));
        }
        return Ok(if alpha == 0.0 { a } else { b.clone() });
    }
    let mut mapper = LerpMapper {
        others: flat.tensors.into_iter().zip(flat.shapes),
        alpha,
        visited: 0,
        mismatch: None,
    };
    let result = a.map(&mut mapper);
    if mapper.visited != count {
        mapper.mismatch.get_or_insert_with(|| {
            format!(
                "{} parameters in the first module, {count} in the second",
                mapper.visited
            )
        });
    }
    match mapper.mismatch {
        Some(problem) => Err(mismatch(problem)),
        None => Ok(result),
    }
}

fn mismatch(problem: String) -> BertError {
    BertError::Mismatch {
        source_name: "module interpolation".to_string(),
        problems: vec![problem],
    }
}
