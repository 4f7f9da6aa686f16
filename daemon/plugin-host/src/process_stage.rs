//! A plugin run in a process of its own (`isolation: process`), as a [`Stage`]: the pipeline
//! cannot tell it from the in-process [`crate::PluginStage`].
//!
//! The daemon never loads the library. It starts `briefd plugin-host --library PATH` (the
//! `child` module, in the same binary) and speaks `frame`s with it over its stdin/stdout: the
//! options, then one article per call, with the plugin's context queries answered here from
//! the store, exactly as the in-process host answers them.
//!
//! What the boundary contains, on top of what the in-process host does: a crash (any signal:
//! SIGSEGV, SIGABRT, ...), an exit, a broken pipe or protocol, an overrun of `timeout_millis`
//! (the process is killed) and memory beyond `memory_limit_mib` (its address space is bounded)
//! each fail the article in hand with a reason naming the plugin and what happened, honouring
//! `on_error`. The process is restarted for the next article after a pause that doubles with
//! each crash in a row; after `max_consecutive_crashes` in a row the plugin is disabled (one
//! `plugin disabled` log line) rather than crash-looping, and later articles get the `on_error`
//! treatment with a reason saying so. Its stderr goes to the daemon's log under its name.

use std::io::{BufRead, BufReader, BufWriter};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use stage_api::abi::Status;
use stage_api::{Article, Context, Outcome, Stage, Story, StoryOutcome, StoryStage};

use crate::frame::Message;
use crate::plugin_stage::{read_answer, read_story_answer, story_on_error};
use crate::{OnError, PluginError, PluginSettings, ProcessLimits};

/// The pause before the first restart; it doubles with each crash in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest pause before a restart.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Starting a process (exec, dynamic linking, the library's constructors) gets this on top of
/// `timeout_millis`, which bounds the plugin's own `create`.
const START_GRACE: Duration = Duration::from_secs(10);
/// How long a process that closed its pipe gets to finish dying before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// A plugin instance in its own process, wrapped as a stage.
pub struct ProcessStage {
    name: String,
    path: PathBuf,
    program: PathBuf,
    options: Vec<u8>,
    on_error: OnError,
    timeout: Duration,
    limits: ProcessLimits,
    /// Whether the plugin is a story stage, as its process said when it started.
    story: bool,
    state: Mutex<State>,
}

struct State {
    host: Option<Host>,
    crashes_in_a_row: u32,
    last_crash: Option<Instant>,
    disabled: Option<String>,
}

/// One running host process and the threads reading its pipes.
struct Host {
    process: std::process::Child,
    stdin: BufWriter<ChildStdin>,
    frames: Receiver<std::io::Result<Message>>,
    last_stderr: Arc<Mutex<Option<String>>>,
    stderr_closed: Receiver<()>,
}

/// How a call (or a start) went wrong on the process's side.
enum Failure {
    /// The call ran past `timeout_millis`; the process was killed.
    TimedOut,
    /// The process ended: how, and its last line on stderr.
    Died { how: String, last_words: Option<String> },
    /// It wrote something that is not a frame we expect; the process was killed.
    Protocol(String),
}

impl ProcessStage {
    /// Starts the host process `program plugin-host` for the library at `path` and creates the
    /// instance in it with `settings` (the plugin checks its options here, as in-process), bounded
    /// by the limits of `settings.isolation` (the defaults if it says in-process).
    pub fn start(program: &Path, path: &Path, settings: PluginSettings) -> Result<ProcessStage, PluginError> {
        let limits = match settings.isolation {
            crate::Isolation::Process(limits) => limits,
            crate::Isolation::InProcess => ProcessLimits::default(),
        };
        // Refused here, with the in-process wording, rather than by a process started for nothing.
        let path = path.canonicalize().map_err(|_| PluginError::Missing { path: path.to_path_buf() })?;
        let options = settings.options.to_string().into_bytes();
        let mut stage = ProcessStage {
            name: settings.name.clone().unwrap_or_default(),
            path,
            program: program.to_path_buf(),
            options,
            on_error: settings.on_error,
            timeout: settings.timeout,
            limits,
            story: false,
            state: Mutex::new(State { host: None, crashes_in_a_row: 0, last_crash: None, disabled: None }),
        };
        let (host, plugin_name, story) = stage.spawn().map_err(|e| match e {
            Spawn::Load(message) => PluginError::Host { message },
            Spawn::Refused { plugin_name, message } => {
                PluginError::Create { name: settings.name.clone().unwrap_or(plugin_name), message }
            }
            Spawn::Failed(failure) => PluginError::Host {
                message: format!(
                    "{}: the plugin's process did not start: {}",
                    stage.path.display(),
                    describe(&failure, stage.timeout)
                ),
            },
        })?;
        if stage.name.is_empty() {
            // The plugin's own name is known only now, from its process.
            stage.name = plugin_name;
        }
        stage.story = story;
        stage.state.get_mut().unwrap_or_else(|p| p.into_inner()).host = Some(host);
        tracing::debug!(stage = %stage.name, path = %stage.path.display(), "plugin started in its own process");
        Ok(stage)
    }

