//! The C ABI a loaded stage library exports: the shapes only.
//!
//! The loader that uses these lands with the plugin issue; the types are fixed now so that the
//! built-in stages are designed against the same contract. A library exports one symbol,
//! [`ENTRY_SYMBOL_V1`], of type `extern "C" fn() -> *const StageV1`. The descriptor opens with
//! the ABI major and its own size; within v1 fields are only appended, so a host reads only the
//! prefix it knows. Articles cross as UTF-8 JSON (the [`crate::Article`] encoding) in [`Buf`]s,
//! and each side frees only what it allocated.

use std::ffi::c_char;

/// Name of the exported entry symbol for ABI major 1.
pub const ENTRY_SYMBOL_V1: &str = "briefd_stage_v1";

/// A byte buffer that crosses the boundary; its owner is whoever allocated it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Buf {
    /// Start of the bytes (may be null when `len` is 0).
    pub ptr: *const u8,
    /// Number of bytes.
    pub len: usize,
}

/// Result code of a plugin call.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `out` holds the changed article as JSON.
    Continue = 0,
    /// `out` holds the drop reason as UTF-8.
    Drop = 1,
    /// `out` holds the failure message as UTF-8.
    Fail = 2,
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
    /// Processes one article: `input` is the article JSON, `out` receives a plugin-owned buffer.
    pub process: extern "C" fn(options: Buf, input: Buf, out: *mut Buf) -> Status,
    /// Frees a buffer the plugin returned through `out`.
    pub free_buf: extern "C" fn(Buf),
}
