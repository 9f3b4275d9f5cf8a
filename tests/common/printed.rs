//! Comparing what a tutorial program printed with what its PyTorch twin printed on another
//! CPU: the same text, except that each printed decimal number may differ by one unit in its
//! last printed digit (`loss: 2.2399` for `loss: 2.2400`). Integers (epochs, sizes), words,
//! predicted strings, spacing and line count must be the same.

/// A piece of a printed line: a decimal number, or anything else.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    Text(&'a str),
    /// `-12.3450e-05` is digits -123450, 4 decimals, exponent "e-05".
    Decimal {
        text: &'a str,
        digits: i128,
        decimals: usize,
        exponent: &'a str,
    },
}

fn is_digit(b: Option<&u8>) -> bool {
    b.is_some_and(u8::is_ascii_digit)
}

/// Splits a line into decimal numbers (`-?\d+\.\d*([eE][+-]?\d+)?`) and text. Integers stay
/// text, so they must match exactly.
fn tokenize(line: &str) -> Vec<Token<'_>> {
    let bytes = line.as_bytes();
    let mut tokens = Vec::new();
    let (mut i, mut text_start) = (0, 0);
    while i < bytes.len() {
        let start = i;
        let mut j = i + usize::from(bytes[i] == b'-');
        let previous_is_word = start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'.');
        if previous_is_word || !is_digit(bytes.get(j)) {
            i += 1;
            continue;
        }
        while is_digit(bytes.get(j)) {
            j += 1;
        }
        if bytes.get(j) != Some(&b'.') {
            i = j; // an integer: part of the text
            continue;
        }
        let point = j;
        j += 1;
        while is_digit(bytes.get(j)) {
            j += 1;
        }
        let decimals = j - point - 1;
        let mantissa_end = j;
        if matches!(bytes.get(j), Some(b'e' | b'E')) {
            let mut k = j + 1;
            if matches!(bytes.get(k), Some(b'+' | b'-')) {
                k += 1;
            }
            if is_digit(bytes.get(k)) {
                while is_digit(bytes.get(k)) {
                    k += 1;
                }
                j = k;
            }
        }
        let digits: String = line[start..mantissa_end].chars().filter(|c| *c != '.').collect();
        let Ok(digits) = digits.parse::<i128>() else {
            i = j;
            continue;
        };
        if text_start < start {
            tokens.push(Token::Text(&line[text_start..start]));
        }
        tokens.push(Token::Decimal { text: &line[start..j], digits, decimals, exponent: &line[mantissa_end..j] });
        (i, text_start) = (j, j);
    }
    if text_start < bytes.len() {
        tokens.push(Token::Text(&line[text_start..]));
    }
    tokens
}

/// Whether two printed lines are the same up to one unit in the last digit of each decimal;
/// counts the decimals that differ.
fn lines_match(expected: &str, actual: &str, off_by_one: &mut usize) -> bool {
    let (e, a) = (tokenize(expected), tokenize(actual));
    if e.len() != a.len() {
        return false;
    }
    for pair in e.iter().zip(&a) {
        match pair {
            (Token::Text(x), Token::Text(y)) if x == y => {}
            (
                Token::Decimal { text: tx, digits: dx, decimals: nx, exponent: ex },
                Token::Decimal { text: ty, digits: dy, decimals: ny, exponent: ey },
            ) if nx == ny && ex == ey && (dx - dy).abs() <= 1 => *off_by_one += usize::from(tx != ty),
            _ => return false,
        }
    }
    true
}

/// What [`compare_printed`] found when the outputs agree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrintedComparison {
    pub lines: usize,
    /// Printed decimals that differ by one unit in their last digit.
    pub off_by_one: usize,
}

/// Compares `actual` with `expected` line by line; on failure returns a diff of the lines that
/// differ (`-` PyTorch's, `+` Rust's) and of missing or extra lines.
pub fn compare_printed(expected: &str, actual: &str) -> Result<PrintedComparison, String> {
    let mut found = PrintedComparison { lines: expected.lines().count(), off_by_one: 0 };
    diff_lines(expected, actual, |x, y| lines_match(x, y, &mut found.off_by_one)).map(|()| found)
}

/// The lines of `actual` that are not byte for byte those of `expected`, as a diff, or `Ok`
/// when the two are the same bytes.
pub fn compare_bytes(expected: &str, actual: &str) -> Result<(), String> {
    if expected == actual {
        return Ok(());
    }
    diff_lines(expected, actual, |x, y| x == y)?;
    Err("  the outputs differ in their line endings".into())
}

fn diff_lines(expected: &str, actual: &str, mut same: impl FnMut(&str, &str) -> bool) -> Result<(), String> {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut diff = Vec::new();
    for i in 0..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if same(x, y) => {}
            (x, y) => {
                diff.push(format!("  line {}:", i + 1));
                diff.extend(x.map(|x| format!("  - {x}")));
                diff.extend(y.map(|y| format!("  + {y}")));
            }
        }
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        diff.push("  (one output ends with a newline, the other does not)".into());
    }
    if diff.is_empty() { Ok(()) } else { Err(diff.join("\n")) }
}