    /// Whether the stage was disabled (after crashing too often in a row), and why.
    pub fn disabled(&self) -> Option<String> {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).disabled.clone()
    }

    /// The process id of the running host, if one runs (for tests and diagnostics).
    pub fn host_pid(&self) -> Option<u32> {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).host.as_ref().map(|h| h.process.id())
    }

    /// Starts a host process and creates the instance: the process, the plugin's own name.
    fn spawn(&self) -> Result<(Host, String, bool), Spawn> {
        let mut command = Command::new(&self.program);
        command.arg("plugin-host").arg("--library").arg(&self.path);
        command.arg("--memory-limit-bytes").arg(self.limits.memory_limit_bytes.to_string());
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut process = command.spawn().map_err(|e| {
            Spawn::Failed(Failure::Died {
                how: format!("could not be started as `{} plugin-host` ({e})", self.program.display()),
                last_words: None,
            })
        })?;
        let stdin = process.stdin.take().expect("stdin was piped");
        let stdout = process.stdout.take().expect("stdout was piped");
        let stderr = process.stderr.take().expect("stderr was piped");
        let (frame_tx, frames) = channel();
        std::thread::Builder::new()
            .name(format!("plugin-out-{}", self.name.replace('\0', "")))
            .spawn(move || {
                let mut stdout = BufReader::new(stdout);
                loop {
                    match Message::read(&mut stdout) {
                        Ok(Some(message)) => {
                            if frame_tx.send(Ok(message)).is_err() {
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            let _ = frame_tx.send(Err(e));
                            break;
                        }
                    }
                }
            })
            .map_err(|e| Spawn::Failed(Failure::Protocol(format!("cannot start a reader thread: {e}"))))?;
        let last_stderr = Arc::new(Mutex::new(None));
        let (closed_tx, stderr_closed) = channel();
        // Until the first process says hello, a plugin without a configured name is known by its file.
        let label = if self.name.is_empty() {
            self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        } else {
            self.name.clone()
        };
        let label = Arc::new(Mutex::new(label));
        let (relay_label, last) = (label.clone(), last_stderr.clone());
        std::thread::Builder::new()
            .name(format!("plugin-err-{}", self.name.replace('\0', "")))
            .spawn(move || relay_stderr(stderr, &relay_label, &last, closed_tx))
            .map_err(|e| Spawn::Failed(Failure::Protocol(format!("cannot start a reader thread: {e}"))))?;
        let mut host = Host { process, stdin: BufWriter::new(stdin), frames, last_stderr, stderr_closed };

        let (hello, story) = match host.receive(self.timeout + START_GRACE) {
            Ok(Message::Hello { name, story, .. }) => {
                if self.name.is_empty() {
                    *label.lock().unwrap_or_else(|p| p.into_inner()) = name.clone();
                }
                (name, story)
            }
            Ok(Message::LoadError(message)) => {
                host.end();
                return Err(Spawn::Load(message));
            }
            Ok(other) => {
                return Err(Spawn::Failed(host.broke(format!("expected Hello, got {}", kind(&other)))))
            }
            Err(failure) => return Err(Spawn::Failed(failure)),
        };
        if let Err(failure) = host.send(&Message::Create(self.options.clone())) {
            return Err(Spawn::Failed(failure));
        }
        match host.receive(self.timeout) {
            Ok(Message::Created(Status::CONTINUE, _)) => Ok((host, hello, story)),
            Ok(Message::Created(Status::FAIL, message)) => {
                host.end();
                let message = String::from_utf8_lossy(&message).into_owned();
                Err(Spawn::Refused { plugin_name: hello, message })
            }
            Ok(Message::Created(Status(other), _)) => {
                host.end();
                let message = format!("create returned the unknown status {other}");
                Err(Spawn::Refused { plugin_name: hello, message })
            }
            Ok(other) => Err(Spawn::Failed(host.broke(format!("expected Created, got {}", kind(&other))))),
            Err(failure) => Err(Spawn::Failed(failure)),
        }
    }

    /// Applies `on_error` to a problem with `article`; `message` is complete (names the plugin).
    fn on_error(&self, article: Article, message: String) -> Outcome {
        match self.on_error {
            OnError::Fail => Outcome::Fail { message },
            OnError::Pass => {
                tracing::warn!(stage = %self.name, reason = %message, "plugin failed; passing the article on unchanged (on_error: pass)");
                Outcome::Continue(article)
            }
        }
    }

    /// Counts a crash; disables the plugin after too many in a row. Returns the article's reason.
    fn crashed(&self, state: &mut State, failure: &Failure) -> String {
        state.host = None;
        state.crashes_in_a_row += 1;
        state.last_crash = Some(Instant::now());
        let what = describe(failure, self.timeout);
        let reason = format!("plugin `{}` ({}) {what}", self.name, self.path.display());
        if state.crashes_in_a_row >= self.limits.max_consecutive_crashes {
            let disabled = format!(
                "it failed {} times in a row (the last time it {}); it is disabled until briefd restarts",
                state.crashes_in_a_row,
                short(failure)
            );
            tracing::error!(stage = %self.name, path = %self.path.display(), reason = %disabled, "plugin disabled");
            state.disabled = Some(disabled);
        } else {
            tracing::warn!(
                stage = %self.name,
                path = %self.path.display(),
                reason = %reason,
                crashes_in_a_row = state.crashes_in_a_row,
                "plugin process ended; it is restarted for the next article"
            );
        }
        reason
    }
}

