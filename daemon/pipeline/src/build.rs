//! Building the pipeline from a config: each built-in stage made with its options, each
//! `kind: plugin` entry loaded (its ABI checked first) and started with its options, which the
//! plugin itself checks. This is the one place where a [`Config`] becomes running stages, so
//! `briefd check-config` accepts exactly what `briefd run` runs. Every stage that cannot start
//! is reported, named by its key path and file, not only the first.

use std::path::PathBuf;

use config::{Config, PluginConfig, Problem, StageConfig};
use plugin_host::{PluginError, Started};
use stage_api::{Stage, StoryStage};

use crate::Pipeline;

/// Why the configured stages could not be started.
#[derive(Debug, thiserror::Error)]
#[error("{}: {} problem(s):\n{}", path.display(), problems.len(), list(problems))]
pub struct BuildError {
    /// The config file.
    pub path: PathBuf,
    /// One per stage that could not start, keyed `stages[i] (plugin)`.
    pub problems: Vec<Problem>,
}

impl Pipeline {
    /// The stages of `config`, in order, ready to run: the built-ins made, the plugins loaded
    /// and started.
    pub fn build(config: &Config) -> Result<Pipeline, BuildError> {
        let mut stages: Vec<Box<dyn Stage>> = Vec::with_capacity(config.stages.len());
        let mut story_stages: Vec<Box<dyn StoryStage>> = Vec::new();
        // The first story stage (its index and name): every article stage must come before it.
        let mut first_story: Option<(usize, String)> = None;
        let mut problems = Vec::new();
        for (index, stage) in config.stages.iter().enumerate() {
            let article_stage: Box<dyn Stage> = match stage {
                StageConfig::Clean(o) => Box::new(clean::Clean::new(o.clone())),
                StageConfig::Dedupe(o) => Box::new(dedupe::Dedupe::new(o.clone())),
                // Story stages: a summary and key points belong to the story, and are written
                // once per change of it from its sources (reprints marked), after the commit.
                StageConfig::Summarize(o) => {
                    let stage = summarize::Summarize::new(o.clone());
                    first_story.get_or_insert_with(|| (index, StoryStage::name(&stage).to_string()));
                    story_stages.push(Box::new(stage));
                    continue;
                }
                StageConfig::Keypoints(o) => {
                    let stage = keypoints::Keypoints::new(o.clone());
                    first_story.get_or_insert_with(|| (index, StoryStage::name(&stage).to_string()));
                    story_stages.push(Box::new(stage));
                    continue;
                }
                StageConfig::Plugin(plugin) => match start_plugin(index, plugin) {
                    Ok(Started::Article(stage)) => stage,
                    Ok(Started::Story(stage)) => {
                        first_story.get_or_insert_with(|| (index, stage.name().to_string()));
                        story_stages.push(stage);
                        continue;
                    }
                    Err(problem) => {
                        problems.push(problem);
                        continue;
                    }
                },
            };
            if let Some((story_index, story_name)) = &first_story {
                // Story stages run after the article is committed: an article stage after one
                // would never see the article at the place the config puts it.
                let key = format!("stages[{index}] ({})", stage.kind());
                let message = format!(
                    "`{}` is an article stage, but it comes after the story stage `{story_name}` \
                     (stages[{story_index}]); story stages run over the story once its article is \
                     committed, so every article stage must come before them: move this entry up, \
                     or use a story stage here (a plugin built with stage-api 1.4's `export_story_stage!`)",
                    article_stage.name()
                );
                let mut problem = Problem::new(&key, &message);
                problem.location = config.locate(&key);
                problems.push(problem);
            }
            stages.push(article_stage);
        }
        if !problems.is_empty() {
            return Err(BuildError { path: config.source.clone(), problems });
        }
        Ok(Pipeline::new(stages).with_story_stages(story_stages).with_stage_budget(config.stage_budget))
    }
}

/// The problems of the plugin entries `(index in stages, entry)` that cannot start. For a config
/// that other problems keep from being built: starting its plugins anyway puts their problems
/// in the same report (`config::ConfigError::Invalid` carries the entries for this).
pub fn plugin_problems(plugins: &[(usize, PluginConfig)]) -> Vec<Problem> {
    plugins.iter().filter_map(|(index, plugin)| start_plugin(*index, plugin).err()).collect()
}

/// Loads and starts one plugin entry (in its own process unless `isolation: in_process`), the
/// plugin checking its options as it starts.
fn start_plugin(index: usize, plugin: &PluginConfig) -> Result<Started, Problem> {
    let problem = |message: String| Problem::new(&format!("stages[{index}] (plugin)"), &message);
    plugin_host::start(&plugin.path, plugin.settings.clone()).map_err(|e| match e {
        // A plugin's refusal names only the stage; the loader's errors open with the file.
        PluginError::Create { .. } => problem(format!("{e} ({})", plugin.path.display())),
        other => problem(other.to_string()),
    })
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
}
