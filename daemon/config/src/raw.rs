//! The file's shape as serde sees it: every field named as in the YAML, unknown fields refused.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ConfigError;

/// The top level of `config.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub inbox: RawInbox,
    #[serde(default = "default_archive")]
    pub archive: PathBuf,
    #[serde(default = "default_failed")]
    pub failed: PathBuf,
    #[serde(default)]
    pub briefing: RawBriefing,
    #[serde(default = "default_database")]
    pub database: PathBuf,
    #[serde(default = "default_shutdown_timeout")]
    pub shutdown_timeout_seconds: u64,
    pub stages: Vec<RawStage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInbox {
    pub path: PathBuf,
    #[serde(default = "default_settle")]
    pub settle_millis: u64,
    #[serde(default = "default_rescan")]
    pub rescan_interval_seconds: u64,
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    #[serde(default = "default_queue_capacity")]
    pub queue_capacity: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBriefing {
    #[serde(default = "default_briefings")]
    pub path: PathBuf,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default = "default_debounce")]
    pub debounce_millis: u64,
}

impl Default for RawBriefing {
    fn default() -> Self {
        RawBriefing {
            path: default_briefings(),
            timezone: default_timezone(),
            debounce_millis: default_debounce(),
        }
    }
}

/// A stage entry: `kind` picks the stage, the other keys are its options.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum RawStage {
    Clean(clean::Options),
    Dedupe(dedupe::Options),
    Summarize(summarize::Options),
    Keypoints(keypoints::Options),
    Plugin(RawPlugin),
}

/// A `kind: plugin` entry: a stage loaded from a shared library.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlugin {
    /// The library, relative to the config file's folder.
    pub path: PathBuf,
    /// The stage name; the plugin's own when absent.
    pub name: Option<String>,
    #[serde(default)]
    pub on_error: plugin_host::OnError,
    #[serde(default = "default_plugin_timeout")]
    pub timeout_millis: u64,
    /// Handed to the plugin as JSON.
    #[serde(default = "empty_options")]
    pub options: serde_json::Value,
}

fn default_plugin_timeout() -> u64 {
    5000
}
fn empty_options() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

fn default_archive() -> PathBuf {
    "archive".into()
}
fn default_failed() -> PathBuf {
    "failed".into()
}
fn default_briefings() -> PathBuf {
    "briefings".into()
}
fn default_database() -> PathBuf {
    "state/briefd.db".into()
}
fn default_timezone() -> String {
    "local".into()
}
fn default_shutdown_timeout() -> u64 {
    10
}
fn default_settle() -> u64 {
    1000
}
fn default_rescan() -> u64 {
    30
}
fn default_max_file_bytes() -> u64 {
    20 * 1024 * 1024
}
fn default_queue_capacity() -> usize {
    32
}
fn default_debounce() -> u64 {
    500
}

/// Parses `text`, turning serde's message into `file:line:col: message; did you mean ...`.
pub(crate) fn parse(path: &Path, text: &str) -> Result<RawConfig, ConfigError> {
    serde_yaml::from_str(text).map_err(|e| {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
        ConfigError::Parse { path: path.to_path_buf(), line, column, message: explain(&e.to_string()) }
    })
}

/// Drops serde_yaml's own location suffix and adds a suggestion for a misspelt name.
fn explain(message: &str) -> String {
    let message = match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    let mut out = message.to_string();
    // serde's wording: "unknown field `modle`, expected one of `a`, `b`" or "unknown variant `x`, expected ..."
    // serde_yaml puts the key path first ("inbox: unknown field ..."); the wording follows.
    let wording = ["unknown field ", "unknown variant "]
        .iter()
        .find_map(|w| message.find(w).map(|i| &message[i + w.len()..]));
    if let Some(rest) = wording {
        let names: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
        if let Some((given, expected)) = names.split_first() {
            let best = expected
                .iter()
                .map(|c| (strsim::jaro_winkler(given, c), *c))
                .filter(|(score, _)| *score > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((_, name)) = best {
                out = format!("{out}; did you mean `{name}`?");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::explain;

    #[test]
    fn suggests_the_closest_field_name() {
        let m = explain(
            "inbox: unknown field `setle_millis`, expected one of `path`, `settle_millis` at line 3 column 3",
        );
        assert_eq!(
            m,
            "inbox: unknown field `setle_millis`, expected one of `path`, `settle_millis`; did you mean `settle_millis`?"
        );
    }

    #[test]
    fn gives_no_suggestion_when_nothing_is_close() {
        let m = explain("unknown field `zzz`, expected `path`");
        assert_eq!(m, "unknown field `zzz`, expected `path`");
    }
}
