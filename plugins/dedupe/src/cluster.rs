//! Incremental clustering: each new article joins the best-scoring earlier story above a
//! threshold, or starts its own. A story's score is the cosine with the centroid of its (most
//! recent) articles, or with `story_link: average` the mean of the pairwise cosines; either keeps
//! one loosely related member from pulling a different story in (single link chains two
//! earthquakes together through a shared "magnitude").

/// How one earlier story compares with the new article.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryScore {
    /// The story.
    pub story_id: i64,
    /// Articles of the story that were compared.
    pub n_articles: usize,
    /// TF-IDF cosine with those articles (centroid or mean, per `story_link`).
    pub tfidf: f64,
    /// Entity cosine with those articles (centroid or mean, per `story_link`).
    pub entities: f64,
    /// Sentence-embedding cosine with those articles (centroid or mean, per `story_link`);
    /// 0 when embeddings are off.
    pub embedding: f64,
    /// The best estimated shingle Jaccard (MinHash) with any of them.
    pub near_copy: f64,
    /// The store id of the article that best estimate is with: what a near-copy reprints.
    pub near_copy_of: Option<i64>,
    /// Share (0..1) of the compared articles the new one reaches the join threshold with on its
    /// own (1 for a story of one article).
    pub agreement: f64,
    /// The most event anchors (runs of names and numbers in the leads) the new article shares
    /// with one of the compared articles.
    pub anchors: usize,
    /// Whether one of the compared articles comes from the new article's own site.
    pub same_outlet: bool,
    /// The weighted combination the same-story threshold applies to.
    pub combined: f64,
}

/// What the clustering decided, and why.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// A near-copy of an article in this story.
    NearCopy(StoryScore),
    /// The same story in other words.
    SameStory(StoryScore),
    /// No story scored high enough.
    NewStory(Option<StoryScore>),
}

/// The weights and thresholds of a decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// Estimated Jaccard at or above which an article is a near-copy.
    pub near_copy_threshold: f64,
    /// Combined score at or above which an article joins a story.
    pub same_story_threshold: f64,
    /// Weight of the entity cosine in the combined score (the rest is TF-IDF cosine).
    pub entity_weight: f64,
    /// Share of the embedding cosine in the combined score (the rest is the TF-IDF and entity
    /// mix); 0 when embeddings are off.
    pub embedding_weight: f64,
    /// Share (0..1) of a story's compared articles the new one must reach the join threshold
    /// with on its own; 0 lets the centroid alone decide.
    pub core_share: f64,
    /// Event anchors the article must share with one of a story's articles to join it.
    pub min_anchors: usize,
    /// Embedding cosine with a story below which the article may not join it (a veto); 0 when
    /// embeddings are off or no veto is asked for.
    pub min_embedding: f64,
    /// Whether a story holding an article of the new one's own site is joined only by a copy.
    pub distinct_outlets: bool,
}

impl Rule {
    /// The combined score of a TF-IDF cosine, an entity cosine and an embedding cosine.
    pub fn combine(&self, tfidf: f64, entities: f64, embedding: f64) -> f64 {
        let words = (1.0 - self.entity_weight) * tfidf + self.entity_weight * entities;
        (1.0 - self.embedding_weight) * words + self.embedding_weight * embedding
    }

    /// Picks the story: near-copies first (strongest evidence), then the best combined score.
    /// Ties go to the older (smaller id) story so the result never depends on hash order.
    pub fn decide(&self, scores: &[StoryScore]) -> Decision {
        let best_by = |key: fn(&StoryScore) -> f64| {
            scores.iter().max_by(|a, b| key(a).total_cmp(&key(b)).then(b.story_id.cmp(&a.story_id))).cloned()
        };
        if let Some(copy) = best_by(|s| s.near_copy).filter(|s| s.near_copy >= self.near_copy_threshold) {
            return Decision::NearCopy(copy);
        }
        let joinable: Vec<StoryScore> = scores.iter().filter(|s| self.joinable(s)).cloned().collect();
        let best_joinable = joinable
            .iter()
            .max_by(|a, b| a.combined.total_cmp(&b.combined).then(b.story_id.cmp(&a.story_id)))
            .cloned();
        match best_joinable {
            Some(best) if best.combined >= self.same_story_threshold => Decision::SameStory(best),
            _ => Decision::NewStory(best_by(|s| s.combined)),
        }
    }

    /// Whether the article agrees with enough of the story's articles one by one (a story whose
    /// centroid it reaches through one member it shares a topic with, a digest, a round-up or an
    /// earlier bridge, is not joined on the strength of that member alone), and names the same
    /// event in its lead as one of them (two developments of one company share its name, not
    /// the people, places and figures of the lead), and does not mean something else (the
    /// sentence encoder's veto: words and names of one company or city are shared by its
    /// layoffs and its probe, while the meaning of the two texts differs), and, with
    /// `distinct_outlets`, is not a second piece in other words from a site the story already
    /// has (a site's follow-up, review or column on its own earlier subject is another
    /// development; its copies and reposts are near-copies, decided before this).
    pub fn joinable(&self, score: &StoryScore) -> bool {
        // The small slack keeps "all of them" (1.0) from failing on the rounding of a share.
        score.agreement + 1e-9 >= self.core_share
            && score.anchors >= self.min_anchors
            && score.embedding + 1e-9 >= self.min_embedding
            && !(self.distinct_outlets && score.same_outlet)
    }
}

