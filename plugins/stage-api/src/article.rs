//! The article: the one value that flows through the stages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the article's JSON encoding; fields are only ever added within a major version.
pub const ARTICLE_SCHEMA_VERSION: u32 = 1;

/// One article as it moves through the pipeline; each stage fills in more of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Article {
    /// The name the file had in the inbox (lossy UTF-8 if the name was not UTF-8).
    pub file_name: String,
    /// Position of this article inside its file (0 unless a file holds several articles).
    pub item_index: u32,
    /// When the file was accepted, RFC 3339 in UTC.
    pub received_at: String,
    /// The file's bytes, present until a stage has decoded them into `text`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<Vec<u8>>,
    /// What the content was recognised as.
    pub format: Option<Format>,
    /// Headline.
    pub title: Option<String>,
    /// Publisher or agency, e.g. "AP".
    pub outlet: Option<String>,
    /// Author, when the source names one.
    pub author: Option<String>,
    /// Publication date or time, ISO 8601.
    pub published: Option<String>,
    /// Canonical URL of the original.
    pub url: Option<String>,
    /// Language as a BCP 47 tag, when known.
    pub language: Option<String>,
    /// Clean body text, paragraphs separated by blank lines.
    pub text: String,
    /// A short summary of the article.
    pub summary: Option<String>,
    /// How `summary` was made, e.g. "extractive" or "model".
    pub summary_method: Option<String>,
    /// The facts a reader must keep.
    pub key_points: Vec<KeyPoint>,
    /// Free-form labels added by stages.
    pub tags: Vec<String>,
    /// Fingerprints by kind (e.g. "text_sha256"); the store indexes them for later lookups.
    pub fingerprints: BTreeMap<String, String>,
    /// Multi-valued index keys by kind (e.g. LSH bands, words); the store indexes every value
    /// and counts the articles holding it, so stages can find candidates and document frequencies.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, Vec<String>>,
    /// The story this article joins, when a stage matched one; `None` starts a new story.
    pub story: Option<StoryMatch>,
    /// Earlier stories this article shows to be the same story as the one it joins (`story`):
    /// right after the stage that set them, the pipeline moves all their articles into that
    /// story and records each merge with its reason and score, so later stages and the briefing
    /// see one story. Ignored without `story`. Added in stage-api 1.1; absent from the JSON
    /// when empty, so older plugins neither see nor need it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub story_merges: Vec<StoryMerge>,
    /// Anything else a stage wants to keep, as strings.
    pub metadata: BTreeMap<String, String>,
}

/// A recorded decision to join an existing story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryMatch {
    /// Id of the story joined.
    pub story_id: i64,
    /// Which stage and signal made the match, e.g. "dedupe:text_sha256".
    pub reason: String,
    /// Strength of the match in 0..=1.
    pub score: f64,
}

/// A request to merge an earlier story into the one an article joins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryMerge {
    /// The story whose articles move.
    pub story_id: i64,
    /// Why, in a reader's words, with the scores (`briefd explain` prints it).
    pub reason: String,
    /// Strength of the evidence in 0..=1.
    pub score: f64,
}

/// The content type recognised by the first stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Plain text.
    Text,
    /// Markdown.
    Markdown,
    /// HTML.
    Html,
    /// JSON.
    Json,
}

/// A fact worth keeping, with the sentences that support it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyPoint {
    /// The point as shown to the reader.
    pub text: String,
    /// Where it is said: one citation per supporting sentence, possibly in several articles of
    /// the story.
    pub citations: Vec<Citation>,
    /// True when the cited sources give different values (numbers, dates) for this fact; each
    /// citation's `value` then says what that source gives.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sources_differ: bool,
}

/// A span of an article's `text` that supports a key point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Citation {
    /// The article whose text is cited: `None` for the article that holds the key point, else
    /// the store id of another article of the same story.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article_id: Option<i64>,
    /// Byte offset of the cited sentence in that article's `text`.
    pub start: usize,
    /// Byte offset one past its end.
    pub end: usize,
    /// When the sources differ (`KeyPoint::sources_differ`): the value this sentence gives,
    /// e.g. "12".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Article {
    /// The title if there is one, else the file name: what a reader sees as the headline.
    pub fn headline(&self) -> &str {
        match self.title.as_deref() {
            Some(t) if !t.trim().is_empty() => t,
            _ => &self.file_name,
        }
    }
}
