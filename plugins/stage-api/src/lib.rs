//! The briefd stage interface: what every stage, built-in or loaded, implements and exchanges.
//!
//! A stage receives an owned [`Article`] plus a read-only [`Context`] onto earlier stories, and
//! returns an owned [`Outcome`]. Nothing borrowed crosses the call, and every type here has a
//! documented JSON encoding ([`ARTICLE_SCHEMA_VERSION`]), so the same contract can later cross a
//! C ABI (see [`abi`]) without changing what built-in stages do.

pub mod abi;
mod article;
mod stage;

pub use article::{Article, Citation, Format, KeyPoint, StoryMatch, ARTICLE_SCHEMA_VERSION};
pub use stage::{Context, EmptyContext, KeyHit, Outcome, Stage, StoredArticle};

/// Major version of the stage interface; a plugin built for another major is refused.
pub const ABI_MAJOR: u32 = 1;
