//! What the fuzz targets share: a host with tight limits and no cache, and
//! values of a component type made from fuzz input.
//!
//! Every target holds the host to one promise: whatever the input, loading
//! and calling end in `Ok` or a typed [`wasmplug::Error`], never a panic, a
//! hang or unbounded memory.

use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::{Result, Unstructured};
use wasmplug::wasmtime::component::{Type, Val};
use wasmplug::{Host, Limits};

/// The host of every target: nothing granted, nothing cached, small limits
/// so that a runaway input costs milliseconds, and small compile bounds.
pub fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| {
        Host::builder()
            .cache(None)
            .limits(
                Limits::default()
                    .memory(64 << 20)
                    .cpu(Duration::from_millis(30))
                    .timeout(Duration::from_millis(200))
                    .output(64 << 10)
                    .transfer(16 << 20),
            )
            .max_component_size(4 << 20)
            .max_component_functions(20_000)
            .build()
            .expect("building the fuzz host")
    })
}

/// Runs a future of the host to completion.
pub fn block_on<F: Future>(future: F) -> F::Output {
    host()
        .block_on(future)
        .expect("the fuzz target runs outside any async runtime")
}

/// How deep an arbitrary value may nest.
const MAX_DEPTH: usize = 4;

/// An arbitrary value of type `ty`; `None` for types no value can be made
/// of here (resources, futures, streams).
pub fn arbitrary_val(u: &mut Unstructured<'_>, ty: &Type) -> Result<Option<Val>> {
    arbitrary_at(u, ty, 0)
}

fn arbitrary_at(u: &mut Unstructured<'_>, ty: &Type, depth: usize) -> Result<Option<Val>> {
    let len = |u: &mut Unstructured<'_>| -> Result<usize> {
        if depth >= MAX_DEPTH {
            Ok(0)
        } else {
            u.int_in_range(0..=4)
        }
    };
    let inner = |u: &mut Unstructured<'_>, ty: &Type| arbitrary_at(u, ty, depth + 1);
    Ok(Some(match ty {
        Type::Bool => Val::Bool(u.arbitrary()?),
        Type::S8 => Val::S8(u.arbitrary()?),
        Type::U8 => Val::U8(u.arbitrary()?),
        Type::S16 => Val::S16(u.arbitrary()?),
        Type::U16 => Val::U16(u.arbitrary()?),
        Type::S32 => Val::S32(u.arbitrary()?),
        Type::U32 => Val::U32(u.arbitrary()?),
        Type::S64 => Val::S64(u.arbitrary()?),
        Type::U64 => Val::U64(u.arbitrary()?),
        Type::Float32 => Val::Float32(u.arbitrary()?),
        Type::Float64 => Val::Float64(u.arbitrary()?),
        Type::Char => Val::Char(u.arbitrary()?),
        Type::String => Val::String(u.arbitrary()?),
        Type::List(list) => {
            let element = list.ty();
            // Byte lists are what fast lanes carry: let them be long.
            if matches!(element, Type::U8) {
                let bytes: Vec<u8> = u.arbitrary()?;
                Val::List(bytes.into_iter().map(Val::U8).collect())
            } else {
                let mut items = Vec::new();
                for _ in 0..len(u)? {
                    let Some(item) = inner(u, &element)? else {
                        return Ok(None);
                    };
                    items.push(item);
                }
                Val::List(items)
            }
        }
        Type::Record(record) => {
            let mut fields = Vec::new();
            for field in record.fields() {
                let Some(value) = inner(u, &field.ty)? else {
                    return Ok(None);
                };
                fields.push((field.name.to_string(), value));
            }
            Val::Record(fields)
        }
        Type::Tuple(tuple) => {
            let mut items = Vec::new();
            for ty in tuple.types() {
                let Some(item) = inner(u, &ty)? else {
                    return Ok(None);
                };
                items.push(item);
            }
            Val::Tuple(items)
        }
        Type::Variant(variant) => {
            let cases: Vec<_> = variant.cases().collect();
            let case = u.choose(&cases)?;
            let payload = match &case.ty {
                Some(ty) => match inner(u, ty)? {
                    Some(value) => Some(Box::new(value)),
                    None => return Ok(None),
                },
                None => None,
            };
            Val::Variant(case.name.to_string(), payload)
        }
        Type::Enum(names) => {
            let names: Vec<&str> = names.names().collect();
            Val::Enum(u.choose(&names)?.to_string())
        }
        Type::Option(option) => {
            if u.arbitrary()? {
                match inner(u, &option.ty())? {
                    Some(value) => Val::Option(Some(Box::new(value))),
                    None => return Ok(None),
                }
            } else {
                Val::Option(None)
            }
        }
        Type::Result(result) => {
            let ok = u.arbitrary()?;
            let ty = if ok { result.ok() } else { result.err() };
            let payload = match ty {
                Some(ty) => match inner(u, &ty)? {
                    Some(value) => Some(Box::new(value)),
                    None => return Ok(None),
                },
                None => None,
            };
            Val::Result(if ok { Ok(payload) } else { Err(payload) })
        }
        Type::Flags(flags) => {
            let mut set = Vec::new();
            for name in flags.names() {
                if u.arbitrary()? {
                    set.push(name.to_string());
                }
            }
            Val::Flags(set)
        }
        _ => return Ok(None),
    }))
}

