//! Reprints: a source whose text is an exact or near copy of another source of the same story
//! (syndication, a repost with other page furniture). The `dedupe` stage names the article it
//! copies in the article's metadata; the briefing lists a reprint under the source it copies and
//! does not count it as another outlet, since the same text twice is one report, not two.

use std::collections::BTreeMap;

use store::Source;

use crate::SourceLine;

/// The metadata key the `dedupe` stage writes (`dedupe::REPRINT_OF`): the store id of the
/// article a copy repeats. Spelled out here because daemon crates do not depend on stages.
pub const REPRINT_OF: &str = "dedupe.reprint_of";

/// For each source of one story that is a reprint, the independent source it copies (following
/// a copy of a copy to the first text). A source naming an article outside the story (merged
/// elsewhere, or unknown) stays independent, so a reprint is never hidden under nothing. A copy
/// always repeats an article stored before it (a smaller id); any other link is ignored, which
/// also rules out cycles.
pub fn originals(sources: &[Source]) -> BTreeMap<i64, i64> {
    // The store decides it, so story stages (which read their story from the store) and the
    // briefing mark the same sources as reprints.
    store::reprint_originals(sources)
}

/// The independent article a source stands for: the one it reprints, else itself.
pub fn independent(article_id: i64, originals: &BTreeMap<i64, i64>) -> i64 {
    originals.get(&article_id).copied().unwrap_or(article_id)
}

/// The sources in the order the briefing lists them: each independent source (oldest first),
/// followed by its reprints (`true`).
pub fn listed(sources: &[SourceLine]) -> Vec<(&SourceLine, bool)> {
    let mut out = Vec::with_capacity(sources.len());
    for original in sources.iter().filter(|s| s.reprint_of.is_none()) {
        out.push((original, false));
        out.extend(sources.iter().filter(|s| s.reprint_of == Some(original.article_id)).map(|s| (s, true)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use stage_api::Article;

    fn source(id: i64, reprint_of: Option<&str>) -> Source {
        let mut article = Article { file_name: format!("{id}.txt"), ..Default::default() };
        if let Some(of) = reprint_of {
            article.metadata.insert(REPRINT_OF.into(), of.into());
        }
        Source { article_id: id, finished_at: String::new(), article }
    }

    #[test]
    fn a_reprint_is_listed_under_its_source_and_not_counted() {
        let mut copy = source(3, Some("1"));
        copy.article.outlet = Some("Mirror Daily".into());
        let views = [store::StoryView {
            id: 5,
            sources: vec![source(1, None), source(2, None), copy],
            model_summary: None,
            fields: None,
        }];
        let story = &crate::stories(&views)[0];
        assert_eq!(story.n_sources, 2);
        assert_eq!(story.sources.iter().map(|s| s.reprint_of).collect::<Vec<_>>(), [None, None, Some(1)]);
        let md = crate::markdown("2025-07-13", &jiff::tz::TimeZone::UTC, &crate::stories(&views));
        assert!(md.contains("**2 sources**"), "{md}");
        let lines: Vec<&str> =
            md.lines().filter(|l| l.contains("`1.txt`") || l.contains("Mirror Daily")).collect();
        assert_eq!(lines.len(), 2, "{md}");
        assert!(
            lines[0].starts_with("- ") && lines[1].starts_with("  - reprinted by **Mirror Daily**"),
            "{md}"
        );
        let json = crate::json("2025-07-13", &jiff::tz::TimeZone::UTC, &crate::stories(&views));
        assert!(json.contains("\"reprint_of\": 1") && json.contains("\"n_sources\": 2"), "{json}");
    }

    #[test]
    fn a_copy_of_a_copy_points_at_the_first_text() {
        let sources = [source(1, None), source(2, Some("1")), source(3, Some("2")), source(4, None)];
        let found = originals(&sources);
        assert_eq!(found.into_iter().collect::<Vec<_>>(), [(2, 1), (3, 1)]);
    }

    #[test]
    fn a_copy_of_an_article_outside_the_story_or_garbage_stays_independent() {
        let sources = [source(1, None), source(2, Some("9")), source(3, Some("x")), source(4, Some("4"))];
        assert!(originals(&sources).is_empty());
    }

    #[test]
    fn only_a_link_to_an_earlier_article_counts_so_two_never_hide_each_other() {
        let sources = [source(1, Some("2")), source(2, Some("1"))];
        assert_eq!(originals(&sources).into_iter().collect::<Vec<_>>(), [(2, 1)]);
    }
}
