//! The daily briefing: a pure function of a day's stories, rendered as Markdown for people and
//! as JSON for programs.
//!
//! **Invariant:** nothing here does I/O or reads the clock; the same stories and date always give
//! the same bytes (the daemon writes the result atomically elsewhere).
//!
//! Article text is untrusted: in the Markdown every string from an article goes through
//! [`escape`] (literal text, links only to `http`/`https`). The JSON carries the strings as the
//! article gave them, escaped for JSON by serde; a program that puts them into HTML or Markdown
//! must escape them for that, and should not link a `url` whose scheme is not `http`/`https`.
//!
//! JSON schema `briefd.briefing/1` (fields are only ever added within version 1):
//! `{ schema, date, timezone, stories: [{ id, headline, summary, summary_method,
//! key_points: [{ text, n_sources, sources_differ, citations: [{ article_id, start, end, value? }] }],
//! sources: [{ article_id, outlet, title, url, file, author, published, received_at, reprint_of? }],
//! n_sources, tags? }] }`. `tags` (added with story stages, absent when empty) are the labels
//! the story stages set for the story. `reprint_of` names the source a reprint copies ([`reprint`]); `n_sources`
//! counts the independent sources, which is what "(N sources)" says. `summary_method` is
//! `"model"` when a local model wrote the summary (the Markdown says so under it), else
//! `"extractive"` (sentences of the sources themselves).

pub mod reprint;

pub mod escape;

pub mod html;

pub mod search;

pub mod atom;

#[cfg(test)]
mod hostile;

use serde::Serialize;
use store::{Source, StoryView};

/// Identifies the JSON format; bumped only for incompatible changes.
pub const JSON_SCHEMA: &str = "briefd.briefing/1";

/// A story as the briefing presents it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Story {
    /// Story id in the store.
    pub id: i64,
    /// The lead source's headline.
    pub headline: String,
    /// The story's summary: the editor's model summary when it is current for the story, else
    /// the newest extractive one written over all its sources, else the lead's.
    pub summary: Option<String>,
    /// How the summary was made: `model` (written by a local model) or `extractive`.
    pub summary_method: Option<String>,
    /// Key points with citations: those of the story's newest article that has any (the
    /// keypoints stage computes them over every source the story had when that article joined).
    pub key_points: Vec<KeyPoint>,
    /// Every source, oldest first.
    pub sources: Vec<SourceLine>,
    /// How many of the sources are independent (not reprints of another source).
    pub n_sources: usize,
    /// The story's tags, as its story stages set them; absent from the JSON when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// A key point and the article spans that support it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyPoint {
    /// The point.
    pub text: String,
    /// How many different articles the citations come from.
    pub n_sources: usize,
    /// True when the cited sources give different values for this fact (each citation's
    /// `value` says which).
    pub sources_differ: bool,
    /// Supporting spans.
    pub citations: Vec<Citation>,
}

/// A cited span of a source article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Citation {
    /// The article.
    pub article_id: i64,
    /// Byte offset in its text.
    pub start: usize,
    /// One past the end.
    pub end: usize,
    /// When the sources differ: the value this span gives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// One source of a story.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceLine {
    /// Article id in the store.
    pub article_id: i64,
    /// Publisher, when known.
    pub outlet: Option<String>,
    /// The article's own headline.
    pub title: String,
    /// Where it was published, when known.
    pub url: Option<String>,
    /// The file it came in as.
    pub file: String,
    /// Author, when known.
    pub author: Option<String>,
    /// Publication date, when known.
    pub published: Option<String>,
    /// When briefd finished it, RFC 3339 UTC.
    pub received_at: String,
    /// The article id of the source this one reprints (an exact or near copy); absent for an
    /// independent source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reprint_of: Option<i64>,
}

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    date: &'a str,
    timezone: &'a str,
    stories: &'a [Story],
}

/// The `summary_method` of a summary a local model wrote.
pub const MODEL: &str = "model";

