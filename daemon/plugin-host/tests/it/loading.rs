//! Loading real libraries and calling them: the examples work, and every way a plugin can be
//! wrong or misbehave is refused or contained.

use std::time::Duration;

use plugin_host::{Isolation, Library, OnError, PluginError, PluginSettings, PluginStage};
use serde_json::json;
use stage_api::{
    Article, Context, EmptyContext, Outcome, Stage, StoredArticle, Story, StoryOutcome, StorySource,
    StoryStage,
};

use crate::support::plugins;

fn settings(on_error: OnError, options: serde_json::Value) -> PluginSettings {
    PluginSettings {
        name: None,
        on_error,
        timeout: Duration::from_secs(30),
        options,
        isolation: Isolation::InProcess,
    }
}

fn start(path: &std::path::Path, on_error: OnError, options: serde_json::Value) -> PluginStage {
    PluginStage::new(Library::load(path).unwrap(), settings(on_error, options)).unwrap()
}

fn article(text: &str) -> Article {
    Article {
        file_name: "a.txt".into(),
        received_at: "2025-07-13T08:00:00Z".into(),
        title: Some("Ferry strike ends".into()),
        text: text.into(),
        ..Article::default()
    }
}

#[test]
fn the_rust_example_tags_and_prefixes_through_the_c_abi() {
    let stage = start(
        &plugins().topics,
        OnError::Fail,
        json!({"topics": {"transport": ["ferry", "tram"], "weather": ["storm"]}, "title_prefix": true}),
    );
    assert_eq!(stage.name(), "topics");
    let Outcome::Continue(out) = stage.process(article("Crews return to work."), &EmptyContext) else {
        panic!()
    };
    assert_eq!(out.tags, ["topic:transport"]);
    assert_eq!(out.title.as_deref(), Some("[Transport] Ferry strike ends"));
}

#[test]
fn the_c_example_drops_articles_with_its_phrase() {
    let stage = start(&plugins().phrase_filter, OnError::Fail, json!({"phrase": "Paid Partnership"}));
    assert_eq!(stage.name(), "phrase-filter");
    let outcome = stage.process(article("This is a paid partnership with a ferry line."), &EmptyContext);
    assert_eq!(outcome, Outcome::Drop { reason: "mentions \"paid partnership\"".into() });
    let kept = article("Nothing to see.");
    assert_eq!(stage.process(kept.clone(), &EmptyContext), Outcome::Continue(kept));
}

#[test]
fn a_plugin_reads_the_hosts_context_through_the_query_callback() {
    struct Stories;
    impl Context for Stories {
        fn stories_with_fingerprint(&self, kind: &str, value: &str) -> Vec<i64> {
            if kind == "text_sha256" && value == "abc" {
                vec![3, 5]
            } else {
                vec![]
            }
        }

        fn story_articles(&self, story_id: i64, limit: usize) -> Vec<StoredArticle> {
            let stored = |article_id| StoredArticle { article_id, story_id, article: article("earlier") };
            if story_id == 3 {
                [9, 4].into_iter().take(limit).map(stored).collect()
            } else {
                Vec::new()
            }
        }

        fn story_size(&self, story_id: i64) -> u64 {
            if story_id == 3 {
                2
            } else {
                0
            }
        }
    }
    let stage = start(&plugins().misbehaving, OnError::Fail, json!({"mode": "query"}));
    let Outcome::Continue(out) = stage.process(article("abc"), &Stories) else { panic!() };
    assert_eq!(out.tags, ["stories:[3, 5]", "story 3: size 2, articles [9, 4]"]);
}

#[test]
fn a_plugin_for_another_abi_major_is_refused_before_it_is_called() {
    // Every function of this fixture aborts, so reaching this assertion proves none was called.
    let error = Library::load(&plugins().wrong_abi).unwrap_err();
    assert!(matches!(error, PluginError::AbiMismatch { found: 2, expected: 1, .. }), "{error:?}");
    let message = error.to_string();
    for needle in
        ["libwrong_abi.so", "stage ABI 2", "speaks ABI 1", "rebuild the plugin against stage-api 1.x"]
    {
        assert!(message.contains(needle), "{needle:?} missing in: {message}");
    }
}

