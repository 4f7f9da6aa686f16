//! briefd's configuration: a YAML file read into raw serde structs, then validated once into a
//! [`Config`] whose values are known to be usable.
//!
//! This is the only crate that knows the file is YAML (serde_yaml is unmaintained upstream, so it
//! stays behind this one module to be swapped in one place). Every path in the file is relative
//! to the file's own folder.
//!
//! A config is plain data: it names the stages and their options but starts nothing. A
//! `kind: plugin` entry is a library path and its settings; loading and starting it (where the
//! plugin checks its own options) is `pipeline::Pipeline::build`'s job, for `briefd run` and
//! `briefd check-config` alike.

mod locate;
mod raw;
mod validate;

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
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
    /// Whether `briefd run` serves the briefing over HTTP too, and where.
    pub serve: Option<ServeSettings>,
    /// How long one stage may work on one article; past it the article fails ("stage keypoints
    /// took longer than 60 s") and the pipeline goes on with the next.
    pub stage_budget: Duration,
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
    /// Where the state is: a SQLite file, or a PostgreSQL database.
    pub database: Database,
}

/// Where the state is, as `database:` says: a path is a SQLite file (the default, nothing to
/// install); a `postgres://` or `postgresql://` URL is a PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite database file, resolved against the config's folder.
    File(PathBuf),
    /// A PostgreSQL database, by its URL (which may hold a password: show it redacted).
    Postgres(String),
}

impl Database {
    /// The SQLite file; `None` for PostgreSQL.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Database::File(path) => Some(path),
            Database::Postgres(_) => None,
        }
    }
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
    /// How long a daemon's claims (files in flight, the editor's story) stay its own without a
    /// renewal; a daemon killed mid-file has its files taken over once this passes.
    pub claim_lease: Duration,
    /// How often a running daemon renews its lease (well under `claim_lease`).
    pub heartbeat: Duration,
}

/// Briefing behaviour.
#[derive(Debug, Clone)]
pub struct BriefingSettings {
    /// The zone whose local date names each day's briefing.
    pub timezone: jiff::tz::TimeZone,
    /// Changes within this window are written together.
    pub debounce: Duration,
}

/// `serve:`: the HTTP server `briefd run` runs beside the daemon (the same as `briefd serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeSettings {
    /// The address and port to listen on.
    pub listen: std::net::SocketAddr,
    /// Whether an address other machines reach was asked for on purpose.
    pub public: bool,
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
    /// A stage loaded from a shared library when the pipeline is built.
    Plugin(PluginConfig),
}

/// A `kind: plugin` stage: the library and how to set it up. Nothing is loaded here.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginConfig {
    /// The library file (absolute).
    pub path: PathBuf,
    /// Name, error policy, time box and options.
    pub settings: plugin_host::PluginSettings,
}

impl StageConfig {
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
    #[error("{}: cannot read the config file", path.display())]
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
    /// Keys of the wrong shape, or values that cannot be used; every problem is listed, each
    /// with its line and column when the file writes its key.
    #[error("{}: {} problem(s):\n{}", path.display(), problems.len(), list(path, problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Each problem found.
        problems: Vec<Problem>,
        /// The plugin entries that are valid as data, with their index in `stages`: a checker
        /// can start them too, so that one report names the plugins' problems with the rest.
        plugins: Vec<(usize, PluginConfig)>,
    },
}

/// One line per problem, as compilers write them: `file:line:column: key: message`, or
/// `file: key: message` for a key the file does not write.
fn list(path: &Path, problems: &[Problem]) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| match p.location {
            Some(_) => format!("  {}:{p}", path.display()),
            None => format!("  {}: {p}", path.display()),
        })
        .collect();
    lines.join("\n")
}

impl Config {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Config::from_yaml(path, &text)
    }

    /// Where `key` (a key path as problems name it, `stages[3] (plugin)`) is written in the
    /// config file: its line and column, for problems found after validation (a plugin's kind is
    /// known only once `Pipeline::build` has started it). `None` when the file cannot be read
    /// again or does not write the key.
    pub fn locate(&self, key: &str) -> Option<(usize, usize)> {
        let text = std::fs::read_to_string(&self.source).ok()?;
        locate::locate(&text, &locate::steps(key))
    }

    /// Parses and validates `text` as if read from `path` (paths resolve against its folder).
    pub fn from_yaml(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let checked = raw::parse(path, text).and_then(|raw| validate::validate(path, raw));
        checked.map_err(|e| match e {
            ConfigError::Invalid { path, mut problems, plugins } => {
                for p in &mut problems {
                    p.location = p.location.or_else(|| locate::locate(text, &locate::steps(&p.key)));
                }
                ConfigError::Invalid { path, problems, plugins }
            }
            other => other,
        })
    }
}
