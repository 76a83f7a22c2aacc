//! Several versions of a host API at once: each plugin is linked with the
//! version it imports, one built for a version the host does not speak is
//! refused at load naming the versions it does, and a grant keeps the
//! version it was given for.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmplug::wasmtime::component::Linker;
use wasmplug::{
    Consent, ConsentAnswer, Error, Grant, GrantStore, Host, HostBuilder, HostInterface, Party,
    Permission, Policy, StoreData,
};
use wasmplug_tests::counting_compiles;

/// `example:filters/app` at `version`, whose `name` answers `answer`.
fn app_version(
    linker: &mut Linker<StoreData<()>>,
    version: &str,
    answer: &'static str,
) -> wasmplug::wasmtime::Result<()> {
    linker
        .instance(&format!("example:filters/app@{version}"))?
        .func_wrap("name", move |_, ()| Ok((answer.to_string(),)))
}

/// The host's `app` interface, served at 0.1.0, 0.2.0 and 0.3.0, each
/// saying which version answered.
fn app() -> HostInterface<()> {
    HostInterface::new("example:filters/app@0.3.0", |l| {
        app_version(l, "0.3.0", "v3")
    })
    .version("0.2.0", |l| app_version(l, "0.2.0", "v2"))
    .version("0.1.0", |l| app_version(l, "0.1.0", "v1"))
}

/// A component importing `app` at `version` and exporting `run`, which
/// returns what the host's `name` answered.
fn plugin_of(version: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(component
            (import "example:filters/app@{version}" (instance $app
                (export "name" (func (result string)))))
            (core module $memory
                (memory (export "memory") 1)
                (global $next (mut i32) (i32.const 1024))
                (func (export "realloc") (param i32 i32 i32 i32) (result i32)
                    (local $at i32)
                    (local.set $at (global.get $next))
                    (global.set $next (i32.add (global.get $next) (local.get 3)))
                    (local.get $at)))
            (core instance $mem (instantiate $memory))
            (alias export $app "name" (func $name))
            (core func $name_lowered (canon lower (func $name)
                (memory (core memory $mem "memory"))
                (realloc (core func $mem "realloc"))))
            (core module $main
                (import "host" "name" (func $name (param i32)))
                (func (export "run") (result i32)
                    (call $name (i32.const 16))
                    (i32.const 16)))
            (core instance $main (instantiate $main
                (with "host" (instance (export "name" (func $name_lowered))))))
            (func (export "run") (result string)
                (canon lift (core func $main "run")
                    (memory (core memory $mem "memory"))
                    (realloc (core func $mem "realloc")))))"#
    ))
    .unwrap()
}

fn manifest(version: &str, request: &str) -> wasmplug::Manifest {
    wasmplug::Manifest::parse(
        &format!(
            "[plugin]\nname = \"filter\"\nversion = \"1.0.0\"\nworld = \"example:filters/filter@{version}\"\n\
             [permissions]\ninterfaces = [{{ name = \"{request}\", reason = \"names the app\" }}]\n"
        ),
        std::path::Path::new("plugin.toml"),
    )
    .unwrap()
}

fn host(policy: Policy) -> HostBuilder<()> {
    HostBuilder::with_data(|| ())
        .policy(policy)
        .interface(app())
        .world("example:filters/filter@0.1.0")
        .world("example:filters/filter@0.2.0")
        .world("example:filters/filter@0.3.0")
        .cache(None)
}

#[tokio::test]
async fn each_plugin_is_served_the_version_it_imports() {
    let host = host(Policy::new().allow(Grant::interface("example:filters/app")))
        .build()
        .unwrap();
    for (version, answer) in [
        ("0.1.0", "v1"),
        ("0.2.0", "v2"),
        ("0.3.0", "v3"),
        ("0.2.4", "v2"),
    ] {
        let request = format!("example:filters/app@{version}");
        let plugin = host
            .load_bytes(
                "filter",
                plugin_of(version),
                Some(manifest("0.1.0", &request)),
            )
            .await
            .unwrap();
        let mut instance = plugin.instantiate().await.unwrap();
        let out = instance.call_wave("run", &[]).await.unwrap();
        assert_eq!(out, [format!("\"{answer}\"")], "a plugin of {version}");
    }
}

