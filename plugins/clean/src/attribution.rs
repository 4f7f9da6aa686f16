//! Attribution: who published an article, and its headline without the site's name.
//!
//! A reader needs the outlet as a name ("Live Science"), never a bare URL or a file name, and a
//! headline without the tail a page adds to its `<title>` ("… - SpaceNews.com"). The rules are
//! general; none is about one site.
//!
//! For an HTML page the outlet is the first usable name of ([`PageMeta::outlet`]):
//! `og:site_name`, the JSON-LD `publisher.name`, the wire credit of a dateline ("SEOUL (AP) —"),
//! then the host of the page's `og:url`, canonical link or extracted URL without `www.`; a site
//! name in lower case gives way to a publisher name that is the same name with capitals
//! ("usatoday" to "USA TODAY"), and a site name that is only a subdomain of the page's host
//! ("Hosted" on `hosted.ap.org`) names a platform, not an outlet, and is passed over. A
//! usable name ([`outlet_name`]) is not a URL (`og:site_name` is sometimes one) and not a file
//! name. The same check runs on every article's outlet whatever its format (`crate::merge`),
//! with the host of the article's URL as the last resort.
//!
//! A headline's trailing segment after ` - `, ` | `, ` – `, ` — `, ` : `, ` :: `, ` · ` or ` • `
//! (or a leading one before those or `: `) is cut ([`strip_site_name`]) only when it *is* one
//! of the page's names (its site name, publisher, application name, outlet or host), compared
//! without case, spaces or punctuation, and for a host also by its main label
//! (`www.livescience.com` matches "Live Science"), so "Take C.A.R.E. - comwrap auf der DMEXCO
//! 2018" keeps its second half and "Opinion | Republicans ..." its first.

use std::collections::BTreeSet;

use serde_json::Value;

use ::text::site::host_of;

/// The naming metadata of an HTML page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageMeta {
    /// `og:site_name`.
    pub site_name: Option<String>,
    /// `publisher.name` of the page's JSON-LD objects, in document order.
    pub publishers: Vec<String>,
    /// `application-name`, only ever used to recognise a title's tail.
    pub application_name: Option<String>,
    /// `og:url`, else the canonical link.
    pub url: Option<String>,
    /// `og:title`, else the `<title>` element.
    pub title: Option<String>,
}

impl PageMeta {
    /// Reads the metadata of `html`: its meta and link tags, first title and JSON-LD, wherever
    /// they are (a saved page may close its head early and carry them in the body).
    pub fn read(html: &str) -> PageMeta {
        let (head, json_ld) = naming_parts(html);
        let doc = dom_query::Document::from(head.as_str());
        let meta = |key: &str| -> Option<String> {
            let selector = format!("meta[property=\"{key}\"], meta[name=\"{key}\"]");
            let found = doc.select(&selector);
            found.iter().find_map(|m| m.attr("content").map(|c| one_line(&c)).filter(|c| !c.is_empty()))
        };
        let canonical = doc
            .select("link[rel=\"canonical\"]")
            .iter()
            .find_map(|l| l.attr("href").map(|h| h.trim().to_string()).filter(|h| !h.is_empty()));
        let title_element =
            doc.select("title").iter().next().map(|t| one_line(&t.text())).filter(|t| !t.is_empty());
        PageMeta {
            site_name: meta("og:site_name"),
            publishers: json_ld_publishers(&json_ld),
            application_name: meta("application-name"),
            url: meta("og:url").or(canonical),
            title: meta("og:title").or(title_element),
        }
    }

    /// The outlet of the article whose text is `text`, extracted at `extracted_url`: the first
    /// usable name of the cascade in the module docs.
    pub fn outlet(&self, text: &str, extracted_url: Option<&str>) -> Option<String> {
        let host = self.url.as_deref().or(extracted_url).and_then(host_of);
        let named: Vec<String> = self
            .site_name
            .iter()
            .chain(&self.publishers)
            .filter_map(|n| outlet_name(n, ""))
            .filter(|n| !host.as_deref().is_some_and(|h| names_a_subdomain(n, h)))
            .collect();
        // A site name in lower case ("usatoday", "livescience.com") is often a handle or a host;
        // a publisher name that is the same name, written as people write it, reads better.
        let has_capitals = |n: &str| n.chars().any(char::is_uppercase);
        let first = named.first().map(|first| {
            if has_capitals(first) {
                return first.clone();
            }
            let keys = name_keys(first);
            let same = |n: &&String| has_capitals(n) && name_keys(n).iter().any(|k| keys.contains(k));
            named.iter().find(same).unwrap_or(first).clone()
        });
        first.or_else(|| crate::text::wire_outlet(text)).or(host)
    }

