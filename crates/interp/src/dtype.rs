//! The element types a parameter set can hold, and how each is treated.

use std::fmt;

/// The element type of a stored tensor.
///
/// Float types are interpolated: their values are held and combined in `f32` whatever their stored
/// type, and they are rounded back to the stored type only when written to a file. Integer and
/// boolean types (token-type and position-id buffers, for example) are *carried*: a combination
/// copies their bytes unchanged from its first input.
///
/// Types that safetensors knows but this crate does not handle (`F64`, the 8-bit and sub-byte float
/// formats, complex numbers) are rejected when a file is opened, naming the tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// 32-bit IEEE float.
    F32,
    /// 16-bit IEEE float, computed in `f32`.
    F16,
    /// bfloat16, computed in `f32`.
    BF16,
    /// Boolean, one byte per element.
    Bool,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 8-bit integer.
    I8,
    /// Signed 16-bit integer.
    I16,
    /// Unsigned 16-bit integer.
    U16,
    /// Signed 32-bit integer.
    I32,
    /// Unsigned 32-bit integer.
    U32,
    /// Signed 64-bit integer.
    I64,
    /// Unsigned 64-bit integer.
    U64,
}

impl Dtype {
    /// Whether tensors of this type are interpolated (`true`) or carried from the first input.
    pub fn is_float(self) -> bool {
        matches!(self, Dtype::F32 | Dtype::F16 | Dtype::BF16)
    }

    /// Bytes per element in a file.
    pub fn size_in_bytes(self) -> usize {
        match self {
            Dtype::Bool | Dtype::U8 | Dtype::I8 => 1,
            Dtype::F16 | Dtype::BF16 | Dtype::I16 | Dtype::U16 => 2,
            Dtype::F32 | Dtype::I32 | Dtype::U32 => 4,
            Dtype::I64 | Dtype::U64 => 8,
        }
    }

    /// The corresponding crate type, or `None` for a safetensors type this crate does not handle.
    pub(crate) fn from_safetensors(dtype: safetensors::Dtype) -> Option<Dtype> {
        use safetensors::Dtype as St;
        Some(match dtype {
            St::F32 => Dtype::F32,
            St::F16 => Dtype::F16,
            St::BF16 => Dtype::BF16,
            St::BOOL => Dtype::Bool,
            St::U8 => Dtype::U8,
            St::I8 => Dtype::I8,
            St::I16 => Dtype::I16,
            St::U16 => Dtype::U16,
            St::I32 => Dtype::I32,
            St::U32 => Dtype::U32,
            St::I64 => Dtype::I64,
            St::U64 => Dtype::U64,
            _ => return None,
        })
    }

    /// The safetensors type written to file headers.
    pub(crate) fn to_safetensors(self) -> safetensors::Dtype {
        use safetensors::Dtype as St;
        match self {
            Dtype::F32 => St::F32,
            Dtype::F16 => St::F16,
            Dtype::BF16 => St::BF16,
            Dtype::Bool => St::BOOL,
            Dtype::U8 => St::U8,
            Dtype::I8 => St::I8,
            Dtype::I16 => St::I16,
            Dtype::U16 => St::U16,
            Dtype::I32 => St::I32,
            Dtype::U32 => St::U32,
            Dtype::I64 => St::I64,
            Dtype::U64 => St::U64,
        }
    }
}

/// Formats as the safetensors header spells the type (`F32`, `BF16`, `I64`, …).
impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_safetensors(), f)
    }
}
