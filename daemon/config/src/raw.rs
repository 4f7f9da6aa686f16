//! The file's shape as serde sees it: every field named as in the YAML, unknown fields refused.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_path_to_error::Segment;
use serde_yaml::{Mapping, Value};

use crate::{ConfigError, Problem};

/// The top level of `config.yaml`, read one key at a time ([`parse`]) so that every wrong key
/// is reported, each with its full path.
#[derive(Debug)]
pub(crate) struct RawConfig {
    pub inbox: RawInbox,
    pub archive: PathBuf,
    pub failed: PathBuf,
    pub briefing: RawBriefing,
    pub database: PathBuf,
    pub shutdown_timeout_seconds: u64,
    pub serve: Option<RawServe>,
    pub stage_budget_seconds: f64,
    pub stages: Vec<RawStage>,
}

/// The top-level keys, in the order the shipped config writes them.
const TOP_LEVEL: [&str; 9] = [
    "inbox",
    "archive",
    "failed",
    "database",
    "briefing",
    "shutdown_timeout_seconds",
    "stage_budget_seconds",
    "serve",
    "stages",
];

/// The stage kinds, as `kind:` names them.
const KINDS: [&str; 5] = ["clean", "dedupe", "summarize", "keypoints", "plugin"];

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
    #[serde(default = "default_claim_lease")]
    pub claim_lease_seconds: u64,
    #[serde(default = "default_heartbeat")]
    pub heartbeat_seconds: u64,
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

/// `serve:`: `briefd run` also serves the briefing over HTTP, as `briefd serve` does.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServe {
    /// `address:port`, checked in validation (so a bad one is reported in a user's words).
    pub listen: String,
    /// Allows an address other machines reach.
    #[serde(default)]
    pub public: bool,
}

/// A stage entry: `kind` picks the stage, the other keys are its options.
#[derive(Debug)]
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
    /// `process` (the default) or `in_process`.
    #[serde(default)]
    pub isolation: RawIsolation,
    /// The plugin process's address space, in MiB (process isolation only).
    pub memory_limit_mib: Option<u64>,
    /// Crashes in a row before the plugin is disabled (process isolation only).
    pub max_consecutive_crashes: Option<u32>,
}

/// Where a plugin runs, as written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawIsolation {
    #[default]
    Process,
    InProcess,
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
fn default_stage_budget() -> f64 {
    60.0
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
fn default_claim_lease() -> u64 {
    30
}
fn default_heartbeat() -> u64 {
    5
}
fn default_debounce() -> u64 {
    500
}

/// Parses `text`: a YAML syntax error stops at once (`file:line:col`); otherwise every key of
/// the wrong shape is a [`Problem`] named by its path (`stages[2].max_new_tokens`), all of them
/// reported together.
pub(crate) fn parse(path: &Path, text: &str) -> Result<RawConfig, ConfigError> {
    let doc: Value = serde_yaml::from_str(text).map_err(|e| {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
        ConfigError::Parse { path: path.to_path_buf(), line, column, message: plain(&e.to_string()) }
    })?;
    let mut problems = Vec::new();
    let empty = Mapping::new();
    let map = match &doc {
        Value::Mapping(map) => map,
        Value::Null => &empty,
        _ => {
            problems.push(Problem::new(
                "(top level)",
                "the file must hold `key: value` lines (inbox:, stages:, ...)",
            ));
            &empty
        }
    };
    for key in map.keys() {
        let name = key.as_str().unwrap_or("");
        if !TOP_LEVEL.contains(&name) {
            problems.push(Problem::new(name, &unknown("key", name, &TOP_LEVEL)));
        }
    }
    let mut read = Reader { map, problems: &mut problems };
    let inbox = read.required::<RawInbox>("inbox");
    let archive = read.or("archive", default_archive);
    let failed = read.or("failed", default_failed);
    let briefing = read.or("briefing", RawBriefing::default);
    let database = read.or("database", default_database);
    let shutdown_timeout_seconds = read.or("shutdown_timeout_seconds", default_shutdown_timeout);
    let serve = read.or("serve", || None);
    let stage_budget_seconds = read.or("stage_budget_seconds", default_stage_budget);
    let stages = stages(map.get("stages"), &mut problems);
    match (inbox, stages) {
        (Some(inbox), Some(stages)) if problems.is_empty() => Ok(RawConfig {
            inbox,
            archive,
            failed,
            briefing,
            database,
            shutdown_timeout_seconds,
            serve,
            stage_budget_seconds,
            stages,
        }),
        _ => Err(ConfigError::Invalid { path: path.to_path_buf(), problems, plugins: Vec::new() }),
    }
}

/// Reads the top-level keys, adding a problem for each that does not fit.
struct Reader<'a> {
    map: &'a Mapping,
    problems: &'a mut Vec<Problem>,
}

