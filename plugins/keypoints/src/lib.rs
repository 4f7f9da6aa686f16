//! The built-in `keypoints` stage: the few sentences of a story that carry its facts (names,
//! places, numbers, dates) and its central content, each cited to the sentences that say it, so
//! every point shown is the sources' own words and traceable to them.
//!
//! Points are story-level: when an article joins a story (dedupe set `article.story`), the stage
//! reads the story's other articles through `Context::story_articles` and picks the points over
//! all of them ([`story::key_points`]); the result is stored on the joining article, and the
//! briefing shows the points of the story's newest article. So the points are recomputed once
//! per joining article, which bounds the work under a burst, and the article's own points are
//! the one-source case. A point reported by several outlets cites each of them; one whose
//! outlets give different numbers, dates or names is flagged `sources_differ` and shows both
//! values.
//! A point is kept only if it passes [`grounded`] against its citations. A point shows only
//! the part of its sentence a reader keeps ([`compress`]) and is not one the story's summary
//! already says; when the sources differ on a value the summary states, the summary is
//! rewritten to state every source's value ([`reconcile`]).
//!
//! # How points are chosen
//!
//! The story's sources are the joining article and its story's newest `max_sources - 1` other
//! articles (`Context::story_articles`). Their sentences come from the shared splitter, with
//! paragraphs glued without a space (`community.Dr Venter`, as XSum delivers them) cut apart;
//! sentences under 5 words are ignored, and only those that end as a statement (not a question)
//! and whose shown part ([`compress`]: without dateline, byline, trailing attribution or aside)
//! has 6 to 32 words may become points; the others can still be cited in support. A point shows
//! and cites that part only. Each eligible sentence scores
//!
//! ```text
//!   2 * coverage / (best coverage among eligible sentences)
//! + 2 / (1 + 0.15 * index)              index: its position in its article
//! + 0.3 * min(numbers, 3) + 0.1 * min(names, 5)
//! + min(other sources with a sentence saying the same, 3)
//! - 0.05 * max(shown words - 20, 0)
//! ```
//!
//! where coverage sums, over its content words, how many other sentences of the story hold the
//! word, divided by the square root of its number of content words. Points are taken highest
//! first (ties to the joining article, then the earlier sentence); a sentence sharing more than
//! `max_overlap` of the content words of the shorter of the two with a point already chosen, or
//! with a sentence cited for one, is a repeat and skipped.
//!
//! # Bounds
//!
//! The work per article does not grow with the article's length (issue 20: two near-identical
//! 1 MB sources took 485 s, comparing every sentence with every other): each source is read up
//! to [`story::MAX_SOURCE_BYTES`] and [`story::MAX_SENTENCES_PER_SOURCE`] sentences (the lead,
//! which is what a briefing shows), each sentence keeps only its closest few matches per other
//! source, and the stage stops between sentences once its time budget is spent
//! (`Context::past_budget`). An instruction to an assistant hidden in an article, or the payload
//! after one (`text::injection`), is never a point nor cited.
//!
//! A point cites its own sentence and, for each other source, that source's best match not
//! cited by an earlier point (`Citation::article_id`: `None` is the article being processed).
//! Two sentences say the same when [`story`]'s weighted cosine of stemmed words and phrases
//! reaches `min_agreement` (`min_agreement_unshared_names` when one names someone the other
//! source never mentions). Where a match gives another number, weekday, month or name in the
//! same slot ([`values`]), the point is `sources_differ`, its text shows both values ("12 / 15")
//! and each citation carries the `value` its sentence gives.

pub mod compress;
pub mod reconcile;
pub mod story;
pub mod values;

use std::collections::HashSet;

use serde::Deserialize;
use stage_api::{
    Article, Citation, Context, KeyPoint, Outcome, Stage, Story, StoryFields, StoryOutcome, StoryStage,
};
use text::words::long_words_and_numbers;

