//! `briefd serve`: the briefing over HTTP, read-only over the store, beside a running daemon (WAL
//! readers never block it). Today's page, any day's page, the Atom feed, `/healthz` and
//! `/metrics` (Prometheus text exposition, from the store), each story's page (`/story/{id}`:
//! its cited sentences marked in their sources, and why its sources are one), and
//! `/search?q=...` (full-text search over every stored story, `store::search`).
//!
//! Every page is rendered from the store by `briefing::html` (escaped by its templates) and sent
//! with a strict Content-Security-Policy: nothing may load or run but the page's own style sheet
//! (allowed by its hash). A day is named only as `YYYY-MM-DD`, so no path reaches the file
//! system. The only form, the search box, sends a GET back here (`form-action 'self'`). Loopback
//! only unless `--public` (or `serve: { public: true }`) is given, and then the log says so.
//!
//! `briefd serve` runs [`serve`]; `briefd run` with `serve:` in its config [`bind`]s the same
//! [`Server`] and runs it beside the daemon.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use config::Config;
use sha2::Digest as _;
use store::Store;
use tracing::{info, warn};

/// What the handlers share.
struct Shared {
    config: Config,
    store: Store,
    csp: HeaderValue,
}

/// A bound listener and its routes, ready to serve ([`bind`], then [`Server::run`]).
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Router,
    address: SocketAddr,
}

/// Serves until `shutdown` completes. `public` allows a non-loopback address.
pub async fn serve(
    config: Config,
    listen: SocketAddr,
    public: bool,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    bind(config, listen, public).await?.run(shutdown).await
}

/// Opens the store read-only and binds `listen`. `public` allows a non-loopback address.
pub async fn bind(config: Config, listen: SocketAddr, public: bool) -> anyhow::Result<Server> {
    anyhow::ensure!(
        listen.ip().is_loopback() || public,
        "{listen} is reachable from other machines; pass --public to serve there on purpose"
    );
    let location = crate::location(&config.paths.database);
    let store = Store::open_read_only_at(&location)?
        .with_context(|| format!("no state yet at {}: start `briefd run` first", location.display()))?;
    let style_hash =
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(briefing::html::STYLE));
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{style_hash}'; img-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    let shared = Arc::new(Shared { config, store, csp: HeaderValue::from_str(&csp)? });
    let app = Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/{page}", get(day_or_feed))
        .route("/story/{id}", get(story))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/search", get(search))
        .with_state(shared);
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    let address = listener.local_addr()?;
    Ok(Server { listener, app, address })
}

impl Server {
    /// The address bound (the port chosen when `:0` was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until `shutdown` completes, then lets the requests in hand finish.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        if !self.address.ip().is_loopback() {
            warn!(address = %self.address, "serving to other machines (--public)");
        }
        info!(address = %format!("http://{}/", self.address), "serving the briefing");
        axum::serve(self.listener, self.app).with_graceful_shutdown(shutdown).await.context("serving")?;
        Ok(())
    }
}

fn page(shared: &Shared, status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, shared.csp.clone());
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn not_found(shared: &Shared) -> Response {
    page(shared, StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "not found\n".into())
}

fn failed(shared: &Shared, e: &anyhow::Error) -> Response {
    warn!(error = format!("{e:#}"), "a page could not be rendered");
    page(
        shared,
        StatusCode::INTERNAL_SERVER_ERROR,
        "text/plain; charset=utf-8",
        "the store could not be read\n".into(),
    )
}

/// Store reads block, so they run off the async threads.
async fn blocking<T: Send + 'static>(
    shared: &Arc<Shared>,
    work: impl FnOnce(&Shared) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || work(&shared)).await.context("a reader thread ended")?
}

async fn index(State(shared): State<Arc<Shared>>) -> Response {
    let rendered = blocking(&shared, |s| {
        let days = s.store.days(LINKED_DAYS)?;
        let day = days.first().cloned().unwrap_or_else(|| crate::today(&s.config.briefing.timezone));
        render_day(s, &day, &days)
    })
    .await;
    match rendered {
        Ok(html) => page(&shared, StatusCode::OK, "text/html; charset=utf-8", html),
        Err(e) => failed(&shared, &e),
    }
}

