//! Issue 5: stage plugins loaded by the real daemon, between built-in stages; refused when built
//! for another ABI; contained when they panic, hang or answer garbage.

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
    for library in [&built.topics, &built.misbehaving, &built.phrase_filter, &built.wrong_abi, &built.garbage]
    {
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
