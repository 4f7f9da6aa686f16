//! The dedupe stage against the real store: articles go through `Dedupe::process` and
//! `Store::commit_article` one at a time, as in the daemon.

use std::path::{Path, PathBuf};

use dedupe::{Dedupe, Options};
use stage_api::{Article, Outcome, Stage};
use store::Store;

mod embed;

fn test_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name)
}

fn seed(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/inbox").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Runs texts through the stage on a fresh store; returns each article's story and decision.
fn stories_of(texts: &[String]) -> Vec<(i64, Article)> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let stage = Dedupe::new(Options::default());
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let name = format!("a{i}");
            let file = store.accept_file(name.as_bytes(), name.as_bytes(), &name, 1).unwrap();
            let article = Article {
                text: text.clone(),
                received_at: format!("2025-07-1{i}T08:00:00Z"),
                ..Default::default()
            };
            let Outcome::Continue(article) = stage.process(article, &store) else { panic!("not passed on") };
            let story = store.commit_article(file.id, &article, "2025-07-13", Path::new(&name)).unwrap();
            (story, article)
        })
        .collect()
}

/// Issue 8: two different earthquakes in the same week stay two stories.
#[test]
fn two_earthquakes_in_one_week_stay_two_stories() {
    let texts: Vec<String> =
        ["quake_chile.txt", "quake_sumatra.txt"].iter().map(|n| std::fs::read_to_string(test_data(n)).unwrap()).collect();
    let out = stories_of(&texts);
    assert_ne!(out[0].0, out[1].0, "{:?}", out[1].1.metadata);
    assert!(out[1].1.metadata["dedupe.decision"].starts_with("new story"), "{:?}", out[1].1.metadata);
}

/// Issue 8: the two seed articles (one event, two outlets, other words) are one story.
#[test]
fn the_seed_pair_is_one_story() {
    let texts = vec![seed("000_9df954c550cd2be9.txt"), seed("004_74facf148fc9e229.txt")];
    let out = stories_of(&texts);
    assert_eq!(out[0].0, out[1].0, "{:?}", out[1].1.metadata);
    let reason = &out[1].1.story.as_ref().unwrap().reason;
    assert!(reason.starts_with("dedupe: same story"), "{reason}");
}

/// A wire story reposted with a new headline, a trimmed last paragraph and an ad is a near-copy.
#[test]
fn a_reposted_wire_story_is_a_near_copy() {
    let original = std::fs::read_to_string(test_data("quake_chile.txt")).unwrap();
    let mut paragraphs: Vec<&str> = original.split("\n\n").collect();
    paragraphs[0] = "Chile quake: what we know";
    let last = paragraphs.len() - 1;
    paragraphs[last] = "Chile sits on the Pacific Ring of Fire.";
    paragraphs.insert(2, "ADVERTISEMENT - Subscribe now for unlimited access");
    let repost = paragraphs.join("\n\n");
    let out = stories_of(&[original, repost]);
    assert_eq!(out[0].0, out[1].0);
    assert!(out[1].1.story.as_ref().unwrap().reason.starts_with("dedupe: near-copy"), "{:?}", out[1].1.metadata);
}

/// Clusters live in the store: reopening it finds the same stories for the same keys.
#[test]
fn clusters_survive_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let stage = Dedupe::new(Options::default());
    let text = std::fs::read_to_string(test_data("quake_chile.txt")).unwrap();
    let first_story = {
        let store = Store::open(&path).unwrap();
        let file = store.accept_file(b"p1", b"a", "h1", 1).unwrap();
        let Outcome::Continue(article) = stage.process(Article { text: text.clone(), ..Default::default() }, &store)
        else {
            panic!("not passed on")
        };
        store.commit_article(file.id, &article, "2025-07-13", Path::new("a")).unwrap()
    };
    let store = Store::open(&path).unwrap();
    let file = store.accept_file(b"p2", b"b", "h2", 1).unwrap();
    let retold = text.replace("Tuesday", "Tuesday morning").replace("officials said", "authorities reported");
    let Outcome::Continue(article) = stage.process(Article { text: retold, ..Default::default() }, &store) else {
        panic!("not passed on")
    };
    assert_eq!(article.story.as_ref().map(|s| s.story_id), Some(first_story));
    assert_eq!(store.commit_article(file.id, &article, "2025-07-13", Path::new("b")).unwrap(), first_story);
}