    /// Every name the page goes by, for recognising a title's tail.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> =
            self.site_name.iter().chain(&self.publishers).map(String::as_str).collect();
        names.extend(self.application_name.as_deref());
        names.extend(self.url.as_deref());
        names
    }
}

/// `name` as an outlet, or `None` when it is no name: empty, a URL, a file name (or the
/// article's own `file_name`), or too long to be one. A leading `@` (a social-media handle
/// given as `og:site_name`) is dropped.
pub fn outlet_name(name: &str, file_name: &str) -> Option<String> {
    let name = one_line(name);
    let name = name.trim_start_matches('@').trim();
    let lower = name.to_lowercase();
    let url_like = lower.contains("://")
        || lower.starts_with("www.")
        || (!name.contains(' ') && name.split_once('/').is_some_and(|(host, _)| host.contains('.')));
    const FILE_EXTENSIONS: &[&str] = &[
        "html", "htm", "shtml", "xhtml", "php", "asp", "aspx", "jsp", "txt", "md", "markdown", "json", "xml",
        "rss", "atom", "pdf",
    ];
    let file_like = !name.contains(' ')
        && name
            .rsplit_once('.')
            .is_some_and(|(_, ext)| FILE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()));
    let too_long = name.chars().count() > 100;
    let is_file =
        !file_name.is_empty() && (name == file_name || name == file_name.rsplit('/').next().unwrap_or(""));
    (!name.is_empty() && !url_like && !file_like && !too_long && !is_file).then(|| name.to_string())
}

/// `title` without a trailing site-name segment, or a leading one, whose words are one of
/// `names` (see the module docs). The title is returned unchanged when no segment matches, or
/// when nothing would be left of it.
pub fn strip_site_name(title: &str, names: &[&str]) -> String {
    const TAIL_SEPARATORS: &[&str] = &[" - ", " | ", " – ", " — ", " : ", " :: ", " · ", " • "];
    // "LinkNaija | Nigeria's popular news platform: Nollywood actress ..." names its site first.
    const HEAD_SEPARATORS: &[&str] = &[" - ", " | ", " – ", " — ", " : ", ": ", " :: ", " · ", " • "];
    let keys: BTreeSet<String> = names.iter().flat_map(|n| name_keys(n)).filter(|k| !k.is_empty()).collect();
    let title = one_line(title);
    if keys.is_empty() {
        return title;
    }
    let is_name = |segment: &str| name_keys(segment).iter().any(|k| keys.contains(k));
    let has_words = |rest: &str| rest.chars().any(char::is_alphanumeric);
    // The leftmost separator whose whole tail is a name: a site name may itself hold a
    // separator ("Remember 80/90 - Memorabilia anni 80/90"); likewise the rightmost for a head.
    let tail = cuts(&title, TAIL_SEPARATORS)
        .into_iter()
        .find(|&(start, end)| has_words(&title[..start]) && is_name(&title[end..]));
    let title = match tail {
        Some((start, _)) => title[..start].trim_end().to_string(),
        None => title,
    };
    let head = cuts(&title, HEAD_SEPARATORS)
        .into_iter()
        .rev()
        .find(|&(start, end)| has_words(&title[end..]) && is_name(&title[..start]));
    match head {
        Some((_, end)) => title[end..].trim_start().to_string(),
        None => title,
    }
}

/// Where each separator occurs in `title`, as (start, end) byte ranges in order.
fn cuts(title: &str, separators: &[&str]) -> Vec<(usize, usize)> {
    let mut cuts: Vec<(usize, usize)> = separators
        .iter()
        .flat_map(|sep| title.match_indices(sep).map(|(at, s)| (at, at + s.len())))
        .collect();
    cuts.sort_unstable();
    cuts
}

