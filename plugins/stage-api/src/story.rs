//! Story stages: a second kind of stage, which runs over a whole story after an article has been
//! committed into it, rather than over one article on its way in.
//!
//! An article stage ([`crate::Stage`]) sees one article and may reach the rest of its story only
//! through [`Context`] queries; a story stage ([`StoryStage`]) is handed the story itself as
//! owned data ([`Story`]: every source as committed, with its store id, its outlet and whether
//! it is a reprint of another source) and returns the story's fields ([`StoryFields`]: summary,
//! key points, tags). Each field is optional: a field the stage leaves unset keeps what it was,
//! so several story stages can each own one field. The pipeline runs the configured story stages
//! in config order after every commit that changes a story (an article joining, a merge) and
//! stores their fields for the story; the briefing shows them.
//!
//! Both types have a JSON encoding ([`STORY_SCHEMA_VERSION`], documented in PLUGINS.md), which is
//! what crosses the C ABI's `process_story` entry (stage-api 1.4).

use serde::{Deserialize, Serialize};

use crate::{Article, Context, KeyPoint};

/// Version of the JSON encoding of [`Story`] and [`StoryFields`]; fields are only ever added
/// within a major version.
pub const STORY_SCHEMA_VERSION: u32 = 1;

/// A story as a story stage receives it: owned, read from the store in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Story {
    /// The story's id in the store.
    pub story_id: i64,
    /// Its revision: bumped by every change (an article joining, a merge). Fields are stored
    /// with the revision they were computed from.
    pub revision: i64,
    /// Its sources: the independent ones first, then the reprints, each group newest first. A
    /// host passes at most its newest [`MAX_STORY_SOURCES`] sources.
    pub sources: Vec<StorySource>,
    /// The fields the story stages before this one (in config order) set in this run; empty for
    /// the first.
    pub fields: StoryFields,
}

/// The most sources a host puts in one [`Story`]: the newest ones. Bounds a story stage's input
/// (and so its work) however large a story grows.
pub const MAX_STORY_SOURCES: usize = 64;

/// One source of a story.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StorySource {
    /// The article's id in the store; what a [`crate::Citation::article_id`] names.
    pub article_id: i64,
    /// Its publisher, when known (the article's `outlet`, repeated for convenience).
    pub outlet: Option<String>,
    /// When this source is a reprint (an exact or near copy, as `dedupe` decided) of another
    /// source of the story: that source's article id (the first text of a chain of copies). A
    /// reprint is the same report again, not more evidence.
    pub reprint_of: Option<i64>,
    /// The article as committed.
    pub article: Article,
}

/// What a story stage sets on a story. `None` means "leave as is"; `Some` replaces the field
/// (`Some(vec![])` clears a list).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoryFields {
    /// The story's summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// How the summary was made, e.g. "extractive"; read only with `summary`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary_method: Option<String>,
    /// The story's key points. Every citation must name the source it cites
    /// ([`crate::Citation::article_id`], one of the story's sources); the host refuses fields
    /// whose citations do not, as it refuses garbage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_points: Option<Vec<KeyPoint>>,
    /// Free-form labels for the story (e.g. `topic:harbour`); the briefing shows them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

impl StoryFields {
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self.summary.is_none() && self.key_points.is_none() && self.tags.is_none()
    }

    /// Applies `later` over these fields: each field `later` sets replaces this one's.
    pub fn apply(&mut self, later: &StoryFields) {
        if later.summary.is_some() {
            self.summary.clone_from(&later.summary);
            self.summary_method.clone_from(&later.summary_method);
        }
        if later.key_points.is_some() {
            self.key_points.clone_from(&later.key_points);
        }
        if later.tags.is_some() {
            self.tags.clone_from(&later.tags);
        }
    }

    /// Why these fields cannot be stored for `story`, if they cannot: a key point's citation that
    /// names no source, or a source outside the story, or a span outside that source's text.
    pub fn problem(&self, story: &Story) -> Option<String> {
        for (i, point) in self.key_points.iter().flatten().enumerate() {
            for citation in &point.citations {
                let Some(id) = citation.article_id else {
                    return Some(format!(
                        "key_points[{i}] has a citation without `article_id`; a story stage must name the source it cites"
                    ));
                };
                let Some(source) = story.sources.iter().find(|s| s.article_id == id) else {
                    return Some(format!(
                        "key_points[{i}] cites article {id}, which is not a source of story {}",
                        story.story_id
                    ));
                };
                let text = &source.article.text;
                if citation.start > citation.end
                    || citation.end > text.len()
                    || !text.is_char_boundary(citation.start)
                    || !text.is_char_boundary(citation.end)
                {
                    return Some(format!(
                        "key_points[{i}] cites bytes {}..{} of article {id}, which are not a span of its text",
                        citation.start, citation.end
                    ));
                }
            }
        }
        None
    }
}

