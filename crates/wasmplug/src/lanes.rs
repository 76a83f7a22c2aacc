//! Fast lanes for dynamic calls.
//!
//! A dynamic call through wasmtime's `Val` turns a byte list into one `Val`
//! per byte: a 1 MiB `list<u8>` costs some 80 typed calls' worth. [`Value`]
//! keeps byte lists and strings whole, and when an export's signature is
//! one of the common shapes, nothing or one string or byte list in and a
//! string, byte list or `result<string, string>` out, the call goes through
//! a typed function instead. Every other signature takes the general `Val`
//! path.

use wasmtime::component::{ComponentNamedList, Func, Lift, Lower, Type, Val};

use crate::call::ready_now;
use crate::dynamic::{ErrResult, Signature};
use crate::error::{Error, Result};
use crate::instance::{Drive, Instance};

/// An argument or result of a dynamic call.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A `list<u8>`.
    Bytes(Vec<u8>),
    /// A `string`.
    String(String),
    /// Any other value.
    Other(Val),
}

impl From<Value> for Val {
    fn from(value: Value) -> Self {
        match value {
            Value::Bytes(bytes) => Val::List(bytes.into_iter().map(Val::U8).collect()),
            Value::String(text) => Val::String(text),
            Value::Other(val) => val,
        }
    }
}

/// The shapes a fast lane carries.
#[derive(Clone, Copy)]
enum Shape {
    Bytes,
    String,
    ResultString,
}

fn shape(ty: &Type) -> Option<Shape> {
    match ty {
        Type::String => Some(Shape::String),
        Type::List(list) if matches!(list.ty(), Type::U8) => Some(Shape::Bytes),
        Type::Result(result)
            if matches!(result.ok(), Some(Type::String))
                && matches!(result.err(), Some(Type::String)) =>
        {
            Some(Shape::ResultString)
        }
        _ => None,
    }
}

impl<T: Send + 'static> Instance<T> {
    /// Calls `export` with dynamic arguments, through a typed function when
    /// the signature is one of the fast lanes' shapes.
    pub async fn call_values(&mut self, export: &str, args: &[Value]) -> Result<Vec<Value>> {
        self.call_values_driven(Drive::Async, export, args).await
    }

    /// [`Self::call_values`] on an instance made for blocking calls
    /// ([`crate::Plugin::instantiate_blocking`]).
    pub fn call_values_blocking(&mut self, export: &str, args: &[Value]) -> Result<Vec<Value>> {
        ready_now(self.call_values_driven(Drive::Blocking, export, args))?
    }

    async fn call_values_driven(
        &mut self,
        drive: Drive,
        export: &str,
        args: &[Value],
    ) -> Result<Vec<Value>> {
        let (func, signature) = self.resolve(export, args.len())?;
        for (index, (arg, ty)) in args.iter().zip(&signature.params).enumerate() {
            if !fits(arg, ty) {
                return Err(Error::Argument {
                    export: export.to_string(),
                    reason: format!("argument {} is not a value of type {ty:?}", index + 1),
                });
            }
        }
        let call = Dynamic {
            drive,
            export,
            func,
            err: ErrResult::Value,
        };
        self.call_values_of(call, &signature, args).await
    }

    /// Makes `call` with `args` of `signature`.
    pub(crate) async fn call_values_of(
        &mut self,
        call: Dynamic<'_>,
        signature: &Signature,
        args: &[Value],
    ) -> Result<Vec<Value>> {
        let plugin = self.plugin().inner.admitted.name.clone();
        if let Some(results) = self.fast_lane(call, signature, args).await? {
            return Ok(results);
        }
        let vals: Vec<Val> = args.iter().cloned().map(Val::from).collect();
        let answer = |results: Vec<Val>| {
            let values = results
                .into_iter()
                .zip(&signature.results)
                .map(|(val, ty)| value_of(val, ty))
                .collect();
            call.err.judge(&plugin, values)
        };
        self.call_func_answer(call.drive, call.export, call.func, &vals, answer)
            .await
    }

    /// The call through a typed function, or `None` when the signature has
    /// no lane (or the arguments do not match it).
    async fn fast_lane(
        &mut self,
        call: Dynamic<'_>,
        signature: &Signature,
        args: &[Value],
    ) -> Result<Option<Vec<Value>>> {
        let [result] = signature.results.as_slice() else {
            return Ok(None);
        };
        let Some(output) = shape(result) else {
            return Ok(None);
        };
        let value = match (signature.params.as_slice(), args) {
            ([], []) => self.lane(call, (), output).await?,
            ([param], [arg]) => match (shape(param), arg) {
                (Some(Shape::Bytes), Value::Bytes(bytes)) => {
                    self.lane(call, (bytes.as_slice(),), output).await?
                }
                (Some(Shape::String), Value::String(text)) => {
                    self.lane(call, (text.as_str(),), output).await?
                }
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        Ok(Some(value))
    }

    /// A typed call with `params`, whose one result has the shape `output`.
    async fn lane<P>(&mut self, call: Dynamic<'_>, params: P, output: Shape) -> Result<Vec<Value>>
    where
        P: ComponentNamedList + Lower + Send + Sync,
    {
        let plugin = self.plugin().inner.admitted.name.clone();
        match output {
            Shape::Bytes => {
                let answer = |(bytes,)| Ok(vec![Value::Bytes(bytes)]);
                self.typed::<P, (Vec<u8>,), _>(call, params, answer).await
            }
            Shape::String => {
                let answer = |(text,)| Ok(vec![Value::String(text)]);
                self.typed::<P, (String,), _>(call, params, answer).await
            }
            Shape::ResultString => {
                let answer = |(result,)| call.err.judge(&plugin, vec![result_value(result)]);
                self.typed::<P, (std::result::Result<String, String>,), _>(call, params, answer)
                    .await
            }
        }
    }

    async fn typed<P, R, A>(
        &mut self,
        call: Dynamic<'_>,
        params: P,
        answer: impl FnOnce(R) -> Result<A>,
    ) -> Result<A>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let typed = call
            .func
            .typed::<P, R>(self.store_mut())
            .map_err(|e| Error::runtime_message(format!("fast lane type check: {e:#}")))?;
        self.call_typed(call.drive, call.export, typed, params, answer)
            .await
    }
}

/// One dynamic call: how it is driven, the export by name and as found,
/// and what a top-level `err` is made of.
#[derive(Clone, Copy)]
pub(crate) struct Dynamic<'a> {
    pub(crate) drive: Drive,
    pub(crate) export: &'a str,
    pub(crate) func: Func,
    pub(crate) err: ErrResult,
}

