//! The built-in `dedupe` stage: decides which story each article belongs to.
//!
//! Three layers, strongest evidence first:
//! 1. **exact**: the same normalised text ([`text_fingerprint`]) joins that article's story;
//! 2. **near-copy**: a MinHash estimate of shingle overlap at or above `near_copy_threshold`
//!    with an article found through shared LSH bands ([`minhash`]);
//! 3. **same story, other words**: TF-IDF cosine ([`tfidf`]) mixed with the cosine over names,
//!    places and numbers ([`entities`]), each with the centroid of the candidate story's recent
//!    articles, at or above `same_story_threshold`, within `time_window_days` ([`cluster`]).
//!    The terms of the lead (the first `lead_words` words: headline, date line, first
//!    sentence) count `lead_weight` times, as they name the event a text is about.
//!
//! With `embeddings:` set, a sentence-embedding cosine ([`embed`]) joins the combined score.
//! An article that joins one story and also scores above the join threshold against another
//! whose centroid agrees with the first (`story_merge_threshold`) bridges them: the smaller
//! story is merged into the larger ([`merge`]; the pipeline moves the articles).
//!
//! Candidates come from the store's key index (bands and the article's most distinctive words),
//! never from a scan of every article, so the cost per article does not grow with the corpus.
//! Every decision is written into the article (`story.reason`, `story.score` and
//! `metadata["dedupe.*"]`), which `briefd explain` prints.
//!
//! # Features
//!
//! Each text is read once into: its term counts ([`tfidf::counts_with_lead`]: lower-case words
//! without stop words or one-letter tokens; the terms of the first `lead_words` words counted
//! `lead_weight` times, which changes the weights but not the set of terms), its entities
//! ([`entities`]: capitalised words that do not open a sentence, and tokens holding a digit), and
//! its MinHash signature ([`minhash`]: 64 hashes over the 5-word shingles of the normalised text,
//! cut into 16 LSH bands of 4 rows, stored as `minhash_band` keys). Its distinct terms are stored
//! as `word` keys; the store counts the articles holding each key as they are committed, so a
//! document frequency is one lookup and idf follows the corpus as it grows.
//!
//! # Candidates
//!
//! The stories of the articles sharing an LSH band with the new one, then those of the articles
//! sharing the most of its 24 most distinctive words (the highest tf·idf among words other
//! articles hold), at most 40 articles per lookup. The store counts only the newest 200 articles
//! of each key, so a common word's growing posting list costs nothing. Stories after the first
//! `max_candidate_stories` (in that order) are scored only when they share a band. Each is scored
//! on its `max_story_articles` most recent articles within `time_window_days` of the new one
//! (publication dates when both have one, else arrival times).
//!
//! # Scoring and the decision
//!
//! Vectors weigh each term by sublinear tf times a smoothed idf and are L2-normalised; a story's
//! centroid is the normalised sum of its articles' vectors:
//!
//! ```text
//! idf(term)  = ln((n + 1) / (df + 1)) + 1          n articles stored, df of them hold the term
//! weight     = (1 + ln(count)) * idf
//! tfidf      = cosine(article, centroid of the story's articles)
//! entities   = the same over entity terms only
//! combined   = (1 - entity_weight) * tfidf + entity_weight * entities
//! with embeddings: combined = (1 - weight) * combined + weight * embedding cosine
//! ```
//!
//! With `story_link: average` each cosine is the mean of the cosines with the story's articles
//! instead of the cosine with their centroid. An exact copy (the same normalised text's SHA-256,
//! fingerprint `text_sha256`) joins that article's story before anything is scored. Otherwise the
//! best near-copy estimate at or above `near_copy_threshold` wins, then the best combined score
//! at or above `same_story_threshold`; else the article starts a story. Ties go to the older
//! story (the smaller id), so the outcome never depends on hash order. An article that arrives
//! with a story already set (by an earlier stage) keeps it.
//!
//! An exact or near copy names the article it copies (`metadata["dedupe.reprint_of"]`, the store
//! id; [`REPRINT_OF`]), so the briefing can list it as a reprint, not as another outlet.
//!
//! The time window holds on every join and merge, against every dated member of the story (all
//! of them, through `Context::story_published`, not only the newest `max_story_articles` read
//! for scoring): a dated article joins a story only when it lies within `time_window_days` of
//! each of its dated members, an exact copy included, and two stories are merged only when all
//! their dated members and the bridging article's date lie within `time_window_days` of each
//! other. So a story never spans more than the window, however it grew (issue 20: articles dated
//! 1970 and 2099 ended in one story).
//! Optional join rules ask more than the centroid score: `core_share` (the share of the story's
//! articles the new one must reach the threshold with one by one), `min_anchors` (runs of names
//! and numbers in the lead it must share with one of them; [`entities::lead_anchors`]) and, with
//! embeddings on, `embeddings.min_similarity` (the embedding cosine with the story below which it
//! may not join or bridge it: the encoder as a veto, whatever share of the score it has).
//!
//! # Bridging merges
//!
//! Every other candidate story whose combined score also reaches `same_story_threshold` is
//! compared with the joined story, centroid against centroid, with the same weights (words and
//! entities only: no story-level embedding centroid is kept). Those reaching
//! `story_merge_threshold` merge: the largest story of the group keeps its id (ties to the
//! older), the article joins it, and the others are listed in `Article::story_merges` with their
//! reasons and scores. The pipeline applies them in the transaction that records this stage's
//! result, so `summarize` and `keypoints` already read the merged story. A merge is never undone.

pub mod cluster;
pub mod embed;
pub mod entities;
pub mod merge;
pub mod minhash;
pub mod tfidf;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use stage_api::{Article, Context, Outcome, Stage, StoryMatch, StoryMerge};

use cluster::{Decision, Rule, StoryScore};
use merge::{Bridge, Centroids};

/// The fingerprint kind this stage writes and looks up.
pub const TEXT_FINGERPRINT: &str = "text_sha256";
/// Key kind of the MinHash LSH bands.
pub const BAND_KEY: &str = "minhash_band";
/// Key kind of the distinct words, for document frequencies and candidate retrieval.
pub const WORD_KEY: &str = "word";

