//! End-to-end tests: the real `briefd` binary on a temporary inbox.

mod bounded;
mod browser;
mod cluster;
mod editor;
mod faults;
mod harden;
mod keypoints;
mod merge;
/// The plugin builder of the plugin-host tests, shared so both build the same way.
#[allow(dead_code)]
#[path = "../../../plugin-host/tests/it/support.rs"]
mod plugin_build;
mod plugins;
mod postgres;
mod reader;
mod reload;
mod reprint;
mod serve;
mod service;
mod support;

use std::path::Path;
use std::time::Duration;

use support::{files_in, Env};

/// Issue 3, bar 2, and issue 8, bar 1: the two seed articles (one event, two outlets, other
/// words) dropped into a running daemon appear in today's briefing as ONE story with TWO
/// sources, cleanly titled, and both files are archived.
#[test]
fn seeds_dropped_into_a_running_daemon_reach_the_briefing_as_one_story() {
    let env = Env::new();
    let mut daemon = env.start();
    for seed in ["000_9df954c550cd2be9.txt", "004_74facf148fc9e229.txt"] {
        std::fs::copy(support::shared_sample(seed), env.inbox().join(seed)).unwrap();
    }
    let briefing = env.wait_for_briefing(|md| md.contains("**2 sources**"), Duration::from_secs(20));
    assert_eq!(briefing.matches("\n## ").count(), 1, "{briefing}");
    assert!(briefing.contains("Russia Warns Against U.S.-Korea-Japan Alliance"), "{briefing}");
    assert!(
        briefing.contains(
            "Russia Condemns Potential U.S.-South Korea-Japan Security Alliance Against North Korea"
        ),
        "{briefing}"
    );
    for junk in ["Adblock", "Leave a Comment", "Home »"] {
        assert!(!briefing.contains(junk), "briefing shows boilerplate {junk:?}:\n{briefing}");
    }
    env.wait_until("both files archived", Duration::from_secs(10), || env.archived().len() == 2);
    let status = env.briefd(&["status"]);
    assert!(status.contains("done: 2") && status.contains("stories: 1"), "{status}");
    daemon.stop_gracefully();
    // The decision is recorded with its scores and explained.
    let explained = env.briefd(&["explain", "004_74facf148fc9e229.txt"]);
    assert!(explained.contains("dedupe: same story"), "{explained}");
}

/// The dedupe stage's options as `config.yaml` ships them (comments dropped, its model folder
/// made absolute), for the test config's dedupe stage.
fn shipped_dedupe_options() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shipped = std::fs::read_to_string(root.join("config.yaml")).unwrap();
    let (_, from_dedupe) = shipped.split_once("  - kind: dedupe\n").expect("config.yaml has a dedupe stage");
    let stage = from_dedupe.split("\n  - kind:").next().unwrap_or_default();
    let models = format!("{}/", root.join("models").display());
    stage
        .lines()
        .filter(|line| line.starts_with("    ") && !line.trim_start().starts_with('#'))
        .map(|line| format!("{}\n", line.replace("models/", &models)))
        .collect()
}

/// Issue 16, bar 1: under the dedupe options `config.yaml` ships (whatever they are: a sentence
/// encoder veto there would use the model `models/fetch-minilm` fetches), the two seeds are still
/// one story with two sources.
#[test]
fn seeds_are_one_story_under_the_shipped_dedupe_options() {
    let env = Env::new();
    let path = env.root().join("config.yaml");
    let options = shipped_dedupe_options();
    assert!(options.contains("same_story_threshold"), "{options}");
    let config = std::fs::read_to_string(&path).unwrap();
    let config = config.replace("  - kind: dedupe\n", &format!("  - kind: dedupe\n{options}"));
    std::fs::write(&path, config).unwrap();
    let mut daemon = env.start();
    for seed in ["000_9df954c550cd2be9.txt", "004_74facf148fc9e229.txt"] {
        std::fs::copy(support::shared_sample(seed), env.inbox().join(seed)).unwrap();
    }
    let briefing = env.wait_for_briefing(|md| md.contains("**2 sources**"), Duration::from_secs(60));
    assert_eq!(briefing.matches("\n## ").count(), 1, "{briefing}");
    daemon.stop_gracefully();
    let explained = env.briefd(&["explain", "004_74facf148fc9e229.txt"]);
    assert!(explained.contains("dedupe: same story"), "{explained}");
}

