//! A loaded plugin as a [`Stage`]: article to JSON, a time-boxed call, JSON back to an outcome,
//! and the stage's `on_error` policy for everything that goes wrong.

use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use stage_api::abi::Status;
use stage_api::{Article, Context, Outcome, Stage, Story, StoryFields, StoryOutcome, StoryStage};

use crate::worker::{Answer, CallError, Entry, Worker};
use crate::{Library, PluginError};

/// What happens to an article when the plugin fails on it, overruns, or answers garbage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// The article goes to `failed/` with the plugin's message (the default).
    #[default]
    Fail,
    /// The article goes on unchanged to the next stage; the problem is logged.
    Pass,
}

/// How one configured plugin stage is set up.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginSettings {
    /// The stage name in logs, the store and error files; the plugin's own name when `None`.
    pub name: Option<String>,
    /// The error policy.
    pub on_error: OnError,
    /// The longest one call may take before the plugin is disabled.
    pub timeout: Duration,
    /// The `options` of the config entry, handed to the plugin's `create` as JSON.
    pub options: serde_json::Value,
    /// In a process of its own (the default) or inside the daemon.
    pub isolation: Isolation,
}

/// Where a plugin runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// In a `briefd plugin-host` process of its own ([`crate::ProcessStage`]): a crash, an
    /// overrun or runaway memory costs the article in hand, never the daemon.
    Process(ProcessLimits),
    /// Inside the daemon ([`PluginStage`]): no process boundary to cross, but a crash in the
    /// plugin is a crash of the daemon. For trusted, fast plugins.
    InProcess,
}

impl Default for Isolation {
    /// A daemon fed by strangers' files runs strangers' plugins on them: process is the safe default.
    fn default() -> Isolation {
        Isolation::Process(ProcessLimits::default())
    }
}

/// The bounds of a plugin's process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessLimits {
    /// Its address space (`RLIMIT_AS`), so a runaway allocation fails in it, not the machine.
    pub memory_limit_bytes: u64,
    /// Crashes (or overruns) in a row after which the plugin is disabled instead of restarted.
    pub max_consecutive_crashes: u32,
}

impl Default for ProcessLimits {
    fn default() -> ProcessLimits {
        ProcessLimits { memory_limit_bytes: 1 << 30, max_consecutive_crashes: 3 }
    }
}

/// A plugin instance wrapped as a stage.
pub struct PluginStage {
    name: String,
    library: Library,
    on_error: OnError,
    timeout: Duration,
    state: Mutex<State>,
}

enum State {
    Ready(Worker),
    /// Disabled after a call overran or the helper thread ended; the reason says which.
    Disabled(String),
}

impl PluginStage {
    /// Creates an instance of `library` with `settings` (the plugin sees its options here).
    pub fn new(library: Library, settings: PluginSettings) -> Result<PluginStage, PluginError> {
        let name = settings.name.unwrap_or_else(|| library.name().to_string());
        let options = settings.options.to_string().into_bytes();
        // A thread name may not hold NUL, and `name` comes from the config.
        let thread_name = format!("plugin-{}", name.replace('\0', ""));
        let worker = Worker::start(library.descriptor(), thread_name, options, settings.timeout)
            .map_err(|message| PluginError::Create { name: name.clone(), message })?;
        tracing::debug!(stage = %name, path = %library.path().display(), version = library.plugin_version(), "plugin started");
        Ok(PluginStage {
            name,
            library,
            on_error: settings.on_error,
            timeout: settings.timeout,
            state: Mutex::new(State::Ready(worker)),
        })
    }

    /// The stage's name (the same for both kinds: `Stage::name` and `StoryStage::name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The library this stage runs.
    pub fn library(&self) -> &Library {
        &self.library
    }

    /// Whether the stage was disabled (after an overrun), and why.
    pub fn disabled(&self) -> Option<String> {
        match &*self.state.lock().unwrap_or_else(|p| p.into_inner()) {
            State::Disabled(reason) => Some(reason.clone()),
            State::Ready(_) => None,
        }
    }

    /// Applies `on_error` to a problem with `article`.
    fn on_error(&self, article: Article, message: String) -> Outcome {
        match self.on_error {
            OnError::Fail => Outcome::Fail { message: format!("plugin `{}`: {message}", self.name) },
            OnError::Pass => {
                tracing::warn!(stage = %self.name, reason = %message, "plugin failed; passing the article on unchanged (on_error: pass)");
                Outcome::Continue(article)
            }
        }
    }
}

/// Turns a plugin's raw answer into an outcome, refusing anything malformed; shared by both
/// isolations, so a plugin is judged the same in or out of process.
pub(crate) fn read_answer(article: &Article, (status, bytes): Answer) -> Result<Outcome, String> {
    match status {
        Status::CONTINUE => {
            let next: Article = serde_json::from_slice(&bytes).map_err(|e| {
                let start = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]).into_owned();
                format!("returned an article that is not valid article JSON ({e}); it began {start:?}")
            })?;
            for (field, same) in [
                ("file_name", next.file_name == article.file_name),
                ("item_index", next.item_index == article.item_index),
                ("received_at", next.received_at == article.received_at),
            ] {
                if !same {
                    return Err(format!(
                        "changed `{field}`, which identifies the article and must stay as it is"
                    ));
                }
            }
            Ok(Outcome::Continue(next))
        }
        Status::DROP => Ok(Outcome::Drop { reason: utf8(&bytes, "drop reason")? }),
        Status::FAIL => Err(utf8(&bytes, "failure message")?),
        Status(other) => Err(format!("returned the unknown status {other} (expected 0, 1 or 2)")),
    }
}