/// Metadata key naming (by store article id) the article an exact or near copy reprints; the
/// briefing lists the copy under that source and does not count it as another outlet.
pub const REPRINT_OF: &str = "dedupe.reprint_of";

/// How many articles of a story are searched for the one an exact copy repeats.
const EXACT_COPY_SEARCH: usize = 200;

/// How many of an article's most distinctive words look up candidate articles.
const QUERY_WORDS: usize = 24;
/// How many articles the word lookup returns, best first.
const CANDIDATE_ARTICLES: usize = 40;

/// Options of the `dedupe` stage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// Estimated shingle Jaccard (0..1) at or above which an article is a near-copy.
    pub near_copy_threshold: f64,
    /// Combined score (0..1) at or above which an article joins a story told in other words.
    pub same_story_threshold: f64,
    /// Weight (0..1) of the names/places/numbers cosine in the combined score.
    pub entity_weight: f64,
    /// Articles further apart than this (by publication date, else arrival) are never one story.
    pub time_window_days: u32,
    /// How many candidate stories are scored per article.
    pub max_candidate_stories: usize,
    /// How many of a story's most recent articles it is scored on.
    pub max_story_articles: usize,
    /// How a story is compared with the new article: `centroid` (cosine with the normalised sum
    /// of its articles' vectors) or `average` (mean of the cosines with each article).
    pub story_link: StoryLink,
    /// The optional sentence-embedding signal (`model_dir`, `weight`); off when absent.
    pub embeddings: Option<embed::EmbeddingOptions>,
    /// Whether an article that bridges two stories merges them (see [`merge`]).
    pub merge_stories: bool,
    /// Combined similarity (0..1) of two stories' centroids at or above which a bridging article
    /// merges them.
    pub story_merge_threshold: f64,
    /// How many words open the text as its lead (headline, date line, first sentence), whose
    /// terms count `lead_weight` times.
    pub lead_words: usize,
    /// How many times a term of the lead counts (1: no more than anywhere else).
    pub lead_weight: u32,
    /// Share (0..1) of a story's compared articles a new one must reach `same_story_threshold`
    /// with one by one to join (or bridge) it; 0 lets the centroid alone decide.
    pub core_share: f64,
    /// Event anchors (runs of names and numbers in the first `lead_words` words) a new article
    /// must share with one of a story's articles to join (or bridge) it; 0 asks for none.
    pub min_anchors: usize,
    /// Whether an article joins (or bridges) a story that already holds an article of its own
    /// site (URL host, else outlet name) only as a near-copy: the independent sources of one
    /// story are distinct outlets.
    pub distinct_outlets: bool,
}

/// How a story's articles combine into one score against a new article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoryLink {
    /// Cosine with the story's centroid: words the story's articles share add up, while a word
    /// only one of them uses is diluted. On ECB+ this lifts B-cubed F1 from 0.866 to 0.890
    /// (incremental prototype, same thresholds rule).
    Centroid,
    /// Mean of the pairwise cosines (average link); penalises a story whose articles differ
    /// among themselves, which keeps a long story from absorbing anything but splits it more.
    Average,
}

impl StoryLink {
    /// The words `briefd explain` uses for it.
    pub fn describe(self) -> &'static str {
        match self {
            StoryLink::Centroid => "centroid",
            StoryLink::Average => "average",
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        // Thresholds chosen on the ECB+ same-story set by leave-topics-out cross-validation
        // (`briefd eval same-story --sweep`); the rule and figures are in docs/benchmarks.md.
        Options {
            near_copy_threshold: 0.6,
            same_story_threshold: 0.25,
            entity_weight: 0.8,
            time_window_days: 7,
            max_candidate_stories: 6,
            max_story_articles: 12,
            story_link: StoryLink::Centroid,
            // Off without a model folder; `config.yaml` ships the encoder as a veto at 0.65
            // (docs/benchmarks.md, "Precision on the reader's day").
            embeddings: None,
            // Chosen by the same leave-topics-out cross-validation (docs/benchmarks.md): every
            // fold preferred merging at 0.40 to not merging.
            merge_stories: true,
            story_merge_threshold: 0.4,
            // Chosen with the threshold and entity weight in the same grid (docs/benchmarks.md):
            // every fold chose lead weight 3 over 1.
            lead_words: 60,
            lead_weight: 3,
            core_share: 0.0,
            min_anchors: 0,
            // Chosen with the encoder's veto by cross-validation on the reader's day
            // (bench/day-cv, docs/benchmarks.md); ECB+ names no outlets, so it does not move there.
            distinct_outlets: true,
        }
    }
}

impl Options {
    /// Problems with these values; empty when usable.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut unit = |name: &str, v: f64| {
            if !(0.0..=1.0).contains(&v) {
                problems.push(format!("{name} is {v}; write a number from 0 to 1"));
            }
        };
        unit("near_copy_threshold", self.near_copy_threshold);
        unit("same_story_threshold", self.same_story_threshold);
        unit("entity_weight", self.entity_weight);
        unit("story_merge_threshold", self.story_merge_threshold);
        unit("core_share", self.core_share);
        if self.time_window_days == 0 {
            problems.push("time_window_days is 0; write at least 1".into());
        }
        if self.lead_weight == 0 {
            problems.push("lead_weight is 0; write at least 1 (1 weighs the lead like the rest)".into());
        }
        if self.max_candidate_stories == 0 {
            problems.push("max_candidate_stories is 0; write at least 1".into());
        }
        if self.max_story_articles == 0 {
            problems.push("max_story_articles is 0; write at least 1".into());
        }
        if let Some(embeddings) = &self.embeddings {
            problems.extend(embeddings.problems());
        }
        problems
    }

    fn rule(&self) -> Rule {
        Rule {
            near_copy_threshold: self.near_copy_threshold,
            same_story_threshold: self.same_story_threshold,
            entity_weight: self.entity_weight,
            embedding_weight: self.embeddings.as_ref().map_or(0.0, |e| e.weight),
            core_share: self.core_share,
            min_anchors: self.min_anchors,
            min_embedding: self.embeddings.as_ref().map_or(0.0, |e| e.min_similarity),
            distinct_outlets: self.distinct_outlets,
        }
    }
}

