//! Several daemons on one store (issue 21): who is alive, which files in flight are whose, and
//! the two sections that run one daemon at a time.
//!
//! Each daemon has a row in `daemons` with a lease (milliseconds since the epoch, by the
//! database's clock, so machines with clocks apart still agree) that its heartbeat renews
//! ([`Store::renew_lease`]). Whatever a daemon holds is held under that one lease: a file it
//! claimed (`claims`), the story its editor writes (`summary_queue.taken_by`). A lapsed lease
//! means a dead daemon, and what it held is anyone's.
//!
//! A file is claimed in two steps around its rename into the processing folder: the claim is
//! recorded first ([`Store::begin_claim`], unique by inbox name among claims not yet renamed,
//! so of two daemons that see one file only one goes on to rename it), then marked renamed
//! ([`Store::claim_renamed`]). So no file is in the processing folder without a claim, except
//! one put there by an older briefd or `briefd ingest`, which the first daemon to look takes.
//! The claim goes when the file has left the processing folder ([`Store::mark_moved`]).
//!
//! A SQLite database has one daemon at a time (its lock file beside the database says so), so
//! there the rename alone decides and nothing of the claims is written: every file in the
//! processing folder is the starting daemon's to take over, at once, as before; its lease is
//! registered (for the editor's taken story) but not renewed, and registering ends every other
//! registration. The daemon code is the same for both.
//!
//! The serialised sections are PostgreSQL session advisory locks ([`Serialised`]): the story
//! assignment (dedupe's reads of the stories through the commit of the article) and the
//! writing of one day's briefing. They are taken by polling `pg_try_advisory_lock`, never by
//! waiting in the server: the store's one connection is shared by the daemon's threads, and a
//! thread waiting in the server for another daemon would hold it, which can close a circle of
//! waits between two daemons that the server cannot see. On SQLite they are no-ops.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::db::{params, Db, DbError, Dialect};
use crate::{now, Backend, Result, Store};

/// The lease of a store whose daemon has not registered (tests, `status`).
pub(crate) const DEFAULT_LEASE_MILLIS: u64 = 30_000;

/// The advisory lock key of the story assignment (dedupe through the commit).
const ASSIGNMENT_LOCK: i64 = 0x6272_6965_6664_0003;
/// The advisory lock keys of the days' briefings: this, plus the day as YYYYMMDD.
const DAY_LOCK_BASE: i64 = 0x6272_6965_6600_0000;

/// The longest pause between two tries of a busy advisory lock.
const MOST_PATIENT_POLL: Duration = Duration::from_millis(20);

/// A name no other process has: host, pid and the time of opening.
pub(crate) fn instance_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{host}-{}-{nanos:x}", std::process::id())
}

/// The SQL that is true when the daemon named by `column` holds a running lease.
fn alive(dialect: Dialect, column: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM daemons d WHERE d.id = {column} AND d.lease_until > {})",
        dialect.now_millis()
    )
}

/// The lock of one day's briefing: the day's digits, so two days never share one.
fn day_key(day: &str) -> i64 {
    let digits: String = day.chars().filter(char::is_ascii_digit).take(8).collect();
    match digits.parse::<i64>() {
        Ok(n) if digits.len() == 8 => DAY_LOCK_BASE + n,
        // Not a date (no caller passes one): every such name shares the base key, which is
        // merely more serialised than needed.
        _ => DAY_LOCK_BASE,
    }
}

/// The lock serialising the accepts of one content hash (16 hex digits of it).
pub(crate) fn hash_key(content_hash: &str) -> i64 {
    let head = content_hash.get(..16).unwrap_or(content_hash);
    u64::from_str_radix(head, 16).map(|n| n as i64).unwrap_or(0)
}

/// Takes, for the rest of the transaction, the lock of `key` (PostgreSQL; SQLite's one writer
/// needs none). Waits in the server: for statements inside one store call only, which never
/// wait on anything of another daemon's but such a transaction.
pub(crate) fn lock_in_transaction(db: &mut dyn Db, key: i64) -> crate::db::DbResult<()> {
    if db.dialect() == Dialect::Postgres {
        db.execute("SELECT 1 FROM (SELECT pg_advisory_xact_lock(?1)) AS taken", params![key])?;
    }
    Ok(())
}