#[test]
fn missing_files_and_libraries_without_the_entry_symbol_are_refused() {
    let error = Library::load(std::path::Path::new("/nonexistent/libnothing.so")).unwrap_err();
    assert!(error.to_string().contains("/nonexistent/libnothing.so: no such plugin file"), "{error}");
    let error = Library::load(&plugins().no_symbol).unwrap_err();
    assert!(error.to_string().contains("exports no `briefd_stage_v1` symbol"), "{error}");
}

#[test]
fn options_the_plugin_refuses_stop_it_from_starting() {
    let library = Library::load(&plugins().topics).unwrap();
    let error = PluginStage::new(library, settings(OnError::Fail, json!({"topix": {}}))).err().unwrap();
    assert!(
        error.to_string().contains("plugin `topics` did not start: options: unknown field `topix`"),
        "{error}"
    );
}

#[test]
fn a_panic_inside_the_plugin_fails_or_passes_the_article_as_on_error_says() {
    let failing = start(&plugins().misbehaving, OnError::Fail, json!({"mode": "panic"}));
    let outcome = failing.process(article("x"), &EmptyContext);
    let Outcome::Fail { message } = outcome else { panic!("{outcome:?}") };
    assert!(
        message.contains("plugin `misbehaving`: the plugin panicked: misbehaving stage panics on a.txt"),
        "{message}"
    );
    // Still usable afterwards: the panic was caught inside the plugin.
    assert!(matches!(failing.process(article("x"), &EmptyContext), Outcome::Fail { .. }));
    assert_eq!(failing.disabled(), None);

    let passing = start(&plugins().misbehaving, OnError::Pass, json!({"mode": "panic"}));
    assert_eq!(passing.process(article("x"), &EmptyContext), Outcome::Continue(article("x")));
}

#[test]
fn garbage_answers_fail_or_pass_the_article_as_on_error_says() {
    let not_json = start(&plugins().garbage, OnError::Fail, json!({}));
    let Outcome::Fail { message } = not_json.process(article("x"), &EmptyContext) else { panic!() };
    assert!(message.contains("returned an article that is not valid article JSON"), "{message}");

    let bad_status = start(&plugins().garbage, OnError::Fail, json!({"answer": "status"}));
    let Outcome::Fail { message } = bad_status.process(article("x"), &EmptyContext) else { panic!() };
    assert!(message.contains("returned the unknown status 42"), "{message}");

    let passing = start(&plugins().garbage, OnError::Pass, json!({"answer": "status"}));
    assert_eq!(passing.process(article("x"), &EmptyContext), Outcome::Continue(article("x")));
}

#[test]
fn a_hanging_plugin_is_timed_out_and_disabled() {
    let library = Library::load(&plugins().misbehaving).unwrap();
    let settings = PluginSettings {
        timeout: Duration::from_millis(200),
        ..settings(OnError::Fail, json!({"mode": "hang"}))
    };
    let stage = PluginStage::new(library, settings).unwrap();
    let Outcome::Fail { message } = stage.process(article("x"), &EmptyContext) else { panic!() };
    assert!(message.contains("took longer than timeout_millis (200 ms)"), "{message}");
    assert!(stage.disabled().is_some());
    // Disabled: later articles are handled by on_error without calling the plugin.
    let Outcome::Fail { message } = stage.process(article("y"), &EmptyContext) else { panic!() };
    assert!(message.contains("disabled: a call took longer"), "{message}");
}

/// The C crash fixture (issue 20) refuses a mode it does not know when it starts, like any plugin.
#[test]
fn the_crash_fixture_refuses_an_unknown_mode() {
    let library = Library::load(&plugins().crash).unwrap();
    let error = PluginStage::new(library, settings(OnError::Fail, json!({"mode": "explode"}))).err().unwrap();
    assert!(error.to_string().contains("\"mode\" must be one of segv, abort, loop, oom"), "{error}");
}

