//! What every program here does at its edges, the same way: parse the command line (a bad one
//! is one line on stderr and exit code 2), write results to stdout (a closed or full stdout is
//! an error, a reader that went away, as in `| head`, is not), and end on an error with one
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
///     let args: Args = match tch_rnn::command_line::parse("my-program") {
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
            // clap's message without its suggestion lines.
            let message = e.to_string();
            let first = message.lines().next().unwrap_or("error: invalid command line");
            note(&format!("{first} (see {program} --help)"));
            Err(ExitCode::from(USAGE))
        }
    }
}

/// Writes `text` to stdout and flushes it. A reader that closed the pipe (`| head`) is not an
/// error: the rest is not wanted. A closed stdout (`>&-`) or a full disk is: the output would
/// be lost.
///
/// ```
/// tch_rnn::command_line::write_stdout("hello\n")?;
/// # anyhow::Ok(())
/// ```
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    anyhow::ensure!(stdout_is_open(), "cannot write to stdout: it is closed");
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to stdout")),
        Ok(()) => Ok(()),
    }
}

/// Whether file descriptor 1 is open. Rust's stdout silently discards what is written to a
/// closed one; the programs here report it instead.
///
/// ```
/// let _open = tch_rnn::command_line::stdout_is_open();
/// ```
pub fn stdout_is_open() -> bool {
    #[cfg(unix)]
    {
        unsafe extern "C" {
            fn fcntl(fd: std::ffi::c_int, cmd: std::ffi::c_int, ...) -> std::ffi::c_int;
        }
        const F_GETFD: std::ffi::c_int = 1;
        // SAFETY: F_GETFD only reads the descriptor's flags.
        unsafe { fcntl(1, F_GETFD) != -1 }
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// Prints `line` on stderr; if stderr itself cannot be written, there is nowhere left to say
/// so, and the line is dropped rather than the program panicking.
///
/// ```
/// tch_rnn::command_line::note("training stopped");
/// ```
pub fn note(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Prints `e` as one `error: ...` line on stderr (see [`crate::error::one_line`]) and returns
/// exit code 1.
///
/// ```
/// let code = tch_rnn::command_line::fail(&anyhow::anyhow!("no such file"));
/// assert_eq!(code, std::process::ExitCode::FAILURE);
/// ```
pub fn fail(e: &anyhow::Error) -> ExitCode {
    note(&format!("error: {}", crate::error::one_line(e)));
    ExitCode::FAILURE
}
