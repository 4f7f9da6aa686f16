//! The fault suite (issue 6): nothing a user drops is lost or doubled under `kill -9`, bursts,
//! slow and odd writers, bad input and disk faults, and every scenario prints its figures.
//!
//! Each scenario is an ordinary test at a size CI can afford; `bench/faults --full` runs the same
//! code at the sizes of the issue (`BRIEFD_FAULTS_FULL=1`) and shows the tables (`--nocapture`).

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{self, files_in, Daemon, Env};

/// True when `bench/faults --full` asked for the issue's sizes.
fn full() -> bool {
    std::env::var_os("BRIEFD_FAULTS_FULL").is_some_and(|v| v == "1")
}

/// One scenario's figures.
pub(crate) struct Tally {
    scenario: String,
    files_in: usize,
    archived: usize,
    pub(crate) failed: BTreeMap<String, usize>,
    lost: Vec<String>,
    duplicated: usize,
    pub(crate) restarts: usize,
    pub(crate) seconds: f64,
    peak_rss_kib: Option<u64>,
}

impl Tally {
    /// Where each of `names` ended: counted in `archive/` and `failed/` (by reason), and the rest.
    pub(crate) fn account(env: &Env, scenario: &str, names: &[OsString]) -> Tally {
        let mut seen: BTreeMap<OsString, usize> = names.iter().map(|n| (n.clone(), 0)).collect();
        let mut extra = 0;
        let archived = env.archived();
        let failed = files_in(&env.failed());
        let mut failed_by_reason = BTreeMap::new();
        for path in archived.iter().chain(failed.iter()) {
            let name = path.file_name().unwrap().to_os_string();
            match seen.get_mut(&name) {
                Some(n) => *n += 1,
                // A clash-renamed second copy (`stem.<id>.ext`) or something nobody dropped.
                None => extra += 1,
            }
        }
        for path in &failed {
            let mut report = path.as_os_str().to_os_string();
            report.push(".error.txt");
            let text = std::fs::read_to_string(&report).unwrap_or_default();
            let reason = text.lines().find_map(|l| l.strip_prefix("reason:")).unwrap_or("no report").trim();
            let short: String = reason.chars().take(48).collect();
            *failed_by_reason.entry(short).or_insert(0) += 1;
        }
        let lost =
            seen.iter().filter(|(_, n)| **n == 0).map(|(k, _)| k.to_string_lossy().into_owned()).collect();
        let duplicated = extra + seen.values().map(|n| n.saturating_sub(1)).sum::<usize>();
        Tally {
            scenario: scenario.to_string(),
            files_in: names.len(),
            archived: archived.len(),
            failed: failed_by_reason,
            lost,
            duplicated,
            restarts: 0,
            seconds: 0.0,
            peak_rss_kib: None,
        }
    }

    /// Prints the row (seen with `--nocapture`, as `bench/faults` runs it).
    pub(crate) fn print(&self) {
        let failed: usize = self.failed.values().sum();
        let rss =
            self.peak_rss_kib.map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or_else(|| "-".into());
        println!(
            "\n| scenario | files in | archived | failed | lost | duplicated | restarts | time | peak RSS |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|\n\
             | {} | {} | {} | {} | {} | {} | {} | {:.1} s | {} |",
            self.scenario,
            self.files_in,
            self.archived,
            failed,
            self.lost.len(),
            self.duplicated,
            self.restarts,
            self.seconds,
            rss
        );
        for (reason, n) in &self.failed {
            println!("|   failed: {reason} | | | {n} | | | | | |");
        }
    }

    /// The bar: every file accounted for exactly once.
    pub(crate) fn assert_nothing_lost_or_doubled(&self) {
        assert!(self.lost.is_empty(), "{}: lost {:?}", self.scenario, self.lost);
        assert_eq!(self.duplicated, 0, "{}: duplicated files", self.scenario);
    }
}

