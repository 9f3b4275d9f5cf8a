//! `--device` and `--threads`, the same for `train`, `sample` and `eval`, and the one place
//! where they are resolved (before any other libtorch call, so that CUDA can be loaded first).

use anyhow::Result;
use tch::Device;

use super::program::note;
use crate::device::{DeviceRequest, resolve};

/// Where to run, and on how many CPU threads.
///
/// ```
/// use clap::Parser;
/// #[derive(Parser)]
/// struct Cli { #[command(flatten)] device: tch_rnn::cli::device::DeviceArgs }
/// let cli = Cli::parse_from(["prog", "--threads", "2"]);
/// assert_eq!(cli.device.device, tch_rnn::device::DeviceRequest::Cpu);
/// ```
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct DeviceArgs {
    /// cpu, cuda, cuda:N or auto (a GPU if there is one).
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    pub device: DeviceRequest,
    /// Intra-op CPU threads [default: libtorch's, one per core].
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    pub threads: Option<i32>,
}

impl DeviceArgs {
    /// The device (saying so on stderr when `auto` falls back to the CPU), with the threads
    /// set.
    pub fn resolve(&self) -> Result<Device> {
        let selection = resolve(self.device)?;
        if let Some(why) = &selection.note {
            note(why);
        }
        if let Some(threads) = self.threads {
            tch::set_num_threads(threads);
        }
        Ok(selection.device)
    }
}

fn parse_device(s: &str) -> Result<DeviceRequest, String> {
    s.parse().map_err(|e: anyhow::Error| e.to_string())
}