enum Spawn {
    /// The library could not be loaded (the loader's message, naming the file).
    Load(String),
    /// The plugin refused its options: its own name and its message.
    Refused { plugin_name: String, message: String },
    /// The process failed.
    Failed(Failure),
}

impl ProcessStage {
    /// The stage's name (the same for both kinds: `Stage::name` and `StoryStage::name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the plugin declared itself a story stage (its process said so in `Hello`).
    pub fn is_story_stage(&self) -> bool {
        self.story
    }

    /// One call (`message` made from `input`) in the plugin's process, restarting the process
    /// first when it is gone; the error is the complete reason, not yet through `on_error`.
    fn call(
        &self,
        message: fn(Vec<u8>) -> Message,
        input: Vec<u8>,
        context: &dyn Context,
    ) -> Result<(Status, Vec<u8>), String> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(reason) = &state.disabled {
            return Err(format!("plugin `{}` ({}) is disabled: {reason}", self.name, self.path.display()));
        }
        if state.host.is_none() {
            // A pause after each crash, doubling, so a plugin that dies at once is not restarted
            // in a tight loop while the articles behind it wait for a few of them anyway.
            let pause = FIRST_BACKOFF
                .saturating_mul(1 << state.crashes_in_a_row.saturating_sub(1).min(16))
                .min(MAX_BACKOFF);
            if let Some(since) = state.last_crash.map(|t| t.elapsed()) {
                std::thread::sleep(pause.saturating_sub(since));
            }
            match self.spawn() {
                Ok((host, ..)) => {
                    tracing::info!(stage = %self.name, pid = host.process.id(), "plugin process restarted");
                    state.host = Some(host);
                }
                Err(spawn) => {
                    let failure = match spawn {
                        Spawn::Load(message) | Spawn::Refused { message, .. } => Failure::Died {
                            how: format!("could not be restarted: {message}"),
                            last_words: None,
                        },
                        Spawn::Failed(failure) => failure,
                    };
                    return Err(self.crashed(&mut state, &failure));
                }
            }
        }
        let host = state.host.as_mut().expect("started above");
        match host.call(message(input), context, self.timeout) {
            Ok(answer) => {
                state.crashes_in_a_row = 0;
                Ok(answer)
            }
            Err(failure) => Err(self.crashed(&mut state, &failure)),
        }
    }
}

impl Stage for ProcessStage {
    fn name(&self) -> &str {
        &self.name
    }