/// Issue 3, bar 4: the same bytes under three names are one article; the same text from two
/// outlets, with different metadata, is one story with one source and its reprint.
#[test]
fn same_content_is_one_article_and_same_text_is_one_story() {
    let env = Env::new();
    let mut daemon = env.start();
    let seed = support::shared_sample("000_9df954c550cd2be9.txt");
    for name in ["copy-one.txt", "copy two.txt", "copy.three.md"] {
        env.drop_file(name, &std::fs::read(&seed).unwrap());
    }
    for name in ["wire_outlet_a.json", "wire_outlet_b.json"] {
        env.drop_file(name, &std::fs::read(support::test_data(&format!("same_text/{name}"))).unwrap());
    }
    env.wait_until("all five files archived", Duration::from_secs(20), || env.archived().len() == 5);
    let briefing = env.wait_for_briefing(|md| md.contains("Coast Daily"), Duration::from_secs(10));
    assert_eq!(briefing.matches("\n## ").count(), 2, "{briefing}");
    // The two outlets carry one wire text: the later is listed as a reprint, not counted.
    assert!(briefing.contains("**1 source**") && briefing.contains("  - reprinted by **"), "{briefing}");
    assert!(briefing.contains("Harbour Times") && briefing.contains("Coast Daily"), "{briefing}");
    let status = env.briefd(&["status"]);
    assert!(
        status.contains("done: 3") && status.contains("duplicate: 2") && status.contains("articles: 3"),
        "{status}"
    );
    daemon.stop_gracefully();
}

/// Issue 3, bar 5: bad input ends in `failed/` with a reason, and the daemon keeps running.
#[test]
fn bad_input_fails_with_a_reason_and_the_daemon_keeps_running() {
    let env = Env::new();
    let outside = env.root().join("outside-secret.txt");
    std::fs::write(&outside, "A secret text outside the inbox that must never be read by briefd at all.")
        .unwrap();
    let mut daemon = env.start();
    for name in ["binary.png", "zero_bytes.txt", "whitespace_only.txt", "invalid_utf8.txt", "malformed.json"]
    {
        env.drop_file(name, &std::fs::read(support::test_data(&format!("inputs/{name}"))).unwrap());
    }
    std::os::unix::fs::symlink(&outside, env.inbox().join("link-to-outside.txt")).unwrap();
    std::fs::create_dir(env.inbox().join("a-folder")).unwrap();
    let expected = [
        ("binary.png", "looks binary"),
        ("zero_bytes.txt", "empty (0 bytes)"),
        ("whitespace_only.txt", "only whitespace"),
        ("invalid_utf8.txt", "damaged UTF-8"),
        ("malformed.json", "invalid JSON at line 1"),
        ("link-to-outside.txt", "symbolic link"),
        ("a-folder", "is a folder"),
    ];
    env.wait_until("every bad file in failed/", Duration::from_secs(20), || {
        expected.iter().all(|(name, _)| env.failed().join(format!("{name}.error.txt")).exists())
    });
    for (name, reason) in expected {
        let report = std::fs::read_to_string(env.failed().join(format!("{name}.error.txt"))).unwrap();
        assert!(report.contains(name) && report.contains(reason), "{name}: {report}");
        assert!(std::fs::symlink_metadata(env.failed().join(name)).is_ok(), "{name} itself kept in failed/");
    }
    assert!(outside.exists(), "the link's target is untouched");
    let briefing = env.briefing_today();
    assert!(!briefing.contains("secret"), "{briefing}");

    // Still running: a good file goes through.
    env.drop_file("good.txt", &std::fs::read(support::shared_sample("000_9df954c550cd2be9.txt")).unwrap());
    env.wait_for_briefing(|md| md.contains("Russia Warns"), Duration::from_secs(20));
    daemon.stop_gracefully();
}

