//! Options defined once. A group of options (the model's shape, the data, the optimization, the
//! run) is one serde struct declared with `option_group!`: each field carries its default, its
//! help, the [`Domain`] of its values and whether a resumed run keeps it. From that one
//! declaration come the struct's `Default`, its JSON form (checkpoints store it whole), its
//! validation (errors name the field: [`OptionError`]), the generic comparison that resume
//! makes ([`conflicts`]), and, in the command line, each flag with its help, default and
//! parser ([`crate::cli`]). Mapping a field to a flag is the command line's business.
//!
//! ```
//! use tch_rnn::charlm::ModelOptions;
//! use tch_rnn::options::{Overrides, apply, conflicts};
//!
//! let given = Overrides::default().set("hidden", 128).set("layers", 3);
//! let model = apply(&ModelOptions::default(), &given)?;
//! assert_eq!((model.hidden, model.layers, model.embedding), (128, 3, 64));
//! // A resumed run keeps its shape: every field given otherwise is listed.
//! let listed: Vec<String> = conflicts(&ModelOptions::default(), &given).iter().map(|c| c.to_string()).collect();
//! assert_eq!(listed, ["layers 3 (the run has 2)", "hidden 128 (the run has 256)"]);
//! let err = apply(&ModelOptions::default(), &Overrides::default().set("hidden", 0)).unwrap_err();
//! assert_eq!(err.to_string(), "hidden: expected an integer >= 1, got 0");
//! # anyhow::Ok(())
//! ```

use std::fmt;

use anyhow::Result;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The values an option may take. The command line parses with it and the library checks with
/// it, so each rule is written once.
///
/// ```
/// use tch_rnn::options::Domain;
/// let probability = Domain::Number { min: 0.0, inclusive: true, below: Some(1.0) };
/// assert_eq!(probability.parse("0.5"), Ok(serde_json::json!(0.5)));
/// assert_eq!(probability.parse("1").unwrap_err(), "expected a number in [0, 1), got 1.0");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Domain {
    /// An integer of at least `min`.
    Integer { min: i64 },
    /// Any integer (a seed).
    AnyInteger,
    /// A finite number above `min` (or equal to it when `inclusive`), and below `below` if set.
    Number { min: f64, inclusive: bool, below: Option<f64> },
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A path to a file or folder (not empty).
    Path,
    /// `true` or `false`.
    Bool,
}

impl Domain {
    /// What the domain holds, as error messages say it: "an integer >= 1".
    pub fn describe(&self) -> String {
        match *self {
            Domain::Integer { min } => format!("an integer >= {min}"),
            Domain::AnyInteger => "an integer".into(),
            Domain::Number { min, inclusive: true, below: Some(max) } => format!("a number in [{min}, {max})"),
            Domain::Number { min, inclusive: false, below: Some(max) } => format!("a number in ({min}, {max})"),
            Domain::Number { min, inclusive, below: None } => {
                format!("a number {} {min}", if inclusive { ">=" } else { ">" })
            }
            Domain::Choice(words) => format!("one of {}", words.join(", ")),
            Domain::Path => "a path".into(),
            Domain::Bool => "true or false".into(),
        }
    }

    /// Parses a command-line value into the JSON value of the field, or says what was wrong.
    pub fn parse(&self, raw: &str) -> Result<Value, String> {
        let value = match self {
            Domain::Integer { .. } | Domain::AnyInteger => match raw.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
                    ) =>
                {
                    return Err(format!("{raw} is too large for a 64-bit integer"));
                }
                Err(_) => return Err(format!("expected {}, got '{raw}'", self.describe())),
            },
            Domain::Number { .. } => match raw.parse::<f64>() {
                // JSON has no NaN or infinity: they are refused here, as written.
                Ok(x) if x.is_finite() => Value::from(x),
                _ => return Err(format!("expected {}, got '{raw}'", self.describe())),
            },
            Domain::Choice(_) | Domain::Path => Value::from(raw),
            Domain::Bool => match raw {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(format!("expected {}, got '{raw}'", self.describe())),
            },
        };
        self.check(&value)?;
        Ok(value)
    }

    /// Whether `value` is in the domain; the message says what was expected and what came.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        let fits = match *self {
            Domain::Integer { min } => value.as_i64().is_some_and(|n| n >= min),
            Domain::AnyInteger => value.is_i64(),
            Domain::Number { min, inclusive, below } => value.as_f64().is_some_and(|x| {
                x.is_finite() && (x > min || (inclusive && x == min)) && below.is_none_or(|max| x < max)
            }),
            Domain::Choice(words) => value.as_str().is_some_and(|s| words.contains(&s)),
            Domain::Path => value.as_str().is_some_and(|s| !s.is_empty()),
            Domain::Bool => value.is_boolean(),
        };
        if fits { Ok(()) } else { Err(format!("expected {}, got {}", self.describe(), shown(value))) }
    }
}