/// A section one daemon at a time runs in, held until dropped (see the module's docs).
pub struct Serialised<'a> {
    store: &'a Store,
    /// `None` on SQLite, where there is nothing to release.
    key: Option<i64>,
    /// Whether this is the story assignment, whose time is counted.
    assignment: bool,
}

/// The time this process spent in the story assignment and waiting to enter it: the serialised
/// share of the work, for the scaling benchmark (`bench/cluster`) and the log at stop.
#[derive(Debug, Default)]
pub(crate) struct SectionClock(Mutex<SectionTimes>);

#[derive(Debug, Default)]
struct SectionTimes {
    /// Nested entries held now (the pipeline's and the commit's).
    depth: u32,
    since: Option<Instant>,
    held: Duration,
    waited: Duration,
}

impl SectionClock {
    fn enter(&self, waited: Duration) {
        let mut times = self.0.lock().unwrap_or_else(|e| e.into_inner());
        times.waited += waited;
        if times.depth == 0 {
            times.since = Some(Instant::now());
        }
        times.depth += 1;
    }

    fn leave(&self) {
        let mut times = self.0.lock().unwrap_or_else(|e| e.into_inner());
        times.depth = times.depth.saturating_sub(1);
        if times.depth == 0 {
            if let Some(since) = times.since.take() {
                times.held += since.elapsed();
            }
        }
    }
}

impl Drop for Serialised<'_> {
    fn drop(&mut self) {
        if self.assignment {
            self.store.assignment_clock.leave();
        }
        if let Some(key) = self.key {
            // Unlocking fails only with the connection, whose session (and so the lock) is gone
            // then: nothing is left held.
            let _ = self.store.one(|db| {
                db.execute("SELECT 1 FROM (SELECT pg_advisory_unlock(?1)) AS released", params![key])
            });
        }
    }
}

impl Store {
    /// This process's name among the daemons sharing the database.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// True on SQLite: one daemon, whose claims need no record.
    fn alone(&self) -> bool {
        matches!(self.backend, Backend::Sqlite(_))
    }

    fn lease_millis(&self) -> i64 {
        i64::try_from(self.lease_millis.load(std::sync::atomic::Ordering::SeqCst)).unwrap_or(i64::MAX)
    }

    /// Joins the daemons working on this database, with a lease of `lease` that
    /// [`Store::renew_lease`] must renew. On SQLite, where the lock file admits one daemon, every
    /// other registration is a dead daemon's and ends here, so its files are taken over at once.
    pub fn register_daemon(&self, lease: Duration) -> Result<()> {
        let millis = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(1);
        self.lease_millis.store(millis, std::sync::atomic::Ordering::SeqCst);
        let lease = self.lease_millis();
        let host = self.instance.rsplitn(3, '-').nth(2).unwrap_or("unknown").to_string();
        self.tx(|db| {
            let now_ms = db.dialect().now_millis();
            if db.dialect() == Dialect::Sqlite {
                db.execute("DELETE FROM daemons", &[])?;
            } else {
                // Rows of daemons dead for a day: nothing refers to them that a live lease
                // would not override, so they only take room.
                db.execute(&format!("DELETE FROM daemons WHERE lease_until < {now_ms} - 86400000"), &[])?;
            }
            db.execute(
                &format!(
                    "INSERT INTO daemons (id, host, pid, started_at, lease_until) VALUES (?1, ?2, ?3, ?4, {now_ms} + ?5)
                     ON CONFLICT (id) DO UPDATE SET lease_until = excluded.lease_until"
                ),
                params![self.instance, host, std::process::id(), now(), lease],
            )?;
            Ok::<_, DbError>(())
        })
    }

    /// Renews this daemon's lease (its heartbeat). `Ok(false)` when the lease had lapsed before
    /// this renewal: another daemon may have taken over what this one held meanwhile.
    pub fn renew_lease(&self) -> Result<bool> {
        if self.alone() {
            return Ok(true);
        }
        let lease = self.lease_millis();
        self.tx(|db| {
            let now_ms = db.dialect().now_millis();
            let renewed = db.execute(
                &format!(
                    "UPDATE daemons SET lease_until = {now_ms} + ?2 WHERE id = ?1 AND lease_until > {now_ms}"
                ),
                params![self.instance, lease],
            )?;
            if renewed == 1 {
                return Ok::<_, DbError>(true);
            }
            db.execute(
                &format!(
                    "INSERT INTO daemons (id, host, pid, started_at, lease_until) VALUES (?1, '', ?2, ?3, {now_ms} + ?4)
                     ON CONFLICT (id) DO UPDATE SET lease_until = excluded.lease_until"
                ),
                params![self.instance, std::process::id(), now(), lease],
            )?;
            Ok(false)
        })
    }