/// The `dedupe` stage.
#[derive(Debug, Clone, Default)]
pub struct Dedupe {
    options: Options,
    /// The sentence encoder when `embeddings:` is set; the load error otherwise, which fails
    /// each article rather than quietly deciding without the signal the config asked for.
    encoder: Option<Result<Arc<embed::Encoder>, String>>,
}

/// What the stage computes once per article text.
struct Features {
    counts: BTreeMap<String, u32>,
    entities: BTreeSet<String>,
    /// Only computed where a near-copy is possible (the article itself, band hits).
    signature: Option<minhash::Signature>,
    /// The sentence embedding, when embeddings are on.
    embedding: Option<Vec<f32>>,
    /// The event anchors of the lead ([`entities::lead_anchors`]).
    anchors: Vec<Vec<String>>,
    /// The site the article came from ([`outlet_key`]).
    outlet: Option<String>,
}

impl Features {
    fn of(article: &Article, with_signature: bool, options: &Options) -> Features {
        let text = &article.text;
        Features {
            counts: tfidf::counts_with_lead(text, options.lead_words, options.lead_weight),
            entities: entities::entities(text),
            signature: with_signature.then(|| signature_of(text)),
            embedding: None,
            anchors: entities::lead_anchors(text, options.lead_words),
            outlet: outlet_key(article),
        }
    }
}

/// The site an article came from, to tell a site's own second piece from another outlet's: the
/// host of its URL, else its outlet's name, lower-cased; `None` when it names neither.
fn outlet_key(article: &Article) -> Option<String> {
    article.url.as_deref().and_then(text::site::host_of).or_else(|| {
        let name = article.outlet.as_deref()?.trim();
        (!name.is_empty()).then(|| name.to_lowercase())
    })
}

fn signature_of(text: &str) -> minhash::Signature {
    let normalised = normalize(text);
    let words: Vec<&str> = normalised.split(' ').filter(|w| !w.is_empty()).collect();
    minhash::signature(&words)
}

impl Dedupe {
    /// A deduplicator with these options.
    pub fn new(options: Options) -> Self {
        let encoder = options.embeddings.as_ref().map(|e| {
            embed::Encoder::load(&e.model_dir)
                .map(Arc::new)
                .map_err(|e| format!("dedupe: sentence encoder: {e}"))
        });
        Dedupe { options, encoder }
    }

    /// A deduplicator sharing an encoder already loaded (the eval's repeated runs), which is
    /// used when `options.embeddings` is set.
    pub fn with_encoder(options: Options, encoder: Arc<embed::Encoder>) -> Self {
        let encoder = options.embeddings.is_some().then_some(Ok(encoder));
        Dedupe { options, encoder }
    }

    /// The encoder in use, if embeddings are on and it loaded.
    fn encoder(&self) -> Option<&embed::Encoder> {
        match &self.encoder {
            Some(Ok(encoder)) => Some(encoder),
            _ => None,
        }
    }

    /// Scores the candidate stories of `article` and decides; also returns the stories the
    /// article bridges to the one it joins (empty unless `merge_stories`).
    fn decide(
        &self,
        article: &Article,
        features: &Features,
        context: &dyn Context,
    ) -> (Decision, Vec<Bridge>) {
        let n = context.article_count();
        let terms: Vec<String> = features.counts.keys().cloned().collect();
        let dfs = context.key_counts(WORD_KEY, terms.clone());
        let mut idf: HashMap<String, f64> = HashMap::new();
        for (term, &df) in terms.iter().zip(&dfs) {
            idf.insert(term.clone(), tfidf::idf(df, n));
        }
        let (mut story_order, banded) = self.candidates(features, &terms, &dfs, &idf, context);
        let window = i64::from(self.options.time_window_days) * 86_400;
        let (members, spans) = self.members(article, &mut story_order, &banded, window, context);

        // Document frequencies of the members' own words, so their vectors are weighed alike.
        let missing: Vec<String> = members
            .iter()
            .flat_map(|(_, _, f)| f.counts.keys())
            .filter(|t| !idf.contains_key(*t))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for (term, df) in missing.iter().zip(context.key_counts(WORD_KEY, missing.clone())) {
            idf.insert(term.clone(), tfidf::idf(df, n));
        }

        let rule = self.options.rule();
        let mine = tfidf::vector(&features.counts, &idf, |_| true);
        let mine_entities = tfidf::vector(&features.counts, &idf, |t| features.entities.contains(t));
        let mut scores: Vec<StoryScore> = Vec::new();
        let mut centroids: BTreeMap<i64, Centroids> = BTreeMap::new();
        for &story_id in &story_order {
            let theirs: Vec<_> = members.iter().filter(|(s, _, _)| *s == story_id).collect();
            let scored = self.score_story(story_id, &theirs, features, (&mine, &mine_entities), &idf, &rule);
            if let Some((score, centroid)) = scored {
                scores.push(score);
                centroids.extend(centroid.map(|c| (story_id, c)));
            }
        }
        let decision = rule.decide(&scores);
        let bridges = match &decision {
            Decision::NearCopy(joined) | Decision::SameStory(joined) if self.options.merge_stories => {
                let mut found = merge::bridges(&rule, joined, &scores, |id| centroids.get(&id).cloned());
                // The merged story, with this article, must still lie within the window: an
                // undated article reaches stories of any date by arrival time, and two stories
                // each within the window may lie far apart.
                let own_date = DateSpan::of(std::iter::once(article));
                let joined_span = spans.get(&joined.story_id).copied().unwrap_or_default().union(own_date);
                found.retain(|b| {
                    let theirs = spans.get(&b.score.story_id).copied().unwrap_or_default();
                    theirs.union(joined_span).width() <= window
                });
                found
            }
            _ => Vec::new(),
        };
        (decision, bridges)
    }