impl Reader<'_> {
    fn required<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        match self.map.get(key) {
            Some(value) => read(key, value.clone(), self.problems),
            None => {
                self.problems.push(Problem::new(key, &format!("missing; the config needs `{key}:`")));
                None
            }
        }
    }

    fn or<T: DeserializeOwned>(&mut self, key: &str, default: fn() -> T) -> T {
        match self.map.get(key) {
            // The default stands in for a wrong value, whose problem stops the config anyway.
            Some(value) => read(key, value.clone(), self.problems).unwrap_or_else(default),
            None => default(),
        }
    }
}

/// `value` as a `T`, or `None` with a problem for each key of the wrong shape, named `prefix` +
/// its path inside the value. serde stops at the first error of a value, so each offending key
/// is taken out and the rest read again, until it reads or nothing more can be taken out.
fn read<T: DeserializeOwned>(prefix: &str, mut value: Value, problems: &mut Vec<Problem>) -> Option<T> {
    let mut failed = false;
    for _ in 0..MAX_PROBLEMS_PER_VALUE {
        let e = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            Ok(read) => return (!failed).then_some(read),
            Err(e) => e,
        };
        failed = true;
        let mut key = prefix.to_string();
        let mut path: Vec<&str> = Vec::new();
        for segment in e.path().iter() {
            match segment {
                Segment::Seq { index } => key.push_str(&format!("[{index}]")),
                Segment::Map { key: k } | Segment::Enum { variant: k } => {
                    key.push('.');
                    key.push_str(k);
                    path.push(k);
                }
                Segment::Unknown => {}
            }
        }
        let message = e.inner().to_string();
        // An unknown field is found at its own line, not its parent's.
        let unknown = message.strip_prefix("unknown field `").and_then(|r| r.split('`').next());
        if let Some(field) = unknown.filter(|f| path.last() != Some(f)) {
            key = format!("{key}.{field}");
            path.push(field);
        }
        problems.push(Problem::new(&key, &plain(&message)));
        if !remove(&mut value, &path) {
            break;
        }
    }
    None
}

/// At most this many problems are reported for one top-level key or stage.
const MAX_PROBLEMS_PER_VALUE: usize = 20;

/// Takes the key at `path` (map keys from the top) out of `value`; false when it is not there.
fn remove(value: &mut Value, path: &[&str]) -> bool {
    let Some((last, parents)) = path.split_last() else { return false };
    let mut at = value;
    for key in parents {
        match at.get_mut(*key) {
            Some(inner) => at = inner,
            None => return false,
        }
    }
    at.as_mapping_mut().and_then(|m| m.remove(*last)).is_some()
}