    /// Leaves the daemons working on this database (a clean stop): what this daemon still holds
    /// (files queued but not started, the editor's story) is anyone's at once.
    pub fn leave(&self) -> Result<()> {
        self.one(|db| db.execute("DELETE FROM daemons WHERE id = ?1", params![self.instance]).map(|_| ()))
    }

    /// Claims the inbox file `original_name` for this daemon, to be renamed to
    /// `processing_name`, before the rename. `false` when another live daemon is claiming a
    /// file of that name: it is that daemon's to take. A lapsed claim on the name (its daemon
    /// died before renaming) is replaced.
    pub fn begin_claim(&self, processing_name: &[u8], original_name: &[u8]) -> Result<bool> {
        if self.alone() {
            return Ok(true);
        }
        self.tx(|db| {
            let alive = alive(db.dialect(), "claims.owner");
            db.execute(
                &format!("DELETE FROM claims WHERE original_name = ?1 AND renamed = 0 AND NOT {alive}"),
                params![original_name],
            )?;
            let inserted = db.execute(
                "INSERT INTO claims (processing_name, original_name, owner, renamed, claimed_at)
                 VALUES (?1, ?2, ?3, 0, ?4) ON CONFLICT DO NOTHING",
                params![processing_name, original_name, self.instance, now()],
            )?;
            Ok::<_, DbError>(inserted == 1)
        })
    }

    /// The claimed file is in the processing folder now: its inbox name is free for the next
    /// file of that name.
    pub fn claim_renamed(&self, processing_name: &[u8]) -> Result<()> {
        if self.alone() {
            return Ok(());
        }
        self.one(|db| {
            db.execute("UPDATE claims SET renamed = 1 WHERE processing_name = ?1", params![processing_name])
                .map(|_| ())
        })
    }

    /// Gives up this daemon's claim of a file it did not take after all (gone from the inbox).
    pub fn drop_claim(&self, processing_name: &[u8]) -> Result<()> {
        if self.alone() {
            return Ok(());
        }
        self.one(|db| {
            db.execute(
                "DELETE FROM claims WHERE processing_name = ?1 AND owner = ?2",
                params![processing_name, self.instance],
            )
            .map(|_| ())
        })
    }

    /// Of the files in the processing folder (`(processing name, inbox name)`, as listed now),
    /// claims for this daemon those whose claim's daemon is dead, or that have no claim (an
    /// older briefd's, `briefd ingest`'s), and returns their processing names in the order given;
    /// never a live daemon's file. A file without a claim may also be one a daemon has just moved
    /// out (the claim goes after the move): the caller checks that a file it got is still there,
    /// and drops the claim if not. Also drops the dead daemons' claims of files no longer there.
    pub fn take_over(&self, in_processing: &[(Vec<u8>, Vec<u8>)]) -> Result<Vec<Vec<u8>>> {
        if self.alone() {
            return Ok(in_processing.iter().map(|(name, _)| name.clone()).collect());
        }
        self.tx(|db| {
            let alive_owner = alive(db.dialect(), "owner");
            let mut taken = Vec::new();
            for (processing_name, original_name) in in_processing {
                let row = db.query_opt(
                    &format!("SELECT owner, CASE WHEN {alive_owner} THEN 1 ELSE 0 END FROM claims WHERE processing_name = ?1"),
                    params![processing_name],
                )?;
                let got = match row {
                    None => db.execute(
                        "INSERT INTO claims (processing_name, original_name, owner, renamed, claimed_at)
                         VALUES (?1, ?2, ?3, 1, ?4) ON CONFLICT DO NOTHING",
                        params![processing_name, original_name, self.instance, now()],
                    )?,
                    Some(row) => {
                        let owner: String = row.get(0)?;
                        let owner_alive: i64 = row.get(1)?;
                        if owner == self.instance || owner_alive == 1 {
                            0
                        } else {
                            db.execute(
                                "UPDATE claims SET owner = ?1, renamed = 1 WHERE processing_name = ?2 AND owner = ?3",
                                params![self.instance, processing_name, owner],
                            )?
                        }
                    }
                };
                if got == 1 {
                    taken.push(processing_name.clone());
                }
            }
            let dead = db.query(
                &format!("SELECT processing_name, owner FROM claims WHERE owner != ?1 AND NOT {alive_owner}"),
                params![self.instance],
            )?;
            for row in dead {
                let processing_name: Vec<u8> = row.get(0)?;
                let owner: String = row.get(1)?;
                if !in_processing.iter().any(|(name, _)| *name == processing_name) {
                    // Killed between moving the file to its recorded destination and noting it:
                    // the move is done (a start's `Worker::recover` does the same).
                    db.execute(
                        "UPDATE files SET moved = 1 WHERE processing_name = ?1 AND state != 'accepted' AND moved = 0",
                        params![processing_name],
                    )?;
                    db.execute(
                        "DELETE FROM claims WHERE processing_name = ?1 AND owner = ?2",
                        params![processing_name, owner],
                    )?;
                }
            }
            Ok::<_, DbError>(taken)
        })
    }

