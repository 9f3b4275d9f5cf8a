//! The repr of one tensor, assembled: the `tensor(` prefix, the contents, and the
//! `, dtype=..., grad_fn=<...>)` suffixes. The port of `_str_intern` (torch's internal
//! `__str__`; nothing to do with string interning), `_tensor_str` and `_add_suffixes` in
//! torch/_tensor_str.py.

use tch::{Device, Kind, TchError, Tensor};

use super::PrintOptions;
use super::dtype::{DEFAULT_DTYPE, dtype_name, has_default_dtype};
use super::element::ElementFormatter;
use super::layout::Layout;
use super::size::python_tuple;
use super::summarize::summarized_data;
use super::values::PrintedValues;
use crate::ffi::grad_fn_name;

/// What every plain tensor's repr starts with; the contents are indented to line up after it.
const PREFIX: &str = "tensor(";

/// `_str_intern(tensor)`: the whole repr of a defined tensor.
pub(crate) fn str_intern(tensor: &Tensor, options: &PrintOptions) -> Result<String, TchError> {
    let kind = tensor.f_kind()?;
    if matches!(kind, Kind::QInt8 | Kind::QUInt8 | Kind::QInt32) {
        // torch prints the dequantized values with the quantization parameters; libtorch's own
        // refusals on the way there would name some internal step instead.
        return Err(TchError::Kind(format!(
            "expected a dtype this printer supports, got {} (quantized tensors are not printed)",
            dtype_name(kind)
        )));
    }
    let indent = PREFIX.len();
    let mut suffixes: Vec<String> = device_suffix(tensor.device()).into_iter().collect();
    let is_sparse = tensor.is_sparse();
    let contents = if is_sparse {
        sparse_contents(tensor, indent, options, &mut suffixes)?
    } else if numel(&tensor.size()) == 0 {
        empty_contents(tensor, &mut suffixes)?
    } else {
        dense_contents(tensor, indent, options, &mut suffixes)?
    };
    if is_sparse {
        suffixes.push("layout=torch.sparse_coo".to_owned());
    }
    suffixes.extend(autograd_suffix(tensor));
    let text = format!("{PREFIX}{contents}");
    Ok(add_suffixes(text, &suffixes, indent, is_sparse, options.linewidth))
}

/// The elements of a strided tensor with elements, and its size and dtype suffixes.
fn dense_contents(
    tensor: &Tensor,
    indent: usize,
    options: &PrintOptions,
    suffixes: &mut Vec<String>,
) -> Result<String, TchError> {
    if options.edgeitems == 0 {
        suffixes.push(size_suffix(&tensor.size()));
    }
    let kind = tensor.f_kind()?;
    if !has_default_dtype(kind) {
        suffixes.push(dtype_suffix(kind));
    }
    tensor_str(tensor, indent, options)
}

/// `[]`, and the suffixes of an empty tensor: its shape unless it is `(0,)`, and its dtype
/// unless it is the default float one, since no element tells it.
fn empty_contents(tensor: &Tensor, suffixes: &mut Vec<String>) -> Result<String, TchError> {
    let shape = tensor.size();
    if shape.len() != 1 {
        suffixes.push(size_suffix(&shape));
    }
    let kind = tensor.f_kind()?;
    if kind != DEFAULT_DTYPE {
        suffixes.push(dtype_suffix(kind));
    }
    Ok("[]".to_owned())
}

/// `_tensor_str(tensor, indent)`: the bracketed elements, without prefix or suffixes.
fn tensor_str(tensor: &Tensor, indent: usize, options: &PrintOptions) -> Result<String, TchError> {
    let shape = tensor.size();
    let numel = numel(&shape);
    if numel == 0 {
        return Ok("[]".to_owned());
    }
    let summarize = numel > options.threshold;
    let tensor = tensor.f_resolve_neg()?.f_resolve_conj()?;
    let printed = if summarize {
        summarized_data(&tensor, i64::try_from(options.edgeitems).unwrap_or(i64::MAX))?
    } else {
        tensor
    };
    let values = PrintedValues::read(&printed)?;
    let elements = ElementFormatter::new(&values, options);
    let printed_shape = printed.size();
    Ok(Layout::new(&shape, &printed_shape, summarize, options, &elements).tensor_str(indent))
}