/// Options of the `keypoints` stage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// At most this many points per story.
    pub max_points: usize,
    /// Two points sharing more than this share of content words are one point.
    pub max_overlap: f64,
    /// Sentences of two sources whose weighted cosine of words and phrases reaches this say the
    /// same fact, when each names only people and places the other source also mentions.
    pub min_agreement: f64,
    /// The bar for two sentences one of which names someone or somewhere the other source never
    /// mentions (more often another event of the same kind than the same fact).
    pub min_agreement_unshared_names: f64,
    /// Weight of a shared phrase (two neighbouring words) against a shared word of the same
    /// rarity; 0 compares words only.
    pub phrase_weight: f64,
    /// At most this many articles of a story (the newest, with the one being processed) are read.
    pub max_sources: usize,
}

impl Default for Options {
    fn default() -> Self {
        // The agreement options are the grid point with the most same-event agreements on ECB+
        // whose different-event (false) agreements stay at or below those of the plain word
        // cosine at 0.3 that came before (`briefd eval agreement`; docs/benchmarks.md).
        Options {
            max_points: 4,
            max_overlap: 0.4,
            min_agreement: 0.18,
            min_agreement_unshared_names: 0.35,
            phrase_weight: 0.5,
            max_sources: 8,
        }
    }
}

impl Options {
    /// Problems with these values; empty when usable.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(1..=10).contains(&self.max_points) {
            problems.push("max_points must be between 1 and 10".into());
        }
        if !(0.0..=1.0).contains(&self.max_overlap) {
            problems.push("max_overlap must be between 0 and 1".into());
        }
        if !(0.0..=1.0).contains(&self.min_agreement) || self.min_agreement == 0.0 {
            problems.push("min_agreement must be above 0 and at most 1".into());
        }
        if !(self.min_agreement..=1.0).contains(&self.min_agreement_unshared_names) {
            problems.push("min_agreement_unshared_names must be between min_agreement and 1".into());
        }
        if !(0.0..=2.0).contains(&self.phrase_weight) {
            problems.push("phrase_weight must be between 0 and 2".into());
        }
        if !(1..=50).contains(&self.max_sources) {
            problems.push("max_sources must be between 1 and 50".into());
        }
        problems
    }
}

/// The `keypoints` stage.
#[derive(Debug, Clone, Default)]
pub struct Keypoints {
    options: Options,
}

impl Keypoints {
    /// A key-point picker with these options.
    pub fn new(options: Options) -> Self {
        Keypoints { options }
    }
}

impl Stage for Keypoints {
    fn name(&self) -> &str {
        "keypoints"
    }

    fn process(&self, mut article: Article, context: &dyn Context) -> Outcome {
        let earlier = match &article.story {
            Some(m) => context.story_articles(m.story_id, self.options.max_sources.saturating_sub(1)),
            None => Vec::new(),
        };
        let mut sources = vec![story::Source { article_id: None, text: &article.text }];
        sources.extend(
            earlier.iter().map(|e| story::Source { article_id: Some(e.article_id), text: &e.article.text }),
        );
        let stop = || context.past_budget();
        let Some(found) =
            story::key_points_within(&sources, article.summary.as_deref(), &self.options, &stop)
        else {
            return Outcome::Fail { message: "keypoints stopped: past its time budget".into() };
        };
        article.key_points = found.points;
        if let Some(summary) = article.summary.as_deref() {
            if let Some(reconciled) = reconcile::reconcile(summary, &found.differing) {
                article.summary = Some(reconciled);
                let shown: Vec<String> = found.differing.iter().map(|v| v.join(" / ")).collect();
                article.metadata.insert("summary_sources_differ".into(), shown.join("; "));
            }
        }
        Outcome::Continue(article)
    }
}

/// As a story stage (how `Pipeline::build` runs the configured `keypoints`, stage-api 1.4): the
/// points of the story, picked once per change of the story over its newest `max_sources`
/// independent sources (a reprint is the same report again, so it is neither read nor counted
/// as agreement), newest first, so ties go to the article that just joined as before. The
/// summary a point must not repeat, and which is reconciled when the sources differ on a value
/// it states, is the one the story stages before this one set (`summarize`); a reconciled
/// summary is set by this stage (and the summary as it stands when there is nothing to
/// reconcile). A story with no point leaves the points it had.
impl StoryStage for Keypoints {
    fn name(&self) -> &str {
        "keypoints"
    }

