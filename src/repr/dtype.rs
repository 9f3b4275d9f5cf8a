//! What torch's printer needs to know about an element kind: its Python name and its family.

use tch::Kind;

/// `str(dtype)` in Python, e.g. `torch.float64`.
pub(crate) fn dtype_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Uint8 => "torch.uint8",
        Kind::Int8 => "torch.int8",
        Kind::Int16 => "torch.int16",
        Kind::Int => "torch.int32",
        Kind::Int64 => "torch.int64",
        Kind::Half => "torch.float16",
        Kind::Float => "torch.float32",
        Kind::Double => "torch.float64",
        Kind::ComplexHalf => "torch.complex32",
        Kind::ComplexFloat => "torch.complex64",
        Kind::ComplexDouble => "torch.complex128",
        Kind::Bool => "torch.bool",
        Kind::QInt8 => "torch.qint8",
        Kind::QUInt8 => "torch.quint8",
        Kind::QInt32 => "torch.qint32",
        Kind::BFloat16 => "torch.bfloat16",
        Kind::Float8e5m2 => "torch.float8_e5m2",
        Kind::Float8e4m3fn => "torch.float8_e4m3fn",
        Kind::Float8e5m2fnuz => "torch.float8_e5m2fnuz",
        Kind::Float8e4m3fnuz => "torch.float8_e4m3fnuz",
    }
}

/// `dtype.is_floating_point`.
pub(crate) fn is_floating_point(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Half
            | Kind::Float
            | Kind::Double
            | Kind::BFloat16
            | Kind::Float8e5m2
            | Kind::Float8e4m3fn
            | Kind::Float8e5m2fnuz
            | Kind::Float8e4m3fnuz
    )
}

/// `dtype.is_complex`.
pub(crate) fn is_complex(kind: Kind) -> bool {
    matches!(kind, Kind::ComplexHalf | Kind::ComplexFloat | Kind::ComplexDouble)
}

/// The default float dtype, `torch.get_default_dtype()`: tch offers no way to change it, so it
/// is libtorch's default, float32.
pub(crate) const DEFAULT_DTYPE: Kind = Kind::Float;

/// The complex dtype that goes with [`DEFAULT_DTYPE`].
const DEFAULT_COMPLEX_DTYPE: Kind = Kind::ComplexFloat;

/// `has_default_dtype` in `_str_intern`: the dtypes whose repr shows no `dtype=` suffix.
pub(crate) fn has_default_dtype(kind: Kind) -> bool {
    matches!(kind, DEFAULT_DTYPE | DEFAULT_COMPLEX_DTYPE | Kind::Int64 | Kind::Bool)
}
