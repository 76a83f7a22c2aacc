//! `run(command)`: one `wasi:keyvalue` or `wasi:config/store` call per
//! input, so that the host's tests can drive its state capabilities from
//! text. A command is words separated by single spaces, e.g.
//! `set BUCKET KEY VALUE` or `config KEY`; errors come back as the `Debug`
//! text of the WIT error (`Error::AccessDenied`, `Error::Other("...")`), so
//! that tests can match on the case the host chose.

wit_bindgen::generate!({
    path: ["../../../wit", "wit"],
    world: "wasmplug-tests:state/state",
    generate_all,
});

use wasi::config::store as config;
use wasi::keyvalue::store::{self, Bucket};
use wasi::keyvalue::{atomics, batch};

/// What a value that is not there prints as, for `config`, `get` and
/// `get-many`.
const NONE: &str = "<none>";

struct State;

impl Guest for State {
    fn run(input: String) -> Result<String, String> {
        let (command, rest) = input.split_once(' ').unwrap_or((&input, ""));
        match command {
            "config" => {
                let [key] = words(rest, "config KEY")?;
                let value = config::get(key).map_err(debug)?;
                Ok(value.unwrap_or_else(|| NONE.into()))
            }
            "config-all" if rest.is_empty() => {
                let mut pairs = config::get_all().map_err(debug)?;
                pairs.sort();
                Ok(join(pairs.iter().map(|(k, v)| format!("{k}={v}"))))
            }
            "open" => {
                let [bucket] = words(rest, "open BUCKET")?;
                open(bucket)?;
                Ok("opened".into())
            }
            "get" => {
                let [bucket, key] = words(rest, "get BUCKET KEY")?;
                let value = open(bucket)?.get(key).map_err(debug)?;
                Ok(value.map_or_else(|| NONE.into(), |v| lossy(&v)))
            }
            "set" => {
                // The value is the rest of the line, spaces and all.
                let [bucket, key, value] = words(rest, "set BUCKET KEY VALUE")?;
                open(bucket)?.set(key, value.as_bytes()).map_err(debug)?;
                Ok("ok".into())
            }
            "set-size" => {
                // A value of a chosen size, to reach the host's quotas.
                let [bucket, key, size] = words(rest, "set-size BUCKET KEY N")?;
                let size: usize = size.parse().map_err(|_| format!("not a size: {size}"))?;
                open(bucket)?.set(key, &vec![b'x'; size]).map_err(debug)?;
                Ok("ok".into())
            }
            "delete" => {
                let [bucket, key] = words(rest, "delete BUCKET KEY")?;
                open(bucket)?.delete(key).map_err(debug)?;
                Ok("ok".into())
            }
            "exists" => {
                let [bucket, key] = words(rest, "exists BUCKET KEY")?;
                Ok(open(bucket)?.exists(key).map_err(debug)?.to_string())
            }
            "keys" => {
                let [bucket] = words(rest, "keys BUCKET")?;
                let mut keys = all_keys(&open(bucket)?)?;
                keys.sort();
                Ok(keys.join(","))
            }
            "incr" => {
                let [bucket, key, delta] = words(rest, "incr BUCKET KEY DELTA")?;
                let delta: u64 = delta.parse().map_err(|_| format!("not a u64: {delta}"))?;
                let bucket = open(bucket)?;
                Ok(atomics::increment(&bucket, key, delta)
                    .map_err(debug)?
                    .to_string())
            }
            "get-many" => {
                let [bucket, keys] = words(rest, "get-many BUCKET K1,K2,...")?;
                let keys: Vec<String> = keys.split(',').map(String::from).collect();
                let values = batch::get_many(&open(bucket)?, &keys).map_err(debug)?;
                // Absent keys come back as `none`, so name them from the request.
                let pairs = keys.iter().zip(values).map(|(key, value)| match value {
                    Some((k, v)) => format!("{k}={}", lossy(&v)),
                    None => format!("{key}={NONE}"),
                });
                Ok(join(pairs))
            }
            "set-many" => {
                let [bucket, pairs] = words(rest, "set-many BUCKET K1=V1,K2=V2,...")?;
                let pairs = pairs
                    .split(',')
                    .map(|pair| {
                        let (k, v) = pair.split_once('=').ok_or(format!("not K=V: {pair}"))?;
                        Ok((k.to_string(), v.as_bytes().to_vec()))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                batch::set_many(&open(bucket)?, &pairs).map_err(debug)?;
                Ok("ok".into())
            }
            "delete-many" => {
                let [bucket, keys] = words(rest, "delete-many BUCKET K1,K2,...")?;
                let keys: Vec<String> = keys.split(',').map(String::from).collect();
                batch::delete_many(&open(bucket)?, &keys).map_err(debug)?;
                Ok("ok".into())
            }
            _ => Err("unknown command".into()),
        }
    }
}

export!(State);

/// Splits `rest` into exactly `N` words, the last one taking whatever is
/// left; `usage` is the error otherwise. Empty words pass, so that tests can
/// send the host an empty key or value.
fn words<'a, const N: usize>(rest: &'a str, usage: &str) -> Result<[&'a str; N], String> {
    let words: Vec<&str> = rest.splitn(N, ' ').collect();
    <[&str; N]>::try_from(words).map_err(|_| format!("usage: {usage}"))
}

/// Opens `name` afresh for every command, as a plugin without state of its
/// own would.
fn open(name: &str) -> Result<Bucket, String> {
    store::open(name).map_err(debug)
}

/// Every key in `bucket`, following the cursor across pages.
fn all_keys(bucket: &Bucket) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let page = bucket.list_keys(cursor).map_err(debug)?;
        keys.extend(page.keys);
        match page.cursor {
            None => return Ok(keys),
            Some(next) => cursor = Some(next),
        }
    }
}

/// The `Debug` text of a WIT error: it names the case, e.g.
/// `Error::AccessDenied`.
fn debug(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(",")
}