/// The forms a name is compared in: its letters and digits in lower case, and for a host name
/// (`www.spacenews.com`, `news.sky.com`) also its main label (`spacenews`, `sky`).
fn name_keys(name: &str) -> Vec<String> {
    let key =
        |s: &str| s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    let mut keys = vec![key(name)];
    let host = host_of(name).or_else(|| {
        let bare = name.trim();
        (!bare.contains(' ') && bare.contains('.')).then(|| bare.trim_start_matches("www.").to_lowercase())
    });
    if let Some(host) = host {
        keys.push(key(&host));
        // A one- or two-letter label ("ap", or the "e" of "C.A.R.E.") names nothing reliably.
        if let Some(label) = host_labels(&host).1.filter(|l| l.chars().count() >= 3) {
            keys.push(key(label));
        }
    }
    keys
}

/// A host's subdomains and its main label: `(["hosted"], Some("ap"))` for `hosted.ap.org`.
fn host_labels(host: &str) -> (Vec<&str>, Option<&str>) {
    let mut labels: Vec<&str> = host.split('.').collect();
    labels.pop();
    // A second-level domain under a country code ("co.uk", "com.br") is not the site's name.
    if labels.len() > 1
        && matches!(labels.last(), Some(&("co" | "com" | "org" | "net" | "ac" | "gov" | "edu")))
    {
        labels.pop();
    }
    let main = labels.pop();
    (labels, main)
}

/// Whether `name` is only a label of `host` left of its main one (`Hosted` on
/// `hosted.ap.org`): the name of a hosting platform or section, not of who wrote the article.
fn names_a_subdomain(name: &str, host: &str) -> bool {
    let key = name_keys(name).swap_remove(0);
    host_labels(host).0.iter().any(|l| l.eq_ignore_ascii_case(&key))
}

/// The parts of a page that name it, found by one linear scan so that a page of any size costs
/// no second tree: its `<meta>` and `<link>` tags and first `<title>` element (outside comments,
/// scripts and styles) as a small document, and the content of its JSON-LD scripts.
fn naming_parts(html: &str) -> (String, Vec<&str>) {
    let (mut tags, mut json_ld) = (String::new(), Vec::new());
    let mut seen_title = false;
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |end| &rest[end + 3..]);
            continue;
        }
        // The tag's name, compared without allocating: this runs once per tag of the page.
        let name_len = rest[1..].bytes().take_while(u8::is_ascii_alphanumeric).count();
        let name = &rest[1..1 + name_len];
        let is = |wanted: &str| name.eq_ignore_ascii_case(wanted);
        if !(is("meta") || is("link") || is("title") || is("script") || is("style")) {
            rest = &rest[1..];
            continue;
        }
        let tag_end = rest.find('>').map_or(rest.len(), |e| e + 1);
        if is("meta") || is("link") {
            tags.push_str(&rest[..tag_end]);
            rest = &rest[tag_end..];
        } else if is("title") && !seen_title {
            seen_title = true;
            let end = find_close(rest, "title");
            tags.push_str(&rest[..end]);
            tags.push_str("</title>");
            rest = &rest[end..];
        } else {
            let end = find_close(rest, name).max(tag_end);
            if is("script") && rest[..tag_end].to_ascii_lowercase().contains("ld+json") {
                json_ld.push(&rest[tag_end..end]);
            }
            rest = &rest[end..];
        }
    }
    (tags, json_ld)
}

/// Where the closing tag `</name` first occurs in `html` (its length if nowhere), ignoring ASCII
/// case; by `str::find`, which stays fast over the long scripts of news pages.
fn find_close(html: &str, name: &str) -> usize {
    let mut from = 0;
    while let Some(at) = html[from..].find("</") {
        let at = from + at;
        let after = &html.as_bytes()[at + 2..];
        if after.len() >= name.len() && after[..name.len()].eq_ignore_ascii_case(name.as_bytes()) {
            return at;
        }
        from = at + 2;
    }
    html.len()
}