/// The store's view: (articles, distinct file names among them, integrity ok).
fn store_check(env: &Env) -> (i64, i64, bool) {
    let db = rusqlite::Connection::open(env.root().join("state/briefd.db")).unwrap();
    let (articles, distinct) = db
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT json_extract(data, '$.file_name')) FROM articles",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let integrity: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    (articles, distinct, integrity == "ok")
}

/// Files still waiting (inbox or processing folder), by their inbox names.
pub(crate) fn waiting(env: &Env) -> Vec<OsString> {
    let mut out: Vec<OsString> =
        files_in(&env.inbox()).iter().map(|p| p.file_name().unwrap().to_os_string()).collect();
    if let Ok(left) = inbox::claim::in_processing(&env.inbox().join(".processing")) {
        out.extend(left.into_iter().map(|c| c.original_name));
    }
    out
}

pub(crate) fn accounted(env: &Env) -> usize {
    env.archived().len() + files_in(&env.failed()).len()
}

/// Kill loop: SIGKILL at random moments while files arrive, restart after each; then every file
/// is archived once, the store holds each article once and passes its integrity check, and the
/// briefing lists each once.
#[test]
fn kill_loop_loses_and_doubles_nothing() {
    let (files, kills, max_pause_ms) = if full() { (2000, 200, 700) } else { (120, 12, 600) };
    let env = Env::new();
    let staging = env.root().join("staging");
    std::fs::create_dir(&staging).unwrap();
    let mut rng = support::Rng(0xfa17_5eed);
    let started = Instant::now();
    let mut daemon = env.start();
    let mut names = Vec::new();
    for round in 0..kills {
        let batch = files / kills + usize::from(round < files % kills);
        for _ in 0..batch {
            let i = names.len();
            let name = format!("article-{i:05}.txt");
            // Two of three arrive the Maildir way; every third is written in place (settle path).
            if i % 3 == 2 {
                std::fs::write(env.inbox().join(&name), support::article_text(i)).unwrap();
            } else {
                std::fs::write(staging.join(&name), support::article_text(i)).unwrap();
                std::fs::rename(staging.join(&name), env.inbox().join(&name)).unwrap();
            }
            names.push(OsString::from(name));
        }
        // A random moment, not a synchronisation: the kill lands wherever the daemon is.
        std::thread::sleep(Duration::from_millis(rng.below(max_pause_ms)));
        daemon.kill9();
        daemon = env.start();
    }
    let limit = Duration::from_secs(if full() { 900 } else { 180 });
    env.wait_until("every file archived or failed", limit, || accounted(&env) >= files);
    let briefing = env.wait_for_briefing(|md| support::sources_in(md) == files, Duration::from_secs(60));
    daemon.stop_gracefully();
    let mut tally = Tally::account(&env, &format!("kill loop ({kills} × SIGKILL)"), &names);
    tally.restarts = kills;
    tally.seconds = started.elapsed().as_secs_f64();
    tally.print();
    tally.assert_nothing_lost_or_doubled();
    assert!(tally.failed.is_empty(), "nothing failed: {:?}", tally.failed);
    assert!(waiting(&env).is_empty(), "nothing left waiting");
    assert_eq!(store_check(&env), (files as i64, files as i64, true), "articles once each; integrity ok");
    for name in &names {
        let needle = format!("`{}`", name.to_string_lossy());
        assert_eq!(briefing.matches(&needle).count(), 1, "{needle} once in the briefing");
    }
}

