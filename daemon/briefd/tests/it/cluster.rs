//! Issue 21: three daemons on one inbox and one PostgreSQL database (this test binary's
//! throwaway cluster), SIGKILLed at random moments and restarted while files arrive: every file
//! is archived or failed exactly once, nothing is left waiting, each article is in exactly one
//! story, and the briefing lists each story and each source once.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::time::{Duration, Instant};

use crate::faults::{accounted, waiting, Tally};
use crate::support::{self, Daemon, Env};

/// Generated articles dropped (besides the two seeds, the copies and the bad file).
const ARTICLES: usize = 30;
/// Articles dropped again under another name: the same bytes, so duplicates.
const COPIES: [usize; 3] = [3, 11, 22];
/// SIGKILLs, each followed by a restart of the daemon killed.
const KILLS: usize = 6;

/// One config for the three daemons: the shared inbox, folders and database; a short lease
/// (3 s, renewed every second) and rescan, so a killed daemon's files are taken over quickly.
fn cluster_env(url: &str) -> Env {
    let env = Env::new();
    let config = env.root().join("config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace(
        "rescan_interval_seconds: 2",
        "rescan_interval_seconds: 1\n  claim_lease_seconds: 3\n  heartbeat_seconds: 1",
    );
    assert!(text.contains("claim_lease_seconds"), "the test config changed: {text}");
    std::fs::write(&config, format!("{text}database: \"{url}\"\n")).unwrap();
    env
}

