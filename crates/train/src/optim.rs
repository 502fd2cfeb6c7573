//! AdamW with decoupled weight decay and global gradient-norm clipping, as PyTorch's
//! `torch.optim.AdamW` and `torch.nn.utils.clip_grad_norm_` compute them.
//!
//! burn's own optimizers key their state by [`burn::module::ParamId`], which is drawn afresh
//! whenever a model is rebuilt from a checkpoint, and clip each gradient tensor on its own. Here
//! the state is keyed by the parameter's position in the module tree (stable for one
//! architecture), stored as safetensors next to the model, and clipping uses the norm of all
//! gradients together.
//!
//! Weight decay applies to parameters of two or more dimensions (linear and embedding weights)
//! and not to vectors: for BERT these are exactly the biases and LayerNorm parameters that the
//! paper's recipe (and transformers' `Trainer`) exclude.
//!
//! On burn's flex CPU backend, whose tensors live in host memory, each parameter is updated in
//! one fused pass over its values, gradient and moments, in parallel chunks; other backends
//! (a GPU's) run the same arithmetic as tensor operations. Both paths round each operation the
//! same way in f32, so they give identical values (tested; at most the sign of a zero moment
//! can differ, as the fused pass starts from zero moments).

use std::path::Path;

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor, TensorData};
use lmc_bert::{CPU_BACKEND, HostTensor};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// Hyper-parameters of [`AdamW`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamWSettings {
    /// Decay of the first moment (β₁).
    pub beta1: f64,
    /// Decay of the second moment (β₂).
    pub beta2: f64,
    /// Added to the denominator (ε).
    pub epsilon: f64,
    /// Decoupled weight decay of matrices.
    pub weight_decay: f64,
    /// Largest global gradient norm; `None` disables clipping.
    pub max_grad_norm: Option<f64>,
}

/// Moment estimates of one parameter, flattened.
#[derive(Debug, Clone)]
struct Moments<B: Backend> {
    first: Tensor<B, 1>,
    second: Tensor<B, 1>,
}

/// AdamW state for one model: moments per parameter position and the number of updates made.
#[derive(Debug, Clone)]
pub struct AdamW<B: Backend> {
    settings: AdamWSettings,
    moments: Vec<Option<Moments<B>>>,
    updates: u64,
}

/// What one update did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpdateReport {
    /// Global L2 norm of the gradients before clipping.
    pub grad_norm: f64,
}

impl<B: Backend> AdamW<B> {
    /// A fresh optimizer (no moments, zero updates).
    pub fn new(settings: AdamWSettings) -> Self {
        AdamW {
            settings,
            moments: Vec::new(),
            updates: 0,
        }
    }

    /// Updates made so far.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// One update of every parameter of `module` that has a gradient in `gradients`, with
    /// learning rate `learning_rate`. The gradients are consumed: each parameter's is taken out
    /// of `gradients`, so that on the CPU its buffer is updated without a copy.
    pub fn step<AB, M>(
        &mut self,
        module: M,
        gradients: AB::Gradients,
        learning_rate: f64,
    ) -> (M, UpdateReport)
    where
        AB: AutodiffBackend<InnerBackend = B>,
        M: AutodiffModule<AB>,
    {
        self.step_on_path(module, gradients, learning_rate, None)
    }

    /// [`AdamW::step`], fused on the host or as tensor operations as `fused` says (`None`: as
    /// the backend suggests).
    fn step_on_path<AB, M>(
        &mut self,
        module: M,
        mut gradients: AB::Gradients,
        learning_rate: f64,
        fused: Option<bool>,
    ) -> (M, UpdateReport)
    where
        AB: AutodiffBackend<InnerBackend = B>,
        M: AutodiffModule<AB>,
    {
        let mut norm = SquaredNorm::<AB> {
            gradients: &gradients,
            total: None,
        };
        module.visit(&mut norm);
        let grad_norm = norm
            .total
            .map(|total| total.into_scalar().elem::<f64>().sqrt())
            .unwrap_or(0.0);
        let clip = match self.settings.max_grad_norm {
            Some(max) => (max / (grad_norm + 1e-6)).min(1.0),
            None => 1.0,
        };
        self.updates += 1;
        let t = self.updates as f64;
        let mut mapper = Update::<AB> {
            gradients: &mut gradients,
            moments: &mut self.moments,
            position: 0,
            settings: self.settings,
            learning_rate,
            clip,
            bias_correction1: 1.0 - self.settings.beta1.powf(t),
            bias_correction2_sqrt: (1.0 - self.settings.beta2.powf(t)).sqrt(),
            fused,
        };
        let module = module.map(&mut mapper);
        (module, UpdateReport { grad_norm })
    }

