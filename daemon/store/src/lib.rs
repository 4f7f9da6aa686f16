//! Durable state: every accepted file, each stage's result, the articles and the stories they
//! form. Two backends behind one [`Store`]: one SQLite database file in WAL mode (the embedded
//! default; the schema versioned by `PRAGMA user_version` and brought up to date by
//! [`migrations`] when opened), or a PostgreSQL database (`postgres://…`, [`pg`], with its own
//! migrations of the same schema). Every query the two share is written once, against
//! [`db::Db`]; only the SQL a dialect spells its own way (JSON, full-text search, schema) is
//! written per backend. What the store decides (a story's revision, the queues, reprints, the
//! epoch) is decided here, whichever database holds it.
//!
//! The store records *what happened*; where a file physically is stays the file system's
//! business. Each state change that goes with a file move is committed before the move and names
//! the destination, so a restart can finish any move a crash interrupted.

mod claims;
mod db;
mod migrations;
mod model;
pub mod pg;
pub mod search;
mod story_stages;
#[cfg(any(test, feature = "test-cluster"))]
pub mod test_cluster;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;
use stage_api::{Article, Context};

pub use claims::Serialised;
use db::{params, Db, DbError, PgDb, SqliteDb};
use model::ReadError;
pub use model::{
    EditorRecord, FileRecord, FileState, MergeRecord, ModelRun, RecentFile, Source, StageOutcome,
    StageResult, StaleStory, StateCount, StatusReport, StoryView, UnknownValue, Written,
};
pub use search::{Hit, Query, Span};
pub use story_stages::{reprint_originals, StoryStageOutcome, StoryStageResult};

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused an operation.
    #[error("database {}: {source}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// PostgreSQL refused an operation.
    #[error("database {database}: {source}")]
    Postgres {
        /// The database's URL, without its password.
        database: String,
        /// The error.
        source: postgres::Error,
    },
    /// No connection to a PostgreSQL database could be made; `problem` says what to check.
    #[error("cannot connect to PostgreSQL at {database}: {problem}")]
    Connect {
        /// The database's URL, without its password.
        database: String,
        /// What went wrong and what to check, in a user's words.
        problem: String,
    },
    /// A `postgres://` URL that cannot be one.
    #[error("database URL {database} is not usable: {problem}")]
    BadUrl {
        /// The URL, without its password.
        database: String,
        /// What is wrong.
        problem: String,
    },
    /// A stored value of the wrong kind, or one this build does not know.
    #[error("database {database}: {problem}")]
    Decode {
        /// The database (file or URL).
        database: String,
        /// The column and what is wrong with it.
        problem: String,
    },
    /// The database folder could not be created.
    #[error("cannot create the database folder {}: {source}", path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An existing database file that cannot be one: empty, cut short or not SQLite. A missing
    /// file is a fresh store; an existing one is never silently replaced by one.
    #[error("database {} {problem}; it is not replaced by an empty one: restore it from a backup, or move it away to start afresh", path.display())]
    Damaged {
        /// The database file.
        path: PathBuf,
        /// What is wrong, in a user's words.
        problem: String,
    },
    /// The database file could not be examined.
    #[error("cannot read database {}: {source}", path.display())]
    Unreadable {
        /// The database file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A read-only look at a database an older briefd wrote: only `run` or `ingest` upgrade it.
    #[error("database {database} has schema version {found}, older than this briefd's ({known}); `briefd run` or `briefd ingest` upgrades it")]
    TooOld {
        /// The database (file or URL).
        database: String,
        /// Its version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// The database was written by a newer briefd.
    #[error("database {database} has schema version {found}, newer than this briefd knows ({known}); upgrade briefd")]
    TooNew {
        /// The database (file or URL).
        database: String,
        /// Its version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// A story's stored story fields could not be read back.
    #[error(
        "database {database}: the story fields stored for story {story_id} are not valid JSON: {source}"
    )]
    CorruptFields {
        /// The database (file or URL).
        database: String,
        /// The story.
        story_id: i64,
        /// The decode error.
        source: serde_json::Error,
    },
    /// A stored article could not be read back.
    #[error("database {database}: stored article {id} is not valid JSON: {source}")]
    Corrupt {
        /// The database (file or URL).
        database: String,
        /// The row.
        id: i64,
        /// The decode error.
        source: serde_json::Error,
    },
}

impl StoreError {
    /// True when the database cannot be written for a reason of the machine's (a full, read-only
    /// or failing disk, a busy database, a lost connection), which passes when that does, rather
    /// than a file's.
    pub fn is_unavailable(&self) -> bool {
        use rusqlite::ErrorCode;
        match self {
            StoreError::Sqlite { source: rusqlite::Error::SqliteFailure(e, _), .. } => matches!(
                e.code,
                ErrorCode::DiskFull
                    | ErrorCode::ReadOnly
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::CannotOpen
                    | ErrorCode::OutOfMemory
            ),
            StoreError::Postgres { source, .. } => pg::is_unavailable(source),
            StoreError::CreateDir { .. } | StoreError::Unreadable { .. } | StoreError::Connect { .. } => true,
            _ => false,
        }
    }
}

/// Where the state is: a SQLite file or a PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite database file.
    File(PathBuf),
    /// A PostgreSQL database, by its `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl Location {
    /// A `postgres://` or `postgresql://` URL names a PostgreSQL database; anything else is a
    /// path.
    pub fn parse(text: &str) -> Location {
        if pg::is_url(text) {
            Location::Postgres(text.to_string())
        } else {
            Location::File(PathBuf::from(text))
        }
    }

    /// For messages: the path, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            Location::File(path) => path.display().to_string(),
            Location::Postgres(url) => pg::redact(url),
        }
    }
}

/// `path` for a `file:` URI: every byte but unreserved ones and `/` percent-encoded.
fn uri_escape(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str()
        .as_bytes()
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The benchmark's baseline (`BRIEFD_BENCH_NO_SYNC=1`, the same switch as the inbox's syncs):
/// commits synced as before this issue, to measure what durability costs.
fn bench_without_sync() -> bool {
    std::env::var_os("BRIEFD_BENCH_NO_SYNC").is_some_and(|v| v == "1")
}

/// Refuses an existing database file that is empty, shorter than its header says, or not
/// SQLite at all; SQLite itself would take an empty file as a new database and start afresh.
fn check_existing(path: &Path) -> Result<()> {
    use std::io::Read;
    let damaged = |problem: String| StoreError::Damaged { path: path.to_path_buf(), problem };
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(StoreError::Unreadable { path: path.to_path_buf(), source }),
    };
    let unreadable = |source| StoreError::Unreadable { path: path.to_path_buf(), source };
    let len = file.metadata().map_err(unreadable)?.len();
    if len == 0 {
        return Err(damaged("is empty (0 bytes), so it holds no state".into()));
    }
    let mut header = [0u8; 100];
    let mut got = 0;
    while got < header.len() {
        match file.read(&mut header[got..]).map_err(unreadable)? {
            0 => break,
            n => got += n,
        }
    }
    if got < header.len() || &header[..16] != b"SQLite format 3\0" {
        return Err(damaged(format!(
            "is not a SQLite database ({len} bytes, no SQLite header): it is damaged or cut short"
        )));
    }
    // The header's page size (1 means 65536) and its page count, valid when its "version valid
    // for" equals the change counter (SQLite 3.7.0 and later write both).
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536,
        n => u64::from(n),
    };
    let be32 = |at: usize| {
        u64::from(u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]))
    };
    let (change_counter, pages, valid_for) = (be32(24), be32(28), be32(92));
    if valid_for == change_counter && pages > 0 && len < pages * page_size {
        return Err(damaged(format!(
            "is cut short: {len} bytes where its header says {pages} pages of {page_size} bytes"
        )));
    }
    Ok(())
}

/// Short result alias.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The connection a store holds.
enum Backend {
    Sqlite(Mutex<Connection>),
    Postgres(Mutex<pg::Connection>),
}

/// The database, safe to share between threads.
pub struct Store {
    location: Location,
    backend: Backend,
    /// Whether a change to a story queues it for a model summary (`method: model`).
    queue_summaries: AtomicBool,
    /// Bumped after every committed change to a story, so the editor can tell, with one atomic
    /// load between two tokens, whether it needs to look its story's revision up.
    epoch: AtomicU64,
    /// This process's name among the daemons sharing the database (`claims`).
    instance: String,
    /// How long this daemon's claims last without a renewal, in milliseconds.
    lease_millis: AtomicU64,
    /// Time in (and waiting for) the story assignment.
    assignment_clock: claims::SectionClock,
}