    /// The candidate stories, in the order found, and those among them that share an LSH band
    /// (near-copies): articles sharing bands, and those sharing the most of this article's
    /// most distinctive words that other articles hold at all.
    fn candidates(
        &self,
        features: &Features,
        terms: &[String],
        dfs: &[u64],
        idf: &HashMap<String, f64>,
        context: &dyn Context,
    ) -> (Vec<i64>, BTreeSet<i64>) {
        let mut by_weight: Vec<(&String, f64)> = terms
            .iter()
            .zip(dfs)
            .filter(|(_, &df)| df > 0)
            .map(|(t, _)| (t, (1.0 + f64::from(features.counts[t]).ln()) * idf[t]))
            .collect();
        by_weight.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        let query: Vec<String> = by_weight.iter().take(QUERY_WORDS).map(|(t, _)| (*t).clone()).collect();
        let mut story_order: Vec<i64> = Vec::new();
        let band_hits = context.articles_with_keys(BAND_KEY, bands(features), CANDIDATE_ARTICLES);
        let word_hits = if query.is_empty() {
            Vec::new()
        } else {
            context.articles_with_keys(WORD_KEY, query, CANDIDATE_ARTICLES)
        };
        for hit in band_hits.iter().chain(&word_hits) {
            if !story_order.contains(&hit.story_id) {
                story_order.push(hit.story_id);
            }
        }
        let banded: BTreeSet<i64> = band_hits.iter().map(|h| h.story_id).collect();
        let mut kept = 0;
        story_order.retain(|s| {
            kept += 1;
            banded.contains(s) || kept <= self.options.max_candidate_stories
        });
        (story_order, banded)
    }

    /// The members of the candidate stories within the time window, as (story, article,
    /// features), and each story's span of publication dates; drops from `story_order` the
    /// stories a dated article may not be compared with.
    #[allow(clippy::type_complexity)]
    fn members(
        &self,
        article: &Article,
        story_order: &mut Vec<i64>,
        banded: &BTreeSet<i64>,
        window: i64,
        context: &dyn Context,
    ) -> (Vec<(i64, i64, Features)>, BTreeMap<i64, DateSpan>) {
        let mut members: Vec<(i64, i64, Features)> = Vec::new();
        let mut spans: BTreeMap<i64, DateSpan> = BTreeMap::new();
        let own_date = article.published.as_deref().and_then(seconds);
        let mut fetched: Vec<(i64, Vec<stage_api::StoredArticle>)> = Vec::new();
        for &story_id in story_order.iter() {
            let stored = context.story_articles(story_id, self.options.max_story_articles);
            let span = story_span(context, story_id, &stored);
            spans.insert(story_id, span);
            // A dated article is never tied to a story by its undated members alone: they are
            // compared by arrival time, which would bridge years (an old piece and today's news).
            if span.takes(own_date, window) {
                fetched.push((story_id, stored));
            }
        }
        story_order.retain(|id| fetched.iter().any(|(f, _)| f == id));
        for (story_id, stored_articles) in fetched {
            for stored in stored_articles {
                if within_window(article, &stored.article, window) {
                    let mut member = Features::of(&stored.article, banded.contains(&story_id), &self.options);
                    if let Some(encoder) = self.encoder() {
                        // The vector stored with the article; embedded again only when it was
                        // made by another model (or before embeddings were switched on).
                        let stored_vector =
                            stored.article.metadata.get(embed::METADATA_KEY).map(String::as_str);
                        let text = embed::input_text(stored.article.title.as_deref(), &stored.article.text);
                        member.embedding = encoder.embedding_of(stored_vector, &text).ok();
                    }
                    members.push((story_id, stored.article_id, member));
                }
            }
        }
        (members, spans)
    }

    /// The article (its word and name vectors `mine`) scored against one story's `members`
    /// (none: the story is left out), with the story's centroids when merging is on.
    fn score_story(
        &self,
        story_id: i64,
        members: &[&(i64, i64, Features)],
        features: &Features,
        (mine, mine_entities): (&tfidf::Vector, &tfidf::Vector),
        idf: &HashMap<String, f64>,
        rule: &Rule,
    ) -> Option<(StoryScore, Option<Centroids>)> {
        if members.is_empty() {
            return None;
        }
        let mut score = StoryScore {
            story_id,
            n_articles: 0,
            tfidf: 0.0,
            entities: 0.0,
            embedding: 0.0,
            near_copy: 0.0,
            near_copy_of: None,
            agreement: 1.0,
            anchors: 0,
            same_outlet: false,
            combined: 0.0,
        };
        let mut agreeing = 0usize;
        let (mut words, mut names, mut vectors) = (Vec::new(), Vec::new(), Vec::new());
        for (_, article_id, member) in members.iter().copied() {
            score.n_articles += 1;
            let member_words = tfidf::vector(&member.counts, idf, |_| true);
            let member_names = tfidf::vector(&member.counts, idf, |t| member.entities.contains(t));
            // Embeddings are left out: the share is about shared words and names.
            let words_only = Rule { embedding_weight: 0.0, ..*rule };
            let alone =
                words_only.combine(mine.cosine(&member_words), mine_entities.cosine(&member_names), 0.0);
            if alone >= rule.same_story_threshold {
                agreeing += 1;
            }
            let shared = entities::shared_anchors(&features.anchors, &member.anchors);
            score.anchors = score.anchors.max(shared);
            score.same_outlet |= features.outlet.is_some() && features.outlet == member.outlet;
            words.push(member_words);
            names.push(member_names);
            vectors.extend(member.embedding.as_deref());
            if let (Some(mine), Some(theirs)) = (&features.signature, &member.signature) {
                let similarity = mine.similarity(theirs);
                // The earliest article wins a tie (members come newest first): the copy
                // points at what it copies, not at an earlier copy of the same text.
                if similarity > 0.0 && similarity >= score.near_copy {
                    score.near_copy = similarity;
                    score.near_copy_of = Some(*article_id);
                }
            }
        }
        score.agreement = agreeing as f64 / score.n_articles as f64;
        (score.tfidf, score.entities) = match self.options.story_link {
            StoryLink::Centroid => {
                (mine.cosine(&tfidf::centroid(&words)), mine_entities.cosine(&tfidf::centroid(&names)))
            }
            StoryLink::Average => {
                let mean = |v: &[tfidf::Vector], me: &tfidf::Vector| {
                    v.iter().map(|x| me.cosine(x)).sum::<f64>() / v.len() as f64
                };
                (mean(&words, mine), mean(&names, mine_entities))
            }
        };
        if let Some(mine) = &features.embedding {
            score.embedding =
                embed::story_similarity(mine, &vectors, self.options.story_link == StoryLink::Centroid);
        }
        score.combined = rule.combine(score.tfidf, score.entities, score.embedding);
        let centroids = self
            .options
            .merge_stories
            .then(|| Centroids { words: tfidf::centroid(&words), entities: tfidf::centroid(&names) });
        Some((score, centroids))
    }
}

