//! Where a process group meets: torchrun's environment contract, or the same values given
//! explicitly.

use std::io::ErrorKind;
use std::net::{TcpListener, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Result, bail};

use super::failure::Cause;

/// torch.distributed's default timeout for Gloo groups (`default_pg_timeout`, 30 minutes),
/// the one [`GroupConfig::new`] starts with.
///
/// ```
/// assert_eq!(tch_rnn::distributed::DEFAULT_TIMEOUT.as_secs(), 30 * 60);
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Which of libtorch's c10d backends moves which tensors: the `backend` argument of
/// `init_process_group`.
///
/// ```
/// use tch_rnn::distributed::{Backend, GroupConfig};
/// let config = GroupConfig::new("127.0.0.1", 29500, 0, 1);
/// assert_eq!(config.backend, Backend::Gloo);
/// assert_eq!(Backend::Nccl.to_string(), "cpu:gloo,cuda:nccl");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// `"gloo"`: `ProcessGroupGloo` for CPU and CUDA tensors alike (CUDA tensors staged through
    /// host memory), so several ranks may share a GPU.
    #[default]
    Gloo,
    /// `"cpu:gloo,cuda:nccl"`: `ProcessGroupNCCL` for CUDA tensors, GPU to GPU, one GPU per
    /// rank; Gloo for CPU tensors. Needs a CUDA build of libtorch and a build of this crate
    /// with NCCL's backend ([`nccl_available`](super::nccl_available)).
    Nccl,
}

impl std::fmt::Display for Backend {
    /// The string PyTorch's `init_process_group` takes for the same group.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Gloo => "gloo",
            Backend::Nccl => "cpu:gloo,cuda:nccl",
        })
    }
}

/// How one rank joins its process group: the rendezvous address, its place in the group, the
/// backend and how long any step may wait for the others.
///
/// ```
/// use std::time::Duration;
/// use tch_rnn::distributed::GroupConfig;
/// let config = GroupConfig::new("127.0.0.1", 29500, 1, 4).with_timeout(Duration::from_secs(60));
/// assert_eq!((config.rank, config.world_size, config.local_rank), (1, 4, 1));
/// assert!(!config.agent_store, "rank 0 hosts the store unless torchrun's agent does");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConfig {
    /// The host of the store (`MASTER_ADDR`): rank 0's machine, or torchrun's agent's.
    pub master_addr: String,
    /// Its port (`MASTER_PORT`).
    pub master_port: u16,
    /// This process's rank, `0..world_size` (`RANK`).
    pub rank: usize,
    /// How many processes the group has (`WORLD_SIZE`).
    pub world_size: usize,
    /// This process's rank on its machine (`LOCAL_RANK`): which GPU it would use.
    pub local_rank: usize,
    /// Whether torchrun's elastic agent hosts the store (`TORCHELASTIC_USE_AGENT_STORE=True`):
    /// then every rank is a client; otherwise rank 0 hosts it.
    pub agent_store: bool,
    /// How long a rendezvous or a collective may wait for the others before failing.
    pub timeout: Duration,
    /// The c10d backend (Gloo unless NCCL is asked for).
    pub backend: Backend,
}

impl GroupConfig {
    /// Rank `rank` of `world_size` meeting at `master_addr:master_port`, rank 0 hosting the
    /// store, one machine (`local_rank = rank`), Gloo, PyTorch's default timeout
    /// ([`DEFAULT_TIMEOUT`]).
    ///
    /// ```
    /// let config = tch_rnn::distributed::GroupConfig::new("10.0.0.1", 29500, 0, 2);
    /// assert_eq!(config.timeout, tch_rnn::distributed::DEFAULT_TIMEOUT);
    /// ```
    pub fn new(master_addr: &str, master_port: u16, rank: usize, world_size: usize) -> Self {
        GroupConfig {
            master_addr: master_addr.to_string(),
            master_port,
            rank,
            world_size,
            local_rank: rank,
            agent_store: false,
            timeout: DEFAULT_TIMEOUT,
            backend: Backend::Gloo,
        }
    }

