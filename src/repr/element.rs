//! [`ElementFormatter`]: one printed element as text, real or complex (`_val_formatter` and
//! `_scalar_str` in torch/_tensor_str.py).

use super::PrintOptions;
use super::formatter::Formatter;
use super::values::{PrintedValues, Values};

/// A formatter for the real parts of the printed elements, and for complex tensors a second
/// one for their imaginary parts.
struct Column<'a> {
    values: &'a Values,
    formatter: Formatter,
}

impl<'a> Column<'a> {
    fn new(values: &'a Values, options: &PrintOptions) -> Self {
        Self { values, formatter: Formatter::new(values, options) }
    }

    fn format(&self, index: usize) -> String {
        self.formatter.format(self.values, index)
    }
}

/// Writes element `index` of the printed elements, as torch writes one element of a row or a
/// 0-d tensor.
pub(crate) struct ElementFormatter<'a> {
    real: Column<'a>,
    imag: Option<Column<'a>>,
}

impl<'a> ElementFormatter<'a> {
    /// The formatters `_tensor_str` builds over the printed elements.
    pub(crate) fn new(values: &'a PrintedValues, options: &PrintOptions) -> Self {
        Self {
            real: Column::new(&values.real, options),
            imag: values.imag.as_ref().map(|imag| Column::new(imag, options)),
        }
    }

    /// `element_length` in `_vector_str`: the width of one element with its `, ` separator.
    pub(crate) fn element_length(&self) -> usize {
        let real = self.real.formatter.width() + 2;
        match &self.imag {
            // The imaginary part and its `j`.
            Some(imag) => real + imag.formatter.width() + 1,
            None => real,
        }
    }

    /// The text of element `index`: `1.5000`, or `1.5000-2.0000j` for complex elements.
    pub(crate) fn format(&self, index: usize) -> String {
        let real = self.real.format(index);
        let Some(imag) = &self.imag else {
            return real;
        };
        let imag = format!("{}j", imag.format(index));
        let imag = imag.trim_start();
        // A negative imaginary part brings its own sign.
        if imag.starts_with(['+', '-']) { format!("{real}{imag}") } else { format!("{real}+{imag}") }
    }
}