fn bands(features: &Features) -> Vec<String> {
    features.signature.as_ref().map(minhash::Signature::bands).unwrap_or_default()
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

/// Whether two articles are close enough in time to be one story: publication dates when both
/// have one, else arrival times. Mixing the two would compare an old article's date with a new
/// file's arrival and keep apart the same story dropped in months after it ran.
fn within_window(a: &Article, b: &Article, window_seconds: i64) -> bool {
    let published = (a.published.as_deref().and_then(seconds), b.published.as_deref().and_then(seconds));
    let received = (seconds(&a.received_at), seconds(&b.received_at));
    match (published, received) {
        ((Some(x), Some(y)), _) | (_, (Some(x), Some(y))) => (x - y).abs() <= window_seconds,
        _ => true,
    }
}

/// The span of publication dates of every dated article of a story: those the host lists
/// (`Context::story_published`, all members) and those of `read` (the members in hand, for a
/// host that does not list them).
fn story_span(context: &dyn Context, story_id: i64, read: &[stage_api::StoredArticle]) -> DateSpan {
    let listed = context.story_published(story_id);
    let dates = listed.iter().filter_map(|d| seconds(d));
    let read_dates = read.iter().filter_map(|s| s.article.published.as_deref().and_then(seconds));
    dates.chain(read_dates).fold(DateSpan(None), DateSpan::with)
}

/// The publication dates of a story's dated articles: earliest and latest, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct DateSpan(Option<(i64, i64)>);

impl DateSpan {
    fn of<'a>(articles: impl Iterator<Item = &'a Article>) -> DateSpan {
        let dates = articles.filter_map(|a| a.published.as_deref().and_then(seconds));
        dates.fold(DateSpan(None), DateSpan::with)
    }

    /// The span with `t` in it.
    fn with(self, t: i64) -> DateSpan {
        match self.0 {
            None => DateSpan(Some((t, t))),
            Some((lo, hi)) => DateSpan(Some((lo.min(t), hi.max(t)))),
        }
    }

    /// The smallest span holding both.
    fn union(self, other: DateSpan) -> DateSpan {
        match other.0 {
            None => self,
            Some((lo, hi)) => self.with(lo).with(hi),
        }
    }

    /// Seconds from the earliest to the latest date (0 for an undated story).
    fn width(&self) -> i64 {
        self.0.map_or(0, |(lo, hi)| hi - lo)
    }

    /// Whether an article dated `date` may join the story: undated, or within `window` of every
    /// dated member (an undated story takes any).
    fn takes(&self, date: Option<i64>, window: i64) -> bool {
        date.is_none_or(|d| self.with(d).width() <= window)
    }
}

/// Seconds since the epoch of an RFC 3339 time, a civil date-time (UTC) or a date.
fn seconds(s: &str) -> Option<i64> {
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts.as_second());
    }
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        return jiff::tz::TimeZone::UTC.to_timestamp(dt).ok().map(|t| t.as_second());
    }
    let date = s.get(..10)?.parse::<jiff::civil::Date>().ok()?;
    jiff::tz::TimeZone::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .ok()
        .map(|t| t.as_second())
}

impl Stage for Dedupe {
    fn name(&self) -> &str {
        "dedupe"
    }

    fn process(&self, mut article: Article, context: &dyn Context) -> Outcome {
        let fingerprint = text_fingerprint(&article.text);
        let mut features = Features::of(&article, true, &self.options);
        match &self.encoder {
            Some(Ok(encoder)) => {
                let text = embed::input_text(article.title.as_deref(), &article.text);
                match encoder.embed(&text) {
                    Ok(vector) => {
                        // Kept with the article, so later articles and restarts reuse it.
                        article
                            .metadata
                            .insert(embed::METADATA_KEY.into(), encoder.encode_for_store(&vector));
                        features.embedding = Some(vector);
                    }
                    Err(e) => {
                        return Outcome::Fail { message: format!("dedupe: embedding the article: {e}") }
                    }
                }
            }
            Some(Err(message)) => return Outcome::Fail { message: message.clone() },
            None => {}
        }
        if article.story.is_none() {
            let window = i64::from(self.options.time_window_days) * 86_400;
            let own_date = article.published.as_deref().and_then(seconds);
            let copy_of = context
                .stories_with_fingerprint(TEXT_FINGERPRINT, &fingerprint)
                .into_iter()
                .filter(|&story_id| story_span(context, story_id, &[]).takes(own_date, window))
                .min();
            if let Some(story_id) = copy_of {
                article.story =
                    Some(StoryMatch { story_id, reason: "dedupe: same normalised text".into(), score: 1.0 });
                article.metadata.insert(
                    "dedupe.decision".into(),
                    format!("exact copy of an article in story {story_id}"),
                );
                if let Some(original) = exact_original(context, story_id, &fingerprint) {
                    article.metadata.insert(REPRINT_OF.into(), original.to_string());
                }
            } else {
                let (decision, bridges) = self.decide(&article, &features, context);
                record(&mut article, &decision, &self.options);
                if !bridges.is_empty() {
                    let threshold = self.options.story_merge_threshold;
                    let seen = bridges.iter().map(|b| b.describe(threshold)).collect::<Vec<_>>().join("; ");
                    article.metadata.insert("dedupe.bridges".into(), seen);
                    let merged: Vec<Bridge> = bridges.into_iter().filter(|b| b.merges(threshold)).collect();
                    if !merged.is_empty() {
                        record_merges(&mut article, &merged, &self.options, context);
                    }
                }
            }
        }
        article.fingerprints.insert(TEXT_FINGERPRINT.into(), fingerprint);
        article.keys.insert(BAND_KEY.into(), bands(&features));
        article.keys.insert(WORD_KEY.into(), features.counts.into_keys().collect());
        Outcome::Continue(article)
    }
}

