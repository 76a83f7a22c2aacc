//! A connection's SQL functions, kept in step with a plugin set.
//!
//! Each plugin is registered under its name for any number of arguments.
//! The function looks up the version serving at every call and keeps one
//! instance of it between calls, so a row costs a call, not an
//! instantiation; a new version swapped in by the set, or a call that
//! failed, gets a fresh instance. Every call runs under the plugin's limits,
//! and whatever stops it becomes SQLite's error for the statement.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;
use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::Value as SqlValue;
use wasmplug::wasmtime::Store;
use wasmplug::wasmtime::component::{Instance as ComponentInstance, ResourceAny};
use wasmplug::{Instance, Plugin, PluginSet, StoreData};

use crate::bindings::{Value, aggregate, scalar};
use crate::value;
use crate::{AGGREGATE_WORLD, SCALAR_WORLD};

/// What a plugin's world makes of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scalar,
    Aggregate,
}

impl Kind {
    /// The kind of function `plugin` is, from the world its manifest names.
    pub fn of(plugin: &Plugin) -> Option<Kind> {
        let world = plugin.manifest()?.plugin.world.as_deref()?;
        let unversioned = |w: &str| w.split('@').next().unwrap_or_default().to_string();
        if unversioned(world) == unversioned(SCALAR_WORLD) {
            Some(Kind::Scalar)
        } else if unversioned(world) == unversioned(AGGREGATE_WORLD) {
            Some(Kind::Aggregate)
        } else {
            None
        }
    }
}

/// The functions registered on a connection, from a plugin set.
pub struct Functions {
    set: PluginSet,
    registered: BTreeMap<String, Kind>,
    /// Plugins already reported as no function, so each is said once.
    reported: BTreeSet<String>,
}

impl Functions {
    pub fn new(set: PluginSet) -> Self {
        Functions {
            set,
            registered: BTreeMap::new(),
            reported: BTreeSet::new(),
        }
    }

    /// The set the functions come from.
    pub fn set(&self) -> &PluginSet {
        &self.set
    }

    /// The functions registered now, by name.
    pub fn registered(&self) -> &BTreeMap<String, Kind> {
        &self.registered
    }

    /// Registers each plugin of the set that is a function and is not yet
    /// registered as the kind it is, and removes the functions whose
    /// plugins are gone or disabled. Cheap when nothing changed: call it
    /// before every statement. Returns what should be said about plugins
    /// that are not functions, once each.
    pub fn sync(&mut self, conn: &Connection) -> rusqlite::Result<Vec<String>> {
        let mut wanted = BTreeMap::new();
        let mut notes = Vec::new();
        for plugin in self.set.plugins() {
            match Kind::of(&plugin) {
                Some(kind) => {
                    wanted.insert(plugin.name().to_string(), kind);
                }
                None if self.reported.insert(plugin.name().to_string()) => notes.push(format!(
                    "plugin `{}` is not a SQL function: its manifest names neither {SCALAR_WORLD} \
                     nor {AGGREGATE_WORLD}",
                    plugin.name()
                )),
                None => {}
            }
        }
        let stale: Vec<String> = self
            .registered
            .iter()
            .filter(|(name, kind)| wanted.get(*name) != Some(kind))
            .map(|(name, _)| name.clone())
            .collect();
        for name in stale {
            conn.remove_function(name.as_str(), -1)?;
            self.registered.remove(&name);
        }
        for (name, kind) in wanted {
            if self.registered.contains_key(&name) {
                continue;
            }
            let flags = FunctionFlags::SQLITE_UTF8;
            match kind {
                Kind::Scalar => {
                    let function = Current::new(&self.set, &name, |store, instance| {
                        scalar::Scalar::new(store, instance)
                    });
                    conn.create_scalar_function(name.as_str(), -1, flags, move |ctx| {
                        call_scalar(&function, ctx)
                    })?;
                }
                Kind::Aggregate => {
                    let function = Current::new(&self.set, &name, |store, instance| {
                        aggregate::Aggregate::new(store, instance)
                    });
                    conn.create_aggregate_function(name.as_str(), -1, flags, function)?;
                }
            }
            self.registered.insert(name, kind);
        }
        Ok(notes)
    }
}

/// Makes typed bindings for an instance.
type Bind<B> = fn(&mut Store<StoreData<()>>, &ComponentInstance) -> wasmplug::wasmtime::Result<B>;

/// An instance of the version serving, kept between calls, with its
/// bindings.
struct Kept<B> {
    plugin: Plugin,
    instance: Instance,
    bindings: B,
}

/// The function `name` of a set, and the instance it keeps.
struct Current<B> {
    set: PluginSet,
    name: String,
    bind: Bind<B>,
    kept: Mutex<Option<Arc<Mutex<Kept<B>>>>>,
}

