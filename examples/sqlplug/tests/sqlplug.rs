//! sqlplug end to end: functions from plugins in Rust and Python, scalar
//! and aggregate, on the sample data; a runaway, crashing or memory-hungry
//! function aborting only its statement; a function changed on disk used by
//! the next statement; and the command line.

use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;
use sqlplug::Functions;
use wasmplug::{PluginSet, SetEvent};
use wasmplug_tests::{example_guest, guest, repo_root, toolchain_ready};

const TROUBLE: &str = "[plugin]\nname = \"trouble\"\nversion = \"0.1.0\"\n\
                       world = \"sqlplug:functions/scalar@0.1.0\"\n\
                       [limits]\ncpu = \"200ms\"\nmemory = \"32MiB\"\n";

/// Places `wasm` in `dir/folder` with `manifest`.
fn place(dir: &Path, folder: &str, wasm: &Path, manifest: &str) {
    let folder = dir.join(folder);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(wasm, folder.join("function.wasm")).unwrap();
    std::fs::write(folder.join("plugin.toml"), manifest).unwrap();
}

fn example_manifest(plugin: &str) -> String {
    std::fs::read_to_string(
        repo_root()
            .join("examples/plugins")
            .join(plugin)
            .join("plugin.toml"),
    )
    .unwrap()
}

/// A folder with `slugify`, `median` and `trouble`.
fn plugins() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for plugin in ["slugify", "median"] {
        place(
            dir.path(),
            plugin,
            &example_guest(plugin),
            &example_manifest(plugin),
        );
    }
    place(dir.path(), "trouble", &guest("sql_trouble"), TROUBLE);
    dir
}

/// A database with the sample data, its functions from `dir`, and the
/// set's events.
fn database(dir: &Path) -> (Connection, Functions, mpsc::Receiver<String>) {
    let host = sqlplug::host().unwrap();
    let (send, events) = mpsc::channel();
    let set = host
        .block_on(
            PluginSet::builder(&host, dir)
                .debounce(Duration::from_millis(50))
                .on_event(move |event| {
                    if let SetEvent::Reloaded { plugin, .. } = event {
                        send.send(plugin.name().to_string()).unwrap();
                    }
                })
                .open(),
        )
        .unwrap()
        .unwrap();
    let conn = Connection::open_in_memory().unwrap();
    let sample = repo_root().join("examples/sqlplug/data/books.sql");
    conn.execute_batch(&std::fs::read_to_string(sample).unwrap())
        .unwrap();
    let mut functions = Functions::new(set);
    assert!(functions.sync(&conn).unwrap().is_empty());
    (conn, functions, events)
}

fn text(conn: &Connection, sql: &str) -> rusqlite::Result<String> {
    conn.query_row(sql, [], |row| row.get::<_, String>(0))
}