async fn day_or_feed(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    if name == "feed.atom" {
        return match blocking(&shared, feed).await {
            Ok(xml) => page(&shared, StatusCode::OK, "application/atom+xml; charset=utf-8", xml),
            Err(e) => failed(&shared, &e),
        };
    }
    let Some(day) = name.strip_suffix(".html").filter(|d| is_date(d)).map(str::to_string) else {
        return not_found(&shared);
    };
    let rendered = blocking(&shared, move |s| {
        let days = s.store.days(LINKED_DAYS)?;
        days.contains(&day).then(|| render_day(s, &day, &days)).transpose()
    })
    .await;
    match rendered {
        Ok(Some(html)) => page(&shared, StatusCode::OK, "text/html; charset=utf-8", html),
        Ok(None) => not_found(&shared),
        Err(e) => failed(&shared, &e),
    }
}

/// Days the pages link to.
const LINKED_DAYS: usize = 60;

fn render_day(s: &Shared, day: &str, days: &[String]) -> anyhow::Result<String> {
    let stories = briefing::stories(&s.store.stories_for_day(day)?);
    Ok(briefing::html::served_day(day, &s.config.briefing.timezone, &stories, days))
}

/// `/story/{id}`: one story's page. The id is a positive decimal number and nothing else (no
/// sign, no leading zero), so a path names a story or nothing. A story merged into another shows
/// the story it is part of now.
async fn story(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let Some(id) = story_id(&id) else {
        return not_found(&shared);
    };
    let rendered = blocking(&shared, move |s| {
        let Some(view) = s.store.story(id)? else { return Ok(None) };
        let merges = s.store.story_merges(view.id)?;
        let days = s.store.story_days(view.id)?;
        Ok(briefing::html::story_page(&view, &merges, &days, &s.config.briefing.timezone))
    })
    .await;
    match rendered {
        Ok(Some(html)) => page(&shared, StatusCode::OK, "text/html; charset=utf-8", html),
        Ok(None) => not_found(&shared),
        Err(e) => failed(&shared, &e),
    }
}

fn story_id(s: &str) -> Option<i64> {
    let digits =
        !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0');
    digits.then(|| s.parse().ok()).flatten()
}

fn feed(s: &Shared) -> anyhow::Result<String> {
    let days = s.store.days(crate::publish::FEED_DAYS)?;
    let mut by_day = Vec::new();
    for d in &days {
        by_day.push((d.clone(), briefing::stories(&s.store.stories_for_day(d)?)));
    }
    let feed_days: Vec<briefing::atom::Day<'_>> =
        by_day.iter().map(|(date, stories)| briefing::atom::Day { date, stories }).collect();
    Ok(briefing::atom::feed(&feed_days, &s.config.briefing.timezone))
}

