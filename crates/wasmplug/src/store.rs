//! What each instance's store holds: its WASI context, its limiter, the
//! plugin's context, and the embedding application's own data.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{WasiCtxView, WasiView};

use crate::capability::stdio::{PluginOutput, line_cost};
use crate::capability::{HttpState, KvView, PluginConfig, PluginKv};
use crate::limits::{CallBudget, MemoryLimiter};
use crate::telemetry::{Alive, PluginLabel, Telemetry};

/// Per-instance facts shared with host functions and output streams.
pub(crate) struct PluginContext {
    /// The plugin's counters, name and version.
    pub(crate) telemetry: Arc<Telemetry>,
    /// Counts this instance among the plugin's live ones while it lasts.
    pub(crate) _alive: Alive,
    /// Whether the host's own interfaces are linked: only they fail as the
    /// host's fault; WASI's functions fail on what the guest gave them.
    pub(crate) host_interfaces: bool,
    pub(crate) config: Arc<PluginConfig>,
    pub(crate) budget: Arc<CallBudget>,
    pub(crate) stdout: PluginOutput,
    pub(crate) stderr: PluginOutput,
}

impl PluginContext {
    /// Charges one captured line of `len` bytes at what the host writes;
    /// false once the output budget is spent.
    pub(crate) fn charge_line(&self, len: usize) -> bool {
        self.budget.charge_output(line_cost(self.label(), len))
    }

    pub(crate) fn label(&self) -> &PluginLabel {
        &self.telemetry.label
    }

    #[inline]
    pub(crate) fn name(&self) -> &str {
        &self.telemetry.label.name
    }
}

/// The data of a plugin instance's store. Host interfaces reach the
/// application's own per-instance state through [`StoreData::host_mut`].
pub struct StoreData<T> {
    /// WASI's context and resource table, with the state its preview1
    /// functions keep (a few bytes until a preview1 module uses them), so
    /// that components and preview1 modules run on the same store data.
    wasi: WasiP1Ctx,
    http: HttpState,
    keyvalue: Option<Arc<PluginKv>>,
    pub(crate) limiter: MemoryLimiter,
    context: PluginContext,
    host: T,
}

impl<T> StoreData<T> {
    pub(crate) fn new(
        wasi: WasiP1Ctx,
        http: HttpState,
        keyvalue: Option<Arc<PluginKv>>,
        limiter: MemoryLimiter,
        context: PluginContext,
        host: T,
    ) -> Self {
        StoreData {
            wasi,
            http,
            keyvalue,
            limiter,
            context,
            host,
        }
    }

    /// The application's data for this instance.
    pub fn host(&self) -> &T {
        &self.host
    }

    /// The application's data for this instance, for host interfaces.
    pub fn host_mut(&mut self) -> &mut T {
        &mut self.host
    }

    /// The name of the plugin this instance runs.
    pub fn plugin_name(&self) -> &str {
        self.context.name()
    }

    /// The resource table, for host interfaces that hand out resources.
    pub fn table(&mut self) -> &mut ResourceTable {
        self.wasi.ctx().table
    }

    /// `wasi:http`'s state beside the resource table it shares with WASI.
    pub(crate) fn http_and_table(&mut self) -> (&mut HttpState, &mut ResourceTable) {
        (&mut self.http, self.wasi.ctx().table)
    }

    /// `wasi:keyvalue` as its host functions see it.
    pub(crate) fn keyvalue_view(&mut self) -> KvView<'_> {
        KvView::new(self.wasi.ctx().table, self.keyvalue.as_deref())
    }

    /// WASI as preview1 modules see it.
    pub(crate) fn preview1(&mut self) -> &mut WasiP1Ctx {
        &mut self.wasi
    }

    #[inline]
    pub(crate) fn context(&self) -> &PluginContext {
        &self.context
    }
}

impl<T: Send> WasiView for StoreData<T> {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.wasi.ctx()
    }
}
