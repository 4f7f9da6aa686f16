//! The briefd stage interface: what every stage, built-in or loaded, implements and exchanges.
//!
//! A stage receives an owned [`Article`] plus a read-only [`Context`] onto earlier stories, and
//! returns an owned [`Outcome`]. A story stage ([`StoryStage`], stage-api 1.4) receives a whole
//! [`Story`] after an article was committed into it and returns its [`StoryFields`]. Nothing borrowed crosses the call, and every type here has a
//! documented JSON encoding ([`ARTICLE_SCHEMA_VERSION`]), so the same contract crosses a C ABI
//! (see [`abi`]) without changing what built-in stages do. Plugin authors implement [`Stage`] and
//! [`FromOptions`] and call [`export_stage!`]; `PLUGINS.md` at the repository root is the tutorial.

pub mod abi;
mod article;
pub mod query;
pub mod sdk;
mod stage;
mod story;

pub use article::{Article, Citation, Format, KeyPoint, StoryMatch, StoryMerge, ARTICLE_SCHEMA_VERSION};
pub use sdk::FromOptions;
pub use stage::{Context, EmptyContext, KeyHit, Outcome, Stage, StoredArticle};
pub use story::{
    Story, StoryFields, StoryOutcome, StorySource, StoryStage, MAX_STORY_SOURCES, STORY_SCHEMA_VERSION,
};

/// Major version of the stage interface; a plugin built for another major is refused.
pub const ABI_MAJOR: u32 = 1;