fn utf8(bytes: &[u8], what: &str) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| format!("returned a {what} that is not UTF-8"))
}

impl PluginStage {
    /// One call of `entry` on `input` (an article's or a story's JSON), within the time box; the
    /// error is the reason, not yet through `on_error`.
    fn call(&self, entry: Entry, input: Vec<u8>, context: &dyn Context) -> Result<Answer, String> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let worker = match &*state {
            State::Ready(worker) => worker,
            State::Disabled(reason) => return Err(format!("disabled: {reason}")),
        };
        match worker.call(entry, input, context, self.timeout) {
            Ok(answer) => Ok(answer),
            Err(error) => {
                let reason = match error {
                    CallError::TimedOut => format!(
                        "a call took longer than timeout_millis ({} ms); the plugin is disabled until briefd restarts",
                        self.timeout.as_millis()
                    ),
                    CallError::Gone => "the plugin's thread ended; the plugin is disabled until briefd restarts".into(),
                };
                tracing::error!(stage = %self.name, path = %self.library.path().display(), reason = %reason, "plugin disabled");
                // Dropping the worker handle lets a stuck helper thread end (and destroy the
                // instance) if the call ever returns.
                *state = State::Disabled(reason.clone());
                Err(reason)
            }
        }
    }
}

impl Stage for PluginStage {
    fn name(&self) -> &str {
        &self.name
    }

    fn process(&self, article: Article, context: &dyn Context) -> Outcome {
        let input = match serde_json::to_vec(&article) {
            Ok(input) => input,
            Err(e) => return self.on_error(article, format!("cannot encode the article: {e}")),
        };
        match self.call(Entry::Article, input, context).and_then(|answer| read_answer(&article, answer)) {
            Ok(outcome) => outcome,
            Err(message) => self.on_error(article, message),
        }
    }
}

impl StoryStage for PluginStage {
    fn name(&self) -> &str {
        &self.name
    }

    fn process_story(&self, story: Story, context: &dyn Context) -> StoryOutcome {
        let outcome = serde_json::to_vec(&story)
            .map_err(|e| format!("cannot encode the story: {e}"))
            .and_then(|input| self.call(Entry::Story, input, context))
            .and_then(|answer| read_story_answer(&story, answer));
        match outcome {
            Ok(outcome) => outcome,
            Err(message) => {
                story_on_error(self.on_error, &self.name, format!("plugin `{}`: {message}", self.name))
            }
        }
    }
}

/// Turns a story stage's raw answer into its outcome, refusing anything malformed (fields that
/// are not story fields JSON, citations outside the story); shared by both isolations.
pub(crate) fn read_story_answer(story: &Story, (status, bytes): Answer) -> Result<StoryOutcome, String> {
    match status {
        Status::CONTINUE => {
            let fields: StoryFields = serde_json::from_slice(&bytes).map_err(|e| {
                let start = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]).into_owned();
                format!(
                    "returned story fields that are not valid story fields JSON ({e}); they began {start:?}"
                )
            })?;
            match fields.problem(story) {
                Some(problem) => Err(format!("returned unusable story fields: {problem}")),
                None => Ok(StoryOutcome::Set(fields)),
            }
        }
        Status::DROP => Ok(StoryOutcome::Skip { reason: utf8(&bytes, "reason")? }),
        Status::FAIL => Err(utf8(&bytes, "failure message")?),
        Status(other) => Err(format!("returned the unknown status {other} (expected 0, 1 or 2)")),
    }
}

/// `on_error` for a story: `fail` records the failure with the story; `pass` sets nothing and
/// says why. Either way the story's article is already committed and stays in the briefing.
pub(crate) fn story_on_error(on_error: OnError, name: &str, message: String) -> StoryOutcome {
    match on_error {
        OnError::Fail => StoryOutcome::Fail { message },
        OnError::Pass => {
            tracing::warn!(stage = %name, reason = %message, "plugin failed; the story's fields are left as they are (on_error: pass)");
            StoryOutcome::Skip { reason: format!("{message} (on_error: pass)") }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_error_reads_fail_and_pass_and_defaults_to_fail() {
        assert_eq!(serde_json::from_str::<OnError>("\"pass\"").unwrap(), OnError::Pass);
        assert_eq!(serde_json::from_str::<OnError>("\"fail\"").unwrap(), OnError::Fail);
        assert!(serde_json::from_str::<OnError>("\"ignore\"").is_err());
        assert_eq!(OnError::default(), OnError::Fail);
    }

    #[test]
    fn text_answers_must_be_utf8() {
        assert_eq!(utf8(b"ok", "drop reason").unwrap(), "ok");
        assert_eq!(utf8(&[0xff], "drop reason").unwrap_err(), "returned a drop reason that is not UTF-8");
    }
}
