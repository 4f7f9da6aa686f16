//! The search page: the stories `store::Store::search` found, each linked to its story page,
//! with the matched words marked.
//!
//! The matched words arrive as `store::Span`s, never as markup: the template escapes each span's
//! text and wraps a matched one in `<mark>` itself, so a hostile article stays text here as on
//! the day's page. The user's own query is escaped the same way where the page repeats it.

use askama::Template;
use store::{Hit, Query, Span};

use crate::html::STYLE;

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage<'a> {
    style: &'static str,
    /// What the search box shows: the query as typed, cut like the search.
    query: &'a str,
    searched: bool,
    searched_for: String,
    counts: String,
    note: Option<String>,
    results: Vec<ResultHtml<'a>>,
}

struct ResultHtml<'a> {
    story_id: i64,
    headline: &'a [Span],
    snippet: &'a [Span],
    days: &'a [String],
    outlets: String,
    sources: String,
}

/// The page for the query typed as `raw` (parsed as `query`) and the stories found.
pub fn page(raw: &str, query: &Query, hits: &[Hit]) -> String {
    let searched_for = query.terms().join(" ");
    let counts = match hits.len() {
        0 => format!("No story holds all of: {searched_for}."),
        n if n == store::search::MAX_RESULTS => format!("The best {n} stories."),
        n => crate::plural(n, "story", "stories"),
    };
    let note = query.shortened.then(|| {
        format!(
            "Only the first {} words (at most {} bytes) of the search were used.",
            store::search::MAX_TERMS,
            store::search::MAX_QUERY_BYTES
        )
    });
    let results = hits
        .iter()
        .map(|h| ResultHtml {
            story_id: h.story_id,
            headline: &h.headline,
            snippet: &h.snippet,
            days: &h.days,
            outlets: h.outlets.join(", "),
            sources: crate::plural(h.n_articles, "article", "articles"),
        })
        .collect();
    let page = SearchPage {
        style: STYLE,
        query: bounded(raw),
        searched: !query.is_empty(),
        searched_for,
        counts,
        note,
        results,
    };
    page.render().expect("the search template renders every value it is given")
}

/// `raw` cut to the bytes a search reads, at a character boundary.
fn bounded(raw: &str) -> &str {
    let mut end = raw.len().min(store::search::MAX_QUERY_BYTES);
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    &raw[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostile;

    fn span(text: &str, matched: bool) -> Span {
        Span { text: text.into(), matched }
    }

    /// Issue 18: whatever an article's strings hold, a search result shows them as text, with
    /// only the matched words marked, and the query typed is text too.
    #[test]
    fn hostile_strings_in_results_and_query_stay_text() {
        let (strings, _) = hostile::corpus();
        let hits: Vec<Hit> = strings
            .iter()
            .enumerate()
            .map(|(i, s)| Hit {
                story_id: i as i64 + 1,
                article_id: Some(i as i64 + 1),
                headline: vec![span(s, false), span("alert", true), span(s, false)],
                snippet: vec![span(s, true), span(" … ", false), span(s, false)],
                days: vec!["2025-07-13".into()],
                outlets: vec![s.clone()],
                n_articles: 2,
            })
            .collect();
        for raw in &strings {
            let query = Query::parse(raw);
            let html = page(raw, &query, &hits);
            hostile::assert_inert(&html, 1);
            let doc = dom_query::Document::from(html.as_str());
            assert_eq!(
                doc.select("input[name=q]").attr("value").map(|v| v.to_string()).as_deref(),
                Some(raw.as_str())
            );
            let headlines: Vec<String> =
                doc.select("ol.results h2").iter().map(|h| h.text().to_string()).collect();
            let expected: Vec<String> = strings.iter().map(|s| format!("{s}alert{s}")).collect();
            assert_eq!(headlines, expected, "each headline reads as the article wrote it");
            assert_eq!(doc.select("mark").length(), 2 * strings.len(), "only the matched spans are marked");
            assert_eq!(doc.select("ol.results a[href='story/1']").length(), 1);
        }
    }

    #[test]
    fn an_oversized_query_is_cut_and_says_so() {
        let raw = "flood ".repeat(100);
        let query = Query::parse(&raw);
        let html = page(&raw, &query, &[]);
        let doc = dom_query::Document::from(html.as_str());
        let shown = doc.select("input[name=q]").attr("value").map(|v| v.to_string()).unwrap_or_default();
        assert!(shown.len() <= store::search::MAX_QUERY_BYTES, "{shown}");
        assert!(doc.select("p.note").text().contains("Only the first"), "{html}");
        assert!(doc.select("p.counts").text().starts_with("No story holds all of"), "{html}");
    }

    #[test]
    fn an_empty_query_asks_for_words() {
        let html = page("", &Query::parse(""), &[]);
        hostile::assert_inert(&html, 1);
        assert!(html.contains("Type words"), "{html}");
    }
}