    /// True when another live daemon holds the file (its claim): not this daemon's to repair.
    pub fn held_by_another(&self, processing_name: &[u8]) -> Result<bool> {
        if self.alone() {
            return Ok(false);
        }
        self.one(|db| {
            let alive_owner = alive(db.dialect(), "owner");
            let held = db.query_opt(
                &format!("SELECT 1 FROM claims WHERE processing_name = ?1 AND owner != ?2 AND {alive_owner}"),
                params![processing_name, self.instance],
            )?;
            Ok::<_, DbError>(held.is_some())
        })
    }

    /// The files in flight, each with the daemon that holds it and whether that one is alive
    /// (for `status` and tests), by processing name.
    pub fn claims(&self) -> Result<Vec<(Vec<u8>, String, bool)>> {
        self.one(|db| {
            let alive_owner = alive(db.dialect(), "owner");
            let found = db.query(
                &format!(
                    "SELECT processing_name, owner, CASE WHEN {alive_owner} THEN 1 ELSE 0 END FROM claims ORDER BY processing_name"
                ),
                &[],
            )?;
            crate::model::rows(found, |r| Ok((r.get(0)?, r.get(1)?, r.get::<i64>(2)? == 1)))
        })
    }

    /// The live daemons on this database (leases running), by name.
    pub fn live_daemons(&self) -> Result<Vec<String>> {
        self.one(|db| {
            let found = db.query(
                &format!(
                    "SELECT id FROM daemons WHERE lease_until > {} ORDER BY id",
                    db.dialect().now_millis()
                ),
                &[],
            )?;
            crate::model::rows(found, |r| r.get(0))
        })
    }