/// The seed of the kills: `BRIEFD_CLUSTER_SEED` to repeat a run, else the clock's.
fn seed() -> u64 {
    match std::env::var("BRIEFD_CLUSTER_SEED") {
        Ok(seed) => seed.parse().expect("BRIEFD_CLUSTER_SEED is a whole number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    }
}

/// The files to drop, in order: (name, bytes).
fn files() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = (0..ARTICLES)
        .map(|i| (format!("article-{i:02}.txt"), support::article_text(i).into_bytes()))
        .collect();
    for seed in ["000_9df954c550cd2be9.txt", "004_74facf148fc9e229.txt"] {
        files.push((seed.to_string(), std::fs::read(support::shared_sample(seed)).unwrap()));
    }
    for i in COPIES {
        files.push((format!("copy-of-article-{i:02}.txt"), support::article_text(i).into_bytes()));
    }
    files.push(("broken.png".into(), std::fs::read(support::test_data("inputs/binary.png")).unwrap()));
    files
}

#[test]
fn three_daemons_killed_at_random_lose_and_double_nothing() {
    let seed = seed();
    println!("three daemons, SIGKILL seed {seed} (BRIEFD_CLUSTER_SEED={seed} repeats it)");
    let mut rng = support::Rng(seed);
    let url = store::test_cluster::database();
    let env = cluster_env(&url);
    // At info, so the log shows each takeover of a killed daemon's files.
    let start = || {
        env.start_with(|command| {
            command.env("BRIEFD_LOG", "info");
        })
    };
    let mut daemons: Vec<Daemon> = (0..3).map(|_| start()).collect();
    let watcher = store::Store::connect(&url).unwrap();
    env.wait_until("three daemons up", Duration::from_secs(30), || {
        watcher.live_daemons().unwrap().len() == 3
    });
    let started = Instant::now();
    let files = files();
    let names: Vec<OsString> = files.iter().map(|(name, _)| OsString::from(name)).collect();
    let waves = files.chunks(files.len().div_ceil(KILLS));
    for (wave, kill) in waves.zip(0..KILLS) {
        for (name, bytes) in wave {
            env.drop_file(name, bytes);
        }
        // A random moment, not a synchronisation: the kill lands wherever the daemon is.
        // Files take tens of milliseconds each here, so a kill this soon often lands mid-file.
        std::thread::sleep(Duration::from_millis(rng.below(400)));
        let victim = rng.below(daemons.len() as u64) as usize;
        println!("kill {kill}: daemon {victim} at {:.2} s", started.elapsed().as_secs_f64());
        daemons.remove(victim).kill9();
        daemons.insert(victim, start());
    }
    let mut db = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    let count = |db: &mut ::postgres::Client, sql: &str| -> i64 { db.query_one(sql, &[]).unwrap().get(0) };
    // The store settles after the files do: a daemon killed between a move and its note leaves
    // the note and its claim to the next rescan once its lease lapses.
    env.wait_until("every file archived or failed, and noted", Duration::from_secs(90), || {
        accounted(&env) >= files.len()
            && waiting(&env).is_empty()
            && count(&mut db, "SELECT COUNT(*) FROM files WHERE moved = 0") == 0
            && count(&mut db, "SELECT COUNT(*) FROM claims") == 0
    });
    // The briefing follows the last commit within a debounce; every daemon may write it.
    let done = files.len() - COPIES.len() - 1;
    let briefing = env.wait_for_briefing(|md| support::sources_in(md) == done, Duration::from_secs(30));
    for daemon in &mut daemons {
        assert!(daemon.stop_gracefully().success(), "{}", env.log());
    }

    let mut tally = Tally::account(&env, &format!("3 daemons ({KILLS} × SIGKILL)"), &names);
    tally.restarts = KILLS;
    tally.seconds = started.elapsed().as_secs_f64();
    tally.print();
    let takeovers = env.log().lines().filter(|l| l.contains("resuming files left in flight")).count();
    println!("takeovers of files left in flight: {takeovers}");
    tally.assert_nothing_lost_or_doubled();
    assert!(waiting(&env).is_empty(), "nothing left in the inbox or the processing folder");
    assert_eq!(tally.failed.values().sum::<usize>(), 1, "only the bad file failed: {:?}", tally.failed);
    assert!(env.failed().join("broken.png").exists(), "the bad file is in failed/");

    let twice =
        db.query("SELECT original_name FROM files GROUP BY original_name HAVING COUNT(*) > 1", &[]).unwrap();
    assert!(twice.is_empty(), "a file recorded twice");
    for row in db.query("SELECT state, COUNT(*), string_agg(convert_from(original_name, 'UTF8') || ': ' || COALESCE(reason, ''), '; ') FROM files GROUP BY state", &[]).unwrap() {
        let (state, n, names): (String, i64, String) = (row.get(0), row.get(1), row.get(2));
        println!("{state}: {n}{}", if state == "done" { String::new() } else { format!(" ({names})") });
    }
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM files WHERE state = 'duplicate'"), COPIES.len() as i64);
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM files WHERE state = 'done'"), done as i64);
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM articles"), done as i64, "one article per done file");
    assert_eq!(count(&mut db, "SELECT COUNT(DISTINCT file_id) FROM articles"), done as i64);
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM articles a JOIN stories s ON s.id = a.story_id WHERE s.merged_into IS NOT NULL"
        ),
        0,
        "every article in a live story"
    );

    let json =
        std::fs::read_to_string(env.briefings().join(format!("{}.json", support::today_utc()))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let stories = json["stories"].as_array().unwrap();
    let story_ids: BTreeSet<i64> = stories.iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(story_ids.len(), stories.len(), "a story listed twice");
    let live = count(&mut db, "SELECT COUNT(DISTINCT story_id) FROM articles");
    assert_eq!(stories.len() as i64, live, "every story in the briefing");
    let mut sources: Vec<i64> = stories
        .iter()
        .flat_map(|s| s["sources"].as_array().unwrap().iter().map(|a| a["article_id"].as_i64().unwrap()))
        .collect();
    sources.sort_unstable();
    let n_sources = sources.len();
    sources.dedup();
    assert_eq!((n_sources, sources.len()), (done, done), "each article once, in one story");
    let shown = |name: &str| briefing.matches(&format!("`{name}`")).count();
    for name in names.iter().map(|n| n.to_string_lossy()) {
        if name.starts_with("copy-of-") {
            // Either of the two may be the one found a duplicate: the one accepted second.
            let original = name.trim_start_matches("copy-of-");
            assert_eq!(shown(&name) + shown(original), 1, "{name} or {original} once in the briefing");
        } else if !COPIES.iter().any(|i| name == format!("article-{i:02}.txt")) {
            assert_eq!(shown(&name), usize::from(name != "broken.png"), "{name} in the briefing");
        }
    }
}
