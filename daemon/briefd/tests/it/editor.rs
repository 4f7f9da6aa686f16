//! The editor through the real binary, with the small SmolLM2 model (`models/fetch`): the article
//! path does not wait for the model, a kill -9 during generation loses no queued work and never
//! shows half a summary, and a source joining during generation supersedes the draft.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::support::{self, Env};

/// Generation on two shared cores under a full test run can be slow; these bound whole runs.
const MODEL_WAIT: Duration = Duration::from_secs(240);

fn model_path() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/SmolLM2-135M-Instruct-Q4_1.gguf");
    assert!(path.exists(), "{} is missing: run models/fetch", path.display());
    path
}

/// An environment whose summarize stage has `method: model` (the editor runs).
fn model_env() -> Env {
    let env = Env::new();
    let config_path = env.root().join("config.yaml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let summarize = format!(
        "  - kind: summarize\n    method: model\n    model_path: {}\n    threads: 2\n",
        model_path().display()
    );
    let changed = config.replace("  - kind: summarize\n", &summarize);
    assert_ne!(changed, config, "the test config has a summarize stage");
    std::fs::write(&config_path, changed).unwrap();
    env
}

/// Two reports of one story, in words the small model summarises without inventing a name or a
/// number (which its guard refuses; the tests need a summary shown to see it replace another).
fn ferry(name: &str) -> Vec<u8> {
    let path = support::test_data(&format!("editor/{name}"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Today's JSON briefing, if written and whole.
fn briefing_json(env: &Env) -> Option<Value> {
    let path = env.briefings().join(format!("{}.json", support::today_utc()));
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The first story's summary and `summary_method`, when the briefing has a story.
fn first_summary(env: &Env) -> Option<(String, String)> {
    let json = briefing_json(env)?;
    let story = json["stories"].get(0)?;
    Some((story["summary"].as_str()?.to_string(), story["summary_method"].as_str()?.to_string()))
}

fn start_logging(env: &Env) -> support::Daemon {
    env.start_with(|cmd| {
        cmd.env("BRIEFD_LOG", "info");
    })
}

/// Lines of the daemon's log holding every one of `words`.
fn log_lines(env: &Env, words: &[&str]) -> Vec<String> {
    env.log().lines().filter(|l| words.iter().all(|w| l.contains(w))).map(str::to_string).collect()
}

/// The article appears at once with the extractive summary; later the model's summary replaces
/// it, marked as the model's in both formats.
#[test]
fn the_article_path_does_not_wait_for_the_model() {
    let env = model_env();
    let mut daemon = start_logging(&env);
    env.drop_file("ferry_a.txt", &ferry("ferry_a.txt"));
    let mut first = None;
    env.wait_until("the story in the briefing", MODEL_WAIT, || {
        first = first_summary(&env);
        first.is_some()
    });
    let (extractive, method) = first.expect("waited for it");
    // The briefing is written 100 ms after the article's commit; the model needs seconds for the
    // prompt alone, so what a reader first sees is the extractive summary.
    assert_eq!(method, "extractive", "{extractive}");

    let mut last = None;
    env.wait_until("the model's summary or its rejection", MODEL_WAIT, || {
        last = first_summary(&env);
        let rejected = !log_lines(&env, &["editor: model summary rejected"]).is_empty();
        rejected || last.as_ref().is_some_and(|(_, m)| m == "model")
    });
    daemon.stop_gracefully();
    let rejected = log_lines(&env, &["editor: model summary rejected"]);
    assert!(rejected.is_empty(), "the small model's draft of this article passes the guard: {rejected:?}");
    let (summary, method) = last.expect("waited for it");
    assert_eq!(method, "model");
    assert_ne!(summary, extractive);
    let md = env.briefing_today();
    assert!(md.contains("_Summary written by a local model._"), "{md}");
    let status = env.briefd(&["status"]);
    assert!(!status.contains("queued:"), "nothing left in the queue:\n{status}");
    let explained = env.briefd(&["explain", "ferry_a.txt"]);
    assert!(explained.contains("model summary: shown (revision 1, 1 source(s))"), "{explained}");
}

/// A kill -9 while the model writes: the story stays queued (in the store), the briefing keeps
/// the extractive summary, and after a restart the story gets its whole model summary.
#[test]
fn kill_9_during_generation_loses_no_queued_work() {
    let env = model_env();
    let daemon = start_logging(&env);
    env.drop_file("ferry_a.txt", &ferry("ferry_a.txt"));
    env.wait_until("the editor writing", MODEL_WAIT, || {
        !log_lines(&env, &["editor: writing the story's summary"]).is_empty()
    });
    daemon.kill9();
    assert!(
        log_lines(&env, &["editor: model summary"]).is_empty(),
        "killed before the summary was committed:\n{}",
        env.log()
    );
    let status = env.briefd(&["status"]);
    assert!(status.contains("queued: 1 (stories awaiting a model summary)"), "{status}");
    let seen = first_summary(&env);
    assert!(seen.as_ref().is_none_or(|(_, m)| m == "extractive"), "{seen:?}");

    let mut daemon = start_logging(&env);
    let mut observed = Vec::new();
    env.wait_until("the model's summary after the restart", MODEL_WAIT, || {
        let now = first_summary(&env);
        if let Some(s) = &now {
            observed.push(s.clone());
        }
        now.is_some_and(|(_, m)| m == "model")
    });
    daemon.stop_gracefully();
    let (summary, _) = observed.last().cloned().expect("waited for it");
    // Every model summary ever shown is the final, whole one.
    for (text, method) in &observed {
        assert!(method == "extractive" || text == &summary, "{text:?} before {summary:?}");
    }
    assert!(summary.ends_with(['.', '!', '?', '"', '\u{201D}']), "{summary}");
    assert!(env.briefing_today().contains("_Summary written by a local model._"));
    let status = env.briefd(&["status"]);
    assert!(!status.contains("queued:"), "{status}");
}

/// A second source joins while the model writes the first one's summary: the generation is
/// cancelled, and the summary finally shown is written for the revision with both sources.
#[test]
fn a_source_joining_during_generation_supersedes_the_draft() {
    let env = model_env();
    let mut daemon = start_logging(&env);
    env.drop_file("ferry_a.txt", &ferry("ferry_a.txt"));
    env.wait_until("the editor writing", MODEL_WAIT, || {
        !log_lines(&env, &["editor: writing the story's summary"]).is_empty()
    });
    env.drop_file("ferry_b.txt", &ferry("ferry_b.txt"));
    env.wait_until("the summary of both sources", MODEL_WAIT, || {
        let explained = env.briefd(&["explain", "ferry_a.txt"]);
        explained.contains("model summary: shown (revision 2, 2 source(s))")
            || explained.contains("model summary: rejected for revision 2")
    });
    daemon.stop_gracefully();
    let superseded = log_lines(&env, &["editor: a source joined during generation", "revision=1"]);
    assert_eq!(superseded.len(), 1, "the first generation was cancelled:\n{}", env.log());
    let written_first = log_lines(&env, &["editor: model summary", "revision=1"]);
    assert!(written_first.is_empty(), "nothing was committed for one source: {written_first:?}");
    let explained = env.briefd(&["explain", "ferry_a.txt"]);
    assert!(explained.contains("model summary: shown (revision 2, 2 source(s))"), "{explained}");
    let (_, method) = first_summary(&env).expect("a story");
    assert_eq!(method, "model");
}

/// SIGTERM while the model writes: the generation is cancelled at once, the daemon exits
/// cleanly, and the story stays queued for the next start.
#[test]
fn stopping_cancels_the_generation_and_keeps_the_story_queued() {
    let env = model_env();
    let mut daemon = start_logging(&env);
    env.drop_file("ferry_a.txt", &ferry("ferry_a.txt"));
    env.wait_until("the editor writing", MODEL_WAIT, || {
        !log_lines(&env, &["editor: writing the story's summary"]).is_empty()
    });
    let status = daemon.stop_gracefully();
    assert!(status.success(), "{status:?}\n{}", env.log());
    let cancelled = log_lines(&env, &["editor: stopping; the story stays queued"]);
    let written = log_lines(&env, &["editor: model summary"]);
    // The signal follows the log line within 50 ms; the model needs seconds for a draft.
    assert_eq!((cancelled.len(), written.len()), (1, 0), "{}", env.log());
    let status = env.briefd(&["status"]);
    assert!(status.contains("queued: 1 (stories awaiting a model summary)"), "{status}");
}