    fn process(&self, article: Article, context: &dyn Context) -> Outcome {
        let input = match serde_json::to_vec(&article) {
            Ok(input) => input,
            Err(e) => {
                let message = format!("plugin `{}`: cannot encode the article: {e}", self.name);
                return self.on_error(article, message);
            }
        };
        match self.call(Message::Process, input, context) {
            Ok(answer) => match read_answer(&article, answer) {
                Ok(outcome) => outcome,
                Err(message) => self.on_error(article, format!("plugin `{}`: {message}", self.name)),
            },
            Err(reason) => self.on_error(article, reason),
        }
    }
}

impl StoryStage for ProcessStage {
    fn name(&self) -> &str {
        &self.name
    }

    fn process_story(&self, story: Story, context: &dyn Context) -> StoryOutcome {
        let input = match serde_json::to_vec(&story) {
            Ok(input) => input,
            Err(e) => {
                let message = format!("plugin `{}`: cannot encode the story: {e}", self.name);
                return story_on_error(self.on_error, &self.name, message);
            }
        };
        match self.call(Message::ProcessStory, input, context) {
            Ok(answer) => match read_story_answer(&story, answer) {
                Ok(outcome) => outcome,
                Err(message) => {
                    story_on_error(self.on_error, &self.name, format!("plugin `{}`: {message}", self.name))
                }
            },
            Err(reason) => story_on_error(self.on_error, &self.name, reason),
        }
    }
}

impl Drop for ProcessStage {
    fn drop(&mut self) {
        if let Some(host) = self.state.get_mut().unwrap_or_else(|p| p.into_inner()).host.take() {
            host.close();
        }
    }
}

impl Host {
    fn send(&mut self, message: &Message) -> Result<(), Failure> {
        match message.write(&mut self.stdin) {
            Ok(()) => Ok(()),
            // A broken pipe: the process is gone (or closed its end); say how it ended.
            Err(_) => Err(self.died()),
        }
    }

    fn receive(&mut self, limit: Duration) -> Result<Message, Failure> {
        match self.frames.recv_timeout(limit) {
            Ok(Ok(message)) => Ok(message),
            Ok(Err(e)) => Err(self.broke(e.to_string())),
            Err(RecvTimeoutError::Timeout) => {
                self.kill();
                Err(Failure::TimedOut)
            }
            Err(RecvTimeoutError::Disconnected) => Err(self.died()),
        }
    }

    /// One `process` (or `process_story`) call, answering the plugin's context queries, within
    /// `timeout`.
    fn call(
        &mut self,
        request: Message,
        context: &dyn Context,
        timeout: Duration,
    ) -> Result<(Status, Vec<u8>), Failure> {
        let deadline = Instant::now() + timeout;
        self.send(&request)?;
        loop {
            match self.receive(deadline.saturating_duration_since(Instant::now()))? {
                Message::Done(status, bytes) => return Ok((status, bytes)),
                Message::Query(request) => {
                    let answer = match stage_api::query::answer(context, &request) {
                        Ok(bytes) => Message::Answer(Status::CONTINUE, bytes),
                        Err(message) => Message::Answer(Status::FAIL, message.into_bytes()),
                    };
                    self.send(&answer)?;
                }
                other => return Err(self.broke(format!("expected Done or Query, got {}", kind(&other)))),
            }
        }
    }

    /// The process broke the protocol: kill it.
    fn broke(&mut self, what: String) -> Failure {
        self.kill();
        Failure::Protocol(what)
    }

    fn kill(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }

    /// The process closed its pipe: wait for its end (killing it if it lingers) and say how.
    fn died(&mut self) -> Failure {
        let status = self.wait_for(EXIT_GRACE).or_else(|| {
            let _ = self.process.kill();
            self.process.wait().ok()
        });
        // Its last lines may still be in the pipe; the relay says when it read them all.
        let _ = self.stderr_closed.recv_timeout(Duration::from_secs(1));
        let last_words = self.last_stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let how = match status {
            Some(status) => ended(status),
            None => "ended in a way that could not be read".into(),
        };
        Failure::Died { how, last_words }
    }

    fn wait_for(&mut self, limit: Duration) -> Option<ExitStatus> {
        wait_for(&mut self.process, limit)
    }

    /// A clean end: the closed pipe tells the host to destroy the instance and exit.
    fn close(self) {
        let Host { mut process, stdin, .. } = self;
        drop(stdin);
        if wait_for(&mut process, Duration::from_secs(1)).is_none() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Ends a process that refused to start (it exits once the pipe closes).
    fn end(&mut self) {
        if self.wait_for(EXIT_GRACE).is_none() {
            self.kill();
        }
    }
}

/// Waits at most `limit` for `process` to exit.
fn wait_for(process: &mut std::process::Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match process.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => return None,
        }
    }
}