/// Whether a statement runs inside a transaction of its own.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tx {
    Yes,
    No,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the database half-written (transactions roll
    // back when dropped), so a poisoned lock is still safe to use.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and migrates it to the current
    /// schema.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| StoreError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        check_existing(path)?;
        let sql = |source| StoreError::Sqlite { path: path.to_path_buf(), source };
        let mut conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sql)?;
        // WAL: readers (status, briefing) never block the pipeline. FULL syncs the WAL at every
        // commit, so an outcome the daemon acted on (a file moved to archive/ or failed/ after
        // `finish_file`) is on disk before the move; NORMAL would survive kill -9 but could lose
        // the newest commits on power loss, leaving files whose record says "in flight".
        conn.pragma_update(None, "journal_mode", "WAL").map_err(sql)?;
        let synchronous = if bench_without_sync() { "NORMAL" } else { "FULL" };
        conn.pragma_update(None, "synchronous", synchronous).map_err(sql)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(sql)?;
        migrations::migrate(&mut conn, path)?;
        Ok(Store::with(Location::File(path.to_path_buf()), Backend::Sqlite(Mutex::new(conn))))
    }

    /// Opens the state wherever it is: a SQLite file ([`Store::open`]) or a PostgreSQL
    /// database ([`Store::connect`]).
    pub fn open_at(location: &Location) -> Result<Store> {
        match location {
            Location::File(path) => Store::open(path),
            Location::Postgres(url) => Store::connect(url),
        }
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://…`) and migrates it to the
    /// current schema.
    pub fn connect(url: &str) -> Result<Store> {
        let mut conn = pg::Connection::open(url)?;
        pg::off_runtime(|| conn.migrate())?;
        Ok(Store::with(Location::Postgres(url.to_string()), Backend::Postgres(Mutex::new(conn))))
    }

    /// Opens existing state to read it only, wherever it is: nothing is created, migrated or
    /// written. `Ok(None)` when there is none yet.
    pub fn open_read_only_at(location: &Location) -> Result<Option<Store>> {
        match location {
            Location::File(path) => Store::open_read_only(path),
            Location::Postgres(url) => {
                let mut conn = pg::Connection::open(url)?;
                if !pg::off_runtime(|| conn.check_version())? {
                    return Ok(None);
                }
                let store =
                    Store::with(Location::Postgres(url.to_string()), Backend::Postgres(Mutex::new(conn)));
                Ok(Some(store))
            }
        }
    }

    /// Opens an existing database to read it only: nothing is created, migrated or written
    /// (`briefd status`). `Ok(None)` when there is no database at `path` yet.
    pub fn open_read_only(path: &Path) -> Result<Option<Store>> {
        if !path.exists() {
            return Ok(None);
        }
        check_existing(path)?;
        let sql = |source| StoreError::Sqlite { path: path.to_path_buf(), source };
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let open = |target: &Path, flags| -> rusqlite::Result<(Connection, i64)> {
            let conn = Connection::open_with_flags(target, flags)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            Ok((conn, found))
        };
        let (conn, found) = match open(path, flags) {
            Ok(opened) => opened,
            Err(first) => {
                // A WAL database needs its `-shm` file beside it, which a read-only folder (a
                // read-only mount, another user's state) cannot get. No daemon can be writing
                // there (it could not take its lock), so the file is read as it stands.
                let uri = format!("file:{}?immutable=1", uri_escape(path));
                let immutable = Path::new(&uri);
                open(immutable, flags | rusqlite::OpenFlags::SQLITE_OPEN_URI).map_err(|_| sql(first))?
            }
        };
        let known = migrations::version();
        let database = path.display().to_string();
        if found < known {
            return Err(StoreError::TooOld { database, found, known });
        }
        if found > known {
            return Err(StoreError::TooNew { database, found, known });
        }
        Ok(Some(Store::with(Location::File(path.to_path_buf()), Backend::Sqlite(Mutex::new(conn)))))
    }

    fn with(location: Location, backend: Backend) -> Store {
        Store {
            location,
            backend,
            queue_summaries: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            instance: claims::instance_name(),
            lease_millis: AtomicU64::new(claims::DEFAULT_LEASE_MILLIS),
            assignment_clock: claims::SectionClock::default(),
        }
    }

    /// From now on, every story an article joins or a merge changes is queued for the editor's
    /// model summary (in the transaction that changes it). Off by default: with extractive
    /// summaries nothing would ever take the queue's work.
    pub fn queue_model_summaries(&self, on: bool) {
        self.queue_summaries.store(on, Ordering::SeqCst);
    }

    /// A number that grows after every committed change to a story (in this process).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    fn changed(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// Where the state is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The database file (`None` for PostgreSQL).
    pub fn path(&self) -> Option<&Path> {
        match &self.location {
            Location::File(path) => Some(path),
            Location::Postgres(_) => None,
        }
    }

    /// Runs `f` on the database, in a transaction of its own when `tx` says so (committed when
    /// `f` succeeds, rolled back when it fails).
    fn run<T: Send, E: Into<ReadError>>(
        &self,
        tx: Tx,
        f: impl FnOnce(&mut dyn Db) -> std::result::Result<T, E> + Send,
    ) -> Result<T> {
        let db_err = |e: DbError| self.err(e);
        match &self.backend {
            Backend::Sqlite(conn) => {
                let mut conn = lock(conn);
                if tx == Tx::No {
                    return f(&mut SqliteDb(&conn)).map_err(|e| self.read_err(e.into()));
                }
                let t = conn.transaction().map_err(|e| db_err(e.into()))?;
                let out = f(&mut SqliteDb(&t)).map_err(|e| self.read_err(e.into()))?;
                t.commit().map_err(|e| db_err(e.into()))?;
                Ok(out)
            }
            Backend::Postgres(conn) => pg::off_runtime(|| {
                let mut conn = lock(conn);
                let (client, statements) = conn.parts().map_err(db_err)?;
                if tx == Tx::No {
                    return f(&mut PgDb { client, statements }).map_err(|e| self.read_err(e.into()));
                }
                let mut t = client.transaction().map_err(|e| db_err(e.into()))?;
                let out = f(&mut PgDb { client: &mut t, statements }).map_err(|e| self.read_err(e.into()))?;
                t.commit().map_err(|e| db_err(e.into()))?;
                Ok(out)
            }),
        }
    }

    /// One read or one statement, outside a transaction.
    fn one<T: Send, E: Into<ReadError>>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> std::result::Result<T, E> + Send,
    ) -> Result<T> {
        self.run(Tx::No, f)
    }

    /// Several statements that stand or fall together.
    fn tx<T: Send, E: Into<ReadError>>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> std::result::Result<T, E> + Send,
    ) -> Result<T> {
        self.run(Tx::Yes, f)
    }

    fn err(&self, e: DbError) -> StoreError {
        let database = self.location.display();
        match (e, &self.location) {
            (DbError::Sqlite(source), Location::File(path)) => {
                StoreError::Sqlite { path: path.clone(), source }
            }
            (DbError::Sqlite(source), Location::Postgres(_)) => {
                StoreError::Decode { database, problem: source.to_string() }
            }
            (DbError::Postgres(source), _) => StoreError::Postgres { database, source },
            (DbError::Decode(problem), _) => StoreError::Decode { database, problem },
        }
    }

    fn read_err(&self, e: ReadError) -> StoreError {
        let database = self.location.display();
        match e {
            ReadError::Db(e) => self.err(e),
            ReadError::Json(id, source) => StoreError::Corrupt { database, id, source },
            ReadError::Fields(story_id, source) => StoreError::CorruptFields { database, story_id, source },
        }
    }

    /// Records a file just moved into the processing folder. Returns its record; when another
    /// file with the same bytes is already known (and did not fail), the record is a duplicate.
    pub fn accept_file(
        &self,
        processing_name: &[u8],
        original_name: &[u8],
        content_hash: &str,
        size: u64,
    ) -> Result<FileRecord> {
        self.tx(|db| {
            // Two daemons accepting the same bytes at once: the second waits for the first's
            // commit, then sees it, so one of them is the duplicate.
            claims::lock_in_transaction(db, claims::hash_key(content_hash))?;
            if let Some(existing) = model::file_by_processing_name(db, processing_name)? {
                return Ok::<_, DbError>(existing);
            }
            let original: Option<i64> = db
                .query_opt(
                    "SELECT id FROM files WHERE content_hash = ?1 AND state IN ('accepted','done','dropped') ORDER BY id LIMIT 1",
                    params![content_hash],
                )?
                .map(|r| r.get(0))
                .transpose()?;
            let state = if original.is_some() { FileState::Duplicate } else { FileState::Accepted };
            db.execute(
                "INSERT INTO files (processing_name, original_name, content_hash, size, state, received_at, duplicate_of)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![processing_name, original_name, content_hash, size, state.as_str(), now(), original],
            )?;
            Ok(model::file_by_processing_name(db, processing_name)?.expect("row inserted in this transaction"))
        })
    }

    /// Records a file that was refused before its content could be read (a link, a folder, ...).
    pub fn refuse_file(
        &self,
        processing_name: &[u8],
        original_name: &[u8],
        stage: &str,
        reason: &str,
    ) -> Result<FileRecord> {
        self.tx(|db| {
            db.execute(
                "INSERT INTO files (processing_name, original_name, content_hash, size, state, received_at, failed_stage, reason)
                 VALUES (?1, ?2, NULL, 0, 'failed', ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                params![processing_name, original_name, now(), stage, reason],
            )?;
            Ok::<_, DbError>(model::file_by_processing_name(db, processing_name)?.expect("row exists"))
        })
    }

    /// The record of the file with this processing name, if any.
    pub fn file_by_processing_name(&self, processing_name: &[u8]) -> Result<Option<FileRecord>> {
        self.one(|db| model::file_by_processing_name(db, processing_name))
    }

    /// Files accepted but not yet finished, oldest first: the work a restart resumes.
    pub fn unfinished_files(&self) -> Result<Vec<FileRecord>> {
        self.one(|db| model::files_where(db, "state = 'accepted' ORDER BY id"))
    }

    /// Files whose outcome is recorded but whose move out of processing may not have happened.
    pub fn files_awaiting_move(&self) -> Result<Vec<FileRecord>> {
        self.one(|db| model::files_where(db, "state != 'accepted' AND moved = 0 ORDER BY id"))
    }

    /// The last recorded stage result of a file's article, for resuming after a restart.
    pub fn last_stage_result(&self, file_id: i64, item_index: u32) -> Result<Option<StageResult>> {
        self.one(|db| model::last_stage_result(db, file_id, item_index))
    }

    /// Records that `stage`, at `stage_index`, starts on a file's article, before it runs (and so
    /// before it can take the daemon down); returns how many earlier starts of it on this article
    /// never recorded a result, i.e. how often it crashed the daemon on it.
    pub fn start_stage(&self, file_id: i64, item_index: u32, stage_index: usize, stage: &str) -> Result<u32> {
        self.one(|db| model::start_stage(db, file_id, item_index, stage_index, stage))
    }

    /// Takes back the stage starts made at or after `since` (a [`now`] string) that have not
    /// ended: a daemon whose shutdown timed out left them, which is no crash.
    pub fn forgive_starts_since(&self, since: &str) -> Result<usize> {
        self.one(|db| model::forgive_starts_since(db, since))
    }

    /// Records one stage's result (the article as it left the stage when it continued).
    pub fn record_stage(&self, result: &StageResult) -> Result<()> {
        self.tx(|db| model::record_stage(db, result))
    }

    /// Records several stage results in one transaction: the articles a file was split into
    /// are all recorded or none are, so a restart never sees half a split.
    pub fn record_stages(&self, results: &[StageResult]) -> Result<()> {
        self.tx(|db| results.iter().try_for_each(|result| model::record_stage(db, result)))
    }

    /// Records one stage's result and applies the story merges `article` (as it left the stage) asks for
    /// (`Article::story_merges` into the story of `Article::story`) in one transaction: a restart
    /// finds both or neither, so a resumed article never skips a merge its dedupe stage decided.
    /// Returns the merges done (none when the article asks for none or they were done already).
    pub fn record_stage_with_merges(
        &self,
        result: &StageResult,
        article: &Article,
    ) -> Result<Vec<MergeRecord>> {
        let queue_summaries = self.queue_summaries.load(Ordering::SeqCst);
        // Held already when dedupe read the stories (the pipeline takes it); taken again here
        // (it nests) for a resumed article whose dedupe ran before a restart.
        let _assignment = self.lock_assignment()?;
        let merged = self.tx(|db| {
            let merged = match &article.story {
                Some(joined) if !article.story_merges.is_empty() => model::merge_stories(
                    db,
                    result.file_id,
                    result.item_index,
                    joined.story_id,
                    &article.story_merges,
                )?,
                _ => Vec::new(),
            };
            if queue_summaries {
                for merge in &merged {
                    model::dequeue(db, merge.from_story)?;
                    model::enqueue(db, merge.into_story)?;
                }
            }
            for merge in &merged {
                story_stages::enqueue(db, merge.into_story)?;
            }
            model::record_stage(db, result)?;
            Ok::<_, DbError>(merged)
        })?;
        if !merged.is_empty() {
            self.changed();
        }
        Ok(merged)
    }

    /// Every merge that made up `story_id`, oldest first (for `briefd explain`).
    pub fn story_merges(&self, story_id: i64) -> Result<Vec<MergeRecord>> {
        self.one(|db| model::merges_into(db, story_id))
    }

    /// The articles (`item_index`) a file's stage results know, in order; `[0]` for a file not
    /// split (or not started).
    pub fn file_items(&self, file_id: i64) -> Result<Vec<u32>> {
        let items: Vec<u32> = self.one(|db| {
            let found = db.query(
                "SELECT DISTINCT item_index FROM stage_results WHERE file_id = ?1 ORDER BY item_index",
                params![file_id],
            )?;
            model::rows(found, |r| r.get(0))
        })?;
        Ok(if items.is_empty() { vec![0] } else { items })
    }

    /// The story of a file's article `item_index`, if that article is committed.
    pub fn committed_story(&self, file_id: i64, item_index: u32) -> Result<Option<i64>> {
        self.one(|db| committed_story(db, file_id, item_index))
    }

    /// The stories of a file's committed articles, in the file's order.
    pub fn file_stories(&self, file_id: i64) -> Result<Vec<i64>> {
        self.one(|db| {
            let found = db.query(
                "SELECT story_id FROM articles WHERE file_id = ?1 ORDER BY item_index",
                params![file_id],
            )?;
            model::rows(found, |r| r.get(0))
        })
    }

    /// Commits one finished article of a file without finishing the file (a file holding several
    /// articles commits each before the next is processed, so dedupe sees the earlier ones).
    /// Committing the same `(file, item_index)` again returns the story it is already in.
    pub fn commit_item(&self, file_id: i64, article: &Article, day: &str) -> Result<i64> {
        let queue_summaries = self.queue_summaries.load(Ordering::SeqCst);
        // See `record_stage_with_merges`: the commit is inside the story assignment too.
        let _assignment = self.lock_assignment()?;
        let (story_id, new) = self.tx(|db| {
            if let Some(story_id) = committed_story(db, file_id, article.item_index)? {
                return Ok::<_, DbError>((story_id, false));
            }
            let story_id = model::insert_article(db, file_id, article, day)?;
            if queue_summaries {
                model::enqueue(db, story_id)?;
            }
            // Always, like the article itself: whether story stages are configured is the
            // pipeline's business, and a pipeline without any empties the queue.
            story_stages::enqueue(db, story_id)?;
            Ok((story_id, true))
        })?;
        if new {
            self.changed();
        }
        Ok(story_id)
    }

    /// The queued story (changed by a commit or a merge) whose story stages have not run over its
    /// current revision yet, oldest change first.
    pub fn next_story_for_stages(&self) -> Result<Option<i64>> {
        self.tx(story_stages::next_queued)
    }

    /// Empties the story stages' queue: for a pipeline that has none. Returns how many stories
    /// were queued.
    pub fn clear_story_stage_queue(&self) -> Result<usize> {
        self.one(story_stages::clear_queue)
    }

    /// The live story as a story stage receives it (its revision and newest `max_sources`
    /// sources, read together, reprints marked); `None` for a story merged away or unknown.
    pub fn story_input(&self, story_id: i64, max_sources: usize) -> Result<Option<stage_api::Story>> {
        self.tx(|db| story_stages::story_input(db, story_id, max_sources))
    }

    /// Records one story stage's result, replacing its earlier one for the story.
    pub fn record_story_stage(&self, result: &StoryStageResult) -> Result<()> {
        self.tx(|db| story_stages::record(db, result))
    }

    /// Takes the story off the story stages' queue if `revision` is still its revision; `false`
    /// (it stays queued) when it changed since.
    pub fn finish_story_stages(&self, story_id: i64, revision: i64) -> Result<bool> {
        self.tx(|db| story_stages::finish(db, story_id, revision))
    }

    /// The story's fields as the story stages set them (`None` when none did).
    pub fn story_fields(&self, story_id: i64) -> Result<Option<stage_api::StoryFields>> {
        self.one(|db| story_stages::fields(db, story_id))
    }

    /// Each story stage's latest outcome for a story, in the stages' order.
    pub fn story_stage_outcomes(&self, story_id: i64) -> Result<Vec<StoryStageOutcome>> {
        self.one(|db| story_stages::outcomes(db, story_id))
    }

    /// Records a final outcome other than done (dropped, failed, duplicate) and the destination.
    pub fn finish_file(
        &self,
        file_id: i64,
        state: FileState,
        stage: Option<&str>,
        reason: Option<&str>,
        destination: &Path,
    ) -> Result<()> {
        self.one(|db| model::finish_file(db, file_id, state, stage, reason, destination))
    }

    /// Notes that a file reached its destination.
    /// Its claim goes with it: nothing of it is left in the processing folder to take over.
    pub fn mark_moved(&self, file_id: i64) -> Result<()> {
        self.tx(|db| {
            db.execute("UPDATE files SET moved = 1 WHERE id = ?1", params![file_id])?;
            db.execute(
                "DELETE FROM claims WHERE processing_name IN (SELECT processing_name FROM files WHERE id = ?1)",
                params![file_id],
            )
            .map(|_| ())
        })
    }

    /// The stories to show for `day` (YYYY-MM-DD), most-sourced first.
    pub fn stories_for_day(&self, day: &str) -> Result<Vec<StoryView>> {
        // One transaction, so that a story and its model summary are read at one moment.
        self.tx(|db| model::stories_for_day(db, day))
    }

    /// The story `story_id` is part of now (itself, or the story a merge moved it into) with
    /// every source; `None` for an unknown id or a story without articles.
    pub fn story(&self, story_id: i64) -> Result<Option<StoryView>> {
        self.tx(|db| match model::live_story(db, story_id)? {
            Some(live) => model::story(db, live),
            None => Ok(None),
        })
    }

    /// The days (YYYY-MM-DD) that have articles, newest first, at most `limit`.
    pub fn days(&self, limit: usize) -> Result<Vec<String>> {
        self.one(|db| model::days(db, limit))
    }

    /// The first story of the editor's queue (most independent sources, then the newest change)
    /// with its revision and newest `max_sources` articles (newest first), read together.
    /// The story is taken by this daemon (under its lease) until committed, released or its
    /// daemon dies: another daemon's editor passes over it.
    pub fn next_stale_story(&self, max_sources: usize) -> Result<Option<StaleStory>> {
        self.tx(|db| model::next_stale_story(db, max_sources, &self.instance))
    }

    /// The story's current revision; `None` when it was merged away (or is unknown).
    pub fn story_revision(&self, story_id: i64) -> Result<Option<i64>> {
        self.one(|db| model::story_revision(db, story_id))
    }

    /// Records, in one transaction, what the editor made of `revision` of `story_id` and takes the
    /// story off the queue, if `revision` is still current. `Ok(false)` when the story changed
    /// meanwhile: nothing is written and it stays queued.
    pub fn commit_story_summary(
        &self,
        story_id: i64,
        revision: i64,
        written: &Written,
        n_sources: usize,
    ) -> Result<bool> {
        self.tx(|db| {
            let committed = model::commit_story_summary(db, story_id, revision, written, n_sources)?;
            if !committed {
                // Changed meanwhile: queued still, and any editor's (this one's included) to take.
                model::release_story(db, story_id, &self.instance)?;
            }
            Ok::<_, DbError>(committed)
        })
    }

    /// The editor's record for a live story (`None` when merged away or unknown).
    pub fn editor_record(&self, story_id: i64) -> Result<Option<EditorRecord>> {
        self.tx(|db| model::editor_record(db, story_id))
    }

    /// The days (YYYY-MM-DD) of a story's articles: the briefings that show it.
    pub fn story_days(&self, story_id: i64) -> Result<Vec<String>> {
        self.one(|db| model::story_days(db, story_id))
    }

    /// Counts per state and the latest failures and drops.
    pub fn status(&self, recent: usize) -> Result<StatusReport> {
        self.tx(|db| model::status(db, recent))
    }

    /// Articles whose id is `query`, or whose inbox file name is `query`'s last component.
    pub fn find_articles(&self, query: &str) -> Result<Vec<stage_api::StoredArticle>> {
        self.one(|db| model::find_articles(db, query))
    }

    /// Records one model run's tokens and times (the editor, after each generation).
    pub fn record_model_run(&self, run: &ModelRun) -> Result<()> {
        self.one(|db| model::record_model_run(db, run))
    }

    /// Token counts and times summed over the newest `last` model runs.
    pub fn model_speed(&self, last: usize) -> Result<ModelRun> {
        self.one(|db| model::model_speed(db, last))
    }

    /// Every stage run's stage name and milliseconds, for latency histograms.
    pub fn stage_timings(&self) -> Result<Vec<(String, f64)>> {
        self.one(|db| {
            let found = db.query("SELECT stage, millis FROM stage_results", &[])?;
            model::rows(found, |r| Ok((r.get(0)?, r.get(1)?)))
        })
    }

    /// Files whose id is `query`, or whose inbox file name is `query`'s last component.
    pub fn find_files(&self, query: &str) -> Result<Vec<FileRecord>> {
        self.one(|db| model::find_files(db, query))
    }

    /// The articles file `file_id` gave (none for a duplicate, a failure or a drop).
    pub fn file_articles(&self, file_id: i64) -> Result<Vec<stage_api::StoredArticle>> {
        self.one(|db| model::file_articles(db, file_id))
    }

    /// The stories whose articles or current model summary hold every word of `query`, best
    /// first, one per story, at most `limit` (and [`search::MAX_RESULTS`]).
    pub fn search(&self, query: &Query, limit: usize) -> Result<Vec<Hit>> {
        self.tx(|db| search::search(db, query, limit))
    }

    /// The database's own consistency check: SQLite's `integrity_check` reporting "ok"; on
    /// PostgreSQL, which checks as it writes, every article's story existing.
    pub fn integrity_ok(&self) -> Result<bool> {
        self.one(|db| match db.dialect() {
            db::Dialect::Sqlite => {
                let verdict: String = db.query_one("PRAGMA integrity_check", &[])?.get(0)?;
                Ok::<_, DbError>(verdict == "ok")
            }
            db::Dialect::Postgres => {
                let orphans: i64 = db
                    .query_one(
                        "SELECT COUNT(*) FROM articles a LEFT JOIN stories s ON s.id = a.story_id WHERE s.id IS NULL",
                        &[],
                    )?
                    .get(0)?;
                Ok(orphans == 0)
            }
        })
    }

    /// A lookup for a stage, which degrades to `default` rather than failing the article.
    fn lookup<T: Send>(&self, default: T, f: impl FnOnce(&mut dyn Db) -> db::DbResult<T> + Send) -> T {
        self.one(f).unwrap_or(default)
    }
}

