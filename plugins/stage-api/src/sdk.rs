//! The plugin SDK: [`export_stage!`](crate::export_stage) turns a Rust [`Stage`] into a loadable
//! library that speaks the v1 C ABI, and [`export_story_stage!`](crate::export_story_stage) a
//! Rust [`StoryStage`] (stage-api 1.4).
//!
//! The generic `extern "C"` functions here are what the macro's descriptor points at. Each one
//! catches every panic (a panic unwinding out of an `extern "C"` function would abort the whole
//! daemon) and turns it into [`Status::FAIL`] with the panic message.

use std::any::Any;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::abi::{Buf, HostV1, Status};
use crate::query::HostContext;
use crate::{Article, Outcome, Stage, Story, StoryOutcome, StoryStage};

/// A stage that can be built from the `options` of its config entry (a JSON value; `{}` when the
/// config gives none).
pub trait FromOptions: Sized {
    /// Builds the stage, or explains what is wrong with the options.
    fn from_options(options: serde_json::Value) -> Result<Self, String>;
}

/// Exports `$stage` (a type implementing [`Stage`] and [`FromOptions`]) under the v1 entry
/// symbol, with `$name` as its stage name.
///
/// ```text
/// stage_api::export_stage!(TopicTagger, "topics");
/// ```
#[macro_export]
macro_rules! export_stage {
    ($stage:ty, $name:expr) => {
        #[doc(hidden)]
        static __BRIEFD_STAGE_DESCRIPTOR: $crate::sdk::Descriptor =
            $crate::sdk::Descriptor($crate::abi::StageV1 {
                abi_major: $crate::ABI_MAJOR,
                struct_size: ::std::mem::size_of::<$crate::abi::StageV1>() as u32,
                name: ::std::concat!($name, "\0").as_ptr() as *const ::std::ffi::c_char,
                plugin_version: ::std::concat!(::std::env!("CARGO_PKG_VERSION"), "\0").as_ptr()
                    as *const ::std::ffi::c_char,
                create: $crate::sdk::create::<$stage>,
                process: $crate::sdk::process::<$stage>,
                destroy: $crate::sdk::destroy::<$stage>,
                free_buf: $crate::sdk::free_buf,
                process_story: None,
            });

        /// The v1 entry symbol the briefd loader looks up.
        #[no_mangle]
        pub extern "C" fn briefd_stage_v1() -> *const $crate::abi::StageV1 {
            &__BRIEFD_STAGE_DESCRIPTOR.0
        }
    };
}

/// Exports `$stage` (a type implementing [`crate::StoryStage`] and [`FromOptions`]) as a story
/// stage under the v1 entry symbol, with `$name` as its stage name (stage-api 1.4).
///
/// The descriptor's `process_story` is set, which is how briefd knows the plugin is a story
/// stage; its article `process` fails every call, since briefd never makes it.
///
/// ```text
/// stage_api::export_story_stage!(StoryTopics, "story-topics");
/// ```
#[macro_export]
macro_rules! export_story_stage {
    ($stage:ty, $name:expr) => {
        #[doc(hidden)]
        static __BRIEFD_STAGE_DESCRIPTOR: $crate::sdk::Descriptor =
            $crate::sdk::Descriptor($crate::abi::StageV1 {
                abi_major: $crate::ABI_MAJOR,
                struct_size: ::std::mem::size_of::<$crate::abi::StageV1>() as u32,
                name: ::std::concat!($name, "\0").as_ptr() as *const ::std::ffi::c_char,
                plugin_version: ::std::concat!(::std::env!("CARGO_PKG_VERSION"), "\0").as_ptr()
                    as *const ::std::ffi::c_char,
                create: $crate::sdk::create::<$stage>,
                process: $crate::sdk::not_an_article_stage,
                destroy: $crate::sdk::destroy::<$stage>,
                free_buf: $crate::sdk::free_buf,
                process_story: Some($crate::sdk::process_story::<$stage>),
            });

        /// The v1 entry symbol the briefd loader looks up.
        #[no_mangle]
        pub extern "C" fn briefd_stage_v1() -> *const $crate::abi::StageV1 {
            &__BRIEFD_STAGE_DESCRIPTOR.0
        }
    };
}

/// A descriptor that may live in a `static`: it holds only pointers to static data and functions.
#[repr(transparent)]
pub struct Descriptor(pub crate::abi::StageV1);

// SAFETY: every pointer in the descriptor points to immutable static data or code.
unsafe impl Sync for Descriptor {}

/// `create` for `T`: parses the options and boxes the stage.
///
/// # Safety
/// Called by the host per the ABI: `options` readable, `instance` and `err` writable.
pub unsafe extern "C" fn create<T: FromOptions + Send + Sync + 'static>(
    options: Buf,
    instance: *mut *mut c_void,
    err: *mut Buf,
) -> Status {
    let result = catch_unwind(|| {
        // SAFETY: the host keeps `options` alive during the call.
        let bytes = unsafe { options.as_bytes() };
        let options = if bytes.is_empty() {
            serde_json::Value::Object(Default::default())
        } else {
            serde_json::from_slice(bytes).map_err(|e| format!("options are not JSON: {e}"))?
        };
        T::from_options(options)
    });
    match result {
        Ok(Ok(stage)) => {
            // SAFETY: the host passes a writable pointer.
            unsafe { *instance = Box::into_raw(Box::new(stage)) as *mut c_void };
            Status::CONTINUE
        }
        Ok(Err(message)) => fail(err, message),
        Err(panic) => fail(err, panicked(panic)),
    }
}

