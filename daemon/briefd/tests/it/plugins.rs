//! Issue 5: stage plugins loaded by the real daemon, between built-in stages; refused when built
//! for another ABI; contained when they panic, hang or answer garbage. Issue 20: out of process,
//! also when they segfault, abort, loop or allocate without bound; and a poisoned article never
//! crash-loops the daemon, whatever the stage.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use crate::plugin_build::plugins;
use crate::support::{self, Env};

/// An environment whose config is `test_data/plugins/<config>` and whose `plugins/` folder
/// holds every test plugin, so the config's relative paths resolve against the config's folder.
fn env_with(config: &str) -> Env {
    let env = Env::new();
    std::fs::copy(support::test_data(&format!("plugins/{config}")), env.root().join("config.yaml")).unwrap();
    let folder = env.root().join("plugins");
    std::fs::create_dir(&folder).unwrap();
    let built = plugins();
    for library in [
        &built.topics,
        &built.misbehaving,
        &built.phrase_filter,
        &built.wrong_abi,
        &built.garbage,
        &built.crash,
        &built.story_topics,
        &built.v1_0,
    ] {
        std::fs::copy(library, folder.join(library.file_name().unwrap())).unwrap();
    }
    env
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(support::test_data(&format!("plugins/{name}"))).unwrap()
}

/// Issue 5, bar 1: the Rust topic tagger and the C phrase filter, configured between `clean` and
/// `dedupe`, prefix a headline and drop an advertorial in the daemon's briefing.
#[test]
fn example_plugins_between_built_in_stages_shape_the_briefing() {
    let env = env_with("between_built_ins.yaml");
    let out = env.briefd(&["check-config"]);
    assert!(out.contains("ok; stages: clean -> topics -> phrase-filter -> dedupe -> summarize"), "{out}");
    let mut daemon = env.start();
    for name in ["harbour.txt", "sponsored.txt", "library.txt"] {
        env.drop_file(name, &sample(name));
    }
    env.wait_until("all three files archived", Duration::from_secs(20), || env.archived().len() == 3);
    let briefing = env.wait_for_briefing(|md| md.matches("\n## ").count() == 2, Duration::from_secs(10));
    // The plugin's tag is part of the title, so the briefing shows it as text, escaped.
    assert!(briefing.contains("## \\[Harbour\\] Harbour wall repaired after winter storms"), "{briefing}");
    assert!(briefing.contains("## New public library opens in the old town"), "{briefing}");
    assert!(!briefing.contains("gadgets"), "the advertorial was dropped:\n{briefing}");
    let status = env.briefd(&["status"]);
    assert!(status.contains("sponsored.txt  [phrase-filter] mentions \"sponsored content\""), "{status}");
    assert!(daemon.stop_gracefully().success());
}

/// Issue 5, bar 2: a plugin built for ABI 2 (and a missing one) is refused by `check-config`
/// and at start, with the file, both versions and the fix.
#[test]
fn a_plugin_for_another_abi_is_refused_at_start() {
    let env = env_with("wrong_abi.yaml");
    for command in ["check-config", "run"] {
        let out = env.briefd_fails(&[command]);
        for needle in [
            "2 problem(s)",
            "stages[1] (plugin):",
            "plugins/libwrong_abi.so: plugin built for stage ABI 2, but this briefd speaks ABI 1",
            "rebuild the plugin against stage-api 1.x",
            "stages[2] (plugin):",
            "plugins/libmissing.so: no such plugin file",
        ] {
            assert!(out.contains(needle), "{command}: {needle:?} missing in:\n{out}");
        }
    }
}

/// A plugin checks its options when it starts: `check-config` and `run` both start it, so both
/// refuse an option it does not know, naming the entry, the plugin and the file.
#[test]
fn a_plugin_option_the_plugin_refuses_is_reported_by_check_config_and_run() {
    let env = env_with("bad_option.yaml");
    for command in ["check-config", "run"] {
        let out = env.briefd_fails(&[command]);
        for needle in [
            "1 problem(s)",
            "stages[1] (plugin): plugin `topics` did not start: options: unknown field `topix`",
            "plugins/libexample_stage.so",
        ] {
            assert!(out.contains(needle), "{command}: {needle:?} missing in:\n{out}");
        }
    }
}