    /// The state as named tensors (`exp_avg.<position>`, `exp_avg_sq.<position>`) plus the
    /// update count, for [`AdamW::save`].
    fn to_tensors(&self) -> Vec<(String, HostTensor)> {
        let host = |tensor: &Tensor<B, 1>| {
            let values = tensor
                .clone()
                .into_data()
                .convert::<f32>()
                .into_vec::<f32>()
                .expect("converted to f32 just above");
            HostTensor::new(vec![values.len()], values)
        };
        let mut tensors = Vec::new();
        for (position, moments) in self.moments.iter().enumerate() {
            if let Some(moments) = moments {
                tensors.push((format!("exp_avg.{position}"), host(&moments.first)));
                tensors.push((format!("exp_avg_sq.{position}"), host(&moments.second)));
            }
        }
        tensors
    }

    /// Writes the state to a safetensors file, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut tensors = self.to_tensors();
        tensors.push((
            UPDATES_KEY.to_owned(),
            HostTensor::new(vec![2], split_u64(self.updates)),
        ));
        lmc_bert::write_safetensors(path, &tensors)?;
        Ok(())
    }

    /// Reads a state written by [`AdamW::save`] onto `device`.
    pub fn load(settings: AdamWSettings, path: &Path, device: &B::Device) -> Result<Self> {
        let corrupt = |message: String| TrainError::Corrupt {
            path: path.to_path_buf(),
            message,
        };
        let bytes = std::fs::read(path).map_err(TrainError::io(path))?;
        let file = safetensors::SafeTensors::deserialize(&bytes)
            .map_err(|e| corrupt(format!("not a safetensors file: {e}")))?;
        let read = |name: &str| -> Result<Vec<f32>> {
            let view = file
                .tensor(name)
                .map_err(|e| corrupt(format!("tensor `{name}`: {e}")))?;
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(corrupt(format!(
                    "tensor `{name}` is {:?}, not F32",
                    view.dtype()
                )));
            }
            Ok(view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };
        let updates = match read(UPDATES_KEY)?.as_slice() {
            [low, high] => join_u64(*low, *high),
            other => {
                return Err(corrupt(format!(
                    "`{UPDATES_KEY}` has {} values, not 2",
                    other.len()
                )));
            }
        };
        let mut moments = Vec::new();
        let mut names: Vec<String> = file.names().into_iter().map(str::to_owned).collect();
        names.retain(|name| name.starts_with("exp_avg."));
        for name in names {
            let position: usize = name["exp_avg.".len()..]
                .parse()
                .map_err(|_| corrupt(format!("unexpected tensor `{name}`")))?;
            let first = read(&name)?;
            let second = read(&format!("exp_avg_sq.{position}"))?;
            if first.len() != second.len() {
                return Err(corrupt(format!(
                    "parameter {position}: {} first-moment values, {} second-moment values",
                    first.len(),
                    second.len()
                )));
            }
            if moments.len() <= position {
                moments.resize(position + 1, None);
            }
            let tensor = |values: Vec<f32>| {
                let n = values.len();
                Tensor::from_data(TensorData::new(values, [n]), device)
            };
            moments[position] = Some(Moments {
                first: tensor(first),
                second: tensor(second),
            });
        }
        Ok(AdamW {
            settings,
            moments,
            updates,
        })
    }
}

const UPDATES_KEY: &str = "updates";

/// A count as two f32 values, its low 24 bits and the rest (exact below 2⁴⁸).
fn split_u64(value: u64) -> Vec<f32> {
    vec![(value & 0xFF_FFFF) as f32, (value >> 24) as f32]
}

fn join_u64(low: f32, high: f32) -> u64 {
    (low as u64) | ((high as u64) << 24)
}

/// Sum of squares of every gradient.
struct SquaredNorm<'a, AB: AutodiffBackend> {
    gradients: &'a AB::Gradients,
    total: Option<Tensor<AB::InnerBackend, 1>>,
}

