//! The built-in `dedupe` stage: an article whose normalised text matches an earlier article's
//! joins that article's story, so the same wire copy from two outlets is one story with two
//! sources.
//!
//! This is the exact layer only. Near-copies and the same story told in other words are a later
//! issue; they will add fingerprints and lookups here without changing the stage's contract.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use stage_api::{Article, Context, Outcome, Stage, StoryMatch};

/// The fingerprint kind this stage writes and looks up.
pub const TEXT_FINGERPRINT: &str = "text_sha256";

/// Options of the `dedupe` stage.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {}

impl Options {
    /// Problems with these values; empty when usable.
    pub fn problems(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The `dedupe` stage.
#[derive(Debug, Clone, Default)]
pub struct Dedupe {
    _options: Options,
}

impl Dedupe {
    /// A deduplicator with these options.
    pub fn new(options: Options) -> Self {
        Dedupe { _options: options }
    }
}

/// Text reduced to what two copies of one story share: lower-case words, no punctuation or
/// spacing differences.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Hex SHA-256 of the normalised text.
pub fn text_fingerprint(text: &str) -> String {
    let digest = Sha256::digest(normalize(text).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Stage for Dedupe {
    fn name(&self) -> &str {
        "dedupe"
    }

    fn process(&self, mut article: Article, context: &dyn Context) -> Outcome {
        let fingerprint = text_fingerprint(&article.text);
        if article.story.is_none() {
            if let Some(story_id) = context.stories_with_fingerprint(TEXT_FINGERPRINT, &fingerprint).into_iter().min() {
                article.story = Some(StoryMatch { story_id, reason: "dedupe: same normalised text".into(), score: 1.0 });
            }
        }
        article.fingerprints.insert(TEXT_FINGERPRINT.into(), fingerprint);
        Outcome::Continue(article)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct OneStory(String);

    impl Context for OneStory {
        fn stories_with_fingerprint(&self, kind: &str, value: &str) -> Vec<i64> {
            if kind == TEXT_FINGERPRINT && value == self.0 { vec![7] } else { vec![] }
        }
    }

    #[test]
    fn spacing_case_and_punctuation_do_not_matter() {
        assert_eq!(text_fingerprint("Hello,  World!\n\nBye."), text_fingerprint("hello world bye"));
        assert_ne!(text_fingerprint("hello world"), text_fingerprint("hello there world"));
    }

    #[test]
    fn joins_the_story_with_the_same_text() {
        let context = OneStory(text_fingerprint("Same words here."));
        let article = Article { text: "same words, here".into(), ..Default::default() };
        let Outcome::Continue(out) = Dedupe::default().process(article, &context) else { panic!("dropped") };
        assert_eq!(out.story.map(|s| s.story_id), Some(7));
        let other = Article { text: "other words".into(), ..Default::default() };
        let Outcome::Continue(out) = Dedupe::default().process(other, &context) else { panic!("dropped") };
        assert_eq!(out.story, None);
    }
}