#[tokio::test]
async fn a_plugin_needing_a_newer_api_is_refused_with_the_versions_spoken() {
    let (builder, compiles) = counting_compiles(host(Policy::new().allow(Grant::interface("*"))));
    let host = builder.build().unwrap();

    // Its manifest says so: refused before anything is compiled.
    let err = host
        .load_bytes(
            "filter",
            plugin_of("0.3.0"),
            Some(manifest("0.4.0", "example:filters/app")),
        )
        .await
        .unwrap_err();
    let Error::ApiVersion {
        api,
        wanted,
        speaks,
        ..
    } = &err
    else {
        panic!("expected ApiVersion, got {err:?}");
    };
    assert_eq!(
        (api.as_str(), wanted.as_str()),
        ("example:filters/filter", "0.4.0")
    );
    assert_eq!(speaks, &["0.3.0", "0.2.0", "0.1.0"]);
    assert_eq!(
        err.to_string(),
        "plugin `filter` needs example:filters/filter@0.4.0, but this host speaks \
         example:filters/filter 0.3.0, 0.2.0, 0.1.0; use a build of the plugin made for one of \
         those, or a host that speaks example:filters/filter@0.4.0"
    );
    assert_eq!(compiles.load(Ordering::SeqCst), 0);

    // Its imports say so.
    let err = host
        .load_bytes(
            "filter",
            plugin_of("0.4.0"),
            Some(manifest("0.3.0", "example:filters/app")),
        )
        .await
        .unwrap_err();
    let Error::ApiVersion {
        api,
        wanted,
        speaks,
        ..
    } = &err
    else {
        panic!("expected ApiVersion, got {err:?}");
    };
    assert_eq!(
        (api.as_str(), wanted.as_str()),
        ("example:filters/app", "0.4.0")
    );
    assert_eq!(speaks, &["0.3.0", "0.2.0", "0.1.0"]);
    // So is one older than any version served.
    let err = host
        .load_bytes(
            "filter",
            plugin_of("0.0.9"),
            Some(manifest("0.3.0", "example:filters/app")),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ApiVersion { .. }), "{err:?}");
}

#[tokio::test]
async fn a_grant_keeps_its_version() {
    // The operator allows 0.2 only.
    let host = host(Policy::new().allow(Grant::interface("example:filters/app@0.2.0")))
        .build()
        .unwrap();
    let plugin = host
        .load_bytes(
            "filter",
            plugin_of("0.2.1"),
            Some(manifest("0.2.0", "example:filters/app")),
        )
        .await
        .unwrap();
    let granted: Vec<String> = plugin
        .grants()
        .permissions()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(granted, ["interface example:filters/app@0.2.0"]);

    let err = host
        .load_bytes(
            "filter",
            plugin_of("0.3.0"),
            Some(manifest("0.3.0", "example:filters/app@0.3.0")),
        )
        .await
        .unwrap_err();
    let Error::PermissionDenied {
        permission, party, ..
    } = &err
    else {
        panic!("expected PermissionDenied, got {err:?}");
    };
    assert_eq!(party, &Party::Operator);
    assert_eq!(
        permission,
        &Permission::Interface {
            name: "example:filters/app@0.3.0".into()
        }
    );
    // A request for 0.2 does not cover an import of 0.3 either.
    let host = host_all();
    let err = host
        .load_bytes(
            "filter",
            plugin_of("0.3.0"),
            Some(manifest("0.3.0", "example:filters/app@0.2.0")),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
}

fn host_all() -> Host<()> {
    host(Policy::new().allow(Grant::interface("*")))
        .build()
        .unwrap()
}

#[tokio::test]
async fn consent_for_one_version_is_asked_again_for_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let store = GrantStore::at(dir.path().join("grants.toml"));
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let consent = Consent::none().remembered(store).prompt(move |request| {
        counter.fetch_add(1, Ordering::SeqCst);
        ConsentAnswer::all(request, true)
    });
    let host = host(Policy::new().allow(Grant::interface("example:filters/app")))
        .consent(consent)
        .build()
        .unwrap();
    let load = |version: &'static str| {
        let host = host.clone();
        async move {
            let manifest = manifest(version, &format!("example:filters/app@{version}"));
            host.load_bytes("filter", plugin_of(version), Some(manifest))
                .await
                .unwrap()
        }
    };
    load("0.2.0").await;
    load("0.2.0").await;
    assert_eq!(asked.load(Ordering::SeqCst), 1, "remembered for 0.2.0");
    load("0.3.0").await;
    assert_eq!(asked.load(Ordering::SeqCst), 2, "0.3.0 is asked about");
}

#[test]
fn invalid_names_and_versions_are_refused_when_the_host_is_built() {
    let link = |_: &mut Linker<StoreData<()>>| Ok(());
    for interface in [
        HostInterface::new("not an interface", link),
        HostInterface::new("example:filters/app", link).version("two", link),
    ] {
        let err = HostBuilder::with_data(|| ())
            .interface(interface)
            .build()
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidSetting {
                    what: "host interface",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    let err = Host::builder()
        .world("example:filters")
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidSetting { what: "world", .. }),
        "{err:?}"
    );
}
