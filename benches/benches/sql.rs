//! SQL functions as plugins against the same function written natively:
//! the per-row cost of `slugify` over a table of 100,000 rows, called
//! through sqlplug (a kept instance, a blocking typed call per row) and
//! registered with rusqlite's `create_scalar_function`, side by side, with
//! the query without any function as the floor.
//!
//! `cargo bench -p wasmplug-benches --bench sql`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use wasmplug::PluginSet;
use wasmplug_tests::{example_guest, repo_root};

const ROWS: u64 = 100_000;

/// The example plugin's algorithm, natively: letters and digits in lower
/// case, every run of anything else one hyphen.
fn native_slug(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_alphanumeric() {
            slug.extend(c.to_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    if slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// A table of `ROWS` titles built from the sample data's, each different.
fn database() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    let sample = repo_root().join("examples/sqlplug/data/books.sql");
    conn.execute_batch(&std::fs::read_to_string(sample).unwrap())
        .unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE titles AS
           WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
           SELECT b.title || ' ' || n.i AS title
             FROM n JOIN (SELECT title, row_number() OVER () - 1 AS k FROM books) b
             ON b.k = n.i % 40;"
    ))
    .unwrap();
    conn
}

fn sql(c: &mut Criterion) {
    let conn = database();
    conn.create_scalar_function("native_slugify", 1, FunctionFlags::SQLITE_UTF8, |ctx| {
        Ok(native_slug(&ctx.get::<String>(0)?))
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("slugify");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(example_guest("slugify"), folder.join("slugify.wasm")).unwrap();
    std::fs::copy(
        repo_root().join("examples/plugins/slugify/plugin.toml"),
        folder.join("plugin.toml"),
    )
    .unwrap();
    let host = sqlplug::host().unwrap();
    let set = host
        .block_on(PluginSet::builder(&host, dir.path()).watch(false).open())
        .unwrap()
        .unwrap();
    let mut functions = sqlplug::Functions::new(set);
    functions.sync(&conn).unwrap();
    let total = |function: &str| -> i64 {
        conn.query_row(
            &format!("SELECT sum(length({function}(title))) FROM titles"),
            [],
            |row| row.get(0),
        )
        .unwrap()
    };
    assert_eq!(total("slugify"), total("native_slugify"), "the same slugs");

    let mut group = c.benchmark_group("sql: sum(length(f(title))) over 100,000 rows");
    group.sample_size(10).throughput(Throughput::Elements(ROWS));
    for (label, function) in [
        ("no function (the floor)", ""),
        ("native create_scalar_function", "native_slugify"),
        ("plugin (sqlplug)", "slugify"),
    ] {
        group.bench_function(label, |b| b.iter(|| total(function)));
    }
    group.finish();
}

criterion_group!(benches, sql);
criterion_main!(benches);
