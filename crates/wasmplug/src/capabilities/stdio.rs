//! Standard output and error of a plugin.
//!
//! By default both are captured: each line becomes a log event labelled with
//! the plugin's name, so a plugin can never scribble over the host's own
//! output. `Inherit` passes them through, as `wasmplug run` does. Either way
//! every byte is charged to the call's output budget, and the last lines of
//! stderr are kept to explain a crash.

use std::collections::VecDeque;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

use crate::limits::{CallBudget, OutputLimitReached};

/// Where a plugin's stdout and stderr go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StdioMode {
    /// One log event per line, at info (stdout) and warn (stderr) level.
    #[default]
    Log,
    /// Straight to the host process's stdout and stderr.
    Inherit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    Stdout,
    Stderr,
}

/// How many stderr lines are kept for crash reports.
const TAIL_LINES: usize = 8;
/// A line longer than this is emitted in pieces rather than buffered.
const MAX_LINE: usize = 4096;

/// One of a plugin's output channels; cheap to clone, all clones share state.
#[derive(Clone)]
pub(crate) struct PluginOutput {
    inner: Arc<OutputState>,
}

struct OutputState {
    plugin: Arc<str>,
    channel: Channel,
    mode: StdioMode,
    budget: Arc<CallBudget>,
    pending: Mutex<Vec<u8>>,
    tail: Mutex<VecDeque<String>>,
}

impl PluginOutput {
    pub(crate) fn new(
        plugin: Arc<str>,
        channel: Channel,
        mode: StdioMode,
        budget: Arc<CallBudget>,
    ) -> Self {
        PluginOutput {
            inner: Arc::new(OutputState {
                plugin,
                channel,
                mode,
                budget,
                pending: Mutex::new(Vec::new()),
                tail: Mutex::new(VecDeque::new()),
            }),
        }
    }

    /// Charges and forwards bytes the guest wrote.
    fn write(&self, bytes: &[u8]) -> Result<(), OutputLimitReached> {
        let state = &self.inner;
        if !state.budget.charge_output(bytes.len()) {
            return Err(OutputLimitReached);
        }
        match state.mode {
            StdioMode::Inherit => {
                let _ = match state.channel {
                    Channel::Stdout => std::io::stdout().write_all(bytes),
                    Channel::Stderr => std::io::stderr().write_all(bytes),
                };
            }
            StdioMode::Log => {
                let mut pending = state.pending.lock().unwrap_or_else(PoisonError::into_inner);
                pending.extend_from_slice(bytes);
                while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    self.emit(&line[..end]);
                }
                if pending.len() > MAX_LINE {
                    let line = std::mem::take(&mut *pending);
                    self.emit(&line);
                }
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
            self.emit(&line);
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

    fn emit(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        let plugin = &*self.inner.plugin;
        match self.inner.channel {
            Channel::Stdout => {
                tracing::info!(target: "wasmplug::guest", plugin, stream = "stdout", "{text}")
            }
            Channel::Stderr => {
                tracing::warn!(target: "wasmplug::guest", plugin, stream = "stderr", "{text}")
            }
        }
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
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for PluginOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for PluginOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        PluginOutput::write(self, &bytes).map_err(|e| StreamError::Trap(wasmtime::Error::new(e)))
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl AsyncWrite for PluginOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(
            PluginOutput::write(&self, buf)
                .map(|()| buf.len())
                .map_err(std::io::Error::other),
        )
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;

    fn output(limit: u64) -> PluginOutput {
        let budget = Arc::new(CallBudget::default());
        budget.reset(&Limits {
            output: limit,
            ..Limits::default()
        });
        PluginOutput::new("p".into(), Channel::Stderr, StdioMode::Log, budget)
    }

    #[test]
    fn keeps_the_last_stderr_lines() {
        let out = output(1 << 20);
        out.write(b"first\nsec").unwrap();
        out.write(b"ond\nthird").unwrap();
        assert_eq!(out.tail(), ["first", "second", "third"]);
        for i in 0..20 {
            out.write(format!("line {i}\n").as_bytes()).unwrap();
        }
        assert_eq!(out.tail().len(), TAIL_LINES);
    }

    #[test]
    fn refuses_writes_past_the_budget() {
        let out = output(10);
        out.write(b"0123456789").unwrap();
        assert!(out.write(b"x").is_err());
    }
}
