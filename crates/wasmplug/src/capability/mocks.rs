//! Mocks: fixed answers standing in for the functions of an interface the
//! host does not provide, so that a plugin can be tried without its host
//! (`wasmplug call --mock lint:host/env#config='some("strict")'`).
//!
//! Each mocked interface is linked whole from the plugin's own import of
//! it: a function with an answer returns it on every call; any other
//! function of the interface fails the call with an error naming it. A
//! mock reaches nothing outside the sandbox, so it needs no permission, and
//! it answers at once, so plugins using only mocks can take blocking calls.
//! Answers are WAVE text, checked against the function's result type when
//! the plugin is linked.
//!
//! A host can also stand in for every non-WASI interface nothing else
//! provides, each function failing the call: a tool that prepares plugins
//! for another application (`wasmplug install`) checks and compiles them
//! without that application's interfaces.

use std::fmt;
use std::sync::Arc;

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Linker, Val};

use super::{Capability, Import, ImportStatus, LinkMode, PluginCapability};
use crate::error::{Error, Result};
use crate::names::WitName;
use crate::policy::Grants;
use crate::store::StoreData;

/// A fixed answer for one imported function, e.g. from
/// `lint:host/env#config=some("strict")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mock {
    interface: WitName,
    function: String,
    /// The function's result, in WAVE; empty for a function without one.
    answer: String,
}

impl Mock {
    /// A mock of `function` (`ns:pkg/interface#name`, the interface with or
    /// without its version) answering `answer`, WAVE text of the function's
    /// result type.
    pub fn new(function: &str, answer: &str) -> Result<Mock> {
        let invalid = |reason: String| Error::InvalidSetting {
            what: "mock",
            value: format!("{function}={answer}"),
            reason,
        };
        let (interface, name) = function
            .split_once('#')
            .ok_or_else(|| invalid("name the function as `ns:pkg/interface#function`".into()))?;
        let interface = WitName::parse(interface).map_err(invalid)?;
        if name.is_empty() {
            return Err(invalid("the function's name is missing after `#`".into()));
        }
        Ok(Mock {
            interface,
            function: name.to_string(),
            answer: answer.to_string(),
        })
    }

    /// `IFACE#FUNC=WAVE`, as the command line takes it.
    pub fn parse(spec: &str) -> Result<Mock> {
        let (function, answer) = spec.split_once('=').ok_or_else(|| Error::InvalidSetting {
            what: "mock",
            value: spec.to_string(),
            reason: "write it as IFACE#FUNC=WAVE, e.g. `lint:host/env#config=none`".into(),
        })?;
        Mock::new(function, answer)
    }

    fn mocks(&self, import: &WitName, function: &str) -> bool {
        self.interface.matches(import) && self.function == function
    }
}

impl fmt::Display for Mock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}={}", self.interface, self.function, self.answer)
    }
}

/// The error a function of a mocked interface without an answer raises.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{interface}#{function}` was called, but no mock answers it; give it an answer \
     (`{interface}#{function}=VALUE`) or provide the interface"
)]
pub(crate) struct NotMocked {
    interface: String,
    function: String,
}

pub(crate) struct Mocks {
    mocks: Arc<[Mock]>,
    stand_ins: bool,
}

impl Mocks {
    pub(crate) fn new(mocks: Vec<Mock>, stand_ins: bool) -> Self {
        Mocks {
            mocks: mocks.into(),
            stand_ins,
        }
    }
}

/// Whether a mock, or else a stand-in, covers the interface `name`.
fn covers(mocks: &[Mock], stand_ins: bool, name: &WitName) -> bool {
    mocks.iter().any(|m| m.interface.matches(name))
        || (stand_ins && !name.unversioned().starts_with("wasi:"))
}

impl<T: Send + 'static> Capability<T> for Mocks {
    fn name(&self) -> &'static str {
        "mocks"
    }

    /// An interface some mock names, in a matching version, or any
    /// non-WASI one with stand-ins.
    fn provides(&self, import: &Import) -> bool {
        !import.types_only
            && WitName::parse(&import.name)
                .is_ok_and(|name| covers(&self.mocks, self.stand_ins, &name))
    }

    fn for_plugin(&self, _plugin: &str, _grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        Ok(Box::new(PluginMocks {
            mocks: self.mocks.clone(),
            stand_ins: self.stand_ins,
        }))
    }
}

struct PluginMocks {
    mocks: Arc<[Mock]>,
    stand_ins: bool,
}

impl<T: Send + 'static> PluginCapability<T> for PluginMocks {
    fn import_status(&self, _import: &Import) -> ImportStatus {
        ImportStatus::Mocked
    }

    /// Each function of each mocked import: its answer, checked against
    /// its result type, or [`NotMocked`].
    fn link(
        &self,
        linker: &mut Linker<StoreData<T>>,
        _mode: LinkMode,
        imports: &[Import],
    ) -> wasmtime::Result<()> {
        let engine = linker.engine().clone();
        for import in imports {
            let Ok(name) = WitName::parse(&import.name) else {
                continue;
            };
            if !covers(&self.mocks, self.stand_ins, &name) {
                continue;
            }
            let Some(ComponentItem::ComponentInstance(instance)) = &import.ty else {
                continue;
            };
            let functions: Vec<&str> = instance.exports(&engine).map(|(f, _)| f).collect();
            let unknown = self
                .mocks
                .iter()
                .filter(|m| m.interface.matches(&name))
                .find(|m| !functions.contains(&m.function.as_str()));
            if let Some(mock) = unknown {
                wasmtime::bail!(
                    "the mock of `{}#{}`: `{}` has no function `{}`; it has {}",
                    mock.interface,
                    mock.function,
                    import.name,
                    mock.function,
                    functions.join(", ")
                );
            }
            let mut linked = linker.instance(&import.name)?;
            for (function, item) in instance.exports(&engine) {
                let func = match item.ty {
                    ComponentItem::ComponentFunc(func) => func,
                    ComponentItem::Type(_) => continue,
                    _ => wasmtime::bail!(
                        "`{}` exports `{function}`, which a mock cannot stand in for; \
                         provide the interface instead",
                        import.name
                    ),
                };
                let answer = match self.mocks.iter().find(|m| m.mocks(&name, function)) {
                    Some(mock) => Some(answer(mock, &func)?),
                    None => None,
                };
                let (interface, function) = (import.name.clone(), function.to_string());
                linked.func_new(&function.clone(), move |_, _, _, results| match &answer {
                    Some(value) => {
                        if let Some(slot) = results.first_mut() {
                            *slot = value.clone();
                        }
                        Ok(())
                    }
                    None => Err(wasmtime::Error::new(NotMocked {
                        interface: interface.clone(),
                        function: function.clone(),
                    })),
                })?;
            }
        }
        Ok(())
    }
}

/// The mock's answer as a value of the function's result type.
fn answer(mock: &Mock, func: &wasmtime::component::types::ComponentFunc) -> wasmtime::Result<Val> {
    let results: Vec<_> = func.results().collect();
    let label = format!("{}#{}", mock.interface, mock.function);
    match results.as_slice() {
        [] => Ok(Val::Tuple(Vec::new())),
        [ty] => crate::values::parse_wave(&label, ty, &mock.answer).map_err(|e| {
            let reason = match e {
                Error::Argument { reason, .. } => reason,
                other => other.to_string(),
            };
            wasmtime::Error::msg(format!("the mock answer for `{label}`: {reason}"))
        }),
        _ => wasmtime::bail!("`{label}` returns several values, which a mock cannot give"),
    }
}