/// A JSON value as a user typed it: strings without quotes.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) if s.is_empty() => "''".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether a resumed run keeps an option or may be given another value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnResume {
    /// It defines the run: a resume given another value is refused, with every such field
    /// listed.
    Keep,
    /// A resume may change it (how many steps in all, how often to evaluate).
    Change,
}

/// One option of a group: its field name, its help (the field's doc comment), its domain and
/// what a resume does with it.
///
/// ```
/// use tch_rnn::options::OptionGroup;
/// let field = &tch_rnn::charlm::ModelOptions::FIELDS[2];
/// assert_eq!((field.name, field.help().as_str()), ("hidden", "Hidden size of the recurrent layers"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Field {
    pub name: &'static str,
    /// The doc comment, as the macro received it (each line with its leading space).
    pub doc: &'static str,
    pub domain: Domain,
    pub on_resume: OnResume,
}

impl Field {
    /// The help text: the doc comment on one line, without its final period (as clap shows
    /// doc comments).
    pub fn help(&self) -> String {
        let help = self.doc.split_whitespace().collect::<Vec<_>>().join(" ");
        help.strip_suffix('.').map(str::to_string).unwrap_or(help)
    }
}

/// A group of options: serde for checkpoints, one `Default`, the table of its fields, and the
/// rules that involve more than one field's domain.
pub trait OptionGroup: Serialize + DeserializeOwned + Default + Clone {
    /// The fields in declaration order.
    const FIELDS: &'static [Field];

    /// Rules beyond each field's domain: between fields, or sizes that must fit the machine.
    /// Errors name the field with [`OptionError`].
    fn check(&self) -> Result<()> {
        Ok(())
    }
}

/// An option's value is wrong: the field and what was expected. The command line shows it
/// with the flag instead of the field.
///
/// ```
/// let e = tch_rnn::options::OptionError::new("seq_len", "expected an integer >= 1, got 0");
/// assert_eq!(e.to_string(), "seq_len: expected an integer >= 1, got 0");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError {
    pub field: String,
    pub message: String,
}

impl OptionError {
    /// The error of `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        OptionError { field: field.to_string(), message: message.into() }
    }
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for OptionError {}

/// Values given for some options, by field name (fields of every group share one namespace),
/// as the command line collects them or a program sets them.
///
/// ```
/// let given = tch_rnn::options::Overrides::default().set("lr", 0.01);
/// assert_eq!(given.get("lr"), Some(&serde_json::json!(0.01)));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides(Map<String, Value>);

impl Overrides {
    /// These overrides with `field` set to `value`.
    pub fn set(mut self, field: &str, value: impl Serialize) -> Self {
        self.insert(field, serde_json::to_value(value).unwrap_or(Value::Null));
        self
    }

    /// Sets `field` to `value`.
    pub fn insert(&mut self, field: &str, value: Value) {
        self.0.insert(field.to_string(), value);
    }

    /// The value given for `field`.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field)
    }
}

