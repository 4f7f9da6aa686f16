//! The helper thread that owns one plugin instance and makes every call into it.
//!
//! Calls run here, not on the pipeline thread, so the caller can stop waiting after the time
//! box. The host's context is not `Send` (it borrows the store), so a plugin's context queries
//! travel back to the waiting caller as messages and are answered there. Whatever the plugin
//! returns is copied and freed with the plugin's own `free_buf` on this thread, so a late answer
//! to a call the caller gave up on is still freed.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use stage_api::abi::{Buf, HostV1, StageV1, Status};
use stage_api::{Context, ABI_MAJOR};

/// A call's raw result: the status and a copy of the plugin's buffer.
pub(crate) type Answer = (Status, Vec<u8>);

/// Why a call gave no answer.
#[derive(Debug)]
pub(crate) enum CallError {
    /// It ran past the time box (the instance is still busy).
    TimedOut,
    /// The helper thread is gone.
    Gone,
}

/// The handle the pipeline thread keeps.
pub(crate) struct Worker {
    jobs: Sender<Job>,
}

struct Job {
    entry: Entry,
    input: Vec<u8>,
    replies: Sender<Reply>,
}

/// Which entry of the descriptor a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// `process`: one article.
    Article,
    /// `process_story`: one story (the plugin is a story stage).
    Story,
}

enum Reply {
    Query { request: Vec<u8>, answer: Sender<Result<Vec<u8>, String>> },
    Done(Answer),
}

/// The descriptor, moved onto the helper thread.
struct Descriptor(&'static StageV1);

// SAFETY: the descriptor is immutable static data of a never-unloaded library, and the ABI lets
// its functions be called from any thread.
unsafe impl Send for Descriptor {}

impl Descriptor {
    /// Unwraps it; a method (not `.0`) so that a closure captures the whole `Send` wrapper.
    fn get(self) -> &'static StageV1 {
        self.0
    }
}

/// The instance pointer, moved onto the helper thread that alone uses it.
struct Instance(*mut c_void);

// SAFETY: the ABI lets an instance be used from any one thread at a time; only the helper
// thread touches it after `create`.
unsafe impl Send for Instance {}

impl Worker {
    /// Starts the helper thread and creates the instance there, waiting at most `timeout`.
    pub(crate) fn start(
        descriptor: &'static StageV1,
        thread_name: String,
        options: Vec<u8>,
        timeout: Duration,
    ) -> Result<Worker, String> {
        let (created_tx, created_rx) = channel::<Result<(), String>>();
        let (jobs, job_rx) = channel::<Job>();
        let moved = Descriptor(descriptor);
        std::thread::Builder::new()
            .name(thread_name)
            .spawn(move || {
                let descriptor = moved.get();
                let mut instance = std::ptr::null_mut();
                let mut err = Buf::EMPTY;
                let options_buf = Buf { ptr: options.as_ptr(), len: options.len() };
                // SAFETY: per the ABI; the pointers are to live locals.
                let status = unsafe { (descriptor.create)(options_buf, &mut instance, &mut err) };
                let message = take(descriptor, err);
                let created = match status {
                    Status::CONTINUE if !instance.is_null() => Ok(()),
                    Status::CONTINUE => Err("create returned no instance".to_string()),
                    Status::FAIL => Err(String::from_utf8_lossy(&message).into_owned()),
                    Status(other) => Err(format!("create returned the unknown status {other}")),
                };
                let ok = created.is_ok();
                if created_tx.send(created).is_err() || !ok {
                    // Nobody waits (create overran): leave the instance alone, it may be half made.
                    return;
                }
                serve(descriptor, Instance(instance), job_rx);
            })
            .map_err(|e| format!("cannot start a thread for the plugin: {e}"))?;
        match created_rx.recv_timeout(timeout) {
            Ok(Ok(())) => Ok(Worker { jobs }),
            Ok(Err(message)) => Err(message),
            Err(RecvTimeoutError::Timeout) => {
                Err(format!("create took longer than {} ms", timeout.as_millis()))
            }
            Err(RecvTimeoutError::Disconnected) => Err("the plugin's thread ended during create".into()),
        }
    }

    /// Runs `entry` on `input`, answering context queries from `context`, for at most `timeout`.
    pub(crate) fn call(
        &self,
        entry: Entry,
        input: Vec<u8>,
        context: &dyn Context,
        timeout: Duration,
    ) -> Result<Answer, CallError> {
        let deadline = Instant::now() + timeout;
        let (replies, reply_rx) = channel();
        self.jobs.send(Job { entry, input, replies }).map_err(|_| CallError::Gone)?;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match reply_rx.recv_timeout(left) {
                Ok(Reply::Done(answer)) => return Ok(answer),
                Ok(Reply::Query { request, answer }) => {
                    let result = stage_api::query::answer(context, &request);
                    // The helper waits on this; if it is gone the next recv says so.
                    let _ = answer.send(result);
                }
                Err(RecvTimeoutError::Timeout) => return Err(CallError::TimedOut),
                Err(RecvTimeoutError::Disconnected) => return Err(CallError::Gone),
            }
        }
    }
}

