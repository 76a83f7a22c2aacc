//! Standard input, output and error (`wasi:cli/stdin`, `stdout`, `stderr`
//! and the `terminal-*` interfaces).
//!
//! Output is always given. By default it is captured: each line becomes a
//! log event labelled with the plugin's name, escaped, so a plugin can never
//! scribble over the host's own output. `Inherit` passes it to the host's
//! own stdout and stderr, as `wasmplug run` does, through a buffer drained
//! in the background: a guest writing to a pipe nobody reads waits in a
//! pollable, where the call's deadline can stop it. Either way the call's
//! output budget is charged what the host writes, and the last lines of
//! stderr are kept to explain a crash. Standard input needs the `stdin`
//! permission.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime::component::Linker;
use wasmtime_wasi::cli::{AsyncStdoutStream, IsTerminal, StdoutStream, WasiCli, WasiCliView};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

use super::{
    Capability, Import, ImportStatus, InstanceSetup, LinkMode, PluginCapability, is_one_of,
};
use crate::error::Result;
use crate::limits::{CallBudget, OutputLimitReached};
use crate::notice;
use crate::permission::Permission;
use crate::policy::Grants;
use crate::store::StoreData;
use crate::telemetry::PluginLabel;
use crate::text::escape_control;

/// Where a plugin's stdout and stderr go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StdioMode {
    /// One log event per line, at info (stdout) and warn (stderr) level.
    #[default]
    Log,
    /// Straight to the host process's stdout and stderr.
    Inherit,
}

pub(crate) struct Stdio {
    mode: StdioMode,
}

impl Stdio {
    pub(crate) fn new(mode: StdioMode) -> Self {
        Stdio { mode }
    }
}

const INTERFACES: &[&str] = &[
    "stdin",
    "stdout",
    "stderr",
    "terminal-input",
    "terminal-output",
    "terminal-stdin",
    "terminal-stdout",
    "terminal-stderr",
];

impl<T: Send + 'static> Capability<T> for Stdio {
    fn name(&self) -> &'static str {
        "stdio"
    }

    fn key(&self) -> Option<&'static str> {
        Some("stdin")
    }

    fn whole(&self) -> Option<Permission> {
        Some(Permission::Stdin)
    }

    fn provides(&self, import: &Import) -> bool {
        is_one_of(import, "wasi:cli", INTERFACES)
    }

    fn for_plugin(&self, _plugin: &str, grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        Ok(Box::new(PluginStdio {
            mode: self.mode,
            stdin: grants.contains(&Permission::Stdin),
        }))
    }
}

struct PluginStdio {
    mode: StdioMode,
    stdin: bool,
}

