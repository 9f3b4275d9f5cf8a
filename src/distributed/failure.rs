//! Failures of a distributed step, each one line naming the rank and the cause; and, after a
//! broken collective, which peers are gone (the survivors report to the store, the lost do not).

use std::fmt;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::ffi::distributed::RawGroup;

/// Why a distributed step failed.
///
/// ```
/// use tch_rnn::distributed::Cause;
/// assert_eq!(Cause::PeerLost(vec![1]).to_string(), "peer lost: rank 1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// A peer did not answer within the timeout; the ranks that never reported back (stalled).
    Timeout(Vec<usize>),
    /// Connections to peers broke (killed, crashed, exited); the ranks that never reported back.
    PeerLost(Vec<usize>),
    /// The rendezvous address cannot be resolved or used.
    BadAddress,
    /// No store answered at the rendezvous address within the timeout (rank 0, or torchrun's
    /// agent, never came or is gone).
    StoreUnreachable,
    /// An earlier failure broke the group: after any failure a group must be rebuilt.
    Broken,
    /// This build has no distributed support (gloo's headers were missing).
    Unavailable,
    /// Anything else libtorch refused (parameters that differ across ranks, bad arguments).
    Other,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ranks = |ranks: &[usize]| match ranks {
            [] => String::new(),
            [one] => format!(": rank {one}"),
            many => format!(": ranks {}", many.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")),
        };
        match self {
            Cause::Timeout(silent) => write!(f, "timeout{}", ranks(silent)),
            Cause::PeerLost(lost) => write!(f, "peer lost{}", ranks(lost)),
            Cause::BadAddress => write!(f, "bad address"),
            Cause::StoreUnreachable => write!(f, "store unreachable"),
            Cause::Broken => write!(f, "group already broken"),
            Cause::Unavailable => write!(f, "not available"),
            Cause::Other => write!(f, "failed"),
        }
    }
}

/// A failed distributed step, shown on one line:
/// `distributed: rank R of W: OPERATION: CAUSE (DETAIL)`. It is the error that the functions of
/// [`crate::distributed`] return (inside `anyhow::Error`, which `downcast_ref` opens).
///
/// ```
/// use tch_rnn::distributed::{Cause, Failure};
/// let f = Failure { rank: 0, world_size: 2, operation: "allreduce".into(),
///     cause: Cause::PeerLost(vec![1]), detail: "Connection reset by peer".into() };
/// assert_eq!(f.to_string(), "distributed: rank 0 of 2: allreduce: peer lost: rank 1 (Connection reset by peer)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The rank that failed.
    pub rank: usize,
    /// Its group's size.
    pub world_size: usize,
    /// What it was doing: `joining`, `allreduce`, `broadcast`, `barrier`, ...
    pub operation: String,
    /// Why it failed.
    pub cause: Cause,
    /// libtorch's own words, on one line.
    pub detail: String,
}

impl Failure {
    /// What failed, without who: `OPERATION: CAUSE (DETAIL)`.
    ///
    /// ```
    /// use tch_rnn::distributed::{Cause, Failure};
    /// let f = Failure { rank: 1, world_size: 2, operation: "barrier".into(), cause: Cause::Timeout(vec![0]), detail: String::new() };
    /// assert_eq!(f.what(), "barrier: timeout: rank 0");
    /// ```
    pub fn what(&self) -> String {
        let mut what = format!("{}: {}", self.operation, self.cause);
        if !self.detail.is_empty() {
            what.push_str(&format!(" ({})", self.detail));
        }
        what
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "distributed: rank {} of {}: {}", self.rank, self.world_size, self.what())
    }
}

impl std::error::Error for Failure {}

/// libtorch's message on one line, without its C++ trace, gloo's source locations nor gloo's
/// advice that follows its diagnosis ("This is typically caused by ...").
pub(crate) fn tidy(message: &str) -> String {
    let message = message.split(" This is typically caused by").next().unwrap_or(message);
    let line = crate::error::one_line(&anyhow::Error::msg(message.to_string()));
    // Gloo prefixes its errors with "[path/to/file.cc:123] ".
    let mut words: Vec<&str> = line.split(' ').filter(|w| !(w.starts_with('[') && w.contains(".cc:"))).collect();
    words.dedup();
    words.join(" ")
}

