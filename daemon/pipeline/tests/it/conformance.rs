//! One contract for every stage: the built-ins called through the `Stage` trait and the example
//! plugins called through the loader must behave the same way on the same articles.

use std::time::Duration;

use plugin_host::{Isolation, Library, OnError, PluginSettings, PluginStage};
use serde_json::json;
use stage_api::{Article, EmptyContext, Outcome, Stage};

use crate::support::plugins;

fn test_data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/conformance").join(name)
}

/// The articles every stage is run over: one as dropped into the inbox (raw bytes), one as
/// `clean` leaves it.
fn inputs() -> Vec<Article> {
    let raw = Article {
        file_name: "harbour.txt".into(),
        received_at: "2025-07-13T07:00:00Z".into(),
        raw: Some(std::fs::read(test_data("harbour.txt")).unwrap()),
        ..Article::default()
    };
    let cleaned: Article =
        serde_json::from_slice(&std::fs::read(test_data("cleaned.json")).unwrap()).unwrap();
    vec![raw, cleaned]
}

/// The contract: a usable name; every outcome is well-formed; an article passed on keeps its
/// identity and survives the JSON encoding; the same input gives the same outcome.
fn check_contract(stage: &dyn Stage) {
    let name = stage.name();
    assert!(!name.is_empty() && !name.contains(char::is_whitespace), "stage name {name:?}");
    for input in inputs() {
        let first = stage.process(input.clone(), &EmptyContext);
        let again = stage.process(input.clone(), &EmptyContext);
        assert_eq!(first, again, "{name}: the same article gave two outcomes");
        match first {
            Outcome::Continue(out) => {
                assert_eq!(
                    (&out.file_name, out.item_index, &out.received_at),
                    (&input.file_name, input.item_index, &input.received_at),
                    "{name}: changed the article's identity"
                );
                let json = serde_json::to_vec(&out).unwrap();
                let back: Article = serde_json::from_slice(&json).unwrap();
                assert_eq!(back, out, "{name}: the article does not survive its JSON encoding");
            }
            Outcome::Drop { reason } => assert!(!reason.trim().is_empty(), "{name}: drop without a reason"),
            Outcome::Fail { message } => {
                assert!(!message.trim().is_empty(), "{name}: failure without a message")
            }
        }
    }
}

fn loaded(path: &std::path::Path, options: serde_json::Value) -> PluginStage {
    let library = Library::load(path).unwrap();
    let settings = PluginSettings {
        name: None,
        on_error: OnError::Fail,
        timeout: Duration::from_secs(30),
        options,
        isolation: Isolation::InProcess,
    };
    PluginStage::new(library, settings).unwrap()
}

#[test]
fn built_in_stages_meet_the_stage_contract() {
    check_contract(&clean::Clean::new(Default::default()));
    check_contract(&dedupe::Dedupe::new(Default::default()));
    check_contract(&summarize::Summarize::new(Default::default()));
}

#[test]
fn loaded_plugins_meet_the_same_stage_contract() {
    let plugins = plugins();
    check_contract(&loaded(
        &plugins.topics,
        json!({"topics": {"harbour": ["harbour"]}, "title_prefix": true}),
    ));
    check_contract(&loaded(&plugins.phrase_filter, json!({"phrase": "sponsored content"})));
    check_contract(&loaded(&plugins.misbehaving, json!({"mode": "noop"})));
}