impl<T: Send + 'static> PluginCapability<T> for PluginStdio {
    fn import_status(&self, import: &Import) -> ImportStatus {
        match import.interface.as_str() {
            "wasi:cli/stdin" | "wasi:cli/terminal-stdin" => {
                ImportStatus::whole(self.stdin, Permission::Stdin, "stdin")
            }
            _ => ImportStatus::Always,
        }
    }

    fn waits(&self) -> Option<&'static str> {
        if self.stdin {
            Some("stdin")
        } else if self.mode == StdioMode::Inherit {
            Some("output to the host's stdout and stderr")
        } else {
            None
        }
    }

    fn link(
        &self,
        linker: &mut Linker<StoreData<T>>,
        mode: LinkMode,
        _imports: &[Import],
    ) -> wasmtime::Result<()> {
        use wasmtime_wasi::p2::bindings::cli as p2;
        let cli = <StoreData<T> as WasiCliView>::cli;
        p2::stdin::add_to_linker::<_, WasiCli>(linker, cli)?;
        p2::stdout::add_to_linker::<_, WasiCli>(linker, cli)?;
        p2::stderr::add_to_linker::<_, WasiCli>(linker, cli)?;
        p2::terminal_input::add_to_linker::<_, WasiCli>(linker, cli)?;
        p2::terminal_output::add_to_linker::<_, WasiCli>(linker, cli)?;
        p2::terminal_stdin::add_to_linker::<_, WasiCli>(linker, cli)?;
        p2::terminal_stdout::add_to_linker::<_, WasiCli>(linker, cli)?;
        p2::terminal_stderr::add_to_linker::<_, WasiCli>(linker, cli)?;
        if mode.concurrent {
            use wasmtime_wasi::p3::bindings::cli as p3;
            p3::stdin::add_to_linker::<_, WasiCli>(linker, cli)?;
            p3::stdout::add_to_linker::<_, WasiCli>(linker, cli)?;
            p3::stderr::add_to_linker::<_, WasiCli>(linker, cli)?;
            p3::terminal_input::add_to_linker::<_, WasiCli>(linker, cli)?;
            p3::terminal_output::add_to_linker::<_, WasiCli>(linker, cli)?;
            p3::terminal_stdin::add_to_linker::<_, WasiCli>(linker, cli)?;
            p3::terminal_stdout::add_to_linker::<_, WasiCli>(linker, cli)?;
            p3::terminal_stderr::add_to_linker::<_, WasiCli>(linker, cli)?;
        }
        Ok(())
    }

    fn prepare(&self, setup: &mut InstanceSetup<'_>) -> Result<()> {
        setup
            .wasi
            .stdout(setup.stdout.clone())
            .stderr(setup.stderr.clone());
        if self.stdin {
            setup.wasi.inherit_stdin();
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    Stdout,
    Stderr,
}

/// How many stderr lines are kept for crash reports: enough for a Python
/// traceback's last frames, its exception and the runtime's own lines.
const TAIL_LINES: usize = 16;
/// A line longer than this is emitted in pieces rather than buffered.
const MAX_LINE: usize = 4096;
/// What a captured line costs beyond its text: the level, the plugin's
/// name and the field names a log line carries.
const LINE_OVERHEAD: usize = 32;
/// The buffer between a guest and the host's own stdout in `Inherit` mode.
const INHERIT_BUFFER: usize = 64 * 1024;

/// Emits one line of a plugin's output as a log event, labelled with the
/// plugin's name and version; with no `tracing` subscriber to take it, to
/// the host's stderr instead (info and above), so that it is never lost.
pub(crate) fn emit(label: &PluginLabel, level: tracing::Level, stream: &str, text: &str) {
    let text = escape_control(text);
    let (plugin, version) = (&*label.name, &*label.version);
    if notice::unheard() {
        if level <= tracing::Level::INFO {
            let version = if version.is_empty() {
                String::new()
            } else {
                format!(" {version}")
            };
            let kind = if stream == "log" {
                format!("log {}", level.as_str().to_lowercase())
            } else {
                stream.to_string()
            };
            notice::to_stderr(&format!("{plugin}{version} [{kind}]: {text}"));
        }
        return;
    }
    match level {
        tracing::Level::TRACE => {
            tracing::trace!(target: "wasmplug::guest", plugin, version, stream, "{text}")
        }
        tracing::Level::DEBUG => {
            tracing::debug!(target: "wasmplug::guest", plugin, version, stream, "{text}")
        }
        tracing::Level::INFO => {
            tracing::info!(target: "wasmplug::guest", plugin, version, stream, "{text}")
        }
        tracing::Level::WARN => {
            tracing::warn!(target: "wasmplug::guest", plugin, version, stream, "{text}")
        }
        tracing::Level::ERROR => {
            tracing::error!(target: "wasmplug::guest", plugin, version, stream, "{text}")
        }
    }
}

/// What a captured line of `len` bytes costs the budget: its text and its
/// labels.
pub(crate) fn line_cost(label: &PluginLabel, len: usize) -> usize {
    len + label.name.len() + label.version.len() + LINE_OVERHEAD
}

/// One of a plugin's output channels; cheap to clone, all clones share state.
#[derive(Clone)]
pub(crate) struct PluginOutput {
    inner: Arc<OutputState>,
}

struct OutputState {
    label: PluginLabel,
    channel: Channel,
    budget: Arc<CallBudget>,
    /// In `Inherit` mode, the host's own stream behind a buffer.
    host: Option<AsyncStdoutStream>,
    pending: Mutex<Vec<u8>>,
    tail: Mutex<VecDeque<String>>,
}

impl PluginOutput {
    /// A channel of `plugin`'s output. In `Inherit` mode this starts the
    /// task that drains it, so it must be made inside a tokio runtime.
    pub(crate) fn new(
        label: PluginLabel,
        channel: Channel,
        mode: StdioMode,
        budget: Arc<CallBudget>,
    ) -> Self {
        let host = (mode == StdioMode::Inherit).then(|| match channel {
            Channel::Stdout => AsyncStdoutStream::new(INHERIT_BUFFER, tokio::io::stdout()),
            Channel::Stderr => AsyncStdoutStream::new(INHERIT_BUFFER, tokio::io::stderr()),
        });
        PluginOutput {
            inner: Arc::new(OutputState {
                label,
                channel,
                budget,
                host,
                pending: Mutex::new(Vec::new()),
                tail: Mutex::new(VecDeque::new()),
            }),
        }
    }

    /// Charges and takes bytes the guest wrote; in `Inherit` mode the caller
    /// forwards them to the host's stream.
    fn take(&self, bytes: &[u8]) -> std::result::Result<(), OutputLimitReached> {
        let state = &self.inner;
        if state.host.is_some() {
            if !state.budget.charge_output(bytes.len()) {
                return Err(OutputLimitReached);
            }
        } else {
            let mut pending = state.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.extend_from_slice(bytes);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                self.emit_line(&line[..end])?;
            }
            if pending.len() > MAX_LINE {
                let line = std::mem::take(&mut *pending);
                self.emit_line(&line)?;
            }
        }
        if state.channel == Channel::Stderr {
            self.remember(bytes);
        }
        Ok(())
    }

    /// Emits a partial last line, at the end of a call.
    pub(crate) fn flush_pending(&self) {
        let line = std::mem::take(
            &mut *self
                .inner
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if !line.is_empty() {
            // The call is over: a line past the budget is still shown.
            let _ = self.emit_line(&line);
        }
    }

    /// The last lines written to this channel.
    pub(crate) fn tail(&self) -> Vec<String> {
        self.inner
            .tail
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    fn emit_line(&self, line: &[u8]) -> std::result::Result<(), OutputLimitReached> {
        let state = &self.inner;
        if !state
            .budget
            .charge_output(line_cost(&state.label, line.len()))
        {
            return Err(OutputLimitReached);
        }
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        match state.channel {
            Channel::Stdout => emit(&state.label, tracing::Level::INFO, "stdout", text),
            Channel::Stderr => emit(&state.label, tracing::Level::WARN, "stderr", text),
        }
        Ok(())
    }

    fn remember(&self, bytes: &[u8]) {
        let mut tail = self
            .inner
            .tail
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let text = String::from_utf8_lossy(bytes);
        let mut pieces = text.split('\n');
        if let (Some(first), Some(last)) = (pieces.next(), tail.back_mut()) {
            if last.len() < MAX_LINE {
                last.push_str(first);
            }
        } else if let Some(first) = text.split('\n').next() {
            tail.push_back(first.to_string());
        }
        for piece in pieces {
            tail.push_back(piece.to_string());
            if tail.len() > TAIL_LINES {
                tail.pop_front();
            }
        }
    }
}

impl IsTerminal for PluginOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for PluginOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(OutputHandle {
            output: self.clone(),
            host: self.inner.host.as_ref().map(StdoutStream::p2_stream),
        })
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(AsyncOutput {
            output: self.clone(),
            host: self
                .inner
                .host
                .as_ref()
                .map(|host| Box::into_pin(host.async_stream())),
        })
    }
}