impl<AB: AutodiffBackend> ModuleVisitor<AB> for SquaredNorm<'_, AB> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<AB, D>>) {
        if let Some(gradient) = param.val().grad(self.gradients) {
            let squares = gradient.square().sum();
            self.total = Some(match self.total.take() {
                Some(total) => total + squares,
                None => squares,
            });
        }
    }
}

/// The AdamW update of each parameter, in visiting order.
struct Update<'a, AB: AutodiffBackend> {
    gradients: &'a mut AB::Gradients,
    moments: &'a mut Vec<Option<Moments<AB::InnerBackend>>>,
    position: usize,
    settings: AdamWSettings,
    learning_rate: f64,
    clip: f64,
    bias_correction1: f64,
    bias_correction2_sqrt: f64,
    /// Whether to update in one pass over host memory ([`fused_update`]) rather than with
    /// tensor operations; `None` until the first parameter shows its device.
    fused: Option<bool>,
}

/// The constants of one AdamW update, as the f32 values that every element operation of both
/// paths uses. `clip` and `decay` are 1 where the update does not clip or decay: multiplying by
/// 1 is exact.
#[derive(Clone, Copy)]
struct Coefficients {
    clip: f32,
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    decay: f32,
    bias_correction2_sqrt: f32,
    epsilon: f32,
    step_size: f32,
}

/// Host slices this long are updated per task.
const FUSED_CHUNK: usize = 1 << 16;

/// The AdamW update of one parameter in one pass over the previous moments `first` and
/// `second` (zeros before the first update); every operation rounds to f32 in the order of the
/// tensor path, and the loop body has no branches, so it vectorises.
fn fused_update(
    c: Coefficients,
    value: &mut [f32],
    gradient: &[f32],
    first: &mut [f32],
    second: &mut [f32],
) {
    value
        .par_chunks_mut(FUSED_CHUNK)
        .zip(gradient.par_chunks(FUSED_CHUNK))
        .zip(first.par_chunks_mut(FUSED_CHUNK))
        .zip(second.par_chunks_mut(FUSED_CHUNK))
        .for_each(|(((value, gradient), first), second)| {
            for (((p, &g), m), v) in value.iter_mut().zip(gradient).zip(first).zip(second) {
                let g = g * c.clip;
                *m = *m * c.beta1 + g * c.one_minus_beta1;
                *v = *v * c.beta2 + g * g * c.one_minus_beta2;
                let decayed = *p * c.decay;
                let denominator = v.sqrt() / c.bias_correction2_sqrt + c.epsilon;
                *p = decayed - *m / denominator * c.step_size;
            }
        });
}

/// The values of a tensor of burn's CPU backend; a move unless the buffer is shared.
fn host_values<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Vec<f32> {
    tensor
        .into_data()
        .into_vec::<f32>()
        .expect("the CPU backend stores parameters, gradients and moments as f32")
}

impl<AB: AutodiffBackend> Update<'_, AB> {
    fn coefficients(&self, decay: bool) -> Coefficients {
        let s = self.settings;
        Coefficients {
            clip: if self.clip < 1.0 {
                self.clip as f32
            } else {
                1.0
            },
            beta1: s.beta1 as f32,
            one_minus_beta1: (1.0 - s.beta1) as f32,
            beta2: s.beta2 as f32,
            one_minus_beta2: (1.0 - s.beta2) as f32,
            decay: if decay && s.weight_decay != 0.0 {
                (1.0 - self.learning_rate * s.weight_decay) as f32
            } else {
                1.0
            },
            bias_correction2_sqrt: self.bias_correction2_sqrt as f32,
            epsilon: s.epsilon as f32,
            step_size: (self.learning_rate / self.bias_correction1) as f32,
        }
    }
}

