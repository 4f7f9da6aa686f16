//! Example briefd plugin: a topic tagger driven by its options.
//!
//! Each configured topic lists keywords; an article whose headline or text contains one (as a
//! whole word, any case) gets the tag `topic:<name>`. Optionally the headline is prefixed with
//! the topics (`[Harbour] ...`), and articles matching no topic are dropped. Built as a
//! `cdylib`, it is loaded by briefd through the C ABI like any third-party stage; it depends on
//! `stage-api` only.
//!
//! ```yaml
//! - kind: plugin
//!   path: plugins/libexample_stage.so
//!   options:
//!     topics: { harbour: [harbour, port, ferry], transport: [tram, bus] }
//!     title_prefix: true
//!     drop_unmatched: false
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use stage_api::{Article, Context, FromOptions, Outcome, Stage};

/// The stage's options, as written under `options:` in the config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// Topic name to its keywords.
    pub topics: BTreeMap<String, Vec<String>>,
    /// Prefix the headline with the matched topics, e.g. `[Harbour] `.
    pub title_prefix: bool,
    /// Drop articles that match no topic.
    pub drop_unmatched: bool,
}

/// The topic tagger.
#[derive(Debug, Clone)]
pub struct TopicTagger {
    /// Topic name and its keywords, lower-cased.
    topics: Vec<(String, Vec<String>)>,
    title_prefix: bool,
    drop_unmatched: bool,
}

impl FromOptions for TopicTagger {
    fn from_options(options: serde_json::Value) -> Result<Self, String> {
        let options: Options = serde_json::from_value(options).map_err(|e| format!("options: {e}"))?;
        if options.topics.is_empty() {
            return Err("options.topics is empty; add e.g. `topics: { harbour: [harbour, port] }`".into());
        }
        let mut topics = Vec::new();
        for (name, keywords) in options.topics {
            let keywords: Vec<String> =
                keywords.iter().map(|k| k.trim().to_lowercase()).filter(|k| !k.is_empty()).collect();
            if keywords.is_empty() {
                return Err(format!("options.topics.{name} lists no keyword"));
            }
            topics.push((name, keywords));
        }
        Ok(TopicTagger { topics, title_prefix: options.title_prefix, drop_unmatched: options.drop_unmatched })
    }
}

impl TopicTagger {
    /// The topics whose keywords occur in `article`, in config order.
    pub fn matches(&self, article: &Article) -> Vec<&str> {
        let haystack =
            format!("{}\n{}", article.title.as_deref().unwrap_or_default(), article.text).to_lowercase();
        let words: Vec<&str> =
            haystack.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        self.topics
            .iter()
            .filter(|(_, keywords)| keywords.iter().any(|k| contains_phrase(&words, k)))
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// Whether the words of `phrase` occur consecutively in `words`.
fn contains_phrase(words: &[&str], phrase: &str) -> bool {
    let wanted: Vec<&str> = phrase.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    !wanted.is_empty() && words.windows(wanted.len()).any(|w| w == wanted.as_slice())
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

impl Stage for TopicTagger {
    fn name(&self) -> &str {
        "topics"
    }

    fn process(&self, mut article: Article, _context: &dyn Context) -> Outcome {
        let found: Vec<String> = self.matches(&article).into_iter().map(str::to_string).collect();
        if found.is_empty() && self.drop_unmatched {
            return Outcome::Drop { reason: "matches none of the configured topics".into() };
        }
        for topic in &found {
            let tag = format!("topic:{topic}");
            if !article.tags.contains(&tag) {
                article.tags.push(tag);
            }
        }
        if self.title_prefix && !found.is_empty() {
            let prefix =
                format!("[{}] ", found.iter().map(|t| capitalised(t)).collect::<Vec<_>>().join(", "));
            let headline = article.headline().to_string();
            if !headline.starts_with(&prefix) {
                article.title = Some(format!("{prefix}{headline}"));
            }
        }
        Outcome::Continue(article)
    }
}

stage_api::export_stage!(TopicTagger, "topics");

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use stage_api::EmptyContext;

    fn tagger(options: serde_json::Value) -> TopicTagger {
        TopicTagger::from_options(options).unwrap()
    }

    fn article(title: &str, text: &str) -> Article {
        Article { title: Some(title.into()), text: text.into(), ..Article::default() }
    }

    #[test]
    fn tags_and_prefixes_matching_topics() {
        let stage =
            tagger(json!({"topics": {"harbour": ["harbour wall"], "rail": ["tram"]}, "title_prefix": true}));
        let Outcome::Continue(out) =
            stage.process(article("Storm", "The Harbour  wall fell."), &EmptyContext)
        else {
            panic!("dropped")
        };
        assert_eq!(out.tags, ["topic:harbour"]);
        assert_eq!(out.title.as_deref(), Some("[Harbour] Storm"));
    }

    #[test]
    fn keywords_match_whole_words_only() {
        let stage = tagger(json!({"topics": {"rail": ["tram"]}, "drop_unmatched": true}));
        let outcome = stage.process(article("Trampoline park opens", "Jumping."), &EmptyContext);
        assert!(matches!(outcome, Outcome::Drop { .. }), "{outcome:?}");
    }

    #[test]
    fn refuses_options_without_topics() {
        let err = TopicTagger::from_options(json!({})).unwrap_err();
        assert!(err.contains("topics is empty"), "{err}");
        let err = TopicTagger::from_options(json!({"topix": {}})).unwrap_err();
        assert!(err.contains("unknown field `topix`"), "{err}");
    }
}