/// Burst: many files renamed in at once (at the full size the watcher's queue of 4,096 events
/// overflows and the rescan takes over); all are processed and the daemon's memory stays bounded.
#[test]
fn burst_is_processed_completely_in_bounded_memory() {
    let files = if full() { 10_000 } else { 400 };
    let env = Env::new();
    let staging = env.root().join("staging");
    std::fs::create_dir(&staging).unwrap();
    let names: Vec<OsString> = (0..files).map(|i| OsString::from(format!("burst-{i:05}.txt"))).collect();
    for (i, name) in names.iter().enumerate() {
        std::fs::write(staging.join(name), support::article_text(i)).unwrap();
    }
    let mut daemon = env.start();
    env.wait_until("today's briefing written at start", Duration::from_secs(20), || {
        env.briefings().join(format!("{}.md", support::today_utc())).exists()
    });
    let started = Instant::now();
    for name in &names {
        std::fs::rename(staging.join(name), env.inbox().join(name)).unwrap();
    }
    let limit = Duration::from_secs(if full() { 1200 } else { 180 });
    env.wait_until("every file archived", limit, || accounted(&env) >= files);
    env.wait_for_briefing(|md| support::sources_in(md) == files, Duration::from_secs(120));
    let seconds = started.elapsed().as_secs_f64();
    let peak = daemon.peak_rss_kib();
    daemon.stop_gracefully();
    let mut tally = Tally::account(&env, &format!("burst ({files} files at once)"), &names);
    tally.seconds = seconds;
    tally.peak_rss_kib = peak;
    tally.print();
    tally.assert_nothing_lost_or_doubled();
    assert!(tally.failed.is_empty(), "nothing failed: {:?}", tally.failed);
    assert_eq!(store_check(&env), (files as i64, files as i64, true));
}

/// Waits until `name` (its first copy) is archived and returns the recorded size of every file
/// record with that inbox name.
fn recorded_sizes(env: &Env, name: &str) -> Vec<i64> {
    let db = rusqlite::Connection::open(env.root().join("state/briefd.db")).unwrap();
    let mut stmt = db.prepare("SELECT size FROM files WHERE original_name = ?1 ORDER BY id").unwrap();
    stmt.query_map([name.as_bytes()], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
}

fn archived_named(env: &Env, name: &str) -> Vec<std::path::PathBuf> {
    env.archived()
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(name.split('.').next().unwrap()))
        .collect()
}