impl<B> Current<B> {
    fn new(set: &PluginSet, name: &str, bind: Bind<B>) -> Self {
        Current {
            set: set.clone(),
            name: name.to_string(),
            bind,
            kept: Mutex::new(None),
        }
    }

    /// The kept instance of the version serving now: the one kept, unless
    /// the set swapped in another version or its last call failed.
    fn kept(&self) -> rusqlite::Result<Arc<Mutex<Kept<B>>>> {
        let plugin = self.set.get(&self.name).ok_or_else(|| {
            user_error(format!(
                "the plugin of function `{}` was removed or disabled",
                self.name
            ))
        })?;
        let mut current = lock(&self.kept);
        if let Some(kept) = current.as_ref() {
            let usable = {
                let kept = lock(kept);
                kept.plugin.is_same(&plugin) && !kept.instance.is_discarded()
            };
            if usable {
                return Ok(kept.clone());
            }
        }
        let mut instance = plugin.instantiate_blocking().map_err(plugin_error)?;
        let bindings = instance.bind(self.bind).map_err(plugin_error)?;
        let kept = Arc::new(Mutex::new(Kept {
            plugin,
            instance,
            bindings,
        }));
        *current = Some(kept.clone());
        Ok(kept)
    }
}

fn call_scalar(
    function: &Current<scalar::Scalar>,
    ctx: &Context<'_>,
) -> rusqlite::Result<SqlValue> {
    let args = arguments(ctx);
    let kept = function.kept()?;
    let mut kept = lock(&kept);
    let Kept {
        plugin,
        instance,
        bindings,
    } = &mut *kept;
    let answer = instance
        .call_blocking("call", |store| bindings.call_call(store, &args))
        .map_err(plugin_error)?;
    answer
        .map(value::result)
        .map_err(|message| guest_error(plugin, message))
}

/// One group of rows an aggregate function folds: a `group` resource in
/// the instance that made it.
struct Group {
    kept: Arc<Mutex<Kept<aggregate::Aggregate>>>,
    handle: ResourceAny,
}

impl Aggregate<Group, SqlValue> for Current<aggregate::Aggregate> {
    fn init(&self, _ctx: &mut Context<'_>) -> rusqlite::Result<Group> {
        let kept = self.kept()?;
        let handle = {
            let mut guard = lock(&kept);
            let Kept {
                instance, bindings, ..
            } = &mut *guard;
            let group = bindings.sqlplug_functions_accumulate().group();
            instance
                .call_blocking("[constructor]group", |store| group.call_constructor(store))
                .map_err(plugin_error)?
        };
        Ok(Group { kept, handle })
    }

    fn step(&self, ctx: &mut Context<'_>, group: &mut Group) -> rusqlite::Result<()> {
        let args = arguments(ctx);
        let mut kept = lock(&group.kept);
        let Kept {
            plugin,
            instance,
            bindings,
        } = &mut *kept;
        let accumulate = bindings.sqlplug_functions_accumulate().group();
        let answer = instance
            .call_blocking("[method]group.step", |store| {
                accumulate.call_step(store, group.handle, &args)
            })
            .map_err(plugin_error)?;
        answer.map_err(|message| guest_error(plugin, message))
    }

    /// A group of no rows is a fresh group's answer.
    fn finalize(&self, ctx: &mut Context<'_>, group: Option<Group>) -> rusqlite::Result<SqlValue> {
        let group = match group {
            Some(group) => group,
            None => self.init(ctx)?,
        };
        let mut kept = lock(&group.kept);
        let Kept {
            plugin,
            instance,
            bindings,
        } = &mut *kept;
        let accumulate = bindings.sqlplug_functions_accumulate().group();
        let answer = instance.call_blocking("[method]group.finish", |store| {
            accumulate.call_finish(store, group.handle)
        });
        if !instance.is_discarded() {
            // The group's memory goes back to the plugin; a failure here
            // discards the instance, and the next call gets a fresh one.
            let _ = instance.call_blocking("[resource-drop]group", |store| {
                group.handle.resource_drop(store)
            });
        }
        answer
            .map_err(plugin_error)?
            .map(value::result)
            .map_err(|message| guest_error(plugin, message))
    }
}

fn arguments(ctx: &Context<'_>) -> Vec<Value> {
    (0..ctx.len())
        .map(|i| value::argument(ctx.get_raw(i)))
        .collect()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A failed call, as the statement's error: its message names the plugin
/// and what stopped it.
fn plugin_error(error: wasmplug::Error) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(Box::new(error))
}

/// The plugin's `err` answer, as the statement's error.
fn guest_error(plugin: &Plugin, message: String) -> rusqlite::Error {
    plugin_error(wasmplug::Error::Guest {
        plugin: plugin.name().to_string(),
        message,
    })
}

fn user_error(message: String) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(message.into())
}