/// What the Markdown says under a summary a local model wrote.
pub const MODEL_MARKER: &str = "_Summary written by a local model._";

/// Orders and shapes the stored stories: most sources first, then most recently updated.
pub fn stories(views: &[StoryView]) -> Vec<Story> {
    let mut stories: Vec<(String, Story)> = views
        .iter()
        .filter(|v| !v.sources.is_empty())
        .map(|v| {
            let lead = lead(&v.sources);
            let summarised = story_summary(&v.sources).unwrap_or(lead);
            let latest = v.sources.iter().map(|s| s.finished_at.clone()).max().unwrap_or_default();
            let originals = reprint::originals(&v.sources);
            let mut sources: Vec<SourceLine> = v.sources.iter().map(source_line).collect();
            for line in &mut sources {
                line.reprint_of = originals.get(&line.article_id).copied();
            }
            let fields = v.fields.clone().unwrap_or_default();
            // The editor's summary while current, else a story stage's, else the newest one an
            // article stage wrote over the story, else the lead's own.
            let (summary, summary_method) = match (&v.model_summary, &fields.summary) {
                (Some(model), _) => (Some(model.clone()), Some(MODEL.to_string())),
                (None, Some(set)) => (Some(set.clone()), fields.summary_method.clone()),
                (None, None) => {
                    (summarised.article.summary.clone(), summarised.article.summary_method.clone())
                }
            };
            let key_points = match &fields.key_points {
                Some(points) => story_key_points(points, &originals),
                None => key_points(&v.sources, &originals),
            };
            let story = Story {
                id: v.id,
                headline: lead.article.headline().to_string(),
                summary,
                summary_method,
                key_points,
                n_sources: sources.len() - originals.len(),
                sources,
                tags: fields.tags.unwrap_or_default(),
            };
            (latest, story)
        })
        .collect();
    stories.sort_by(|(a_latest, a), (b_latest, b)| {
        b.n_sources.cmp(&a.n_sources).then_with(|| b_latest.cmp(a_latest)).then(a.id.cmp(&b.id))
    });
    stories.into_iter().map(|(_, s)| s).collect()
}

/// The key points of the newest source that has any, with every citation naming its article:
/// a citation without an id points into that source itself. A point cited from a source and its
/// reprint counts one source.
fn key_points(sources: &[Source], originals: &std::collections::BTreeMap<i64, i64>) -> Vec<KeyPoint> {
    let Some(holder) = sources.iter().rev().find(|s| !s.article.key_points.is_empty()) else {
        return Vec::new();
    };
    points_with_sources(&holder.article.key_points, originals, Some(holder.article_id))
}

/// The key points a story stage set: every citation names its source (the pipeline refuses
/// fields whose citations do not); one without is left out rather than guessed.
fn story_key_points(
    points: &[stage_api::KeyPoint],
    originals: &std::collections::BTreeMap<i64, i64>,
) -> Vec<KeyPoint> {
    points_with_sources(points, originals, None)
}

/// `points` with each citation's article (`unnamed` for a citation that names none; left out
/// when that is `None`) and their count of independent sources.
fn points_with_sources(
    points: &[stage_api::KeyPoint],
    originals: &std::collections::BTreeMap<i64, i64>,
    unnamed: Option<i64>,
) -> Vec<KeyPoint> {
    points
        .iter()
        .map(|k| {
            let citations: Vec<Citation> = k
                .citations
                .iter()
                .filter_map(|c| {
                    Some(Citation {
                        article_id: c.article_id.or(unnamed)?,
                        start: c.start,
                        end: c.end,
                        value: c.value.clone(),
                    })
                })
                .collect();
            let n_sources = citations
                .iter()
                .map(|c| reprint::independent(c.article_id, originals))
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            KeyPoint { text: k.text.clone(), n_sources, sources_differ: k.sources_differ, citations }
        })
        .collect()
}