async fn search(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let q = raw
        .and_then(|raw| {
            url::form_urlencoded::parse(raw.as_bytes()).find(|(k, _)| k == "q").map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    match blocking(&shared, move |s| search_page(&s.store, &q)).await {
        Ok(html) => page(&shared, StatusCode::OK, "text/html; charset=utf-8", html),
        Err(e) => failed(&shared, &e),
    }
}

/// The search page for the query typed as `raw`: what `/search?q=` answers (and what
/// `examples/search_bench.rs` times).
pub fn search_page(store: &Store, raw: &str) -> anyhow::Result<String> {
    let query = store::Query::parse(raw);
    let hits = store.search(&query, store::search::MAX_RESULTS)?;
    Ok(briefing::search::page(raw, &query, &hits))
}

/// `YYYY-MM-DD` and nothing else.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    match blocking(&shared, |s| Ok(s.store.status(0)?)).await {
        Ok(_) => page(&shared, StatusCode::OK, "text/plain; charset=utf-8", "ok\n".into()),
        Err(e) => failed(&shared, &e),
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    match blocking(&shared, exposition).await {
        Ok(text) => page(&shared, StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", text),
        Err(e) => failed(&shared, &e),
    }
}

/// Model runs the speed gauge averages over.
const SPEED_RUNS: usize = 50;

/// Upper bounds (milliseconds) of the stage latency histogram's buckets.
const BUCKETS_MS: [f64; 12] = [1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 10000.0];

/// The Prometheus text exposition of what the store knows.
fn exposition(s: &Shared) -> anyhow::Result<String> {
    let report = s.store.status(0)?;
    let mut out = String::new();
    let _ = writeln!(out, "# HELP briefd_files Files by state.\n# TYPE briefd_files gauge");
    for count in &report.files {
        let _ = writeln!(out, "briefd_files{{state=\"{}\"}} {}", count.state.as_str(), count.n_files);
    }
    let _ = writeln!(out, "# HELP briefd_articles Articles in the store.\n# TYPE briefd_articles gauge");
    let _ = writeln!(out, "briefd_articles {}", report.articles);
    let _ = writeln!(out, "# HELP briefd_stories Stories in the store.\n# TYPE briefd_stories gauge");
    let _ = writeln!(out, "briefd_stories {}", report.stories);
    let _ = writeln!(
        out,
        "# HELP briefd_summary_queue Stories awaiting a model summary.\n# TYPE briefd_summary_queue gauge"
    );
    let _ = writeln!(out, "briefd_summary_queue {}", report.queued_summaries);
    let _ = writeln!(
        out,
        "# HELP briefd_stage_seconds Time each stage took per article.\n# TYPE briefd_stage_seconds histogram"
    );
    let mut by_stage: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for (stage, millis) in s.store.stage_timings()? {
        by_stage.entry(stage).or_default().push(millis);
    }
    for (stage, times) in &by_stage {
        // Stage names come from the config (a plugin may name itself): quotes and backslashes escaped.
        let label = stage.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        for bound in BUCKETS_MS {
            let n = times.iter().filter(|t| **t <= bound).count();
            let _ = writeln!(
                out,
                "briefd_stage_seconds_bucket{{stage=\"{label}\",le=\"{}\"}} {n}",
                bound / 1000.0
            );
        }
        let _ = writeln!(out, "briefd_stage_seconds_bucket{{stage=\"{label}\",le=\"+Inf\"}} {}", times.len());
        let _ = writeln!(
            out,
            "briefd_stage_seconds_sum{{stage=\"{label}\"}} {}",
            times.iter().sum::<f64>() / 1000.0
        );
        let _ = writeln!(out, "briefd_stage_seconds_count{{stage=\"{label}\"}} {}", times.len());
    }
    let speed = s.store.model_speed(SPEED_RUNS)?;
    let rate = |tokens: u64, seconds: f64| if seconds > 0.0 { tokens as f64 / seconds } else { 0.0 };
    let _ = writeln!(
        out,
        "# HELP briefd_model_tokens_per_second The model's speed over its last {SPEED_RUNS} runs (0: none yet).\n\
         # TYPE briefd_model_tokens_per_second gauge\n\
         briefd_model_tokens_per_second{{phase=\"prompt\"}} {}\n\
         briefd_model_tokens_per_second{{phase=\"generate\"}} {}",
        rate(speed.prompt_tokens, speed.prompt_seconds),
        rate(speed.generated_tokens, speed.generate_seconds),
    );
    let written = std::fs::metadata(s.config.paths.briefings.join("index.html")).and_then(|m| m.modified());
    if let Ok(Ok(since)) = written.map(|t| t.duration_since(std::time::UNIX_EPOCH)) {
        let _ = writeln!(
            out,
            "# HELP briefd_briefing_written_timestamp_seconds When the briefing was last written.\n\
             # TYPE briefd_briefing_written_timestamp_seconds gauge\n\
             briefd_briefing_written_timestamp_seconds {}",
            since.as_secs()
        );
    }
    Ok(out)
}
