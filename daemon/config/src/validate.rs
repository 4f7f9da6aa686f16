//! Turns the raw file into a [`Config`], collecting every problem before giving up.

use std::fmt;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::raw::{RawConfig, RawPlugin, RawStage};
use crate::{BriefingSettings, Config, ConfigError, InboxSettings, Paths, PluginConfig, StageConfig};

/// One thing wrong with a parsed configuration, named by its key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where, e.g. `inbox.settle_millis` or `stages[2]`.
    pub key: String,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

pub(crate) fn validate(path: &Path, raw: RawConfig) -> Result<Config, ConfigError> {
    let mut problems = Vec::new();
    let mut problem = |key: &str, message: String| {
        problems.push(Problem { key: key.to_string(), message })
    };
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let base = std::path::absolute(&base).unwrap_or(base);
    let resolve = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { base.join(p) };

    let paths = Paths {
        inbox: resolve(&raw.inbox.path),
        archive: resolve(&raw.archive),
        failed: resolve(&raw.failed),
        briefings: resolve(&raw.briefing.path),
        database: resolve(&raw.database),
    };
    for (key, dir) in [
        ("inbox.path", &paths.inbox),
        ("archive", &paths.archive),
        ("failed", &paths.failed),
        ("briefing.path", &paths.briefings),
    ] {
        if dir.exists() && !dir.is_dir() {
            problem(key, format!("{} exists but is not a folder; point it at a folder", dir.display()));
        }
    }
    if paths.archive.starts_with(&paths.inbox) || paths.failed.starts_with(&paths.inbox) {
        problem(
            "archive",
            "archive and failed must lie outside the inbox, or finished files would be taken again".into(),
        );
    }
    if paths.database.is_dir() {
        problem("database", format!("{} is a folder; name a file such as state/briefd.db", paths.database.display()));
    }

    if raw.inbox.rescan_interval_seconds == 0 {
        problem("inbox.rescan_interval_seconds", "must be at least 1".into());
    }
    if raw.inbox.max_file_bytes == 0 {
        problem("inbox.max_file_bytes", "must be at least 1".into());
    }
    let queue_capacity = NonZeroUsize::new(raw.inbox.queue_capacity).unwrap_or_else(|| {
        problem("inbox.queue_capacity", "must be at least 1".into());
        NonZeroUsize::MIN
    });

    let timezone = if raw.briefing.timezone == "local" {
        jiff::tz::TimeZone::system()
    } else {
        jiff::tz::TimeZone::get(&raw.briefing.timezone).unwrap_or_else(|_| {
            problem(
                "briefing.timezone",
                format!("unknown time zone {:?}; write an IANA name such as Europe/Berlin, or local", raw.briefing.timezone),
            );
            jiff::tz::TimeZone::UTC
        })
    };

    if raw.stages.is_empty() {
        problem("stages", "lists no stage; start with `- kind: clean`".into());
    }
    // Kept with their positions in the file, so that problems name the right entry even when a
    // plugin before them could not be loaded.
    let mut indexed: Vec<(usize, StageConfig)> = Vec::new();
    for (i, stage) in raw.stages.into_iter().enumerate() {
        match stage {
            RawStage::Clean(o) => indexed.push((i, StageConfig::Clean(o))),
            RawStage::Dedupe(mut o) => {
                // The encoder's folder, like every path in the config, is relative to its folder.
                if let Some(e) = o.embeddings.as_mut() {
                    e.model_dir = resolve(&e.model_dir);
                }
                indexed.push((i, StageConfig::Dedupe(o)))
            }
            RawStage::Summarize(mut o) => {
                // Like every path in the config, the model file is relative to the config's folder.
                o.model_path = resolve(&o.model_path);
                indexed.push((i, StageConfig::Summarize(o)))
            }
            RawStage::Keypoints(o) => indexed.push((i, StageConfig::Keypoints(o))),
            RawStage::Plugin(p) => match plugin(p, &resolve) {
                Ok(p) => indexed.push((i, StageConfig::Plugin(p))),
                Err(message) => problem(&format!("stages[{i}] (plugin)"), message),
            },
        }
    }
    match indexed.first() {
        Some((0, StageConfig::Clean(_))) | None => {}
        // Entry 0 could not be loaded: that problem is already reported.
        Some((index, _)) if *index > 0 => {}
        Some((_, other)) => problem(
            "stages[0]",
            format!("is `{}`, but the first stage must be `clean`, which decodes the file", other.kind()),
        ),
    }
    for (i, stage) in indexed.iter().map(|(i, s)| (*i, s)) {
        let issues = match stage {
            StageConfig::Clean(o) => o.problems(),
            StageConfig::Dedupe(o) => o.problems(),
            StageConfig::Summarize(o) => o.problems(),
            StageConfig::Keypoints(o) => o.problems(),
            StageConfig::Plugin(_) => Vec::new(),
        };
        for message in issues {
            problem(&format!("stages[{i}] ({})", stage.kind()), message);
        }
        if i > 0 && matches!(stage, StageConfig::Clean(_)) {
            problem(&format!("stages[{i}]"), "`clean` may appear only once, first".into());
        }
    }

    let stages: Vec<StageConfig> = indexed.into_iter().map(|(_, s)| s).collect();
    if !problems.is_empty() {
        return Err(ConfigError::Invalid { path: path.to_path_buf(), problems });
    }
    Ok(Config {
        source: path.to_path_buf(),
        paths,
        inbox: InboxSettings {
            settle: Duration::from_millis(raw.inbox.settle_millis),
            rescan_interval: Duration::from_secs(raw.inbox.rescan_interval_seconds),
            max_file_bytes: raw.inbox.max_file_bytes,
            queue_capacity,
        },
        briefing: BriefingSettings { timezone, debounce: Duration::from_millis(raw.briefing.debounce_millis) },
        shutdown_timeout: Duration::from_secs(raw.shutdown_timeout_seconds),
        stages,
    })
}