/// Issue 3, bar 5, and issue 19, bar 3: a bad config names file, line and column, the full path
/// of the field, what was expected in a user's words and what to write instead; every problem
/// at once.
#[test]
fn bad_configs_are_refused_with_file_line_and_column() {
    let env = Env::new();
    let cases: [(&str, &[&str]); 6] = [
        (
            "unknown_key.yaml",
            &[":3:3: inbox.setle_millis: unknown field `setle_millis`", "did you mean `settle_millis`?"],
        ),
        (
            "wrong_type.yaml",
            &[":3:3: inbox.settle_millis: expected a whole number, 0 or more, found the text \"soon\""],
        ),
        ("missing_inbox.yaml", &["missing_inbox.yaml: inbox: missing; the config needs `inbox:`"]),
        (
            "unknown_stage.yaml",
            &[":5:5: stages[1].kind: unknown stage kind `summarise`", "did you mean `summarize`?"],
        ),
        // Inside `stages:`, each field by its full path and line.
        (
            "stage_fields.yaml",
            &[
                "3 problem(s)",
                ":6:5: stages[1].max_new_tokens: expected a whole number, 0 or more, found the text \"lots\"",
                ":7:5: stages[1].modle_path: unknown field `modle_path`",
                "did you mean `model_path`?",
                ":9:5: stages[2].lead_weight: expected a whole number, 0 or more, found -1",
            ],
        ),
        // Several problems of shape in one file, all reported.
        (
            "many.yaml",
            &[
                "5 problem(s)",
                ":7:1: databse: unknown key `databse`",
                "did you mean `database`?",
                ":3:3: inbox.settle_millis: expected a whole number, 0 or more, found 1.5",
                ":4:3: inbox.setle: unknown field `setle`",
                ":6:3: briefing.debounce_millis: expected a whole number, 0 or more, found the text \"soon\"",
                ":10:3: stages[1]: has no `kind`",
            ],
        ),
    ];
    for (file, needles) in cases {
        let path = support::test_data(&format!("configs/{file}"));
        let out = env.briefd_fails(&["check-config", "--config", path.to_str().unwrap()]);
        for needle in needles {
            let needle = if needle.starts_with(':') { format!("{file}{needle}") } else { needle.to_string() };
            assert!(out.contains(&needle), "{file}: {needle:?} not in:\n{out}");
        }
        assert!(!out.contains("u64") && !out.contains("usize"), "no Rust type names:\n{out}");
    }
    // Semantic problems are all reported at once, each at its line.
    let path = support::test_data("configs/bad_values.yaml");
    let out = env.briefd_fails(&["check-config", "--config", path.to_str().unwrap()]);
    for needle in [
        "inbox.queue_capacity",
        "briefing.timezone",
        "stages[0]",
        "max_sentences must be at least 1",
        "4 problem(s)",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in {out}");
    }
    // A missing file says why once.
    let out = env.briefd_fails(&["check-config", "--config", "/nonexistent/briefd.yaml"]);
    assert_eq!(out.matches("No such file or directory").count(), 1, "{out}");
}

