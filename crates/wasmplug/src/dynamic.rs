//! Calls by export name with arguments as text, for the CLI and for hosts
//! that do not know a plugin's world at compile time. They take the fast
//! lanes of [`crate::Value`] where the signature allows.
//!
//! A top-level `result` that is `err` is reported as [`Error::Guest`], so a
//! caller can tell a plugin's refusal from success without reading values.

use std::sync::Arc;

use serde_json::Value as Json;
use wasmtime::component::{Func, Type, Val};

use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::lanes::value_of;
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
        let results = self
            .call_converted(export, args, |ty, text| {
                values::parse_wave(export, ty, text)
            })
            .await?;
        results.iter().map(values::to_wave).collect()
    }

    /// Calls `export` with JSON arguments; returns the single result as JSON
    /// (`null` for none, an array for several).
    pub async fn call_json(&mut self, export: &str, args: &[Json]) -> Result<Json> {
        let mut results: Vec<Json> = self
            .call_converted(export, args, |ty, json| values::from_json(export, ty, json))
            .await?
            .iter()
            .map(values::to_json)
            .collect();
        Ok(match results.len() {
            0 => Json::Null,
            1 => results.remove(0),
            _ => Json::Array(results),
        })
    }

    /// Converts each argument to its parameter's type, then calls.
    async fn call_converted<A>(
        &mut self,
        export: &str,
        args: &[A],
        convert: impl Fn(&Type, &A) -> Result<Val>,
    ) -> Result<Vec<Val>> {
        let (func, signature) = self.resolve(export, args.len())?;
        let args = signature
            .params
            .iter()
            .zip(args)
            .map(|(ty, arg)| convert(ty, arg).map(|val| value_of(val, ty)))
            .collect::<Result<Vec<_>>>()?;
        let results: Vec<Val> = self
            .call_values_of(func, &signature, &args)
            .await?
            .into_iter()
            .map(Val::from)
            .collect();
        self.guest_error(&results)?;
        Ok(results)
    }

    /// The export and its signature, looked up once per instance and
    /// export name, once the argument count is known to match.
    pub(crate) fn resolve(&mut self, export: &str, given: usize) -> Result<(Func, Arc<Signature>)> {
        let (func, signature) = match self.exports.get(export) {
            Some((func, signature)) => (*func, signature.clone()),
            None => {
                let func = self.func(export)?;
                let ty = func.ty(self.store());
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

    /// A single `result` that is `err` as [`Error::Guest`].
    fn guest_error(&self, results: &[Val]) -> Result<()> {
        if let [Val::Result(Err(payload))] = results {
            let message = match payload.as_deref() {
                Some(Val::String(text)) => text.clone(),
                Some(other) => values::to_wave(other)?,
                None => "error".to_string(),
            };
            return Err(Error::Guest {
                plugin: self.plugin().name().to_string(),
                message,
            });
        }
        Ok(())
    }
}
