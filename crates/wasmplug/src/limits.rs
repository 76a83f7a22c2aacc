//! Limits applied to every call, and the store-side machinery that enforces
//! them.
//!
//! Memory and tables are capped by a [`ResourceLimiter`]; CPU time by epoch
//! interruption (or fuel, when asked for); the wall clock by a timeout around
//! the whole call; output by a byte budget shared with the stdio streams and
//! the log. Whatever trips first is recorded in [`CallBudget`], so the error
//! can be classified without looking at messages.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;
use wasmtime::ResourceLimiter;

use crate::error::{Error, Limit, Result};
use crate::telemetry::Telemetry;

/// How often the engine's epoch advances; the granularity of CPU limits.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Per-call limits. Every field is always set: a plugin never runs unlimited.
/// Start from [`Limits::default`] and change what differs:
/// `Limits::default().memory(64 << 20).timeout(Duration::from_secs(2))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Bytes of linear memory plus table space the instance may hold.
    pub memory: u64,
    /// Time the guest may spend running wasm code in one call.
    pub cpu: Duration,
    /// Wall-clock time one call may take, host calls included; counted from
    /// the call's first pause, at most one epoch tick (10 ms) in.
    pub timeout: Duration,
    /// Fuel for one call; `Some` switches to the deterministic CPU limit.
    pub fuel: Option<u64>,
    /// Bytes of the guest's stdout, stderr and log the host may write in
    /// one call, counted as the host writes them: a captured line costs its
    /// text plus its label, so a flood of empty lines is not free.
    pub output: u64,
    /// Bytes of data the host takes from the guest in one call: an
    /// export's results, or the arguments of one host call, counted as the
    /// host holds them (a byte of a `list<u8>` costs 1 through a typed or
    /// fast-lane call and about 40 as a dynamic value), so that whatever
    /// the guest returns, the host's memory stays bounded.
    pub transfer: u64,
}

impl Default for Limits {
    /// Defaults sized for real plugins, including 18 MB Python ones, while
    /// keeping a runaway plugin from hurting its host: 256 MiB of memory, 5 s
    /// of CPU, 10 s of wall clock, 1 MiB of output and 64 MiB of transfer
    /// per call, no fuel.
    fn default() -> Self {
        Limits {
            memory: 256 * MIB,
            cpu: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            fuel: None,
            output: MIB,
            transfer: 64 * MIB,
        }
    }
}

const MIB: u64 = 1024 * 1024;

/// Limits as a manifest or a policy states them: any field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LimitOverrides {
    #[serde(default, deserialize_with = "de_size")]
    pub memory: Option<u64>,
    #[serde(default, deserialize_with = "de_duration")]
    pub cpu: Option<Duration>,
    #[serde(default, deserialize_with = "de_duration")]
    pub timeout: Option<Duration>,
    #[serde(default)]
    pub fuel: Option<u64>,
    #[serde(default, deserialize_with = "de_size")]
    pub output: Option<u64>,
    #[serde(default, deserialize_with = "de_size")]
    pub transfer: Option<u64>,
}

impl Limits {
    /// With `bytes` of memory and tables.
    pub fn memory(mut self, bytes: u64) -> Self {
        self.memory = bytes;
        self
    }

    /// With `cpu` of CPU time per call.
    pub fn cpu(mut self, cpu: Duration) -> Self {
        self.cpu = cpu;
        self
    }

    /// With `timeout` of wall-clock time per call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// With the deterministic fuel limit, `units` per call.
    pub fn fuel(mut self, units: u64) -> Self {
        self.fuel = Some(units);
        self
    }

    /// With `bytes` of output per call.
    pub fn output(mut self, bytes: u64) -> Self {
        self.output = bytes;
        self
    }

    /// With `bytes` of transfer per call.
    pub fn transfer(mut self, bytes: u64) -> Self {
        self.transfer = bytes;
        self
    }

    /// Applies overrides on top of these limits.
    pub fn with(mut self, overrides: &LimitOverrides) -> Self {
        let o = overrides;
        self.memory = o.memory.unwrap_or(self.memory);
        self.cpu = o.cpu.unwrap_or(self.cpu);
        self.timeout = o.timeout.unwrap_or(self.timeout);
        self.fuel = o.fuel.or(self.fuel);
        self.output = o.output.unwrap_or(self.output);
        self.transfer = o.transfer.unwrap_or(self.transfer);
        self
    }