/// Issue 3, bar 3: files dropped while the daemon is killed with SIGKILL at random moments and
/// restarted end up archived exactly once, in the store once, and in the briefing once.
#[test]
fn nothing_is_lost_or_doubled_when_the_daemon_is_killed_repeatedly() {
    const FILES: usize = 500;
    const KILLS: usize = 8;
    let env = Env::new();
    let staging = env.root().join("staging");
    std::fs::create_dir(&staging).unwrap();
    let mut rng = support::Rng(0x5eed_cafe);
    let mut daemon = env.start();
    let mut next = 0;
    for round in 0..KILLS {
        // Drop a batch, the Maildir way (write aside, then rename in), while the daemon works.
        let batch = FILES / KILLS + if round < FILES % KILLS { 1 } else { 0 };
        for _ in 0..batch {
            let name = format!("article-{next:04}.txt");
            std::fs::write(staging.join(&name), support::article_text(next)).unwrap();
            std::fs::rename(staging.join(&name), env.inbox().join(&name)).unwrap();
            next += 1;
        }
        std::thread::sleep(Duration::from_millis(rng.below(1500)));
        daemon.kill9();
        daemon = env.start();
    }
    assert_eq!(next, FILES);
    env.wait_until("every file archived", Duration::from_secs(240), || env.archived().len() == FILES);
    // The generated articles are alike, so dedupe may group them; every file is a source once.
    let briefing = env.wait_for_briefing(
        |md| (0..FILES).all(|i| md.contains(&format!("`article-{i:04}.txt`"))),
        Duration::from_secs(30),
    );
    daemon.stop_gracefully();

    let archived = env.archived();
    let mut names: Vec<String> =
        archived.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), FILES, "each file archived once under its own name");
    assert!(files_in(&env.failed()).is_empty(), "nothing failed");
    assert!(files_in(&env.inbox()).is_empty() && files_in(&env.inbox().join(".processing")).is_empty());

    let db = rusqlite::Connection::open(env.root().join("state/briefd.db")).unwrap();
    let (articles, distinct): (i64, i64) = db
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT json_extract(data, '$.file_name')) FROM articles",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((articles, distinct), (FILES as i64, FILES as i64));
    let integrity: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    for i in 0..FILES {
        let needle = format!("`article-{i:04}.txt`");
        assert_eq!(briefing.matches(&needle).count(), 1, "{needle} once in the briefing");
    }
}

/// SIGTERM stops the daemon within its shutdown time and exits 0.
#[test]
fn sigterm_stops_the_daemon_cleanly() {
    let env = Env::new();
    let mut daemon = env.start();
    env.wait_until("today's briefing written at start", Duration::from_secs(10), || {
        env.briefings().join(format!("{}.md", support::today_utc())).exists()
    });
    let status = daemon.stop_gracefully();
    assert!(status.success(), "{status:?}");
}

/// `ingest` processes files once, leaves the originals, and exits non-zero when one failed.
#[test]
fn ingest_processes_files_once_and_reports_failures() {
    let env = Env::new();
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/inbox");
    let out = env.briefd(&["ingest", seeds.to_str().unwrap()]);
    assert!(out.contains("2 file(s): 2 done, 0 duplicate, 0 dropped, 0 failed"), "{out}");
    assert!(seeds.join("000_9df954c550cd2be9.txt").exists(), "the original stays");
    let bad = support::test_data("inputs/binary.png");
    let out = env.briefd_fails(&["ingest", bad.to_str().unwrap()]);
    assert!(out.contains("looks binary"), "{out}");
    let out = env.briefd(&["briefing", "--date", &support::today_utc()]);
    assert!(out.contains("1 story · 2 sources"), "the seeds are one story: {out}");
}

/// Key points appear in the briefing, each ending with the tag of the source that says it.
#[test]
fn key_points_are_shown_with_their_source() {
    let env = Env::new();
    let seed = support::shared_sample("000_9df954c550cd2be9.txt");
    env.briefd(&["ingest", seed.to_str().unwrap()]);
    let briefing = env.briefing_today();
    let section = briefing.split("**Key points**").nth(1).expect("a key points section");
    let points: Vec<&str> =
        section.lines().take_while(|l| !l.starts_with("**")).filter(|l| l.starts_with("- ")).collect();
    assert!((1..=4).contains(&points.len()), "{briefing}");
    assert!(points.iter().all(|p| p.ends_with(" [AP]")), "{points:?}");
    assert!(points.iter().any(|p| p.contains("Wonsan")), "{points:?}");
}

