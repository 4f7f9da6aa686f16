//! Issue 18 and 19 (metrics): `briefd serve` over the real binary, beside a store the seeds went
//! through: the day's page with its security headers, the feed, `/healthz`, `/metrics`, search,
//! and no way out of the routes; and `briefd run` serving the same with `serve:` in its config.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::{self, Env};

/// One GET, as raw HTTP/1.1: the status code, the headers (lower case) and the body.
fn get(address: &str, path: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_lowercase(), body.to_string())
}

/// Percent-encodes `s` for a query string.
fn encoded(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Issue 18: search over the stored stories, through the real binary.
#[test]
fn search_finds_the_seed_story_marks_the_words_and_keeps_queries_inert() {
    let env = Env::new();
    let (mut server, address) = serve_seeds(&env);

    let (status, headers, day) = get(&address, "/");
    assert_eq!(status, 200);
    assert!(headers.contains("form-action 'self'"), "{headers}");
    let doc = dom_query::Document::from(day.as_str());
    assert_eq!(doc.select("form[action=search][method=get] input[name=q]").length(), 1, "{day}");
    let story_id = doc.select("article").attr("id").map(|id| id.to_string()).unwrap_or_default();
    let story_id = story_id.trim_start_matches("story-").to_string();
    assert!(!story_id.is_empty(), "{day}");

    let (status, headers, page) = get(&address, "/search?q=Lavrov");
    assert_eq!(status, 200, "{page}");
    assert!(headers.contains("content-security-policy: default-src 'none'"), "{headers}");
    let doc = dom_query::Document::from(page.as_str());
    let results = doc.select("ol.results > li");
    assert_eq!(results.length(), 1, "the two seeds are one story, shown once:\n{page}");
    assert_eq!(
        results.select("h2 a").attr("href").map(|h| h.to_string()),
        Some(format!("story/{story_id}")),
        "{page}"
    );
    let marked: Vec<String> = doc.select("mark").iter().map(|m| m.text().to_lowercase()).collect();
    assert!(!marked.is_empty() && marked.iter().all(|m| m == "lavrov"), "{marked:?}");
    assert!(results.select(".meta").text().contains(&support::today_utc()), "{page}");
    assert_eq!(
        dom_query::Document::from(get(&address, "/search?q=Wonsan+Lavrov").2.as_str())
            .select("ol.results > li")
            .length(),
        1
    );
    assert_eq!(
        dom_query::Document::from(get(&address, "/search?q=Wonsan+zebra").2.as_str())
            .select("ol.results > li")
            .length(),
        0
    );

    for hostile in [
        "<script>alert(1)</script>",
        "\" onmouseover=\"alert(1)",
        "\"a\" OR NEAR(",
        "Lavrov\" OR \"x",
        "*",
        "",
    ] {
        let (status, _, page) = get(&address, &format!("/search?q={}", encoded(hostile)));
        assert_eq!(status, 200, "{hostile}: {page}");
        let doc = dom_query::Document::from(page.as_str());
        assert_eq!(doc.select("script").length(), 0, "{page}");
        assert_eq!(doc.select("[onmouseover]").length(), 0, "{page}");
        assert_eq!(
            doc.select("input[name=q]").attr("value").map(|v| v.to_string()).as_deref(),
            Some(hostile)
        );
    }
    // Only the words of an operator query are looked for.
    let (_, _, page) = get(&address, &format!("/search?q={}", encoded("Lavrov\" OR \"x")));
    assert_eq!(
        dom_query::Document::from(page.as_str()).select("ol.results > li").length(),
        0,
        "x is required too"
    );

    let oversized = "lavrov ".repeat(2000);
    let (status, _, page) = get(&address, &format!("/search?q={}", encoded(&oversized)));
    assert_eq!(status, 200);
    let doc = dom_query::Document::from(page.as_str());
    assert!(doc.select("p.note").text().contains("Only the first"), "{page}");
    let shown = doc.select("input[name=q]").attr("value").map(|v| v.to_string()).unwrap_or_default();
    assert!(!shown.is_empty() && shown.len() <= 200, "{} bytes shown", shown.len());
    assert_eq!(doc.select("ol.results > li").length(), 1, "the cut query still searches");
    let _ = server.kill();
    let _ = server.wait();
}

/// Issue 18: `serve:` in the config makes `briefd run` serve too, and SIGTERM stops both.
#[test]
fn run_with_serve_answers_while_running_and_stops_on_sigterm() {
    let env = Env::new();
    let config = env.root().join("config.yaml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("serve:\n  listen: 127.0.0.1:0\n");
    std::fs::write(&config, text).unwrap();
    let mut daemon = env.start_with(|cmd| {
        cmd.env("BRIEFD_LOG", "info");
    });
    let mut address = String::new();
    env.wait_until("the server's address in the log", Duration::from_secs(30), || {
        address = env.log().lines().find_map(support::served_address).unwrap_or_default();
        !address.is_empty()
    });
    assert_eq!(get(&address, "/healthz").0, 200);
    assert_eq!(get(&address, "/healthz").2, "ok\n");
    // The running daemon's new article is searchable at once: the index is written with it.
    env.drop_file("harbour.txt", support::article_text(7).as_bytes());
    env.wait_until("the article searchable", Duration::from_secs(30), || {
        let (_, _, page) = get(&address, "/search?q=residents+attended");
        dom_query::Document::from(page.as_str()).select("ol.results > li").length() == 1
    });
    let status = daemon.stop_gracefully();
    assert!(status.success(), "{status:?}\n{}", env.log());
    assert!(TcpStream::connect(&address).is_err(), "the server stopped with the daemon");
}

#[test]
fn serve_shows_the_day_feed_health_and_metrics_and_nothing_else() {
    let env = Env::new();
    let (mut server, address) = serve_seeds(&env);

    let (status, headers, page) = get(&address, "/");
    assert_eq!(status, 200, "{headers}");
    assert!(headers.contains("content-security-policy: default-src 'none'; style-src 'sha256-"), "{headers}");
    assert!(headers.contains("x-content-type-options: nosniff"), "{headers}");
    let doc = dom_query::Document::from(page.as_str());
    assert_eq!(doc.select("article").length(), 1, "the seeds are one story:\n{page}");
    assert_eq!(doc.select("article h3").last().text().to_string(), "2 sources");
    assert_eq!(doc.select("script").length(), 0);
    let day = support::today_utc();
    assert_eq!(get(&address, &format!("/{day}.html")).0, 200);
    for path in [
        "/..%2F..%2Fetc%2Fpasswd",
        "/../config.yaml",
        "/2019-13-01x.html",
        "/state/briefd.db",
        "/1999-01-01.html",
    ] {
        assert_eq!(get(&address, path).0, 404, "{path}");
    }
    let (status, _, xml) = get(&address, "/feed.atom");
    assert_eq!(status, 200);
    assert_eq!(feed_rs::parser::parse(xml.as_bytes()).unwrap().entries.len(), 1);
    assert_eq!(get(&address, "/healthz"), (200, get(&address, "/healthz").1, "ok\n".to_string()));
    let (_, _, metrics) = get(&address, "/metrics");
    for line in [
        "briefd_files{state=\"done\"} 2",
        "briefd_stories ",
        "briefd_stage_seconds_count{stage=\"clean\"} 2",
        "briefd_model_tokens_per_second{phase=\"prompt\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn serve_refuses_an_address_other_machines_reach_unless_told() {
    let env = Env::new();
    env.briefd(&["ingest", support::shared_sample("000_9df954c550cd2be9.txt").to_str().unwrap()]);
    let out = env.briefd_fails(&["serve", "--listen", "0.0.0.0:0"]);
    assert!(out.contains("--public"), "{out}");
}

/// `briefd serve` over a store the seeds went through: the child and its address.
fn serve_seeds(env: &Env) -> (std::process::Child, String) {
    let seeds = env.root().join("seeds");
    std::fs::create_dir(&seeds).unwrap();
    for name in ["000_9df954c550cd2be9.txt", "004_74facf148fc9e229.txt"] {
        std::fs::copy(support::shared_sample(name), seeds.join(name)).unwrap();
    }
    env.briefd(&["ingest", seeds.to_str().unwrap()]);
    support::start_serve(env)
}

/// Issue 18: the day's headline leads to the story's page, which lists both seeds, marks the
/// cited sentences in their sources (each point linking to its marks) and says why the two are
/// one story; any other id is not found.
#[test]
fn serve_shows_the_seed_storys_page_with_its_cited_sentences_marked() {
    let env = Env::new();
    let (mut server, address) = serve_seeds(&env);
    let (_, _, day) = get(&address, "/");
    let doc = dom_query::Document::from(day.as_str());
    let href = doc.select("article h2 a").attr("href").map(|h| h.to_string()).expect("the headline links");
    let id: i64 = href.strip_prefix("story/").and_then(|id| id.parse().ok()).expect("story/{id}");
    let headline = doc.select("article h2").text().to_string();

    let (status, headers, page) = get(&address, &format!("/{href}"));
    assert_eq!(status, 200, "{headers}");
    assert!(headers.contains("content-security-policy: default-src 'none'; style-src 'sha256-"), "{headers}");
    let doc = dom_query::Document::from(page.as_str());
    assert_eq!(doc.select("h1").text().to_string(), headline);
    assert_eq!(doc.select("ul.sources > li").length(), 2, "two sources:\n{page}");
    assert_eq!(doc.select("script").length(), 0);
    let marks: Vec<String> = doc.select("section.text mark").iter().map(|m| m.text().to_string()).collect();
    assert!(!marks.is_empty() && marks.iter().all(|m| !m.trim().is_empty()), "{page}");
    assert_eq!(doc.select("section.text").length(), 2, "both seeds are cited:\n{page}");
    let links: Vec<String> =
        doc.select("ol.points a").iter().filter_map(|a| a.attr("href")).map(|h| h.to_string()).collect();
    assert!(!links.is_empty(), "{page}");
    for link in &links {
        let anchor = link.strip_prefix('#').unwrap_or_else(|| panic!("{link} is not in the page"));
        assert_eq!(doc.select(&format!("mark[id=\"{anchor}\"]")).length(), 1, "{link} in:\n{page}");
    }
    // Each point is one of its cited sentences (or a cut of one): found in a mark it links to.
    for point in doc.select("ol.points > li").iter() {
        let text = point.text().to_string();
        let own: Vec<String> = point
            .select("a")
            .iter()
            .filter_map(|a| a.attr("href"))
            .filter_map(|h| {
                Some(doc.select(&format!("mark[id=\"{}\"]", h.strip_prefix('#')?)).text().to_string())
            })
            .collect();
        let words: Vec<&str> = text.split_whitespace().take(4).collect();
        assert!(own.iter().any(|m| m.contains(&words.join(" "))), "{text:?} not in its marks {own:?}");
    }
    let reasons = doc.select("ul.reasons").text().to_string();
    assert!(reasons.contains("started the story") && reasons.contains("joined: dedupe"), "{reasons}");
    assert_eq!(get(&address, &format!("/story/{}", id + 1000)).0, 404);
    for path in [
        "/story/0",
        "/story/-1",
        "/story/+1",
        "/story/01",
        "/story/1.html",
        "/story/abc",
        "/story/%2e%2e",
        "/story/..%2F..%2Fetc%2Fpasswd",
        "/story/99999999999999999999",
        "/story/",
        "/story",
    ] {
        assert_eq!(get(&address, path).0, 404, "{path}");
    }
    let _ = server.kill();
    let _ = server.wait();
}
