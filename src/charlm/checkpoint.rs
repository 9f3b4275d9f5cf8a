//! Checkpoints of a training run, in a layout that PyTorch reads and writes too
//! (`scripts/pytorch/char_model.py`):
//!
//! ```text
//! RUN/
//!   latest -> checkpoints/step-000400     the last checkpoint (a symlink, replaced atomically)
//!   best   -> checkpoints/step-000200     the one with the lowest validation loss
//!   checkpoints/step-000400/
//!     config.json        the model and the training options that define the run
//!     vocab.json         the characters, index by index
//!     model.safetensors  the state_dict, PyTorch's names (emb.weight, rnn.weight_ih_l0, ...)
//!     optimizer.safetensors  the optimizer's state per parameter: step/NAME, exp_avg/NAME, ...
//!     optimizer.json     its parameter groups' hyper-parameters (PyTorch's param_groups)
//!     scheduler.json     the learning-rate scheduler's state_dict, if the run has one
//!     rng.safetensors    the random generators' states (cpu, cuda:N), for an exact resume
//!     state.json         the step, the validation losses, the SHA-256 of every other file and its own
//!   history.csv, loss.png
//! ```
//!
//! A checkpoint is written whole into a temporary folder, synced, and renamed into place; only
//! then does `latest` (or `best`) point at it, so a crash at any moment leaves the previous
//! checkpoint complete and pointed at. Loading checks every file against its checksum.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Device, Tensor};

use super::corpus::{StreamPosition, Vocabulary};
use super::model::CharModel;
use super::optimizer_files;
use super::run_config::RunConfig;
use crate::fsutil::{read_regular_file, sync_dir, temporary_sibling};
use crate::nn::RecurrentState;
use crate::nn::load_tensors;
use crate::optim::{LrScheduler, Optimizer};
use crate::safetensors;
use crate::sha256::sha256_hex;

const MAX_JSON: u64 = 64 << 20;
const MAX_TENSORS: u64 = 64 << 30;

/// A checkpoint's `state.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointState {
    /// Optimizer steps taken.
    pub step: i64,
    /// The validation loss at this step, if measured.
    pub validation_loss: Option<f64>,
    /// The lowest validation loss of the run so far.
    pub best_validation_loss: Option<f64>,
    /// With `--batching streams`: where the streams stand (their state is `carry.safetensors`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamPosition>,
    /// The SHA-256 of every other file of the checkpoint, by name.
    pub sha256: BTreeMap<String, String>,
    /// The SHA-256 of state.json itself, taken with this value replaced by [`UNSEALED`]; so a
    /// change anywhere in a checkpoint, this file included, is detected. Set when written.
    pub self_sha256: String,
}

/// What `self_sha256` holds while state.json's own checksum is taken: 64 zeros.
pub const UNSEALED: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `state` as the bytes of state.json, sealed with its own SHA-256.
fn sealed_state(state: &CheckpointState) -> Result<Vec<u8>> {
    let unsealed = json_bytes(&CheckpointState { self_sha256: UNSEALED.into(), ..state.clone() })?;
    let digest = sha256_hex(&unsealed);
    let text = String::from_utf8(unsealed)?;
    Ok(text.replacen(UNSEALED, &digest, 1).into_bytes())
}

/// The vocabulary as `vocab.json` holds it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabFile {
    chars: Vec<String>,
}

/// What a checkpoint saves of a run at one step.
pub struct Snapshot<'a> {
    pub config: &'a RunConfig,
    pub vocab: &'a Vocabulary,
    pub vs: &'a VarStore,
    /// The optimizer and the name of each of its parameters, in its order.
    pub optimizer: &'a dyn Optimizer,
    /// The learning-rate scheduler, if the run has one.
    pub scheduler: Option<&'a dyn LrScheduler>,
    pub parameter_names: &'a [String],
    /// The generators' states, by device name (`cpu`, `cuda:0`).
    pub rng: Vec<(String, Tensor)>,
    /// With `--batching streams`: the state carried from step to step, if any.
    pub carry: Option<&'a RecurrentState>,
    pub state: CheckpointState,
}

/// The checkpoint folder name of `step`.
pub(super) fn step_dir_name(step: i64) -> String {
    format!("step-{step:06}")
}