/// The oldest article of `story_id` with this text fingerprint: the one an exact copy repeats.
fn exact_original(context: &dyn Context, story_id: i64, fingerprint: &str) -> Option<i64> {
    context
        .story_articles(story_id, EXACT_COPY_SEARCH)
        .into_iter()
        .filter(|s| s.article.fingerprints.get(TEXT_FINGERPRINT).map(String::as_str) == Some(fingerprint))
        .map(|s| s.article_id)
        .min()
}

/// The embedding's share of a same-story reason, empty when embeddings are off.
fn embedding_part(s: &StoryScore, options: &Options) -> String {
    match &options.embeddings {
        Some(e) => format!(", embedding {:.3} at weight {:.2}", s.embedding, e.weight),
        None => String::new(),
    }
}

/// Writes the decision into the article: the story to join with its reason and score, and the
/// full reasoning in `metadata` for `briefd explain`.
fn record(article: &mut Article, decision: &Decision, options: &Options) {
    let (summary, scored) = match decision {
        Decision::NearCopy(s) => {
            let reason = format!(
                "dedupe: near-copy (estimated shingle Jaccard {:.2} >= {:.2})",
                s.near_copy, options.near_copy_threshold
            );
            article.story =
                Some(StoryMatch { story_id: s.story_id, reason: reason.clone(), score: s.near_copy });
            if let Some(original) = s.near_copy_of {
                article.metadata.insert(REPRINT_OF.into(), original.to_string());
            }
            (reason, Some(s))
        }
        Decision::SameStory(s) => {
            let reason = format!(
                "dedupe: same story (combined {:.3} >= {:.3}: tfidf {:.3}, entities {:.3}, entity weight {:.2}{}, {} of {} article(s))",
                s.combined,
                options.same_story_threshold,
                s.tfidf,
                s.entities,
                options.entity_weight,
                embedding_part(s, options),
                options.story_link.describe(),
                s.n_articles
            );
            article.story =
                Some(StoryMatch { story_id: s.story_id, reason: reason.clone(), score: s.combined });
            (reason, Some(s))
        }
        Decision::NewStory(best) => {
            let reason = match best {
                Some(s) if s.combined >= options.same_story_threshold => format!(
                    "new story: best candidate story {} scored {:.3} >= {:.3}, but the article reaches \
                     the threshold with {:.2} of its {} article(s) one by one (core_share {:.2}), \
                     shares {} lead anchor(s) with one of them (min_anchors {}), has embedding \
                     cosine {:.3} with it (min_similarity {:.2}){}",
                    s.story_id,
                    s.combined,
                    options.same_story_threshold,
                    s.agreement,
                    s.n_articles,
                    options.core_share,
                    s.anchors,
                    options.min_anchors,
                    s.embedding,
                    options.embeddings.as_ref().map_or(0.0, |e| e.min_similarity),
                    if options.distinct_outlets && s.same_outlet {
                        " and holds an article of the same site (distinct_outlets)"
                    } else {
                        ""
                    }
                ),
                Some(s) => format!(
                    "new story: best candidate story {} scored {:.3} < {:.3} (tfidf {:.3}, entities {:.3}, near-copy {:.2})",
                    s.story_id, s.combined, options.same_story_threshold, s.tfidf, s.entities, s.near_copy
                ),
                None => "new story: no earlier article within the time window shares its distinctive words".into(),
            };
            (reason, best.as_ref())
        }
    };
    article.metadata.insert("dedupe.decision".into(), summary);
    if let Some(s) = scored {
        article.metadata.insert("dedupe.best".into(), s.describe());
    }
}

/// Turns the bridged stories into merge requests: the largest story of the group (the joined
/// one and those it bridges to; ties to the older) keeps its id and the article joins it; every
/// other one is merged into it, with the scores that justify it in the reason. Each bridge pairs
/// a story with the joined one, so the joined story, when it is the one that moves, cites the
/// bridge to the story it moves into.
fn record_merges(article: &mut Article, bridges: &[Bridge], options: &Options, context: &dyn Context) {
    let Some(joined) = article.story.clone() else { return };
    let mut group: Vec<(i64, u64)> = std::iter::once(joined.story_id)
        .chain(bridges.iter().map(|b| b.score.story_id))
        .map(|id| (id, context.story_size(id)))
        .collect();
    let order: Vec<i64> = group.iter().map(|g| g.0).collect();
    group.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let (target, target_size) = group[0];
    let mut merges = Vec::new();
    for id in order.into_iter().filter(|&id| id != target) {
        let pair = if id == joined.story_id { target } else { id };
        let Some(bridge) = bridges.iter().find(|b| b.score.story_id == pair) else { continue };
        let size = group.iter().find(|g| g.0 == id).map_or(0, |g| g.1);
        merges.push(StoryMerge {
            story_id: id,
            reason: format!(
                "merged story {id} ({size} article(s)) into story {target} ({target_size}) because {:?} bridges them: \
                 it scores {:.3} with story {} and {:.3} with story {} (both >= {:.3}), and the two stories' centroids \
                 agree: combined {:.3} >= {:.3} (tfidf {:.3}, entities {:.3})",
                article.file_name,
                joined.score,
                joined.story_id,
                bridge.score.combined,
                bridge.score.story_id,
                options.same_story_threshold,
                bridge.combined,
                options.story_merge_threshold,
                bridge.tfidf,
                bridge.entities
            ),
            score: bridge.combined,
        });
    }
    let summary = merges.iter().map(|m| m.reason.as_str()).collect::<Vec<_>>().join("; ");
    article.metadata.insert("dedupe.merge".into(), summary);
    if let Some(story) = article.story.as_mut() {
        story.story_id = target;
    }
    article.story_merges = merges;
}

