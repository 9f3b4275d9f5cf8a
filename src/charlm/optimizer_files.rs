//! The optimizer's and the scheduler's states as a checkpoint holds them, in PyTorch's terms so
//! that `scripts/pytorch/char_model.py` reads and writes the same files:
//! - `optimizer.safetensors`: each parameter's state tensors as `KEY/NAME` (`exp_avg/fc.bias`,
//!   `momentum_buffer/rnn.weight_ih_l0`), named by parameter rather than index;
//! - `optimizer.json`: `{"param_groups": [...]}`, each group's hyper-parameters as PyTorch's
//!   `optimizer.state_dict()["param_groups"]` holds them;
//! - `scheduler.json`: the scheduler's `state_dict()`, when the run has one.
//!
//! JSON has no infinity or NaN (a plateau scheduler's first `best` is infinite): such a float is
//! written as the string `"inf"`, `"-inf"` or `"nan"`.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde_json::{Map, Value as Json};
use tch::Tensor;

use crate::optim::{OptimizerStateDict, Value};

/// `value` as JSON.
fn to_json(value: &Value) -> Json {
    match value {
        Value::None => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(x) if x.is_finite() => Json::from(*x),
        Value::Float(x) if x.is_nan() => Json::from("nan"),
        Value::Float(x) => Json::from(if *x > 0.0 { "inf" } else { "-inf" }),
        Value::Str(s) => Json::from(s.as_str()),
        Value::List(items) => Json::Array(items.iter().map(to_json).collect()),
    }
}

/// The value `json` holds (integers as ints, other numbers as floats).
fn from_json(json: &Json) -> Result<Value> {
    Ok(match json {
        Json::Null => Value::None,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => match s.as_str() {
            "inf" => Value::Float(f64::INFINITY),
            "-inf" => Value::Float(f64::NEG_INFINITY),
            "nan" => Value::Float(f64::NAN),
            _ => Value::Str(s.clone()),
        },
        Json::Array(items) => Value::List(items.iter().map(from_json).collect::<Result<_>>()?),
        Json::Object(_) => bail!("a JSON object where a value was expected"),
    })
}

/// A map of values as a JSON object.
pub(super) fn values_to_json(values: &BTreeMap<String, Value>) -> Json {
    Json::Object(values.iter().map(|(k, v)| (k.clone(), to_json(v))).collect::<Map<_, _>>())
}

/// A JSON object as a map of values.
pub(super) fn values_from_json(json: &Json) -> Result<BTreeMap<String, Value>> {
    let Json::Object(map) = json else { bail!("expected a JSON object") };
    map.iter().map(|(k, v)| Ok((k.clone(), from_json(v)?))).collect()
}

/// The optimizer's state tensors by `KEY/NAME`, and `optimizer.json`'s value.
pub(super) fn split(state: &OptimizerStateDict, names: &[String]) -> (Vec<(String, Tensor)>, Json) {
    let tensors = state
        .state
        .iter()
        .flat_map(|(&index, tensors)| {
            tensors.iter().map(move |(key, tensor)| (format!("{key}/{}", names[index]), tensor.shallow_clone()))
        })
        .collect();
    let groups = state.param_groups.iter().map(values_to_json).collect();
    (tensors, serde_json::json!({ "param_groups": Json::Array(groups) }))
}

/// The state_dict of the tensors by `KEY/NAME` and `optimizer.json`'s value: every tensor must
/// name a parameter of `names` (in the optimizer's order).
pub(super) fn join(tensors: Vec<(String, Tensor)>, json: &Json, names: &[String]) -> Result<OptimizerStateDict> {
    let index: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    let mut state: BTreeMap<usize, BTreeMap<String, Tensor>> = BTreeMap::new();
    for (key, tensor) in tensors {
        let Some((field, name)) = key.split_once('/') else { bail!("optimizer.safetensors holds {key}, not KEY/NAME") };
        let Some(&i) = index.get(name) else {
            bail!("optimizer.safetensors holds {key}, and {name} is no parameter of the model")
        };
        state.entry(i).or_default().insert(field.to_string(), tensor);
    }
    let Some(Json::Array(groups)) = json.get("param_groups") else {
        bail!("optimizer.json holds no list of param_groups")
    };
    let param_groups = groups.iter().map(values_from_json).collect::<Result<_>>()?;
    Ok(OptimizerStateDict { state, param_groups })
}
