//! The plugin's side of process isolation: `briefd plugin-host --library PATH`, one process per
//! plugin instance, loads the library and serves the daemon's frames (`frame`) on its
//! stdin/stdout, calling the plugin exactly as the in-process host does.
//!
//! Before the library is loaded the process takes the pipe for itself (the plugin's own
//! `printf`s go to stderr, which the daemon logs, instead of corrupting the frames), ignores the
//! signals that stop the daemon (the daemon decides when the host ends), bounds its address space
//! (`RLIMIT_AS`), and starts a watchdog that ends it when the daemon is gone: a plugin stuck in a
//! loop never reads the closed pipe, and would otherwise spin forever.

use std::ffi::c_void;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::path::Path;
use std::time::Duration;

use stage_api::abi::{Buf, HostV1, StageV1, Status};
use stage_api::ABI_MAJOR;

use crate::frame::Message;
use crate::worker::{answer, call_entry, host_free_buf, take, Entry};
use crate::Library;

/// Why the host process stopped serving (printed on its stderr, which the daemon logs).
#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    /// Setting up the pipe or the limits failed.
    #[error("cannot set up the plugin host: {0}")]
    Setup(String),
    /// The daemon's side of the pipe failed or sent something unexpected.
    #[error("the pipe to briefd failed: {0}")]
    Pipe(String),
}

/// Serves one plugin instance until the daemon closes the pipe; `memory_limit_bytes` bounds the
/// process's address space.
pub fn serve(library: &Path, memory_limit_bytes: Option<u64>) -> Result<(), ChildError> {
    let (input, output) = take_pipe()?;
    ignore_stop_signals();
    if let Some(bytes) = memory_limit_bytes {
        limit_address_space(bytes)?;
    }
    watch_parent();
    let mut input = BufReader::new(input);
    let mut output = BufWriter::new(output);
    let pipe = |e: std::io::Error| ChildError::Pipe(e.to_string());
    let library = match Library::load(library) {
        Ok(library) => library,
        Err(e) => {
            Message::LoadError(e.to_string()).write(&mut output).map_err(pipe)?;
            return Ok(());
        }
    };
    let hello = Message::Hello {
        name: library.name().into(),
        version: library.plugin_version().into(),
        story: library.is_story_stage(),
    };
    hello.write(&mut output).map_err(pipe)?;
    let descriptor = library.descriptor();

    let options = match Message::read(&mut input).map_err(pipe)? {
        Some(Message::Create(options)) => options,
        None => return Ok(()),
        Some(other) => return Err(ChildError::Pipe(format!("expected Create, got {other:?}"))),
    };
    let mut instance = std::ptr::null_mut();
    let mut err = Buf::EMPTY;
    let options_buf = Buf { ptr: options.as_ptr(), len: options.len() };
    // SAFETY: per the ABI; the pointers are to live locals.
    let status = unsafe { (descriptor.create)(options_buf, &mut instance, &mut err) };
    let message = take(descriptor, err);
    let status = match status {
        Status::CONTINUE if instance.is_null() => {
            Message::Created(Status::FAIL, b"create returned no instance".to_vec()).write(&mut output)
        }
        status => Message::Created(status, message).write(&mut output),
    };
    status.map_err(pipe)?;
    if instance.is_null() {
        return Ok(());
    }

    let mut pipe_state = Pipe { input, output };
    loop {
        let (entry, input) = match Message::read(&mut pipe_state.input).map_err(pipe)? {
            Some(Message::Process(article)) => (Entry::Article, article),
            Some(Message::ProcessStory(story)) => (Entry::Story, story),
            None => break,
            Some(other) => return Err(ChildError::Pipe(format!("expected Process, got {other:?}"))),
        };
        let (status, bytes) = process(descriptor, instance, &mut pipe_state, entry, &input);
        Message::Done(status, bytes).write(&mut pipe_state.output).map_err(pipe)?;
    }
    // SAFETY: made by `create`, destroyed once, no call in flight.
    unsafe { (descriptor.destroy)(instance) };
    Ok(())
}

