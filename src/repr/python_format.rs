//! Python's float formatting as torch's printer uses it: `'{:.4f}'.format(v)`,
//! `'{:.4e}'.format(v)` and `f'{v:.0f}'` on the element converted to a Python float (an `f64`).
//!
//! Rust's `{:.N}` and `{:.Ne}` round the exact binary value half-to-even, exactly like Python;
//! only the spelling differs: Python writes `nan`/`inf` and a signed exponent of at least two
//! digits (`1.0000e-05`, Rust `1.0000e-5`).

/// `'{:.{precision}f}'.format(value)`.
pub(crate) fn fixed(value: f64, precision: usize) -> String {
    non_finite(value).unwrap_or_else(|| format!("{value:.precision$}"))
}

/// `'{:.{precision}e}'.format(value)`.
pub(crate) fn scientific(value: f64, precision: usize) -> String {
    non_finite(value).unwrap_or_else(|| python_exponent(&format!("{value:.precision$e}")))
}

/// `str(value)` of a Python bool.
pub(crate) fn bool_str(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

/// Right-aligns `text` in `width` characters, as `(width - len(text)) * " " + text` does.
pub(crate) fn pad_left(text: String, width: usize) -> String {
    if text.len() >= width { text } else { format!("{text:>width$}") }
}

/// Python's spelling of the non-finite floats (the sign of a NaN is never shown).
fn non_finite(value: f64) -> Option<String> {
    if value.is_nan() {
        Some("nan".into())
    } else if value.is_infinite() {
        Some(if value > 0.0 { "inf" } else { "-inf" }.into())
    } else {
        None
    }
}

/// Rewrites Rust's exponent (`e-5`, `e0`, `e16`) the way Python writes it (`e-05`, `e+00`,
/// `e+16`).
fn python_exponent(rust: &str) -> String {
    let Some((mantissa, exponent)) = rust.split_once('e') else {
        return rust.to_owned();
    };
    let (sign, digits) = match exponent.strip_prefix('-') {
        Some(digits) => ('-', digits),
        None => ('+', exponent),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_matches_python() {
        assert_eq!(fixed(0.03125, 4), "0.0312");
        assert_eq!(fixed(0.09375, 4), "0.0938");
        assert_eq!(fixed(-0.0, 4), "-0.0000");
        assert_eq!(fixed(2.5, 0), "2");
        assert_eq!(fixed(f64::NAN, 4), "nan");
        assert_eq!(fixed(-f64::NAN, 4), "nan");
        assert_eq!(fixed(f64::NEG_INFINITY, 4), "-inf");
    }

    #[test]
    fn scientific_matches_python() {
        assert_eq!(scientific(2.5e-05, 4), "2.5000e-05");
        assert_eq!(scientific(1.03125, 4), "1.0312e+00");
        assert_eq!(scientific(0.0, 4), "0.0000e+00");
        assert_eq!(scientific(-1e300, 2), "-1.00e+300");
        assert_eq!(scientific(f64::INFINITY, 4), "inf");
    }

    #[test]
    fn pads_on_the_left_only_when_shorter() {
        assert_eq!(pad_left("1.5".into(), 6), "   1.5");
        assert_eq!(pad_left("-1.5000".into(), 3), "-1.5000");
    }
}
