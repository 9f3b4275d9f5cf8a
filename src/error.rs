//! Errors as one line: libtorch's exceptions arrive as `Internal torch error: <message>`
//! followed by "Exception raised from ..." and 20-40 lines of C++ frames; users get the message
//! alone, prefixed with the module that called libtorch.
//!
//! ```
//! let e = anyhow::anyhow!("cannot read x.safetensors").context("state_dict");
//! assert_eq!(tch_rnn::error::one_line(&e), "state_dict: cannot read x.safetensors");
//! ```

/// `e` and its causes on one line, `outer: inner: ...`, with libtorch's C++ source locations
/// and stack frames removed and every run of white space (new lines too) folded to one space.
///
/// ```
/// let raw = "Internal torch error: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)\n\
///            Exception raised from meta at aten/src/ATen/native/LinearAlgebra.cpp:193 (most recent call first):\n\
///            frame #0: c10::Error::Error(...)";
/// let e = anyhow::anyhow!(raw.to_string());
/// assert_eq!(tch_rnn::error::one_line(&e), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)");
/// ```
pub fn one_line(e: &anyhow::Error) -> String {
    one_line_with(e, |_| None)
}

/// [`one_line`], with some causes told otherwise: `tell` returns the text of a cause it knows
/// (the command line names a flag where the library named a field), `None` for the others.
///
/// ```
/// let e = anyhow::Error::new(std::fmt::Error).context("saving");
/// let told = tch_rnn::error::one_line_with(&e, |cause| cause.is::<std::fmt::Error>().then(|| "formatting failed".into()));
/// assert_eq!(told, "saving: formatting failed");
/// ```
pub fn one_line_with(e: &anyhow::Error, tell: impl Fn(&(dyn std::error::Error + 'static)) -> Option<String>) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let part = clean(&tell(cause).unwrap_or_else(|| cause.to_string()));
        // anyhow repeats nothing, but libtorch messages wrapped twice would: keep one copy.
        if !part.is_empty() && parts.last().is_none_or(|last| !last.ends_with(&part)) {
            parts.push(part);
        }
    }
    parts.join(": ")
}

/// One cause's text without libtorch's decoration.
fn clean(text: &str) -> String {
    let text = text.split("Exception raised from").next().unwrap_or(text);
    let text = text.trim_start().strip_prefix("Internal torch error:").unwrap_or(text);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs `f`, the body of a public function of `module`, and returns its error as one line
/// starting with `module:` (see [`one_line`]); `Ok` passes through untouched.
pub(crate) fn guard<T>(module: &str, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    f().map_err(|e| tidy(module, e))
}

/// `e` as one line starting with `module:` (see [`one_line`]).
pub(crate) fn tidy(module: &str, e: impl Into<anyhow::Error>) -> anyhow::Error {
    let line = one_line(&e.into());
    if line.starts_with(&format!("{module}:")) {
        anyhow::Error::msg(line)
    } else {
        anyhow::Error::msg(format!("{module}: {line}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtorch_frames_are_cut_and_the_module_named_once() {
        let raw = anyhow::Error::from(tch::Tensor::from(1.0f32).f_view([2, 3]).unwrap_err());
        assert!(raw.to_string().contains("Exception raised from"), "libtorch changed its messages: {raw}");
        let e = guard("Linear", || -> anyhow::Result<()> { Err(raw) }).unwrap_err().to_string();
        assert!(e.starts_with("Linear: shape '[2, 3]' is invalid for input of size 1"), "{e}");
        assert_eq!(e.lines().count(), 1);
        let named = guard("Linear", || -> anyhow::Result<()> { anyhow::bail!("Linear: bad") }).unwrap_err();
        assert_eq!(named.to_string(), "Linear: bad");
    }
}
