//! Issue 19, bar 2: SIGHUP reloads the config through the real binary. A valid config's stages
//! take the next file; a broken one is refused with its problem logged and the daemon goes on
//! with the running config; a plugin added to the config starts working without a restart.

use std::time::Duration;

use crate::plugin_build::plugins;
use crate::support::{self, Daemon, Env};

fn hangup(daemon: &Daemon) {
    // SAFETY: kill(2) with a pid this test spawned and a plain signal number.
    let rc = unsafe { libc::kill(daemon.pid() as libc::pid_t, libc::SIGHUP) };
    assert_eq!(rc, 0, "kill -HUP");
}

fn write_config(env: &Env, text: &str) {
    // Written beside, then renamed: the daemon never reads half a file.
    let tmp = env.root().join("config.yaml.new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, env.root().join("config.yaml")).unwrap();
}

fn config_with(stages: &str) -> String {
    let base = std::fs::read_to_string(support::test_data("config.yaml")).unwrap();
    let head = base.split("stages:").next().unwrap().to_string();
    format!("{head}stages:\n{stages}")
}

const SHORT: &[u8] = b"The harbour ferry runs again after the storm, the operator said on Monday.";

#[test]
fn a_valid_config_takes_the_next_file_and_a_broken_one_changes_nothing() {
    let env = Env::new();
    let mut daemon = env.start_with(|cmd| {
        cmd.env("BRIEFD_LOG", "info,trafilatura=warn");
    });
    env.drop_file("first.txt", SHORT);
    env.wait_until("the first file archived", Duration::from_secs(20), || env.archived().len() == 1);

    // A clean stage that wants 50 words refuses the next short file.
    write_config(&env, &config_with("  - kind: clean\n    min_words: 50\n  - kind: dedupe\n"));
    hangup(&daemon);
    env.wait_until("the reload logged", Duration::from_secs(10), || env.log().contains("config reloaded"));
    env.drop_file(
        "second.txt",
        b"The tram line reopens on Friday after three weeks of track repairs in town.",
    );
    env.wait_until("the second file failed", Duration::from_secs(20), || {
        support::files_in(&env.failed()).iter().any(|f| f.ends_with("second.txt"))
    });
    let reason = std::fs::read_to_string(env.failed().join("second.txt.error.txt")).unwrap();
    assert!(reason.contains("min_words (50)"), "{reason}");

    // A broken file is refused, named with its line; the 50-word clean stays.
    write_config(&env, &config_with("  - kind: clean\n    min_words: lots\n"));
    hangup(&daemon);
    env.wait_until("the refusal logged", Duration::from_secs(10), || {
        env.log().contains("config not reloaded")
    });
    let log = env.log();
    assert!(log.contains("stages[0].min_words"), "the problem is named: {log}");
    assert!(daemon.is_running(), "a bad config does not stop the daemon");
    env.drop_file("third.txt", b"Short notes about the weather on the coast this week are all we have.");
    env.wait_until("the third file failed", Duration::from_secs(20), || {
        support::files_in(&env.failed()).iter().any(|f| f.ends_with("third.txt"))
    });
    assert_eq!(env.archived().len(), 1);
    daemon.stop_gracefully();
}

#[test]
fn a_plugin_added_by_a_reload_shapes_the_next_article() {
    let env = Env::new();
    let folder = env.root().join("plugins");
    std::fs::create_dir(&folder).unwrap();
    let topics = plugins().topics.clone();
    std::fs::copy(&topics, folder.join(topics.file_name().unwrap())).unwrap();
    let mut daemon = env.start_with(|cmd| {
        cmd.env("BRIEFD_LOG", "info,trafilatura=warn");
    });
    env.drop_file("before.txt", std::fs::read(support::test_data("plugins/library.txt")).unwrap().as_slice());
    env.wait_until("the first file archived", Duration::from_secs(20), || env.archived().len() == 1);
    let plugin = format!(
        "  - kind: clean\n  - kind: plugin\n    path: plugins/{}\n    options:\n      topics: {{ harbour: [harbour, ferry] }}\n      title_prefix: true\n  - kind: dedupe\n  - kind: summarize\n",
        topics.file_name().unwrap().to_string_lossy()
    );
    write_config(&env, &config_with(&plugin));
    hangup(&daemon);
    env.wait_until("the reload logged", Duration::from_secs(10), || env.log().contains("config reloaded"));
    env.drop_file("after.txt", std::fs::read(support::test_data("plugins/harbour.txt")).unwrap().as_slice());
    let md = env.wait_for_briefing(|md| md.matches("\n## ").count() == 2, Duration::from_secs(20));
    daemon.stop_gracefully();
    assert!(
        md.contains("## \\[Harbour\\] Harbour wall repaired"),
        "the plugin tagged the article after the reload:\n{md}"
    );
    assert!(md.contains("## New public library opens in the old town"), "the one before is untouched:\n{md}");
}