/// A value of type `ty` as a [`Value`]: byte lists and strings by their
/// type, so an empty `list<u8>` is [`Value::Bytes`] too.
pub(crate) fn value_of(val: Val, ty: &Type) -> Value {
    match (shape(ty), val) {
        (Some(Shape::Bytes), Val::List(items)) => Value::Bytes(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Val::U8(byte) => Some(byte),
                    _ => None,
                })
                .collect(),
        ),
        (Some(Shape::String), Val::String(text)) => Value::String(text),
        (_, other) => Value::Other(other),
    }
}

/// Whether an argument has the parameter's type, checked before the call so
/// that a mistake is [`Error::Argument`] rather than a failed call.
fn fits(value: &Value, ty: &Type) -> bool {
    match value {
        Value::Bytes(_) => matches!(shape(ty), Some(Shape::Bytes)),
        Value::String(_) => matches!(ty, Type::String),
        Value::Other(val) => val_fits(val, ty),
    }
}

fn val_fits(val: &Val, ty: &Type) -> bool {
    let payload_fits = |payload: &Option<Box<Val>>, ty: Option<Type>| match (payload, ty) {
        (None, None) => true,
        (Some(value), Some(ty)) => val_fits(value, &ty),
        _ => false,
    };
    match (val, ty) {
        (Val::Bool(_), Type::Bool)
        | (Val::S8(_), Type::S8)
        | (Val::U8(_), Type::U8)
        | (Val::S16(_), Type::S16)
        | (Val::U16(_), Type::U16)
        | (Val::S32(_), Type::S32)
        | (Val::U32(_), Type::U32)
        | (Val::S64(_), Type::S64)
        | (Val::U64(_), Type::U64)
        | (Val::Float32(_), Type::Float32)
        | (Val::Float64(_), Type::Float64)
        | (Val::Char(_), Type::Char)
        | (Val::String(_), Type::String)
        | (Val::Resource(_), Type::Own(_) | Type::Borrow(_)) => true,
        (Val::List(items), Type::List(list)) => {
            let element = list.ty();
            items.iter().all(|item| val_fits(item, &element))
        }
        (Val::Record(fields), Type::Record(record)) => {
            fields.len() == record.fields().len()
                && fields
                    .iter()
                    .zip(record.fields())
                    .all(|((name, value), field)| name == field.name && val_fits(value, &field.ty))
        }
        (Val::Tuple(items), Type::Tuple(tuple)) => {
            items.len() == tuple.types().len()
                && items
                    .iter()
                    .zip(tuple.types())
                    .all(|(item, ty)| val_fits(item, &ty))
        }
        (Val::Variant(name, payload), Type::Variant(variant)) => variant
            .cases()
            .any(|case| case.name == name && payload_fits(payload, case.ty)),
        (Val::Enum(name), Type::Enum(names)) => names.names().any(|n| n == name),
        (Val::Option(value), Type::Option(option)) => {
            value.as_deref().is_none_or(|v| val_fits(v, &option.ty()))
        }
        (Val::Result(Ok(payload)), Type::Result(result)) => payload_fits(payload, result.ok()),
        (Val::Result(Err(payload)), Type::Result(result)) => payload_fits(payload, result.err()),
        (Val::Flags(set), Type::Flags(flags)) => set.iter().all(|n| flags.names().any(|f| f == n)),
        _ => false,
    }
}

fn result_value(result: std::result::Result<String, String>) -> Value {
    let boxed = |text| Some(Box::new(Val::String(text)));
    Value::Other(Val::Result(match result {
        Ok(text) => Ok(boxed(text)),
        Err(text) => Err(boxed(text)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_vals() {
        let bytes = Val::List(vec![Val::U8(1), Val::U8(2)]);
        assert_eq!(Val::from(Value::Bytes(vec![1, 2])), bytes);
        assert_eq!(
            Val::from(Value::String("a".into())),
            Val::String("a".into())
        );
        assert_eq!(Val::from(Value::Other(Val::U32(7))), Val::U32(7));
    }
}