    fn process_story(&self, story: Story, context: &dyn Context) -> StoryOutcome {
        let sources: Vec<story::Source<'_>> = story
            .independent()
            .take(self.options.max_sources)
            .map(|s| story::Source { article_id: Some(s.article_id), text: &s.article.text })
            .collect();
        let summary = story.fields.summary.as_deref();
        let stop = || context.past_budget();
        let Some(found) = story::key_points_within(&sources, summary, &self.options, &stop) else {
            return StoryOutcome::Fail { message: "keypoints stopped: past its time budget".into() };
        };
        let mut fields = StoryFields::default();
        if let Some(summary) = summary {
            // Set even when unchanged: this stage's summary is applied after the summarize
            // stage's, so one reconciled for an earlier revision must not outlive it.
            let reconciled = reconcile::reconcile(summary, &found.differing);
            fields.summary = Some(reconciled.unwrap_or_else(|| summary.to_string()));
            fields.summary_method.clone_from(&story.fields.summary_method);
        }
        if !found.points.is_empty() {
            fields.key_points = Some(found.points);
        }
        if fields.is_empty() {
            return StoryOutcome::Skip { reason: "no sentence of the story makes a point".into() };
        }
        StoryOutcome::Set(fields)
    }
}

/// Up to `max_points` cited points of one article's `text`, most important first.
pub fn key_points(text: &str, max_points: usize, max_overlap: f64) -> Vec<KeyPoint> {
    let options = Options { max_points, max_overlap, ..Options::default() };
    story::key_points(&[story::Source { article_id: None, text }], &options)
}

/// True when every word, name and number of the point is found in the text its citations cover;
/// `cited` gives a citation's text (`None` when it points nowhere, which fails the point).
pub fn grounded<'a>(point: &KeyPoint, cited: impl Fn(&Citation) -> Option<&'a str>) -> bool {
    let mut spans = Vec::new();
    for c in &point.citations {
        match cited(c) {
            Some(span) => spans.push(span),
            None => return false,
        }
    }
    let cited: HashSet<String> = long_words_and_numbers(&spans.join(" ")).into_iter().collect();
    !cited.is_empty() && long_words_and_numbers(&point.text).iter().all(|w| cited.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "The council of Lisbon opened the new bridge on Monday after seven years of work. \
        The bridge cost 120 million euros, officials said on Monday evening. \
        Residents said the view was nice and the weather was fine for the whole ceremony. \
        The council of Lisbon opened the new bridge on Monday to traffic after seven years.";

    #[test]
    fn points_are_cited_sentences_without_repeats() {
        let points = key_points(TEXT, 3, 0.4);
        assert!(!points.is_empty());
        for p in &points {
            let c = &p.citations[0];
            assert_eq!(&TEXT[c.start..c.end], p.text);
            assert!(grounded(p, |c| TEXT.get(c.start..c.end)));
        }
        let repeats = points.iter().filter(|p| p.text.contains("opened the new bridge")).count();
        assert_eq!(repeats, 1, "{points:?}");
        assert!(points.iter().any(|p| p.text.contains("120 million")), "numbers count: {points:?}");
    }

    /// A context whose time budget is spent.
    struct Spent;

    impl Context for Spent {
        fn stories_with_fingerprint(&self, _kind: &str, _value: &str) -> Vec<i64> {
            Vec::new()
        }
        fn past_budget(&self) -> bool {
            true
        }
    }

    /// Issue 20: past its time budget the stage stops and fails the article.
    #[test]
    fn past_its_budget_the_stage_fails_the_article() {
        let article = Article { text: TEXT.into(), ..Default::default() };
        let stage = Keypoints::default();
        assert!(matches!(stage.process(article.clone(), &Spent), Outcome::Fail { .. }));
        assert!(matches!(stage.process(article, &stage_api::EmptyContext), Outcome::Continue(_)));
    }

    #[test]
    fn an_invented_word_fails_the_grounding_check() {
        let point = KeyPoint {
            text: "The bridge cost 150 million euros.".into(),
            citations: vec![Citation { start: 82, end: 150, ..Default::default() }],
            ..Default::default()
        };
        assert!(!grounded(&point, |c| TEXT.get(c.start..c.end)));
    }
}