/// The `publisher.name` values of JSON-LD blocks; a block that is not valid JSON is skipped.
fn json_ld_publishers(blocks: &[&str]) -> Vec<String> {
    let mut names = Vec::new();
    for block in blocks {
        if let Ok(value) = serde_json::from_str::<Value>(block.trim()) {
            collect_publishers(&value, &mut names, 0);
        }
    }
    names
}

fn collect_publishers(value: &Value, names: &mut Vec<String>, depth: usize) {
    // JSON-LD graphs are shallow; the bound keeps a hostile document from recursing deeply.
    if depth > 16 {
        return;
    }
    match value {
        Value::Object(map) => {
            match map.get("publisher") {
                Some(Value::Object(p)) => push_name(p.get("name"), names),
                Some(Value::Array(list)) => list.iter().for_each(|p| push_name(p.get("name"), names)),
                _ => {}
            }
            map.values().for_each(|v| collect_publishers(v, names, depth + 1));
        }
        Value::Array(list) => list.iter().for_each(|v| collect_publishers(v, names, depth + 1)),
        _ => {}
    }
}

fn push_name(name: Option<&Value>, names: &mut Vec<String>) {
    if let Some(name) = name.and_then(Value::as_str).map(one_line).filter(|n| !n.is_empty()) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_file_names_are_not_outlets() {
        assert_eq!(outlet_name("https://www.hawaiinewsnow.com", "a.html"), None);
        assert_eq!(outlet_name("https://www.facebook.com/CBSNews", "a.html"), None);
        assert_eq!(outlet_name("www.example.com", "a.html"), None);
        assert_eq!(outlet_name("example.com/news", "a.html"), None);
        assert_eq!(outlet_name("851498a2.html", "x.txt"), None);
        assert_eq!(outlet_name("page", "page"), None);
        assert_eq!(outlet_name("  ", "a.html"), None);
        assert_eq!(outlet_name("@politifact", "a.html").as_deref(), Some("politifact"));
        assert_eq!(outlet_name("SpaceNews.com", "a.html").as_deref(), Some("SpaceNews.com"));
        assert_eq!(
            outlet_name("Remember 80/90 - Memorabilia", "a.html").as_deref(),
            Some("Remember 80/90 - Memorabilia")
        );
    }

    #[test]
    fn a_tail_or_head_is_cut_only_when_it_is_the_sites_name() {
        let cut = |t: &str, names: &[&str]| strip_site_name(t, names);
        assert_eq!(
            cut("NASA adds five companies - SpaceNews.com", &["SpaceNews.com"]),
            "NASA adds five companies"
        );
        assert_eq!(cut("WeWork probed – TechCrunch", &["https://techcrunch.com/2019/x"]), "WeWork probed");
        assert_eq!(cut("A Man's Lung | Live Science", &["livescience.com"]), "A Man's Lung");
        assert_eq!(cut("Bike review | MoreBikes", &["https://www.morebikes.co.uk/7908/"]), "Bike review");
        assert_eq!(cut("Listing : CityAM", &["CityAM"]), "Listing");
        let linknaija = "LinkNaija | Nigeria's popular news platform";
        let names = [linknaija, "https://www.linknaija.com/x"];
        assert_eq!(cut(&format!("{linknaija}: Actress stuns"), &names), "Actress stuns");
        assert_eq!(cut("CNN | Storm hits", &["CNN"]), "Storm hits");
        assert_eq!(cut("Storm hits CNN: ratings fall", &["CNN"]), "Storm hits CNN: ratings fall");
        assert_eq!(
            cut(
                "Black Friday - Remember 80/90 - Memorabilia anni 80/90",
                &["Remember 80/90 - Memorabilia anni 80/90"]
            ),
            "Black Friday"
        );
        assert_eq!(cut("商品の改造 - 特許業務法人ライトハウス", &["特許業務法人ライトハウス"]), "商品の改造");
        // Not the site's name: kept.
        let kept = "Take C.A.R.E. - comwrap auf der DMEXCO 2018";
        assert_eq!(cut(kept, &["https://blog.comwrap.com/x"]), kept);
        assert_eq!(
            cut("Lexus goes topless - Auto News", &["AutoIndustriya.com"]),
            "Lexus goes topless - Auto News"
        );
        assert_eq!(cut("Storm hits - Reuters", &[]), "Storm hits - Reuters");
        assert_eq!(cut("SpaceNews.com", &["SpaceNews.com"]), "SpaceNews.com", "nothing would be left");
        assert_eq!(cut("Opinion | Trump to Nowhere", &["nytimes.com"]), "Opinion | Trump to Nowhere");
    }

    #[test]
    fn naming_tags_are_found_outside_the_head_but_not_in_comments_or_scripts() {
        let html = r#"<html><head><script>var s = '<meta property="og:site_name" content="Script">';</script>
            <!-- <meta property="og:site_name" content="Comment"> --></head><body>
            <title><img src=x onerror=alert(1)></title>
            <meta property="og:site_name" content="Autoracing | F1 | NASCAR"><svg><title>Icon</title></svg>"#;
        let p = PageMeta::read(html);
        assert_eq!(p.site_name.as_deref(), Some("Autoracing | F1 | NASCAR"));
        assert_eq!(p.title.as_deref(), Some("<img src=x onerror=alert(1)>"));
    }

    #[test]
    fn the_outlet_cascade_prefers_the_pages_own_name() {
        let page = |head: &str, body: &str| {
            PageMeta::read(&format!("<html><head>{head}</head><body>{body}</body></html>"))
        };
        let ld = r#"<script type="application/ld+json">{"@type": "NewsArticle",
            "publisher": {"@type": "Organization", "name": "CBS News"}}</script>"#;
        let og_url = r#"<meta property="og:url" content="https://www.cbsnews.com/news/x/">"#;
        let site = r#"<meta property="og:site_name" content="https://www.hawaiinewsnow.com">"#;
        let p = page(&format!("{site}{og_url}"), ld);
        assert_eq!(p.publishers, ["CBS News"]);
        assert_eq!(p.outlet("Text.", None).as_deref(), Some("CBS News"), "a URL site name is skipped");
        let lower = r#"<meta property="og:site_name" content="livescience.com">"#;
        let live = r#"<script type="application/ld+json">{"publisher": {"name": "Live Science"}}</script>"#;
        assert_eq!(page(lower, live).outlet("x", None).as_deref(), Some("Live Science"));
        let other = r#"<script type="application/ld+json">{"publisher": {"name": "Future plc"}}</script>"#;
        assert_eq!(page(lower, other).outlet("x", None).as_deref(), Some("livescience.com"));
        let p = page(og_url, "");
        assert_eq!(p.outlet("SEOUL, South Korea (AP) — Russia said", None).as_deref(), Some("AP"));
        assert_eq!(p.outlet("Russia said", None).as_deref(), Some("cbsnews.com"));
        let p = page(
            r#"<link rel="canonical" href="http://www.theparadigmng.com/a"><title> A  title </title>"#,
            "",
        );
        assert_eq!(p.outlet("x", None).as_deref(), Some("theparadigmng.com"));
        assert_eq!(p.title.as_deref(), Some("A title"));
        assert_eq!(page("", "").outlet("x", Some("https://www.x.example/y")).as_deref(), Some("x.example"));
        assert_eq!(page("", "").outlet("x", None), None);
    }

    /// A site name that is only the subdomain of the page's host names a platform: the wire
    /// credit, else the host, says more.
    #[test]
    fn a_subdomain_as_site_name_gives_way() {
        let head = r#"<meta property="og:site_name" content="Hosted">
            <meta property="og:url" content="https://hosted.ap.org/eagle/article/1/x">"#;
        let p = PageMeta::read(&format!("<html><head>{head}</head><body></body></html>"));
        assert_eq!(p.outlet("WASHINGTON (AP) — The envoy said", None).as_deref(), Some("AP"));
        assert_eq!(p.outlet("The envoy said", None).as_deref(), Some("hosted.ap.org"));
        let sky = r#"<meta property="og:site_name" content="Sky News">
            <meta property="og:url" content="https://news.sky.com/story/x">"#;
        let p = PageMeta::read(&format!("<html><head>{sky}</head><body></body></html>"));
        assert_eq!(p.outlet("x", None).as_deref(), Some("Sky News"));
    }
}