/// The newest source whose summary covers the whole story (`summary_scope: story`, written by
/// the summarize stage when it joined), if any.
fn story_summary(sources: &[Source]) -> Option<&Source> {
    sources
        .iter()
        .filter(|s| {
            s.article.summary.is_some()
                && s.article.metadata.get("summary_scope").is_some_and(|v| v == "story")
        })
        .max_by(|a, b| a.finished_at.cmp(&b.finished_at).then(a.article_id.cmp(&b.article_id)))
}

/// The source a story's headline and summary come from: the fullest text, the earliest on ties.
fn lead(sources: &[Source]) -> &Source {
    sources.iter().rev().max_by_key(|s| s.article.text.len()).expect("stories shown have at least one source")
}

fn source_line(s: &Source) -> SourceLine {
    SourceLine {
        article_id: s.article_id,
        outlet: s.article.outlet.clone(),
        title: s.article.headline().to_string(),
        url: s.article.url.clone(),
        file: s.article.file_name.clone(),
        author: s.article.author.clone(),
        published: s.article.published.clone(),
        received_at: s.finished_at.clone(),
        reprint_of: None,
    }
}

/// The Markdown briefing for `date` (YYYY-MM-DD), times shown in `tz`.
pub fn markdown(date: &str, tz: &jiff::tz::TimeZone, stories: &[Story]) -> String {
    let n_sources: usize = stories.iter().map(|s| s.n_sources).sum();
    let mut out = format!("# Briefing for {date}\n\n");
    if stories.is_empty() {
        out.push_str("No stories yet today. Drop article files into the inbox and they will appear here.\n");
        return out;
    }
    out.push_str(&format!(
        "{} · {}\n",
        plural(stories.len(), "story", "stories"),
        plural(n_sources, "source", "sources")
    ));
    for story in stories {
        out.push_str(&format!("\n## {}\n\n", escape::text(&story.headline)));
        match &story.summary {
            Some(summary) => out.push_str(&format!("{}\n", escape::text(summary))),
            None => out.push_str("_No summary._\n"),
        }
        if story.summary.is_some() && story.summary_method.as_deref() == Some(MODEL) {
            // Model-written text can be fluent and wrong in ways extracted sentences cannot.
            out.push_str(&format!("\n{MODEL_MARKER}\n"));
        }
        if !story.tags.is_empty() {
            let tags: Vec<String> = story.tags.iter().map(|t| escape::text(t)).collect();
            out.push_str(&format!("\nTags: {}\n", tags.join(", ")));
        }
        if !story.key_points.is_empty() {
            out.push_str("\n**Key points**\n\n");
            for point in &story.key_points {
                out.push_str(&format!("- {}\n", key_point_line(point, &story.sources)));
            }
        }
        out.push_str(&format!("\n**{}**\n\n", plural(story.n_sources, "source", "sources")));
        for (s, reprinted) in reprint::listed(&story.sources) {
            let mut parts = Vec::new();
            if let Some(outlet) = s.outlet.as_deref().map(escape::text).filter(|o| !o.is_empty()) {
                parts.push(format!("**{outlet}**"));
            }
            parts.push(format!("“{}”", escape::text(&s.title)));
            // A URL that may not be linked is still worth showing, as text; the file name then
            // adds nothing a reader needs.
            match &s.url {
                Some(url) => parts.push(escape::link(url).unwrap_or_else(|| escape::text(url))),
                None => parts.push(escape::code(&s.file)),
            }
            if let Some(published) = &s.published {
                parts.push(format!("published {}", escape::text(published)));
            }
            parts.push(format!("received {}", local_time(&s.received_at, tz)));
            if reprinted {
                out.push_str(&format!("  - reprinted by {}\n", parts.join(" · ")));
            } else {
                out.push_str(&format!("- {}\n", parts.join(" · ")));
            }
        }
    }
    out
}