impl<AB: AutodiffBackend> ModuleMapper<AB> for Update<'_, AB> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<AB, D>>) -> Param<Tensor<AB, D>> {
        let position = self.position;
        self.position += 1;
        if self.moments.len() <= position {
            self.moments.resize(position + 1, None);
        }
        let c = self.coefficients(D >= 2);
        let gradients = &mut *self.gradients;
        let fused = &mut self.fused;
        let slot = &mut self.moments[position];
        param.map(|tensor| {
            let Some(gradient) = tensor.grad_remove(gradients) else {
                return tensor;
            };
            let dims = tensor.dims();
            let n = dims.iter().product::<usize>();
            let value: Tensor<AB::InnerBackend, 1> = tensor.inner().reshape([n]);
            let gradient: Tensor<AB::InnerBackend, 1> = gradient.reshape([n]);
            let device = value.device();
            if *fused.get_or_insert_with(|| AB::InnerBackend::name(&device) == CPU_BACKEND) {
                let (mut first, mut second) = match slot.take() {
                    Some(previous) => (host_values(previous.first), host_values(previous.second)),
                    None => (vec![0.0; n], vec![0.0; n]),
                };
                let mut values = host_values(value);
                let gradient = host_values(gradient);
                fused_update(c, &mut values, &gradient, &mut first, &mut second);
                let tensor = |values: Vec<f32>| {
                    Tensor::<AB::InnerBackend, 1>::from_data(TensorData::new(values, [n]), &device)
                };
                *slot = Some(Moments {
                    first: tensor(first),
                    second: tensor(second),
                });
                return Tensor::from_inner(tensor(values).reshape(dims)).require_grad();
            }
            let gradient = if c.clip != 1.0 {
                gradient.mul_scalar(c.clip)
            } else {
                gradient
            };
            let squared = gradient.clone().square();
            let moments = match slot.take() {
                Some(previous) => Moments {
                    first: previous.first.mul_scalar(c.beta1)
                        + gradient.mul_scalar(c.one_minus_beta1),
                    second: previous.second.mul_scalar(c.beta2)
                        + squared.mul_scalar(c.one_minus_beta2),
                },
                None => Moments {
                    first: gradient.mul_scalar(c.one_minus_beta1),
                    second: squared.mul_scalar(c.one_minus_beta2),
                },
            };
            let decayed = if c.decay != 1.0 {
                value.mul_scalar(c.decay)
            } else {
                value
            };
            let denominator = moments
                .second
                .clone()
                .sqrt()
                .div_scalar(c.bias_correction2_sqrt)
                .add_scalar(c.epsilon);
            let step = moments
                .first
                .clone()
                .div(denominator)
                .mul_scalar(c.step_size);
            *slot = Some(moments);
            Tensor::from_inner((decayed - step).reshape(dims)).require_grad()
        })
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, Flex};
    use burn::module::Module;
    use burn::nn::{Linear, LinearConfig};

    use super::*;

    type AB = Autodiff<Flex>;

    #[derive(Module, Debug)]
    struct Tiny<B: Backend> {
        linear: Linear<B>,
    }

    fn settings(max_grad_norm: Option<f64>) -> AdamWSettings {
        AdamWSettings {
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-6,
            weight_decay: 0.01,
            max_grad_norm,
        }
    }

    fn values<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Vec<f32> {
        tensor.into_data().into_vec::<f32>().unwrap()
    }

    /// Reference AdamW of one scalar parameter (PyTorch's formulas, in f64).
    fn reference(p: f64, g: &[f64], lr: f64, decay: bool) -> f64 {
        let (mut p, mut m, mut v) = (p, 0.0, 0.0);
        for (t, g) in g.iter().enumerate() {
            let t = (t + 1) as f64;
            if decay {
                p *= 1.0 - lr * 0.01;
            }
            m = 0.9 * m + 0.1 * g;
            v = 0.999 * v + 0.001 * g * g;
            let denom = (v.sqrt() / (1.0 - 0.999f64.powf(t)).sqrt()) + 1e-6;
            p -= lr / (1.0 - 0.9f64.powf(t)) * m / denom;
        }
        p
    }

    #[test]
    fn matches_pytorch_formulas_and_skips_decay_of_vectors() {
        let device = Default::default();
        let mut model: Tiny<AB> = Tiny {
            linear: LinearConfig::new(2, 1).init(&device),
        };
        let w0 = values(model.linear.weight.val());
        let b0 = values(model.linear.bias.as_ref().unwrap().val());
        let x = Tensor::<AB, 2>::from_data([[1.0, 2.0]], &device);
        let mut optimizer = AdamW::new(settings(None));
        let lr = 0.1;
        let mut grads_w = vec![Vec::new(); 2];
        let mut grads_b = Vec::new();
        for _ in 0..3 {
            // loss = sum(linear(x)): dL/dw = x, dL/db = 1 whatever the weights.
            let loss = model.linear.forward(x.clone()).sum();
            let gradients = loss.backward();
            grads_w[0].push(1.0);
            grads_w[1].push(2.0);
            grads_b.push(1.0);
            model = optimizer.step(model, gradients, lr).0;
        }
        let w = values(model.linear.weight.val());
        let b = values(model.linear.bias.as_ref().unwrap().val());
        for i in 0..2 {
            let expected = reference(w0[i] as f64, &grads_w[i], lr, true);
            assert!(
                (w[i] as f64 - expected).abs() < 1e-6,
                "{} vs {expected}",
                w[i]
            );
        }
        let expected = reference(b0[0] as f64, &grads_b, lr, false);
        assert!(
            (b[0] as f64 - expected).abs() < 1e-6,
            "{} vs {expected}",
            b[0]
        );
        assert_eq!(optimizer.updates(), 3);
    }

    #[test]
    fn fused_and_tensor_updates_give_identical_values() {
        let device = Default::default();
        let model: Tiny<AB> = Tiny {
            linear: LinearConfig::new(300, 7).init(&device),
        };
        // Parameters initialise lazily; reading them first gives both runs the same start.
        let initial = values(model.linear.weight.val());
        values(model.linear.bias.as_ref().unwrap().val());
        let inputs: Vec<f32> = (0..3 * 300)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        let x = Tensor::<AB, 2>::from_data(TensorData::new(inputs, [3, 300]), &device);
        let run = |fused: bool| {
            let mut model = model.clone();
            let mut optimizer = AdamW::new(settings(Some(1.0)));
            for step in 0..3 {
                let gradients = model
                    .linear
                    .forward(x.clone())
                    .powi_scalar(2)
                    .sum()
                    .backward();
                let lr = 1e-3 * (step + 1) as f64;
                model = optimizer.step_on_path(model, gradients, lr, Some(fused)).0;
            }
            (
                values(model.linear.weight.val()),
                values(model.linear.bias.as_ref().unwrap().val()),
                optimizer.to_tensors(),
            )
        };
        let (fused, tensors) = (run(true), run(false));
        assert_eq!(fused, tensors);
        assert_ne!(fused.0, initial, "the weights moved");
    }

    #[test]
    fn clipping_uses_the_global_norm() {
        let device = Default::default();
        let model: Tiny<AB> = Tiny {
            linear: LinearConfig::new(2, 1).init(&device),
        };
        let x = Tensor::<AB, 2>::from_data([[3.0, 4.0]], &device);
        let gradients = model.linear.forward(x).sum().backward();
        let mut optimizer = AdamW::new(settings(Some(1.0)));
        let (_, report) = optimizer.step(model, gradients, 0.0);
        // Gradients: w = (3, 4), b = 1, so the norm is √26.
        assert!((report.grad_norm - 26f64.sqrt()).abs() < 1e-5);
    }

    #[test]
    fn saved_state_reloads_bit_for_bit() {
        let device = Default::default();
        let model: Tiny<AB> = Tiny {
            linear: LinearConfig::new(3, 2).init(&device),
        };
        let x = Tensor::<AB, 2>::from_data([[0.5, -1.0, 2.0]], &device);
        let gradients = model.linear.forward(x).sum().backward();
        let mut optimizer = AdamW::<Flex>::new(settings(Some(1.0)));
        optimizer.step(model, gradients, 1e-3);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("optimizer.safetensors");
        optimizer.save(&path).unwrap();
        let loaded = AdamW::<Flex>::load(settings(Some(1.0)), &path, &device).unwrap();
        assert_eq!(loaded.updates(), 1);
        assert_eq!(loaded.to_tensors(), optimizer.to_tensors());
        assert_eq!(
            join_u64(split_u64(123_456_789_012)[0], split_u64(123_456_789_012)[1]),
            123_456_789_012
        );
    }

    #[test]
    fn a_truncated_state_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("optimizer.safetensors");
        std::fs::write(&path, b"not safetensors").unwrap();
        let error = AdamW::<Flex>::load(settings(None), &path, &Default::default()).unwrap_err();
        assert!(
            error.to_string().contains("optimizer.safetensors"),
            "{error}"
        );
    }
}
