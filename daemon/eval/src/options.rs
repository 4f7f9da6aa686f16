//! Which stage options an evaluation runs with: those the config (`--config`) gives the stage,
//! so that a figure measures what the daemon would run, else the stage's defaults.

use std::path::Path;

use anyhow::Context;
use config::{Config, StageConfig};

/// The `dedupe` options of the config at `path`, else the defaults.
pub fn dedupe(path: &Path) -> dedupe::Options {
    first(Config::load(path).ok(), |s| match s {
        StageConfig::Dedupe(o) => Some(o),
        _ => None,
    })
    .unwrap_or_default()
}

/// The `keypoints` options of the config at `path`, else the defaults.
pub fn keypoints(path: &Path) -> keypoints::Options {
    first(Config::load(path).ok(), |s| match s {
        StageConfig::Keypoints(o) => Some(o),
        _ => None,
    })
    .unwrap_or_default()
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
