//! A briefing a reader can trust, through the real binary: hostile page titles, outlets and URLs
//! are shown as literal text (no HTML, no `javascript:` link, no stray emphasis), RSS and Atom
//! files give one source per item, and outlets are names, not URLs, with headlines free of the
//! site's name.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::support::{self, Env};

fn reader_page(name: &str) -> Vec<u8> {
    std::fs::read(support::test_data(&format!("reader/{name}"))).unwrap()
}

fn clean_feed(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/clean/test_data/feeds").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The Markdown as a viewer shows it: HTML from a CommonMark renderer with the common extensions.
fn as_html(markdown: &str) -> String {
    let options = pulldown_cmark::Options::all() - pulldown_cmark::Options::ENABLE_SMART_PUNCTUATION;
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(markdown, options));
    html
}

/// Every tag of `html` is the briefing's own markup and every link goes to an http(s) URL.
fn assert_only_briefing_markup(html: &str) {
    const ALLOWED: [&str; 9] = ["h1", "h2", "p", "strong", "em", "ul", "li", "code", "a"];
    // Article text cannot hold a `<` (the renderer writes `&lt;`), so each `<` opens a real tag.
    for tag in html.split('<').skip(1).map(|t| t.split('>').next().unwrap_or(t)) {
        let name: String =
            tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        assert!(ALLOWED.contains(&name.as_str()), "tag <{tag:.40}> in the rendered briefing:\n{html}");
        for attr in tag.split(" href=\"").skip(1).chain(tag.split(" src=\"").skip(1)) {
            let http = attr.starts_with("https://") || attr.starts_with("http://");
            assert!(http, "link {attr:.60} in:\n{html}");
        }
    }
}

