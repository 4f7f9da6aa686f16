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
    let mut problem = |key: &str, message: String| problems.push(Problem { key: key.to_string(), message });
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
        problem(
            "database",
            format!("{} is a folder; name a file such as state/briefd.db", paths.database.display()),
        );
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
                format!(
                    "unknown time zone {:?}; write an IANA name such as Europe/Berlin, or local",
                    raw.briefing.timezone
                ),
            );
            jiff::tz::TimeZone::UTC
        })
    };

    if raw.stages.is_empty() {
        problem("stages", "lists no stage; start with `- kind: clean`".into());
    }
    // Kept with their positions in the file, so that problems name the right entry even when an
    // entry before them was refused.
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
        // Entry 0 was refused: that problem is already reported.
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

    if !problems.is_empty() {
        let plugins = indexed
            .into_iter()
            .filter_map(|(i, stage)| match stage {
                StageConfig::Plugin(p) => Some((i, p)),
                _ => None,
            })
            .collect();
        return Err(ConfigError::Invalid { path: path.to_path_buf(), problems, plugins });
    }
    // With no problem, no entry was refused: the positions are those in the file.
    let stages: Vec<StageConfig> = indexed.into_iter().map(|(_, s)| s).collect();
    Ok(Config {
        source: path.to_path_buf(),
        paths,
        inbox: InboxSettings {
            settle: Duration::from_millis(raw.inbox.settle_millis),
            rescan_interval: Duration::from_secs(raw.inbox.rescan_interval_seconds),
            max_file_bytes: raw.inbox.max_file_bytes,
            queue_capacity,
        },
        briefing: BriefingSettings {
            timezone,
            debounce: Duration::from_millis(raw.briefing.debounce_millis),
        },
        shutdown_timeout: Duration::from_secs(raw.shutdown_timeout_seconds),
        stages,
    })
}

/// The plugin entry as data: its settings checked and its path resolved. The library is loaded,
/// and the plugin checks its options, when the pipeline is built.
fn plugin(raw: RawPlugin, resolve: &dyn Fn(&Path) -> PathBuf) -> Result<PluginConfig, String> {
    if raw.timeout_millis == 0 {
        return Err("timeout_millis must be at least 1".into());
    }
    if raw.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err("name is empty; leave it out to use the plugin's own name".into());
    }
    let settings = plugin_host::PluginSettings {
        name: raw.name,
        on_error: raw.on_error,
        timeout: Duration::from_millis(raw.timeout_millis),
        options: raw.options,
    };
    Ok(PluginConfig { path: resolve(&raw.path), settings })
}

#[cfg(test)]
mod tests {
    use crate::{Config, ConfigError, StageConfig};

    /// Loading is the pipeline's job: a plugin file that is not there is still valid data, its
    /// path resolved against the config's folder and its settings kept as written.
    #[test]
    fn a_plugin_entry_is_data_with_its_path_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let text = "inbox: { path: inbox }\nstages:\n  - kind: clean\n  - kind: plugin\n    \
                    path: plugins/libnone.so\n    on_error: pass\n    options: { any: [thing] }\n";
        let config = Config::from_yaml(&dir.path().join("c.yaml"), text).expect("valid as data");
        let [_, StageConfig::Plugin(plugin)] = &config.stages[..] else { panic!("{:?}", config.stages) };
        let base = std::path::absolute(dir.path()).unwrap();
        assert_eq!(plugin.path, base.join("plugins/libnone.so"));
        assert_eq!(plugin.settings.on_error, plugin_host::OnError::Pass);
        assert_eq!(plugin.settings.options, serde_json::json!({ "any": ["thing"] }));
    }

    /// An invalid config still hands over its plugin entries, at their positions in the file, so
    /// that `check-config` can report their problems with the others.
    #[test]
    fn an_invalid_config_carries_its_plugin_entries() {
        let text = "inbox: { path: inbox }\nbriefing: { timezone: Nowhere/Else }\nstages:\n  \
                    - kind: clean\n  - kind: plugin\n    path: a.so\n    timeout_millis: 0\n  \
                    - kind: plugin\n    path: b.so\n";
        let path = std::path::Path::new("c.yaml");
        let Err(ConfigError::Invalid { problems, plugins, .. }) = Config::from_yaml(path, text) else {
            panic!("accepted an unknown time zone")
        };
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["briefing.timezone", "stages[1] (plugin)"]);
        assert_eq!(plugins.len(), 1);
        assert_eq!(plugins[0].0, 2);
        assert!(plugins[0].1.path.ends_with("b.so"), "{:?}", plugins[0].1.path);
    }

    #[test]
    fn plugin_entries_refuse_unknown_keys_and_zero_timeouts() {
        let path = std::path::Path::new("c.yaml");
        let text = "inbox: { path: inbox }\nstages:\n  - kind: clean\n  - kind: plugin\n    path: x.so\n    timeout_ms: 5\n";
        let error = Config::from_yaml(path, text).unwrap_err().to_string();
        assert!(
            error.contains("unknown field `timeout_ms`") && error.contains("did you mean `timeout_millis`?"),
            "{error}"
        );
        let text = "inbox: { path: inbox }\nstages:\n  - kind: clean\n  - kind: plugin\n    path: x.so\n    timeout_millis: 0\n";
        let error = Config::from_yaml(path, text).unwrap_err().to_string();
        assert!(error.contains("timeout_millis must be at least 1"), "{error}");
    }
}
