//! What the command shows of a plugin's work: each call's record and the
//! plugin's statistics (`call --stats`), and a Prometheus text endpoint for
//! the commands that run long (`run --metrics-addr`).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use wasmplug::{CallRecord, HostBuilder, PluginStats};

/// The records of the calls a host made, kept to be shown.
#[derive(Clone, Default)]
pub struct Records(Arc<Mutex<Vec<String>>>);

impl Records {
    /// `builder` with every call recorded here.
    pub fn observe(&self, builder: HostBuilder) -> HostBuilder {
        let records = self.0.clone();
        builder.observe(move |record| {
            records
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line(record));
        })
    }

    /// The records and the plugin's statistics, for stderr.
    pub fn report(&self, plugin: &str, stats: &PluginStats) -> String {
        let mut text = format!("stats for {plugin}:\n");
        for record in self.0.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            let _ = writeln!(text, "  {record}");
        }
        let _ = write!(
            text,
            "  peak memory {:.1} MiB; {} calls, {} failed; output dropped {} bytes",
            stats.peak_memory as f64 / (1 << 20) as f64,
            stats.calls,
            stats.failures(),
            stats.output_dropped
        );
        text
    }
}

/// One call: its export, how it ended, its time, CPU ticks and fuel.
fn line(record: &CallRecord<'_>) -> String {
    let outcome = record.outcome.map_or_else(|e| e.kind(), |()| "ok");
    let mut line = format!(
        "{:<16} {outcome:<8} {:>9.3} ms  cpu {} ms",
        record.export,
        record.duration.as_secs_f64() * 1e3,
        record.cpu_ticks * 10
    );
    if let Some(fuel) = record.fuel {
        let _ = write!(line, "  fuel {fuel}");
    }
    line
}

/// `builder` with metrics recorded and served at `http://ADDR/metrics`
/// when the command was given an address.
pub fn with_metrics(
    builder: wasmplug::HostBuilder,
    addr: Option<SocketAddr>,
) -> anyhow::Result<wasmplug::HostBuilder> {
    match addr {
        Some(addr) => {
            serve_metrics(addr)?;
            Ok(builder.metrics(true))
        }
        None => Ok(builder),
    }
}

/// Serves the host's metrics in Prometheus's text format at
/// `http://ADDR/metrics` while the command runs.
/// Durations are histograms with fixed buckets (50 µs to 10 s), which
/// Prometheus can aggregate across processes, rather than summaries.
fn serve_metrics(addr: SocketAddr) -> anyhow::Result<()> {
    const SECONDS: [f64; 16] = [
        0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
        0.5, 1.0, 2.5, 10.0,
    ];
    let failed = |e: &dyn std::fmt::Display| anyhow::anyhow!("cannot serve metrics on {addr}: {e}");
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets(&SECONDS)
        .map_err(|e| failed(&e))?
        .install()
        .map_err(|e| failed(&e))
}