    /// The same with another timeout.
    ///
    /// ```
    /// let config = tch_rnn::distributed::GroupConfig::new("127.0.0.1", 29500, 0, 1)
    ///     .with_timeout(std::time::Duration::from_secs(5));
    /// assert_eq!(config.timeout.as_secs(), 5);
    /// ```
    pub fn with_timeout(self, timeout: Duration) -> Self {
        GroupConfig { timeout, ..self }
    }

    /// The same with another backend.
    ///
    /// ```
    /// use tch_rnn::distributed::{Backend, GroupConfig};
    /// let config = GroupConfig::new("127.0.0.1", 29500, 0, 1).with_backend(Backend::Nccl);
    /// assert_eq!(config.backend, Backend::Nccl);
    /// ```
    pub fn with_backend(self, backend: Backend) -> Self {
        GroupConfig { backend, ..self }
    }

    /// The configuration torchrun gives through the environment: `MASTER_ADDR`, `MASTER_PORT`,
    /// `RANK`, `WORLD_SIZE`, and if set `LOCAL_RANK` (else `RANK`) and
    /// `TORCHELASTIC_USE_AGENT_STORE`.
    ///
    /// ```
    /// // Outside torchrun (and with MASTER_ADDR unset) it says what is missing.
    /// # if std::env::var_os("MASTER_ADDR").is_none() {
    /// let e = tch_rnn::distributed::GroupConfig::from_env(std::time::Duration::from_secs(60)).unwrap_err();
    /// assert!(e.to_string().starts_with("distributed: MASTER_ADDR is not set"));
    /// # }
    /// ```
    pub fn from_env(timeout: Duration) -> Result<Self> {
        Self::from_vars(|name| std::env::var(name).ok(), timeout)
    }

    /// [`GroupConfig::from_env`] reading the variables from `var` instead of the environment.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// let env = HashMap::from([("MASTER_ADDR", "node0"), ("MASTER_PORT", "29400"), ("RANK", "5"),
    ///     ("WORLD_SIZE", "8"), ("LOCAL_RANK", "1"), ("TORCHELASTIC_USE_AGENT_STORE", "True")]);
    /// let config = tch_rnn::distributed::GroupConfig::from_vars(
    ///     |name| env.get(name).map(|v| v.to_string()), std::time::Duration::from_secs(60))?;
    /// assert_eq!((config.master_addr.as_str(), config.rank, config.local_rank), ("node0", 5, 1));
    /// assert!(config.agent_store);
    /// # anyhow::Ok(())
    /// ```
    pub fn from_vars(var: impl Fn(&str) -> Option<String>, timeout: Duration) -> Result<Self> {
        let required = |name: &str| {
            var(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "distributed: {name} is not set: expected torchrun's environment (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE)"
                )
            })
        };
        let master_addr = required("MASTER_ADDR")?;
        let port = parse(&required("MASTER_PORT")?, "MASTER_PORT", 1, u16::MAX as usize, "a port in 1..=65535")?;
        let world_size = parse(&required("WORLD_SIZE")?, "WORLD_SIZE", 1, usize::MAX, "a positive integer")?;
        let in_world = format!("an integer in 0..{world_size} (WORLD_SIZE)");
        let rank = parse(&required("RANK")?, "RANK", 0, world_size - 1, &in_world)?;
        let local_rank = match var("LOCAL_RANK") {
            Some(text) => parse(&text, "LOCAL_RANK", 0, world_size - 1, &in_world)?,
            None => rank,
        };
        let agent_store = matches!(var("TORCHELASTIC_USE_AGENT_STORE").as_deref(), Some("True" | "true" | "1"));
        let config =
            GroupConfig { local_rank, agent_store, timeout, ..Self::new(&master_addr, port as u16, rank, world_size) };
        Ok(config)
    }

    /// Checks the values a group cannot start from, before anything connects: a rank outside
    /// the world, a zero timeout, an address that does not resolve. `Err` holds the cause and
    /// what was expected.
    pub(crate) fn check(&self) -> Result<(), (Cause, String)> {
        if self.world_size == 0 || self.rank >= self.world_size {
            let detail = format!("expected a rank in 0..{} and a world size of at least 1", self.world_size);
            return Err((Cause::Other, detail));
        }
        if self.timeout.is_zero() {
            return Err((Cause::Other, "expected a timeout above zero, got 0".into()));
        }
        let address = format!("{}:{}", self.master_addr, self.master_port);
        let found = match (self.master_addr.as_str(), self.master_port).to_socket_addrs().map(|mut found| found.next())
        {
            Ok(Some(found)) => found,
            Ok(None) => return Err((Cause::BadAddress, format!("{address} resolves to no address"))),
            Err(e) => return Err((Cause::BadAddress, format!("{address}: {e}"))),
        };
        // Rank 0 hosts the store there (outside torchrun), so the address must be its own.
        let hosts_store = self.rank == 0 && !self.agent_store;
        match TcpListener::bind((found.ip(), 0)) {
            Err(e) if hosts_store && e.kind() == ErrorKind::AddrNotAvailable => Err((
                Cause::BadAddress,
                format!("{address} is not an address of this machine, where rank 0 hosts the store"),
            )),
            _ => Ok(()),
        }
    }
}

