//! Tensor bytes as numbers and back: little-endian casts, and `f16`/`bf16` widening to `f32`.
//!
//! safetensors stores elements little-endian with no alignment guarantee beyond what the writer
//! chose. On a little-endian machine an aligned byte range *is* the number slice, so it is borrowed;
//! otherwise it is decoded into an owned vector. The two `unsafe` blocks of the crate live here.

use std::borrow::Cow;

use half::slice::{HalfBitsSliceExt, HalfFloatSliceExt};
use half::{bf16, f16};

use crate::Dtype;

/// A plain number type that may be viewed as its little-endian bytes.
///
/// Implemented only for `f32` and `u16` (the carrier of `f16`/`bf16` bits): types with no padding
/// and no invalid bit patterns, which is what makes the casts below sound.
pub(crate) trait LeNumber: Copy + private::Sealed {
    /// Size in bytes.
    const SIZE: usize;
    /// Decodes one element from exactly `SIZE` little-endian bytes.
    fn read_le(bytes: &[u8]) -> Self;
    /// Appends the little-endian bytes of `self`.
    fn push_le(self, out: &mut Vec<u8>);
}

mod private {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for u16 {}
}

impl LeNumber for f32 {
    const SIZE: usize = 4;
    fn read_le(bytes: &[u8]) -> Self {
        f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }
    fn push_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl LeNumber for u16 {
    const SIZE: usize = 2;
    fn read_le(bytes: &[u8]) -> Self {
        u16::from_le_bytes([bytes[0], bytes[1]])
    }
    fn push_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

/// Views `bytes` (whose length is a multiple of `T::SIZE`) as numbers: borrowed when aligned on a
/// little-endian machine, decoded otherwise.
pub(crate) fn numbers_from_le_bytes<T: LeNumber>(bytes: &[u8]) -> Cow<'_, [T]> {
    debug_assert_eq!(bytes.len() % T::SIZE, 0);
    if cfg!(target_endian = "little") {
        // SAFETY: `T` is `f32` or `u16` (sealed trait): no padding, every bit pattern valid.
        // `align_to` only puts correctly aligned, whole elements in the middle part.
        let (head, body, tail) = unsafe { bytes.align_to::<T>() };
        if head.is_empty() && tail.is_empty() {
            return Cow::Borrowed(body);
        }
    }
    Cow::Owned(bytes.chunks_exact(T::SIZE).map(T::read_le).collect())
}

/// The little-endian bytes of `values`: borrowed on a little-endian machine, encoded otherwise.
pub(crate) fn numbers_as_le_bytes<T: LeNumber>(values: &[T]) -> Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        // SAFETY: `T` has no padding (sealed to `f32`/`u16`), so all its bytes are initialised,
        // and `u8` has alignment 1, so the whole slice lands in the middle part.
        let (head, body, tail) = unsafe { values.align_to::<u8>() };
        debug_assert!(head.is_empty() && tail.is_empty());
        return Cow::Borrowed(body);
    }
    let mut out = Vec::with_capacity(values.len() * T::SIZE);
    for &value in values {
        value.push_le(&mut out);
    }
    Cow::Owned(out)
}

/// Writes the float tensor `bytes`, stored as `dtype`, into `out` as `f32` (exactly: every `f16` and
/// `bf16` value is an `f32` value). `out` holds one slot per element.
pub(crate) fn widen_into(bytes: &[u8], dtype: Dtype, out: &mut [f32]) {
    match dtype {
        Dtype::F32 => out.copy_from_slice(&numbers_from_le_bytes::<f32>(bytes)),
        Dtype::F16 => numbers_from_le_bytes::<u16>(bytes)
            .reinterpret_cast::<f16>()
            .convert_to_f32_slice(out),
        Dtype::BF16 => numbers_from_le_bytes::<u16>(bytes)
            .reinterpret_cast::<bf16>()
            .convert_to_f32_slice(out),
        other => unreachable!("{other} tensors are carried, never widened"),
    }
}