/// `process` for `T`: JSON in, the stage's outcome out.
///
/// # Safety
/// `instance` comes from `create::<T>`; `host` and `input` are valid for the call; `out` writable.
pub unsafe extern "C" fn process<T: Stage + 'static>(
    instance: *mut c_void,
    host: *const HostV1,
    input: Buf,
    out: *mut Buf,
) -> Status {
    // SAFETY: per the contract above.
    unsafe {
        answer(host, input, out, "an article", |article: Article, context| {
            let stage = &*(instance as *const T);
            match stage.process(article, context) {
                Outcome::Continue(article) => match serde_json::to_vec(&article) {
                    Ok(json) => (Status::CONTINUE, json),
                    Err(e) => (Status::FAIL, format!("cannot encode the article: {e}").into_bytes()),
                },
                Outcome::Drop { reason } => (Status::DROP, reason.into_bytes()),
                Outcome::Fail { message } => (Status::FAIL, message.into_bytes()),
            }
        })
    }
}

/// `process_story` for `T`: story JSON in, the stage's story outcome out.
///
/// # Safety
/// `instance` comes from `create::<T>`; `host` and `input` are valid for the call; `out` writable.
pub unsafe extern "C" fn process_story<T: StoryStage + 'static>(
    instance: *mut c_void,
    host: *const HostV1,
    input: Buf,
    out: *mut Buf,
) -> Status {
    // SAFETY: per the contract above.
    unsafe {
        answer(host, input, out, "a story", |story: Story, context| {
            let stage = &*(instance as *const T);
            match stage.process_story(story, context) {
                StoryOutcome::Set(fields) => match serde_json::to_vec(&fields) {
                    Ok(json) => (Status::CONTINUE, json),
                    Err(e) => (Status::FAIL, format!("cannot encode the story fields: {e}").into_bytes()),
                },
                StoryOutcome::Skip { reason } => (Status::DROP, reason.into_bytes()),
                StoryOutcome::Fail { message } => (Status::FAIL, message.into_bytes()),
            }
        })
    }
}

/// One call of an entry point: `input` decoded as `I` (what names it in the error), `run` given
/// it and the host's context (a null host gets one with no earlier stories), a panic turned into
/// a failure, and the answer written to `out`.
///
/// # Safety
/// `host` and `input` are valid for the call; `out` writable.
unsafe fn answer<I: serde::de::DeserializeOwned>(
    host: *const HostV1,
    input: Buf,
    out: *mut Buf,
    what: &str,
    run: impl FnOnce(I, &dyn crate::Context) -> (Status, Vec<u8>),
) -> Status {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract above.
        let bytes = unsafe { input.as_bytes() };
        let value: I = match serde_json::from_slice(bytes) {
            Ok(value) => value,
            Err(e) => {
                let message = format!("the host sent {what} this plugin cannot read: {e}");
                return (Status::FAIL, message.into_bytes());
            }
        };
        // SAFETY: non-null host tables are valid for the call.
        match unsafe { host.as_ref() } {
            Some(host) => run(value, &HostContext::new(host)),
            None => run(value, &crate::EmptyContext),
        }
    }));
    let (status, bytes) = result.unwrap_or_else(|panic| (Status::FAIL, panicked(panic).into_bytes()));
    // SAFETY: the host passes a writable pointer.
    unsafe { *out = Buf::from_vec(bytes) };
    status
}

/// `process` of a story stage: briefd never calls it (the descriptor's `process_story` says the
/// plugin is a story stage), so a call is answered with a failure rather than a guess.
///
/// # Safety
/// `out` is writable (the ABI's contract).
pub unsafe extern "C" fn not_an_article_stage(
    _instance: *mut c_void,
    _host: *const HostV1,
    _input: Buf,
    out: *mut Buf,
) -> Status {
    let message = b"this plugin is a story stage; it has no article `process`".to_vec();
    if !out.is_null() {
        // SAFETY: checked non-null; the host passes a writable pointer.
        unsafe { *out = Buf::from_vec(message) };
    }
    Status::FAIL
}

/// `destroy` for `T`.
///
/// # Safety
/// `instance` comes from `create::<T>` and is destroyed once.
pub unsafe extern "C" fn destroy<T: 'static>(instance: *mut c_void) {
    if !instance.is_null() {
        // SAFETY: per the contract above. A panicking Drop is swallowed: it must not unwind out.
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(instance as *mut T) })));
    }
}

/// `free_buf`: frees a buffer this library returned.
///
/// # Safety
/// `buf` was returned by this library and is freed once.
pub unsafe extern "C" fn free_buf(buf: Buf) {
    // SAFETY: per the contract above; every buffer this SDK returns comes from `Buf::from_vec`.
    unsafe { buf.reclaim() }
}

fn fail(err: *mut Buf, message: String) -> Status {
    if !err.is_null() {
        // SAFETY: checked non-null; the host passes a writable pointer.
        unsafe { *err = Buf::from_vec(message.into_bytes()) };
    }
    Status::FAIL
}

fn panicked(panic: Box<dyn Any + Send>) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("the plugin panicked: {what}")
}
