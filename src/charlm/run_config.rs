//! The whole option table of a run, saved whole in every checkpoint's `config.json` (as
//! char-rnn saves its `opt`): the four groups of options and the text trained on. A new run
//! takes each group's defaults with what was given put over them; a resumed run takes the
//! checkpoint's, and refuses, listing every one, a given value of an option that defines the
//! run.

use std::fmt;

use anyhow::{Result, ensure};
use serde::{Deserialize, Serialize};

use super::corpus::DataOptions;
use super::model::ModelOptions;
use super::optimization::OptimOptions;
use super::run_options::RunOptions;
use crate::options::{Conflict, OptionError, OptionGroup, Overrides, apply, conflicts, validate};

/// The `format` of a checkpoint's `config.json`.
pub const FORMAT: &str = "tch-rnn char model 2";

/// The text a run was trained on: where it came from, and its SHA-256, which a resume must
/// match.
///
/// ```
/// let text = tch_rnn::charlm::TextRecord::of("abc", "a.txt");
/// assert_eq!((text.source.as_str(), text.sha256.len()), ("a.txt", 64));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextRecord {
    /// A path, or `<embedded Shakespeare>`.
    pub source: String,
    pub sha256: String,
}

impl TextRecord {
    /// The record of `text`, read from `source`.
    pub fn of(text: &str, source: &str) -> Self {
        TextRecord { source: source.to_string(), sha256: super::corpus::text_sha256(text) }
    }
}

/// A checkpoint's `config.json`: every option of the run, by group.
///
/// ```
/// use tch_rnn::charlm::{RunConfig, TextRecord};
/// let config = RunConfig::new(&Default::default(), TextRecord::of("abc", "a.txt"))?;
/// let json = serde_json::to_string(&config)?;
/// assert_eq!(serde_json::from_str::<RunConfig>(&json)?, config);
/// assert_eq!(config.model.hidden, 256);
/// # anyhow::Ok(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub format: String,
    pub model: ModelOptions,
    pub data: DataOptions,
    pub optim: OptimOptions,
    pub run: RunOptions,
    pub text: TextRecord,
}

/// A resume was given options that define the run with other values than it has.
///
/// ```
/// use tch_rnn::options::Conflict;
/// let e = tch_rnn::charlm::ResumeConflicts {
///     dir: "runs/x/latest".into(),
///     conflicts: vec![Conflict { field: "hidden", given: 8.into(), saved: 16.into() }],
/// };
/// assert_eq!(e.to_string(), "resume: the checkpoint in runs/x/latest was trained otherwise: hidden 8 (the run has 16)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ResumeConflicts {
    pub dir: std::path::PathBuf,
    pub conflicts: Vec<Conflict>,
}

impl fmt::Display for ResumeConflicts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let listed: Vec<String> = self.conflicts.iter().map(Conflict::to_string).collect();
        write!(f, "resume: the checkpoint in {} was trained otherwise: {}", self.dir.display(), listed.join(", "))
    }
}

impl std::error::Error for ResumeConflicts {}

impl RunConfig {
    /// A new run's config: every group's defaults with `given` put over them.
    pub fn new(given: &Overrides, text: TextRecord) -> Result<Self> {
        one_length(given)?;
        Ok(RunConfig {
            format: FORMAT.into(),
            model: apply(&ModelOptions::default(), given)?,
            data: apply(&DataOptions::default(), given)?,
            optim: apply(&OptimOptions::default(), given)?,
            run: apply(&RunOptions::default(), given)?,
            text,
        })
    }

    /// The config of this (saved) run resumed with `given`: the options that define the run
    /// must keep their values (every one given otherwise is listed in a [`ResumeConflicts`]),
    /// the others take the given ones. `steps` and `epochs` say the same thing, so giving one
    /// drops the other.
    pub fn resumed(&self, given: &Overrides, dir: &std::path::Path) -> Result<Self> {
        let mut found = conflicts(&self.model, given);
        found.extend(conflicts(&self.data, given));
        found.extend(conflicts(&self.optim, given));
        found.extend(conflicts(&self.run, given));
        if !found.is_empty() {
            return Err(ResumeConflicts { dir: dir.to_path_buf(), conflicts: found }.into());
        }
        let mut run = self.run.clone();
        if one_length(given)? == Some("steps") {
            run.epochs = None;
        }
        Ok(RunConfig {
            model: apply(&self.model, given)?,
            data: apply(&self.data, given)?,
            optim: apply(&self.optim, given)?,
            run: apply(&run, given)?,
            ..self.clone()
        })
    }

    /// The format is this crate's and every group is valid.
    pub fn validate(&self) -> Result<()> {
        check_format(&self.format)?;
        validate(&self.model)?;
        validate(&self.data)?;
        validate(&self.optim)?;
        validate(&self.run)
    }
}

/// `format` is [`FORMAT`]; another version's is named as such.
pub(super) fn check_format(format: &str) -> Result<()> {
    let other_version = if format.starts_with("tch-rnn char model") {
        " (written by another version of tch-rnn, which this one does not read)"
    } else {
        ""
    };
    ensure!(format == FORMAT, "config.json: format '{format}', expected '{FORMAT}'{other_version}");
    Ok(())
}

/// Which of `steps` and `epochs` is given, if one is; both is an error.
fn one_length(given: &Overrides) -> Result<Option<&'static str>> {
    match (given.get("steps").is_some(), given.get("epochs").is_some()) {
        (true, true) => Err(OptionError::new("epochs", "give steps or epochs, not both").into()),
        (true, false) => Ok(Some("steps")),
        (false, true) => Ok(Some("epochs")),
        (false, false) => Ok(None),
    }
}

/// The fields of every group, in the order the command line shows them.
pub fn all_fields() -> impl Iterator<Item = &'static crate::options::Field> {
    [ModelOptions::FIELDS, DataOptions::FIELDS, OptimOptions::FIELDS, RunOptions::FIELDS].into_iter().flatten()
}