/// Stage-api 1.4: a plugin built as a story stage is known as one by its descriptor, takes the
/// story through `process_story` and sets story fields; its article entry refuses to guess.
#[test]
fn the_story_example_tags_a_story_through_the_c_abi() {
    let library = Library::load(&plugins().story_topics).unwrap();
    assert!(library.is_story_stage());
    let stage = PluginStage::new(
        library,
        settings(OnError::Fail, json!({"topics": {"harbour": ["harbour"]}, "tag_outlets": true})),
    )
    .unwrap();
    let source = |article_id: i64, outlet: &str, reprint_of: Option<i64>| StorySource {
        article_id,
        outlet: Some(outlet.into()),
        reprint_of,
        article: Article { outlet: Some(outlet.into()), ..article("The harbour wall fell.") },
    };
    let story = Story {
        story_id: 4,
        revision: 2,
        sources: vec![source(1, "AP", None), source(2, "Reuters", None), source(3, "Mirror", Some(1))],
        ..Story::default()
    };
    let outcome = StoryStage::process_story(&stage, story, &EmptyContext);
    let StoryOutcome::Set(fields) = outcome else { panic!("{outcome:?}") };
    assert_eq!(fields.tags, Some(vec!["topic:harbour".to_string(), "outlets:2".to_string()]));
    let outcome = Stage::process(&stage, article("x"), &EmptyContext);
    assert!(
        matches!(&outcome, Outcome::Fail { message } if message.contains("is a story stage")),
        "{outcome:?}"
    );
}

/// The C example built as a story stage: a story one of whose sources mentions the phrase gets
/// a tag, any other is skipped with the reason, and its article entry refuses to guess.
#[test]
fn the_c_example_built_as_a_story_stage_tags_the_stories_that_mention_its_phrase() {
    let library = Library::load(&plugins().phrase_tagger).unwrap();
    assert!(library.is_story_stage());
    assert_eq!(library.name(), "phrase-tagger");
    let stage =
        PluginStage::new(library, settings(OnError::Fail, json!({"phrase": "Harbour Wall"}))).unwrap();
    let story = |texts: &[&str]| Story {
        story_id: 4,
        revision: 1,
        sources: texts
            .iter()
            .enumerate()
            .map(|(i, text)| StorySource {
                article_id: i as i64 + 1,
                outlet: None,
                reprint_of: None,
                article: article(text),
            })
            .collect(),
        ..Story::default()
    };
    let outcome =
        StoryStage::process_story(&stage, story(&["Rain fell.", "The harbour wall fell."]), &EmptyContext);
    let StoryOutcome::Set(fields) = outcome else { panic!("{outcome:?}") };
    assert_eq!(fields.tags, Some(vec!["mentions:harbour wall".to_string()]));
    let outcome = StoryStage::process_story(&stage, story(&["Rain fell."]), &EmptyContext);
    assert!(
        matches!(&outcome, StoryOutcome::Skip { reason } if reason == "no source mentions the phrase"),
        "{outcome:?}"
    );
    let outcome = Stage::process(&stage, article("The harbour wall fell."), &EmptyContext);
    assert!(
        matches!(&outcome, Outcome::Fail { message } if message.contains("is a story stage")),
        "{outcome:?}"
    );
    let refused = PluginStage::new(
        Library::load(&plugins().phrase_tagger).unwrap(),
        settings(OnError::Fail, json!({"phrase": "a\\b"})),
    );
    assert!(refused.err().unwrap().to_string().contains("holds a backslash"));
}

/// Stage-api 1.4 grew the descriptor; a plugin built against 1.0 (a shorter descriptor, junk
/// after it) still loads, as an article stage, and works.
#[test]
fn a_plugin_with_the_1_0_descriptor_still_loads_as_an_article_stage() {
    let library = Library::load(&plugins().v1_0).unwrap();
    assert_eq!(library.name(), "v1-0");
    assert!(!library.is_story_stage(), "the junk after its descriptor was not read as process_story");
    let stage = PluginStage::new(library, settings(OnError::Fail, json!({}))).unwrap();
    let input = article("Unchanged.");
    assert_eq!(stage.process(input.clone(), &EmptyContext), Outcome::Continue(input));
}