/// A slow writer: a file written in place in small pieces over seconds, each pause shorter than
/// the settle time, is taken only once complete.
#[test]
fn a_slowly_written_file_is_not_taken_half_written() {
    let pieces = if full() { 100 } else { 25 }; // 100 ms apart: 10 s, or 2.5 s in CI
    let env = Env::new();
    let mut daemon = env.start();
    let text = support::article_text(7).repeat(3);
    let chunk = text.len().div_ceil(pieces);
    {
        use std::io::Write;
        let mut f = std::fs::File::create(env.inbox().join("slow.txt")).unwrap();
        for piece in text.as_bytes().chunks(chunk) {
            f.write_all(piece).unwrap();
            f.flush().unwrap();
            // The writer's pace (shorter than the 300 ms settle), not a synchronisation.
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    env.wait_until("slow.txt archived", Duration::from_secs(30), || {
        !archived_named(&env, "slow.txt").is_empty()
    });
    daemon.stop_gracefully();
    assert_eq!(recorded_sizes(&env, "slow.txt"), vec![text.len() as i64], "taken once, whole");
    assert_eq!(std::fs::read_to_string(&archived_named(&env, "slow.txt")[0]).unwrap(), text);
}

/// A file written, truncated and rewritten in place is taken once, with its final content.
#[test]
fn a_truncated_and_rewritten_file_is_taken_once_with_its_final_content() {
    let env = Env::new();
    let mut daemon = env.start();
    let path = env.inbox().join("rewritten.txt");
    let draft = support::article_text(1);
    let last = support::article_text(2);
    {
        use std::io::{Seek, Write};
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(draft.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(100)); // the writer's pace
        f.set_len(0).unwrap();
        f.rewind().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        f.write_all(last.as_bytes()).unwrap();
    }
    env.wait_until("rewritten.txt archived", Duration::from_secs(20), || {
        !archived_named(&env, "rewritten.txt").is_empty()
    });
    let briefing = env.wait_for_briefing(|md| md.contains("number 2"), Duration::from_secs(20));
    daemon.stop_gracefully();
    assert_eq!(recorded_sizes(&env, "rewritten.txt"), vec![last.len() as i64]);
    assert!(!briefing.contains("number 1 "), "{briefing}");
}

/// A file written under a temporary name (`x.part`) is left alone, and taken once renamed.
#[test]
fn a_file_renamed_in_from_a_temporary_name_is_taken_under_its_final_name() {
    let env = Env::new();
    let mut daemon = env.start();
    std::fs::write(env.inbox().join("x.part"), support::article_text(3)).unwrap();
    // A good file behind it proves the daemon looked at the inbox while x.part sat there.
    env.drop_file("marker.txt", support::article_text(4).as_bytes());
    env.wait_until("marker archived", Duration::from_secs(20), || {
        !archived_named(&env, "marker.txt").is_empty()
    });
    assert!(env.inbox().join("x.part").exists(), "a temporary name is not taken");
    std::fs::rename(env.inbox().join("x.part"), env.inbox().join("x.txt")).unwrap();
    env.wait_until("x.txt archived", Duration::from_secs(20), || !archived_named(&env, "x.txt").is_empty());
    daemon.stop_gracefully();
    assert_eq!(recorded_sizes(&env, "x.txt").len(), 1);
    assert!(recorded_sizes(&env, "x.part").is_empty());
}

/// A file deleted by its writer before it settled is simply forgotten: no failure, no record.
#[test]
fn a_file_deleted_before_it_was_taken_is_forgotten() {
    let env = Env::new();
    let mut daemon = env.start();
    std::fs::write(env.inbox().join("gone.txt"), support::article_text(5)).unwrap();
    // Deleted well inside the 300 ms settle time; if the daemon was quicker it must be archived.
    let deleted = std::fs::remove_file(env.inbox().join("gone.txt")).is_ok();
    env.drop_file("marker.txt", support::article_text(6).as_bytes());
    env.wait_until("marker archived", Duration::from_secs(20), || {
        !archived_named(&env, "marker.txt").is_empty()
    });
    daemon.stop_gracefully();
    assert!(files_in(&env.failed()).is_empty(), "nothing failed");
    assert_eq!(recorded_sizes(&env, "gone.txt").len(), usize::from(!deleted));
    assert!(waiting(&env).is_empty());
}

/// The same name dropped again with new content: both are processed and both archived.
#[test]
fn the_same_name_dropped_again_with_new_content_is_processed_twice() {
    let env = Env::new();
    let mut daemon = env.start();
    env.drop_file("same.txt", support::article_text(8).as_bytes());
    env.wait_until("first same.txt archived", Duration::from_secs(20), || {
        archived_named(&env, "same.txt").len() == 1
    });
    env.drop_file("same.txt", support::article_text(9).as_bytes());
    env.wait_until("second same.txt archived", Duration::from_secs(20), || {
        archived_named(&env, "same.txt").len() == 2
    });
    let briefing = env
        .wait_for_briefing(|md| md.contains("number 8") && md.contains("number 9"), Duration::from_secs(20));
    daemon.stop_gracefully();
    let mut contents: Vec<String> =
        archived_named(&env, "same.txt").iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    contents.sort();
    assert_eq!(contents, vec![support::article_text(8), support::article_text(9)]);
    assert_eq!(support::sources_in(&briefing), 2, "{briefing}");
}

/// How one bad input must end.
enum Expect {
    /// Archived, and this text is in the briefing.
    Processed(&'static str),
    /// In `failed/` beside an error report containing this reason.
    Failed(&'static str),
}

/// Drops one input (made by `make` inside the inbox, under `name`), checks how it ended, then
/// proves the daemon still runs by sending a good file through.
fn check_input(name: &OsStr, make: impl FnOnce(&Path), expect: Expect) -> Env {
    let env = Env::new();
    let mut daemon = env.start();
    make(&env.inbox().join(name));
    match expect {
        Expect::Processed(needle) => {
            env.wait_until("the input archived", Duration::from_secs(60), || {
                env.archived().iter().any(|p| p.file_name() == Some(name))
            });
            env.wait_for_briefing(|md| md.contains(needle), Duration::from_secs(20));
        }
        Expect::Failed(reason) => {
            let mut report_name = name.to_os_string();
            report_name.push(".error.txt");
            let report = env.failed().join(report_name);
            env.wait_until("the error report", Duration::from_secs(60), || report.exists());
            let text = std::fs::read_to_string(&report).unwrap();
            assert!(text.contains(reason), "{}: expected {reason:?} in:\n{text}", name.to_string_lossy());
            assert!(
                std::fs::symlink_metadata(env.failed().join(name)).is_ok(),
                "the file itself is kept in failed/"
            );
        }
    }
    env.drop_file("after.txt", support::article_text(42).as_bytes());
    env.wait_for_briefing(|md| md.contains("number 42"), Duration::from_secs(30));
    assert!(daemon.is_running(), "the daemon keeps running");
    daemon.stop_gracefully();
    env
}

fn copy_from(data: &'static str) -> impl FnOnce(&Path) {
    move |to| std::fs::copy(support::test_data(&format!("bad_inputs/{data}")), to).map(|_| ()).unwrap()
}

#[test]
fn latin1_text_is_decoded() {
    check_input("latin1.txt".as_ref(), copy_from("latin1.txt"), Expect::Processed("José Muñoz"));
}

#[test]
fn utf16_with_a_bom_is_decoded() {
    check_input(
        "utf16le_bom.txt".as_ref(),
        copy_from("utf16le_bom.txt"),
        Expect::Processed("Übersee harbour café"),
    );
    check_input(
        "utf16be_bom.txt".as_ref(),
        copy_from("utf16be_bom.txt"),
        Expect::Processed("Bakers in Señora"),
    );
}

#[test]
fn utf16_without_a_bom_is_decoded() {
    check_input(
        "utf16le_no_bom.txt".as_ref(),
        copy_from("utf16le_no_bom.txt"),
        Expect::Processed("Tram drivers"),
    );
}

#[test]
fn text_over_the_size_limit_fails_with_the_limit_named() {
    let big = |to: &Path| {
        // 100 MB of plausible text, written aside and renamed in.
        let aside = to.with_file_name(".big");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&aside).unwrap());
        let line = support::article_text(11);
        let mut written = 0;
        while written < 100 * 1024 * 1024 {
            std::io::Write::write_all(&mut f, line.as_bytes()).unwrap();
            written += line.len();
        }
        drop(f);
        std::fs::rename(aside, to).unwrap();
    };
    check_input(
        "huge.txt".as_ref(),
        big,
        Expect::Failed("over the limit of 1048576 bytes (inbox.max_file_bytes"),
    );
}

#[test]
fn deeply_nested_html_does_not_crash_the_daemon() {
    let nested = |to: &Path| {
        let mut html = String::from("<html><head><title>Deep nesting</title></head><body>");
        html.push_str(&"<b>".repeat(100_000));
        html.push_str("Nested words at the bottom.");
        html.push_str(&"</b>".repeat(100_000));
        html.push_str("</body></html>");
        std::fs::write(to, html).unwrap();
    };
    // Either outcome is fine as long as it is one of the two and the daemon survives.
    let env = Env::new();
    let mut daemon = env.start();
    nested(&env.inbox().join("nested.html"));
    env.wait_until("nested.html archived or failed", Duration::from_secs(120), || accounted(&env) == 1);
    env.drop_file("after.txt", support::article_text(42).as_bytes());
    env.wait_for_briefing(|md| md.contains("number 42"), Duration::from_secs(30));
    assert!(daemon.is_running());
    daemon.stop_gracefully();
}

/// A JSON list is one article per item: 10,000 of them (1,000 in CI) all reach the store, each
/// once, and the file is archived once they are.
#[test]
fn a_json_array_of_many_articles_gives_one_article_per_item() {
    let n = if full() { 10_000 } else { 1_000 };
    let array = move |to: &Path| {
        let items: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"title":"Item {i}","text":"Short text {i} for the array test."}}"#))
            .collect();
        std::fs::write(to, format!("[{}]", items.join(","))).unwrap();
    };
    let started = Instant::now();
    let env = check_input("many.json".as_ref(), array, Expect::Processed("Item 7"));
    let db = rusqlite::Connection::open(env.root().join("state/briefd.db")).unwrap();
    let (articles, items): (i64, i64) = db
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT item_index) FROM articles WHERE json_extract(data, '$.file_name') = 'many.json'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((articles, items), (n as i64, n as i64));
    eprintln!("json list of {n}: {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn a_symlink_loop_fails_as_a_link() {
    let make = |to: &Path| {
        let other = to.with_file_name("loop-b.txt");
        std::os::unix::fs::symlink(&other, to).unwrap();
        std::os::unix::fs::symlink(to, &other).unwrap();
    };
    let env = check_input("loop-a.txt".as_ref(), make, Expect::Failed("symbolic link"));
    assert!(env.failed().join("loop-b.txt.error.txt").exists());
}

