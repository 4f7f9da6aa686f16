//! Issue 21: the daemon on a PostgreSQL database (`database: postgres://…`), on this test
//! binary's throwaway cluster (`store::test_cluster`).

use std::time::Duration;

use crate::support::{self, Env};

/// An environment whose config keeps its state in a fresh PostgreSQL database.
fn on_postgres(url: &str) -> Env {
    let env = Env::new();
    let config = env.root().join("config.yaml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("database: \"{url}\"\n"));
    std::fs::write(&config, text).unwrap();
    env
}

/// `env`'s config with its inbox replaced by `inbox` (the other folders stay its own).
fn with_inbox(env: &Env, inbox: &std::path::Path) {
    let config = env.root().join("config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("path: inbox", &format!("path: {}", inbox.display()))).unwrap();
}

/// The two seed articles dropped into a daemon on PostgreSQL are one story with two sources in
/// the briefing, as on SQLite; `status` and `explain` read the same database; no SQLite file
/// is made; a second daemon on the same database and inbox runs beside the first, and a SQLite
/// daemon on that inbox is refused.
#[test]
fn seeds_reach_the_briefing_as_one_story_on_postgresql() {
    let url = store::test_cluster::database();
    let env = on_postgres(&url);
    let mut daemon = env.start();
    for seed in ["000_9df954c550cd2be9.txt", "004_74facf148fc9e229.txt"] {
        std::fs::copy(support::shared_sample(seed), env.inbox().join(seed)).unwrap();
    }
    let briefing = env.wait_for_briefing(|md| md.contains("**2 sources**"), Duration::from_secs(30));
    assert_eq!(briefing.matches("\n## ").count(), 1, "{briefing}");
    env.wait_until("both files archived", Duration::from_secs(10), || env.archived().len() == 2);
    let status = env.briefd(&["status"]);
    assert!(status.contains("done: 2") && status.contains("stories: 1"), "{status}");
    assert!(status.contains("running"), "{status}");
    assert!(!env.root().join("state").exists(), "no SQLite state beside a PostgreSQL config");

    let other = on_postgres(&url);
    with_inbox(&other, &env.inbox());
    let mut second = other.start();
    let watcher = store::Store::connect(&url).unwrap();
    other.wait_until("two daemons on the database", Duration::from_secs(10), || {
        watcher.live_daemons().unwrap().len() == 2
    });
    // Written once it runs (and handles SIGTERM): the briefing of today, at start.
    other.wait_until("the second daemon's briefing", Duration::from_secs(20), || {
        other.briefings().join(format!("{}.md", support::today_utc())).exists()
    });
    assert!(second.is_running(), "{}", other.log());
    assert!(second.stop_gracefully().success(), "{}", other.log());

    let on_sqlite = Env::new();
    with_inbox(&on_sqlite, &env.inbox());
    let refused = on_sqlite.briefd_fails(&["run"]);
    assert!(refused.contains("already taking files from the inbox"), "{refused}");

    daemon.stop_gracefully();
    let explained = env.briefd(&["explain", "004_74facf148fc9e229.txt"]);
    assert!(explained.contains("dedupe: same story"), "{explained}");
}

/// A database that does not exist stops the start with what to do, naming the URL.
#[test]
fn a_missing_postgresql_database_stops_the_start_with_what_to_do() {
    let url = store::test_cluster::cluster().url("never_created");
    let env = on_postgres(&url);
    let refused = env.briefd_fails(&["run"]);
    assert!(refused.contains("database \"never_created\" does not exist"), "{refused}");
    assert!(refused.contains("createdb never_created"), "{refused}");
}