/// Rounds `values` to the 16-bit float `dtype` (`F16` or `BF16`, to nearest, ties to even) into
/// the bit patterns `bits`. Magnitudes beyond the type's range become infinities.
pub(crate) fn narrow_into(values: &[f32], dtype: Dtype, bits: &mut [u16]) {
    match dtype {
        Dtype::F16 => bits
            .reinterpret_cast_mut::<f16>()
            .convert_from_f32_slice(values),
        Dtype::BF16 => bits
            .reinterpret_cast_mut::<bf16>()
            .convert_from_f32_slice(values),
        other => unreachable!("only F16 and BF16 are narrowed, not {other}"),
    }
}

/// Rounds every value to the float type `dtype` (to nearest, ties to even) and back to `f32`,
/// as casting a tensor to `dtype` would. `F32` leaves the values alone.
pub(crate) fn round_through(values: &mut [f32], dtype: Dtype) {
    match dtype {
        Dtype::F32 => {}
        Dtype::F16 => values
            .iter_mut()
            .for_each(|value| *value = f16::from_f32(*value).to_f32()),
        Dtype::BF16 => values
            .iter_mut()
            .for_each(|value| *value = bf16::from_f32(*value).to_f32()),
        other => unreachable!("values are rounded to float types only, not {other}"),
    }
}

/// Whether every element of the float tensor `bytes`, stored as `dtype`, is finite.
pub(crate) fn all_finite(bytes: &[u8], dtype: Dtype) -> bool {
    match dtype {
        Dtype::F32 => {
            crate::kernels::first_non_finite(&numbers_from_le_bytes::<f32>(bytes)).is_none()
        }
        Dtype::F16 => numbers_from_le_bytes::<u16>(bytes)
            .reinterpret_cast::<f16>()
            .iter()
            .all(|value| value.is_finite()),
        Dtype::BF16 => numbers_from_le_bytes::<u16>(bytes)
            .reinterpret_cast::<bf16>()
            .iter()
            .all(|value| value.is_finite()),
        other => unreachable!("{other} tensors are carried, never checked for finiteness"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_f32_through_bytes() {
        let values = [1.5f32, -0.0, f32::MAX, f32::MIN_POSITIVE];
        let bytes = numbers_as_le_bytes(&values).into_owned();
        assert_eq!(bytes.len(), 16);
        assert_eq!(&bytes[..4], &1.5f32.to_le_bytes());
        let back: Cow<'_, [f32]> = numbers_from_le_bytes(&bytes);
        let bits: Vec<u32> = back.iter().map(|v| v.to_bits()).collect();
        let expected: Vec<u32> = values.iter().map(|v| v.to_bits()).collect();
        assert_eq!(bits, expected);
    }

    #[test]
    fn decodes_every_alignment_alike() {
        let payload: Vec<u8> = [2.25f32, -7.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        // At least three of these four offsets are misaligned for f32.
        for pad in 0..4 {
            let mut buffer = vec![0u8; pad];
            buffer.extend_from_slice(&payload);
            let values: Cow<'_, [f32]> = numbers_from_le_bytes(&buffer[pad..]);
            assert_eq!(&*values, &[2.25, -7.0]);
        }
    }

    #[test]
    fn widens_and_narrows_half_types_exactly_when_representable() {
        let values = [1.0f32, -2.5, 0.0, 65504.0];
        for dtype in [Dtype::F16, Dtype::BF16] {
            let mut bits = [0u16; 4];
            narrow_into(&values, dtype, &mut bits);
            let bytes = numbers_as_le_bytes(&bits).into_owned();
            let mut back = [0.0f32; 4];
            widen_into(&bytes, dtype, &mut back);
            assert_eq!(back[..3], values[..3], "{dtype}");
            assert!(all_finite(&bytes, dtype));
        }
        let mut bits = [0u16; 1];
        narrow_into(&[1.0e6], Dtype::F16, &mut bits);
        assert!(!all_finite(&numbers_as_le_bytes(&bits), Dtype::F16));
    }

    #[test]
    fn round_trips_u16_through_bytes() {
        let values = [0x3c00u16, 0xffff, 0];
        let bytes = numbers_as_le_bytes(&values).into_owned();
        let back: Cow<'_, [u16]> = numbers_from_le_bytes(&bytes);
        assert_eq!(&*back, &values);
    }
}