#[test]
fn a_fifo_fails_without_blocking_the_daemon() {
    let make = |to: &Path| {
        let c = std::ffi::CString::new(to.as_os_str().as_bytes()).unwrap();
        // SAFETY: c is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    };
    check_input("pipe.txt".as_ref(), make, Expect::Failed("named pipe (fifo)"));
}

/// A file the daemon may not read. As root every file is readable, so when the tests run as root
/// the daemon runs as `nobody` (its folders handed over) and the file belongs to root, mode 000.
#[test]
fn an_unreadable_file_fails_with_permission_denied() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    // SAFETY: getuid has no preconditions.
    let as_root = unsafe { libc::getuid() } == 0;
    const NOBODY: u32 = 65534;
    if as_root {
        for dir in ["inbox", "state", "archive", "failed", "briefings"] {
            std::fs::create_dir_all(env.root().join(dir)).unwrap();
        }
        chown_tree(env.root(), NOBODY);
    }
    let mut daemon = env.start_with(|cmd| {
        if as_root {
            cmd.uid(NOBODY).gid(NOBODY);
        }
    });
    let path = env.inbox().join("secret.txt");
    std::fs::write(&path, support::article_text(12)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let report = env.failed().join("secret.txt.error.txt");
    env.wait_until("the error report", Duration::from_secs(30), || report.exists());
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.contains("permission denied"), "{text}");
    env.drop_file("after.txt", support::article_text(42).as_bytes());
    env.wait_for_briefing(|md| md.contains("number 42"), Duration::from_secs(30));
    assert!(daemon.is_running());
    daemon.stop_gracefully();
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).unwrap();
    if std::fs::symlink_metadata(path).unwrap().is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid);
        }
    }
}