/// The group's values as a JSON object, field by field.
fn to_object<T: OptionGroup>(options: &T) -> Map<String, Value> {
    match serde_json::to_value(options) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Checks every field against its domain (an absent optional value, `null`, passes), then the
/// group's own rules.
///
/// ```
/// let options = tch_rnn::charlm::ModelOptions { dropout: 1.0, ..Default::default() };
/// assert_eq!(tch_rnn::options::validate(&options).unwrap_err().to_string(), "dropout: expected a number in [0, 1), got 1.0");
/// ```
pub fn validate<T: OptionGroup>(options: &T) -> Result<()> {
    let values = to_object(options);
    for field in T::FIELDS {
        let value = values.get(field.name).unwrap_or(&Value::Null);
        if !value.is_null() {
            field.domain.check(value).map_err(|message| OptionError::new(field.name, message))?;
        }
    }
    options.check()
}

/// `base` with the `given` values of this group's fields put over it, validated.
pub fn apply<T: OptionGroup>(base: &T, given: &Overrides) -> Result<T> {
    let mut values = to_object(base);
    for field in T::FIELDS {
        if let Some(value) = given.get(field.name) {
            if !value.is_null() {
                field.domain.check(value).map_err(|message| OptionError::new(field.name, message))?;
            }
            values.insert(field.name.to_string(), value.clone());
        }
    }
    let options: T = serde_json::from_value(Value::Object(values)).map_err(|e| anyhow::anyhow!("options: {e}"))?;
    validate(&options)?;
    Ok(options)
}

/// A kept option given another value than the run's.
///
/// ```
/// use tch_rnn::options::Conflict;
/// let c = Conflict { field: "lr", given: serde_json::json!(0.1), saved: serde_json::json!(0.002) };
/// assert_eq!(c.to_string(), "lr 0.1 (the run has 0.002)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Conflict {
    pub field: &'static str,
    pub given: Value,
    pub saved: Value,
}

impl Conflict {
    /// The conflict with the option called `name` (the command line says its flag).
    ///
    /// ```
    /// let c = tch_rnn::options::Conflict { field: "seq_len", given: 8.into(), saved: 64.into() };
    /// assert_eq!(c.told_as("--seq-len"), "--seq-len 8 (the run has 64)");
    /// ```
    pub fn told_as(&self, name: &str) -> String {
        format!("{name} {} (the run has {})", shown(&self.given), shown(&self.saved))
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.told_as(self.field))
    }
}

/// Every field that a resumed run keeps ([`OnResume::Keep`]) and that `given` sets to another
/// value than `saved` holds.
pub fn conflicts<T: OptionGroup>(saved: &T, given: &Overrides) -> Vec<Conflict> {
    let values = to_object(saved);
    T::FIELDS
        .iter()
        .filter(|field| field.on_resume == OnResume::Keep)
        .filter_map(|field| {
            let (given, saved) = (given.get(field.name)?, values.get(field.name).unwrap_or(&Value::Null));
            (!same_value(given, saved)).then(|| Conflict {
                field: field.name,
                given: given.clone(),
                saved: saved.clone(),
            })
        })
        .collect()
}

/// JSON equality, with numbers compared by value (`5` is `5.0`).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Declares a group of options: a serde struct (unknown fields refused), its `Default`, and its
/// [`OptionGroup`] implementation (the [`OptionGroup::FIELDS`] table, and `check` calling the
/// struct's own `fn rules(&self) -> anyhow::Result<()>`), from one list of fields, each with its
/// doc comment (the help), type, default, [`Domain`] and [`OnResume`]:
///
/// ```ignore
/// option_group! {
///     /// The shape of a character model.
///     pub struct ModelOptions {
///         /// Hidden size of the recurrent layers.
///         hidden: i64 = 256, Domain::Integer { min: 1 }, Keep;
///     }
/// }
/// ```
macro_rules! option_group {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $field:ident: $ty:ty = $default:expr, $domain:expr, $on_resume:ident;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $( $field: $default, )* }
            }
        }

        impl $crate::options::OptionGroup for $name {
            const FIELDS: &'static [$crate::options::Field] = &[
                $( $crate::options::Field {
                    name: stringify!($field),
                    doc: concat!($($doc),*),
                    domain: $domain,
                    on_resume: $crate::options::OnResume::$on_resume,
                }, )*
            ];

            fn check(&self) -> anyhow::Result<()> {
                self.rules()
            }
        }
    };
}
pub(crate) use option_group;