    /// The smaller of each limit: what a plugin asks for, capped by the host.
    pub fn min(self, cap: &Limits) -> Self {
        Limits {
            memory: self.memory.min(cap.memory),
            cpu: self.cpu.min(cap.cpu),
            timeout: self.timeout.min(cap.timeout),
            fuel: match (self.fuel, cap.fuel) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            output: self.output.min(cap.output),
            transfer: self.transfer.min(cap.transfer),
        }
    }
}

impl LimitOverrides {
    pub fn memory(mut self, bytes: u64) -> Self {
        self.memory = Some(bytes);
        self
    }

    pub fn cpu(mut self, cpu: Duration) -> Self {
        self.cpu = Some(cpu);
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    pub fn fuel(mut self, units: u64) -> Self {
        self.fuel = Some(units);
        self
    }

    pub fn output(mut self, bytes: u64) -> Self {
        self.output = Some(bytes);
        self
    }

    pub fn transfer(mut self, bytes: u64) -> Self {
        self.transfer = Some(bytes);
        self
    }
}

/// Parses a size such as `64MiB`, `512KiB`, `1GB` or `65536`.
pub fn parse_size(text: &str) -> Result<u64> {
    let invalid = |reason: &str| Error::InvalidSetting {
        what: "size",
        value: text.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| invalid("expected a number followed by a unit such as MiB"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1 << 10,
        "m" | "mb" => 1000 * 1000,
        "mib" => 1 << 20,
        "g" | "gb" => 1000 * 1000 * 1000,
        "gib" => 1 << 30,
        _ => return Err(invalid("unknown unit; use B, KiB, MiB, GiB, KB, MB or GB")),
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| invalid("too large"))
}

/// Parses a duration such as `500ms`, `2s` or `1m 30s`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let duration = humantime::parse_duration(text.trim()).map_err(|e| Error::InvalidSetting {
        what: "duration",
        value: text.to_string(),
        reason: format!("{e}; write it like 500ms, 2s or 1m"),
    })?;
    if duration.is_zero() {
        return Err(Error::InvalidSetting {
            what: "duration",
            value: text.to_string(),
            reason: "must be greater than zero".into(),
        });
    }
    Ok(duration)
}

fn de_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Bytes(u64),
        Text(String),
    }
    match Size::deserialize(d)? {
        Size::Bytes(n) => Ok(Some(n)),
        Size::Text(t) => parse_size(&t).map(Some).map_err(serde::de::Error::custom),
    }
}

fn de_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// What one call has used so far, shared between the store, the stdio
/// streams and the log. Reset at the start of every call.
#[derive(Debug, Default)]
pub(crate) struct CallBudget {
    output_used: AtomicU64,
    output_limit: AtomicU64,
    /// Bytes refused because the output budget was spent.
    output_dropped: AtomicU64,
    cpu_ticks: AtomicU64,
    tripped: AtomicU8,
}

impl CallBudget {
    #[inline]
    pub(crate) fn reset(&self, limits: &Limits) {
        self.output_used.store(0, Ordering::Relaxed);
        self.output_limit.store(limits.output, Ordering::Relaxed);
        self.output_dropped.store(0, Ordering::Relaxed);
        self.cpu_ticks.store(0, Ordering::Relaxed);
        self.tripped.store(0, Ordering::Relaxed);
    }

