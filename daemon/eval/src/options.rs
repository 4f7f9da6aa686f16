//! Which stage options an evaluation runs with: those the config (`--config`) gives the stage,
//! so that a figure measures what the daemon would run; the stage's defaults when the config
//! lists no such stage or there is no config file at all (the sets can be scored anywhere). A
//! config file that is there but unreadable or invalid is an error, never a silent fallback.

use std::path::Path;

use anyhow::Context;
use config::{Config, ConfigError, StageConfig};

/// The config at `path`, or `None` when no file is there.
pub fn config(path: &Path) -> Result<Option<Config>, ConfigError> {
    match Config::load(path) {
        Ok(config) => Ok(Some(config)),
        Err(ConfigError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(path = %path.display(), "no config file; the evaluation uses the stage's default options");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The `dedupe` options of the config at `path`, else the defaults.
pub fn dedupe(path: &Path) -> Result<dedupe::Options, ConfigError> {
    Ok(first(config(path)?, |s| match s {
        StageConfig::Dedupe(o) => Some(o),
        _ => None,
    })
    .unwrap_or_default())
}

/// The `keypoints` options of the config at `path`, else the defaults.
pub fn keypoints(path: &Path) -> Result<keypoints::Options, ConfigError> {
    Ok(first(config(path)?, |s| match s {
        StageConfig::Keypoints(o) => Some(o),
        _ => None,
    })
    .unwrap_or_default())
}

/// The `summarize` options of the config at `path`, which must have that stage: its model and
/// threads are the evaluation's subject, so there are no defaults to fall back on.
pub fn summarize(path: &Path) -> anyhow::Result<summarize::Options> {
    let config = Config::load(path)?;
    first(Some(config), |s| match s {
        StageConfig::Summarize(o) => Some(o),
        _ => None,
    })
    .context("the config has no summarize stage; its options (model_path, threads) drive this evaluation")
}

/// The options of the first stage `pick` accepts.
fn first<T>(config: Option<Config>, pick: impl Fn(StageConfig) -> Option<T>) -> Option<T> {
    config?.stages.into_iter().find_map(pick)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> std::path::PathBuf {
        let path = dir.join("config.yaml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn the_configured_stage_options_are_used() {
        let dir = tempfile::tempdir().unwrap();
        let text = "inbox: { path: inbox }\nstages:\n  - kind: clean\n  - kind: dedupe\n    \
                    same_story_threshold: 0.33\n  - kind: keypoints\n    max_points: 2\n";
        let path = write(dir.path(), text);
        assert_eq!(dedupe(&path).unwrap().same_story_threshold, 0.33);
        assert_eq!(keypoints(&path).unwrap().max_points, 2);
    }

    #[test]
    fn no_config_file_or_no_such_stage_means_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.yaml");
        assert_eq!(dedupe(&missing).unwrap(), dedupe::Options::default());
        let path = write(dir.path(), "inbox: { path: inbox }\nstages:\n  - kind: clean\n");
        assert_eq!(keypoints(&path).unwrap(), keypoints::Options::default());
        let error = summarize(&path).unwrap_err().to_string();
        assert!(error.contains("no summarize stage"), "{error}");
    }

    /// A config that is there but wrong stops the evaluation instead of scoring the defaults.
    #[test]
    fn an_invalid_config_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path =
            write(dir.path(), "inbox: { path: inbox }\nstages:\n  - kind: dedupe\n    threshold: 0.3\n");
        let error = dedupe(&path).unwrap_err().to_string();
        assert!(error.contains("config.yaml:"), "{error}");
        assert!(keypoints(&path).is_err());
    }
}
