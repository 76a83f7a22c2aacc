//! `wasi:filesystem` for blocking calls into directories the operator lets
//! calls read on the calling thread (`blocking = true`).
//!
//! wasmtime-wasi's synchronous bindings enter tokio (`Handle::block_on`) on
//! every call, which panics on a thread that runs async tasks. These run
//! its asynchronous functions to their first pause instead, as `wasi:io`
//! does for blocking calls. A blocking instance's WASI context lets
//! filesystem work run on the calling thread, so nothing here pauses; if
//! something did (a non-blocking stream read, which wasmtime-wasi always
//! hands to tokio's blocking pool), the call fails with
//! [`Error::NotBlocking`](crate::Error::NotBlocking) rather than hanging.

use wasmtime::component::{HasData, Resource};
use wasmtime_wasi::filesystem::{WasiFilesystemCtxView, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::filesystem::types as async_fs;
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    self as fs, Descriptor, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry,
    DirectoryEntryStream, Filesize, MetadataHashValue, NewTimestamp, OpenFlags, PathFlags,
};
use wasmtime_wasi::p2::bindings::sync::io::streams::{
    Error as StreamErrorResource, InputStream, OutputStream,
};
use wasmtime_wasi::p2::{FsError, FsResult};

use crate::call::ready_now;
use crate::capability::io;
use crate::store::StoreData;

/// A plugin's filesystem view, for blocking calls.
pub(super) struct Ready<'a>(WasiFilesystemCtxView<'a>);

pub(super) struct HasReady;

impl HasData for HasReady {
    type Data<'a> = Ready<'a>;
}

pub(super) fn ready<T: Send + 'static>(data: &mut StoreData<T>) -> Ready<'_> {
    Ready(data.filesystem())
}

/// Runs one of wasmtime-wasi's filesystem functions to its first pause.
fn now<R>(future: impl Future<Output = FsResult<R>>) -> FsResult<R> {
    ready_now(future).map_err(FsError::trap)?
}

impl fs::Host for Ready<'_> {
    fn convert_error_code(&mut self, err: FsError) -> wasmtime::Result<fs::ErrorCode> {
        fs::Host::convert_error_code(&mut self.0, err)
    }

    fn filesystem_error_code(
        &mut self,
        err: Resource<StreamErrorResource>,
    ) -> wasmtime::Result<Option<fs::ErrorCode>> {
        fs::Host::filesystem_error_code(&mut self.0, err)
    }
}

