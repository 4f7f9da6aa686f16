//! Search latency over a store of many articles: fills a fresh store through its write path
//! (`Store::commit_item`, whose triggers index each article), then times queries through the
//! function `/search` answers with (`briefd::serve::search_page`: the FTS5 query, the grouping by
//! story and the page), and a few through HTTP against the real server. Run by `bench/search`.
//!
//! The corpus is real text: the ECB+ same-story documents, the FRANK news articles (CNN/Daily
//! Mail and BBC) and the extraction benchmark's article bodies, 876 in all. To reach the asked
//! size they are repeated with variation, as `examples/dedupe_bench.rs` of the eval crate does
//! (each repeat drops one sentence, swaps two and adds one with its own numbers), and each
//! repeat joins its original's story, as the dedupe stage would put a repost. A real store of
//! that size has a larger vocabulary, so its rare words' posting lists are shorter than here.
//!
//! Queries are 1 to 3 words of 4 letters or more drawn from the text of a random stored article
//! (a fixed seed), so most of them find something, as a reader's search for a story they saw would.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Instant;

use stage_api::{Article, StoryMatch};

/// One base article: its title (when the set gives one), outlet and text.
struct Base {
    title: Option<String>,
    outlet: String,
    text: String,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [eval_dir, rest @ ..] = &args[..] else {
        anyhow::bail!("usage: search_bench EVAL_DIR [ARTICLES] [QUERIES] [HTTP_QUERIES]");
    };
    let number = |i: usize, default: usize| -> anyhow::Result<usize> {
        Ok(match rest.get(i) {
            Some(s) => s.parse()?,
            None => default,
        })
    };
    let (n_articles, n_queries, n_http) = (number(0, 10_000)?, number(1, 200)?, number(2, 20)?);
    let base = base_articles(Path::new(eval_dir))?;
    anyhow::ensure!(!base.is_empty(), "no articles found under {eval_dir}");

    let dir = tempfile::tempdir()?;
    let database = dir.path().join("state/briefd.db");
    let started = Instant::now();
    let mut texts = Vec::with_capacity(n_articles);
    {
        let store = store::Store::open(&database)?;
        let mut story_of = vec![0i64; base.len()];
        for i in 0..n_articles {
            let (round, index) = (i / base.len(), i % base.len());
            let b = &base[index];
            let name = format!("a{i:05}.txt");
            let file = store.accept_file(name.as_bytes(), name.as_bytes(), &name, 1)?;
            let text = variant(&b.text, round, index);
            let article = Article {
                file_name: name.clone(),
                title: b.title.clone(),
                outlet: Some(b.outlet.clone()),
                summary: Some(lead(&text)),
                summary_method: Some("extractive".into()),
                text: text.clone(),
                received_at: "2026-01-01T00:00:00Z".into(),
                story: (round > 0).then(|| StoryMatch {
                    story_id: story_of[index],
                    reason: "bench".into(),
                    score: 1.0,
                }),
                ..Default::default()
            };
            let day = format!("2026-01-{:02}", 1 + i % 28);
            let story = store.commit_item(file.id, &article, &day)?;
            if round == 0 {
                story_of[index] = story;
            }
            texts.push(text);
        }
    }
    let fill_seconds = started.elapsed().as_secs_f64();
    let db_bytes: u64 = std::fs::read_dir(database.parent().expect("a folder"))?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();

    let queries = queries(&texts, n_queries);
    // Read-only, as `briefd serve` opens it.
    let store = store::Store::open_read_only(&database)?.expect("just written");
    let mut page_ms = Vec::new();
    let mut search_ms = Vec::new();
    let mut found = 0usize;
    for q in &queries {
        let t = Instant::now();
        let hits = store.search(&store::Query::parse(q), store::search::MAX_RESULTS)?;
        search_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        found += usize::from(!hits.is_empty());
        let t = Instant::now();
        let page = briefd::serve::search_page(&store, q)?;
        page_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(page);
    }

    let http_ms = http(dir.path(), &queries[..n_http.min(queries.len())])?;

    println!(
        "articles {n_articles} ({} distinct texts), stories {}, store {:.1} MiB, filled in {fill_seconds:.1} s",
        base.len(),
        base.len().min(n_articles),
        db_bytes as f64 / (1024.0 * 1024.0)
    );
    println!("queries {} (1-3 words), {found} found at least one story", queries.len());
    println!("{:<34} {:>8} {:>8} {:>8}", "", "p50 ms", "p95 ms", "max ms");
    for (label, times) in [
        ("store.search (FTS5 + grouping)", &mut search_ms),
        ("search_page (what /search runs)", &mut page_ms),
        ("GET /search over HTTP", &mut http_ms.clone()),
    ] {
        let (p50, p95, max) = percentiles(times);
        println!("{label:<34} {p50:>8.2} {p95:>8.2} {max:>8.2}");
    }
    Ok(())
}