#[test]
fn odd_names_are_processed_and_archived_under_their_own_names() {
    let env = Env::new();
    let mut daemon = env.start();
    let names: Vec<OsString> = vec![
        OsString::from("name with spaces.txt"),
        OsString::from("line\nbreak.txt"),
        OsString::from(std::ffi::OsStr::from_bytes(b"latin-\xe9t\xe9.txt")),
        OsString::from("--looks-like-a-flag.txt"),
    ];
    for (i, name) in names.iter().enumerate() {
        let aside = env.root().join(format!(".aside-{i}"));
        std::fs::write(&aside, support::article_text(20 + i)).unwrap();
        std::fs::rename(&aside, env.inbox().join(name)).unwrap();
    }
    env.wait_until("all four archived", Duration::from_secs(30), || accounted(&env) >= names.len());
    env.wait_for_briefing(|md| support::sources_in(md) == names.len(), Duration::from_secs(20));
    daemon.stop_gracefully();
    let tally = Tally::account(&env, "odd names", &names);
    tally.assert_nothing_lost_or_doubled();
    assert_eq!(tally.archived, names.len(), "all processed: {:?}", tally.failed);
}

/// Article text that gives instructions is an article like any other: processed as text, and
/// nothing it names is written, deleted or read.
#[test]
fn prompt_injection_text_is_only_text() {
    let env = check_input(
        "prompt_injection.txt".as_ref(),
        copy_from("prompt_injection.txt"),
        Expect::Processed("night ferries"),
    );
    assert!(!env.root().parent().unwrap().join("outside-pwned.md").exists());
    assert!(!Path::new("/etc/briefd-pwned").exists());
    assert!(!env.archived().is_empty(), "the archive is still there");
}