impl Story {
    /// The sources that are not reprints of another source.
    pub fn independent(&self) -> impl Iterator<Item = &StorySource> {
        self.sources.iter().filter(|s| s.reprint_of.is_none())
    }
}

/// A story-level stage: owned story in, owned outcome out. Runs after an article has been
/// committed into the story, once per change of the story, on the pipeline thread.
pub trait StoryStage: Send + Sync {
    /// The name used in logs, the store and `briefd explain`.
    fn name(&self) -> &str;

    /// Computes the story's fields.
    fn process_story(&self, story: Story, context: &dyn Context) -> StoryOutcome;
}

/// What a story stage decided about one story.
#[derive(Debug, Clone, PartialEq)]
pub enum StoryOutcome {
    /// Store these fields for the story (unset ones leave the story's as they are).
    Set(StoryFields),
    /// Set nothing, on purpose (e.g. the story is too small for the stage); the reason is
    /// recorded with the story, and the fields this stage set earlier stay.
    Skip {
        /// Why, in a reader's words.
        reason: String,
    },
    /// The stage could not handle the story: the message is recorded with the story and logged,
    /// and the fields this stage set for an earlier revision stay shown. The article that
    /// changed the story is already committed and stays in the briefing.
    Fail {
        /// What went wrong.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Citation;

    fn story() -> Story {
        let source = |id: i64, reprint_of: Option<i64>| StorySource {
            article_id: id,
            outlet: None,
            reprint_of,
            article: Article { text: "Ten words here.".into(), ..Article::default() },
        };
        Story {
            story_id: 3,
            revision: 2,
            sources: vec![source(7, None), source(9, Some(7))],
            ..Story::default()
        }
    }

    fn cited(article_id: Option<i64>, start: usize, end: usize) -> StoryFields {
        let citation = Citation { article_id, start, end, value: None };
        let point = KeyPoint { text: "Ten words".into(), citations: vec![citation], sources_differ: false };
        StoryFields { key_points: Some(vec![point]), ..StoryFields::default() }
    }

    #[test]
    fn later_fields_replace_only_what_they_set() {
        let mut fields =
            StoryFields { summary: Some("a".into()), tags: Some(vec!["x".into()]), ..StoryFields::default() };
        fields.apply(&StoryFields { tags: Some(vec![]), ..StoryFields::default() });
        assert_eq!(fields.summary.as_deref(), Some("a"));
        assert_eq!(fields.tags, Some(vec![]));
        assert!(StoryFields::default().is_empty());
    }

    #[test]
    fn citations_must_name_a_source_of_the_story_and_a_span_of_its_text() {
        let story = story();
        assert_eq!(cited(Some(9), 0, 9).problem(&story), None);
        assert!(cited(None, 0, 3).problem(&story).unwrap().contains("without `article_id`"));
        assert!(cited(Some(8), 0, 3).problem(&story).unwrap().contains("not a source of story 3"));
        assert!(cited(Some(7), 0, 99).problem(&story).unwrap().contains("not a span"));
        assert_eq!(story.independent().map(|s| s.article_id).collect::<Vec<_>>(), [7]);
    }

    /// The documented JSON: unset fields are absent, and a missing field reads as unset.
    #[test]
    fn the_json_leaves_unset_fields_out() {
        let fields = StoryFields { tags: Some(vec!["topic:harbour".into()]), ..StoryFields::default() };
        assert_eq!(serde_json::to_string(&fields).unwrap(), r#"{"tags":["topic:harbour"]}"#);
        let read: StoryFields = serde_json::from_str(r#"{"summary": "s", "unknown": 1}"#).unwrap();
        assert_eq!(read.summary.as_deref(), Some("s"));
        assert_eq!(read.key_points, None);
    }
}
