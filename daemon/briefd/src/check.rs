//! `briefd check-config`: the config read and the pipeline built exactly as `briefd run` builds
//! them ([`pipeline::Pipeline::build`]), so what it accepts is what runs; every problem of the
//! config and of its plugins is reported at once.

use std::path::Path;

use config::{Config, ConfigError};
use pipeline::Pipeline;

/// The pipeline `briefd run` would build from the config at `path`, or every problem found.
pub fn check_config(path: &Path) -> anyhow::Result<Pipeline> {
    match Config::load(path) {
        Ok(config) => Ok(Pipeline::build(&config)?),
        Err(ConfigError::Invalid { path, mut problems, plugins }) => {
            // The plugins are started anyway, so that the one report names their problems too.
            problems.extend(pipeline::plugin_problems(&plugins));
            Err(ConfigError::Invalid { path, problems, plugins }.into())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_config_gives_the_pipeline_run_would_build() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        let text = "inbox: { path: inbox }\nstages:\n  - kind: clean\n  - kind: dedupe\n  \
                    - kind: keypoints\n";
        std::fs::write(&path, text).unwrap();
        let pipeline = check_config(&path).expect("a valid config");
        assert_eq!(pipeline.stage_names(), ["clean", "dedupe", "keypoints"]);
    }

    /// A config with problems of its own still has its plugin entries started, and their
    /// problems join the list.
    #[test]
    fn config_and_plugin_problems_are_reported_together() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        let text = "inbox: { path: inbox, queue_capacity: 0 }\nstages:\n  - kind: clean\n  \
                    - kind: plugin\n    path: plugins/libnone.so\n";
        std::fs::write(&path, text).unwrap();
        let error = check_config(&path).err().expect("refused").to_string();
        assert!(error.contains("2 problem(s)"), "{error}");
        assert!(error.contains("inbox.queue_capacity: must be at least 1"), "{error}");
        assert!(error.contains("stages[1] (plugin): "), "{error}");
        assert!(error.contains("libnone.so: no such plugin file"), "{error}");
    }
}