/// The WASI 0.2 stream a guest writes to.
struct OutputHandle {
    output: PluginOutput,
    host: Option<Box<dyn OutputStream>>,
}

fn limit_reached(e: OutputLimitReached) -> StreamError {
    StreamError::Trap(wasmtime::Error::new(e))
}

#[wasmtime_wasi::async_trait]
impl Pollable for OutputHandle {
    async fn ready(&mut self) {
        if let Some(host) = &mut self.host {
            host.ready().await;
        }
    }
}

impl OutputStream for OutputHandle {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.output.take(&bytes).map_err(limit_reached)?;
        match &mut self.host {
            Some(host) => host.write(bytes),
            None => Ok(()),
        }
    }

    fn flush(&mut self) -> StreamResult<()> {
        match &mut self.host {
            Some(host) => host.flush(),
            None => Ok(()),
        }
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        match &mut self.host {
            Some(host) => host.check_write(),
            None => Ok(64 * 1024),
        }
    }
}

/// The WASI 0.3 stream a guest writes to.
struct AsyncOutput {
    output: PluginOutput,
    host: Option<Pin<Box<dyn AsyncWrite + Send + Sync>>>,
}

impl AsyncWrite for AsyncOutput {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        match &mut this.host {
            // Charged for what the host's stream took, once it took it.
            Some(host) => match host.as_mut().poll_write(cx, buf) {
                Poll::Ready(Ok(written)) => Poll::Ready(
                    this.output
                        .take(&buf[..written])
                        .map(|()| written)
                        .map_err(std::io::Error::other),
                ),
                other => other,
            },
            None => Poll::Ready(
                this.output
                    .take(buf)
                    .map(|()| buf.len())
                    .map_err(std::io::Error::other),
            ),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.host {
            Some(host) => host.as_mut().poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.host {
            Some(host) => host.as_mut().poll_shutdown(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;

    fn label() -> PluginLabel {
        PluginLabel {
            name: "p".into(),
            version: "1.0.0".into(),
        }
    }

    fn output(limit: u64) -> PluginOutput {
        let budget = Arc::new(CallBudget::default());
        budget.reset(&Limits {
            output: limit,
            ..Limits::default()
        });
        PluginOutput::new(label(), Channel::Stderr, StdioMode::Log, budget)
    }

    #[test]
    fn keeps_the_last_stderr_lines() {
        let out = output(1 << 20);
        out.take(b"first\nsec").unwrap();
        out.take(b"ond\nthird").unwrap();
        assert_eq!(out.tail(), ["first", "second", "third"]);
        for i in 0..20 {
            out.take(format!("line {i}\n").as_bytes()).unwrap();
        }
        assert_eq!(out.tail().len(), TAIL_LINES);
    }

    #[test]
    fn each_line_costs_what_the_host_writes() {
        let per_line = line_cost(&label(), 0) as u64;
        let out = output(per_line * 3);
        // Three empty lines, one byte each from the guest, fill the budget.
        for _ in 0..3 {
            out.take(b"\n").unwrap();
        }
        assert!(out.take(b"\n").is_err());
    }

    #[test]
    fn refuses_writes_past_the_budget() {
        let out = output(line_cost(&label(), 10) as u64);
        out.take(b"0123456789\n").unwrap();
        assert!(out.take(b"x\n").is_err());
    }
}
