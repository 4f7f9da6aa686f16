//! `Pipeline::build`: a config's stages made and its plugins started, every stage that cannot
//! start reported by its key path and file.

use std::path::Path;

use config::Config;
use pipeline::Pipeline;

use crate::support::plugins;

/// A config in a fresh folder whose stages are `clean` and the given plugin entries (YAML). The
/// entries run in-process: a plugin's own process is a `briefd plugin-host`, which only the
/// binary's tests have (`daemon/briefd/tests/it/plugins.rs`).
fn config(dir: &Path, plugin_entries: &str) -> Config {
    let text = format!("inbox: {{ path: inbox }}\nstages:\n  - kind: clean\n{plugin_entries}");
    Config::from_yaml(&dir.join("config.yaml"), &text).expect("valid as data")
}

#[test]
fn a_plugin_between_built_ins_is_started_under_its_own_name() {
    let dir = tempfile::tempdir().unwrap();
    let entry = format!(
        "  - kind: plugin\n    isolation: in_process\n    path: {}\n    options: {{ topics: {{ harbour: [harbour] }} }}\n{}",
        plugins().topics.display(),
        "  - kind: keypoints\n"
    );
    let pipeline = Pipeline::build(&config(dir.path(), &entry)).expect("the plugin starts");
    assert_eq!(pipeline.stage_names(), ["clean", "topics", "keypoints"]);
}

/// The plugin checks its options when the pipeline is built, so a bad option is refused there,
/// named by the entry and the file (issue "House in order").
#[test]
fn a_plugin_that_refuses_its_options_is_a_problem_naming_its_entry_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = &plugins().topics;
    let entry = format!(
        "  - kind: plugin\n    isolation: in_process\n    path: {}\n    options: {{ topix: {{}} }}\n",
        path.display()
    );
    let Err(error) = Pipeline::build(&config(dir.path(), &entry)) else { panic!("bad option accepted") };
    assert_eq!(error.problems.len(), 1, "{error}");
    assert_eq!(error.problems[0].key, "stages[1] (plugin)");
    let message = &error.problems[0].message;
    assert!(message.contains("plugin `topics` did not start: options: unknown field `topix`"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    let heading = format!("{}: 1 problem(s):", dir.path().join("config.yaml").display());
    assert!(error.to_string().starts_with(&heading), "{error}");
}

/// Every plugin that cannot start is reported, not only the first, each at its own position.
#[test]
fn every_plugin_that_cannot_start_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let entries = format!(
        "  - kind: plugin\n    isolation: in_process\n    path: {}\n  - kind: keypoints\n{}",
        plugins().wrong_abi.display(),
        "  - kind: plugin\n    isolation: in_process\n    path: plugins/libnone.so\n"
    );
    let Err(error) = Pipeline::build(&config(dir.path(), &entries)) else { panic!("started broken plugins") };
    let keys: Vec<&str> = error.problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["stages[1] (plugin)", "stages[3] (plugin)"], "{error}");
    let wrong_abi = "plugin built for stage ABI 2, but this briefd speaks ABI 1";
    assert!(error.problems[0].message.contains(wrong_abi), "{error}");
    let missing = std::path::absolute(dir.path()).unwrap().join("plugins/libnone.so");
    let no_file = format!("{}: no such plugin file", missing.display());
    assert!(error.problems[1].message.starts_with(&no_file), "{error}");
}

/// The problems of a config's plugin entries, for a config too broken to build.
#[test]
fn plugin_problems_start_the_entries_given() {
    let good = config::PluginConfig {
        path: plugins().misbehaving.clone(),
        settings: plugin_host::PluginSettings {
            name: None,
            on_error: plugin_host::OnError::Fail,
            timeout: std::time::Duration::from_secs(5),
            options: serde_json::json!({ "mode": "noop" }),
            isolation: plugin_host::Isolation::InProcess,
        },
    };
    let bad = config::PluginConfig { path: "/nowhere/libnone.so".into(), ..good.clone() };
    let problems = pipeline::plugin_problems(&[(1, good), (4, bad)]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].key, "stages[4] (plugin)");
}

/// Stage-api 1.4: a plugin that declares itself a story stage is started as one, after the
/// article stages; an article stage after it is a problem naming the entry and its line.
#[test]
fn a_story_plugin_is_a_story_stage_and_no_article_stage_may_follow_it() {
    let dir = tempfile::tempdir().unwrap();
    let story = format!(
        "  - kind: plugin\n    isolation: in_process\n    path: {}\n    options: {{ tag_outlets: true }}\n",
        plugins().story_topics.display()
    );
    let pipeline = Pipeline::build(&config(dir.path(), &story)).expect("the story plugin starts");
    assert_eq!(pipeline.story_stage_names(), ["story-topics"]);
    assert_eq!(pipeline.stage_names(), ["clean", "story-topics"]);

    let topics = format!(
        "  - kind: plugin\n    isolation: in_process\n    path: {}\n    options: {{ topics: {{ a: [a] }} }}\n",
        plugins().topics.display()
    );
    let text = format!("inbox: {{ path: inbox }}\nstages:\n  - kind: clean\n{story}{topics}");
    let path = dir.path().join("config.yaml");
    // Written, so the problem can name the line the entry is on.
    std::fs::write(&path, &text).unwrap();
    let Err(error) = Pipeline::build(&Config::load(&path).unwrap()) else { panic!("misplaced accepted") };
    assert_eq!(error.problems.len(), 1, "{error}");
    let problem = &error.problems[0];
    assert_eq!((problem.key.as_str(), problem.location.map(|l| l.0)), ("stages[2] (plugin)", Some(8)));
    assert!(
        problem.message.starts_with(
            "`topics` is an article stage, but it comes after the story stage `story-topics` (stages[1])"
        ),
        "{error}"
    );
}