impl fs::HostDescriptor for Ready<'_> {
    fn advise(
        &mut self,
        fd: Resource<Descriptor>,
        offset: Filesize,
        len: Filesize,
        advice: fs::Advice,
    ) -> FsResult<()> {
        let view = &mut self.0;
        now(async_fs::HostDescriptor::advise(
            view,
            fd,
            offset,
            len,
            advice.into(),
        ))
    }

    fn sync_data(&mut self, fd: Resource<Descriptor>) -> FsResult<()> {
        now(async_fs::HostDescriptor::sync_data(&mut self.0, fd))
    }

    fn get_flags(&mut self, fd: Resource<Descriptor>) -> FsResult<DescriptorFlags> {
        now(async_fs::HostDescriptor::get_flags(&mut self.0, fd)).map(Into::into)
    }

    fn get_type(&mut self, fd: Resource<Descriptor>) -> FsResult<DescriptorType> {
        now(async_fs::HostDescriptor::get_type(&mut self.0, fd)).map(Into::into)
    }

    fn set_size(&mut self, fd: Resource<Descriptor>, size: Filesize) -> FsResult<()> {
        now(async_fs::HostDescriptor::set_size(&mut self.0, fd, size))
    }

    fn set_times(
        &mut self,
        fd: Resource<Descriptor>,
        atim: NewTimestamp,
        mtim: NewTimestamp,
    ) -> FsResult<()> {
        let view = &mut self.0;
        now(async_fs::HostDescriptor::set_times(
            view,
            fd,
            atim.into(),
            mtim.into(),
        ))
    }

    fn read(
        &mut self,
        fd: Resource<Descriptor>,
        len: Filesize,
        offset: Filesize,
    ) -> FsResult<(Vec<u8>, bool)> {
        now(async_fs::HostDescriptor::read(&mut self.0, fd, len, offset))
    }

    fn write(
        &mut self,
        fd: Resource<Descriptor>,
        buf: Vec<u8>,
        offset: Filesize,
    ) -> FsResult<Filesize> {
        now(async_fs::HostDescriptor::write(
            &mut self.0,
            fd,
            buf,
            offset,
        ))
    }

    fn read_directory(
        &mut self,
        fd: Resource<Descriptor>,
    ) -> FsResult<Resource<DirectoryEntryStream>> {
        now(async_fs::HostDescriptor::read_directory(&mut self.0, fd))
    }

    fn sync(&mut self, fd: Resource<Descriptor>) -> FsResult<()> {
        now(async_fs::HostDescriptor::sync(&mut self.0, fd))
    }

    fn create_directory_at(&mut self, fd: Resource<Descriptor>, path: String) -> FsResult<()> {
        now(async_fs::HostDescriptor::create_directory_at(
            &mut self.0,
            fd,
            path,
        ))
    }

    fn stat(&mut self, fd: Resource<Descriptor>) -> FsResult<DescriptorStat> {
        now(async_fs::HostDescriptor::stat(&mut self.0, fd)).map(Into::into)
    }

    fn stat_at(
        &mut self,
        fd: Resource<Descriptor>,
        path_flags: PathFlags,
        path: String,
    ) -> FsResult<DescriptorStat> {
        let view = &mut self.0;
        now(async_fs::HostDescriptor::stat_at(
            view,
            fd,
            path_flags.into(),
            path,
        ))
        .map(Into::into)
    }

    fn set_times_at(
        &mut self,
        fd: Resource<Descriptor>,
        path_flags: PathFlags,
        path: String,
        atim: NewTimestamp,
        mtim: NewTimestamp,
    ) -> FsResult<()> {
        let (flags, atim, mtim) = (path_flags.into(), atim.into(), mtim.into());
        now(async_fs::HostDescriptor::set_times_at(
            &mut self.0,
            fd,
            flags,
            path,
            atim,
            mtim,
        ))
    }

    fn link_at(
        &mut self,
        fd: Resource<Descriptor>,
        old_path_flags: PathFlags,
        old_path: String,
        new_descriptor: Resource<Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        let flags = old_path_flags.into();
        now(async_fs::HostDescriptor::link_at(
            &mut self.0,
            fd,
            flags,
            old_path,
            new_descriptor,
            new_path,
        ))
    }

    fn open_at(
        &mut self,
        fd: Resource<Descriptor>,
        path_flags: PathFlags,
        path: String,
        oflags: OpenFlags,
        flags: DescriptorFlags,
    ) -> FsResult<Resource<Descriptor>> {
        let (path_flags, oflags, flags) = (path_flags.into(), oflags.into(), flags.into());
        now(async_fs::HostDescriptor::open_at(
            &mut self.0,
            fd,
            path_flags,
            path,
            oflags,
            flags,
        ))
    }

    fn drop(&mut self, fd: Resource<Descriptor>) -> wasmtime::Result<()> {
        async_fs::HostDescriptor::drop(&mut self.0, fd)
    }

    fn readlink_at(&mut self, fd: Resource<Descriptor>, path: String) -> FsResult<String> {
        now(async_fs::HostDescriptor::readlink_at(&mut self.0, fd, path))
    }

    fn remove_directory_at(&mut self, fd: Resource<Descriptor>, path: String) -> FsResult<()> {
        now(async_fs::HostDescriptor::remove_directory_at(
            &mut self.0,
            fd,
            path,
        ))
    }

    fn rename_at(
        &mut self,
        fd: Resource<Descriptor>,
        old_path: String,
        new_fd: Resource<Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        let view = &mut self.0;
        now(async_fs::HostDescriptor::rename_at(
            view, fd, old_path, new_fd, new_path,
        ))
    }

    fn symlink_at(
        &mut self,
        fd: Resource<Descriptor>,
        src_path: String,
        dest_path: String,
    ) -> FsResult<()> {
        let view = &mut self.0;
        now(async_fs::HostDescriptor::symlink_at(
            view, fd, src_path, dest_path,
        ))
    }

    fn unlink_file_at(&mut self, fd: Resource<Descriptor>, path: String) -> FsResult<()> {
        now(async_fs::HostDescriptor::unlink_file_at(
            &mut self.0,
            fd,
            path,
        ))
    }

    fn read_via_stream(
        &mut self,
        fd: Resource<Descriptor>,
        offset: Filesize,
    ) -> FsResult<Resource<InputStream>> {
        async_fs::HostDescriptor::read_via_stream(&mut self.0, fd, offset)
    }

    fn write_via_stream(
        &mut self,
        fd: Resource<Descriptor>,
        offset: Filesize,
    ) -> FsResult<Resource<OutputStream>> {
        async_fs::HostDescriptor::write_via_stream(&mut self.0, fd, offset)
    }

    fn append_via_stream(&mut self, fd: Resource<Descriptor>) -> FsResult<Resource<OutputStream>> {
        async_fs::HostDescriptor::append_via_stream(&mut self.0, fd)
    }

    fn is_same_object(
        &mut self,
        a: Resource<Descriptor>,
        b: Resource<Descriptor>,
    ) -> wasmtime::Result<bool> {
        io::now(async_fs::HostDescriptor::is_same_object(&mut self.0, a, b))
    }

    fn metadata_hash(&mut self, fd: Resource<Descriptor>) -> FsResult<MetadataHashValue> {
        now(async_fs::HostDescriptor::metadata_hash(&mut self.0, fd)).map(Into::into)
    }

    fn metadata_hash_at(
        &mut self,
        fd: Resource<Descriptor>,
        path_flags: PathFlags,
        path: String,
    ) -> FsResult<MetadataHashValue> {
        let (view, flags) = (&mut self.0, path_flags.into());
        now(async_fs::HostDescriptor::metadata_hash_at(
            view, fd, flags, path,
        ))
        .map(Into::into)
    }
}

impl fs::HostDirectoryEntryStream for Ready<'_> {
    fn read_directory_entry(
        &mut self,
        stream: Resource<DirectoryEntryStream>,
    ) -> FsResult<Option<DirectoryEntry>> {
        let entry = now(async_fs::HostDirectoryEntryStream::read_directory_entry(
            &mut self.0,
            stream,
        ))?;
        Ok(entry.map(Into::into))
    }

    fn drop(&mut self, stream: Resource<DirectoryEntryStream>) -> wasmtime::Result<()> {
        async_fs::HostDirectoryEntryStream::drop(&mut self.0, stream)
    }
}