/// What a message of libtorch's says went wrong in a collective: a broken connection or a
/// timeout (each still missing the ranks to blame), or something else.
pub(crate) fn classify(message: &str) -> Cause {
    const LOST: [&str; 6] = [
        "Connection reset by peer",
        "Connection closed by peer",
        "Broken pipe",
        "Connection refused",
        "closed the connection",
        "EOF",
    ];
    let lower = message.to_lowercase();
    if LOST.iter().any(|needle| lower.contains(&needle.to_lowercase())) {
        Cause::PeerLost(Vec::new())
    } else if lower.contains("timed out") || lower.contains("timeout") {
        Cause::Timeout(Vec::new())
    } else {
        Cause::Other
    }
}

/// The store key where rank `rank` reports `what` after a failed collective: `alive` (it is
/// still there) or `done` (it has finished looking for the others).
fn report_key(what: &str, rank: usize) -> String {
    format!("tch_rnn/failure/{what}/{rank}")
}

/// The ranks other than `rank` whose `what` report is not in the store yet.
fn unreported(raw: &RawGroup, what: &str, rank: usize, ranks: &[usize]) -> Result<Vec<usize>, String> {
    let mut missing = Vec::new();
    for &peer in ranks.iter().filter(|&&peer| peer != rank) {
        if !raw.store_check(&report_key(what, peer))? {
            missing.push(peer);
        }
    }
    Ok(missing)
}

/// Polls until `unreported` is empty or `grace` has passed; returns what is still missing.
fn wait_for(raw: &RawGroup, what: &str, rank: usize, ranks: &[usize], grace: Duration) -> Result<Vec<usize>, String> {
    let deadline = Instant::now() + grace;
    loop {
        let missing = unreported(raw, what, rank, ranks)?;
        if missing.is_empty() || Instant::now() >= deadline {
            return Ok(missing);
        }
        sleep(Duration::from_millis(20));
    }
}

/// After a failed collective: reports this rank as alive to the store, waits up to `grace`
/// for every other rank to do the same, and returns those that did not (the lost or stalled).
/// The rank that hosts the store then waits, up to `grace` again, until the survivors are
/// done looking, so that its exit does not take the store from under them. `Err` when the
/// store itself no longer answers.
pub(crate) fn silent_ranks(
    raw: &RawGroup,
    rank: usize,
    world: usize,
    hosts_store: bool,
    grace: Duration,
) -> Result<Vec<usize>, String> {
    let everyone: Vec<usize> = (0..world).collect();
    raw.store_set(&report_key("alive", rank), "1")?;
    let silent = wait_for(raw, "alive", rank, &everyone, grace)?;
    raw.store_set(&report_key("done", rank), "1")?;
    if hosts_store {
        let survivors: Vec<usize> = everyone.into_iter().filter(|r| !silent.contains(r)).collect();
        wait_for(raw, "done", rank, &survivors, grace)?;
    }
    Ok(silent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gloo_and_libtorch_messages_are_tidied_and_classified() {
        let raw = "[../third_party/gloo/gloo/transport/tcp/pair.cc:534] Read error [127.0.0.1]:43210: Connection reset by peer. \
                   This is typically caused by a remote worker hanging. GLHF!\n\
                   Exception raised from run at x.cpp:1 (most recent call first):\nframe #0: c10::Error";
        assert_eq!(tidy(raw), "Read error [127.0.0.1]:43210: Connection reset by peer.");
        assert_eq!(classify(raw), Cause::PeerLost(vec![]));
        assert_eq!(
            classify("[x.cc:1] Timed out waiting 5000ms for recv operation to complete"),
            Cause::Timeout(vec![])
        );
        assert_eq!(classify("DDP expects same model across all ranks"), Cause::Other);
    }

    #[test]
    fn a_failure_names_rank_operation_cause_and_the_blamed_ranks() {
        let f = Failure {
            rank: 2,
            world_size: 4,
            operation: "barrier".into(),
            cause: Cause::Timeout(vec![1, 3]),
            detail: String::new(),
        };
        assert_eq!(f.to_string(), "distributed: rank 2 of 4: barrier: timeout: ranks 1, 3");
    }
}
