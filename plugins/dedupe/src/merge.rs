//! Bridging merges: when a new article joins one story but also scores at or above the join
//! threshold against another, it may be the evidence that the two are one story told in two
//! strands (an article naming both the suspect and the victim, say). It is not enough on its
//! own: an article about two earthquakes would otherwise fuse them. So the documented rule is
//! that the two stories must also agree with each other: the combined similarity of their
//! centroids (TF-IDF and names/places/numbers, weighed as for an article) must reach
//! `story_merge_threshold`, chosen by the same leave-topics-out cross-validation as the join
//! threshold (`briefd eval same-story --sweep`). The smaller story then moves into the larger.

use crate::cluster::{Rule, StoryScore};
use crate::tfidf::Vector;

/// Another candidate story the new article bridges to the one it joins most strongly.
#[derive(Debug, Clone, PartialEq)]
pub struct Bridge {
    /// How the article scored against that story.
    pub score: StoryScore,
    /// TF-IDF cosine between the two stories' centroids.
    pub tfidf: f64,
    /// Names/places/numbers cosine between the two stories' centroids.
    pub entities: f64,
    /// Their weighted combination, which the merge threshold applies to.
    pub combined: f64,
}

/// A story's centroids: over all its (recent) articles' words, and over their names only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Centroids {
    /// TF-IDF centroid.
    pub words: Vector,
    /// Entity centroid.
    pub entities: Vector,
}

impl Bridge {
    /// Whether the two stories agree enough to be merged.
    pub fn merges(&self, merge_threshold: f64) -> bool {
        self.combined >= merge_threshold
    }

    /// One line for metadata and `briefd explain`.
    pub fn describe(&self, merge_threshold: f64) -> String {
        format!(
            "story {} also scores {:.3}; the stories' centroids: tfidf {:.3}, entities {:.3}, combined {:.3} {} {:.3}: {}",
            self.score.story_id,
            self.score.combined,
            self.tfidf,
            self.entities,
            self.combined,
            if self.merges(merge_threshold) { ">=" } else { "<" },
            merge_threshold,
            if self.merges(merge_threshold) { "merged" } else { "kept apart" }
        )
    }
}

/// The other stories the article could bridge to `joined`: those it also scores at or above the
/// join threshold against, each with how well its centroids agree with `joined`'s (only those
/// whose agreement reaches the merge threshold are merged; see [`Bridge::merges`]). In the order
/// of `scores` (the candidates' retrieval order), so the result never depends on hash order.
pub fn bridges(
    rule: &Rule,
    joined: &StoryScore,
    scores: &[StoryScore],
    centroids: impl Fn(i64) -> Option<Centroids>,
) -> Vec<Bridge> {
    let Some(mine) = centroids(joined.story_id) else { return Vec::new() };
    scores
        .iter()
        .filter(|s| s.story_id != joined.story_id && s.combined >= rule.same_story_threshold)
        .filter(|s| rule.joinable(s))
        .filter_map(|s| {
            let theirs = centroids(s.story_id)?;
            let tfidf = mine.words.cosine(&theirs.words);
            let entities = mine.entities.cosine(&theirs.entities);
            // Stories are compared on words and names only: story-level embedding centroids are not
            // kept, and the merge threshold was chosen without embeddings.
            let words_only = Rule { embedding_weight: 0.0, ..*rule };
            Some(Bridge {
                score: s.clone(),
                tfidf,
                entities,
                combined: words_only.combine(tfidf, entities, 0.0),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::*;
    use crate::tfidf::{counts, terms, vector};

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

    fn score(story_id: i64, combined: f64) -> StoryScore {
        StoryScore {
            story_id,
            n_articles: 1,
            tfidf: combined,
            entities: combined,
            embedding: 0.0,
            near_copy: 0.0,
            near_copy_of: None,
            agreement: 1.0,
            anchors: 9,
            same_outlet: false,
            combined,
        }
    }

    fn centroids_of(texts: &[(i64, &str)]) -> BTreeMap<i64, Centroids> {
        let idf = HashMap::new();
        texts
            .iter()
            .map(|&(id, text)| {
                let c = counts(&terms(text));
                (
                    id,
                    Centroids {
                        words: vector(&c, &idf, |_| true),
                        entities: vector(&c, &idf, |t| t.starts_with('x')),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn only_stories_that_agree_with_each_other_are_bridged() {
        // Story 2 tells story 1's event (shared names), story 3 another event of the same kind.
        let centroids = centroids_of(&[
            (1, "quake xsumatra xpadang killed"),
            (2, "xsumatra xpadang rescue killed"),
            (3, "quake xchile xconcepcion killed"),
        ]);
        let scores = [score(1, 0.6), score(2, 0.4), score(3, 0.35), score(4, 0.2)];
        let found = bridges(&RULE, &scores[0], &scores, |id| centroids.get(&id).cloned());
        let merged: Vec<i64> = found.iter().filter(|b| b.merges(0.4)).map(|b| b.score.story_id).collect();
        assert_eq!(merged, [2], "{found:?}");
        assert_eq!(found.len(), 2, "story 3 is a candidate, kept apart: {found:?}");
    }

    #[test]
    fn a_story_below_the_join_threshold_is_never_bridged() {
        let centroids = centroids_of(&[(1, "xa xb xc"), (2, "xa xb xc")]);
        let scores = [score(1, 0.6), score(2, 0.29)];
        assert!(bridges(&RULE, &scores[0], &scores, |id| centroids.get(&id).cloned()).is_empty());
    }
}
