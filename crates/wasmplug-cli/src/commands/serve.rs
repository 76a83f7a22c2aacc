//! `wasmplug serve`: serve HTTP with a `wasi:http/proxy` component, as
//! `wasmtime serve` does, under the plugin's grants and limits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use wasmplug::{HttpHandler, ServeOptions, StdioMode};

use crate::options::{Defaults, LoadOptions};

/// Serve HTTP requests with a component exporting wasi:http/incoming-handler.
#[derive(Debug, Args)]
pub struct Serve {
    #[command(flatten)]
    options: LoadOptions,
    /// Socket address to listen on. As with `wasmtime serve`, the default
    /// listens on every interface; use 127.0.0.1:8080 to stay local.
    #[arg(long, value_name = "SOCKADDR", default_value = "0.0.0.0:8080")]
    addr: SocketAddr,
    /// Requests handled at once (each in an instance of its own); more
    /// wait for a turn.
    #[arg(long, value_name = "N", default_value_t = ServeOptions::default().max_concurrent_requests)]
    max_concurrent_requests: usize,
    /// Serve request counts, errors and latency histograms in Prometheus's
    /// text format at http://ADDR/metrics, e.g. 127.0.0.1:9100.
    #[arg(long = "metrics-addr", value_name = "ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// The component.
    file: PathBuf,
}

impl Serve {
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let builder = self.options.host_builder(Defaults {
            stdio: StdioMode::Log,
            stdin: false,
        })?;
        let host = crate::telemetry::with_metrics(builder, self.metrics_addr)?.build()?;
        let plugin = self.options.load(&host, &self.file).await?;
        let handler = HttpHandler::new(
            plugin,
            ServeOptions::default().max_concurrent_requests(self.max_concurrent_requests),
        )?;
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", self.addr))?;
        eprintln!("Serving HTTP on http://{}/", listener.local_addr()?);
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("Finishing the requests in flight; stopping.");
        };
        handler.serve(listener, shutdown).await?;
        Ok(ExitCode::SUCCESS)
    }
}
