//! The arithmetic of the model's matrix products ([`Precision`]) and where dropout masks are
//! drawn ([`DropoutMasks`]): the two choices that trade reproducibility across backends for
//! speed on a GPU.

use burn::nn::Linear;
use burn::tensor::backend::Backend;
use burn::tensor::{FloatDType, Tensor};
use serde::{Deserialize, Serialize};

use crate::parallel::CPU_BACKEND;

/// How the matrix products of the model compute. Everything else (master weights, optimizer
/// state, softmax, LayerNorm, GELU, the loss) is f32 in every mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// f32 inputs, f32 accumulation (PyTorch's default for matmuls, `allow_tf32 = False`).
    #[default]
    F32,
    /// f32 tensors whose matrix products run on TF32 tensor cores: inputs rounded to a 10-bit
    /// mantissa, f32 accumulation (PyTorch's `allow_tf32 = True`). A GPU setting: on the CPU
    /// it computes as `f32`.
    Tf32,
    /// bf16 mixed precision: both inputs of every matrix product (linear layers and attention)
    /// are rounded to bf16 and the product comes back as f32, as under
    /// `torch.autocast(dtype=torch.bfloat16)`.
    Bf16,
}

impl Precision {
    /// The option's value on a command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Tf32 => "tf32",
            Precision::Bf16 => "bf16",
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "f32" => Ok(Precision::F32),
            "tf32" => Ok(Precision::Tf32),
            "bf16" => Ok(Precision::Bf16),
            other => Err(format!("unknown precision `{other}` (f32, tf32 or bf16)")),
        }
    }
}

/// `a · b` in `precision`: for [`Precision::Bf16`] both inputs are rounded to bf16 and the
/// product is returned as f32; otherwise the backend's f32 product.
pub(crate) fn matmul<B: Backend, const D: usize>(
    a: Tensor<B, D>,
    b: Tensor<B, D>,
    precision: Precision,
) -> Tensor<B, D> {
    match precision {
        Precision::Bf16 => a
            .cast(FloatDType::BF16)
            .matmul(b.cast(FloatDType::BF16))
            .cast(FloatDType::F32),
        Precision::F32 | Precision::Tf32 => a.matmul(b),
    }
}

/// `layer` applied to `[rows, in]` inputs in `precision` (burn's own `Linear::forward` for the
/// f32 modes, so their results are unchanged).
pub(crate) fn linear<B: Backend>(
    layer: &Linear<B>,
    input: Tensor<B, 2>,
    precision: Precision,
) -> Tensor<B, 2> {
    match precision {
        Precision::Bf16 => {
            let product = matmul(input, layer.weight.val(), precision);
            match &layer.bias {
                Some(bias) => product + bias.val().unsqueeze(),
                None => product,
            }
        }
        Precision::F32 | Precision::Tf32 => layer.forward(input),
    }
}

/// Where a training pass draws its dropout masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DropoutMasks {
    /// On the host, from a seeded SplitMix64, then copied to the device: the same masks on every
    /// backend, so that CPU and GPU runs can be compared update by update.
    #[default]
    Host,
    /// On the device, by the backend's own generator seeded once per pass: no host work and no
    /// copies (a bert-base update at 128 tokens needs 151 M mask values), but the masks differ
    /// between backends.
    Device,
}

impl DropoutMasks {
    /// The option's value on a command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            DropoutMasks::Host => "host",
            DropoutMasks::Device => "device",
        }
    }
}

impl std::str::FromStr for DropoutMasks {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "host" => Ok(DropoutMasks::Host),
            "device" => Ok(DropoutMasks::Device),
            other => Err(format!(
                "unknown dropout-mask source `{other}` (host or device)"
            )),
        }
    }
}

/// The masks that pay off on `device`: [`DropoutMasks::Host`] on flex, whose tensors are host
/// memory anyway, [`DropoutMasks::Device`] on any other backend.
pub fn default_dropout_masks<B: Backend>(device: &B::Device) -> DropoutMasks {
    if B::name(device) == CPU_BACKEND {
        DropoutMasks::Host
    } else {
        DropoutMasks::Device
    }
}