/// Writes `snapshot` as `RUN/checkpoints/step-NNNNNN` (whole, then renamed into place) and
/// returns that folder. An existing checkpoint of the same step is left as it is.
pub fn write(run_dir: &Path, snapshot: Snapshot) -> Result<PathBuf> {
    let checkpoints = run_dir.join("checkpoints");
    std::fs::create_dir_all(&checkpoints).with_context(|| format!("cannot create {}", checkpoints.display()))?;
    let final_dir = checkpoints.join(step_dir_name(snapshot.state.step));
    if final_dir.join("state.json").is_file() {
        return Ok(final_dir);
    }
    let tmp = temporary_sibling(&final_dir, "tmp");
    let written = write_into(&tmp, &snapshot).and_then(|()| {
        sync_dir(&tmp)?;
        if final_dir.exists() {
            // A half-made folder of this step from an interrupted save: no pointer leads to it.
            std::fs::remove_dir_all(&final_dir).with_context(|| format!("cannot replace {}", final_dir.display()))?;
        }
        std::fs::rename(&tmp, &final_dir)
            .with_context(|| format!("cannot move the checkpoint to {}", final_dir.display()))?;
        sync_dir(&checkpoints)
    });
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    written.with_context(|| {
        format!("cannot save the checkpoint of step {} in {}", snapshot.state.step, run_dir.display())
    })?;
    Ok(final_dir)
}

/// `value` as pretty JSON with a final newline.
fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    Ok(format!("{}\n", serde_json::to_string_pretty(value)?).into_bytes())
}

/// Writes every file of the checkpoint into the (temporary) folder `dir`, each synced, with
/// `state.json`, which lists their checksums, last.
fn write_into(dir: &Path, s: &Snapshot) -> Result<()> {
    std::fs::create_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // The serializer orders the tensors and reads them from the CPU itself.
    let model: Vec<(String, Tensor)> = s.vs.variables().into_iter().collect();
    let (optimizer, param_groups) = optimizer_files::split(&s.optimizer.state_dict(), s.parameter_names);
    let vocab = VocabFile { chars: s.vocab.chars().iter().map(char::to_string).collect() };

    let mut state = s.state.clone();
    let mut record = |name: &str, bytes: &[u8]| {
        state.sha256.insert(name.to_string(), sha256_hex(bytes));
    };
    let mut json = vec![
        ("config.json", json_bytes(s.config)?),
        ("vocab.json", json_bytes(&vocab)?),
        ("optimizer.json", json_bytes(&param_groups)?),
    ];
    if let Some(scheduler) = s.scheduler {
        json.push(("scheduler.json", json_bytes(&optimizer_files::values_to_json(&scheduler.state_dict()))?));
    }
    for (name, bytes) in json {
        write_synced(&dir.join(name), &bytes)?;
        record(name, &bytes);
    }
    let mut tensor_files = vec![("model.safetensors", model), ("optimizer.safetensors", optimizer)];
    tensor_files.push(("rng.safetensors", s.rng.iter().map(|(n, t)| (n.clone(), t.shallow_clone())).collect()));
    if let Some(carry) = s.carry {
        let carry = ["h", "c"].iter().zip(carry.tensors()).map(|(n, t)| (n.to_string(), t.shallow_clone()));
        tensor_files.push(("carry.safetensors", carry.collect()));
    }
    for (name, tensors) in &tensor_files {
        let named: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let bytes = safetensors::serialize(&named)?;
        write_synced(&dir.join(name), &bytes)?;
        record(name, &bytes);
    }
    write_synced(&dir.join("state.json"), &sealed_state(&state)?)
}

/// Writes a new file and syncs it to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create_new(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Points `RUN/NAME` (`latest` or `best`) at `checkpoint`, atomically (a symlink renamed over
/// the old one).
pub fn point(run_dir: &Path, name: &str, checkpoint: &Path) -> Result<()> {
    let link = run_dir.join(name);
    let relative = checkpoint.strip_prefix(run_dir).unwrap_or(checkpoint);
    let tmp = temporary_sibling(&link, "link");
    let pointed = std::os::unix::fs::symlink(relative, &tmp)
        .and_then(|()| std::fs::rename(&tmp, &link))
        .with_context(|| format!("cannot point {} at {}", link.display(), relative.display()));
    if pointed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    pointed?;
    sync_dir(run_dir)
}

