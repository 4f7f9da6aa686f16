//! The C ABI a loaded stage library exports, version 1: the `#[repr(C)]` shapes only.
//!
//! A library exports one symbol, [`ENTRY_SYMBOL_V1`], of type
//! `extern "C" fn() -> *const StageV1`. The descriptor opens with the ABI major and its own size;
//! within v1 fields are only appended, so a host reads only the prefix it knows and a plugin
//! never sees a field it was not built with. A future v2 exports `briefd_stage_v2` beside (or
//! instead of) this symbol, so one host can load both.
//!
//! Only C types cross: [`Buf`] (pointer and length of UTF-8 bytes), integers and function
//! pointers. Articles cross as the JSON encoding of [`crate::Article`]; options and context
//! requests as JSON too. Whoever allocates a buffer frees it: buffers the plugin returns are
//! released with [`StageV1::free_buf`], buffers the host returns with [`HostV1::free_buf`].
//! `briefd_stage.h` in this crate's folder is the same contract for C, C++ and Zig; a test keeps
//! the two in step.

use std::ffi::{c_char, c_void};

/// Name of the exported entry symbol for ABI major 1.
pub const ENTRY_SYMBOL_V1: &str = "briefd_stage_v1";

/// Signature of the entry symbol: returns a pointer to a static descriptor.
pub type EntryV1 = unsafe extern "C" fn() -> *const StageV1;

/// A byte buffer that crosses the boundary; its owner is whoever allocated it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Buf {
    /// Start of the bytes (may be null when `len` is 0).
    pub ptr: *const u8,
    /// Number of bytes.
    pub len: usize,
}

impl Buf {
    /// The empty buffer (null, 0): nothing to free.
    pub const EMPTY: Buf = Buf { ptr: std::ptr::null(), len: 0 };

    /// Hands `bytes` over as a buffer; release it with [`Buf::reclaim`] on the same side.
    pub fn from_vec(bytes: Vec<u8>) -> Buf {
        // A boxed slice has capacity == len, so (ptr, len) is all it takes to rebuild it.
        let boxed = bytes.into_boxed_slice();
        let len = boxed.len();
        let ptr = Box::into_raw(boxed) as *const u8;
        Buf { ptr, len }
    }

    /// Frees a buffer made by [`Buf::from_vec`] in this same library.
    ///
    /// # Safety
    /// `self` must come from `Buf::from_vec` in this binary and not have been freed.
    pub unsafe fn reclaim(self) {
        if !self.ptr.is_null() {
            let slice = std::ptr::slice_from_raw_parts_mut(self.ptr as *mut u8, self.len);
            // SAFETY: per the contract, this is the boxed slice `from_vec` leaked.
            drop(unsafe { Box::from_raw(slice) });
        }
    }

    /// Views the bytes.
    ///
    /// # Safety
    /// `ptr` must point to `len` readable bytes that outlive the returned slice (or be null with
    /// `len` 0).
    pub unsafe fn as_bytes<'a>(&self) -> &'a [u8] {
        if self.ptr.is_null() || self.len == 0 {
            &[]
        } else {
            // SAFETY: guaranteed by the caller.
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }
    }
}

/// Result code of a call across the boundary; a plain integer so that a garbage value from a
/// plugin is a value the host can refuse, not undefined behaviour.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub u32);

impl Status {
    /// Success; for `process`, `out` holds the (possibly changed) article as JSON.
    pub const CONTINUE: Status = Status(0);
    /// `process` only: `out` holds the reason the article is dropped, UTF-8.
    pub const DROP: Status = Status(1);
    /// Failure; `out` holds the message, UTF-8.
    pub const FAIL: Status = Status(2);
}

