//! A classic plugin host: every plugin in a folder gets the same text and
//! transforms it, through typed bindings generated from the host's own WIT
//! world. Plugins may call back into the `app` interface, which the host
//! offers and its policy grants to those that request it.
//!
//! [`host`] makes the host, [`transform`] calls a plugin; the binary
//! (`src/main.rs`) runs every plugin of a folder.
//!
//! The host's API has three released versions (`wit/v0.1.0`, `v0.2.0`,
//! `v0.3.0`) and serves all of them at once, as an application does once
//! plugins are in its users' hands: one module of bindings per version, the
//! newest holding the implementation and the older ones adapting to it. A
//! plugin built against any of them runs unchanged; one built against a
//! version the host does not speak is refused at load, naming the ones it
//! does.
//!
use wasmplug::wasmtime::component::HasSelf;
use wasmplug::{Grant, Host, HostBuilder, HostInterface, Instance, Plugin, Policy, StoreData};

/// Bindings for version 0.1.0, the first release: `app.name`.
mod v0_1 {
    ::wasmplug::bindgen!({
        path: "wit/v0.1.0",
        world: "filter",
        exports: { default: async },
    });
}

/// Bindings for version 0.2.0, which added `app.about`.
mod v0_2 {
    ::wasmplug::bindgen!({
        path: "wit/v0.2.0",
        world: "filter",
        exports: { default: async },
    });
}

/// Bindings for version 0.3.0, the newest, whose `about` has a locale.
mod v0_3 {
    ::wasmplug::bindgen!({
        path: "wit/v0.3.0",
        world: "filter",
        exports: { default: async },
    });
}

use v0_1::example::filters::app as app_v0_1;
use v0_2::example::filters::app as app_v0_2;
use v0_3::example::filters::app as app_v0_3;

/// The versions of `example:filters` this host speaks, newest first.
const VERSIONS: [&str; 3] = ["0.3.0", "0.2.0", "0.1.0"];

/// What the host keeps for each plugin instance.
pub struct App {
    name: String,
    locale: String,
}

/// The newest version holds the implementation.
impl app_v0_3::Host for App {
    fn name(&mut self) -> String {
        self.name.clone()
    }

    fn about(&mut self) -> app_v0_3::AppInfo {
        app_v0_3::AppInfo {
            name: self.name.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            locale: self.locale.clone(),
        }
    }
}

/// 0.2.0 adapts to 0.3.0: its `about` has no locale.
impl app_v0_2::Host for App {
    fn name(&mut self) -> String {
        app_v0_3::Host::name(self)
    }

    fn about(&mut self) -> app_v0_2::AppInfo {
        let about = app_v0_3::Host::about(self);
        app_v0_2::AppInfo {
            name: about.name,
            version: about.version,
        }
    }
}

/// 0.1.0 adapts to 0.3.0: only `name`.
impl app_v0_1::Host for App {
    fn name(&mut self) -> String {
        app_v0_3::Host::name(self)
    }
}

/// A plugin's `transform`, through the bindings of the version of the API
/// it was built against.
pub struct Filter(Bindings);

enum Bindings {
    V0_1(v0_1::Filter),
    V0_2(v0_2::Filter),
    V0_3(v0_3::Filter),
}

impl Filter {
    /// The bindings for `instance`, of the version its plugin's manifest
    /// names. Versions below 1.0 are compatible within their minor version.
    pub fn new(instance: &mut Instance<App>) -> wasmplug::Result<Filter> {
        let version = api_version(instance.plugin()).to_string();
        Ok(Filter(
            match version.rsplit_once('.').map(|(track, _)| track) {
                Some("0.3") => Bindings::V0_3(instance.bind(|s, i| v0_3::Filter::new(s, i))?),
                Some("0.2") => Bindings::V0_2(instance.bind(|s, i| v0_2::Filter::new(s, i))?),
                _ => Bindings::V0_1(instance.bind(|s, i| v0_1::Filter::new(s, i))?),
            },
        ))
    }

    /// Calls `transform` under the plugin's limits; its `err` is
    /// [`wasmplug::Error::Guest`].
    pub async fn transform(
        &self,
        instance: &mut Instance<App>,
        text: &str,
    ) -> wasmplug::Result<String> {
        let output = instance
            .call("transform", async |store| match &self.0 {
                Bindings::V0_1(f) => f.call_transform(store, text).await,
                Bindings::V0_2(f) => f.call_transform(store, text).await,
                Bindings::V0_3(f) => f.call_transform(store, text).await,
            })
            .await?;
        output.map_err(|message| wasmplug::Error::Guest {
            plugin: instance.plugin().name().into(),
            message,
        })
    }
}

/// The host: the `app` interface at every version, granted by its policy,
/// and the worlds it speaks; `locale` is what `about` tells plugins.
pub fn host(locale: &str) -> wasmplug::Result<Host<App>> {
    // `app` answers at once, so plugins using it can take blocking calls.
    let app = HostInterface::new("example:filters/app@0.3.0", |linker| {
        app_v0_3::add_to_linker::<_, HasSelf<App>>(linker, StoreData::host_mut)
    })
    .version("0.2.0", |linker| {
        app_v0_2::add_to_linker::<_, HasSelf<App>>(linker, StoreData::host_mut)
    })
    .version("0.1.0", |linker| {
        app_v0_1::add_to_linker::<_, HasSelf<App>>(linker, StoreData::host_mut)
    })
    .synchronous();
    let policy = Policy::new().allow(Grant::interface(app.name()));
    let locale = locale.to_string();
    let mut builder = HostBuilder::with_data(move || App {
        name: "example-host".into(),
        locale: locale.clone(),
    })
    .policy(policy)
    .interface(app);
    for version in VERSIONS {
        builder = builder.world(format!("example:filters/filter@{version}"));
    }
    builder.build()
}

/// The version of the host's world the plugin was built against, from its
/// manifest; the oldest when it does not say.
pub fn api_version(plugin: &Plugin<App>) -> &str {
    plugin
        .manifest()
        .and_then(|m| m.plugin.world.as_deref())
        .and_then(|world| world.split_once('@'))
        .map_or(VERSIONS[VERSIONS.len() - 1], |(_, version)| version)
}

/// Calls the plugin's `transform` under its limits, on a fresh instance.
pub async fn transform(plugin: &Plugin<App>, text: &str) -> wasmplug::Result<String> {
    let mut instance = plugin.instantiate().await?;
    let filter = Filter::new(&mut instance)?;
    filter.transform(&mut instance, text).await
}