/// The helper thread's loop: one job at a time until the handle is dropped, then `destroy`.
fn serve(descriptor: &'static StageV1, instance: Instance, jobs: Receiver<Job>) {
    for job in jobs {
        let mut queries = QueryChannel { replies: job.replies.clone() };
        let host = HostV1 {
            abi_major: ABI_MAJOR,
            struct_size: std::mem::size_of::<HostV1>() as u32,
            ctx: &mut queries as *mut QueryChannel as *mut c_void,
            query: host_query,
            free_buf: host_free_buf,
        };
        let (status, bytes) = call_entry(descriptor, job.entry, instance.0, &host, &job.input);
        // The caller may have stopped waiting; the answer is then simply dropped.
        let _ = job.replies.send(Reply::Done((status, bytes)));
    }
    // SAFETY: made by `create`, destroyed once, no call in flight.
    unsafe { (descriptor.destroy)(instance.0) };
}

/// Calls `entry` of the plugin on `input` and copies its answer: shared by the in-process helper
/// thread and the plugin's own process.
pub(crate) fn call_entry(
    descriptor: &StageV1,
    entry: Entry,
    instance: *mut c_void,
    host: &HostV1,
    input: &[u8],
) -> Answer {
    let function = match entry {
        Entry::Article => descriptor.process,
        Entry::Story => match descriptor.process_story {
            Some(function) => function,
            None => return (Status::FAIL, b"internal: a story call to an article stage".to_vec()),
        },
    };
    let input = Buf { ptr: input.as_ptr(), len: input.len() };
    let mut out = Buf::EMPTY;
    // SAFETY: per the ABI; `host` and `input` outlive the call.
    let status = unsafe { function(instance, host, input, &mut out) };
    (status, take(descriptor, out))
}

/// Copies a plugin-owned buffer and frees it with the plugin's `free_buf`.
pub(crate) fn take(descriptor: &StageV1, buf: Buf) -> Vec<u8> {
    // SAFETY: the plugin promises `len` readable bytes at `ptr` (or null); this is the one place
    // a lying plugin can still crash us, which the crate docs own up to.
    let bytes = unsafe { buf.as_bytes() }.to_vec();
    if !buf.ptr.is_null() {
        // SAFETY: the plugin's buffer, freed once by its own allocator.
        unsafe { (descriptor.free_buf)(buf) };
    }
    bytes
}

/// What `HostV1::ctx` points at during one call.
struct QueryChannel {
    replies: Sender<Reply>,
}

unsafe extern "C" fn host_query(ctx: *mut c_void, request: Buf, out: *mut Buf) -> Status {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `ctx` is the `QueryChannel` of the call in progress; `request` is readable.
        let (queries, request) = unsafe { (&*(ctx as *const QueryChannel), request.as_bytes().to_vec()) };
        let (answer, answer_rx) = channel();
        queries
            .replies
            .send(Reply::Query { request, answer })
            .map_err(|_| "the host stopped waiting for this call".to_string())?;
        answer_rx.recv().map_err(|_| "the host stopped waiting for this call".to_string())?
    }));
    // SAFETY: `out` is what the plugin passed to `query`.
    unsafe { answer(result.map(|r| r.map(|bytes| (Status::CONTINUE, bytes))), out) }
}

/// Hands a context query's answer (or why there is none) to the plugin through `out`: the end
/// of every `host_query`, in process or in the plugin's own process.
///
/// # Safety
/// `out` is null or the writable pointer the plugin passed to `query`.
pub(crate) unsafe fn answer(
    result: std::thread::Result<Result<(Status, Vec<u8>), String>>,
    out: *mut Buf,
) -> Status {
    let (status, bytes) = match result {
        Ok(Ok(answer)) => answer,
        Ok(Err(message)) => (Status::FAIL, message.into_bytes()),
        Err(_) => (Status::FAIL, b"the host failed to answer".to_vec()),
    };
    if !out.is_null() {
        // SAFETY: checked non-null; the plugin passes a writable pointer.
        unsafe { *out = Buf::from_vec(bytes) };
    }
    status
}

/// Frees a buffer `host_query` handed out, in process or in the plugin's own process.
pub(crate) unsafe extern "C" fn host_free_buf(_ctx: *mut c_void, buf: Buf) {
    // SAFETY: every buffer the host hands out comes from `Buf::from_vec` in `host_query`.
    unsafe { buf.reclaim() }
}