    /// Records that `limit` was hit; the first one recorded wins.
    pub(crate) fn trip(&self, limit: Limit) {
        let code = match limit {
            Limit::Memory => 1,
            Limit::CpuTime => 2,
            Limit::Fuel => 3,
            Limit::Stack => 4,
            Limit::Output => 5,
            Limit::Transfer => 6,
        };
        let _ = self
            .tripped
            .compare_exchange(0, code, Ordering::Relaxed, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn tripped(&self) -> Option<Limit> {
        match self.tripped.load(Ordering::Relaxed) {
            1 => Some(Limit::Memory),
            2 => Some(Limit::CpuTime),
            3 => Some(Limit::Fuel),
            4 => Some(Limit::Stack),
            5 => Some(Limit::Output),
            6 => Some(Limit::Transfer),
            _ => None,
        }
    }

    /// Charges `bytes` of output; false once the budget is spent.
    pub(crate) fn charge_output(&self, bytes: usize) -> bool {
        let used = self
            .output_used
            .fetch_add(bytes as u64, Ordering::Relaxed)
            .saturating_add(bytes as u64);
        if used > self.output_limit.load(Ordering::Relaxed) {
            self.trip(Limit::Output);
            self.output_dropped
                .fetch_add(bytes as u64, Ordering::Relaxed);
            false
        } else {
            true
        }
    }

    /// Whether the guest wrote anything since the last reset.
    #[inline]
    pub(crate) fn wrote_output(&self) -> bool {
        self.output_used.load(Ordering::Relaxed) > 0
    }

    /// Bytes of output refused in this call.
    #[inline]
    pub(crate) fn output_dropped(&self) -> u64 {
        self.output_dropped.load(Ordering::Relaxed)
    }

    /// Epoch ticks counted in this call.
    #[inline]
    pub(crate) fn cpu_ticks(&self) -> u64 {
        self.cpu_ticks.load(Ordering::Relaxed)
    }

    /// Counts one epoch tick of guest execution; false once `cpu` is spent.
    pub(crate) fn charge_tick(&self, cpu: Duration) -> bool {
        let ticks = self.cpu_ticks.fetch_add(1, Ordering::Relaxed) + 1;
        if u128::from(ticks) * EPOCH_TICK.as_millis() > cpu.as_millis() {
            self.trip(Limit::CpuTime);
            false
        } else {
            true
        }
    }
}

/// The error a stream or host function raises when the output budget is
/// spent; it unwinds the guest and is classified through [`CallBudget`].
#[derive(Debug, thiserror::Error)]
#[error("output limit reached")]
pub(crate) struct OutputLimitReached;

/// Caps the bytes of all memories and tables of one instance, and tells
/// the plugin's telemetry how much it holds.
pub(crate) struct MemoryLimiter {
    limit: u64,
    used: u64,
    budget: Arc<CallBudget>,
    telemetry: Option<Arc<Telemetry>>,
}

/// Bytes a table element is charged, the size of a function reference.
const TABLE_ELEMENT_BYTES: u64 = 8;

impl MemoryLimiter {
    pub(crate) fn new(
        limit: u64,
        budget: Arc<CallBudget>,
        telemetry: Option<Arc<Telemetry>>,
    ) -> Self {
        MemoryLimiter {
            limit,
            used: 0,
            budget,
            telemetry,
        }
    }

    fn grow(&mut self, current: u64, desired: u64) -> bool {
        let added = desired.saturating_sub(current);
        match self.used.checked_add(added) {
            Some(total) if total <= self.limit => {
                self.used = total;
                if let Some(telemetry) = &self.telemetry {
                    telemetry.memory(total);
                }
                true
            }
            _ => {
                self.budget.trip(Limit::Memory);
                false
            }
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.grow(current as u64, desired as u64))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.grow(
            (current as u64).saturating_mul(TABLE_ELEMENT_BYTES),
            (desired as u64).saturating_mul(TABLE_ELEMENT_BYTES),
        ))
    }

    /// Growth the host could not give (a pool slot is full, or the system
    /// is out of memory) is the memory limit too: the guest sees the same
    /// refusal, and the same limit explains it.
    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.budget.trip(Limit::Memory);
        Ok(())
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.budget.trip(Limit::Memory);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("512 KiB").unwrap(), 512 << 10);
        assert_eq!(parse_size("2GB").unwrap(), 2_000_000_000);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(matches!(
            parse_size("12 parsecs"),
            Err(Error::InvalidSetting { what: "size", .. })
        ));
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("99999999999999GiB").is_err());
    }

    #[test]
    fn durations_parse_and_reject_zero() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn memory_limiter_counts_every_memory_and_table() {
        let budget = Arc::new(CallBudget::default());
        let mut limiter = MemoryLimiter::new(1000, budget.clone(), None);
        assert!(limiter.grow(0, 600));
        assert!(!limiter.grow(0, 600), "a second memory shares the cap");
        assert_eq!(budget.tripped(), Some(Limit::Memory));
        assert!(limiter.table_growing(0, 50, None).unwrap());
        assert!(!limiter.table_growing(50, 100, None).unwrap());
    }

    #[test]
    fn output_budget_trips_once_spent() {
        let budget = CallBudget::default();
        budget.reset(&Limits {
            output: 10,
            ..Limits::default()
        });
        assert!(budget.charge_output(10));
        assert!(!budget.charge_output(1));
        assert_eq!(budget.tripped(), Some(Limit::Output));
        budget.reset(&Limits::default());
        assert_eq!(budget.tripped(), None);
    }

    #[test]
    fn plugin_requests_are_capped_by_the_host() {
        let asked = Limits::default().with(&LimitOverrides {
            memory: Some(1 << 30),
            fuel: Some(500),
            ..Default::default()
        });
        let cap = Limits {
            memory: 64 << 20,
            ..Limits::default()
        };
        let effective = asked.min(&cap);
        assert_eq!(effective.memory, 64 << 20);
        assert_eq!(effective.fuel, Some(500));
    }
}
