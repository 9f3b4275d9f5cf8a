//! What every program here does at its edges, the same way: parse the command line (a bad one
//! is one line on stderr and exit code 2), write results to stdout (a full stdout is an error,
//! a reader that went away, as in `| head`, is not), and end on an error with one
//! `error: ...` line on stderr and exit code 1. Nothing here panics, whatever the state of
//! stdout and stderr.

use std::io::Write;
use std::process::ExitCode;

/// Exit code of a command line that could not be parsed.
pub const USAGE: u8 = 2;

/// Parses the command line into `T`; on `--help` or `--version` prints them and returns
/// success, on a bad command line prints clap's message as one line (with a pointer to
/// `PROGRAM --help`) and returns exit code 2.
///
/// ```no_run
/// #[derive(clap::Parser)]
/// struct Args { #[arg(long)] seed: i64 }
/// fn main() -> std::process::ExitCode {
///     let args: Args = match tch_rnn::cli::program::parse("my-program") {
///         Ok(args) => args,
///         Err(code) => return code,
///     };
///     println!("{}", args.seed);
///     std::process::ExitCode::SUCCESS
/// }
/// ```
pub fn parse<T: clap::Parser>(program: &str) -> Result<T, ExitCode> {
    match T::try_parse() {
        Ok(parsed) => Ok(parsed),
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            Err(match write_stdout(&e.to_string()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            })
        }
        Err(e) => {
            note(&format!("{} (see {program} --help)", usage_error(&e.to_string())));
            Err(ExitCode::from(USAGE))
        }
    }
}

/// clap's message on one line: its first paragraph (the error and what it lists, such as the
/// missing arguments or the possible values), without the usage and the pointer to --help.
fn usage_error(message: &str) -> String {
    let paragraph: Vec<&str> = message.lines().map(str::trim).take_while(|line| !line.is_empty()).collect();
    let line = paragraph.join(" ");
    if line.is_empty() { "error: invalid command line".into() } else { line }
}

/// Writes `text` to stdout and flushes it. A reader that closed the pipe (`| head`) is not an
/// error: the rest is not wanted. A full disk is: the output would be lost. (A stdout closed
/// with `>&-` cannot be seen here: Rust's runtime reopens it on /dev/null before `main`, so
/// the output is discarded, as Python discards it when `sys.stdout` is `None`.)
///
/// ```
/// tch_rnn::cli::program::write_stdout("hello\n")?;
/// # anyhow::Ok(())
/// ```
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to stdout")),
        Ok(()) => Ok(()),
    }
}

/// Prints `line` on stderr in one write, so that the lines of ranks sharing a terminal or a pipe
/// never interleave mid-line; if stderr itself cannot be written, there is nowhere left to say
/// so, and the line is dropped rather than the program panicking.
///
/// ```
/// tch_rnn::cli::program::note("training stopped");
/// ```
pub fn note(line: &str) {
    let _ = std::io::stderr().lock().write_all(format!("{line}\n").as_bytes());
}

/// Prints `e` as one `error: ...` line on stderr (see [`crate::error::one_line`]) and returns
/// exit code 1.
///
/// ```
/// let code = tch_rnn::cli::program::fail(&anyhow::anyhow!("no such file"));
/// assert_eq!(code, std::process::ExitCode::FAILURE);
/// ```
pub fn fail(e: &anyhow::Error) -> ExitCode {
    fail_with(e, |_| None)
}

/// [`fail`], with the causes that `tell` knows told its way (see
/// [`crate::error::one_line_with`]).
///
/// ```
/// let code = tch_rnn::cli::program::fail_with(&anyhow::anyhow!("no such file"), |_| None);
/// assert_eq!(code, std::process::ExitCode::FAILURE);
/// ```
pub fn fail_with(e: &anyhow::Error, tell: impl Fn(&(dyn std::error::Error + 'static)) -> Option<String>) -> ExitCode {
    note(&format!("error: {}", crate::error::one_line_with(e, tell)));
    ExitCode::FAILURE
}
