//! The conformance suite: one WIT world (`tests/conformance/wit`) that
//! exercises every kind of WIT type, a resource and a host import, and the
//! same cases run against its implementation in each language.
//!
//! Each test builds `tests/conformance/<lang>` with `wasmplug build`, or
//! takes an already built component from `WASMPLUG_CONFORMANCE_<LANG>`. A
//! language whose toolchain is missing is skipped unless
//! `WASMPLUG_CONFORMANCE_REQUIRE` names it (`scripts/toolchains.sh`
//! installs them all).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::PathBuf;

use wasmplug::wasmtime::component::{HasSelf, ResourceAny};
use wasmplug::{
    Grant, Host, HostBuilder, HostInterface, Instance, JsEngine, Language, Policy, StoreData,
};

mod bindings {
    wasmtime::component::bindgen!({
        path: "conformance/wit",
        world: "conformance",
        exports: { default: async },
        additional_derives: [PartialEq],
    });
}

use bindings::Conformance;
use bindings::exports::wasmplug::conformance::api::{
    Color, ParseError, Permissions, Person, Point, Scalars, Shape,
};
use bindings::wasmplug::conformance::events;

const EVENTS: &str = "wasmplug:conformance/events";

/// The host side of `events`: what the plugin recorded, and what it can
/// look up.
#[derive(Default)]
struct Events {
    recorded: Vec<(String, Point)>,
    values: BTreeMap<String, String>,
}

impl events::Host for Events {
    fn record_event(&mut self, name: String, at: Point) -> u32 {
        self.recorded.push((name, at));
        self.recorded.len() as u32
    }

    fn lookup(&mut self, key: String) -> Option<String> {
        self.values.get(&key).cloned()
    }
}

