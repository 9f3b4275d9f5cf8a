//! [`Layout`], the port of `_tensor_str_with_formatter` and `_vector_str` in
//! torch/_tensor_str.py: nested brackets, separators, row wrapping and `...`.

use super::PrintOptions;
use super::element::ElementFormatter;

/// A position printed along one dimension.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    /// The entry at this index of the printed elements (the summarised data).
    Entry(usize),
    /// The `...` standing for the entries a summary leaves out.
    Ellipsis,
}

/// Lays out the printed elements of a tensor in torch's nested-bracket text.
pub(crate) struct Layout<'a> {
    /// The shape of the tensor being printed.
    shape: &'a [i64],
    /// Row-major strides of the printed elements (the summarised data), one per dimension.
    printed_strides: Vec<usize>,
    summarize: bool,
    options: &'a PrintOptions,
    elements: &'a ElementFormatter<'a>,
}

impl<'a> Layout<'a> {
    /// `shape` is the printed tensor's, `printed_shape` that of the elements actually printed:
    /// the same unless `summarize` is set.
    pub(crate) fn new(
        shape: &'a [i64],
        printed_shape: &[i64],
        summarize: bool,
        options: &'a PrintOptions,
        elements: &'a ElementFormatter<'a>,
    ) -> Self {
        let mut printed_strides = vec![1usize; printed_shape.len()];
        for axis in (0..printed_shape.len().saturating_sub(1)).rev() {
            let len = usize::try_from(printed_shape[axis + 1]).unwrap_or(0);
            printed_strides[axis] = printed_strides[axis + 1] * len;
        }
        Self { shape, printed_strides, summarize, options, elements }
    }

    /// The text of the whole tensor, for a first line that starts `indent` characters in.
    pub(crate) fn tensor_str(&self, indent: usize) -> String {
        if self.shape.is_empty() { self.elements.format(0) } else { self.nested_str(0, 0, indent) }
    }

    /// `_tensor_str_with_formatter` for the sub-tensor along `axis` whose printed elements
    /// start at `offset`.
    fn nested_str(&self, axis: usize, offset: usize, indent: usize) -> String {
        let dims_left = self.shape.len() - axis;
        if dims_left == 1 {
            return self.vector_str(axis, offset, indent);
        }
        let slices: Vec<String> = self
            .slots(axis)
            .into_iter()
            .map(|slot| match slot {
                Slot::Entry(i) => self.nested_str(axis + 1, offset + i * self.printed_strides[axis], indent + 1),
                Slot::Ellipsis => "...".to_owned(),
            })
            .collect();
        // Sub-tensors of more dimensions are set further apart: dims_left - 2 blank lines.
        let separator = format!(",{}{}", "\n".repeat(dims_left - 1), " ".repeat(indent + 1));
        format!("[{}]", slices.join(&separator))
    }

    /// `_vector_str`: one row, wrapped to the line width.
    fn vector_str(&self, axis: usize, offset: usize, indent: usize) -> String {
        let data: Vec<String> = if self.summarize && self.options.edgeitems == 0 {
            vec!["...".to_owned()]
        } else {
            self.slots(axis)
                .into_iter()
                .map(|slot| match slot {
                    Slot::Entry(i) => self.elements.format(offset + i),
                    Slot::Ellipsis => " ...".to_owned(),
                })
                .collect()
        };
        let lines: Vec<String> = data.chunks(self.elements_per_line(indent)).map(|line| line.join(", ")).collect();
        format!("[{}]", lines.join(&format!(",\n{}", " ".repeat(indent + 1))))
    }

    /// `max(1, floor((linewidth - indent) / element_length))`.
    fn elements_per_line(&self, indent: usize) -> usize {
        let room = self.options.linewidth as i64 - indent as i64;
        let per_line = room.div_euclid(self.elements.element_length().max(1) as i64);
        usize::try_from(per_line).unwrap_or(0).max(1)
    }

    /// What is printed along `axis`: every entry, or for a summary the first and last
    /// `edgeitems` entries around a `...`.
    fn slots(&self, axis: usize) -> Vec<Slot> {
        let len = usize::try_from(self.shape[axis]).unwrap_or(0);
        let edge = self.options.edgeitems;
        if self.summarize && len > edge.saturating_mul(2) {
            let head = (0..edge).map(Slot::Entry);
            let tail = (edge..2 * edge).map(Slot::Entry);
            head.chain([Slot::Ellipsis]).chain(tail).collect()
        } else {
            (0..len).map(Slot::Entry).collect()
        }
    }
}