#[cfg(test)]
mod tests {
    use super::*;

    struct OneStory(String);

    impl Context for OneStory {
        fn stories_with_fingerprint(&self, kind: &str, value: &str) -> Vec<i64> {
            if kind == TEXT_FINGERPRINT && value == self.0 {
                vec![7]
            } else {
                vec![]
            }
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
        assert!(out.metadata["dedupe.decision"].starts_with("new story"));
    }

    #[test]
    fn the_window_compares_like_with_like() {
        let day = |published: Option<&str>, received: &str| Article {
            published: published.map(Into::into),
            received_at: received.into(),
            ..Default::default()
        };
        let week = 7 * 86_400;
        // An old article's date is not compared with a new file's arrival.
        assert!(within_window(
            &day(Some("2025-07-13"), "2026-11-23T10:00:00Z"),
            &day(None, "2026-11-23T11:00:00Z"),
            week
        ));
        assert!(!within_window(
            &day(Some("2025-07-13"), "2026-11-23T10:00:00Z"),
            &day(Some("2025-09-01"), "2026-11-23T11:00:00Z"),
            week
        ));
    }

    /// Stories 2 (one article) and 5 (three articles).
    struct Sizes;

    impl Context for Sizes {
        fn stories_with_fingerprint(&self, _: &str, _: &str) -> Vec<i64> {
            Vec::new()
        }
        fn story_size(&self, story_id: i64) -> u64 {
            if story_id == 5 {
                3
            } else {
                1
            }
        }
    }

    #[test]
    fn the_smaller_story_moves_into_the_larger_even_when_it_is_the_one_joined() {
        let mut article = Article { file_name: "c.txt".into(), ..Default::default() };
        article.story = Some(StoryMatch { story_id: 2, reason: "dedupe: same story".into(), score: 0.6 });
        let other = StoryScore {
            story_id: 5,
            n_articles: 3,
            tfidf: 0.4,
            entities: 0.4,
            embedding: 0.0,
            near_copy: 0.0,
            near_copy_of: None,
            agreement: 1.0,
            anchors: 3,
            same_outlet: false,
            combined: 0.4,
        };
        let bridge = Bridge { score: other, tfidf: 0.5, entities: 0.5, combined: 0.5 };
        record_merges(&mut article, &[bridge], &Options::default(), &Sizes);
        assert_eq!(article.story.as_ref().map(|s| s.story_id), Some(5));
        assert_eq!(article.story_merges.len(), 1);
        assert_eq!(article.story_merges[0].story_id, 2);
        let reason = &article.story_merges[0].reason;
        assert!(reason.starts_with("merged story 2 (1 article(s)) into story 5 (3)"), "{reason}");
    }

    /// Committed articles in memory: each with its story, as the store would hand them out.
    struct Memory(Vec<stage_api::StoredArticle>);

    impl Memory {
        fn add(&mut self, story_id: i64, text: &str, published: Option<&str>) {
            let mut article = Article {
                text: text.into(),
                published: published.map(Into::into),
                received_at: "2019-11-19T10:00:00Z".into(),
                ..Default::default()
            };
            article.fingerprints.insert(TEXT_FINGERPRINT.into(), text_fingerprint(text));
            let article_id = self.0.len() as i64 + 1;
            self.0.push(stage_api::StoredArticle { article_id, story_id, article });
        }
    }

    impl Context for Memory {
        fn stories_with_fingerprint(&self, kind: &str, value: &str) -> Vec<i64> {
            let holds = |s: &&stage_api::StoredArticle| {
                s.article.fingerprints.get(kind).map(String::as_str) == Some(value)
            };
            self.0.iter().filter(holds).map(|s| s.story_id).collect()
        }
        fn article_count(&self) -> u64 {
            self.0.len() as u64
        }
        fn key_counts(&self, _: &str, values: Vec<String>) -> Vec<u64> {
            let docs: Vec<BTreeMap<String, u32>> =
                self.0.iter().map(|s| tfidf::counts(&tfidf::terms(&s.article.text))).collect();
            values.iter().map(|v| docs.iter().filter(|d| d.contains_key(v)).count() as u64).collect()
        }
        fn articles_with_keys(&self, _: &str, _: Vec<String>, limit: usize) -> Vec<stage_api::KeyHit> {
            let hit = |s: &stage_api::StoredArticle| stage_api::KeyHit {
                article_id: s.article_id,
                story_id: s.story_id,
                shared: 1,
            };
            self.0.iter().map(hit).take(limit).collect()
        }
        fn story_articles(&self, story_id: i64, limit: usize) -> Vec<stage_api::StoredArticle> {
            self.0.iter().rev().filter(|s| s.story_id == story_id).take(limit).cloned().collect()
        }
        fn story_published(&self, story_id: i64) -> Vec<String> {
            let members = self.0.iter().filter(|s| s.story_id == story_id);
            members.filter_map(|s| s.article.published.clone()).collect()
        }
    }

    /// Issue 20: an exact copy of a 1970 article dated 2099 is not joined to its story.
    #[test]
    fn an_exact_copy_dated_outside_the_window_starts_its_own_story() {
        let mut memory = Memory(Vec::new());
        memory.add(1, LANDER, Some("1970-01-01"));
        let copy =
            Article { text: LANDER.into(), published: Some("2099-01-01".into()), ..Default::default() };
        let Outcome::Continue(out) = Dedupe::default().process(copy.clone(), &memory) else { panic!() };
        assert_eq!(out.story, None, "{:?}", out.metadata);
        let same_week = Article { published: Some("1970-01-03".into()), ..copy };
        let Outcome::Continue(out) = Dedupe::default().process(same_week, &memory) else { panic!() };
        assert_eq!(out.story.map(|s| s.story_id), Some(1), "{:?}", out.metadata);
    }

