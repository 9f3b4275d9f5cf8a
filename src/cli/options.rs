//! The command line of the option groups ([`crate::options`]): each field becomes a flag named
//! after it (`seq_len` is `--seq-len`), with its doc comment as help, its default shown, and
//! its domain as the parser, so that a value out of its domain is a usage error naming the
//! flag. Library errors that name a field are told here with its flag.

use clap::builder::{OsStringValueParser, PossibleValuesParser, TypedValueParser, ValueParser};
use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, Command};
use serde_json::{Map, Value};

use crate::charlm::{DataOptions, ModelOptions, OptimOptions, ResumeConflicts, RunExists, RunOptions, all_fields};
use crate::options::{Domain, Field, OptionError, Overrides};

/// The flag of a field: `seq_len` is `--seq-len` (without the dashes).
///
/// ```
/// assert_eq!(tch_rnn::cli::options::flag("eval_every"), "eval-every");
/// ```
pub fn flag(field: &str) -> String {
    field.replace('_', "-")
}

/// The defaults of every group of `tch-rnn train`, as JSON by field name.
fn train_defaults() -> Map<String, Value> {
    let mut defaults = Map::new();
    for group in [
        serde_json::to_value(ModelOptions::default()),
        serde_json::to_value(DataOptions::default()),
        serde_json::to_value(OptimOptions::default()),
        serde_json::to_value(RunOptions::default()),
    ] {
        if let Ok(Value::Object(values)) = group {
            defaults.extend(values);
        }
    }
    defaults
}

/// The flag of `field`: its help with the default (when it has one), its domain's parser.
fn arg(field: &'static Field, default: Option<&Value>) -> Arg {
    let shown = match default {
        Some(Value::Null) | None => String::new(),
        Some(Value::String(s)) => format!(" [default: {s}]"),
        Some(other) => format!(" [default: {other}]"),
    };
    let domain = field.domain;
    let parser = match domain {
        Domain::Choice(words) => ValueParser::new(PossibleValuesParser::new(words).map(Value::from)),
        Domain::Bool => {
            ValueParser::new(PossibleValuesParser::new(["true", "false"]).map(|s| Value::Bool(s == "true")))
        }
        // A path is saved in config.json, which holds text: one that is not UTF-8 is refused,
        // naming the flag.
        Domain::Path => ValueParser::new(OsStringValueParser::new().try_map(move |raw| match raw.to_str() {
            Some(path) => domain.parse(path),
            None => Err(format!("expected a UTF-8 path (it is saved in the run's config.json), got {raw:?}")),
        })),
        _ => ValueParser::new(move |raw: &str| domain.parse(raw)),
    };
    let value_name = match domain {
        Domain::Path => "FILE".to_string(),
        _ => flag(field.name).to_uppercase().replace('-', "_"),
    };
    Arg::new(field.name)
        .long(flag(field.name))
        .help(format!("{}{shown}", field.help()))
        .value_name(value_name)
        .value_parser(parser)
        .allow_hyphen_values(!matches!(domain, Domain::Choice(_) | Domain::Path | Domain::Bool))
}

/// The options of `tch-rnn train` that were given on the command line, every group's; the
/// others take their defaults, or a resumed run's values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GivenOptions(pub Overrides);

impl clap::FromArgMatches for GivenOptions {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut given = Overrides::default();
        for field in all_fields() {
            if matches.value_source(field.name) == Some(ValueSource::CommandLine)
                && let Some(value) = matches.get_one::<Value>(field.name)
            {
                given.insert(field.name, value.clone());
            }
        }
        Ok(GivenOptions(given))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Args for GivenOptions {
    fn augment_args(command: Command) -> Command {
        let defaults = train_defaults();
        command.args(all_fields().map(|field| arg(field, defaults.get(field.name))))
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}

/// A cause of an error as the command line tells it: a field named by its flag, a run that
/// exists with how to continue it, a resume's conflicts with their flags; `None` for others.
///
/// ```
/// let e = anyhow::Error::new(tch_rnn::options::OptionError::new("seq_len", "must be smaller"));
/// assert_eq!(tch_rnn::error::one_line_with(&e, tch_rnn::cli::options::tell), "--seq-len: must be smaller");
/// ```
pub fn tell(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(e) = cause.downcast_ref::<OptionError>() {
        return Some(format!("--{}: {}", flag(&e.field), e.message));
    }
    if let Some(e) = cause.downcast_ref::<RunExists>() {
        return Some(format!("{e}: pass --resume to continue it, or another --out"));
    }
    if let Some(e) = cause.downcast_ref::<ResumeConflicts>() {
        let listed: Vec<String> = e.conflicts.iter().map(|c| c.told_as(&format!("--{}", flag(c.field)))).collect();
        return Some(format!(
            "--resume: the checkpoint in {} was trained otherwise: {}",
            e.dir.display(),
            listed.join(", ")
        ));
    }
    None
}