/// Logs each line the plugin's process writes to stderr under its name, keeping the last one
/// for the reason of a crash (a failed allocation, an assertion).
fn relay_stderr(
    stderr: std::process::ChildStderr,
    name: &Mutex<String>,
    last: &Mutex<Option<String>>,
    closed: std::sync::mpsc::Sender<()>,
) {
    let mut stderr = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match stderr.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end();
                if text.is_empty() {
                    continue;
                }
                let name = name.lock().unwrap_or_else(|p| p.into_inner()).clone();
                tracing::warn!(stage = %name, line = %text, "plugin stderr");
                let kept: String = text.chars().take(300).collect();
                *last.lock().unwrap_or_else(|p| p.into_inner()) = Some(kept);
            }
        }
    }
    let _ = closed.send(());
}

/// How a process ended, in words: `was killed by SIGSEGV`, `exited with status 3`.
fn ended(status: ExitStatus) -> String {
    match (status.signal(), status.code()) {
        (Some(signal), _) => format!("was killed by {}", signal_name(signal)),
        (None, Some(code)) => format!("exited with status {code}"),
        (None, None) => "ended".into(),
    }
}

/// The usual name of a signal number.
pub(crate) fn signal_name(signal: i32) -> String {
    let known = [
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGABRT, "SIGABRT"),
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGPIPE, "SIGPIPE"),
        (libc::SIGXCPU, "SIGXCPU"),
        (libc::SIGXFSZ, "SIGXFSZ"),
        (libc::SIGSYS, "SIGSYS"),
        (libc::SIGTRAP, "SIGTRAP"),
    ];
    known
        .iter()
        .find(|(n, _)| *n == signal)
        .map_or_else(|| format!("signal {signal}"), |(_, name)| name.to_string())
}

/// The article's reason after the plugin's name and path.
fn describe(failure: &Failure, timeout: Duration) -> String {
    match failure {
        Failure::TimedOut => format!(
            "took longer than timeout_millis ({} ms) on this article; its process was killed",
            timeout.as_millis()
        ),
        Failure::Died { how, last_words } => {
            let mut text = format!("{how} while processing this article");
            if let Some(words) = last_words {
                text.push_str(&format!(" (its last line on stderr: {words:?})"));
            }
            text
        }
        Failure::Protocol(what) => {
            format!("broke the pipe protocol while processing this article ({what}); its process was killed")
        }
    }
}

/// The failure in a few words, for the `disabled` reason.
fn short(failure: &Failure) -> String {
    match failure {
        Failure::TimedOut => "overran timeout_millis".into(),
        Failure::Died { how, .. } => how.clone(),
        Failure::Protocol(_) => "broke the pipe protocol".into(),
    }
}

fn kind(message: &Message) -> &'static str {
    match message {
        Message::Hello { .. } => "Hello",
        Message::LoadError(_) => "LoadError",
        Message::Create(_) => "Create",
        Message::Created(..) => "Created",
        Message::Process(_) => "Process",
        Message::ProcessStory(_) => "ProcessStory",
        Message::Query(_) => "Query",
        Message::Answer(..) => "Answer",
        Message::Done(..) => "Done",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_are_named_as_people_know_them() {
        assert_eq!(signal_name(libc::SIGSEGV), "SIGSEGV");
        assert_eq!(signal_name(libc::SIGABRT), "SIGABRT");
        assert_eq!(signal_name(1000), "signal 1000");
    }

    /// The reasons an article gets, from real processes ending each way.
    #[test]
    fn how_a_process_ended_reads_as_words() {
        let run = |script: &str| Command::new("sh").args(["-c", script]).status().unwrap();
        assert_eq!(ended(run("kill -SEGV $$")), "was killed by SIGSEGV");
        assert_eq!(ended(run("kill -ABRT $$")), "was killed by SIGABRT");
        assert_eq!(ended(run("exit 3")), "exited with status 3");
        let failure = Failure::Died { how: ended(run("kill -SEGV $$")), last_words: Some("boom".into()) };
        assert_eq!(
            describe(&failure, Duration::from_secs(1)),
            "was killed by SIGSEGV while processing this article (its last line on stderr: \"boom\")"
        );
        assert_eq!(
            describe(&Failure::TimedOut, Duration::from_millis(500)),
            "took longer than timeout_millis (500 ms) on this article; its process was killed"
        );
    }
}
