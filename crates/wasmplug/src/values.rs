//! Values at the edge: WAVE text (as `wasmtime run --invoke` uses) and JSON,
//! converted to and from component values by the function's types.

use serde_json::{Map, Number, Value as Json};
use wasmtime::component::{Type, Val};

use crate::error::{Error, Result};

/// Parses one argument written in WAVE for a parameter of type `ty`. A
/// record field the type does not have is an error, as it is in JSON.
pub fn parse_wave(export: &str, ty: &Type, text: &str) -> Result<Val> {
    let invalid = |reason: String| Error::Argument {
        export: export.to_string(),
        reason,
    };
    let value = wasm_wave::from_str::<Val>(ty, text).map_err(|e| {
        invalid(format!(
            "`{text}` is not a WAVE value of type `{}` ({}): {e}",
            describe(ty),
            how_written(ty, text)
        ))
    })?;
    if let Ok(untyped) = wasm_wave::untyped::UntypedValue::parse(text)
        && let Some(field) = unknown_field(untyped.node(), ty, text)
    {
        return Err(invalid(format!("`{text}` has the unknown field `{field}`")));
    }
    Ok(value)
}

/// A component type as WIT writes it, e.g. `list<string>`,
/// `record { x: u32, y: u32 }`, `result<string, string>`.
pub(crate) fn describe(ty: &Type) -> String {
    let list = |items: Vec<String>| items.join(", ");
    match ty {
        Type::Bool => "bool".into(),
        Type::S8 => "s8".into(),
        Type::U8 => "u8".into(),
        Type::S16 => "s16".into(),
        Type::U16 => "u16".into(),
        Type::S32 => "s32".into(),
        Type::U32 => "u32".into(),
        Type::S64 => "s64".into(),
        Type::U64 => "u64".into(),
        Type::Float32 => "f32".into(),
        Type::Float64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::List(l) => format!("list<{}>", describe(&l.ty())),
        Type::Record(r) => format!(
            "record {{ {} }}",
            list(
                r.fields()
                    .map(|f| format!("{}: {}", f.name, describe(&f.ty)))
                    .collect()
            )
        ),
        Type::Tuple(t) => format!("tuple<{}>", list(t.types().map(|t| describe(&t)).collect())),
        Type::Variant(v) => format!(
            "variant {{ {} }}",
            list(
                v.cases()
                    .map(|c| match c.ty {
                        Some(ty) => format!("{}({})", c.name, describe(&ty)),
                        None => c.name.to_string(),
                    })
                    .collect()
            )
        ),
        Type::Enum(e) => format!(
            "enum {{ {} }}",
            list(e.names().map(str::to_string).collect())
        ),
        Type::Flags(f) => format!(
            "flags {{ {} }}",
            list(f.names().map(str::to_string).collect())
        ),
        Type::Option(o) => format!("option<{}>", describe(&o.ty())),
        Type::Result(r) => match (r.ok(), r.err()) {
            (Some(ok), Some(err)) => format!("result<{}, {}>", describe(&ok), describe(&err)),
            (Some(ok), None) => format!("result<{}>", describe(&ok)),
            (None, Some(err)) => format!("result<_, {}>", describe(&err)),
            (None, None) => "result".into(),
        },
        other => format!("{other:?}"),
    }
}

/// How a value of `ty` is written in WAVE, for an error message about
/// `text`.
fn how_written(ty: &Type, text: &str) -> String {
    match ty {
        Type::String => format!("a string is quoted, e.g. `{:?}`", text.trim_matches('"')),
        Type::Char => "a char is in single quotes, e.g. `'x'`".into(),
        Type::Bool => "`true` or `false`".into(),
        Type::List(_) => "a list is in brackets, e.g. `[1, 2]`".into(),
        Type::Record(_) => "a record is in braces, e.g. `{x: 1, y: 2}`".into(),
        Type::Tuple(_) => "a tuple is in parentheses, e.g. `(1, \"a\")`".into(),
        Type::Option(_) => "`some(VALUE)` or `none`".into(),
        Type::Result(_) => "`ok(VALUE)` or `err(VALUE)`".into(),
        Type::Enum(_) => "one of its cases, bare".into(),
        Type::Variant(_) => "a case, with its payload in parentheses: `case(VALUE)`".into(),
        Type::Flags(_) => "the flags set, in braces: `{a, b}`".into(),
        Type::Float32 | Type::Float64 => "a number, e.g. `1.5`, `nan` or `inf`".into(),
        Type::S8
        | Type::U8
        | Type::S16
        | Type::U16
        | Type::S32
        | Type::U32
        | Type::S64
        | Type::U64 => "a whole number in its range".into(),
        _ => "WAVE has no literal for it".into(),
    }
}

