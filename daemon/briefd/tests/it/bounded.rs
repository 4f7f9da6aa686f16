//! Issue 20, "Reliability II", through the real binary: bounded work per article (two large
//! near-identical sources, a stage past its time budget), injected instructions kept out of
//! every output field, and a feed repeating one item.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{self, Env};

fn hangup(daemon: &support::Daemon) {
    // SAFETY: kill(2) with a pid this test spawned and a plain signal number.
    let rc = unsafe { libc::kill(daemon.pid() as libc::pid_t, libc::SIGHUP) };
    assert_eq!(rc, 0, "kill -HUP");
}

/// The test config with `line` added at the top level.
fn config_with(env: &Env, line: &str) {
    let base = std::fs::read_to_string(support::test_data("config.yaml")).unwrap();
    let tmp = env.root().join("config.yaml.new");
    std::fs::write(&tmp, format!("{line}\n{base}")).unwrap();
    std::fs::rename(&tmp, env.root().join("config.yaml")).unwrap();
}

/// `text`'s paragraphs repeated until `size` bytes, each repeat numbered; `variant` shifts the
/// numbers, so two variants are near-identical, not identical.
fn grown(text: &str, size: usize, variant: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    while out.len() < size {
        for paragraph in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
            out.push_str(&format!("{} ({})\n\n", paragraph.trim(), n + variant));
        }
        n += 1;
    }
    out
}

/// Issue 20, finding 1: two near-identical sources of 900 kB each (the test config's file limit
/// is 1 MiB) go through every stage and are one story (the second a reprint); key points compared
/// every sentence of one with every sentence of the other before, which took about eight
/// minutes for such a pair and blocked the pipeline throughout.
#[test]
fn two_large_near_identical_articles_are_one_story_in_bounded_time() {
    let env = Env::new();
    let mut daemon = env.start();
    let seed = std::fs::read_to_string(support::shared_sample("000_9df954c550cd2be9.txt")).unwrap();
    env.drop_file("large-a.txt", grown(&seed, 900_000, 0).as_bytes());
    env.wait_until("the first large article archived", Duration::from_secs(180), || {
        env.archived().len() == 1
    });
    env.drop_file("large-b.txt", grown(&seed, 900_000, 1).as_bytes());
    // A near-copy: one story, the second listed as a reprint of the first.
    let briefing = env.wait_for_briefing(|md| md.contains("large-b.txt"), Duration::from_secs(180));
    assert_eq!(briefing.matches("\n## ").count(), 1, "{briefing}");
    assert!(briefing.contains("large-a.txt") && briefing.contains("**Key points**"), "{briefing}");
    assert!(support::files_in(&env.failed()).is_empty());
    daemon.stop_gracefully();
}

/// Issue 20, finding 2: a stage that runs past `stage_budget_seconds` fails the article with a
/// reason naming the stage and the budget, and the daemon goes on: after a reload with the
/// default budget the next file is archived.
#[test]
fn a_stage_past_its_budget_fails_the_article_and_the_daemon_goes_on() {
    let env = Env::new();
    // A microsecond: no stage reads a file in less.
    config_with(&env, "stage_budget_seconds: 0.000001");
    let mut daemon = env.start_with(|cmd| {
        cmd.env("BRIEFD_LOG", "info,trafilatura=warn");
    });
    let seed = std::fs::read(support::shared_sample("000_9df954c550cd2be9.txt")).unwrap();
    env.drop_file("slow.txt", &seed);
    env.wait_until("the file failed", Duration::from_secs(30), || {
        env.failed().join("slow.txt.error.txt").exists()
    });
    let reason = std::fs::read_to_string(env.failed().join("slow.txt.error.txt")).unwrap();
    assert!(reason.contains("stage clean took longer than 0.000001 s"), "{reason}");
    assert!(daemon.is_running());

    config_with(&env, "stage_budget_seconds: 60");
    hangup(&daemon);
    env.wait_until("the reload logged", Duration::from_secs(10), || env.log().contains("config reloaded"));
    env.drop_file("next.txt", &seed);
    env.wait_until("the next file archived", Duration::from_secs(30), || env.archived().len() == 1);
    daemon.stop_gracefully();
}

fn injection_file(name: &str) -> PathBuf {
    support::test_data(&format!("injection/{name}"))
}

