//! Calls by export name with arguments as text, for the CLI and for hosts
//! that do not know a plugin's world at compile time. They take the fast
//! lanes of [`crate::Value`] where the signature allows.
//!
//! A top-level `result` that is `err` is reported as [`Error::Guest`], so a
//! caller can tell a plugin's refusal from success without reading values.
//! What comes back is bounded by the call's transfer limit, in the form the
//! host holds it: wasmtime counts the values it lifts, and turning them
//! into WAVE text or JSON is counted again before it is done, byte lists
//! written straight from their bytes rather than a value per byte.

use std::sync::Arc;

use serde_json::Value as Json;
use wasmtime::component::{Func, Type, Val};

use crate::call::ready_now;
use crate::error::{Error, Limit, Result};
use crate::instance::{Drive, Instance, guest_error};
use crate::lanes::{Dynamic, Value, value_of};
use crate::values;

/// An export's parameter names and types and its result types.
pub(crate) struct Signature {
    names: Vec<String>,
    pub(crate) params: Vec<Type>,
    pub(crate) results: Vec<Type>,
}

impl<T: Send + 'static> Instance<T> {
    /// Calls `export` with arguments in WAVE; returns the results in WAVE.
    pub async fn call_wave(&mut self, export: &str, args: &[String]) -> Result<Vec<String>> {
        self.call_wave_driven(Drive::Async, export, args).await
    }

    /// [`Self::call_wave`] on an instance made for blocking calls.
    pub fn call_wave_blocking(&mut self, export: &str, args: &[String]) -> Result<Vec<String>> {
        ready_now(self.call_wave_driven(Drive::Blocking, export, args))?
    }

    /// Calls `export` with JSON arguments; returns the single result as JSON
    /// (`null` for none, an array for several).
    pub async fn call_json(&mut self, export: &str, args: &[Json]) -> Result<Json> {
        self.call_json_driven(Drive::Async, export, args).await
    }

    /// [`Self::call_json`] on an instance made for blocking calls.
    pub fn call_json_blocking(&mut self, export: &str, args: &[Json]) -> Result<Json> {
        ready_now(self.call_json_driven(Drive::Blocking, export, args))?
    }

    async fn call_wave_driven(
        &mut self,
        drive: Drive,
        export: &str,
        args: &[String],
    ) -> Result<Vec<String>> {
        let parse = |ty: &Type, text: &String| values::parse_wave(export, ty, text);
        let results = self.call_converted(drive, export, args, parse).await?;
        // A byte becomes at most five characters, `255, `.
        self.within_transfer(results.iter().map(|v| value_size(v, 5)).sum())?;
        results.iter().map(wave_of).collect()
    }

    async fn call_json_driven(
        &mut self,
        drive: Drive,
        export: &str,
        args: &[Json],
    ) -> Result<Json> {
        let convert = |ty: &Type, json: &Json| values::from_json(export, ty, json);
        let results = self.call_converted(drive, export, args, convert).await?;
        self.within_transfer(
            results
                .iter()
                .map(|v| value_size(v, size_of::<Json>()))
                .sum(),
        )?;
        let mut results: Vec<Json> = results.iter().map(json_of).collect();
        Ok(match results.len() {
            0 => Json::Null,
            1 => results.remove(0),
            _ => Json::Array(results),
        })
    }

    /// Fails when turning the results into text would hold more than the
    /// transfer limit.
    fn within_transfer(&self, size: usize) -> Result<()> {
        let limits = self.plugin().limits();
        if size as u64 <= limits.transfer {
            return Ok(());
        }
        Err(Error::LimitExceeded {
            plugin: self.plugin().name().to_string(),
            limit: Limit::Transfer,
            detail: format!(
                "{} bytes per call; the results would take {size}",
                limits.transfer
            ),
        })
    }

    /// Converts each argument to its parameter's type, then calls.
    async fn call_converted<A>(
        &mut self,
        drive: Drive,
        export: &str,
        args: &[A],
        convert: impl Fn(&Type, &A) -> Result<Val>,
    ) -> Result<Vec<Value>> {
        let (func, signature) = self.resolve(export, args.len())?;
        let args = signature
            .params
            .iter()
            .zip(args)
            .map(|(ty, arg)| convert(ty, arg).map(|val| value_of(val, ty)))
            .collect::<Result<Vec<_>>>()?;
        let call = Dynamic {
            drive,
            export,
            func,
            err: ErrResult::Guest,
        };
        self.call_values_of(call, &signature, &args).await
    }

    /// The export and its signature, looked up once per instance and
    /// export name, once the argument count is known to match.
    pub(crate) fn resolve(&mut self, export: &str, given: usize) -> Result<(Func, Arc<Signature>)> {
        let (func, signature) = match self.exports.get(export) {
            Some((func, signature)) => (*func, signature.clone()),
            None => {
                let func = self.func(export)?;
                let ty = func.ty(self.store_mut());
                let signature = Arc::new(Signature {
                    names: ty.params().map(|(name, _)| name.to_string()).collect(),
                    params: ty.params().map(|(_, ty)| ty).collect(),
                    results: ty.results().collect(),
                });
                self.exports
                    .insert(export.to_string(), (func, signature.clone()));
                (func, signature)
            }
        };
        if signature.params.len() != given {
            return Err(Error::Argument {
                export: export.to_string(),
                reason: format!(
                    "it takes {} argument(s) ({}) but {given} were given",
                    signature.params.len(),
                    signature.names.join(", ")
                ),
            });
        }
        Ok((func, signature))
    }
}

