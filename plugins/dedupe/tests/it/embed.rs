//! The embedding signal against the real store: vectors are kept with the articles and reused,
//! and the seed pair and the two earthquakes still come out right with it switched on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dedupe::embed::{EmbeddingOptions, Encoder, DEFAULT_MODEL_DIR, METADATA_KEY};
use dedupe::{Dedupe, Options};
use stage_api::{Article, Outcome, Stage};
use store::Store;

use crate::{seed, test_data};

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(DEFAULT_MODEL_DIR)
}

fn encoder() -> Arc<Encoder> {
    Arc::new(
        Encoder::load(&model_dir()).unwrap_or_else(|e| panic!("the embedding tests need the model: {e}")),
    )
}

fn options(weight: f64, threshold: f64) -> Options {
    Options {
        same_story_threshold: threshold,
        embeddings: Some(EmbeddingOptions { model_dir: model_dir(), weight, min_similarity: 0.0 }),
        ..Options::default()
    }
}

/// Processes and commits `text` as file `name`; returns the story and the article.
fn add(store: &Store, stage: &Dedupe, name: &str, text: &str) -> (i64, Article) {
    let file = store.accept_file(name.as_bytes(), name.as_bytes(), name, 1).unwrap();
    let article =
        Article { text: text.into(), received_at: "2025-07-13T08:00:00Z".into(), ..Default::default() };
    let Outcome::Continue(article) = stage.process(article, store) else { panic!("not passed on") };
    (store.commit_item(file.id, &article, "2025-07-13").unwrap(), article)
}

/// A stored article's vector is read back from the store, not computed again, even by a new
/// stage instance (a restart), so each article is embedded once.
#[test]
fn an_article_is_embedded_once_and_its_vector_kept_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let text = std::fs::read_to_string(test_data("quake_chile.txt")).unwrap();
    let first = {
        let store = Store::open(&path).unwrap();
        let stage = Dedupe::with_encoder(options(0.25, 0.4), encoder());
        let (story, article) = add(&store, &stage, "a", &text);
        assert!(article.metadata[METADATA_KEY].len() > 384 * 8, "the vector is kept with the article");
        story
    };
    let store = Store::open(&path).unwrap();
    let fresh = encoder();
    let stage = Dedupe::with_encoder(options(0.25, 0.4), Arc::clone(&fresh));
    let retold = text.replace("Tuesday", "Tuesday morning").replace("officials said", "authorities reported");
    let (story, article) = add(&store, &stage, "b", &retold);
    assert_eq!(story, first, "{:?}", article.metadata);
    assert_eq!(fresh.work().0, 1, "only the new article is embedded; the stored one's vector is reused");
    assert!(article.metadata["dedupe.best"].contains("embedding 0.9"), "{:?}", article.metadata);
}

/// Issue 8's pair and its two earthquakes, with the embeddings alone deciding (at 0.7, the
/// threshold the eval's sweep found for them).
#[test]
fn embeddings_alone_join_the_seed_pair_and_part_the_earthquakes() {
    let run = |texts: [String; 2]| {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let stage = Dedupe::with_encoder(options(1.0, 0.7), encoder());
        let (a, _) = add(&store, &stage, "a", &texts[0]);
        let (b, article) = add(&store, &stage, "b", &texts[1]);
        (a == b, article.metadata["dedupe.best"].clone())
    };
    let (same, best) = run([seed("000_9df954c550cd2be9.txt"), seed("004_74facf148fc9e229.txt")]);
    assert!(same, "{best}");
    let quakes =
        ["quake_chile.txt", "quake_sumatra.txt"].map(|n| std::fs::read_to_string(test_data(n)).unwrap());
    let (same, best) = run(quakes);
    assert!(!same, "{best}");
}