/// What the host offers a plugin during one `process` call.
///
/// `query` is the single, generic way to read the host's context: the request is a JSON object
/// naming a `method` (every [`crate::Context`] method has one, see [`crate::query`] and
/// PLUGINS.md); new methods are new names, never new fields, so the ABI stays v1.
#[repr(C)]
pub struct HostV1 {
    /// Always [`crate::ABI_MAJOR`] of the host.
    pub abi_major: u32,
    /// `size_of::<HostV1>()` as the host knows it; grows within v1, never shrinks.
    pub struct_size: u32,
    /// Opaque host state; pass it back to `query` and `free_buf`.
    pub ctx: *mut c_void,
    /// Answers a JSON request; `out` receives a host-owned buffer (free it with `free_buf`).
    pub query: unsafe extern "C" fn(ctx: *mut c_void, request: Buf, out: *mut Buf) -> Status,
    /// Frees a buffer the host returned.
    pub free_buf: unsafe extern "C" fn(ctx: *mut c_void, buf: Buf),
}

/// The descriptor a v1 plugin returns from its entry symbol.
#[repr(C)]
pub struct StageV1 {
    /// Always [`crate::ABI_MAJOR`] at the time the plugin was built; checked before anything else.
    pub abi_major: u32,
    /// `size_of::<StageV1>()` as the plugin knew it; grows within v1, never shrinks.
    pub struct_size: u32,
    /// NUL-terminated stage name, static for the library's lifetime.
    pub name: *const c_char,
    /// Version of the plugin itself (NUL-terminated, free-form, e.g. "0.3.1"), for logs.
    pub plugin_version: *const c_char,
    /// Makes an instance from the options JSON (`{}` when none are configured). On
    /// [`Status::CONTINUE`] `*instance` is set; on [`Status::FAIL`] `*err` holds a plugin-owned
    /// message.
    pub create: unsafe extern "C" fn(options: Buf, instance: *mut *mut c_void, err: *mut Buf) -> Status,
    /// Processes one article: `input` is the article JSON (host-owned, valid during the call);
    /// `out` receives a plugin-owned buffer whose meaning the returned [`Status`] gives.
    pub process:
        unsafe extern "C" fn(instance: *mut c_void, host: *const HostV1, input: Buf, out: *mut Buf) -> Status,
    /// Ends an instance made by `create`.
    pub destroy: unsafe extern "C" fn(instance: *mut c_void),
    /// Frees a buffer the plugin returned through `out` or `err`.
    pub free_buf: unsafe extern "C" fn(buf: Buf),
    /// Since stage-api 1.4: processes one story, which makes the plugin a story stage
    /// ([`crate::StoryStage`]). `input` is the story JSON ([`crate::Story`]); `out` receives a
    /// plugin-owned buffer: the story fields JSON ([`crate::StoryFields`]) with
    /// [`Status::CONTINUE`], a reason with [`Status::DROP`] (nothing set, on purpose), or a
    /// message with [`Status::FAIL`]. Null for an article stage, whose `process` the host calls
    /// instead. A host reads this field only when `struct_size` covers it
    /// ([`STAGE_V1_0_SIZE`] does not), so descriptors built against stage-api 1.0 to 1.3 load
    /// unchanged as article stages.
    pub process_story: Option<ProcessFn>,
}

/// The signature of `process` and `process_story`.
pub type ProcessFn =
    unsafe extern "C" fn(instance: *mut c_void, host: *const HostV1, input: Buf, out: *mut Buf) -> Status;

/// The size of the descriptor as stage-api 1.0 to 1.3 built it (everything up to `free_buf`):
/// the smallest `struct_size` a host accepts.
pub const STAGE_V1_0_SIZE: usize = std::mem::offset_of!(StageV1, process_story);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_survives_the_round_trip() {
        let buf = Buf::from_vec(b"hello".to_vec());
        // SAFETY: just made, freed once below.
        assert_eq!(unsafe { buf.as_bytes() }, b"hello");
        unsafe { buf.reclaim() };
        // SAFETY: the empty buffer is null with length 0.
        assert!(unsafe { Buf::EMPTY.as_bytes() }.is_empty());
        unsafe { Buf::EMPTY.reclaim() };
    }
}