/// What a dynamic call makes of a single top-level `result` that is `err`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ErrResult {
    /// A value like any other, as [`Instance::call_values`] returns it.
    Value,
    /// The plugin's answer, [`Error::Guest`], as text and JSON calls
    /// report it.
    Guest,
}

impl ErrResult {
    /// The results as the caller gets them from `plugin`.
    pub(crate) fn judge(self, plugin: &str, results: Vec<Value>) -> Result<Vec<Value>> {
        if let (ErrResult::Guest, [Value::Other(Val::Result(Err(payload)))]) =
            (self, results.as_slice())
        {
            let message = match payload.as_deref() {
                Some(Val::String(text)) => text.clone(),
                Some(other) => values::to_wave(other)?,
                None => "error".to_string(),
            };
            return Err(guest_error(plugin, message));
        }
        Ok(results)
    }
}

/// About how many bytes `value` takes as text or JSON, at `per_item` for
/// each byte of a byte list and each scalar.
fn value_size(value: &Value, per_item: usize) -> usize {
    match value {
        Value::Bytes(bytes) => bytes.len().saturating_mul(per_item),
        Value::String(text) => text.len(),
        Value::Other(val) => val_size(val, per_item),
    }
}

fn val_size(val: &Val, per_item: usize) -> usize {
    let items = |vals: &[Val]| vals.iter().map(|v| val_size(v, per_item)).sum::<usize>();
    let payload = |val: &Option<Box<Val>>| val.as_deref().map_or(0, |v| val_size(v, per_item));
    per_item
        + match val {
            Val::String(text) => text.len(),
            Val::List(vals) | Val::Tuple(vals) | Val::FixedLengthList(vals) => items(vals),
            Val::Record(fields) => fields
                .iter()
                .map(|(name, v)| name.len() + val_size(v, per_item))
                .sum(),
            Val::Map(entries) => entries
                .iter()
                .map(|(k, v)| val_size(k, per_item) + val_size(v, per_item))
                .sum(),
            Val::Variant(case, value) => case.len() + payload(value),
            Val::Enum(case) => case.len(),
            Val::Option(value) => payload(value),
            Val::Result(Ok(value) | Err(value)) => payload(value),
            Val::Flags(names) => names.iter().map(String::len).sum(),
            _ => 0,
        }
}

/// A result in WAVE; a byte list straight from its bytes.
fn wave_of(value: &Value) -> Result<String> {
    match value {
        Value::Bytes(bytes) => {
            use std::fmt::Write;
            let mut text = String::with_capacity(2 + bytes.len() * 5);
            text.push('[');
            for (i, byte) in bytes.iter().enumerate() {
                let separator = if i == 0 { "" } else { ", " };
                let _ = write!(text, "{separator}{byte}");
            }
            text.push(']');
            Ok(text)
        }
        Value::String(text) => values::to_wave(&Val::String(text.clone())),
        Value::Other(val) => values::to_wave(val),
    }
}

/// A result in JSON; a byte list straight from its bytes.
fn json_of(value: &Value) -> Json {
    match value {
        Value::Bytes(bytes) => Json::Array(bytes.iter().map(|b| Json::from(*b)).collect()),
        Value::String(text) => Json::String(text.clone()),
        Value::Other(val) => values::to_json(val),
    }
}