/// The contents of a sparse COO tensor, its `indices=tensor(...)` and `values=tensor(...)`,
/// and its size, nnz and dtype suffixes.
fn sparse_contents(
    tensor: &Tensor,
    indent: usize,
    options: &PrintOptions,
    suffixes: &mut Vec<String>,
) -> Result<String, TchError> {
    suffixes.push(size_suffix(&tensor.size()));
    suffixes.push(format!("nnz={}", tensor.f_internal_nnz()?));
    let kind = tensor.f_kind()?;
    if !has_default_dtype(kind) {
        suffixes.push(dtype_suffix(kind));
    }
    let indices = labelled_str("indices", &tensor.f_internal_indices()?, indent, options)?;
    let values = labelled_str("values", &tensor.f_internal_values()?, indent, options)?;
    Ok(format!("{indices},\n{}{values}", " ".repeat(indent)))
}

/// `label=tensor(...)` inside a sparse tensor's repr, with the size when it is empty.
fn labelled_str(label: &str, tensor: &Tensor, indent: usize, options: &PrintOptions) -> Result<String, TchError> {
    let prefix = format!("{label}={PREFIX}");
    let contents = tensor_str(tensor, indent + prefix.len(), options)?;
    let shape = tensor.size();
    let size = if numel(&shape) == 0 { format!(", {}", size_suffix(&shape)) } else { String::new() };
    Ok(format!("{prefix}{contents}{size})"))
}

/// `_add_suffixes`: appends each suffix after `, `, or on a new line when the line would pass
/// the line width, and closes the parenthesis.
fn add_suffixes(
    mut text: String,
    suffixes: &[String],
    indent: usize,
    mut force_newline: bool,
    linewidth: usize,
) -> String {
    // torch's own measure of the last line: `len(s) - s.rfind("\n") + 1`.
    let newline_at = text.rfind('\n').map_or(-1, |at| at as i64);
    let mut last_line_len = text.len() as i64 - newline_at + 1;
    for suffix in suffixes {
        let suffix_len = suffix.len() as i64;
        if force_newline || last_line_len + suffix_len + 2 > linewidth as i64 {
            text.push_str(&format!(",\n{}{suffix}", " ".repeat(indent)));
            last_line_len = indent as i64 + suffix_len;
            force_newline = false;
        } else {
            text.push_str(&format!(", {suffix}"));
            last_line_len += suffix_len + 2;
        }
    }
    text.push(')');
    text
}

/// `device='cuda:0'` for tensors off the CPU (the default device).
fn device_suffix(device: Device) -> Option<String> {
    let name = match device {
        Device::Cpu => return None,
        Device::Cuda(index) => format!("cuda:{index}"),
        Device::Mps => "mps:0".to_owned(),
        Device::Vulkan => "vulkan:0".to_owned(),
    };
    Some(format!("device='{name}'"))
}

/// `grad_fn=<TanhBackward0>` for results of recorded ops, `requires_grad=True` for leaves
/// that require grad.
fn autograd_suffix(tensor: &Tensor) -> Option<String> {
    match grad_fn_name(tensor) {
        Some(name) => Some(format!("grad_fn=<{name}>")),
        None => tensor.requires_grad().then(|| "requires_grad=True".to_owned()),
    }
}

fn size_suffix(shape: &[i64]) -> String {
    format!("size={}", python_tuple(shape))
}

fn dtype_suffix(kind: Kind) -> String {
    format!("dtype={}", dtype_name(kind))
}

fn numel(shape: &[i64]) -> usize {
    shape.iter().map(|&d| usize::try_from(d).unwrap_or(0)).fold(1, usize::saturating_mul)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_wrap_past_the_line_width() {
        let suffixes = ["dtype=torch.float64".to_owned()];
        assert_eq!(add_suffixes("tensor([1.]".into(), &suffixes, 7, false, 80), "tensor([1.], dtype=torch.float64)");
        assert_eq!(
            add_suffixes("tensor([1.]".into(), &suffixes, 7, false, 30),
            "tensor([1.],\n       dtype=torch.float64)"
        );
    }

    #[test]
    fn only_tensors_off_the_cpu_name_their_device() {
        assert_eq!(device_suffix(Device::Cpu), None);
        assert_eq!(device_suffix(Device::Cuda(0)).as_deref(), Some("device='cuda:0'"));
        assert_eq!(device_suffix(Device::Cuda(1)).as_deref(), Some("device='cuda:1'"));
    }
}