#[test]
fn scalar_and_aggregate_functions_answer_on_the_sample_data() {
    let dir = plugins();
    let (conn, _functions, _) = database(dir.path());
    assert_eq!(
        text(&conn, "SELECT slugify('The Left Hand of Darkness')").unwrap(),
        "the-left-hand-of-darkness"
    );
    let slugs: Vec<String> = conn
        .prepare("SELECT slugify(title) FROM books WHERE author = 'Frank Herbert' ORDER BY year")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(slugs, ["dune", "dune-messiah", "children-of-dune"]);
    let medians: Vec<(String, f64)> = conn
        .prepare(
            "SELECT author, median(pages) FROM books WHERE author LIKE 'Ursula%' \
             OR author = 'Frank Herbert' GROUP BY author ORDER BY author",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        medians,
        [
            ("Frank Herbert".to_string(), 412.0),
            ("Ursula K. Le Guin".to_string(), 244.0)
        ]
    );
    let none: Option<f64> = conn
        .query_row(
            "SELECT median(pages) FROM books WHERE year > 3000",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(none, None, "a group of no rows is NULL");
    let err = text(&conn, "SELECT slugify(1, 2)").unwrap_err();
    assert!(
        err.to_string()
            .contains("plugin `slugify` returned an error: slugify takes 1 argument, not 2"),
        "{err}"
    );
}

#[test]
fn a_misbehaving_function_aborts_only_its_statement() {
    let dir = plugins();
    let (conn, functions, _) = database(dir.path());
    for (what, expected) in [
        (
            "loop",
            "plugin `trouble` exceeded its CPU time limit (200ms)",
        ),
        ("panic", "plugin `trouble` crashed"),
        (
            "grow",
            "plugin `trouble` exceeded its memory limit (32 MiB)",
        ),
    ] {
        let err = text(&conn, &format!("SELECT trouble('{what}') FROM books")).unwrap_err();
        assert!(err.to_string().contains(expected), "{what}: {err}");
        // The next statement, and the same function, work.
        assert_eq!(text(&conn, "SELECT trouble('fine')").unwrap(), "FINE");
        let count: i64 = conn
            .query_row("SELECT count(*) FROM books", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 40);
    }
    let panic = text(&conn, "SELECT trouble('panic')").unwrap_err();
    assert!(
        panic.to_string().contains("trouble was asked for"),
        "{panic}"
    );
    // An update that fails half-way changes nothing.
    let err = conn
        .execute(
            "UPDATE books SET title = trouble(CASE WHEN year > 2000 THEN 'loop' ELSE title END)",
            [],
        )
        .unwrap_err();
    assert!(err.to_string().contains("CPU time limit"), "{err}");
    assert_eq!(
        text(&conn, "SELECT title FROM books WHERE year = 1937").unwrap(),
        "The Hobbit"
    );
    let stats = functions.set().get("trouble").unwrap().stats();
    assert_eq!(stats.failures(), 5, "{stats:?}");
}

#[test]
fn a_function_changed_on_disk_is_used_by_the_next_statement() {
    let dir = plugins();
    place(
        dir.path(),
        "changing",
        &example_guest("slugify"),
        &manifest_of("changing", "0.1.0"),
    );
    let (conn, mut functions, events) = database(dir.path());
    assert_eq!(
        text(&conn, "SELECT changing('Hello World')").unwrap(),
        "hello-world"
    );

    let wasm = dir.path().join("changing/function.wasm");
    let staging = dir.path().join("changing/function.next");
    std::fs::copy(guest("sql_trouble"), &staging).unwrap();
    std::fs::write(
        dir.path().join("changing/plugin.toml"),
        manifest_of("changing", "0.2.0"),
    )
    .unwrap();
    std::fs::rename(&staging, &wasm).unwrap();
    loop {
        assert_eq!(
            events.recv_timeout(Duration::from_secs(60)).unwrap(),
            "changing"
        );
        let serving = functions.set().get("changing").unwrap();
        if serving.sha256() == wasmplug::Sha256Digest::of(&std::fs::read(&wasm).unwrap()) {
            break;
        }
    }
    functions.sync(&conn).unwrap();
    assert_eq!(
        text(&conn, "SELECT changing('Hello World')").unwrap(),
        "HELLO WORLD"
    );

    std::fs::remove_dir_all(dir.path().join("changing")).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while functions.set().get("changing").is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the removal was not seen"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    functions.sync(&conn).unwrap();
    let err = text(&conn, "SELECT changing('x')").unwrap_err();
    assert!(
        err.to_string().contains("no such function: changing"),
        "{err}"
    );
}

fn manifest_of(name: &str, version: &str) -> String {
    format!(
        "[plugin]\nname = \"{name}\"\nversion = \"{version}\"\n\
         world = \"sqlplug:functions/scalar@0.1.0\"\n"
    )
}

#[test]
fn a_python_function_is_a_function_like_any_other() {
    if !toolchain_ready(wasmplug_build::Language::Python) {
        return;
    }
    let project = repo_root().join("examples/plugins/regexp");
    let built = wasmplug_tests::build_project(&project, None, "regexp");
    let dir = plugins();
    place(dir.path(), "regexp", &built, &example_manifest("regexp"));
    let (conn, _functions, _) = database(dir.path());
    let titles: Vec<String> = conn
        .prepare("SELECT title FROM books WHERE title REGEXP '^The [A-Z][a-z]+ of' ORDER BY title")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        titles,
        [
            "The Caves of Steel",
            "The Fall of Hyperion",
            "The Fellowship of the Ring",
            "The Lathe of Heaven"
        ]
    );
    let err = text(&conn, "SELECT regexp('(', 'x')").unwrap_err();
    assert!(err.to_string().contains("bad pattern '('"), "{err}");
}

#[test]
fn the_command_line_prints_tables_and_goes_on_after_an_error() {
    let dir = plugins();
    let output = Command::new(env!("CARGO_BIN_EXE_sqlplug"))
        .arg("--plugins")
        .arg(dir.path())
        .arg(":memory:")
        .arg(format!(
            ".read {}",
            repo_root()
                .join("examples/sqlplug/data/books.sql")
                .display()
        ))
        .arg("SELECT slugify(title) AS slug, pages FROM books WHERE year < 1951 ORDER BY year")
        .arg("SELECT trouble('loop')")
        .arg("SELECT median(year) AS median_year FROM books")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout,
        [
            " slug       | pages",
            "------------+-------",
            " the-hobbit |   310",
            " i-robot    |   253",
            "(2 rows)",
            "",
            " median_year",
            "-------------",
            "        1972",
            "(1 row)",
            "",
            "",
        ]
        .join("\n")
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("error: plugin `trouble` exceeded its CPU time limit (200ms)"),
        "{stderr}"
    );
}