    /// Issue 20: a story's dated member that is not among the newest articles read for scoring
    /// still keeps a far-off article out: many undated articles joined after it do not make the
    /// story "undated".
    #[test]
    fn an_old_member_behind_many_undated_ones_still_holds_the_window() {
        let mut memory = Memory(Vec::new());
        memory.add(1, LANDER, Some("1970-01-01"));
        for i in 0..Options::default().max_story_articles + 2 {
            memory.add(1, &format!("{LANDER} Update {i}."), None);
        }
        let far = Article {
            text: format!("{LANDER} A later piece."),
            published: Some("2099-01-01".into()),
            received_at: "2019-11-19T11:00:00Z".into(),
            ..Default::default()
        };
        let Outcome::Continue(out) = Dedupe::default().process(far, &memory) else { panic!() };
        assert_eq!(out.story, None, "{:?}", out.metadata);
    }

    const LANDER: &str = "NASA adds five companies, SpaceX and Blue Origin among them, to its Artemis \
        lunar lander \
        programme. The agency said the companies may bid to deliver payloads to the Moon surface.";

    #[test]
    fn a_dated_article_is_not_tied_to_a_story_through_its_undated_member() {
        let mut memory = Memory(Vec::new());
        memory.add(1, LANDER, Some("2019-11-18"));
        // An undated page of the same story, compared by arrival time only.
        memory.add(1, &format!("{LANDER} Europa"), None);
        let old = Article {
            text: format!("{LANDER} A piece from years before."),
            published: Some("2015-04-07".into()),
            received_at: "2019-11-19T11:00:00Z".into(),
            ..Default::default()
        };
        let Outcome::Continue(out) = Dedupe::default().process(old.clone(), &memory) else { panic!() };
        assert_eq!(out.story, None, "{:?}", out.metadata);
        // The same text dated within the window joins.
        let recent = Article { published: Some("2019-11-19".into()), ..old };
        let Outcome::Continue(out) = Dedupe::default().process(recent, &memory) else { panic!("dropped") };
        assert_eq!(out.story.map(|s| s.story_id), Some(1), "{:?}", out.metadata);
    }

    #[test]
    fn a_story_takes_only_dates_within_the_window_of_every_member() {
        let at = |d: &str| Article { published: Some(d.into()), ..Default::default() };
        let day = |d: &str| seconds(d).expect("a date");
        let week = 7 * 86_400;
        let recent = DateSpan::of([at("2019-11-18"), at("2019-11-20")].iter());
        let old = DateSpan::of([at("2015-04-07")].iter());
        assert!(recent.union(old).width() > week && old.union(recent).width() > week);
        assert!(recent.union(DateSpan::of([at("2019-11-25")].iter())).width() <= week);
        assert_eq!(recent.union(DateSpan::default()), recent, "an undated story adds no date");
        assert!(recent.takes(Some(day("2019-11-19")), week) && !old.takes(Some(day("2019-11-19")), week));
        assert!(recent.takes(None, week) && DateSpan::default().takes(Some(0), week));
        // Within a week of the latest member but not of the earliest: a story never grows past
        // the window one article at a time.
        assert!(!recent.takes(Some(day("2019-11-26")), week));
    }

    #[test]
    fn an_exact_copy_names_the_article_it_reprints() {
        let mut memory = Memory(Vec::new());
        memory.add(4, LANDER, Some("2019-11-18"));
        memory.add(4, "Another text of the same story.", Some("2019-11-18"));
        let copy = Article { text: LANDER.to_uppercase(), ..Default::default() };
        let Outcome::Continue(out) = Dedupe::default().process(copy, &memory) else { panic!("dropped") };
        assert_eq!(out.story.map(|s| s.story_id), Some(4));
        assert_eq!(out.metadata.get(REPRINT_OF).map(String::as_str), Some("1"));
    }

    #[test]
    fn the_site_is_the_url_host_else_the_outlet_name() {
        let page = |url: Option<&str>, outlet: Option<&str>| Article {
            url: url.map(String::from),
            outlet: outlet.map(String::from),
            ..Default::default()
        };
        let key = |url, outlet| outlet_key(&page(url, outlet));
        assert_eq!(
            key(Some("https://www.Example.com/a"), Some("Example News")).as_deref(),
            Some("example.com")
        );
        assert_eq!(key(None, Some(" Example News ")).as_deref(), Some("example news"));
        assert_eq!(key(Some("not a url"), Some("Wire")).as_deref(), Some("wire"));
        assert_eq!(key(None, Some("  ")), None);
        assert_eq!(key(None, None), None);
    }

    #[test]
    fn a_near_copy_names_the_article_it_reprints_and_a_rewrite_names_none() {
        let mut memory = Memory(Vec::new());
        memory.add(2, "Unrelated council news about a harbour wall and a tram line in Perth.", None);
        memory.add(3, LANDER, None);
        let copy = Article { text: format!("{LANDER} Share this story by email."), ..Default::default() };
        let Outcome::Continue(out) = Dedupe::default().process(copy, &memory) else { panic!("dropped") };
        let joined = out.story.as_ref().is_some_and(|s| s.story_id == 3 && s.reason.contains("near-copy"));
        assert!(joined, "{:?}", out.story);
        assert_eq!(out.metadata.get(REPRINT_OF).map(String::as_str), Some("2"));
        let rewrite = Article {
            text: "SpaceX and Blue Origin join NASA Artemis lunar lander list; five companies may now bid \
                   for Moon payloads."
                .into(),
            ..Default::default()
        };
        let Outcome::Continue(out) = Dedupe::default().process(rewrite, &memory) else { panic!("dropped") };
        assert!(!out.metadata.contains_key(REPRINT_OF), "{:?}", out.metadata);
    }

    #[test]
    fn options_out_of_range_are_reported() {
        let options = Options { same_story_threshold: 1.5, time_window_days: 0, ..Options::default() };
        assert_eq!(options.problems().len(), 2);
        assert!(Options::default().problems().is_empty());
    }
}