/// Issue 20, finding 3: the injection corpus (instructions split from their payload across
/// paragraphs; German, Spanish and French phrasings; instructions as titles, in an HTML page's
/// title, heading, comment and image alt text, and in feed items; links, a phone number and an
/// e-mail address in a payload) leaves no instruction and no payload in any output field:
/// headlines, summaries, key points and source lines of the Markdown, JSON and HTML briefings.
/// The articles' own news is still there.
#[test]
fn no_injected_instruction_or_payload_reaches_the_briefing() {
    let env = Env::new();
    let files = ["corpus.json", "page.html", "feed.rss"];
    let paths: Vec<String> = files.iter().map(|f| injection_file(f).display().to_string()).collect();
    let mut args = vec!["ingest"];
    args.extend(paths.iter().map(String::as_str));
    let out = env.briefd(&args);
    assert!(out.contains("3 file(s): 3 done"), "{out}");
    let forbidden: Vec<String> = std::fs::read_to_string(injection_file("forbidden.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_lowercase)
        .collect();
    let day = support::today_utc();
    let briefings = env.briefings();
    for format in ["md", "json", "html"] {
        let shown = std::fs::read_to_string(briefings.join(format!("{day}.{format}"))).unwrap();
        let lower = shown.to_lowercase();
        for needle in &forbidden {
            assert!(!lower.contains(needle.as_str()), "{needle:?} in the {format} briefing:\n{shown}");
        }
    }
    let md = env.briefing_today();
    for news in [
        "harbour budget",
        "tram line",
        "Wasserleitungen",
        "muelle",
        "médiathèque",
        "lifeboat",
        "swing bridge",
    ] {
        assert!(md.contains(news), "{news:?} missing:\n{md}");
    }
    for news in ["market", "runway", "primary schools"] {
        assert!(md.contains(news), "{news:?} missing:\n{md}");
    }
    assert_eq!(support::sources_in(&md), 10, "{md}");
}

/// Issue 20, finding 4: a feed repeating one item 1,000 times gives one article, one source.
#[test]
fn a_feed_repeating_one_item_is_one_source() {
    let env = Env::new();
    let part = |name: &str| {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/clean/test_data/repeats").join(name);
        std::fs::read_to_string(path).unwrap()
    };
    let feed =
        format!("{}{}{}", part("feed_head.xml"), part("feed_item.xml").repeat(1000), part("feed_tail.xml"));
    let mut daemon = env.start();
    env.drop_file("echo.rss", feed.as_bytes());
    env.wait_until("the feed archived", Duration::from_secs(60), || env.archived().len() == 1);
    let briefing = env.wait_for_briefing(|md| md.contains("Skerry Point"), Duration::from_secs(20));
    daemon.stop_gracefully();
    assert_eq!(support::sources_in(&briefing), 1, "{briefing}");
    assert!(briefing.contains("**1 source**"), "{briefing}");
    let status = env.briefd(&["status"]);
    assert!(status.contains("articles: 1"), "{status}");
}

/// Issue 20: articles dated 1970 and 2099 ended in one story although `time_window_days: 7`
/// says more than 7 days apart are never one story. The same text under both dates (an exact
/// copy, which joined by its fingerprint whatever its date) and a third copy with no date: the
/// dated two stay apart.
#[test]
fn articles_decades_apart_are_never_one_story() {
    let env = Env::new();
    let mut daemon = env.start();
    let text = support::article_text(320);
    for (name, outlet, published) in
        [("old.json", "Old Gazette", "1970-01-02"), ("new.json", "New Wire", "2099-01-02")]
    {
        let item = serde_json::json!({"title": "Harbour wall repaired", "text": text, "source": outlet, "published": published});
        env.drop_file(name, item.to_string().as_bytes());
        env.wait_for_briefing(|md| md.contains(outlet), Duration::from_secs(30));
    }
    env.drop_file("undated.txt", text.as_bytes());
    let md = env.wait_for_briefing(|md| md.contains("undated.txt"), Duration::from_secs(30));
    assert!(daemon.stop_gracefully().success());
    let stories: Vec<&str> = md.split("\n## ").skip(1).collect();
    let holding = |outlet: &str| stories.iter().position(|s| s.contains(outlet));
    assert!(holding("Old Gazette").is_some() && holding("New Wire").is_some(), "{md}");
    assert_ne!(holding("Old Gazette"), holding("New Wire"), "1970 and 2099 in one story:\n{md}");
}
