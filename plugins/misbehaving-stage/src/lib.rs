//! Test fixture plugin: a stage that misbehaves on purpose, so the tests can show that the host
//! contains it (and a no-op mode for measuring the cost of the boundary itself).
//!
//! `options: { mode: noop | panic | hang | query, when: "text" }`; with `when`, the stage
//! misbehaves only on articles whose text contains it and passes the others on unchanged. `query` asks the host's context for
//! stories and their articles and records the answers as tags, proving the callback path. The C files in `c/` cover
//! what the SDK would never produce: a wrong ABI major and garbage answers.

use serde::Deserialize;
use stage_api::{Article, Context, FromOptions, Outcome, Stage};

/// What the stage does with each article.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Passes the article on unchanged.
    Noop,
    /// Panics (the SDK must turn it into a failure).
    Panic,
    /// Never returns (the host must time it out).
    Hang,
    /// Looks up the text's `text_sha256` stories through the context and tags their ids, then
    /// tags the first story's size and article ids.
    Query,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    mode: Mode,
    #[serde(default)]
    when: Option<String>,
}

/// The misbehaving stage.
pub struct Misbehaving {
    mode: Mode,
    when: Option<String>,
}

impl FromOptions for Misbehaving {
    fn from_options(options: serde_json::Value) -> Result<Self, String> {
        let options: Options = serde_json::from_value(options).map_err(|e| format!("options: {e}"))?;
        Ok(Misbehaving { mode: options.mode, when: options.when })
    }
}

impl Stage for Misbehaving {
    fn name(&self) -> &str {
        "misbehaving"
    }

    fn process(&self, mut article: Article, context: &dyn Context) -> Outcome {
        if self.when.as_deref().is_some_and(|w| !article.text.contains(w)) {
            return Outcome::Continue(article);
        }
        match self.mode {
            Mode::Noop => Outcome::Continue(article),
            Mode::Panic => panic!("misbehaving stage panics on {}", article.file_name),
            Mode::Hang => loop {
                std::thread::park();
            },
            Mode::Query => {
                let stories = context.stories_with_fingerprint("text_sha256", &article.text);
                article.tags.push(format!("stories:{stories:?}"));
                if let Some(&story) = stories.first() {
                    let ids: Vec<i64> =
                        context.story_articles(story, 10).iter().map(|a| a.article_id).collect();
                    article
                        .tags
                        .push(format!("story {story}: size {}, articles {ids:?}", context.story_size(story)));
                }
                Outcome::Continue(article)
            }
        }
    }
}

stage_api::export_stage!(Misbehaving, "misbehaving");
