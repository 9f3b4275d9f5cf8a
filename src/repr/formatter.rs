//! [`Formatter`], the port of `_Formatter` in torch/_tensor_str.py: it looks at the printed
//! elements once, chooses how floats are written, and pads every element to a common width.

use super::PrintOptions;
use super::python_format::{bool_str, fixed, pad_left, scientific};
use super::values::Values;

/// How one column of elements is written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Bool and integer dtypes: `str(value)`.
    Plain,
    /// Floats that are all integral: `f"{value:.0f}"` and a `.` after finite values.
    Integral,
    /// Floats in scientific notation: `'{:.4e}'`.
    Scientific,
    /// Floats in fixed notation: `'{:.4f}'`.
    Fixed,
}

/// Writes the elements of one column (a tensor, or the real or imaginary parts of a complex
/// one) so that they line up: every element is right-aligned to the widest one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Formatter {
    mode: Mode,
    max_width: usize,
    precision: usize,
}

impl Formatter {
    /// `_Formatter(tensor)` over the printed elements `values`.
    pub(crate) fn new(values: &Values, options: &PrintOptions) -> Self {
        let precision = options.precision;
        match values {
            Values::Float(floats) => Self::for_floats(floats, options),
            Values::Bool(bools) => {
                let widths = bools.iter().map(|&b| bool_str(b).len());
                Self { mode: Mode::Plain, max_width: widths.fold(1, usize::max), precision }
            }
            Values::Int(ints) => {
                let widths = ints.iter().map(|i| i.to_string().len());
                Self { mode: Mode::Plain, max_width: widths.fold(1, usize::max), precision }
            }
        }
    }

    /// The floating point branch of `_Formatter.__init__`: the mode and the width come from the
    /// nonzero finite values only.
    fn for_floats(values: &[f64], options: &PrintOptions) -> Self {
        let precision = options.precision;
        let nonzero_finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite() && *v != 0.0).collect();
        if nonzero_finite.is_empty() {
            // "no valid number, do nothing": int mode, width 1, whatever sci_mode says.
            return Self { mode: Mode::Integral, max_width: 1, precision };
        }
        let int_mode = nonzero_finite.iter().all(|v| *v == v.ceil());
        let sci_mode = options.sci_mode.unwrap_or_else(|| needs_sci_mode(&nonzero_finite));
        let mode = match (sci_mode, int_mode) {
            (true, _) => Mode::Scientific,
            (false, true) => Mode::Integral,
            (false, false) => Mode::Fixed,
        };
        let unpadded = Self { mode, max_width: 1, precision };
        let max_width = nonzero_finite.iter().map(|&v| unpadded.float_str(v).len()).fold(1, usize::max);
        Self { max_width, ..unpadded }
    }

    /// `_Formatter.width()`: the width every formatted element is padded to.
    pub(crate) fn width(&self) -> usize {
        self.max_width
    }

    /// `_Formatter.format(value)` for element `index` of `values`.
    pub(crate) fn format(&self, values: &Values, index: usize) -> String {
        let text = match values {
            Values::Bool(bools) => bools.get(index).map(|&b| bool_str(b).to_owned()),
            Values::Int(ints) => ints.get(index).map(i64::to_string),
            Values::Float(floats) => floats.get(index).map(|&v| self.float_str(v)),
        };
        pad_left(text.unwrap_or_default(), self.max_width)
    }

    /// One float written in this formatter's mode, before padding.
    fn float_str(&self, value: f64) -> String {
        match self.mode {
            Mode::Scientific => scientific(value, self.precision),
            Mode::Integral if value.is_finite() => format!("{}.", fixed(value, 0)),
            Mode::Integral => fixed(value, 0),
            Mode::Fixed | Mode::Plain => fixed(value, self.precision),
        }
    }
}

/// torch's automatic choice of scientific notation: the nonzero finite magnitudes span more
/// than three orders of magnitude, or reach 1e8, or go below 1e-4.
fn needs_sci_mode(nonzero_finite: &[f64]) -> bool {
    let magnitudes = nonzero_finite.iter().map(|v| v.abs());
    let max = magnitudes.clone().fold(f64::NEG_INFINITY, f64::max);
    let min = magnitudes.fold(f64::INFINITY, f64::min);
    max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formatted(floats: Vec<f64>) -> Vec<String> {
        let count = floats.len();
        let values = Values::Float(floats);
        let formatter = Formatter::new(&values, &PrintOptions::default());
        (0..count).map(|i| formatter.format(&values, i)).collect()
    }

    #[test]
    fn width_comes_from_nonzero_finite_values_only() {
        assert_eq!(formatted(vec![1.5, f64::NAN, f64::NEG_INFINITY]), ["1.5000", "   nan", "  -inf"]);
        assert_eq!(formatted(vec![0.0, f64::NAN]), ["0.", "nan"]);
    }

    #[test]
    fn integral_floats_print_with_a_dot() {
        assert_eq!(formatted(vec![-1.0, 100.0, f64::INFINITY]), [" -1.", "100.", " inf"]);
    }

    #[test]
    fn wide_ranges_switch_to_scientific_notation() {
        assert_eq!(formatted(vec![1.0e-5, 1.0]), ["1.0000e-05", "1.0000e+00"]);
        assert_eq!(formatted(vec![1.0, 1000.0]), ["   1.", "1000."]);
    }

    #[test]
    fn bools_and_ints_align_to_the_widest() {
        let bools = Values::Bool(vec![true, false]);
        let formatter = Formatter::new(&bools, &PrintOptions::default());
        assert_eq!(formatter.format(&bools, 0), " True");
        let ints = Values::Int(vec![7, -120]);
        let formatter = Formatter::new(&ints, &PrintOptions::default());
        assert_eq!(formatter.format(&ints, 0), "   7");
    }
}
