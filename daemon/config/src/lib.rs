//! briefd's configuration: a YAML file read into raw serde structs, then validated once into a
//! [`Config`] whose values are known to be usable.
//!
//! This is the only crate that knows the file is YAML (serde_yaml is unmaintained upstream, so it
//! stays behind this one module to be swapped in one place). Every path in the file is relative
//! to the file's own folder.

mod raw;
mod validate;

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use validate::Problem;

/// A validated configuration: every field holds a usable value.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was read from.
    pub source: PathBuf,
    /// Where files come from and go.
    pub paths: Paths,
    /// How the inbox is watched and files are taken.
    pub inbox: InboxSettings,
    /// How the daily briefing is written.
    pub briefing: BriefingSettings,
    /// How long a stopping daemon waits for the article in flight before leaving it for the next start.
    pub shutdown_timeout: Duration,
    /// The stages, in order.
    pub stages: Vec<StageConfig>,
}

/// Absolute folders and files the daemon uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Folder watched for new files.
    pub inbox: PathBuf,
    /// Finished source files go to `archive/YYYY-MM-DD/`.
    pub archive: PathBuf,
    /// Failed files go here beside a `<name>.error.txt`.
    pub failed: PathBuf,
    /// Daily briefings are written here.
    pub briefings: PathBuf,
    /// The SQLite database file.
    pub database: PathBuf,
}

impl Paths {
    /// Accepted files wait here while in flight; inside the inbox so that taking a file is one
    /// atomic rename on one filesystem, and hidden so the scanner skips it.
    pub fn processing(&self) -> PathBuf {
        self.inbox.join(".processing")
    }
}

/// Inbox behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxSettings {
    /// A file not renamed in is taken once its size and mtime have been unchanged this long.
    pub settle: Duration,
    /// The whole inbox is rescanned this often, in case the watcher missed something.
    pub rescan_interval: Duration,
    /// Files larger than this go to `failed/` unread.
    pub max_file_bytes: u64,
    /// How many accepted files may wait for the pipeline; the rest stay in the inbox.
    pub queue_capacity: NonZeroUsize,
}

/// Briefing behaviour.
#[derive(Debug, Clone)]
pub struct BriefingSettings {
    /// The zone whose local date names each day's briefing.
    pub timezone: jiff::tz::TimeZone,
    /// Changes within this window are written together.
    pub debounce: Duration,
}

/// One configured stage with its options.
#[derive(Debug, Clone, PartialEq)]
pub enum StageConfig {
    /// Built-in cleaner.
    Clean(clean::Options),
    /// Built-in deduplicator.
    Dedupe(dedupe::Options),
    /// Built-in summarizer.
    Summarize(summarize::Options),
    /// Built-in key-point picker.
    Keypoints(keypoints::Options),
    /// A stage loaded from a shared library, already loaded and started by validation.
    Plugin(PluginConfig),
}

/// A `kind: plugin` stage: where it came from, how it is set up, and the running instance.
#[derive(Clone)]
pub struct PluginConfig {
    /// The library file (absolute).
    pub path: PathBuf,
    /// Name, error policy, time box and options.
    pub settings: plugin_host::PluginSettings,
    /// The instance made at validation, so that its options were checked by the plugin itself;
    /// shared because a config is cloned but a plugin instance is not.
    pub stage: Arc<plugin_host::PluginStage>,
}

impl std::fmt::Debug for PluginConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginConfig").field("path", &self.path).field("settings", &self.settings).finish()
    }
}

impl PartialEq for PluginConfig {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.settings == other.settings
    }
}

impl StageConfig {
    /// The stage's name: the `kind` of a built-in, the configured or declared name of a plugin.
    pub fn name(&self) -> &str {
        match self {
            StageConfig::Plugin(p) => stage_api::Stage::name(p.stage.as_ref()),
            other => other.kind(),
        }
    }

    /// The `kind` as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            StageConfig::Clean(_) => "clean",
            StageConfig::Dedupe(_) => "dedupe",
            StageConfig::Summarize(_) => "summarize",
            StageConfig::Keypoints(_) => "keypoints",
            StageConfig::Plugin(_) => "plugin",
        }
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read the config file: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The YAML did not match the expected shape.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what to write instead.
        message: String,
    },
    /// The values parsed but cannot be used; every problem is listed.
    #[error("{}: {} problem(s):\n{}", path.display(), problems.len(), problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Each problem found.
        problems: Vec<Problem>,
    },
}

impl Config {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_yaml(path, &text)
    }

    /// Parses and validates `text` as if read from `path` (paths resolve against its folder).
    pub fn from_yaml(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw = raw::parse(path, text)?;
        validate::validate(path, raw)
    }
}