fn clean_json(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/clean/test_data/json").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Issue 7: a JSON list of three articles is three sources, a JSON Feed of two is two; each file
/// is archived once; a JSON file of another shape fails naming the file and the accepted shapes.
#[test]
fn json_lists_and_feeds_give_one_source_per_item() {
    let env = Env::new();
    let mut daemon = env.start();
    for name in ["list_of_three.json", "feed_of_two.json", "wrong_shape.json"] {
        env.drop_file(name, &clean_json(name));
    }
    env.wait_until("two archived, one failed", Duration::from_secs(30), || {
        env.archived().len() == 2 && env.failed().join("wrong_shape.json.error.txt").exists()
    });
    let briefing = env.wait_for_briefing(|md| support::sources_in(md) == 5, Duration::from_secs(20));
    for outlet in ["Port Daily", "Mountain Wire", "City Herald", "Coastal Times"] {
        assert!(briefing.contains(outlet), "{outlet} missing:\n{briefing}");
    }
    assert!(briefing.contains("Volunteers replant the dunes"), "{briefing}");
    let report = std::fs::read_to_string(env.failed().join("wrong_shape.json.error.txt")).unwrap();
    assert!(report.contains("wrong_shape.json: the JSON object has no article text"), "{report}");
    assert!(report.contains("a list of article objects, or a JSON Feed"), "{report}");
    let status = env.briefd(&["status"]);
    assert!(
        status.contains("done: 2") && status.contains("failed: 1") && status.contains("articles: 5"),
        "{status}"
    );
    daemon.stop_gracefully();
}

/// Issue 7: a daemon killed while it works through a JSON list, and restarted, commits every
/// item exactly once and archives the file once.
#[test]
fn a_kill_mid_list_neither_loses_nor_repeats_an_item() {
    const N: usize = 300;
    let env = Env::new();
    let items: Vec<String> = (0..N)
        .map(|i| {
            serde_json::json!({"title": format!("List item {i}"), "text": support::article_text(i)})
                .to_string()
        })
        .collect();
    let db_path = env.root().join("state/briefd.db");
    let committed = || -> i64 {
        let Ok(db) = rusqlite::Connection::open(&db_path) else { return 0 };
        db.query_row("SELECT COUNT(*) FROM articles", [], |r| r.get(0)).unwrap_or(0)
    };
    let daemon = env.start();
    env.drop_file("list.json", format!("[{}]", items.join(",")).as_bytes());
    env.wait_until("some items committed", Duration::from_secs(60), || committed() > 0);
    let before_kill = committed();
    daemon.kill9();
    eprintln!("killed after {before_kill} of {N} items committed");
    let mut daemon = env.start();
    env.wait_until("the list archived", Duration::from_secs(120), || env.archived().len() == 1);
    daemon.stop_gracefully();
    let db = rusqlite::Connection::open(&db_path).unwrap();
    let (articles, distinct): (i64, i64) = db
        .query_row("SELECT COUNT(*), COUNT(DISTINCT item_index) FROM articles", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((articles, distinct), (N as i64, N as i64), "killed after {before_kill} committed");
    assert!(files_in(&env.failed()).is_empty());
}

/// Issue 19: shell completions and a manual page come from the command line's own definition,
/// so they name every command, and need no config file.
#[test]
fn completions_and_the_manual_page_name_every_command() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = env.briefd(&["completions", shell]);
        for command in ["run", "ingest", "status", "check-config", "explain", "completions"] {
            assert!(script.contains(command), "{shell} completion lacks {command}:\n{script}");
        }
    }
    let man = env.briefd(&["man"]);
    assert!(man.contains(".TH briefd 1"), "{man}");
    for command in ["run", "ingest", "status", "check\\-config", "explain"] {
        assert!(man.contains(command), "the manual page lacks {command}");
    }
}

/// Issue 19: `status` only reads. In a fresh folder it creates nothing and says so; beside a
/// running daemon it names its pid; `--json` carries the same report.
#[test]
fn status_reads_only_and_says_whether_a_daemon_runs() {
    let env = Env::new();
    let fresh = env.briefd(&["status"]);
    assert!(fresh.contains("not running") && fresh.contains("none yet"), "{fresh}");
    assert!(!env.root().join("state").exists(), "status created state: {fresh}");
    let json: serde_json::Value = serde_json::from_str(&env.briefd(&["status", "--json"])).unwrap();
    assert_eq!(
        (json["schema"].as_str(), json["state_exists"].as_bool()),
        (Some("briefd.status/1"), Some(false))
    );
    assert!(json["model"].is_null(), "the test config summarises without a model: {json}");
    env.drop_file("waiting.txt", b"A file dropped before any daemon runs waits in the inbox for one.");
    let json: serde_json::Value = serde_json::from_str(&env.briefd(&["status", "--json"])).unwrap();
    assert_eq!(json["inbox"]["waiting"].as_u64(), Some(1), "{json}");

    let mut daemon = env.start();
    env.drop_file("a.txt", &std::fs::read(support::shared_sample("000_9df954c550cd2be9.txt")).unwrap());
    env.wait_until("both files archived", Duration::from_secs(20), || env.archived().len() == 2);
    let running = env.briefd(&["status"]);
    assert!(running.contains(&format!("running (pid {})", daemon.pid())), "{running}");
    let json: serde_json::Value = serde_json::from_str(&env.briefd(&["status", "--json"])).unwrap();
    assert_eq!(json["daemon"]["pid"].as_u64(), Some(u64::from(daemon.pid())), "{json}");
    assert_eq!(json["files"]["done"].as_i64(), Some(2), "{json}");
    assert_eq!(json["inbox"]["waiting"].as_u64(), Some(0), "{json}");
    daemon.stop_gracefully();
    assert!(env.briefd(&["status"]).contains("not running"));
}