/// The JSON briefing for `date`, schema [`JSON_SCHEMA`].
pub fn json(date: &str, tz: &jiff::tz::TimeZone, stories: &[Story]) -> String {
    let timezone = tz.iana_name().unwrap_or("local");
    let doc = Document { schema: JSON_SCHEMA, date, timezone, stories };
    let mut out = serde_json::to_string_pretty(&doc).expect("briefing types always serialise");
    out.push('\n');
    out
}

/// One point as a Markdown list item's text: the point, how many outlets say it when more than
/// one does, and the tag of each (its outlet, else its file name); when the sources differ, each
/// value with the tags of the sources that give it.
fn key_point_line(point: &KeyPoint, sources: &[SourceLine]) -> String {
    let mut line = escape::text(&point.text);
    if point.sources_differ {
        let mut values: Vec<&str> = Vec::new();
        for v in point.citations.iter().filter_map(|c| c.value.as_deref()) {
            if !values.contains(&v) {
                values.push(v);
            }
        }
        let shown: Vec<String> = values
            .iter()
            .map(|v| {
                let tags = tags(point.citations.iter().filter(|c| c.value.as_deref() == Some(*v)), sources);
                format!("{} {tags}", escape::text(v))
            })
            .collect();
        line.push_str(&format!(" — **sources differ:** {}", shown.join(" / ")));
        let rest = tags(point.citations.iter().filter(|c| c.value.is_none()), sources);
        if !rest.is_empty() {
            line.push_str(&format!("; also {rest}"));
        }
    } else {
        if point.n_sources > 1 {
            line.push_str(&format!(" ({})", plural(point.n_sources, "source", "sources")));
        }
        line.push(' ');
        line.push_str(&tags(point.citations.iter(), sources));
    }
    line
}

/// The tags of the cited sources, each once, in citation order: `[AP] [Reuters]`.
fn tags<'c>(citations: impl Iterator<Item = &'c Citation>, sources: &[SourceLine]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for c in citations {
        let Some(s) = sources.iter().find(|s| s.article_id == c.article_id) else { continue };
        let outlet = s.outlet.as_deref().filter(|o| !o.trim().is_empty());
        let tag = format!("[{}]", escape::text(outlet.unwrap_or(&s.file)));
        if !seen.contains(&tag) {
            seen.push(tag);
        }
    }
    seen.join(" ")
}

pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(crate) fn local_time(rfc3339: &str, tz: &jiff::tz::TimeZone) -> String {
    match rfc3339.parse::<jiff::Timestamp>() {
        Ok(t) => t.to_zoned_datetime(tz.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stage_api::Article;

    fn source(id: i64, at: &str, title: &str, outlet: Option<&str>, text: &str) -> Source {
        Source {
            article_id: id,
            finished_at: at.into(),
            article: Article {
                file_name: format!("{id:03}.txt"),
                title: Some(title.into()),
                outlet: outlet.map(Into::into),
                text: text.into(),
                summary: Some(format!("Summary of {title}.")),
                summary_method: Some("extractive".into()),
                key_points: vec![stage_api::KeyPoint {
                    text: format!("{title} happened."),
                    citations: vec![stage_api::Citation { start: 0, end: 5, ..Default::default() }],
                    ..Default::default()
                }],
                ..Default::default()
            },
        }
    }

    fn sample() -> Vec<StoryView> {
        // The newest source of story 2 holds the story's points, computed over both articles:
        // one both outlets report, one they give different numbers for.
        let mut newest =
            source(3, "2025-07-13T09:30:00Z", "Russia condemns\nalliance", Some("newsfeed.example"), "short");
        let cite = |article_id, start, end, value: Option<&str>| stage_api::Citation {
            article_id,
            start,
            end,
            value: value.map(Into::into),
        };
        newest.article.key_points = vec![
            stage_api::KeyPoint {
                text: "Lavrov met Choe in Wonsan.".into(),
                citations: vec![cite(None, 0, 5, None), cite(Some(2), 0, 9, None)],
                sources_differ: false,
            },
            stage_api::KeyPoint {
                text: "The resort hosts 20,000 / 30,000 visitors.".into(),
                citations: vec![cite(None, 6, 9, Some("20,000")), cite(Some(2), 10, 20, Some("30,000"))],
                sources_differ: true,
            },
        ];
        vec![
            StoryView {
                id: 1,
                sources: vec![source(1, "2025-07-13T08:00:00Z", "Quake hits coast", None, "short")],
                model_summary: None,
                fields: None,
            },
            StoryView {
                id: 2,
                sources: vec![
                    source(
                        2,
                        "2025-07-13T09:00:00Z",
                        "Russia warns allies",
                        Some("AP"),
                        "the longer wire text",
                    ),
                    newest,
                ],
                model_summary: None,
                fields: None,
            },
        ]
    }

    #[test]
    fn most_sourced_story_comes_first() {
        let s = stories(&sample());
        assert_eq!(s.iter().map(|s| s.id).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(s[0].headline, "Russia warns allies", "the fullest source leads");
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(markdown("2025-07-13", &jiff::tz::TimeZone::UTC, &stories(&sample())));
    }

    #[test]
    fn json_snapshot() {
        insta::assert_snapshot!(json("2025-07-13", &jiff::tz::TimeZone::UTC, &stories(&sample())));
    }

    #[test]
    fn a_summary_over_the_whole_story_wins_over_the_leads_own() {
        let mut views = sample();
        assert_eq!(stories(&views)[0].summary.as_deref(), Some("Summary of Russia warns allies."));
        let newest = &mut views[1].sources[1].article;
        newest.metadata.insert("summary_scope".into(), "story".into());
        newest.summary = Some("Both outlets: Russia warns allies.".into());
        let s = stories(&views);
        assert_eq!(s[0].summary.as_deref(), Some("Both outlets: Russia warns allies."));
        assert_eq!(s[0].headline, "Russia warns allies", "the headline still comes from the lead");
    }

    /// A day whose every article string is hostile, rendered to HTML as a Markdown viewer would.
    fn hostile_day_as_html() -> String {
        let title = "<img src=x onerror=alert(1)> *Breaking* _now_";
        let mut lead = source(1, "2025-07-13T08:00:00Z", title, None, "long text");
        lead.article.outlet = Some("[x](javascript:alert(1))".into());
        lead.article.url = Some("javascript:alert(document.cookie)".into());
        lead.article.summary = Some("<script>alert(1)</script> & [click](data:text/html,<b>x</b>)".into());
        lead.article.published = Some("<b>2025</b>".into());
        lead.article.key_points[0].text =
            "<a href=\"vbscript:msgbox(1)\">point</a> `x` ![i](javascript:1)".into();
        let svg = Some("<svg onload=alert(1)>");
        let mut second = source(2, "2025-07-13T09:00:00Z", "Site <iframe src=//evil>", svg, "x");
        second.article.url = Some("https://example.com/a b\"><script>alert(1)</script>(x)".into());
        second.article.key_points.clear();
        // Listed as a reprint of the lead, so its strings go through the reprint line too.
        second.article.metadata.insert(reprint::REPRINT_OF.into(), "1".into());
        let mut third = source(3, "2025-07-13T09:10:00Z", "# Heading\n- item", None, "x");
        third.article.file_name = "<img src=y>`.html".into();
        third.article.key_points.clear();
        let mut fourth = source(4, "2025-07-13T09:20:00Z", "Fourth", Some("  "), "x");
        fourth.article.url = Some("data:text/html;base64,PHNjcmlwdD4=".into());
        fourth.article.key_points.clear();
        let views = [StoryView {
            id: 7,
            sources: vec![lead, second, third, fourth],
            model_summary: Some("<b>model</b> [x](javascript:1) wrote *this*".into()),
            fields: None,
        }];
        let md = markdown("2025-07-13", &jiff::tz::TimeZone::UTC, &stories(&views));
        let mut html = String::new();
        let options = pulldown_cmark::Options::all() - pulldown_cmark::Options::ENABLE_SMART_PUNCTUATION;
        pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(&md, options));
        html
    }

    #[test]
    fn hostile_article_strings_render_as_text() {
        let html = hostile_day_as_html();
        // Only the briefing's own markup may appear as tags.
        let allowed = ["h1", "h2", "p", "strong", "em", "ul", "li", "code", "a"];
        for tag in html.split('<').skip(1) {
            let name: String =
                tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            assert!(allowed.contains(&name.as_str()), "tag <{tag:.40}> in\n{html}");
        }
        // Article text cannot hold a `<` (the renderer writes `&lt;`), so each `<` opens a real tag.
        for tag in html.split('<').skip(1).map(|t| t.split('>').next().unwrap_or(t)) {
            for attr in tag.split(" href=\"").skip(1).chain(tag.split(" src=\"").skip(1)) {
                let http = attr.starts_with("https://") || attr.starts_with("http://");
                assert!(http, "link {attr:.60} in\n{html}");
            }
        }
        assert_eq!(html.matches("<a ").count(), 1, "only the https URL is a link:\n{html}");
        let encoded = "https://example.com/a%20b%22%3E%3Cscript%3Ealert%281%29%3C/script%3E%28x%29";
        assert!(html.contains(&format!("<a href=\"{encoded}\">")), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; *Breaking* _now_"), "{html}");
        assert!(html.contains("<strong>[x](javascript:alert(1))</strong>"), "{html}");
        assert!(html.contains("javascript:alert(document.cookie)"), "the URL is shown as text:\n{html}");
        assert!(html.contains("“# Heading - item”"), "{html}");
        assert!(html.contains("<code>&lt;img src=y&gt;'.html</code>"), "{html}");
        assert!(html.contains("data:text/html;base64,PHNjcmlwdD4="), "{html}");
        assert!(html.contains("reprinted by <strong>&lt;svg onload=alert(1)&gt;</strong>"), "{html}");
        assert!(html.contains("&lt;b&gt;model&lt;/b&gt; [x](javascript:1) wrote *this*"), "{html}");
        assert!(html.contains("<em>Summary written by a local model.</em>"), "{html}");
    }

    #[test]
    fn a_current_model_summary_is_shown_and_marked_in_both_formats() {
        let mut views = sample();
        let extractive = stories(&views);
        assert_eq!(extractive[0].summary_method.as_deref(), Some("extractive"));
        let md = markdown("2025-07-13", &jiff::tz::TimeZone::UTC, &extractive);
        assert!(!md.contains(MODEL_MARKER), "{md}");

        views[1].model_summary = Some("Russia warned its allies on Sunday.".into());
        let s = stories(&views);
        assert_eq!(s[0].summary.as_deref(), Some("Russia warned its allies on Sunday."));
        assert_eq!(s[0].summary_method.as_deref(), Some(MODEL));
        assert_eq!(s[1].summary_method.as_deref(), Some("extractive"), "only the story that has one");
        let md = markdown("2025-07-13", &jiff::tz::TimeZone::UTC, &s);
        assert!(md.contains(&format!("Russia warned its allies on Sunday.\n\n{MODEL_MARKER}\n")), "{md}");
        assert_eq!(md.matches(MODEL_MARKER).count(), 1, "{md}");
        let json: serde_json::Value =
            serde_json::from_str(&json("2025-07-13", &jiff::tz::TimeZone::UTC, &s)).unwrap();
        assert_eq!(json["stories"][0]["summary_method"], "model");
        assert_eq!(json["stories"][1]["summary_method"], "extractive");
    }

    #[test]
    fn empty_day_says_so() {
        let md = markdown("2025-07-13", &jiff::tz::TimeZone::UTC, &[]);
        assert!(md.contains("No stories yet today"));
    }
}
