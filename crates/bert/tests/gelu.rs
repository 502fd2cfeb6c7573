//! The exact GELU of the CPU backend (lmc's patched burn-flex, `vendor/README.md`) against the
//! formula computed with libm's `erff` and `expf`, value and derivative, over [-10, 10].

use burn::backend::{Autodiff, Flex};
use burn::tensor::activation::gelu;
use burn::tensor::{Tensor, TensorData};

const POINTS: usize = 200_001;

fn points() -> Vec<f32> {
    (0..POINTS)
        .map(|i| -10.0 + 20.0 * i as f32 / (POINTS - 1) as f32)
        .collect()
}

fn cdf(x: f32) -> f32 {
    0.5 * (1.0 + libm::erff(x / std::f32::consts::SQRT_2))
}

#[test]
fn gelu_and_its_gradient_match_the_libm_formula() {
    type B = Autodiff<Flex>;
    let device = Default::default();
    let xs = points();
    let x =
        Tensor::<B, 1>::from_data(TensorData::new(xs.clone(), [POINTS]), &device).require_grad();
    let y = gelu(x.clone());
    let values = y.clone().into_data().into_vec::<f32>().unwrap();
    let gradients = y.sum().backward();
    let derivatives = x
        .grad(&gradients)
        .unwrap()
        .into_data()
        .into_vec::<f32>()
        .unwrap();

    let inv_sqrt_2pi = 1.0 / (2.0 * std::f32::consts::PI).sqrt();
    for ((&x, &value), &derivative) in xs.iter().zip(&values).zip(&derivatives) {
        let expected = x * cdf(x);
        assert!(
            (value - expected).abs() <= 1e-6 * (1.0 + x.abs()),
            "gelu({x}) = {value}, formula {expected}"
        );
        let expected = cdf(x) + x * inv_sqrt_2pi * libm::expf(-0.5 * x * x);
        assert!(
            (derivative - expected).abs() <= 2e-6,
            "gelu'({x}) = {derivative}, formula {expected}"
        );
    }
}