/// Times GET /search for each query against a real server over the store in `root`.
fn http(root: &Path, queries: &[String]) -> anyhow::Result<Vec<f64>> {
    let config_path = root.join("config.yaml");
    std::fs::write(
        &config_path,
        "inbox: { path: inbox }\ndatabase: state/briefd.db\nstages:\n  - kind: clean\n",
    )?;
    let config = config::Config::load(&config_path)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let server = runtime.block_on(briefd::serve::bind(config, "127.0.0.1:0".parse()?, false))?;
    let address = server.address();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = runtime.spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let mut times = Vec::new();
    for q in queries {
        let path = format!("/search?q={}", q.replace(' ', "+"));
        let t = Instant::now();
        let mut stream = std::net::TcpStream::connect(address)?;
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            response.starts_with("HTTP/1.1 200"),
            "{path}: {}",
            response.lines().next().unwrap_or("")
        );
    }
    let _ = stop.send(());
    runtime.block_on(task)??;
    Ok(times)
}

fn percentiles(times: &mut [f64]) -> (f64, f64, f64) {
    if times.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    times.sort_by(f64::total_cmp);
    let at = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)];
    (at(50), at(95), times[times.len() - 1])
}

/// `n` queries of 1 to 3 words (4 letters or more) from random stored texts.
fn queries(texts: &[String], n: usize) -> Vec<String> {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let text = &texts[rng.below(texts.len())];
        let words: Vec<&str> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 4 && w.chars().all(char::is_alphabetic))
            .collect();
        if words.is_empty() {
            continue;
        }
        let k = 1 + rng.below(3);
        let picked: Vec<String> = (0..k).map(|_| words[rng.below(words.len())].to_lowercase()).collect();
        out.push(picked.join(" "));
    }
    out
}

/// A small fixed-seed generator: the same queries on every run, with no dependency.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The first two sentences, standing in for the extractive summary.
fn lead(text: &str) -> String {
    text.split_inclusive(". ").take(2).collect::<String>().trim().to_string()
}

fn base_articles(dir: &Path) -> anyhow::Result<Vec<Base>> {
    let mut out = Vec::new();
    let mut names: Vec<_> =
        std::fs::read_dir(dir.join("same-story/text"))?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    names.sort();
    for path in names {
        let text = std::fs::read_to_string(&path)?;
        let mut lines = text.lines();
        let first = lines.next().unwrap_or_default();
        // The ECB+ files open with the page's URL (spaced out by the corpus's tokeniser), then its title.
        let (outlet, title) = if first.starts_with("http") {
            let host = first.replace(' ', "");
            let host = host.split('/').nth(2).unwrap_or("ECB+").trim_start_matches("www.").to_string();
            (host, lines.next().map(str::to_string))
        } else {
            ("ECB+".to_string(), None)
        };
        out.push(Base { title, outlet, text: lines.collect::<Vec<_>>().join("\n") });
    }
    for line in std::fs::read_to_string(dir.join("summaries/articles.jsonl"))?.lines() {
        let value: serde_json::Value = serde_json::from_str(line)?;
        let outlet = if value["dataset"] == "xsum" { "BBC" } else { "CNN/Daily Mail" };
        if let Some(article) = value["article"].as_str() {
            out.push(Base { title: None, outlet: outlet.into(), text: article.to_string() });
        }
    }
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("extraction/ground-truth.json"))?)?;
    let mut pages: Vec<(&String, &serde_json::Value)> = truth.as_object().into_iter().flatten().collect();
    pages.sort_by(|a, b| a.0.cmp(b.0));
    for (_, page) in pages {
        let (Some(body), Some(url)) = (page["articleBody"].as_str(), page["url"].as_str()) else { continue };
        let host = url.split('/').nth(2).unwrap_or("web").trim_start_matches("www.").to_string();
        out.push(Base { title: None, outlet: host, text: body.to_string() });
    }
    Ok(out)
}

/// Round 0 is the text itself; later rounds drop a sentence, swap two and add one of their own.
fn variant(text: &str, round: usize, index: usize) -> String {
    if round == 0 {
        return text.to_string();
    }
    let mut sentences: Vec<&str> = text.split_inclusive(['.', '\n']).collect();
    if sentences.len() > 3 {
        sentences.remove((round * 7 + index) % sentences.len());
        let a = (round * 3 + index) % sentences.len();
        let b = (a + 1) % sentences.len();
        sentences.swap(a, b);
    }
    let mut out = sentences.concat();
    out.push_str(&format!(
        "\nUpdate {round}: figures revised to {} and {} at {}:{:02}.",
        round * 37 + index,
        index * 11 + 3,
        round % 24,
        index % 60
    ));
    out
}
