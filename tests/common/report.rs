//! Running totals of a parity test's comparisons, printed as one line at the end and, when
//! `TCH_RNN_PARITY_REPORT` names a file, appended to it (scripts/check-portability.sh collects
//! the worst differences of every simulated CPU that way).

use std::io::Write;

use super::compare::Comparison;

/// The environment variable naming the file that parity summaries are appended to.
pub const REPORT_ENV: &str = "TCH_RNN_PARITY_REPORT";

/// What a parity test compared, and the worst difference it saw.
#[derive(Debug, Default)]
pub struct Stats {
    pub tensors: usize,
    pub bit_identical: usize,
    pub max_abs: f64,
    pub max_rel: f64,
    /// The largest share of assert_close's tolerance that any element used.
    pub tolerance_used: f64,
    /// The tensor with the largest relative difference.
    pub worst: String,
}

impl Stats {
    /// Counts one compared tensor, named `what`.
    pub fn add(&mut self, what: &str, c: &Comparison) {
        self.tensors += 1;
        self.bit_identical += usize::from(c.bit_identical);
        if c.max_rel > self.max_rel {
            self.max_rel = c.max_rel;
            self.worst = what.to_string();
        }
        self.max_abs = self.max_abs.max(c.max_abs);
        self.tolerance_used = self.tolerance_used.max(c.tolerance_used);
    }

    /// `label: N tensors, B bit-identical, max abs diff .., max rel diff .., ..% of
    /// assert_close's tolerance (worst: ..)`.
    pub fn summary(&self, label: &str) -> String {
        let worst = if self.worst.is_empty() { String::new() } else { format!(" (worst: {})", self.worst) };
        format!(
            "{label}: {} tensors, {} bit-identical, max abs diff {:.2e}, max rel diff {:.2e}, {:.1}% of assert_close's tolerance{worst}",
            self.tensors,
            self.bit_identical,
            self.max_abs,
            self.max_rel,
            100.0 * self.tolerance_used
        )
    }
}

/// Prints `line` and appends it to the report file, if one is named.
pub fn report(line: &str) {
    println!("{line}");
    if let Some(path) = std::env::var_os(REPORT_ENV) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("cannot open {REPORT_ENV}={}: {e}", path.to_string_lossy()));
        writeln!(file, "{line}").unwrap_or_else(|e| panic!("cannot write {}: {e}", path.to_string_lossy()));
    }
}