/// Whether two values are the same, any NaN the same as any other (WAVE
/// and the guest's own copies need not keep a NaN's bits): a value given
/// back must be the value given.
pub fn same(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Float32(x), Val::Float32(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Val::Float64(x), Val::Float64(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Val::List(x), Val::List(y)) | (Val::Tuple(x), Val::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Val::Record(x), Val::Record(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((n, a), (m, b))| n == m && same(a, b))
        }
        (Val::Variant(n, x), Val::Variant(m, y)) => n == m && same_payload(x, y),
        (Val::Option(x), Val::Option(y)) => same_payload(x, y),
        (Val::Result(Ok(x)), Val::Result(Ok(y))) | (Val::Result(Err(x)), Val::Result(Err(y))) => {
            same_payload(x, y)
        }
        (Val::Flags(x), Val::Flags(y)) => {
            let mut x = x.clone();
            let mut y = y.clone();
            x.sort();
            y.sort();
            x == y
        }
        (a, b) => a == b,
    }
}

fn same_payload(a: &Option<Box<Val>>, b: &Option<Box<Val>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Whether `value` holds a float JSON cannot carry (NaN, infinities).
pub fn has_non_finite(value: &Val) -> bool {
    match value {
        Val::Float32(x) => !x.is_finite(),
        Val::Float64(x) => !x.is_finite(),
        Val::List(items) | Val::Tuple(items) => items.iter().any(has_non_finite),
        Val::Record(fields) => fields.iter().any(|(_, v)| has_non_finite(v)),
        Val::Variant(_, Some(v)) | Val::Option(Some(v)) => has_non_finite(v),
        Val::Result(Ok(Some(v)) | Err(Some(v))) => has_non_finite(v),
        _ => false,
    }
}

/// A value of type `ty` to call with when any will do: zeros, empties, the
/// first case; `None` where none can be made here.
pub fn zero_val(ty: &Type) -> Option<Val> {
    Some(match ty {
        Type::Bool => Val::Bool(false),
        Type::S8 => Val::S8(0),
        Type::U8 => Val::U8(0),
        Type::S16 => Val::S16(0),
        Type::U16 => Val::U16(0),
        Type::S32 => Val::S32(0),
        Type::U32 => Val::U32(0),
        Type::S64 => Val::S64(0),
        Type::U64 => Val::U64(0),
        Type::Float32 => Val::Float32(0.0),
        Type::Float64 => Val::Float64(0.0),
        Type::Char => Val::Char('a'),
        Type::String => Val::String(String::new()),
        Type::List(_) => Val::List(Vec::new()),
        Type::Record(record) => Val::Record(
            record
                .fields()
                .map(|f| Some((f.name.to_string(), zero_val(&f.ty)?)))
                .collect::<Option<_>>()?,
        ),
        Type::Tuple(tuple) => {
            Val::Tuple(tuple.types().map(|t| zero_val(&t)).collect::<Option<_>>()?)
        }
        Type::Variant(variant) => {
            let case = variant.cases().next()?;
            let payload = match case.ty {
                Some(ty) => Some(Box::new(zero_val(&ty)?)),
                None => None,
            };
            Val::Variant(case.name.to_string(), payload)
        }
        Type::Enum(names) => Val::Enum(names.names().next()?.to_string()),
        Type::Option(_) => Val::Option(None),
        Type::Result(result) => Val::Result(Ok(match result.ok() {
            Some(ty) => Some(Box::new(zero_val(&ty)?)),
            None => None,
        })),
        Type::Flags(_) => Val::Flags(Vec::new()),
        _ => return None,
    })
}