/// `check-config` reports the config's own problems and its plugins' problems in one list.
#[test]
fn check_config_reports_config_and_plugin_problems_at_once() {
    let env = env_with("bad_option_and_values.yaml");
    let out = env.briefd_fails(&["check-config"]);
    let needles =
        ["3 problem(s)", "inbox.queue_capacity", "briefing.timezone", "stages[1] (plugin): plugin `topics`"];
    for needle in needles {
        assert!(out.contains(needle), "{needle:?} missing in:\n{out}");
    }
}

/// Issue 5, bar 2: a plugin that panics fails its article (`on_error: fail`), one that hangs is
/// timed out, disabled and passes its article on (`on_error: pass`), one that answers garbage
/// passes every article on; the daemon keeps running throughout.
#[test]
fn misbehaving_plugins_leave_the_daemon_running() {
    let env = env_with("misbehaving.yaml");
    let mut daemon = env.start();
    // The marker sits in a full paragraph, which `clean` keeps (it drops short trailing lines).
    let text = |i: usize, marker: &str| {
        format!(
            "{}\nResidents were asked to {marker} only in a real emergency, the officials added on Monday.\n",
            support::article_text(i)
        )
    };
    env.drop_file("panics.txt", text(1, "please panic").as_bytes());
    env.wait_until("the panicking article in failed/", Duration::from_secs(20), || {
        env.failed().join("panics.txt.error.txt").exists()
    });
    let report = std::fs::read_to_string(env.failed().join("panics.txt.error.txt")).unwrap();
    assert!(
        report.contains("plugin `panics`: the plugin panicked: misbehaving stage panics on panics.txt"),
        "{report}"
    );

    env.drop_file("hangs.txt", text(2, "please hang").as_bytes());
    env.wait_for_briefing(|md| md.contains("opens bridge number 2"), Duration::from_secs(20));
    env.drop_file("after.txt", text(3, "nothing odd").as_bytes());
    let briefing = env.wait_for_briefing(|md| md.contains("opens bridge number 3"), Duration::from_secs(20));
    // Similar articles may share a story; what matters is that the failed one is not shown.
    assert!(!briefing.contains("opens bridge number 1"), "{briefing}");
    let log = std::fs::read_to_string(env.root().join("daemon.log")).unwrap();
    assert!(
        log.contains("plugin disabled") && log.contains("took longer than timeout_millis (500 ms)"),
        "{log}"
    );
    assert!(log.contains("returned the unknown status 42"), "garbage passed on and logged:\n{log}");
    let status = env.briefd(&["status"]);
    assert!(status.contains("done: 2") && status.contains("failed: 1"), "{status}");
    assert!(daemon.stop_gracefully().success());
}

/// An article of `support::article_text(i)` with `marker` in a full paragraph (which `clean` keeps).
fn marked(i: usize, marker: &str) -> Vec<u8> {
    format!(
        "{}\nResidents were asked to {marker} only in a real emergency, the officials added on Monday.\n",
        support::article_text(i)
    )
    .into_bytes()
}