/// The first record field in `node` that its type does not have.
fn unknown_field(node: &wasm_wave::ast::Node, ty: &Type, src: &str) -> Option<String> {
    use wasm_wave::ast::NodeType;
    match ty {
        Type::Record(record) => {
            for (label, value) in node.as_record(src).ok()? {
                let Some(field) = record.fields().find(|f| f.name == label) else {
                    return Some(label.to_string());
                };
                if let Some(found) = unknown_field(value, &field.ty, src) {
                    return Some(found);
                }
            }
            None
        }
        Type::List(list) => {
            let element = list.ty();
            node.as_list()
                .ok()?
                .find_map(|item| unknown_field(item, &element, src))
        }
        Type::Tuple(tuple) => node
            .as_tuple()
            .ok()?
            .zip(tuple.types())
            .find_map(|(item, ty)| unknown_field(item, &ty, src)),
        Type::Option(option) => match node.ty() {
            NodeType::OptionNone => None,
            NodeType::OptionSome => unknown_field(node.as_option().ok()??, &option.ty(), src),
            _ => unknown_field(node, &option.ty(), src),
        },
        Type::Result(result) => match node.as_result().ok()? {
            Ok(payload) => unknown_field(payload?, &result.ok()?, src),
            Err(payload) => unknown_field(payload?, &result.err()?, src),
        },
        Type::Variant(variant) => {
            let (case, payload) = node.as_variant(src).ok()?;
            let ty = variant.cases().find(|c| c.name == case)?.ty?;
            unknown_field(payload?, &ty, src)
        }
        _ => None,
    }
}

/// Writes a value in WAVE.
pub fn to_wave(value: &Val) -> Result<String> {
    wasm_wave::to_string(value)
        .map_err(|e| Error::runtime_message(format!("cannot print result: {e}")))
}

/// Converts a JSON value for a parameter of type `ty`.
///
/// Records are objects, lists and tuples arrays, enums strings, flags arrays
/// of strings, options `null` or the value, results `{"ok": v}` or
/// `{"err": v}`, variants `{"case": payload}` or `"case"` without payload.
pub fn from_json(export: &str, ty: &Type, json: &Json) -> Result<Val> {
    json_to_val(ty, json).map_err(|reason| Error::Argument {
        export: export.to_string(),
        reason,
    })
}

/// Converts a value to JSON, the inverse of [`from_json`].
pub fn to_json(value: &Val) -> Json {
    match value {
        Val::Bool(b) => Json::Bool(*b),
        Val::S8(n) => (*n).into(),
        Val::U8(n) => (*n).into(),
        Val::S16(n) => (*n).into(),
        Val::U16(n) => (*n).into(),
        Val::S32(n) => (*n).into(),
        Val::U32(n) => (*n).into(),
        Val::S64(n) => (*n).into(),
        Val::U64(n) => (*n).into(),
        Val::Float32(f) => Number::from_f64(f64::from(*f)).map_or(Json::Null, Json::Number),
        Val::Float64(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Val::Char(c) => Json::String(c.to_string()),
        Val::String(s) => Json::String(s.clone()),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Json::Array(items.iter().map(to_json).collect())
        }
        Val::Map(entries) => Json::Array(
            entries
                .iter()
                .map(|(k, v)| Json::Array(vec![to_json(k), to_json(v)]))
                .collect(),
        ),
        Val::Record(fields) => Json::Object(
            fields
                .iter()
                .map(|(name, v)| (name.clone(), to_json(v)))
                .collect(),
        ),
        Val::Variant(case, None) | Val::Enum(case) => Json::String(case.clone()),
        Val::Variant(case, Some(payload)) => single(case, to_json(payload)),
        Val::Option(None) => Json::Null,
        Val::Option(Some(v)) => to_json(v),
        Val::Result(Ok(v)) => single("ok", v.as_deref().map_or(Json::Null, to_json)),
        Val::Result(Err(v)) => single("err", v.as_deref().map_or(Json::Null, to_json)),
        Val::Flags(names) => Json::Array(names.iter().cloned().map(Json::String).collect()),
        Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => {
            Json::String("<handle>".into())
        }
    }
}

fn single(key: &str, value: Json) -> Json {
    let mut map = Map::new();
    map.insert(key.to_string(), value);
    Json::Object(map)
}

