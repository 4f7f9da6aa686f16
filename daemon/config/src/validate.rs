//! Turns the raw file into a [`Config`], collecting every problem before giving up.

use std::fmt;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::raw::{RawConfig, RawStage};
use crate::{BriefingSettings, Config, ConfigError, InboxSettings, Paths, StageConfig};

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
    let stages: Vec<StageConfig> = raw
        .stages
        .into_iter()
        .map(|s| match s {
            RawStage::Clean(o) => StageConfig::Clean(o),
            RawStage::Dedupe(o) => StageConfig::Dedupe(o),
            RawStage::Summarize(mut o) => {
                // Like every path in the config, the model file is relative to the config's folder.
                o.model_path = resolve(&o.model_path);
                StageConfig::Summarize(o)
            }
        })
        .collect();
    match stages.first() {
        Some(StageConfig::Clean(_)) | None => {}
        Some(other) => problem(
            "stages[0]",
            format!("is `{}`, but the first stage must be `clean`, which decodes the file", other.kind()),
        ),
    }
    for (i, stage) in stages.iter().enumerate() {
        let issues = match stage {
            StageConfig::Clean(o) => o.problems(),
            StageConfig::Dedupe(o) => o.problems(),
            StageConfig::Summarize(o) => o.problems(),
        };
        for message in issues {
            problem(&format!("stages[{i}] ({})", stage.kind()), message);
        }
        if i > 0 && matches!(stage, StageConfig::Clean(_)) {
            problem(&format!("stages[{i}]"), "`clean` may appear only once, first".into());
        }
    }

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