/// Whether the briefing mentions the article of `support::article_text(i)` ("... number 5", not
/// "number 50").
fn mentions(briefing: &str, i: usize) -> bool {
    let needle = format!("number {i}");
    briefing
        .match_indices(&needle)
        .any(|(at, _)| !briefing[at + needle.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

fn failure_report(env: &Env, name: &str) -> String {
    std::fs::read_to_string(env.failed().join(format!("{name}.error.txt"))).unwrap_or_default()
}

/// Issue 20, bar 1 and 3: C plugins in processes of their own that segfault, abort, loop forever
/// or allocate 2 GiB on one article each, with other files dropped at the same time: the daemon
/// stays up, each marked article fails with a reason naming its plugin and the signal, the
/// timeout or the memory, and every other article reaches the briefing.
#[test]
fn isolated_plugins_that_crash_loop_or_exhaust_memory_fail_only_their_article() {
    let env = env_with("isolated.yaml");
    let mut daemon = env.start();
    let poisoned = [
        ("segv.txt", "please segfault"),
        ("abort.txt", "please abort"),
        ("loop.txt", "please loop"),
        ("oom.txt", "please allocate"),
    ];
    for (i, (name, marker)) in poisoned.iter().enumerate() {
        env.drop_file(name, &marked(10 + i, marker));
    }
    let fine = ["fine-1.txt", "fine-2.txt", "fine-3.txt"];
    for (i, name) in fine.iter().enumerate() {
        env.drop_file(name, &marked(20 + i, "stay calm"));
    }
    env.wait_until("four files failed, three archived", Duration::from_secs(90), || {
        poisoned.iter().all(|(name, _)| env.failed().join(format!("{name}.error.txt")).exists())
            && env.archived().len() == 3
    });
    assert!(daemon.is_running(), "the daemon survived all four");
    let expected = [
        ("segv.txt", "plugin `segv` (", "was killed by SIGSEGV while processing this article"),
        ("abort.txt", "plugin `abort` (", "was killed by SIGABRT while processing this article"),
        (
            "loop.txt",
            "plugin `loop` (",
            "took longer than timeout_millis (1500 ms) on this article; its process was killed",
        ),
        ("oom.txt", "plugin `oom` (", "malloc of 2 GiB failed: out of memory"),
    ];
    for (name, plugin, reason) in expected {
        let report = failure_report(&env, name);
        assert!(report.contains(plugin) && report.contains("libcrash.so) "), "{name}: {report}");
        assert!(report.contains(reason), "{name}: {reason:?} missing in:\n{report}");
    }
    assert!(failure_report(&env, "oom.txt").contains("was killed by SIGABRT"));
    let briefing = env.wait_for_briefing(|md| support::sources_in(md) == 3, Duration::from_secs(20));
    for i in 20..23 {
        assert!(mentions(&briefing, i), "article {i} missing:\n{briefing}");
    }
    for i in 10..14 {
        assert!(!mentions(&briefing, i), "failed article {i} shown:\n{briefing}");
    }
    let log = env.log();
    assert!(log.contains("plugin stderr") && log.contains("out of memory"), "stderr logged:\n{log}");
    assert!(!log.contains("plugin disabled"), "one crash each disables nothing:\n{log}");
    // After its crash each plugin runs again: a later article goes through all four.
    env.drop_file("after.txt", &marked(30, "stay calm"));
    env.wait_for_briefing(|md| mentions(md, 30), Duration::from_secs(30));
    assert!(daemon.stop_gracefully().success());
}

/// Issue 20, bar 3: a plugin that segfaults on every article is restarted twice, then disabled
/// with one log line; with `on_error: pass` every article still reaches the briefing, and the
/// daemon keeps going.
#[test]
fn an_isolated_plugin_that_crashes_on_every_article_is_disabled_and_the_daemon_goes_on() {
    let env = env_with("crash_always.yaml");
    let mut daemon = env.start();
    for i in 0..5 {
        env.drop_file(&format!("a{i}.txt"), &marked(40 + i, "stay calm"));
    }
    env.wait_until("all five archived", Duration::from_secs(60), || env.archived().len() == 5);
    let briefing = env.wait_for_briefing(|md| support::sources_in(md) == 5, Duration::from_secs(20));
    assert!(mentions(&briefing, 44), "{briefing}");
    assert!(daemon.is_running());
    let log = env.log();
    assert_eq!(log.matches("plugin disabled").count(), 1, "{log}");
    assert!(log.contains("it failed 3 times in a row (the last time it was killed by SIGSEGV)"), "{log}");
    assert_eq!(log.matches("it is restarted for the next article").count(), 2, "{log}");
    assert!(log.contains("was killed by SIGSEGV while processing this article"), "{log}");
    // Each article was passed on: three after a crash, the two after them because it is disabled.
    assert_eq!(log.matches("passing the article on unchanged (on_error: pass)").count(), 5, "{log}");
    assert_eq!(log.matches("is disabled: it failed 3 times in a row").count(), 2, "{log}");
    assert!(daemon.stop_gracefully().success());
}

/// Issue 20, bar 2: an in-process plugin that segfaults on one article kills the daemon; the
/// restart resumes that article and dies again; the next restart fails the article (into
/// `failed/` with its reason) instead of running it a third time, and the files dropped with it
/// reach the briefing.
#[test]
fn an_article_that_crashes_the_daemon_twice_is_failed_at_the_next_start() {
    let env = env_with("crash_in_process.yaml");
    env.drop_file("poisoned.txt", &marked(50, "please segfault"));
    for i in 0..2 {
        env.drop_file(&format!("fine-{i}.txt"), &marked(51 + i, "stay calm"));
    }
    for run in 1..=2 {
        let mut daemon = env.start();
        let status = daemon.wait_for_exit(Duration::from_secs(30));
        assert_eq!(
            status.signal(),
            Some(libc::SIGSEGV),
            "run {run} died of the plugin's segfault: {status:?}"
        );
    }
    let mut daemon = env.start();
    env.wait_until("the poisoned file in failed/", Duration::from_secs(30), || {
        env.failed().join("poisoned.txt.error.txt").exists()
    });
    let report = failure_report(&env, "poisoned.txt");
    assert!(report.contains("stage `segv` crashed the daemon twice on this article"), "{report}");
    assert!(env.failed().join("poisoned.txt").exists(), "the file itself is kept beside its report");
    let briefing = env.wait_for_briefing(|md| support::sources_in(md) == 2, Duration::from_secs(30));
    assert!(mentions(&briefing, 51) && mentions(&briefing, 52), "{briefing}");
    assert!(!mentions(&briefing, 50), "{briefing}");
    assert!(daemon.is_running());
    let status = env.briefd(&["status"]);
    assert!(status.contains("failed: 1"), "{status}");
    assert!(daemon.stop_gracefully().success());
}

/// Issue 17: a story-stage plugin, configured after the article stages, tags each story it has
/// a topic for, and the briefing shows the tags (Markdown and JSON), whether the plugin runs in
/// its own process or in the daemon; a story it skips gets none. Beside it, an article plugin
/// built with stage-api 1.0's shorter descriptor loads and runs as before.
#[test]
fn a_story_stage_plugin_tags_the_story_in_the_briefing_in_both_isolations() {
    for isolation in ["process", "in_process"] {
        let env = env_with("story_stage.yaml");
        let path = env.root().join("config.yaml");
        let config = std::fs::read_to_string(&path).unwrap().replace("ISOLATION", isolation);
        std::fs::write(&path, config).unwrap();
        let out = env.briefd(&["check-config"]);
        assert!(out.contains("ok; stages: clean -> v1-0 -> dedupe -> summarize -> story-topics"), "{out}");
        let mut daemon = env.start();
        for name in ["harbour.txt", "library.txt"] {
            env.drop_file(name, &sample(name));
        }
        env.wait_until("both files archived", Duration::from_secs(20), || env.archived().len() == 2);
        let briefing = env.wait_for_briefing(|md| md.matches("\n## ").count() == 2, Duration::from_secs(10));
        let harbour = briefing.split("\n## ").find(|s| s.starts_with("Harbour wall")).expect("harbour story");
        assert!(harbour.contains("\nTags: topic:harbour\n"), "{isolation}:\n{briefing}");
        let library = briefing.split("\n## ").find(|s| s.starts_with("New public library")).expect("library");
        assert!(!library.contains("Tags:"), "{isolation}: the library story was skipped:\n{briefing}");
        // The formats are written one after another: the JSON may still be the previous version
        // when the Markdown is read.
        let json_path = env.briefings().join(format!("{}.json", support::today_utc()));
        let tags_in_json = || -> (Vec<serde_json::Value>, String) {
            let text = std::fs::read_to_string(&json_path).unwrap_or_default();
            let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let stories = json["stories"].as_array().cloned().unwrap_or_default();
            (stories.iter().filter_map(|s| s.get("tags").cloned()).collect(), text)
        };
        let expected = [serde_json::json!(["topic:harbour"])];
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while tags_in_json().0 != expected && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let (tags, json) = tags_in_json();
        assert_eq!(tags, expected, "{isolation}: {json}");
        assert!(daemon.stop_gracefully().success());
    }
}

/// Issue 17: a story stage runs after the article is committed, so an article stage after it
/// is refused at start and by `check-config`, naming the entry, its line and the fix; the
/// built-in `summarize` after it is a story stage too, and is not.
#[test]
fn an_article_stage_after_a_story_stage_is_refused_with_its_line() {
    let env = env_with("story_stage_misplaced.yaml");
    for command in ["check-config", "run"] {
        let out = env.briefd_fails(&[command]);
        assert!(out.contains("1 problem(s)"), "{command}: {out}");
        let line = out.lines().find(|l| l.contains("stages[2] (dedupe)")).unwrap_or_else(|| panic!("{out}"));
        assert!(line.trim_start().starts_with("11:"), "{command}: the line is named: {line}");
        assert!(
            line.contains(
                "`dedupe` is an article stage, but it comes after the story stage `story-topics` (stages[1])"
            ),
            "{line}"
        );
        assert!(!out.contains("stages[3]"), "{out}");
    }
}