/// Removes the checkpoints that neither `latest` nor `best` points at (and leftovers of
/// interrupted saves).
pub fn prune(run_dir: &Path) -> Result<()> {
    let keep: Vec<PathBuf> =
        ["latest", "best"].iter().filter_map(|name| std::fs::canonicalize(run_dir.join(name)).ok()).collect();
    let checkpoints = run_dir.join("checkpoints");
    let Ok(entries) = std::fs::read_dir(&checkpoints) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !keep.contains(&canonical) {
            std::fs::remove_dir_all(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    Ok(())
}

/// A checkpoint's `state.json`, parsed, and checked against its own SHA-256 (see
/// [`CheckpointState::self_sha256`]). The entry point for fuzzing it.
///
/// ```
/// assert!(tch_rnn::charlm::parse_state(b"{}").is_err());
/// ```
pub fn parse_state(bytes: &[u8]) -> Result<CheckpointState> {
    let state: CheckpointState = serde_json::from_slice(bytes).context("state.json is not a checkpoint state")?;
    let sealed = &state.self_sha256;
    ensure!(
        sealed.len() == 64 && sealed.bytes().all(|b| b.is_ascii_hexdigit()),
        "state.json: self_sha256 is not a SHA-256"
    );
    let text = std::str::from_utf8(bytes).context("state.json is not UTF-8")?;
    let unsealed = text.replacen(sealed.as_str(), UNSEALED, 1);
    ensure!(
        sha256_hex(unsealed.as_bytes()) == *sealed,
        "state.json does not match its own SHA-256: the file is corrupt"
    );
    Ok(state)
}

/// A checkpoint's `config.json`, parsed and checked (its format, the model's sizes). The
/// entry point for fuzzing it.
///
/// ```
/// assert!(tch_rnn::charlm::parse_config(b"{\"format\": 1}").is_err());
/// ```
pub fn parse_config(bytes: &[u8]) -> Result<RunConfig> {
    // The format first, so that another version's config is named as such.
    #[derive(Deserialize)]
    struct Format {
        format: String,
    }
    let format: Format = serde_json::from_slice(bytes).context("config.json is not a tch-rnn model config")?;
    super::run_config::check_format(&format.format)?;
    let config: RunConfig = serde_json::from_slice(bytes).context("config.json is not a tch-rnn model config")?;
    config.validate().context("config.json")?;
    Ok(config)
}

/// A checkpoint's `vocab.json` (`{"chars": ["a", "b", ...]}`, one character each, no
/// repeats), parsed. The entry point for fuzzing it.
///
/// ```
/// let vocab = tch_rnn::charlm::parse_vocab(br#"{"chars": ["a", "b"]}"#)?;
/// assert_eq!(vocab.len(), 2);
/// assert!(tch_rnn::charlm::parse_vocab(br#"{"chars": ["ab"]}"#).is_err());
/// # anyhow::Ok(())
/// ```
pub fn parse_vocab(bytes: &[u8]) -> Result<Vocabulary> {
    let vocab: VocabFile = serde_json::from_slice(bytes).context("vocab.json is not a vocabulary")?;
    let chars = vocab
        .chars
        .iter()
        .map(|s| {
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => Ok(c),
                _ => bail!("vocab.json holds {s:?}, not one character"),
            }
        })
        .collect::<Result<Vec<char>>>()?;
    Vocabulary::from_chars(chars).context("vocab.json")
}

/// A checkpoint on disk, its JSON files read and every file checked against its checksum.
/// The tensor files are kept as they were checked, so what is loaded is what was verified.
pub struct Checkpoint {
    pub dir: PathBuf,
    pub config: RunConfig,
    pub vocab: Vocabulary,
    pub state: CheckpointState,
    tensor_files: BTreeMap<String, Vec<u8>>,
    /// The JSON files, as checked (the optimizer's and the scheduler's are read on resume).
    json_files: BTreeMap<String, Vec<u8>>,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint").field("dir", &self.dir).field("step", &self.state.step).finish_non_exhaustive()
    }
}

impl Checkpoint {
    /// Opens the checkpoint at `path`: a run's folder (its `latest`) or a checkpoint folder.
    ///
    /// ```no_run
    /// let checkpoint = tch_rnn::charlm::Checkpoint::open("runs/shakespeare".as_ref())?;
    /// println!("step {}", checkpoint.state.step);
    /// # anyhow::Ok(())
    /// ```
    pub fn open(path: &Path) -> Result<Self> {
        let dir = if path.join("state.json").is_file() { path.to_path_buf() } else { path.join("latest") };
        let shown = dir.display().to_string();
        if !dir.join("state.json").is_file() {
            bail!("no checkpoint at {} (no state.json there, and no 'latest' checkpoint)", path.display());
        }
        let state_json = read_regular_file(&dir.join("state.json"), "checkpoint file", MAX_JSON)?;
        let state = parse_state(&state_json).with_context(|| format!("checkpoint {shown}"))?;
        for required in ["config.json", "vocab.json", "model.safetensors"] {
            ensure!(state.sha256.contains_key(required), "checkpoint {shown}: state.json lists no {required}");
        }
        let mut files = BTreeMap::new();
        for (name, expected) in &state.sha256 {
            ensure!(
                !name.contains('/') && !name.starts_with('.'),
                "checkpoint {shown}: bad file name {name:?} in state.json"
            );
            let limit = if name.ends_with(".json") { MAX_JSON } else { MAX_TENSORS };
            let bytes = read_regular_file(&dir.join(name), "checkpoint file", limit)
                .with_context(|| format!("checkpoint {shown} is incomplete"))?;
            ensure!(
                &sha256_hex(&bytes) == expected,
                "checkpoint {shown}: {name} does not match its SHA-256 in state.json: the file is corrupt"
            );
            files.insert(name.clone(), bytes);
        }
        // Parsed from the bytes that were checked, not read again.
        let config = parse_config(&files["config.json"]).with_context(|| format!("checkpoint {shown}"))?;
        let vocab = parse_vocab(&files["vocab.json"]).with_context(|| format!("checkpoint {shown}"))?;
        let (tensor_files, json_files) = files.into_iter().partition(|(name, _)| name.ends_with(".safetensors"));
        Ok(Checkpoint { dir, config, vocab, state, tensor_files, json_files })
    }