impl StoryScore {
    /// One line for logs, metadata and `briefd explain`.
    pub fn describe(&self) -> String {
        format!(
            "story {}: tfidf {:.3}, entities {:.3}, embedding {:.3}, combined {:.3}, near-copy {:.2} \
             over {} article(s), {:.2} of them agreeing alone, {} lead anchor(s) shared{}",
            self.story_id,
            self.tfidf,
            self.entities,
            self.embedding,
            self.combined,
            self.near_copy,
            self.n_articles,
            self.agreement,
            self.anchors,
            if self.same_outlet { ", one from the same site" } else { "" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(story_id: i64, combined: f64, near_copy: f64) -> StoryScore {
        StoryScore {
            story_id,
            n_articles: 1,
            tfidf: combined,
            entities: combined,
            embedding: 0.0,
            near_copy,
            near_copy_of: None,
            agreement: 1.0,
            anchors: 9,
            same_outlet: false,
            combined,
        }
    }

    const RULE: Rule = Rule {
        near_copy_threshold: 0.8,
        same_story_threshold: 0.3,
        entity_weight: 0.5,
        embedding_weight: 0.0,
        core_share: 0.0,
        min_anchors: 0,
        min_embedding: 0.0,
        distinct_outlets: false,
    };

    #[test]
    fn near_copy_beats_a_higher_combined_score() {
        let d = RULE.decide(&[score(1, 0.9, 0.1), score(2, 0.5, 0.85)]);
        assert!(matches!(d, Decision::NearCopy(s) if s.story_id == 2));
    }

    #[test]
    fn below_threshold_starts_a_story_and_ties_go_to_the_older() {
        assert!(matches!(RULE.decide(&[score(1, 0.2, 0.0)]), Decision::NewStory(Some(_))));
        assert!(matches!(RULE.decide(&[]), Decision::NewStory(None)));
        let d = RULE.decide(&[score(5, 0.4, 0.0), score(3, 0.4, 0.0)]);
        assert!(matches!(d, Decision::SameStory(s) if s.story_id == 3));
    }

    #[test]
    fn a_story_reached_through_one_member_is_not_joined_when_the_core_disagrees() {
        let through_one = StoryScore { agreement: 1.0 / 3.0, ..score(1, 0.5, 0.0) };
        let with_core = StoryScore { agreement: 1.0, ..score(2, 0.35, 0.0) };
        let off = RULE.decide(&[through_one.clone(), with_core.clone()]);
        assert!(matches!(off, Decision::SameStory(s) if s.story_id == 1));
        let rule = Rule { core_share: 0.5, ..RULE };
        let d = rule.decide(&[through_one.clone(), with_core]);
        assert!(matches!(d, Decision::SameStory(s) if s.story_id == 2));
        // The best candidate is still reported when nothing is joinable.
        assert!(matches!(rule.decide(&[through_one]), Decision::NewStory(Some(s)) if s.story_id == 1));
    }

    #[test]
    fn a_story_sharing_too_few_lead_anchors_is_not_joined() {
        let one_name = StoryScore { anchors: 1, ..score(3, 0.5, 0.0) };
        assert!(matches!(RULE.decide(std::slice::from_ref(&one_name)), Decision::SameStory(_)));
        let rule = Rule { min_anchors: 2, ..RULE };
        assert!(matches!(rule.decide(std::slice::from_ref(&one_name)), Decision::NewStory(Some(_))));
        let two = StoryScore { anchors: 2, ..one_name };
        assert!(matches!(rule.decide(&[two]), Decision::SameStory(_)));
    }

    #[test]
    fn a_story_the_encoder_disagrees_with_is_not_joined_whatever_the_words_say() {
        let words_agree = StoryScore { embedding: 0.45, ..score(4, 0.6, 0.0) };
        let meaning_agrees = StoryScore { embedding: 0.8, ..score(6, 0.35, 0.0) };
        let both = [words_agree.clone(), meaning_agrees];
        assert!(matches!(RULE.decide(&both), Decision::SameStory(s) if s.story_id == 4));
        let veto = Rule { min_embedding: 0.6, ..RULE };
        assert!(matches!(veto.decide(&both), Decision::SameStory(s) if s.story_id == 6));
        assert!(matches!(veto.decide(&[words_agree]), Decision::NewStory(Some(s)) if s.story_id == 4));
        // A near-copy is a copy, whatever the encoder says.
        let copy = StoryScore { embedding: 0.1, ..score(8, 0.2, 0.9) };
        assert!(matches!(veto.decide(&[copy]), Decision::NearCopy(_)));
    }

    #[test]
    fn a_story_holding_the_same_sites_article_is_joined_only_by_a_copy() {
        let own_site = StoryScore { same_outlet: true, ..score(3, 0.6, 0.0) };
        let other_site = score(5, 0.4, 0.0);
        let both = [own_site.clone(), other_site];
        assert!(matches!(RULE.decide(&both), Decision::SameStory(s) if s.story_id == 3));
        let rule = Rule { distinct_outlets: true, ..RULE };
        assert!(matches!(rule.decide(&both), Decision::SameStory(s) if s.story_id == 5));
        assert!(matches!(rule.decide(std::slice::from_ref(&own_site)), Decision::NewStory(Some(_))));
        // The site's own repost is still a copy of its piece.
        let repost = StoryScore { near_copy: 0.9, ..own_site };
        assert!(matches!(rule.decide(&[repost]), Decision::NearCopy(_)));
    }

    #[test]
    fn the_embedding_weight_shares_the_score_with_the_word_mix() {
        let off = RULE.combine(0.2, 0.4, 0.9);
        assert!((off - 0.3).abs() < 1e-12);
        let half = Rule { embedding_weight: 0.5, ..RULE }.combine(0.2, 0.4, 0.9);
        assert!((half - 0.6).abs() < 1e-12);
        let alone = Rule { embedding_weight: 1.0, ..RULE }.combine(0.2, 0.4, 0.9);
        assert!((alone - 0.9).abs() < 1e-12);
    }
}