/// The two ends of the pipe, which `HostV1::ctx` points at during a call.
struct Pipe {
    input: BufReader<File>,
    output: BufWriter<File>,
}

fn process(
    descriptor: &StageV1,
    instance: *mut c_void,
    pipe: &mut Pipe,
    entry: Entry,
    input: &[u8],
) -> (Status, Vec<u8>) {
    let host = HostV1 {
        abi_major: ABI_MAJOR,
        struct_size: std::mem::size_of::<HostV1>() as u32,
        ctx: pipe as *mut Pipe as *mut c_void,
        query: host_query,
        free_buf: host_free_buf,
    };
    // `host` and the pipe it points at outlive the call.
    call_entry(descriptor, entry, instance, &host, input)
}

/// A context query travels to the daemon, which answers it from the store.
unsafe extern "C" fn host_query(ctx: *mut c_void, request: Buf, out: *mut Buf) -> Status {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: `ctx` is the `Pipe` of the call in progress; `request` is readable.
        let (pipe, request) = unsafe { (&mut *(ctx as *mut Pipe), request.as_bytes().to_vec()) };
        Message::Query(request).write(&mut pipe.output).map_err(|e| e.to_string())?;
        match Message::read(&mut pipe.input).map_err(|e| e.to_string())? {
            Some(Message::Answer(status, bytes)) => Ok((status, bytes)),
            other => Err(format!("the host answered a query with {other:?}")),
        }
    }));
    // SAFETY: `out` is what the plugin passed to `query`.
    unsafe { answer(result, out) }
}

/// Moves the pipe off fds 0 and 1: stdin becomes /dev/null and stdout a copy of stderr, so
/// whatever the plugin reads or prints cannot touch the frames.
fn take_pipe() -> Result<(File, File), ChildError> {
    let setup = |what: &str| ChildError::Setup(format!("{what}: {}", std::io::Error::last_os_error()));
    // SAFETY: plain fd syscalls on the standard descriptors, before any other thread exists
    // that could use them.
    unsafe {
        let input: RawFd = libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3);
        let output: RawFd = libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3);
        if input < 0 || output < 0 {
            return Err(setup("duplicating the pipe"));
        }
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if null < 0 || libc::dup2(null, 0) < 0 || libc::dup2(2, 1) < 0 {
            return Err(setup("moving the pipe off stdin and stdout"));
        }
        libc::close(null);
        Ok((File::from_raw_fd(input), File::from_raw_fd(output)))
    }
}

/// Ctrl-C in a terminal, and a service manager stopping briefd, signal the whole process group;
/// the daemon then finishes (or leaves, recorded) the article in hand, and the host must still be
/// there to answer. It ends when the daemon closes the pipe, or is gone.
fn ignore_stop_signals() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: setting a signal's disposition to "ignore" installs no handler code.
        unsafe { libc::signal(signal, libc::SIG_IGN) };
    }
}

fn limit_address_space(bytes: u64) -> Result<(), ChildError> {
    let limit = libc::rlimit { rlim_cur: bytes as libc::rlim_t, rlim_max: bytes as libc::rlim_t };
    // SAFETY: a plain syscall with a valid struct.
    if unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) } != 0 {
        return Err(ChildError::Setup(format!(
            "setting RLIMIT_AS to {bytes} bytes: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// Ends the process once its parent (the daemon) is gone, even while the plugin is stuck.
fn watch_parent() {
    // SAFETY: getppid cannot fail.
    let parent = unsafe { libc::getppid() };
    let watch = move || loop {
        std::thread::sleep(Duration::from_millis(500));
        // SAFETY: getppid cannot fail.
        if unsafe { libc::getppid() } != parent {
            let _ = std::io::stderr().write_all(b"briefd is gone; the plugin host exits\n");
            // SAFETY: ending the process without running the plugin's destructors, which may be
            // in the middle of the call that is stuck.
            unsafe { libc::_exit(1) };
        }
    };
    // Without the watchdog the host still ends when the pipe closes, unless the plugin hangs.
    let _ = std::thread::Builder::new().name("watch-parent".into()).spawn(watch);
}