    /// The model, its parameters loaded (strictly) from `model.safetensors`, on `device`.
    pub fn load_model(&self, device: Device) -> Result<(VarStore, CharModel)> {
        let mut vs = VarStore::new(device);
        let model = CharModel::new(&vs.root(), &self.config.model, self.vocab.len() as i64)?;
        self.load_weights(&mut vs)?;
        Ok((vs, model))
    }

    /// Loads the checked `model.safetensors` into `vs` (a model built from `config.json`),
    /// strictly; on failure `vs` is left as it was.
    pub fn load_weights(&self, vs: &mut VarStore) -> Result<()> {
        let tensors = self.tensor_list("model.safetensors")?;
        let source = self.dir.join("model.safetensors").display().to_string();
        load_tensors(vs, &tensors, &source)
            .with_context(|| format!("checkpoint {}: the weights do not fit config.json", self.dir.display()))
    }

    /// The tensors of the checked file `name`, as listed in it.
    fn tensor_list(&self, name: &str) -> Result<Vec<(String, Tensor)>> {
        let Some(bytes) = self.tensor_files.get(name) else {
            bail!("checkpoint {} has no {name}: it cannot be resumed", self.dir.display());
        };
        safetensors::parse(bytes).with_context(|| format!("checkpoint {}: {name}", self.dir.display()))
    }

    fn tensors(&self, name: &str) -> Result<BTreeMap<String, Tensor>> {
        Ok(self.tensor_list(name)?.into_iter().collect())
    }

    /// Restores the optimizer's state (`optimizer.safetensors` and `optimizer.json`), all or
    /// nothing; `names` are the parameters' names in the optimizer's order.
    pub fn restore_optimizer(&self, optimizer: &mut dyn Optimizer, names: &[String]) -> Result<()> {
        let shown = self.dir.display();
        let device = optimizer.params().first().map_or(Device::Cpu, Tensor::device);
        let tensors = self.tensor_list("optimizer.safetensors")?.into_iter().map(|(n, t)| (n, t.to_device(device)));
        let json = self.json("optimizer.json")?;
        let state =
            optimizer_files::join(tensors.collect(), &json, names).with_context(|| format!("checkpoint {shown}"))?;
        optimizer.load_state_dict(&state).with_context(|| format!("checkpoint {shown}: optimizer state"))
    }

    /// Restores the learning-rate scheduler's state from `scheduler.json`.
    pub fn restore_scheduler(&self, scheduler: &mut dyn LrScheduler) -> Result<()> {
        let shown = self.dir.display();
        let state = optimizer_files::values_from_json(&self.json("scheduler.json")?)
            .with_context(|| format!("checkpoint {shown}: scheduler.json"))?;
        scheduler.load_state_dict(&state).with_context(|| format!("checkpoint {shown}: scheduler state"))
    }

    /// A checked JSON file of the checkpoint.
    fn json(&self, name: &str) -> Result<serde_json::Value> {
        let Some(bytes) = self.json_files.get(name) else {
            bail!("checkpoint {} has no {name}: it cannot be resumed", self.dir.display());
        };
        serde_json::from_slice(bytes).with_context(|| format!("checkpoint {}: {name} is not JSON", self.dir.display()))
    }

    /// The state the streams carried when the checkpoint was written (`carry.safetensors`), on
    /// `device`, or `None` if there was none.
    pub fn carry(&self, device: Device) -> Result<Option<RecurrentState>> {
        if !self.tensor_files.contains_key("carry.safetensors") {
            return Ok(None);
        }
        let mut tensors = self.tensors("carry.safetensors")?;
        let shown = self.dir.display();
        let mut take = |name: &str| tensors.remove(name).map(|t| t.to_device(device));
        Ok(Some(match (take("h"), take("c"), tensors.is_empty()) {
            (Some(h), None, true) => RecurrentState::Hidden(h),
            (Some(h), Some(c), true) => RecurrentState::HiddenAndCell(h, c),
            _ => bail!("checkpoint {shown}: carry.safetensors holds other tensors than h and c"),
        }))
    }

    /// The random generators' states saved with the checkpoint, by device name.
    pub fn rng(&self) -> Result<BTreeMap<String, Tensor>> {
        self.tensors("rng.safetensors")
    }
}
