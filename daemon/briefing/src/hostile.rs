//! Test support: stories made of strings an article may use to attack a reader, and the check
//! that a rendered page holds none of them as markup.

use std::collections::BTreeSet;

use stage_api::{Article, StoryMatch};
use store::{MergeRecord, Source, StoryView};

use crate::{Citation, KeyPoint, SourceLine, Story};

/// The strings and URLs of `test_data/hostile.json`.
pub fn corpus() -> (Vec<String>, Vec<String>) {
    let raw: serde_json::Value =
        serde_json::from_str(include_str!("../test_data/hostile.json")).expect("valid test data");
    let list = |key: &str| -> Vec<String> {
        raw[key]
            .as_array()
            .expect("a list")
            .iter()
            .map(|v| v.as_str().expect("a string").to_string())
            .collect()
    };
    (list("strings"), list("urls"))
}

/// One story per hostile string: it is the headline, outlet, title, file name, author,
/// publication date, summary (written by the model, so the marker shows), a point and a
/// differing value; the sources carry the hostile URLs.
pub fn stories() -> Vec<Story> {
    let (strings, urls) = corpus();
    strings
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let id = i as i64 + 1;
            let source = |n: i64, url: Option<&String>| SourceLine {
                article_id: id * 10 + n,
                outlet: Some(s.clone()),
                title: s.clone(),
                url: url.cloned(),
                file: s.clone(),
                author: Some(s.clone()),
                published: Some(s.clone()),
                received_at: "2025-07-13T08:00:00Z".into(),
                reprint_of: (n == 2).then_some(id * 10),
            };
            let cite = |n: i64, value: Option<&str>| Citation {
                article_id: id * 10 + n,
                start: 0,
                end: 1,
                value: value.map(String::from),
            };
            Story {
                id,
                headline: s.clone(),
                summary: Some(s.clone()),
                summary_method: Some("model".into()),
                key_points: vec![
                    KeyPoint {
                        text: s.clone(),
                        n_sources: 2,
                        sources_differ: false,
                        citations: vec![cite(0, None), cite(1, None)],
                    },
                    KeyPoint {
                        text: s.clone(),
                        n_sources: 2,
                        sources_differ: true,
                        citations: vec![cite(0, Some(s)), cite(1, Some("12"))],
                    },
                ],
                sources: vec![
                    source(0, urls.get(i % urls.len())),
                    source(1, Some(&urls[(i + 1) % urls.len()])),
                    source(2, None),
                ],
                n_sources: 2,
                tags: vec![s.clone()],
            }
        })
        .collect()
}

/// A stored story made of hostile string `s` (as the store would hand it to a story page): three
/// sources, the third a reprint of the first, every string of theirs `s`; the newest cites a
/// sentence of the first and one of its own. With the merge that made it.
pub fn story_view(s: &str, url: &str) -> (StoryView, Vec<MergeRecord>) {
    let text = format!("{s} opens the story.\n\nThe cited sentence says {s}.\n\nIt ends with {s}.");
    let cited = text.find("The cited").expect("the sentence is in the text");
    let cited = cited..cited + format!("The cited sentence says {s}.").len();
    let article = |n: i64| Article {
        file_name: s.to_string(),
        title: Some(s.to_string()),
        outlet: Some(s.to_string()),
        author: Some(s.to_string()),
        published: Some(s.to_string()),
        url: Some(url.to_string()),
        text: text.clone(),
        summary: Some(s.to_string()),
        summary_method: Some("extractive".into()),
        story: (n > 1).then(|| StoryMatch { story_id: 1, reason: s.to_string(), score: 0.5 }),
        metadata: [("dedupe.note".to_string(), s.to_string())].into(),
        ..Article::default()
    };
    let mut sources: Vec<Source> = (1..=3)
        .map(|n| Source {
            article_id: n,
            finished_at: format!("2025-07-13T08:0{n}:00Z"),
            article: article(n),
        })
        .collect();
    sources[2].article.metadata.insert(crate::reprint::REPRINT_OF.into(), "1".into());
    let cite = |article_id: Option<i64>, value: Option<&str>| stage_api::Citation {
        article_id,
        start: cited.start,
        end: cited.end,
        value: value.map(String::from),
    };
    sources[1].article.key_points = vec![
        stage_api::KeyPoint {
            text: s.to_string(),
            citations: vec![cite(Some(1), None), cite(None, None)],
            sources_differ: false,
        },
        stage_api::KeyPoint {
            text: s.to_string(),
            citations: vec![cite(Some(1), Some(s)), cite(None, Some("12"))],
            sources_differ: true,
        },
    ];
    let merge = MergeRecord {
        from_story: 2,
        into_story: 1,
        file_id: 2,
        item_index: 0,
        file_name: s.to_string(),
        n_moved: 1,
        reason: s.to_string(),
        score: 0.5,
        at: "2025-07-13T08:02:00Z".into(),
    };
    (StoryView { id: 1, sources, model_summary: Some(s.to_string()), fields: None }, vec![merge])
}

/// The elements a briefing page may hold.
const ELEMENTS: &[&str] = &[
    "html", "head", "meta", "title", "link", "style", "body", "header", "h1", "h2", "h3", "p", "nav", "ul",
    "li", "span", "a", "main", "article", "strong", "code", "footer", "ol", "section", "mark", "form",
    "input", "button",
];

/// Panics unless `html` (a page or a fragment) holds only the briefing's own markup: known
/// elements, no event-handler or style attribute, at most `styles` style elements, and links
/// only to `http`/`https` or to the briefing's own files and story pages; a form may only send
/// a search to the briefing's own `search`.
pub fn assert_inert(html: &str, styles: usize) {
    let doc = dom_query::Document::from(html);
    let mut names = BTreeSet::new();
    for node in doc.select("*").nodes() {
        let name = node.node_name().map(|n| n.to_string()).unwrap_or_default();
        assert!(ELEMENTS.contains(&name.as_str()), "element <{name}> in:\n{html}");
        names.insert(name);
        for attr in node.attrs() {
            let attr_name = attr.name.local.to_string();
            assert!(
                !attr_name.starts_with("on")
                    && !["style", "srcdoc", "formaction", "src"].contains(&attr_name.as_str()),
                "attribute {attr_name} in:\n{html}"
            );
            if attr_name == "action" {
                assert_eq!(attr.value.to_string(), "search", "form action in:\n{html}");
            }
            if attr_name == "href" {
                let href = attr.value.to_string();
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                let own =
                    href == "feed.atom"
                        || href == "index.html"
                        || href.strip_prefix("../").unwrap_or(&href).strip_suffix(".html").is_some_and(|d| {
                            d.len() == 10 && d.bytes().all(|b| b.is_ascii_digit() || b == b'-')
                        })
                        || href.strip_prefix("story/").is_some_and(digits)
                        || href
                            .strip_prefix("#cite-")
                            .and_then(|r| r.split_once('-'))
                            .is_some_and(|(a, b)| digits(a) && digits(b));
                let web = url::Url::parse(&href).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
                assert!(own || web, "link to {href:?} in:\n{html}");
            }
        }
    }
    assert_eq!(doc.select("style").length(), styles, "style elements in:\n{html}");
}
