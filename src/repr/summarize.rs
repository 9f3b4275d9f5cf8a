//! [`summarized_data`], the port of `get_summarized_data` in torch/_tensor_str.py.

use tch::{TchError, Tensor};

/// The elements a summarised tensor prints: along every dimension longer than
/// `2 * edgeitems`, only the first and the last `edgeitems` entries. The formatter is built
/// over these alone, so hidden elements never change how the printed ones look.
pub(crate) fn summarized_data(tensor: &Tensor, edgeitems: i64) -> Result<Tensor, TchError> {
    let size = tensor.size();
    match size.len() {
        0 => Ok(tensor.shallow_clone()),
        1 if is_cut(size[0], edgeitems) => {
            let head = tensor.f_narrow(0, 0, edgeitems)?;
            Tensor::f_cat(&[head, python_tail(tensor, edgeitems)?], 0)
        }
        1 => Ok(tensor.shallow_clone()),
        dims if edgeitems == 0 => Tensor::f_empty(vec![0; dims], (tensor.f_kind()?, tensor.device())),
        _ => {
            let rows = shown_rows(size[0], edgeitems)
                .into_iter()
                .map(|i| summarized_data(&tensor.f_get(i)?, edgeitems))
                .collect::<Result<Vec<_>, _>>()?;
            Tensor::f_stack(&rows, 0)
        }
    }
}

/// `tensor[-edgeitems:]`: the last `edgeitems` entries, and (as `-0` is `0` in Python) the
/// whole tensor when `edgeitems` is 0.
fn python_tail(tensor: &Tensor, edgeitems: i64) -> Result<Tensor, TchError> {
    let len = tensor.size()[0];
    let start = if edgeitems == 0 { 0 } else { len - edgeitems };
    tensor.f_narrow(0, start, len - start)
}

/// The indices of the rows kept along a dimension of length `len`.
fn shown_rows(len: i64, edgeitems: i64) -> Vec<i64> {
    if is_cut(len, edgeitems) { (0..edgeitems).chain(len - edgeitems..len).collect() } else { (0..len).collect() }
}

/// Whether a summary leaves out the middle of a dimension of length `len`.
fn is_cut(len: i64, edgeitems: i64) -> bool {
    len > edgeitems.saturating_mul(2)
}