/// Security: outputs are placed by the file's own name and the clock, never by its content; the
/// temp root holds only the daemon's folders afterwards.
#[test]
fn content_never_decides_where_an_output_is_written() {
    let env = Env::new();
    let mut daemon = env.start();
    let evil = r#"{"title":"../../escaped","file_name":"../../../escaped.txt","url":"file:///etc/passwd",
        "outlet":"../archive","published":"1999-01-01","text":"A harbour crane was repaired on Friday after a storm damaged its arm, the port said. Work took three days and cost little."}"#;
    env.drop_file("evil.json", evil.as_bytes());
    env.wait_until("evil.json archived", Duration::from_secs(20), || {
        env.archived().iter().any(|p| p.file_name() == Some(OsStr::new("evil.json")))
    });
    env.wait_for_briefing(|md| md.contains("crane"), Duration::from_secs(20));
    daemon.stop_gracefully();
    let archived = env.archived();
    let day = support::today_utc();
    assert_eq!(archived, vec![env.root().join("archive").join(&day).join("evil.json")]);
    let mut top: Vec<String> = std::fs::read_dir(env.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["archive", "briefings", "config.yaml", "daemon.log", "failed", "inbox", "state"]);
    assert!(!env.root().parent().unwrap().join("escaped.txt").exists());
}

/// Sets the soft limit on the size of any file `pid` writes (`None`: unlimited). A write past it
/// fails with EFBIG, which is how these tests make a disk "full" without mounting anything.
fn limit_file_size(pid: u32, bytes: Option<u64>) {
    let limit =
        libc::rlimit { rlim_cur: bytes.unwrap_or(libc::RLIM_INFINITY), rlim_max: libc::RLIM_INFINITY };
    // SAFETY: a valid rlimit for a process we started.
    let rc = unsafe { libc::prlimit(pid as libc::pid_t, libc::RLIMIT_FSIZE, &limit, std::ptr::null_mut()) };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
}

/// Ignore SIGXFSZ (whose default ends the process) so a write past the limit returns EFBIG, as
/// ENOSPC would.
fn start_ignoring_sigxfsz(env: &Env) -> Daemon {
    env.start_with(|cmd| {
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                Ok(())
            });
        }
    })
}

