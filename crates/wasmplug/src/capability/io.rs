//! `wasi:io`: streams, pollables and their errors, the plumbing every other
//! WASI interface hands out. It reaches nothing by itself.
//!
//! For blocking calls, its functions that may wait are wasmtime-wasi's
//! asynchronous ones run to their first pause rather than wasmtime-wasi's
//! synchronous ones, which enter tokio (`Handle::block_on`) on every call
//! and panic on a thread that runs async tasks. A plugin takes blocking
//! calls only when nothing it can reach waits, so its streams and pollables
//! are ready at once: those calls never touch tokio, and a blocking call may
//! run on any thread.

use std::future::Future;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::sync::io::{poll, streams};
use wasmtime_wasi::p2::bindings::{self, io::poll as async_poll, io::streams as async_streams};
use wasmtime_wasi::p2::{DynPollable, StreamError, StreamResult};

use super::{Capability, Import, LinkMode, PluginCapability, Stateless, is_one_of};
use crate::call::ready_now;
use crate::error::Result;
use crate::policy::Grants;
use crate::store::StoreData;

pub(crate) struct Io;

/// The store's resource table, which is all `wasi:io` works on.
struct HasTable;

impl HasData for HasTable {
    type Data<'a> = &'a mut ResourceTable;
}

/// The resource table, for blocking calls: see the module's doc.
struct Ready<'a>(&'a mut ResourceTable);

struct HasReady;

impl HasData for HasReady {
    type Data<'a> = Ready<'a>;
}

impl<T: Send + 'static> Capability<T> for Io {
    fn name(&self) -> &'static str {
        "io"
    }

    fn provides(&self, import: &Import) -> bool {
        is_one_of(import, "wasi:io", &["error", "poll", "streams"])
    }

    fn for_plugin(&self, _plugin: &str, _grants: &Grants) -> Result<Box<dyn PluginCapability<T>>> {
        Ok(Stateless::boxed(link::<T>))
    }
}

fn link<T: Send + 'static>(
    linker: &mut Linker<StoreData<T>>,
    mode: LinkMode,
) -> wasmtime::Result<()> {
    let table = StoreData::<T>::table;
    bindings::io::error::add_to_linker::<_, HasTable>(linker, table)?;
    if mode.blocking {
        poll::add_to_linker::<_, HasReady>(linker, ready::<T>)?;
        streams::add_to_linker::<_, HasReady>(linker, ready::<T>)?;
    } else {
        bindings::io::poll::add_to_linker::<_, HasTable>(linker, table)?;
        bindings::io::streams::add_to_linker::<_, HasTable>(linker, table)?;
    }
    Ok(())
}

fn ready<T: Send + 'static>(data: &mut StoreData<T>) -> Ready<'_> {
    Ready(data.table())
}

/// Runs one of wasmtime-wasi's host functions to its first pause.
pub(super) fn now<R>(future: impl Future<Output = wasmtime::Result<R>>) -> wasmtime::Result<R> {
    ready_now(future).map_err(wasmtime::Error::new)?
}

fn now_stream<R>(future: impl Future<Output = StreamResult<R>>) -> StreamResult<R> {
    ready_now(future).map_err(|e| StreamError::Trap(wasmtime::Error::new(e)))?
}

impl poll::Host for Ready<'_> {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        now(async_poll::Host::poll(self.0, pollables))
    }
}

impl poll::HostPollable for Ready<'_> {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        now(async_poll::HostPollable::ready(self.0, pollable))
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        now(async_poll::HostPollable::block(self.0, pollable))
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        async_poll::HostPollable::drop(self.0, pollable)
    }
}

impl streams::Host for Ready<'_> {
    fn convert_stream_error(&mut self, err: StreamError) -> wasmtime::Result<streams::StreamError> {
        streams::Host::convert_stream_error(self.0, err)
    }
}

impl streams::HostOutputStream for Ready<'_> {
    fn drop(&mut self, stream: Resource<streams::OutputStream>) -> wasmtime::Result<()> {
        now(async_streams::HostOutputStream::drop(self.0, stream))
    }

    fn check_write(&mut self, stream: Resource<streams::OutputStream>) -> StreamResult<u64> {
        streams::HostOutputStream::check_write(self.0, stream)
    }

    fn write(
        &mut self,
        stream: Resource<streams::OutputStream>,
        bytes: Vec<u8>,
    ) -> StreamResult<()> {
        streams::HostOutputStream::write(self.0, stream, bytes)
    }

    fn blocking_write_and_flush(
        &mut self,
        stream: Resource<streams::OutputStream>,
        bytes: Vec<u8>,
    ) -> StreamResult<()> {
        now_stream(async_streams::HostOutputStream::blocking_write_and_flush(
            self.0, stream, bytes,
        ))
    }

    fn blocking_write_zeroes_and_flush(
        &mut self,
        stream: Resource<streams::OutputStream>,
        len: u64,
    ) -> StreamResult<()> {
        now_stream(
            async_streams::HostOutputStream::blocking_write_zeroes_and_flush(self.0, stream, len),
        )
    }

    fn subscribe(
        &mut self,
        stream: Resource<streams::OutputStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        streams::HostOutputStream::subscribe(self.0, stream)
    }

    fn write_zeroes(
        &mut self,
        stream: Resource<streams::OutputStream>,
        len: u64,
    ) -> StreamResult<()> {
        streams::HostOutputStream::write_zeroes(self.0, stream, len)
    }

    fn flush(&mut self, stream: Resource<streams::OutputStream>) -> StreamResult<()> {
        streams::HostOutputStream::flush(self.0, stream)
    }

    fn blocking_flush(&mut self, stream: Resource<streams::OutputStream>) -> StreamResult<()> {
        now_stream(async_streams::HostOutputStream::blocking_flush(
            self.0, stream,
        ))
    }

    fn splice(
        &mut self,
        dst: Resource<streams::OutputStream>,
        src: Resource<streams::InputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        streams::HostOutputStream::splice(self.0, dst, src, len)
    }

    fn blocking_splice(
        &mut self,
        dst: Resource<streams::OutputStream>,
        src: Resource<streams::InputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        now_stream(async_streams::HostOutputStream::blocking_splice(
            self.0, dst, src, len,
        ))
    }
}

impl streams::HostInputStream for Ready<'_> {
    fn drop(&mut self, stream: Resource<streams::InputStream>) -> wasmtime::Result<()> {
        now(async_streams::HostInputStream::drop(self.0, stream))
    }

    fn read(&mut self, stream: Resource<streams::InputStream>, len: u64) -> StreamResult<Vec<u8>> {
        streams::HostInputStream::read(self.0, stream, len)
    }

    fn blocking_read(
        &mut self,
        stream: Resource<streams::InputStream>,
        len: u64,
    ) -> StreamResult<Vec<u8>> {
        now_stream(async_streams::HostInputStream::blocking_read(
            self.0, stream, len,
        ))
    }

    fn skip(&mut self, stream: Resource<streams::InputStream>, len: u64) -> StreamResult<u64> {
        streams::HostInputStream::skip(self.0, stream, len)
    }

    fn blocking_skip(
        &mut self,
        stream: Resource<streams::InputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        now_stream(async_streams::HostInputStream::blocking_skip(
            self.0, stream, len,
        ))
    }

    fn subscribe(
        &mut self,
        stream: Resource<streams::InputStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        streams::HostInputStream::subscribe(self.0, stream)
    }
}