fn host() -> Host<Events> {
    let events = HostInterface::new(EVENTS, |linker| {
        events::add_to_linker::<_, HasSelf<Events>>(linker, StoreData::host_mut)
    });
    HostBuilder::with_data(|| Events {
        recorded: Vec::new(),
        values: [("lang", "wit"), ("unicode", "ünïcödé ✓")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into(),
    })
    .policy(Policy::new().allow(Grant::interface(EVENTS)))
    .interface(events)
    .build()
    .expect("building the host")
}

/// The implementation's project folder.
fn project(language: Language) -> PathBuf {
    wasmplug_tests::repo_root()
        .join("tests/conformance")
        .join(language.name())
}

/// The component to test: the one named by `WASMPLUG_CONFORMANCE_<NAME>`
/// (e.g. `..._JS_QJS`), or a fresh build of the language's project, or
/// `None` when its toolchain is missing and the suite is skipped.
fn component(language: Language, engine: Option<JsEngine>, name: &str) -> Option<PathBuf> {
    let variable = format!("WASMPLUG_CONFORMANCE_{}", name.to_ascii_uppercase());
    if let Some(path) = std::env::var_os(&variable) {
        return Some(PathBuf::from(path));
    }
    wasmplug_tests::toolchain_ready(language)
        .then(|| wasmplug_tests::build_project(&project(language), engine, name))
}

fn test_name(language: Language, engine: Option<JsEngine>) -> String {
    match engine {
        Some(engine) => format!("{language}_{}", engine.name()),
        None => language.to_string(),
    }
}

/// Collects every mismatch instead of stopping at the first, so one run
/// shows all that an implementation gets wrong.
#[derive(Default)]
struct Report {
    passed: usize,
    failures: Vec<String>,
}

impl Report {
    fn expect<V: PartialEq + Debug>(
        &mut self,
        case: &str,
        actual: wasmplug::Result<V>,
        expected: V,
    ) {
        match actual {
            Ok(actual) if actual == expected => self.passed += 1,
            Ok(actual) => self
                .failures
                .push(format!("{case}: expected {expected:?}, got {actual:?}")),
            Err(error) => self.failures.push(format!("{case}: {error}")),
        }
    }
}

fn conformance(language: Language, engine: Option<JsEngine>) {
    let name = test_name(language, engine);
    let Some(path) = component(language, engine, &name) else {
        return;
    };
    let host = host();
    let report = host
        .block_on(async {
            let plugin = host
                .load_file_with_manifest(&path, project(language).join("plugin.toml"))
                .await
                .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
            let mut instance = plugin.instantiate().await.expect("instantiating");
            let world = instance
                .bind(|store, instance| Conformance::new(store, instance))
                .unwrap_or_else(|e| panic!("{e}"));
            let mut report = Report::default();
            run_cases(&mut instance, &world, &mut report).await;
            report
        })
        .expect("running the suite");
    println!(
        "conformance {name}: {} cases passed, {} failed",
        report.passed,
        report.failures.len()
    );
    assert!(
        report.failures.is_empty(),
        "{name} fails {} conformance cases:\n  {}",
        report.failures.len(),
        report.failures.join("\n  ")
    );
}

/// Calls one export of `api` under the plugin's limits.
macro_rules! call {
    ($instance:expr, $world:expr, $method:ident $(, $arg:expr)*) => {
        $instance
            .call(stringify!($method), async |store| $world.wasmplug_conformance_api().$method(store $(, $arg)*).await)
            .await
    };
}

async fn run_cases(instance: &mut Instance<Events>, world: &Conformance, report: &mut Report) {
    strings_and_lists(instance, world, report).await;
    records(instance, world, report).await;
    variants_enums_flags(instance, world, report).await;
    options_and_results(instance, world, report).await;
    host_imports(instance, world, report).await;
    resources(instance, world, report).await;
}

async fn strings_and_lists(instance: &mut Instance<Events>, world: &Conformance, r: &mut Report) {
    let text = "héllo, wörld 🌍";
    r.expect(
        "reverse-string unicode",
        call!(instance, world, call_reverse_string, text),
        text.chars().rev().collect::<String>(),
    );
    r.expect(
        "reverse-string empty",
        call!(instance, world, call_reverse_string, ""),
        String::new(),
    );
    r.expect(
        "reverse-bytes",
        call!(instance, world, call_reverse_bytes, &[0, 1, 2, 255]),
        vec![255, 2, 1, 0],
    );
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    r.expect(
        "reverse-bytes 100 KB",
        call!(instance, world, call_reverse_bytes, &big),
        big.iter().rev().copied().collect(),
    );
    r.expect(
        "split-words",
        call!(instance, world, call_split_words, "the quick  fox"),
        ["the", "quick", "", "fox"].map(String::from).to_vec(),
    );
    r.expect(
        "split-words empty",
        call!(instance, world, call_split_words, ""),
        vec![String::new()],
    );
    r.expect(
        "sum",
        call!(instance, world, call_sum, &[1, -2, 3, 1 << 40]),
        2 + (1 << 40),
    );
    r.expect("sum empty", call!(instance, world, call_sum, &[]), 0);
}

async fn records(instance: &mut Instance<Events>, world: &Conformance, r: &mut Report) {
    r.expect(
        "translate",
        call!(instance, world, call_translate, Point { x: 1, y: 2 }, -3, 4),
        Point { x: -2, y: 6 },
    );
    let scalars = Scalars {
        flag: true,
        tiny: 254,
        small: -32768,
        medium: u32::MAX - 1,
        large: i64::MAX - 1,
        single: 1.5,
        double: -0.25,
        letter: 'a',
    };
    r.expect(
        "bump",
        call!(instance, world, call_bump, scalars),
        Scalars {
            flag: false,
            tiny: 255,
            small: -32767,
            medium: u32::MAX,
            large: i64::MAX,
            single: 3.0,
            double: -0.5,
            letter: 'b',
        },
    );
    r.expect(
        "bump astral char",
        call!(
            instance,
            world,
            call_bump,
            Scalars {
                letter: '🌍',
                ..scalars
            }
        )
        .map(|s| s.letter),
        '🌎',
    );
    let ada = Person {
        name: "Ada".into(),
        age: 36,
        nicknames: Vec::new(),
        email: None,
    };
    r.expect(
        "describe plain",
        call!(instance, world, call_describe, &ada),
        "Ada (36)".to_string(),
    );
    let countess = Person {
        nicknames: vec!["Countess".into(), "Enchantress of Numbers".into()],
        email: Some("ada@example.org".into()),
        ..ada.clone()
    };
    r.expect(
        "describe full",
        call!(instance, world, call_describe, &countess),
        "Ada (36) aka Countess, Enchantress of Numbers <ada@example.org>".to_string(),
    );
    r.expect(
        "birthday",
        call!(instance, world, call_birthday, &countess, "Lovelace"),
        Person {
            age: 37,
            nicknames: vec![
                "Countess".into(),
                "Enchantress of Numbers".into(),
                "Lovelace".into(),
            ],
            ..countess.clone()
        },
    );
}

async fn variants_enums_flags(
    instance: &mut Instance<Events>,
    world: &Conformance,
    r: &mut Report,
) {
    for (case, shape, area) in [
        ("area circle", Shape::Circle(2), 12),
        (
            "area circle past u32",
            Shape::Circle(100_000),
            30_000_000_000,
        ),
        (
            "area rectangle",
            Shape::Rectangle(Point { x: -3, y: 4 }),
            12,
        ),
        ("area dot", Shape::Dot, 0),
    ] {
        r.expect(case, call!(instance, world, call_area, shape), area);
    }
    for (from, to) in [
        (Color::Red, Color::Green),
        (Color::Green, Color::Blue),
        (Color::Blue, Color::Red),
    ] {
        r.expect(
            &format!("next-color {from:?}"),
            call!(instance, world, call_next_color, from),
            to,
        );
    }
    r.expect(
        "flip",
        call!(
            instance,
            world,
            call_flip,
            Permissions::READ | Permissions::WRITE,
            Permissions::WRITE | Permissions::EXECUTE
        ),
        Permissions::READ | Permissions::EXECUTE,
    );
    r.expect(
        "flip nothing",
        call!(
            instance,
            world,
            call_flip,
            Permissions::empty(),
            Permissions::empty()
        ),
        Permissions::empty(),
    );
}

async fn options_and_results(instance: &mut Instance<Events>, world: &Conformance, r: &mut Report) {
    r.expect(
        "min-max",
        call!(instance, world, call_min_max, &[3, -7, 12, 0]),
        Some((-7, 12)),
    );
    r.expect(
        "min-max empty",
        call!(instance, world, call_min_max, &[]),
        None,
    );
    r.expect(
        "first-even",
        call!(instance, world, call_first_even, &[1, 3, 8, 10]),
        Some(8),
    );
    r.expect(
        "first-even zero",
        call!(instance, world, call_first_even, &[0]),
        Some(0),
    );
    r.expect(
        "first-even none",
        call!(instance, world, call_first_even, &[1, 3]),
        None,
    );
    for (input, expected) in [
        ("42", Ok(42)),
        ("-17", Ok(-17)),
        ("-2147483648", Ok(i32::MIN)),
        ("", Err(ParseError::Empty)),
        ("12a", Err(ParseError::Invalid("12a".into()))),
        ("-", Err(ParseError::Invalid("-".into()))),
        ("+5", Err(ParseError::Invalid("+5".into()))),
        ("2147483648", Err(ParseError::TooLarge)),
        ("99999999999999999999", Err(ParseError::TooLarge)),
    ] {
        r.expect(
            &format!("parse-number {input:?}"),
            call!(instance, world, call_parse_number, input),
            expected,
        );
    }
}

async fn host_imports(instance: &mut Instance<Events>, world: &Conformance, r: &mut Report) {
    let points = [
        Point { x: 1, y: 2 },
        Point { x: 3, y: 4 },
        Point { x: -5, y: 6 },
    ];
    r.expect(
        "record-all",
        call!(instance, world, call_record_all, &points),
        3,
    );
    r.expect(
        "record-all reached the host",
        Ok(instance.host_data().recorded.clone()),
        vec![
            ("p0".to_string(), points[0]),
            ("p1".to_string(), points[1]),
            ("p2".to_string(), points[2]),
        ],
    );
    r.expect(
        "record-all none",
        call!(instance, world, call_record_all, &[]),
        0,
    );
    let keys = ["lang", "missing", "unicode"].map(String::from);
    r.expect(
        "lookup-all",
        call!(instance, world, call_lookup_all, &keys),
        ["lang=wit", "missing?", "unicode=ünïcödé ✓"]
            .map(String::from)
            .to_vec(),
    );
}

async fn resources(instance: &mut Instance<Events>, world: &Conformance, r: &mut Report) {
    let api = world.wasmplug_conformance_api().counter();
    let counter = instance
        .call("[constructor]counter", async |store| {
            api.call_constructor(store, 10).await
        })
        .await;
    let Ok(counter) = counter else {
        return r.expect("counter constructor", counter.map(|_| ()), ());
    };
    r.expect(
        "counter add",
        instance
            .call("[method]counter.add", async |store| {
                api.call_add(store, counter, 5).await
            })
            .await,
        15,
    );
    let fork = instance
        .call("[method]counter.fork", async |store| {
            api.call_fork(store, counter).await
        })
        .await;
    let Ok(fork) = fork else {
        return r.expect("counter fork", fork.map(|_| ()), ());
    };
    r.expect(
        "fork is independent",
        instance
            .call("[method]counter.add", async |store| {
                api.call_add(store, fork, 1).await
            })
            .await,
        16,
    );
    r.expect(
        "original unchanged by its fork",
        instance
            .call("[method]counter.value", async |store| {
                api.call_value(store, counter).await
            })
            .await,
        15,
    );
    let merged = call!(instance, world, call_merge, counter, fork);
    let Ok(merged) = merged else {
        return r.expect("merge", merged.map(|_| ()), ());
    };
    r.expect(
        "merge",
        instance
            .call("[method]counter.value", async |store| {
                api.call_value(store, merged).await
            })
            .await,
        31,
    );
    r.expect(
        "borrowed counters are still usable",
        instance
            .call("[method]counter.add", async |store| {
                api.call_add(store, counter, -15).await
            })
            .await,
        0,
    );
    for (case, handle) in [
        ("drop counter", counter),
        ("drop fork", fork),
        ("drop merged", merged),
    ] {
        r.expect(case, drop_resource(instance, handle).await, ());
    }
    r.expect(
        "still works after drops",
        call!(instance, world, call_sum, &[1, 2]),
        3,
    );
}

async fn drop_resource(
    instance: &mut Instance<Events>,
    handle: ResourceAny,
) -> wasmplug::Result<()> {
    instance
        .call("[resource-drop]counter", async |store| {
            handle.resource_drop_async(store).await
        })
        .await
}

#[test]
fn rust() {
    conformance(Language::Rust, None);
}

#[test]
fn python() {
    conformance(Language::Python, None);
}

#[test]
fn js() {
    conformance(Language::Js, None);
}

#[test]
fn js_qjs() {
    conformance(Language::Js, Some(JsEngine::Qjs));
}

#[test]
fn c() {
    conformance(Language::C, None);
}

#[test]
fn go() {
    conformance(Language::Go, None);
}