/// `text` as an integer in `low..=high`, or an error naming the variable and what it expects.
fn parse(text: &str, name: &str, low: usize, high: usize, expected: &str) -> Result<usize> {
    match text.trim().parse::<usize>() {
        Ok(value) if (low..=high).contains(&value) => Ok(value),
        _ => bail!("distributed: {name}: expected {expected}, got '{text}'"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<GroupConfig> {
        let env: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        GroupConfig::from_vars(|name| env.get(name).cloned(), Duration::from_secs(9))
    }

    const TORCHRUN: [(&str, &str); 4] =
        [("MASTER_ADDR", "127.0.0.1"), ("MASTER_PORT", "29500"), ("RANK", "3"), ("WORLD_SIZE", "4")];

    #[test]
    fn torchrun_variables_make_the_config() {
        let c = config(&TORCHRUN).unwrap();
        assert_eq!(
            c,
            GroupConfig {
                local_rank: 3,
                timeout: Duration::from_secs(9),
                ..GroupConfig::new("127.0.0.1", 29500, 3, 4)
            }
        );
        let agent =
            config(&[TORCHRUN.as_slice(), &[("LOCAL_RANK", "0"), ("TORCHELASTIC_USE_AGENT_STORE", "True")]].concat());
        let agent = agent.unwrap();
        assert!(agent.agent_store);
        assert_eq!(agent.local_rank, 0);
    }

    #[test]
    fn missing_or_bad_variables_are_one_line_each() {
        let e = config(&TORCHRUN[1..]).unwrap_err().to_string();
        assert!(e.starts_with("distributed: MASTER_ADDR is not set: expected torchrun's environment"), "{e}");
        let mut bad = TORCHRUN;
        bad[2] = ("RANK", "4");
        assert_eq!(
            config(&bad).unwrap_err().to_string(),
            "distributed: RANK: expected an integer in 0..4 (WORLD_SIZE), got '4'"
        );
        bad[2] = ("RANK", "0");
        bad[1] = ("MASTER_PORT", "70000");
        assert_eq!(
            config(&bad).unwrap_err().to_string(),
            "distributed: MASTER_PORT: expected a port in 1..=65535, got '70000'"
        );
        bad[1] = ("MASTER_PORT", "1");
        bad[3] = ("WORLD_SIZE", "0");
        assert_eq!(
            config(&bad).unwrap_err().to_string(),
            "distributed: WORLD_SIZE: expected a positive integer, got '0'"
        );
    }

    #[test]
    fn a_bad_address_is_named_before_anything_connects() {
        let (cause, detail) = GroupConfig::new("no-such-host.invalid", 29500, 1, 2).check().unwrap_err();
        assert_eq!(cause, Cause::BadAddress);
        assert!(detail.starts_with("no-such-host.invalid:29500: "), "{detail}");
        // TEST-NET-1 (RFC 5737) is nobody's address: rank 0 cannot host the store there.
        let (cause, detail) = GroupConfig::new("192.0.2.1", 29500, 0, 2).check().unwrap_err();
        assert_eq!(
            (cause, detail.as_str()),
            (Cause::BadAddress, "192.0.2.1:29500 is not an address of this machine, where rank 0 hosts the store")
        );
        let e = GroupConfig::new("127.0.0.1", 1, 0, 1).with_timeout(Duration::ZERO).check().unwrap_err();
        assert_eq!(e, (Cause::Other, "expected a timeout above zero, got 0".to_string()));
    }
}