/// The `stages` list, each entry read as the stage its `kind` names.
fn stages(value: Option<&Value>, problems: &mut Vec<Problem>) -> Option<Vec<RawStage>> {
    let Some(value) = value else {
        problems.push(Problem::new(
            "stages",
            "missing; the config needs `stages:` with at least `- kind: clean`",
        ));
        return None;
    };
    let Value::Sequence(entries) = value else {
        problems.push(Problem::new("stages", "must be a list of `- kind: ...` entries"));
        return None;
    };
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let key = format!("stages[{i}]");
        let Value::Mapping(map) = entry else {
            problems.push(Problem::new(&key, "must be `kind: ...` and the stage's options"));
            continue;
        };
        let kind = map.get("kind").and_then(Value::as_str);
        let mut options = map.clone();
        options.remove("kind");
        let options = Value::Mapping(options);
        let stage = match kind {
            Some("clean") => read(&key, options, problems).map(RawStage::Clean),
            Some("dedupe") => read(&key, options, problems).map(RawStage::Dedupe),
            Some("summarize") => read(&key, options, problems).map(RawStage::Summarize),
            Some("keypoints") => read(&key, options, problems).map(RawStage::Keypoints),
            Some("plugin") => read(&key, options, problems).map(RawStage::Plugin),
            Some(other) => {
                problems.push(Problem::new(&format!("{key}.kind"), &unknown("stage kind", other, &KINDS)));
                None
            }
            None => {
                problems.push(Problem::new(
                    &key,
                    "has no `kind`: write `- kind: clean` (or dedupe, summarize, keypoints, plugin)",
                ));
                None
            }
        };
        out.extend(stage);
    }
    Some(out)
}

/// "unknown stage kind `summarise`; expected one of `clean`, ...; did you mean `summarize`?"
fn unknown(what: &str, given: &str, expected: &[&str]) -> String {
    let list: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
    let mut out = format!("unknown {what} `{given}`; expected one of {}", list.join(", "));
    if let Some(name) = closest(given, expected) {
        out.push_str(&format!("; did you mean `{name}`?"));
    }
    out
}

fn closest<'a>(given: &str, expected: &[&'a str]) -> Option<&'a str> {
    expected
        .iter()
        .map(|c| (strsim::jaro_winkler(given, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

/// serde's message in a user's words: no location suffix (the caller gives one), no Rust type
/// names ("expected u64" is "expected a whole number, 0 or more"), and a suggestion for a
/// misspelt name.
fn plain(message: &str) -> String {
    let message = match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    // serde's wording: "unknown field `modle`, expected one of `a`, `b`" or "unknown variant `x`, expected ...";
    // serde_yaml may put a key path first ("inbox: unknown field ...").
    let wording = ["unknown field ", "unknown variant "]
        .iter()
        .find_map(|w| message.find(w).map(|i| &message[i + w.len()..]));
    if let Some(rest) = wording {
        let names: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
        if let Some((given, expected)) = names.split_first() {
            if let Some(name) = closest(given, expected) {
                return format!("{message}; did you mean `{name}`?");
            }
        }
        return message.to_string();
    }
    const TYPES: [(&str, &str); 14] = [
        ("u8", "a whole number, 0 or more"),
        ("u16", "a whole number, 0 or more"),
        ("u32", "a whole number, 0 or more"),
        ("u64", "a whole number, 0 or more"),
        ("usize", "a whole number, 0 or more"),
        ("i32", "a whole number"),
        ("i64", "a whole number"),
        ("f32", "a number"),
        ("f64", "a number"),
        ("a boolean", "true or false"),
        ("a string", "text"),
        ("a sequence", "a list"),
        ("a map", "`key: value` lines"),
        ("path string", "a file or folder path"),
    ];
    let Some((found, expected)) = message.split_once(", expected ") else { return message.to_string() };
    let expected = TYPES.iter().find(|(t, _)| *t == expected).map_or(expected, |(_, words)| words);
    let found = found
        .trim_start_matches("invalid type: ")
        .trim_start_matches("invalid value: ")
        .replace("string ", "the text ")
        .replace("integer ", "")
        .replace("floating point ", "")
        .replace('`', "");
    format!("expected {expected}, found {found}")
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn suggests_the_closest_field_name() {
        let m = plain(
            "inbox: unknown field `setle_millis`, expected one of `path`, `settle_millis` at line 3 column 3",
        );
        assert_eq!(
            m,
            "inbox: unknown field `setle_millis`, expected one of `path`, `settle_millis`; did you mean `settle_millis`?"
        );
    }

    #[test]
    fn gives_no_suggestion_when_nothing_is_close() {
        let m = plain("unknown field `zzz`, expected `path`");
        assert_eq!(m, "unknown field `zzz`, expected `path`");
    }
}