fn json_to_val(ty: &Type, json: &Json) -> std::result::Result<Val, String> {
    let mismatch = |expected: &str| format!("expected {expected}, found {json}");
    let int = |min: i128, max: i128| -> std::result::Result<i128, String> {
        let n = json
            .as_i64()
            .map(i128::from)
            .or_else(|| json.as_u64().map(i128::from))
            .ok_or_else(|| mismatch("an integer"))?;
        if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(format!("{n} is out of range {min}..={max}"))
        }
    };
    // The range check above makes every `as` below lossless.
    Ok(match ty {
        Type::Bool => Val::Bool(json.as_bool().ok_or_else(|| mismatch("true or false"))?),
        Type::S8 => Val::S8(int(i8::MIN.into(), i8::MAX.into())? as i8),
        Type::U8 => Val::U8(int(0, u8::MAX.into())? as u8),
        Type::S16 => Val::S16(int(i16::MIN.into(), i16::MAX.into())? as i16),
        Type::U16 => Val::U16(int(0, u16::MAX.into())? as u16),
        Type::S32 => Val::S32(int(i32::MIN.into(), i32::MAX.into())? as i32),
        Type::U32 => Val::U32(int(0, u32::MAX.into())? as u32),
        Type::S64 => Val::S64(int(i64::MIN.into(), i64::MAX.into())? as i64),
        Type::U64 => Val::U64(int(0, u64::MAX.into())? as u64),
        Type::Float32 => Val::Float32(json.as_f64().ok_or_else(|| mismatch("a number"))? as f32),
        Type::Float64 => Val::Float64(json.as_f64().ok_or_else(|| mismatch("a number"))?),
        Type::Char => {
            let s = json
                .as_str()
                .ok_or_else(|| mismatch("a one-character string"))?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => return Err(mismatch("a one-character string")),
            }
        }
        Type::String => Val::String(json.as_str().ok_or_else(|| mismatch("a string"))?.into()),
        Type::List(list) => {
            let items = json.as_array().ok_or_else(|| mismatch("an array"))?;
            let element = list.ty();
            Val::List(
                items
                    .iter()
                    .map(|item| json_to_val(&element, item))
                    .collect::<std::result::Result<_, _>>()?,
            )
        }
        Type::Record(record) => {
            let object = json.as_object().ok_or_else(|| mismatch("an object"))?;
            if let Some(unknown) = object
                .keys()
                .find(|k| !record.fields().any(|f| f.name == k.as_str()))
            {
                return Err(format!("unknown field `{unknown}`"));
            }
            let fields = record
                .fields()
                .map(|field| {
                    let value = object.get(field.name).unwrap_or(&Json::Null);
                    json_to_val(&field.ty, value)
                        .map(|v| (field.name.to_string(), v))
                        .map_err(|e| format!("field `{}`: {e}", field.name))
                })
                .collect::<std::result::Result<_, String>>()?;
            Val::Record(fields)
        }
        Type::Tuple(tuple) => {
            let items = json.as_array().ok_or_else(|| mismatch("an array"))?;
            let types: Vec<Type> = tuple.types().collect();
            if items.len() != types.len() {
                return Err(format!(
                    "expected {} elements, found {}",
                    types.len(),
                    items.len()
                ));
            }
            Val::Tuple(
                types
                    .iter()
                    .zip(items)
                    .map(|(t, v)| json_to_val(t, v))
                    .collect::<std::result::Result<_, _>>()?,
            )
        }
        Type::Variant(variant) => {
            let (case_name, payload) = case_of(json).ok_or_else(|| mismatch("a case"))?;
            let case = variant
                .cases()
                .find(|c| c.name == case_name)
                .ok_or_else(|| format!("unknown case `{case_name}`"))?;
            let payload = match (case.ty, payload) {
                (Some(t), Some(p)) => Some(Box::new(json_to_val(&t, p)?)),
                (None, None) => None,
                (Some(_), None) => return Err(format!("case `{case_name}` needs a payload")),
                (None, Some(_)) => return Err(format!("case `{case_name}` has no payload")),
            };
            Val::Variant(case_name.to_string(), payload)
        }
        Type::Enum(en) => {
            let name = json.as_str().ok_or_else(|| mismatch("a string"))?;
            if !en.names().any(|n| n == name) {
                return Err(format!("unknown case `{name}`"));
            }
            Val::Enum(name.into())
        }
        Type::Option(option) => match json {
            Json::Null => Val::Option(None),
            value => Val::Option(Some(Box::new(json_to_val(&option.ty(), value)?))),
        },
        Type::Result(result) => {
            let (key, payload) =
                case_of(json).ok_or_else(|| mismatch("{\"ok\": ...} or {\"err\": ...}"))?;
            let convert = |t: Option<Type>| -> std::result::Result<Option<Box<Val>>, String> {
                match t {
                    Some(t) => Ok(Some(Box::new(json_to_val(
                        &t,
                        payload.unwrap_or(&Json::Null),
                    )?))),
                    None => Ok(None),
                }
            };
            match key {
                "ok" => Val::Result(Ok(convert(result.ok())?)),
                "err" => Val::Result(Err(convert(result.err())?)),
                other => return Err(format!("a result is `ok` or `err`, not `{other}`")),
            }
        }
        Type::Flags(flags) => {
            let items = json
                .as_array()
                .ok_or_else(|| mismatch("an array of flag names"))?;
            let mut set = Vec::new();
            for item in items {
                let name = item.as_str().ok_or_else(|| mismatch("flag names"))?;
                if !flags.names().any(|n| n == name) {
                    return Err(format!("unknown flag `{name}`"));
                }
                set.push(name.to_string());
            }
            Val::Flags(set)
        }
        other => return Err(format!("values of type {other:?} cannot be given as JSON")),
    })
}

/// `"case"` or `{"case": payload}`.
fn case_of(json: &Json) -> Option<(&str, Option<&Json>)> {
    match json {
        Json::String(name) => Some((name, None)),
        Json::Object(map) if map.len() == 1 => {
            map.iter().next().map(|(k, v)| (k.as_str(), Some(v)))
        }
        _ => None,
    }
}