fn briefing_json(env: &Env) -> Value {
    let path = env.briefings().join(format!("{}.json", support::today_utc()));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Every source of the JSON briefing, as (outlet, title, url, author, published).
fn sources(json: &Value) -> Vec<[String; 5]> {
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    json["stories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["sources"].as_array().unwrap().iter())
        .map(|s| {
            [
                text(&s["outlet"]),
                text(&s["title"]),
                text(&s["url"]),
                text(&s["author"]),
                text(&s["published"]),
            ]
        })
        .collect()
}

/// The issue "A briefing a reader can trust": a page titled `<img src=x onerror=alert(1)>`
/// whose site name is `[x](javascript:alert(1))` and whose canonical URL is `javascript:`, and a
/// headline with `*` and `_`, are shown as the literal text they are.
#[test]
fn hostile_titles_outlets_and_urls_stay_literal_text() {
    let env = Env::new();
    let mut daemon = env.start();
    for name in ["hostile_title.html", "starred_headline.html"] {
        env.drop_file(name, &reader_page(name));
    }
    let md = env.wait_for_briefing(|md| support::sources_in(md) == 2, Duration::from_secs(30));
    daemon.stop_gracefully();
    let html = as_html(&md);
    assert_only_briefing_markup(&html);
    assert!(md.contains("\\<img src=x onerror=alert(1)\\>"), "{md}");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"), "{html}");
    assert!(md.contains("**\\[x\\](javascript:alert(1))**"), "the hostile site name is escaped:\n{md}");
    assert!(!md.contains("<javascript:"), "{md}");
    assert!(
        md.contains("## Grain prices \\*soar\\* as the_drought spreads\n"),
        "no site tail, `*` escaped:\n{md}"
    );
    assert!(html.contains("Grain prices *soar* as the_drought spreads</h2>"), "{html}");
    assert!(!html.contains("<em>soar"), "{html}");
    assert!(md.contains("**Prairie Ledger**"), "{md}");
    assert!(md.contains("<https://www.prairieledger.example/markets/grain-prices>"), "{md}");
    // The JSON keeps the strings as the page gave them, escaped for JSON by serde.
    let json = briefing_json(&env);
    let all = sources(&json);
    let hostile = all.iter().find(|s| s[1].contains("onerror")).unwrap_or_else(|| panic!("{all:?}"));
    assert_eq!(hostile[0], "[x](javascript:alert(1))");
    assert_eq!(hostile[1], "<img src=x onerror=alert(1)>");
    assert_eq!(hostile[2], "javascript:alert(1)");
    assert_web_formats_inert(&env, 2);
}

/// The day's web page, the index and the Atom feed show the hostile strings as text: no element
/// or attribute of an article's, no `javascript:` link, and the headline reads as written.
fn assert_web_formats_inert(env: &Env, n_stories: usize) {
    let day = support::today_utc();
    let page = std::fs::read_to_string(env.briefings().join(format!("{day}.html"))).unwrap();
    assert_eq!(std::fs::read_to_string(env.briefings().join("index.html")).unwrap(), page);
    let check = |html: &str| {
        let doc = dom_query::Document::from(html);
        for bad in ["script", "img", "iframe", "svg", "object", "embed", "form", "base"] {
            assert_eq!(doc.select(bad).length(), 0, "<{bad}> in:\n{html}");
        }
        for node in doc.select("*").nodes() {
            for attr in node.attrs() {
                let (name, value) = (attr.name.local.to_string(), attr.value.to_string());
                assert!(!name.starts_with("on") && name != "style", "{name} in:\n{html}");
                assert!(
                    !value.to_lowercase().contains("javascript:") || name != "href",
                    "{value} in:\n{html}"
                );
            }
        }
        doc
    };
    let doc = check(&page);
    let headlines: Vec<String> = doc.select("article h2").iter().map(|h| h.text().to_string()).collect();
    assert_eq!(headlines.len(), n_stories, "{page}");
    assert!(headlines.iter().any(|h| h == "<img src=x onerror=alert(1)>"), "{headlines:?}");
    let xml = std::fs::read(env.briefings().join("feed.atom")).unwrap();
    let feed = feed_rs::parser::parse(xml.as_slice()).unwrap();
    assert_eq!(feed.entries.len(), n_stories);
    assert!(feed
        .entries
        .iter()
        .any(|e| e.title.as_ref().is_some_and(|t| t.content == "<img src=x onerror=alert(1)>")));
    for entry in &feed.entries {
        check(entry.content.as_ref().and_then(|c| c.body.as_deref()).unwrap_or_default());
    }
}

/// RSS 2.0, Atom and RSS 1.0 files dropped into the inbox give one source per item, with the
/// feed's title as the outlet and each item's own title, link, author and date; no feed markup
/// reaches the briefing, and a hostile item title is escaped like any other.
#[test]
fn rss_and_atom_feeds_give_one_source_per_item() {
    let env = Env::new();
    let mut daemon = env.start();
    // The extensions say nothing here: the content decides.
    for (name, file) in [
        ("harbour_gazette.rss", "harbour.xml"),
        ("valley_courier.atom", "valley.txt"),
        ("mountain_post.rdf", "mountain.xml"),
    ] {
        env.drop_file(file, &clean_feed(name));
    }
    env.wait_until("three feeds archived", Duration::from_secs(40), || env.archived().len() == 3);
    let md = env.wait_for_briefing(|md| support::sources_in(md) == 7, Duration::from_secs(20));
    daemon.stop_gracefully();
    let json = briefing_json(&env);
    let all = sources(&json);
    assert_eq!(all.len(), 7, "{all:#?}");
    let find =
        |title: &str| all.iter().find(|s| s[1] == title).unwrap_or_else(|| panic!("{title:?} in {all:#?}"));
    assert_eq!(
        find("Ferry strike halts crossings to the islands"),
        &[
            "Harbour Gazette",
            "Ferry strike halts crossings to the islands",
            "https://www.harbourgazette.example/2025/07/ferry-strike",
            "Nadia Petrova",
            "2025-07-13T07:30:00Z"
        ]
        .map(String::from)
    );
    assert_eq!(find("Council approves new fish market hall")[3], "Tom Okafor");
    assert_eq!(find("Council approves new fish market hall")[4], "2025-07-13T07:15:00Z");
    let flood = find("Flood barrier holds as river peaks");
    assert_eq!(flood[0], "Valley Courier");
    assert_eq!(flood[2], "https://valleycourier.example/news/flood-barrier");
    assert_eq!(flood[3], "Lena Fischer");
    assert_eq!(find("Orchard harvest starts three weeks early")[3], "Courier Desk", "the feed's author");
    assert_eq!(find("High pass reopens after rockfall")[0], "Mountain Post");
    assert_eq!(find("High pass reopens after rockfall")[3], "Marco Bianchi");
    assert_eq!(find("Climbers' hut rebuilt after avalanche")[4], "2025-07-12T12:00:00Z");
    // The content, not the markup, is the article.
    for junk in ["<item", "<p>", "&lt;p", "CDATA", "<entry", "rdf:"] {
        assert!(!md.contains(junk), "{junk:?} in the briefing:\n{md}");
    }
    assert!(
        md.contains("The union said talks with the operator had broken down"),
        "content:encoded is read:\n{md}"
    );
    let hostile = find("<img src=x onerror=alert(1)> Tall ships *return* for the regatta");
    assert_eq!(hostile[2], "javascript:alert(1)");
    let html = as_html(&md);
    assert_only_briefing_markup(&html);
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt; Tall ships *return* for the regatta"),
        "{html}"
    );
}

/// Outlets are names: a site name that is a URL gives way to the page's host, and a headline
/// loses the " | Site" tail that matches it.
#[test]
fn an_outlet_is_a_name_and_the_headline_has_no_site_tail() {
    let env = Env::new();
    let mut daemon = env.start();
    env.drop_file("url_site_name.html", &reader_page("url_site_name.html"));
    let md = env.wait_for_briefing(|md| support::sources_in(md) == 1, Duration::from_secs(30));
    daemon.stop_gracefully();
    let all = sources(&briefing_json(&env));
    assert_eq!(all[0][0], "islandnewsnow.example", "{all:?}");
    assert_eq!(all[0][1], "Telescope spots water vapour on a distant moon", "{all:?}");
    assert!(md.contains("## Telescope spots water vapour on a distant moon\n"), "{md}");
    assert!(!md.contains("https://www.islandnewsnow.example**"), "{md}");
}