/// Loads the library (checking its ABI) and starts an instance with its options, so that every
/// way a plugin can be unusable is reported here, by `check-config` as much as at start.
fn plugin(raw: RawPlugin, resolve: &dyn Fn(&Path) -> PathBuf) -> Result<PluginConfig, String> {
    if raw.timeout_millis == 0 {
        return Err("timeout_millis must be at least 1".into());
    }
    if raw.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err("name is empty; leave it out to use the plugin's own name".into());
    }
    let path = resolve(&raw.path);
    let library = plugin_host::Library::load(&path).map_err(|e| e.to_string())?;
    let settings = plugin_host::PluginSettings {
        name: raw.name,
        on_error: raw.on_error,
        timeout: Duration::from_millis(raw.timeout_millis),
        options: raw.options,
    };
    let stage = plugin_host::PluginStage::new(library, settings.clone()).map_err(|e| format!("{} ({})", e, path.display()))?;
    Ok(PluginConfig { path, settings, stage: std::sync::Arc::new(stage) })
}

#[cfg(test)]
mod tests {
    use crate::{Config, ConfigError};

    #[test]
    fn a_missing_plugin_is_a_problem_naming_its_entry_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let text = "inbox: { path: inbox }\nstages:\n  - kind: clean\n  - kind: plugin\n    path: plugins/libnone.so\n    on_error: pass\n    options: { any: [thing] }\n";
        let Err(ConfigError::Invalid { problems, .. }) = Config::from_yaml(&dir.path().join("c.yaml"), text) else {
            panic!("accepted a missing plugin")
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].key, "stages[1] (plugin)");
        let expected = format!("{}: no such plugin file", dir.path().join("plugins/libnone.so").display());
        assert!(problems[0].message.starts_with(&expected), "{}", problems[0].message);
    }

    #[test]
    fn plugin_entries_refuse_unknown_keys_and_zero_timeouts() {
        let path = std::path::Path::new("c.yaml");
        let text = "inbox: { path: inbox }\nstages:\n  - kind: clean\n  - kind: plugin\n    path: x.so\n    timeout_ms: 5\n";
        let error = Config::from_yaml(path, text).unwrap_err().to_string();
        assert!(error.contains("unknown field `timeout_ms`") && error.contains("did you mean `timeout_millis`?"), "{error}");
        let text = "inbox: { path: inbox }\nstages:\n  - kind: clean\n  - kind: plugin\n    path: x.so\n    timeout_millis: 0\n";
        let error = Config::from_yaml(path, text).unwrap_err().to_string();
        assert!(error.contains("timeout_millis must be at least 1"), "{error}");
    }
}
