//! Example briefd story-stage plugin (stage-api 1.4): tags a whole story.
//!
//! An article stage sees one article; a story stage is handed the story with all its sources
//! (reprints marked) each time an article joins it, and sets story fields. This one sets the
//! story's `tags`: `topic:<name>` for each configured topic a keyword of which (a whole word or
//! phrase, any case) occurs in the title or text of one of the story's *independent* sources,
//! and `outlets:<n>`, the number of distinct outlets among them (a reprint is the same report
//! again, so it adds neither). A story matching no topic is skipped with a reason unless
//! `tag_outlets` is on. Built as a `cdylib` and loaded through the C ABI like any plugin; it
//! depends on `stage-api` only.
//!
//! ```yaml
//! - kind: plugin
//!   path: plugins/libexample_story.so
//!   options:
//!     topics: { harbour: [harbour, port, ferry], transport: [tram, bus] }
//!     tag_outlets: true
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use stage_api::{Article, Context, FromOptions, Story, StoryFields, StoryOutcome, StoryStage};

/// The stage's options, as written under `options:` in the config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// Topic name to its keywords.
    pub topics: BTreeMap<String, Vec<String>>,
    /// Also tag `outlets:<n>`, the number of distinct outlets of the independent sources.
    pub tag_outlets: bool,
}

/// The story tagger.
#[derive(Debug, Clone)]
pub struct StoryTopics {
    /// Topic name and its keywords (each a list of lower-cased words).
    topics: Vec<(String, Vec<Vec<String>>)>,
    tag_outlets: bool,
}

impl FromOptions for StoryTopics {
    fn from_options(options: serde_json::Value) -> Result<Self, String> {
        let options: Options = serde_json::from_value(options).map_err(|e| format!("options: {e}"))?;
        if options.topics.is_empty() && !options.tag_outlets {
            return Err(
                "nothing to tag: add `topics: { harbour: [harbour, port] }` or `tag_outlets: true`".into()
            );
        }
        let mut topics = Vec::new();
        for (name, keywords) in options.topics {
            let keywords: Vec<Vec<String>> =
                keywords.iter().map(|k| words(k)).filter(|k| !k.is_empty()).collect();
            if keywords.is_empty() {
                return Err(format!("options.topics.{name} lists no keyword"));
            }
            topics.push((name, keywords));
        }
        Ok(StoryTopics { topics, tag_outlets: options.tag_outlets })
    }
}

/// The lower-cased words of `text`.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

fn mentions(article: &Article, phrase: &[String]) -> bool {
    let words = words(&format!("{}\n{}", article.title.as_deref().unwrap_or_default(), article.text));
    words.windows(phrase.len()).any(|w| w == phrase)
}

impl StoryStage for StoryTopics {
    fn name(&self) -> &str {
        "story-topics"
    }

    fn process_story(&self, story: Story, _context: &dyn Context) -> StoryOutcome {
        let mut tags: Vec<String> = self
            .topics
            .iter()
            .filter(|(_, keywords)| {
                story.independent().any(|s| keywords.iter().any(|k| mentions(&s.article, k)))
            })
            .map(|(name, _)| format!("topic:{name}"))
            .collect();
        if tags.is_empty() && !self.tag_outlets {
            return StoryOutcome::Skip { reason: "names none of the configured topics".into() };
        }
        if self.tag_outlets {
            let outlets: BTreeSet<String> = story
                .independent()
                .filter_map(|s| s.outlet.as_deref())
                .map(|o| o.trim().to_lowercase())
                .filter(|o| !o.is_empty())
                .collect();
            tags.push(format!("outlets:{}", outlets.len()));
        }
        StoryOutcome::Set(StoryFields { tags: Some(tags), ..StoryFields::default() })
    }
}

stage_api::export_story_stage!(StoryTopics, "story-topics");

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use stage_api::{EmptyContext, StorySource};

    fn source(id: i64, outlet: &str, text: &str, reprint_of: Option<i64>) -> StorySource {
        StorySource {
            article_id: id,
            outlet: Some(outlet.into()),
            reprint_of,
            article: Article { text: text.into(), outlet: Some(outlet.into()), ..Article::default() },
        }
    }

    #[test]
    fn tags_topics_and_outlets_of_the_independent_sources_only() {
        let stage = StoryTopics::from_options(
            json!({"topics": {"harbour": ["harbour wall"], "rail": ["tram"]}, "tag_outlets": true}),
        )
        .unwrap();
        let story = Story {
            story_id: 1,
            revision: 3,
            sources: vec![
                source(1, "AP", "The harbour  wall fell.", None),
                source(2, "Reuters", "Storm damage on the coast.", None),
                // A reprint's words and outlet count for nothing.
                source(3, "Mirror", "The tram stopped. The harbour wall fell.", Some(1)),
            ],
            ..Story::default()
        };
        let StoryOutcome::Set(fields) = stage.process_story(story, &EmptyContext) else { panic!("not set") };
        assert_eq!(fields.tags, Some(vec!["topic:harbour".to_string(), "outlets:2".to_string()]));
        assert_eq!((fields.summary, fields.key_points), (None, None), "the rest is left as is");
    }

    #[test]
    fn a_story_without_a_topic_is_skipped_with_a_reason() {
        let stage = StoryTopics::from_options(json!({"topics": {"rail": ["tram"]}})).unwrap();
        let story =
            Story { sources: vec![source(1, "AP", "Trampoline park opens.", None)], ..Story::default() };
        let outcome = stage.process_story(story, &EmptyContext);
        assert!(matches!(outcome, StoryOutcome::Skip { .. }), "{outcome:?}");
        assert!(StoryTopics::from_options(json!({})).is_err());
    }
}
