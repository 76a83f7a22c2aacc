//! SQLite's values and the plugins' `value` variant, each way.

use rusqlite::types::{Value as SqlValue, ValueRef};

use crate::bindings::Value;

/// One argument as a plugin gets it; text that is not UTF-8 is converted
/// with replacement characters.
pub(crate) fn argument(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Integer(n),
        ValueRef::Real(x) => Value::Real(x),
        ValueRef::Text(bytes) => Value::Text(String::from_utf8_lossy(bytes).into_owned()),
        ValueRef::Blob(bytes) => Value::Blob(bytes.to_vec()),
    }
}

/// A plugin's result as SQLite keeps it.
pub(crate) fn result(value: Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Integer(n) => SqlValue::Integer(n),
        Value::Real(x) => SqlValue::Real(x),
        Value::Text(text) => SqlValue::Text(text),
        Value::Blob(bytes) => SqlValue::Blob(bytes),
    }
}
