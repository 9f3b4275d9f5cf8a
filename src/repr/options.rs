//! [`PrintOptions`], the port of torch's `PRINT_OPTS` (`torch.set_printoptions`).

/// How tensors are printed: the fields of `torch.set_printoptions`, with the same meaning and
/// the same defaults.
///
/// ```
/// use tch_rnn::repr::{PrintOptions, repr_with};
/// let options = PrintOptions { precision: 2, ..PrintOptions::default() };
/// let t = tch::Tensor::from_slice(&[1.12345f32, -2.5]);
/// assert_eq!(repr_with(&t, &options), "tensor([ 1.12, -2.50])");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrintOptions {
    /// Digits after the decimal point of floating point elements (torch's default: 4).
    pub precision: usize,
    /// Tensors with more elements than this are summarised with `...` (default: 1000;
    /// `usize::MAX` stands for Python's `inf`, the "full" profile).
    pub threshold: usize,
    /// Elements kept at the beginning and at the end of each summarised dimension (default: 3).
    pub edgeitems: usize,
    /// Characters per line before rows wrap (default: 80).
    pub linewidth: usize,
    /// `Some(true)` forces scientific notation, `Some(false)` forbids it, `None` (the default)
    /// lets the printer choose from the printed values.
    pub sci_mode: Option<bool>,
}

impl Default for PrintOptions {
    /// torch's defaults (`torch.set_printoptions(profile="default")`).
    ///
    /// ```
    /// let options = tch_rnn::repr::PrintOptions::default();
    /// assert_eq!((options.precision, options.threshold, options.edgeitems), (4, 1000, 3));
    /// assert_eq!((options.linewidth, options.sci_mode), (80, None));
    /// ```
    fn default() -> Self {
        Self { precision: 4, threshold: 1000, edgeitems: 3, linewidth: 80, sci_mode: None }
    }
}