fn committed_story(db: &mut dyn Db, file_id: i64, item_index: u32) -> db::DbResult<Option<i64>> {
    db.query_opt(
        "SELECT story_id FROM articles WHERE file_id = ?1 AND item_index = ?2",
        params![file_id, item_index],
    )?
    .map(|r| r.get(0))
    .transpose()
}

impl Context for Store {
    fn stories_with_fingerprint(&self, kind: &str, value: &str) -> Vec<i64> {
        // A failed lookup degrades to "no match" (a new story) rather than failing the article.
        self.lookup(Vec::new(), |db| model::stories_with_fingerprint(db, kind, value))
    }

    fn article_count(&self) -> u64 {
        self.lookup(0, model::article_count)
    }

    fn key_counts(&self, kind: &str, values: Vec<String>) -> Vec<u64> {
        self.lookup(vec![0; values.len()], |db| model::key_counts(db, kind, &values))
    }

    fn articles_with_keys(&self, kind: &str, values: Vec<String>, limit: usize) -> Vec<stage_api::KeyHit> {
        self.lookup(Vec::new(), |db| model::articles_with_keys(db, kind, &values, limit))
    }

    fn story_articles(&self, story_id: i64, limit: usize) -> Vec<stage_api::StoredArticle> {
        self.one(|db| model::story_articles(db, story_id, limit)).unwrap_or_default()
    }