/// Issue 19: `explain` takes a file name, a file id or an article id, says which it found, and
/// explains a duplicate or a failure too.
#[test]
fn explain_names_files_and_articles_and_says_why_a_file_went_nowhere() {
    let env = Env::new();
    let mut daemon = env.start();
    let sample = std::fs::read(support::shared_sample("000_9df954c550cd2be9.txt")).unwrap();
    env.drop_file("story.txt", &sample);
    env.wait_until("the story archived", Duration::from_secs(20), || env.archived().len() == 1);
    env.drop_file("again.txt", &sample);
    env.drop_file("empty.txt", b"  \n");
    env.wait_until("all three finished", Duration::from_secs(20), || {
        env.archived().len() == 2 && files_in(&env.failed()).iter().any(|f| f.ends_with("empty.txt"))
    });
    daemon.stop_gracefully();
    let story = env.briefd(&["explain", "story.txt"]);
    assert!(story.starts_with("file 1 \"story.txt\"") && story.contains("done; article(s) 1"), "{story}");
    assert_eq!(env.briefd(&["explain", "1"]).matches("file 1 ").count(), 1, "a file id is found once");
    let again = env.briefd(&["explain", "again.txt"]);
    assert!(again.contains("\"again.txt\"") && again.contains("duplicate"), "{again}");
    let empty = env.briefd(&["explain", "empty.txt"]);
    assert!(empty.contains("failed in clean") && empty.contains("no article text"), "{empty}");
    let none = env.briefd_fails(&["explain", "nothing.txt"]);
    assert!(none.contains("no file or article"), "{none}");
}

/// Issue 19: `init` writes the shipped, commented config and its folders, says what is missing
/// (the model), never replaces a config, and with --no-model gives a config that runs as is.
#[test]
fn init_sets_up_a_folder_and_never_replaces_a_config() {
    let env = Env::new();
    let dir = env.root().join("news");
    let out = env.briefd(&["init", dir.to_str().unwrap()]);
    for folder in ["inbox", "archive", "failed", "briefings", "state", "models"] {
        assert!(dir.join(folder).is_dir(), "{folder} missing: {out}");
    }
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config.yaml")).unwrap();
    assert_eq!(std::fs::read_to_string(dir.join("config.yaml")).unwrap(), shipped);
    assert!(out.contains("Not ready yet") && out.contains("SmolLM2-135M-Instruct-Q4_1.gguf"), "{out}");
    let again = env.briefd_fails(&["init", dir.to_str().unwrap()]);
    assert!(again.contains("never replaces a config"), "{again}");
    assert_eq!(std::fs::read_to_string(dir.join("config.yaml")).unwrap(), shipped);

    let plain = env.root().join("plain");
    env.briefd(&["init", "--no-model", plain.to_str().unwrap()]);
    let config = plain.join("config.yaml");
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("    method: extractive\n"), "{written}");
    assert!(written.contains("    # embeddings: { model_dir: models/all-MiniLM-L6-v2"), "{written}");
    let checked = env.briefd(&["check-config", "--config", config.to_str().unwrap()]);
    assert!(checked.contains("ok; stages: clean -> dedupe -> summarize -> keypoints"), "{checked}");
}