/// Disk full (simulated): while no file may grow, the store and the briefing cannot be written.
/// The daemon reports it, keeps every file (none fails, none is lost) and, once space returns,
/// finishes them without a restart.
#[test]
fn a_full_disk_keeps_every_file_and_recovers_without_a_restart() {
    let files = 6;
    let env = Env::new();
    let mut daemon = start_ignoring_sigxfsz(&env);
    env.drop_file("before.txt", support::article_text(30).as_bytes());
    env.wait_for_briefing(|md| md.contains("number 30"), Duration::from_secs(20));
    let started = Instant::now();
    limit_file_size(daemon.pid(), Some(0));
    let mut names = vec![OsString::from("before.txt")];
    for i in 0..files {
        let name = format!("during-{i}.txt");
        env.drop_file(&name, support::article_text(31 + i).as_bytes());
        names.push(name.into());
    }
    env.wait_until("the daemon reports the failure", Duration::from_secs(30), || {
        env.log().contains("will be retried")
    });
    env.wait_until("a retry reported", Duration::from_secs(30), || {
        env.log().matches("will be retried").count() >= 2
    });
    assert!(daemon.is_running(), "the daemon keeps running on a full disk");
    assert!(files_in(&env.failed()).is_empty(), "no file fails because the disk is full");
    assert_eq!(waiting(&env).len() + env.archived().len(), files + 1, "every file is kept");

    limit_file_size(daemon.pid(), None);
    env.wait_until("every file archived after space returned", Duration::from_secs(60), || {
        env.archived().len() == files + 1
    });
    env.wait_for_briefing(|md| support::sources_in(md) == files + 1, Duration::from_secs(30));
    let mut tally =
        Tally::account(&env, "state and briefings full (RLIMIT_FSIZE 0), then space back", &names);
    tally.seconds = started.elapsed().as_secs_f64();
    daemon.stop_gracefully();
    tally.print();
    tally.assert_nothing_lost_or_doubled();
    assert!(tally.failed.is_empty());
    assert_eq!(store_check(&env), ((files + 1) as i64, (files + 1) as i64, true));
}

/// The briefings folder cannot be written (replaced by a file): the daemon reports it, goes on
/// archiving, and writes the briefing as soon as the folder can be made again, without needing
/// another article to arrive.
#[test]
fn an_unwritable_briefings_folder_is_retried_until_it_works() {
    let env = Env::new();
    let mut daemon = env.start();
    env.wait_until("today's briefing written at start", Duration::from_secs(20), || {
        env.briefings().join(format!("{}.md", support::today_utc())).exists()
    });
    std::fs::remove_dir_all(env.briefings()).unwrap();
    std::fs::write(env.briefings(), b"in the way").unwrap();
    env.drop_file("news.txt", support::article_text(50).as_bytes());
    env.wait_until("news.txt archived", Duration::from_secs(20), || env.archived().len() == 1);
    env.wait_until("the failure reported", Duration::from_secs(20), || {
        env.log().contains("could not write the briefing")
    });
    assert!(daemon.is_running());
    std::fs::remove_file(env.briefings()).unwrap();
    env.wait_for_briefing(|md| md.contains("number 50"), Duration::from_secs(30));
    daemon.stop_gracefully();
}

/// A crash between recording a duplicate and recording its destination left a record the
/// restart could not finish ("has an outcome but no destination"): the file sat in the
/// processing folder for ever. Now it is archived as the duplicate it is.
#[test]
fn a_duplicate_recorded_just_before_a_crash_is_archived_at_the_next_start() {
    let env = Env::new();
    let mut daemon = env.start();
    env.drop_file("first.txt", support::article_text(60).as_bytes());
    env.wait_until("first.txt archived", Duration::from_secs(20), || env.archived().len() == 1);
    daemon.stop_gracefully();
    // What the crash leaves: the file in the processing folder, its record a duplicate with no
    // destination yet.
    let processing_name = "0000000000000001-1-0_again.txt";
    std::fs::write(env.inbox().join(".processing").join(processing_name), support::article_text(60)).unwrap();
    let db = rusqlite::Connection::open(env.root().join("state/briefd.db")).unwrap();
    db.execute(
        "INSERT INTO files (processing_name, original_name, content_hash, size, state, received_at, duplicate_of)
         SELECT ?1, ?2, content_hash, size, 'duplicate', received_at, id FROM files WHERE id = 1",
        rusqlite::params![processing_name.as_bytes(), b"again.txt".as_slice()],
    )
    .unwrap();
    drop(db);
    let mut daemon = env.start();
    env.wait_until("again.txt archived", Duration::from_secs(20), || env.archived().len() == 2);
    daemon.stop_gracefully();
    assert!(waiting(&env).is_empty());
    assert!(files_in(&env.failed()).is_empty());
}