    /// Enters the story assignment: from dedupe's first read of the stories to the commit of the
    /// article, one daemon at a time, so that two never both start a story for one event.
    pub fn lock_assignment(&self) -> Result<Serialised<'_>> {
        let asked = Instant::now();
        let mut entered = self.serialise(ASSIGNMENT_LOCK)?;
        self.assignment_clock.enter(asked.elapsed());
        entered.assignment = true;
        Ok(entered)
    }

    /// The time this process has held the story assignment, and waited to enter it, since it
    /// opened the store (on SQLite the section is the same, with nothing to wait for).
    pub fn assignment_time(&self) -> (Duration, Duration) {
        let times = self.assignment_clock.0.lock().unwrap_or_else(|e| e.into_inner());
        let held_now = times.since.map(|since| since.elapsed()).unwrap_or_default();
        (times.held + held_now, times.waited)
    }

    /// Enters the writing of `day`'s briefing: one writer at a time, so the last to write is the
    /// last to have read the store.
    pub fn lock_day(&self, day: &str) -> Result<Serialised<'_>> {
        self.serialise(day_key(day))
    }

    fn serialise(&self, key: i64) -> Result<Serialised<'_>> {
        if matches!(self.backend, Backend::Sqlite(_)) {
            return Ok(Serialised { store: self, key: None, assignment: false });
        }
        let mut pause = Duration::from_millis(1);
        loop {
            let got: i64 = self.one(|db| {
                db.query_one("SELECT CASE WHEN pg_try_advisory_lock(?1) THEN 1 ELSE 0 END", params![key])?
                    .get(0)
            })?;
            if got == 1 {
                return Ok(Serialised { store: self, key: Some(key), assignment: false });
            }
            // Without the connection: this daemon's other threads go on meanwhile.
            std::thread::sleep(pause);
            pause = (pause * 2).min(MOST_PATIENT_POLL);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use stage_api::Article;

    use crate::{test_cluster, Store};

    const LONG: Duration = Duration::from_secs(60);

    fn daemon(url: &str, lease: Duration) -> Store {
        let store = Store::connect(url).expect("connect");
        store.register_daemon(lease).expect("register");
        store
    }

    fn listed(names: &[&str]) -> Vec<(Vec<u8>, Vec<u8>)> {
        names.iter().map(|n| (n.as_bytes().to_vec(), format!("orig-{n}").into_bytes())).collect()
    }

    fn names(taken: Vec<Vec<u8>>) -> Vec<String> {
        taken.into_iter().map(|n| String::from_utf8(n).expect("UTF-8")).collect()
    }

    /// Waits (bounded) until `done`.
    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A committed article in a story of its own, queued for the editor.
    fn new_story(store: &Store, name: &str) -> i64 {
        let file = store.accept_file(name.as_bytes(), name.as_bytes(), name, 1).expect("accept");
        let article = Article { file_name: name.into(), text: format!("{name} text"), ..Default::default() };
        store.commit_item(file.id, &article, "2026-12-02").expect("commit")
    }

    #[test]
    fn each_day_has_its_own_lock() {
        assert_ne!(super::day_key("2026-12-02"), super::day_key("2026-12-03"));
        assert_eq!(super::day_key("2026-12-02"), super::DAY_LOCK_BASE + 20261202);
    }

    /// Eight daemons claiming one inbox name at once: exactly one gets it; once renamed, the
    /// name is free for the next file of that name.
    #[test]
    fn a_file_several_daemons_claim_at_once_goes_to_one() {
        let url = test_cluster::database();
        let daemons: Vec<Arc<Store>> = (0..8).map(|_| Arc::new(daemon(&url, LONG))).collect();
        let start = Arc::new(std::sync::Barrier::new(daemons.len()));
        let threads: Vec<_> = daemons
            .iter()
            .enumerate()
            .map(|(i, store)| {
                let (store, start) = (store.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    store.begin_claim(format!("p{i}").as_bytes(), b"a.txt").expect("claim")
                })
            })
            .collect();
        let won: Vec<usize> = threads
            .into_iter()
            .enumerate()
            .filter_map(|(i, t)| t.join().expect("no panic").then_some(i))
            .collect();
        assert_eq!(won.len(), 1, "{won:?}");
        let (winner, other) = (&daemons[won[0]], &daemons[(won[0] + 1) % daemons.len()]);
        assert!(!other.begin_claim(b"late", b"a.txt").expect("claim"), "claimed while being renamed");
        winner.claim_renamed(format!("p{}", won[0]).as_bytes()).expect("renamed");
        assert!(other.begin_claim(b"late", b"a.txt").expect("claim"), "the name stays claimed");
    }

    /// A live daemon's files are never taken over; a dead one's are, by one daemon, once its
    /// lease lapses; a file no one claimed is taken; a dead claim of a file no longer there goes.
    #[test]
    fn only_a_dead_daemons_files_are_taken_over() {
        let url = test_cluster::database();
        let short = daemon(&url, Duration::from_millis(400));
        let (b, c) = (daemon(&url, LONG), daemon(&url, LONG));
        for name in ["p1", "p2"] {
            assert!(short.begin_claim(name.as_bytes(), format!("orig-{name}").as_bytes()).expect("claim"));
            short.claim_renamed(name.as_bytes()).expect("renamed");
        }
        // p2 was moved out while its daemon lived; p3 has no claim (an older briefd's).
        assert_eq!(names(b.take_over(&listed(&["p1", "p3"])).expect("take over")), ["p3"]);
        assert!(c.take_over(&listed(&["p1", "p3"])).expect("take over").is_empty(), "b's and short's");
        assert!(short.renew_lease().expect("renew"), "renewed within its lease");
        drop(short);
        wait_until("the lease lapses", || b.live_daemons().expect("daemons").len() == 2);
        let taken = std::thread::scope(|scope| {
            let by_b = scope.spawn(|| b.take_over(&listed(&["p1", "p3"])).expect("take over"));
            let by_c = scope.spawn(|| c.take_over(&listed(&["p1", "p3"])).expect("take over"));
            (names(by_b.join().expect("b")), names(by_c.join().expect("c")))
        });
        let mut all = [taken.0.clone(), taken.1.clone()].concat();
        all.sort();
        assert_eq!(all, ["p1"], "{taken:?}");
        let claims = b.claims().expect("claims");
        let p1_owner = &claims.iter().find(|(n, _, _)| n == b"p1").expect("p1 claimed").1;
        let taker = if taken.0.is_empty() { c.instance() } else { b.instance() };
        assert_eq!(p1_owner, taker);
        assert!(claims.iter().all(|(n, _, alive)| n != b"p2" && *alive), "{claims:?}");
    }

    /// A lapsed lease is told at its next renewal, which renews it all the same.
    #[test]
    fn a_renewal_after_the_lease_lapsed_says_so() {
        let url = test_cluster::database();
        let store = daemon(&url, Duration::from_millis(100));
        wait_until("the lease lapses", || store.live_daemons().expect("daemons").is_empty());
        assert!(!store.renew_lease().expect("renew"));
        assert_eq!(store.live_daemons().expect("daemons"), [store.instance().to_string()]);
    }

    /// On SQLite the lock file admits one daemon: a restart takes every file in the processing
    /// folder at once, and the story the dead run's editor held, and no claim is written.
    #[test]
    fn on_sqlite_a_restart_takes_the_dead_runs_files_and_story_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("briefd.db");
        let first = Store::open(&path).expect("open");
        first.register_daemon(LONG).expect("register");
        first.queue_model_summaries(true);
        let story = new_story(&first, "one");
        assert_eq!(first.next_stale_story(5).expect("next").expect("queued").story_id, story);
        assert!(first.begin_claim(b"p1", b"orig-p1").expect("claim"));
        first.claim_renamed(b"p1").expect("renamed");
        drop(first);
        let second = Store::open(&path).expect("open");
        second.register_daemon(LONG).expect("register");
        assert_eq!(names(second.take_over(&listed(&["p1", "p2"])).expect("take over")), ["p1", "p2"]);
        assert!(second.claims().expect("claims").is_empty(), "no claim written");
        assert_eq!(second.next_stale_story(5).expect("next").expect("the dead run's").story_id, story);
    }

    /// The story assignment is timed from its outermost entry to its outermost exit (the
    /// commit's entry nests in the pipeline's), and not after.
    #[test]
    fn the_assignment_is_timed_from_outermost_entry_to_exit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("briefd.db")).expect("open");
        let outer = store.lock_assignment().expect("enter");
        drop(store.lock_assignment().expect("enter again"));
        let left_inner = store.assignment_time().0;
        wait_until("the clock runs on after the inner exit", || store.assignment_time().0 > left_inner);
        drop(outer);
        let left = store.assignment_time().0;
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(store.assignment_time().0, left, "the clock stops at the outermost exit");
    }

    /// Two editors never take one story: each gets its own, and a dead daemon's story returns
    /// to the queue.
    #[test]
    fn two_editors_take_two_stories_and_a_dead_ones_returns() {
        let url = test_cluster::database();
        let a = daemon(&url, LONG);
        a.queue_model_summaries(true);
        let (s1, s2) = (new_story(&a, "one"), new_story(&a, "two"));
        let b = daemon(&url, LONG);
        let first = a.next_stale_story(5).expect("next").expect("a story").story_id;
        let second = b.next_stale_story(5).expect("next").expect("a story").story_id;
        let mut both = [first, second];
        both.sort();
        assert_eq!(both, [s1, s2]);
        assert_eq!(a.next_stale_story(5).expect("next").expect("its own").story_id, first);
        let c = daemon(&url, LONG);
        assert!(c.next_stale_story(5).expect("next").is_none(), "both are taken");
        a.leave().expect("leave");
        assert_eq!(c.next_stale_story(5).expect("next").expect("a's returns").story_id, first);
    }

    /// While one daemon is in the story assignment, another waits for it to leave.
    #[test]
    fn the_story_assignment_admits_one_daemon_at_a_time() {
        let url = test_cluster::database();
        let (a, b) = (daemon(&url, LONG), daemon(&url, LONG));
        let events = Mutex::new(Vec::new());
        let held = a.lock_assignment().expect("lock");
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                let _entered = b.lock_assignment().expect("lock");
                events.lock().expect("events").push("b entered");
            });
            // Long enough for b to get in, were the lock not held.
            std::thread::sleep(Duration::from_millis(300));
            events.lock().expect("events").push("a left");
            drop(held);
            waiter.join().expect("b");
        });
        assert_eq!(*events.lock().expect("events"), ["a left", "b entered"]);
    }
}