    fn story_size(&self, story_id: i64) -> u64 {
        self.lookup(0, |db| model::story_size(db, story_id))
    }

    fn story_published(&self, story_id: i64) -> Vec<String> {
        self.lookup(Vec::new(), |db| model::story_published(db, story_id))
    }
}

/// The current time, RFC 3339 in UTC, as stored.
pub fn now() -> String {
    jiff::Timestamp::now().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use stage_api::{StoryFields, StoryMatch};

    /// Which backend a test runs on: every test not about SQLite's file runs on both.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Kind {
        Sqlite,
        Postgres,
    }

    /// The database of one test: a SQLite file in a temporary folder, or a fresh database on
    /// this test binary's PostgreSQL cluster.
    struct Fixture {
        dir: tempfile::TempDir,
        url: Option<String>,
    }

    impl Fixture {
        fn dir(&self) -> &Path {
            self.dir.path()
        }

        /// Opens the store again, as a restarted daemon would.
        fn reopen(&self) -> Store {
            match &self.url {
                Some(url) => Store::connect(url).expect("connect"),
                None => Store::open(&self.dir.path().join("state/briefd.db")).expect("open"),
            }
        }
    }

    fn open(kind: Kind) -> (Fixture, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = (kind == Kind::Postgres).then(test_cluster::database);
        let fx = Fixture { dir, url };
        let store = fx.reopen();
        (fx, store)
    }

    /// Runs each named test on SQLite (`tests::sqlite::NAME`) and on PostgreSQL
    /// (`tests::postgres::NAME`).
    macro_rules! on_both_backends {
        ($($name:ident),* $(,)?) => {
            mod sqlite {
                $(#[test]
                fn $name() {
                    super::$name(super::Kind::Sqlite)
                })*
            }
            mod postgres {
                $(#[test]
                fn $name() {
                    super::$name(super::Kind::Postgres)
                })*
            }
        };
    }

    on_both_backends!(
        same_bytes_twice_is_a_duplicate,
        the_model_speed_sums_the_newest_runs,
        days_are_listed_newest_first_once_each,
        unfinished_stage_starts_are_counted_until_a_result_is_recorded,
        a_failed_file_does_not_block_its_bytes,
        fingerprints_find_the_story_and_migrations_are_idempotent,
        a_merge_moves_every_article_is_recorded_and_survives_reopening,
        story_stages_run_once_per_revision_and_their_fields_are_kept,
        the_queue_puts_more_independent_sources_first_then_the_newest_change,
        a_summary_commits_only_for_the_revision_it_read,
        a_merge_requeues_the_story_it_made_and_drops_the_one_merged_away,
        nothing_is_queued_unless_asked,
        search_finds_an_article_once_committed_with_the_words_marked,
        search_ranks_a_title_match_above_a_passing_mention,
        fts_syntax_in_a_query_is_searched_as_words_not_run,
        search_follows_a_merge_and_a_current_model_summary_only,
        search_results_are_bounded,
        key_lookups_count_only_the_newest_postings,
    );

    /// Issue 20, finding 6: an empty or cut-short database is refused, never replaced.
    #[test]
    fn an_empty_or_truncated_database_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("briefd.db");
        std::fs::write(&path, b"").expect("write");
        let err = Store::open(&path).err().expect("an empty file is refused").to_string();
        assert!(err.contains("is empty (0 bytes)"), "{err}");
        assert_eq!(std::fs::metadata(&path).expect("still there").len(), 0);

        std::fs::remove_file(&path).expect("remove");
        let store = Store::open(&path).expect("a missing file is a fresh store");
        store.accept_file(b"p1", b"a.txt", "h1", 1).expect("accept");
        drop(store);
        let len = std::fs::metadata(&path).expect("db").len();
        assert!(len > 4096, "{len}");
        let file = std::fs::OpenOptions::new().write(true).open(&path).expect("open");
        file.set_len(len / 2).expect("truncate");
        let err = Store::open(&path).err().expect("a truncated file is refused").to_string();
        assert!(err.contains("is cut short"), "{err}");
        assert_eq!(std::fs::metadata(&path).expect("db").len(), len / 2);

        std::fs::write(
            &path,
            b"hello, not a database at all, but long enough to hold a header. ........................",
        )
        .expect("write");
        let err = Store::open(&path).err().expect("not SQLite").to_string();
        assert!(err.contains("not a SQLite database"), "{err}");
    }

    fn same_bytes_twice_is_a_duplicate(kind: Kind) {
        let (_fx, store) = open(kind);
        let a = store.accept_file(b"p1.a.txt", b"a.txt", "h1", 3).unwrap();
        let b = store.accept_file(b"p2.b.txt", b"b.txt", "h1", 3).unwrap();
        assert_eq!(a.state, FileState::Accepted);
        assert_eq!(b.state, FileState::Duplicate);
        // Accepting the same processing name again (a restart) returns the same record.
        assert_eq!(store.accept_file(b"p1.a.txt", b"a.txt", "h1", 3).unwrap().id, a.id);
    }

    fn the_model_speed_sums_the_newest_runs(kind: Kind) {
        let (_fx, store) = open(kind);
        assert_eq!(store.model_speed(50).unwrap(), ModelRun::default(), "no run yet");
        for (p, g) in [(100, 10), (200, 20), (300, 30)] {
            let run = ModelRun {
                prompt_tokens: p,
                prompt_seconds: 1.0,
                generated_tokens: g,
                generate_seconds: 2.0,
            };
            store.record_model_run(&run).unwrap();
        }
        let last_two = store.model_speed(2).unwrap();
        assert_eq!((last_two.prompt_tokens, last_two.generated_tokens), (500, 50));
        assert_eq!((last_two.prompt_seconds, last_two.generate_seconds), (2.0, 4.0));
    }

    fn days_are_listed_newest_first_once_each(kind: Kind) {
        let (_fx, store) = open(kind);
        for (name, day) in
            [("a", "2025-07-12"), ("b", "2025-07-14"), ("c", "2025-07-12"), ("d", "2025-07-13")]
        {
            let file = store.accept_file(name.as_bytes(), name.as_bytes(), name, 1).unwrap();
            store.commit_item(file.id, &Article { text: name.into(), ..Default::default() }, day).unwrap();
        }
        assert_eq!(store.days(10).unwrap(), ["2025-07-14", "2025-07-13", "2025-07-12"]);
        assert_eq!(store.days(1).unwrap(), ["2025-07-14"]);
    }

    /// Issue 20: the starts of a stage that never recorded a result are counted across
    /// reopening (a crash), a recorded result clears them, another stage at that position starts
    /// afresh, and a stopping daemon can take its own start back.
    fn unfinished_stage_starts_are_counted_until_a_result_is_recorded(kind: Kind) {
        let (fx, store) = open(kind);
        let file = store.accept_file(b"p1", b"a", "h1", 1).unwrap();
        assert_eq!(store.start_stage(file.id, 0, 1, "segv").unwrap(), 0);
        drop(store);
        let store = fx.reopen();
        assert_eq!(store.start_stage(file.id, 0, 1, "segv").unwrap(), 1, "the first start never ended");
        assert_eq!(store.start_stage(file.id, 1, 1, "segv").unwrap(), 0, "another article of the file");
        assert_eq!(store.start_stage(file.id, 0, 1, "topics").unwrap(), 0, "another stage at that place");
        let result = StageResult {
            file_id: file.id,
            item_index: 0,
            stage_index: 1,
            stage: "topics".into(),
            outcome: StageOutcome::Continue,
            millis: 1.0,
            detail: None,
            article: None,
        };
        store.record_stage(&result).unwrap();
        assert_eq!(store.start_stage(file.id, 0, 1, "topics").unwrap(), 0, "the result cleared the count");
        // The store compares times to the millisecond (SQLite's julianday).
        std::thread::sleep(std::time::Duration::from_millis(5));
        let before = now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(store.start_stage(file.id, 0, 1, "topics").unwrap(), 1);
        assert_eq!(store.forgive_starts_since(&before).unwrap(), 1, "only the start made since");
        assert_eq!(store.start_stage(file.id, 0, 1, "topics").unwrap(), 1, "one of two starts taken back");
    }

    fn a_failed_file_does_not_block_its_bytes(kind: Kind) {
        let (_fx, store) = open(kind);
        let a = store.accept_file(b"p1", b"a", "h", 1).unwrap();
        store.finish_file(a.id, FileState::Failed, Some("clean"), Some("bad"), Path::new("/f/a")).unwrap();
        assert_eq!(store.accept_file(b"p2", b"a", "h", 1).unwrap().state, FileState::Accepted);
    }

    fn fingerprints_find_the_story_and_migrations_are_idempotent(kind: Kind) {
        let (fx, store) = open(kind);
        let f1 = store.accept_file(b"p1", b"a", "h1", 1).unwrap();
        let mut article = Article { text: "x".into(), ..Default::default() };
        article.fingerprints.insert("text_sha256".into(), "abc".into());
        let story = store.commit_item(f1.id, &article, "2025-07-13").unwrap();
        assert_eq!(store.stories_with_fingerprint("text_sha256", "abc"), vec![story]);

        let f2 = store.accept_file(b"p2", b"b", "h2", 1).unwrap();
        article.story = Some(StoryMatch { story_id: story, reason: "test".into(), score: 1.0 });
        assert_eq!(store.commit_item(f2.id, &article, "2025-07-13").unwrap(), story);
        let stories = store.stories_for_day("2025-07-13").unwrap();
        assert_eq!(stories.len(), 1);
        assert_eq!(stories[0].sources.len(), 2);
        drop(store);
        let again = fx.reopen();
        assert!(again.integrity_ok().unwrap());
        assert_eq!(again.status(5).unwrap().articles, 2);
    }

    fn a_merge_moves_every_article_is_recorded_and_survives_reopening(kind: Kind) {
        let (fx, store) = open(kind);
        let commit = |name: &str, story: Option<i64>| {
            let file = store.accept_file(name.as_bytes(), name.as_bytes(), name, 1).unwrap();
            let mut article = Article { text: name.into(), ..Default::default() };
            article.story = story.map(|story_id| StoryMatch { story_id, reason: "test".into(), score: 1.0 });
            (file.id, store.commit_item(file.id, &article, "2025-07-13").unwrap())
        };
        let (_, a) = commit("a1", None);
        commit("a2", Some(a));
        let (_, b) = commit("b1", None);
        assert_ne!(a, b);
        // The bridging article joins `a` and asks for `b` to be merged into it.
        let bridge_file = store.accept_file(b"c", b"c.txt", "c", 1).unwrap();
        let mut bridge = Article { text: "c".into(), ..Default::default() };
        bridge.story = Some(StoryMatch { story_id: a, reason: "test".into(), score: 0.5 });
        bridge.story_merges =
            vec![stage_api::StoryMerge { story_id: b, reason: "centroids 0.6".into(), score: 0.6 }];
        let result = StageResult {
            file_id: bridge_file.id,
            item_index: 0,
            stage_index: 1,
            stage: "dedupe".into(),
            outcome: StageOutcome::Continue,
            millis: 1.0,
            detail: None,
            article: Some(bridge.clone()),
        };
        let merged = store.record_stage_with_merges(&result, &bridge).unwrap();
        assert_eq!(merged.len(), 1);
        assert_eq!((merged[0].from_story, merged[0].into_story, merged[0].n_moved), (b, a, 1));
        assert_eq!(store.last_stage_result(bridge_file.id, 0).unwrap().map(|r| r.stage_index), Some(1));
        // Asking again (a resumed article) changes nothing.
        assert!(store.record_stage_with_merges(&result, &bridge).unwrap().is_empty());
        assert_eq!(store.story_size(a), 2 + 1);
        assert_eq!(store.story_size(b), 0);
        // An article still naming the merged-away story lands in the live one.
        let (_, late) = commit("b2", Some(b));
        assert_eq!(late, a);
        drop(store);
        let store = fx.reopen();
        let stories = store.stories_for_day("2025-07-13").unwrap();
        assert_eq!(stories.len(), 1);
        assert_eq!(stories[0].sources.len(), 4);
        assert_eq!(store.status(5).unwrap().stories, 1);
        let recorded = store.story_merges(a).unwrap();
        assert_eq!(recorded.len(), 1);
        assert_eq!((recorded[0].file_name.as_str(), recorded[0].reason.as_str()), ("c.txt", "centroids 0.6"));
        // A story page asked for by either id shows the live story with all four sources.
        for id in [a, b] {
            let story = store.story(id).unwrap().expect("a known story");
            assert_eq!((story.id, story.sources.len()), (a, 4), "story {id}");
        }
        assert_eq!(store.story(a + b + 100).unwrap(), None);
    }

    /// Records dedupe's result for a new file whose article joins `into` and merges `from` into
    /// it (a bridge), as the pipeline does.
    fn bridge(store: &Store, original_name: &[u8], text: &str, into: i64, from: i64) {
        let file = store.accept_file(b"c", original_name, "c", 1).unwrap();
        let mut article = Article { text: text.into(), ..Default::default() };
        article.story = Some(StoryMatch { story_id: into, reason: "test".into(), score: 0.5 });
        article.story_merges =
            vec![stage_api::StoryMerge { story_id: from, reason: "test".into(), score: 0.6 }];
        let result = StageResult {
            file_id: file.id,
            item_index: 0,
            stage_index: 1,
            stage: "dedupe".into(),
            outcome: StageOutcome::Continue,
            millis: 1.0,
            detail: None,
            article: Some(article.clone()),
        };
        store.record_stage_with_merges(&result, &article).unwrap();
    }

    /// Commits an article named `name` into `story` (a new story when `None`), optionally a
    /// reprint of article `reprint_of`.
    fn commit(store: &Store, name: &str, story: Option<i64>, reprint_of: Option<i64>) -> i64 {
        let file = store.accept_file(name.as_bytes(), name.as_bytes(), name, 1).unwrap();
        let mut article = Article { text: name.into(), ..Default::default() };
        article.story = story.map(|story_id| StoryMatch { story_id, reason: "test".into(), score: 1.0 });
        if let Some(of) = reprint_of {
            article.metadata.insert("dedupe.reprint_of".into(), of.to_string());
        }
        store.commit_item(file.id, &article, "2025-07-13").unwrap()
    }

    /// Migration 8: a commit queues its story for the story stages; the story reads with its
    /// reprints marked and last; a stage's fields replace its own earlier ones, a skip keeps
    /// them; the story leaves the queue only for the revision the stages read, and a story merged
    /// away leaves it by itself.
    fn story_stages_run_once_per_revision_and_their_fields_are_kept(kind: Kind) {
        let (fx, store) = open(kind);
        let a = commit(&store, "a1", None, None);
        commit(&store, "a2", Some(a), Some(1));
        commit(&store, "a3", Some(a), None);
        assert_eq!(store.next_story_for_stages().unwrap(), Some(a));
        let story = store.story_input(a, 64).unwrap().expect("a live story");
        let order: Vec<(i64, Option<i64>)> =
            story.sources.iter().map(|s| (s.article_id, s.reprint_of)).collect();
        assert_eq!(order, [(3, None), (1, None), (2, Some(1))], "independent first, newest first");
        assert_eq!(store.story_input(a, 1).unwrap().expect("live").sources.len(), 1, "bounded");

        let result = |stage_index: usize, stage: &str, fields: Option<StoryFields>| StoryStageResult {
            story_id: a,
            revision: story.revision,
            stage_index,
            stage: stage.into(),
            outcome: if fields.is_some() { StageOutcome::Continue } else { StageOutcome::Drop },
            detail: None,
            fields,
            millis: 1.0,
        };
        let tags = |t: &str| StoryFields { tags: Some(vec![t.into()]), ..StoryFields::default() };
        let summary = StoryFields { summary: Some("s".into()), ..StoryFields::default() };
        store.record_story_stage(&result(0, "topics", Some(tags("x")))).unwrap();
        store.record_story_stage(&result(1, "sum", Some(summary))).unwrap();
        store.record_story_stage(&result(0, "topics", Some(tags("y")))).unwrap();
        store.record_story_stage(&result(1, "sum", None)).unwrap();
        let fields = store.story_fields(a).unwrap().expect("set");
        assert_eq!((fields.tags, fields.summary.as_deref()), (Some(vec!["y".to_string()]), Some("s")));

        // A source joining meanwhile: the stages' run does not take the story off the queue.
        commit(&store, "a4", Some(a), None);
        assert!(!store.finish_story_stages(a, story.revision).unwrap());
        assert_eq!(store.next_story_for_stages().unwrap(), Some(a));
        // Survives reopening (a kill), then the current revision finishes it.
        drop(store);
        let store = fx.reopen();
        assert_eq!(store.next_story_for_stages().unwrap(), Some(a));
        let revision = store.story_revision(a).unwrap().expect("live");
        assert!(store.finish_story_stages(a, revision).unwrap());
        assert_eq!(store.next_story_for_stages().unwrap(), None);
        let view = &store.stories_for_day("2025-07-13").unwrap()[0];
        assert_eq!(view.fields.as_ref().and_then(|f| f.summary.as_deref()), Some("s"));

        // A story queued and then merged away leaves the queue; the one it went into is queued.
        let b = commit(&store, "b1", None, None);
        bridge(&store, b"c.txt", "c", a, b);
        assert_eq!(store.next_story_for_stages().unwrap(), Some(a));
        assert!(store.story_input(b, 64).unwrap().is_none(), "merged away");
        assert_eq!(store.clear_story_stage_queue().unwrap(), 1);
    }

    fn the_queue_puts_more_independent_sources_first_then_the_newest_change(kind: Kind) {
        let (_fx, store) = open(kind);
        store.queue_model_summaries(true);
        let a = commit(&store, "a1", None, None);
        commit(&store, "a2", Some(a), None);
        let b = commit(&store, "b1", None, None);
        // Three sources, but two are reprints of the first: one independent source.
        let c = commit(&store, "c1", None, None);
        commit(&store, "c2", Some(c), Some(4));
        commit(&store, "c3", Some(c), Some(4));
        assert_eq!(store.status(1).unwrap().queued_summaries, 3);
        let order = |store: &Store| -> Vec<i64> {
            let mut out = Vec::new();
            while let Some(next) = store.next_stale_story(9).unwrap() {
                out.push(next.story_id);
                let rejected = Written::Rejected("test".into());
                assert!(store.commit_story_summary(next.story_id, next.revision, &rejected, 1).unwrap());
            }
            out
        };
        // a has two independent sources; c changed after b.
        assert_eq!(order(&store), vec![a, c, b]);
        assert_eq!(store.status(1).unwrap().queued_summaries, 0);
        // A new source requeues; the sources come newest first.
        commit(&store, "b2", Some(b), None);
        let next = store.next_stale_story(9).unwrap().expect("b is queued again");
        assert_eq!((next.story_id, next.revision), (b, 2));
        let names: Vec<&str> = next.sources.iter().map(|s| s.article.text.as_str()).collect();
        assert_eq!(names, ["b2", "b1"]);
    }

    fn a_summary_commits_only_for_the_revision_it_read(kind: Kind) {
        let (fx, store) = open(kind);
        store.queue_model_summaries(true);
        let a = commit(&store, "a1", None, None);
        let read = store.next_stale_story(9).unwrap().expect("queued");
        let epoch = store.epoch();
        // A source joins while the draft is written.
        commit(&store, "a2", Some(a), None);
        assert!(store.epoch() > epoch);
        assert_eq!(store.story_revision(a).unwrap(), Some(read.revision + 1));
        let draft = Written::Summary("a draft of one source".into());
        assert!(!store.commit_story_summary(a, read.revision, &draft, 1).unwrap());
        assert_eq!(store.stories_for_day("2025-07-13").unwrap()[0].model_summary, None);
        assert_eq!(store.status(1).unwrap().queued_summaries, 1, "still queued");
        // The current revision commits, and is shown.
        let read = store.next_stale_story(9).unwrap().expect("still queued");
        assert_eq!(read.sources.len(), 2);
        let draft = Written::Summary("a summary of both".into());
        assert!(store.commit_story_summary(a, read.revision, &draft, 2).unwrap());
        assert_eq!(
            store.stories_for_day("2025-07-13").unwrap()[0].model_summary.as_deref(),
            Some("a summary of both")
        );
        let record = store.editor_record(a).unwrap().expect("live story");
        assert_eq!((record.revision, record.queued, record.n_sources), (2, false, 2));
        // A later change makes it stale: not shown, queued, and that survives reopening.
        commit(&store, "a3", Some(a), None);
        drop(store);
        let store = fx.reopen();
        assert_eq!(store.stories_for_day("2025-07-13").unwrap()[0].model_summary, None);
        assert_eq!(store.next_stale_story(9).unwrap().map(|s| (s.story_id, s.revision)), Some((a, 3)));
    }

    fn a_merge_requeues_the_story_it_made_and_drops_the_one_merged_away(kind: Kind) {
        let (_fx, store) = open(kind);
        store.queue_model_summaries(true);
        let a = commit(&store, "a1", None, None);
        let b = commit(&store, "b1", None, None);
        let bridge_file = store.accept_file(b"c", b"c.txt", "c", 1).unwrap();
        let mut bridge = Article { text: "c".into(), ..Default::default() };
        bridge.story = Some(StoryMatch { story_id: a, reason: "test".into(), score: 0.5 });
        bridge.story_merges = vec![stage_api::StoryMerge { story_id: b, reason: "test".into(), score: 0.6 }];
        let result = StageResult {
            file_id: bridge_file.id,
            item_index: 0,
            stage_index: 1,
            stage: "dedupe".into(),
            outcome: StageOutcome::Continue,
            millis: 1.0,
            detail: None,
            article: Some(bridge.clone()),
        };
        let before = store.story_revision(a).unwrap().unwrap();
        store.record_stage_with_merges(&result, &bridge).unwrap();
        assert_eq!(store.story_revision(a).unwrap(), Some(before + 1));
        assert_eq!(store.story_revision(b).unwrap(), None);
        assert_eq!(store.status(1).unwrap().queued_summaries, 1);
        let next = store.next_stale_story(9).unwrap().expect("a is queued");
        assert_eq!((next.story_id, next.sources.len()), (a, 2));
    }

    fn nothing_is_queued_unless_asked(kind: Kind) {
        let (_fx, store) = open(kind);
        commit(&store, "a1", None, None);
        assert_eq!(store.status(1).unwrap().queued_summaries, 0);
        assert!(store.next_stale_story(9).unwrap().is_none());
    }

    #[test]
    fn stage_outcomes_keep_their_stored_names() {
        for outcome in [StageOutcome::Continue, StageOutcome::Drop, StageOutcome::Fail] {
            assert_eq!(outcome.as_str().parse::<StageOutcome>(), Ok(outcome));
            assert_eq!(outcome.to_string(), outcome.as_str());
        }
        assert_eq!(
            ["continue", "drop", "fail"].map(|s| s.parse::<StageOutcome>().map(StageOutcome::as_str)),
            [Ok("continue"), Ok("drop"), Ok("fail")]
        );
    }

    #[test]
    fn an_unknown_stored_outcome_is_an_error_naming_column_and_value() {
        let (fx, store) = open(Kind::Sqlite);
        let dir = fx.dir();
        let file = store.accept_file(b"p1", b"a", "h1", 1).unwrap();
        drop(store);
        // A damaged database: the schema's CHECK would refuse the value, so it is bypassed here.
        let conn = Connection::open(dir.join("state/briefd.db")).unwrap();
        conn.pragma_update(None, "ignore_check_constraints", "ON").unwrap();
        conn.execute(
            "INSERT INTO stage_results (file_id, item_index, stage_index, stage, outcome, millis, at)
             VALUES (?1, 0, 0, 'clean', 'skip', 1.0, 'T')",
            rusqlite::params![file.id],
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&dir.join("state/briefd.db")).unwrap();
        let error = store.last_stage_result(file.id, 0).expect_err("an unknown outcome is not read as one");
        let message = format!("{error}");
        assert!(message.contains("stage_results.outcome") && message.contains("\"skip\""), "{message}");
    }

    /// Commits an article with a title, outlet and text, into `story` (a new one when `None`).
    fn commit_text(
        store: &Store,
        name: &str,
        story: Option<i64>,
        title: &str,
        outlet: &str,
        text: &str,
    ) -> i64 {
        let file = store.accept_file(name.as_bytes(), name.as_bytes(), name, 1).unwrap();
        let article = Article {
            file_name: name.into(),
            title: Some(title.into()),
            outlet: Some(outlet.into()),
            text: text.into(),
            story: story.map(|story_id| StoryMatch { story_id, reason: "test".into(), score: 1.0 }),
            ..Default::default()
        };
        store.commit_item(file.id, &article, "2025-07-13").unwrap()
    }

    fn found(store: &Store, words: &str) -> Vec<i64> {
        store.search(&Query::parse(words), 50).unwrap().iter().map(|h| h.story_id).collect()
    }

    fn search_finds_an_article_once_committed_with_the_words_marked(kind: Kind) {
        let (_fx, store) = open(kind);
        assert!(found(&store, "harbour").is_empty());
        let a = commit_text(
            &store,
            "a",
            None,
            "Harbour wall repaired",
            "Coast News",
            "Crews rebuilt the harbour wall.",
        );
        let hits = store.search(&Query::parse("harbours"), 50).unwrap();
        assert_eq!(hits.len(), 1, "stemmed: harbours finds harbour");
        assert_eq!(hits[0].story_id, a);
        let marked: Vec<&str> =
            hits[0].headline.iter().filter(|s| s.matched).map(|s| s.text.as_str()).collect();
        assert_eq!(marked, ["Harbour"]);
        assert!(hits[0].snippet.iter().any(|s| s.matched && s.text == "harbour"), "{:?}", hits[0].snippet);
        assert_eq!(
            (hits[0].days.as_slice(), hits[0].outlets.as_slice()),
            (&["2025-07-13".to_string()][..], &["Coast News".to_string()][..])
        );
        assert!(found(&store, "harbour ferry").is_empty(), "every word must match");
    }

    fn search_ranks_a_title_match_above_a_passing_mention(kind: Kind) {
        let (_fx, store) = open(kind);
        let mention = commit_text(&store, "m", None, "Council meets", "A", "The council met. Among other things, a drought was mentioned once in passing near the end of a long meeting about roads and budgets.");
        let titled = commit_text(
            &store,
            "t",
            None,
            "Drought hits farms",
            "B",
            "Farmers say the dry weather has lasted for months.",
        );
        assert_eq!(found(&store, "drought"), [titled, mention]);
    }

    fn fts_syntax_in_a_query_is_searched_as_words_not_run(kind: Kind) {
        let (_fx, store) = open(kind);
        let a =
            commit_text(&store, "a", None, "Near the bridge", "A", "A truck stopped near the old bridge.");
        for query in [
            "\"a\" OR NEAR(",
            "bridge\"",
            "NEAR(bridge truck, 1)",
            "bridge*",
            "title:bridge",
            "^bridge",
            "-bridge",
            "(((",
            "\"",
            "bridge AND",
            "NOT bridge",
            "{bridge}",
            "bridge:",
            "'; DROP TABLE articles; --",
        ] {
            let result = store.search(&Query::parse(query), 50);
            assert!(result.is_ok(), "{query}: {result:?}");
        }
        assert_eq!(
            found(&store, "bridge OR truck NEAR("),
            [a],
            "the words are looked for, the operator is not"
        );
        assert_eq!(
            found(&store, "title:bridge"),
            Vec::<i64>::new(),
            "a column filter is a phrase, not a filter"
        );
        assert_eq!(store.status(0).unwrap().articles, 1);
    }

    fn search_follows_a_merge_and_a_current_model_summary_only(kind: Kind) {
        let (_fx, store) = open(kind);
        let a =
            commit_text(&store, "a1", None, "Ferry strike begins", "A", "Ferry crews walked out at dawn.");
        let b = commit_text(&store, "b1", None, "Island cut off", "B", "No boats reached the island today.");
        assert_eq!(found(&store, "island"), [b]);
        // A model summary for the current revision is searchable; a new source makes it stale.
        assert!(store
            .commit_story_summary(
                a,
                store.story_revision(a).unwrap().unwrap(),
                &Written::Summary("Walkout strands commuters.".into()),
                1
            )
            .unwrap());
        assert_eq!(found(&store, "commuters"), [a]);
        let hit = &store.search(&Query::parse("commuters"), 50).unwrap()[0];
        assert_eq!(hit.article_id, None);
        assert_eq!(hit.headline, [Span { text: "Ferry strike begins".into(), matched: false }]);
        commit_text(&store, "a2", Some(a), "Strike day two", "C", "The ferry strike went on.");
        assert!(found(&store, "commuters").is_empty(), "the summary went stale with the new source");
        assert!(store
            .commit_story_summary(
                a,
                store.story_revision(a).unwrap().unwrap(),
                &Written::Summary("Commuters stranded again.".into()),
                2
            )
            .unwrap());
        assert_eq!(found(&store, "commuters"), [a]);
        // A rejected draft for a later revision takes the old summary out of the index.
        commit_text(&store, "a3", Some(a), "Strike day three", "C", "Still no ferry.");
        assert!(store
            .commit_story_summary(
                a,
                store.story_revision(a).unwrap().unwrap(),
                &Written::Rejected("guard".into()),
                3
            )
            .unwrap());
        assert!(found(&store, "commuters").is_empty());
        // b merges into a: its article is found as part of a, once per story.
        bridge(&store, b"c", "island ferry", a, b);
        assert_eq!(found(&store, "island"), [a]);
        assert_eq!(store.search(&Query::parse("island"), 50).unwrap()[0].n_articles, 4);
    }

    #[test]
    fn the_migration_indexes_articles_stored_before_it() {
        let (fx, store) = open(Kind::Sqlite);
        let dir = fx.dir();
        let a = commit_text(&store, "a", None, "Harbour wall repaired", "A", "Crews rebuilt the wall.");
        assert!(store
            .commit_story_summary(a, 1, &Written::Summary("Sea defences restored.".into()), 1)
            .unwrap());
        drop(store);
        // Back to schema 5, as a database an older briefd wrote (migrations 7 to 9 too).
        let path = dir.join("state/briefd.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TRIGGER search_article_stored; DROP TRIGGER search_article_rewritten;
             DROP TRIGGER search_article_removed; DROP TRIGGER search_story_changed;
             DROP TRIGGER search_summary_written; DROP TRIGGER search_summary_rewritten;
             DROP TABLE search; DROP TABLE stage_attempts; DROP TABLE story_stage_queue;
             DROP TABLE story_fields; DROP TABLE daemons; DROP TABLE claims;
             ALTER TABLE summary_queue DROP COLUMN taken_by; PRAGMA user_version = 5;",
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&path).unwrap();
        assert_eq!(found(&store, "harbour"), [a]);
        assert_eq!(found(&store, "defences"), [a]);
        assert!(store.integrity_ok().unwrap());
    }

    fn search_results_are_bounded(kind: Kind) {
        let (_fx, store) = open(kind);
        for i in 0..(search::MAX_RESULTS + 5) {
            commit_text(&store, &format!("f{i}"), None, &format!("Flood {i}"), "A", "River flood.");
        }
        assert_eq!(found(&store, "flood").len(), search::MAX_RESULTS);
        assert_eq!(found(&store, "flood river").len(), search::MAX_RESULTS);
        assert_eq!(store.search(&Query::parse("flood"), 3).unwrap().len(), 3);
    }

    fn key_lookups_count_only_the_newest_postings(kind: Kind) {
        let (_fx, store) = open(kind);
        // The first article holds a rare key and a common one; every later article holds only
        // the common key, until the first is older than the newest POSTINGS_PER_KEY of it.
        let total = model::POSTINGS_PER_KEY as usize + 5;
        for i in 0..total {
            let name = format!("a{i}");
            let file = store.accept_file(name.as_bytes(), name.as_bytes(), &name, 1).unwrap();
            let mut article = Article { text: name.clone(), ..Default::default() };
            let keys = if i == 0 {
                vec!["common".to_string(), "rare".to_string()]
            } else {
                vec!["common".to_string()]
            };
            article.keys.insert("word".into(), keys);
            store.commit_item(file.id, &article, "2025-07-13").unwrap();
        }
        let hits = store.articles_with_keys("word", vec!["common".into(), "rare".into()], total);
        assert_eq!(hits.len(), model::POSTINGS_PER_KEY as usize + 1);
        // The oldest article is still found through its rare key, sharing one key, not two.
        let first = hits.iter().find(|h| h.article_id == 1).expect("found through the rare key");
        assert_eq!(first.shared, 1);
        assert_eq!(store.key_counts("word", vec!["common".into()]), vec![total as u64]);
    }
}
