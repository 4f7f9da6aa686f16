//! Rows and the queries that read and write them.

use std::path::{Path, PathBuf};

use stage_api::Article;

use crate::db::{params, Db, DbError, DbResult, Dialect, Row};
use crate::now;

/// Where a file is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// Recorded, stages not finished.
    Accepted,
    /// Its article is in a story.
    Done,
    /// A stage dropped it on purpose.
    Dropped,
    /// The same bytes arrived before.
    Duplicate,
    /// It could not be processed.
    Failed,
}

impl FileState {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Accepted => "accepted",
            FileState::Done => "done",
            FileState::Dropped => "dropped",
            FileState::Duplicate => "duplicate",
            FileState::Failed => "failed",
        }
    }
}

impl std::fmt::Display for FileState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FileState {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        match s {
            "accepted" => Ok(FileState::Accepted),
            "done" => Ok(FileState::Done),
            "dropped" => Ok(FileState::Dropped),
            "duplicate" => Ok(FileState::Duplicate),
            "failed" => Ok(FileState::Failed),
            _ => Err(UnknownValue { column: "files.state", value: s.to_string() }),
        }
    }
}

/// How a stage left an article, as recorded in `stage_results.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageOutcome {
    /// The article went on to the next stage.
    Continue,
    /// The stage dropped it on purpose.
    Drop,
    /// The stage failed on it.
    Fail,
}

impl StageOutcome {
    /// The name stored in the database (the `CHECK` of `stage_results.outcome` lists the same).
    pub fn as_str(self) -> &'static str {
        match self {
            StageOutcome::Continue => "continue",
            StageOutcome::Drop => "drop",
            StageOutcome::Fail => "fail",
        }
    }
}

impl std::fmt::Display for StageOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for StageOutcome {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        match s {
            "continue" => Ok(StageOutcome::Continue),
            "drop" => Ok(StageOutcome::Drop),
            "fail" => Ok(StageOutcome::Fail),
            _ => Err(UnknownValue { column: "stage_results.outcome", value: s.to_string() }),
        }
    }
}

/// A stored column holds a value this build does not know (a hand-edited or damaged database:
/// the schema's `CHECK` constraints keep every value briefd writes in the known set).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column} holds {value:?}, which this briefd does not know")]
pub struct UnknownValue {
    /// The column, as `table.column`.
    pub column: &'static str,
    /// The value found.
    pub value: String,
}

/// One accepted file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRecord {
    /// Row id.
    pub id: i64,
    /// Its name in the processing folder.
    pub processing_name: Vec<u8>,
    /// Its name in the inbox.
    pub original_name: Vec<u8>,
    /// SHA-256 of its bytes (none when it could not be read).
    pub content_hash: Option<String>,
    /// Where it is in its life.
    pub state: FileState,
    /// When it was accepted.
    pub received_at: String,
    /// The stage that failed or dropped it.
    pub failed_stage: Option<String>,
    /// Why it failed or was dropped.
    pub reason: Option<String>,
    /// Where it goes once finished.
    pub destination: Option<PathBuf>,
}

impl FileRecord {
    /// The inbox name for people to read.
    pub fn display_name(&self) -> String {
        String::from_utf8_lossy(&self.original_name).into_owned()
    }
}

/// One stage's result for one article.
#[derive(Debug, Clone, PartialEq)]
pub struct StageResult {
    /// The file.
    pub file_id: i64,
    /// The article within the file.
    pub item_index: u32,
    /// Position of the stage in the config.
    pub stage_index: usize,
    /// The stage's name.
    pub stage: String,
    /// How the stage left the article.
    pub outcome: StageOutcome,
    /// Time taken.
    pub millis: f64,
    /// The drop reason or failure message.
    pub detail: Option<String>,
    /// The article as it left the stage (when it continued).
    pub article: Option<Article>,
}

/// A story to show, with every source article.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryView {
    /// Story id.
    pub id: i64,
    /// Its articles, oldest first.
    pub sources: Vec<Source>,
    /// The model's summary of the story, when the editor wrote one for its current revision and
    /// the guard passed it.
    pub model_summary: Option<String>,
    /// What the story stages set for the story (each stage's latest fields, in config order);
    /// `None` when no story stage set any.
    pub fields: Option<stage_api::StoryFields>,
}

/// A story whose model summary is stale, as the editor takes it from the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleStory {
    /// Story id.
    pub story_id: i64,
    /// Its revision when read: a summary is committed only for this revision.
    pub revision: i64,
    /// Its newest articles, newest first.
    pub sources: Vec<stage_api::StoredArticle>,
}

/// What the editor made of one revision of a story.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// A draft the guard passed: shown while the revision is current.
    Summary(String),
    /// Why no model summary is shown for the revision (the guard's reason, or a model error).
    Rejected(String),
}

/// One model run's token counts and times.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ModelRun {
    /// Prompt tokens read.
    pub prompt_tokens: u64,
    /// Seconds reading them.
    pub prompt_seconds: f64,
    /// Tokens generated.
    pub generated_tokens: u64,
    /// Seconds generating them.
    pub generate_seconds: f64,
}

pub(crate) fn record_model_run(db: &mut dyn Db, run: &ModelRun) -> DbResult<()> {
    db.execute(
        "INSERT INTO model_runs (at, prompt_tokens, prompt_seconds, generated_tokens, generate_seconds)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![now(), run.prompt_tokens, run.prompt_seconds, run.generated_tokens, run.generate_seconds],
    )?;
    Ok(())
}

/// The sums over the newest `last` runs.
pub(crate) fn model_speed(db: &mut dyn Db, last: usize) -> DbResult<ModelRun> {
    // The casts keep integer sums integers: PostgreSQL sums BIGINTs as NUMERIC.
    let r = db.query_one(
        "SELECT CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT), COALESCE(SUM(prompt_seconds), 0),
                CAST(COALESCE(SUM(generated_tokens), 0) AS BIGINT), COALESCE(SUM(generate_seconds), 0)
         FROM (SELECT * FROM model_runs ORDER BY id DESC LIMIT ?1) AS newest",
        params![last],
    )?;
    Ok(ModelRun {
        prompt_tokens: r.get::<i64>(0)?.max(0) as u64,
        prompt_seconds: r.get(1)?,
        generated_tokens: r.get::<i64>(2)?.max(0) as u64,
        generate_seconds: r.get(3)?,
    })
}

/// The editor's record for a story (for `briefd explain`).
#[derive(Debug, Clone, PartialEq)]
pub struct EditorRecord {
    /// The story's current revision.
    pub revision: i64,
    /// Whether it waits in the queue.
    pub queued: bool,
    /// The last revision the editor wrote for, and what it wrote.
    pub written: Option<(i64, Written)>,
    /// Sources the last summary read.
    pub n_sources: i64,
    /// When, RFC 3339 UTC.
    pub written_at: Option<String>,
}

/// One article of a story, as the briefing shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Article id.
    pub article_id: i64,
    /// When it was finished, RFC 3339 UTC.
    pub finished_at: String,
    /// The article as the last stage left it.
    pub article: Article,
}

/// A recorded merge: story `from_story` became part of `into_story` when an article bridged them.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeRecord {
    /// The story whose articles moved.
    pub from_story: i64,
    /// The story they moved into.
    pub into_story: i64,
    /// The file of the bridging article.
    pub file_id: i64,
    /// The bridging article within its file.
    pub item_index: u32,
    /// The inbox name of the bridging article's file.
    pub file_name: String,
    /// How many articles moved.
    pub n_moved: u64,
    /// Why, with the scores, as the deciding stage wrote it.
    pub reason: String,
    /// The strength of the evidence.
    pub score: f64,
    /// When, RFC 3339 UTC.
    pub at: String,
}

/// What `briefd status` shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusReport {
    /// Files per state, in a fixed order (accepted, done, duplicate, dropped, failed).
    pub files: Vec<StateCount>,
    /// Number of stories.
    pub stories: i64,
    /// Number of articles.
    pub articles: i64,
    /// Latest failed files, newest first.
    pub recent_failures: Vec<RecentFile>,
    /// Latest dropped files, newest first.
    pub recent_drops: Vec<RecentFile>,
    /// Stories whose model summary is stale (the editor's queue).
    pub queued_summaries: i64,
}

/// How many files are in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateCount {
    /// The state.
    pub state: FileState,
    /// Files in it.
    pub n_files: i64,
}

/// A file that failed or was dropped, as `briefd status` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentFile {
    /// Its name in the inbox.
    pub name: String,
    /// The stage that failed or dropped it (empty when none was recorded).
    pub stage: String,
    /// Why (empty when none was recorded).
    pub reason: String,
    /// When it finished (or, if it never did, was received), RFC 3339 UTC.
    pub at: String,
}

pub(crate) enum ReadError {
    Db(DbError),
    Json(i64, serde_json::Error),
    /// A story's stored story fields (`story_fields.fields`) of the story with this id.
    Fields(i64, serde_json::Error),
}

impl From<DbError> for ReadError {
    fn from(e: DbError) -> Self {
        ReadError::Db(e)
    }
}

const FILE_COLUMNS: &str =
    "id, processing_name, original_name, content_hash, state, received_at, failed_stage, reason, destination";

fn file_from_row(row: &Row) -> DbResult<FileRecord> {
    let destination: Option<Vec<u8>> = row.get(8)?;
    Ok(FileRecord {
        id: row.get(0)?,
        processing_name: row.get(1)?,
        original_name: row.get(2)?,
        content_hash: row.get(3)?,
        state: row.get(4)?,
        received_at: row.get(5)?,
        failed_stage: row.get(6)?,
        reason: row.get(7)?,
        destination: destination.map(path_from_bytes),
    })
}

fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

fn path_bytes(path: &Path) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes()
}

/// Every row of a query, each made into a `T`.
pub(crate) fn rows<T>(rows: Vec<Row>, each: impl Fn(&Row) -> DbResult<T>) -> DbResult<Vec<T>> {
    rows.iter().map(each).collect()
}

pub(crate) fn file_by_processing_name(db: &mut dyn Db, name: &[u8]) -> DbResult<Option<FileRecord>> {
    db.query_opt(&format!("SELECT {FILE_COLUMNS} FROM files WHERE processing_name = ?1"), params![name])?
        .map(|r| file_from_row(&r))
        .transpose()
}

pub(crate) fn files_where(db: &mut dyn Db, condition: &str) -> DbResult<Vec<FileRecord>> {
    rows(db.query(&format!("SELECT {FILE_COLUMNS} FROM files WHERE {condition}"), &[])?, file_from_row)
}

pub(crate) fn last_stage_result(
    db: &mut dyn Db,
    file_id: i64,
    item_index: u32,
) -> DbResult<Option<StageResult>> {
    let Some(r) = db.query_opt(
        "SELECT stage_index, stage, outcome, millis, detail, article FROM stage_results
         WHERE file_id = ?1 AND item_index = ?2 ORDER BY stage_index DESC LIMIT 1",
        params![file_id, item_index],
    )?
    else {
        return Ok(None);
    };
    let article: Option<String> = r.get(5)?;
    Ok(Some(StageResult {
        file_id,
        item_index,
        stage_index: r.get(0)?,
        stage: r.get(1)?,
        outcome: r.get(2).map_err(|e| in_column(e, "stage_results.outcome"))?,
        millis: r.get(3)?,
        detail: r.get(4)?,
        // An unreadable saved article just means the stages run again from the start.
        article: article.and_then(|a| serde_json::from_str(&a).ok()),
    }))
}

/// A decode error, named by its column.
fn in_column(e: DbError, column: &str) -> DbError {
    match e {
        DbError::Decode(problem) => DbError::Decode(format!("{column}: {problem}")),
        other => other,
    }
}

/// Counts a start of a stage on an article; returns the earlier starts that never recorded a
/// result. A different stage now configured at that position starts the count afresh.
pub(crate) fn start_stage(
    db: &mut dyn Db,
    file_id: i64,
    item_index: u32,
    stage_index: usize,
    stage: &str,
) -> DbResult<u32> {
    let attempts: i64 = db
        .query_one(
            "INSERT INTO stage_attempts (file_id, item_index, stage_index, stage, attempts, started_at)
             VALUES (?1, ?2, ?3, ?4, 1, ?5)
             ON CONFLICT (file_id, item_index, stage_index) DO UPDATE SET
                 attempts = CASE WHEN stage_attempts.stage = excluded.stage THEN stage_attempts.attempts + 1 ELSE 1 END,
                 stage = excluded.stage,
                 started_at = excluded.started_at
             RETURNING attempts",
            params![file_id, item_index, stage_index, stage, now()],
        )?
        .get(0)?;
    Ok(u32::try_from(attempts - 1).unwrap_or(0))
}

/// Takes back the starts made at or after `since` that have not ended: they were left by a
/// stopping daemon (its shutdown timed out), not by a crash.
pub(crate) fn forgive_starts_since(db: &mut dyn Db, since: &str) -> DbResult<usize> {
    let later = match db.dialect() {
        Dialect::Sqlite => "julianday(started_at) >= julianday(?1)",
        Dialect::Postgres => "CAST(started_at AS timestamptz) >= CAST(CAST(?1 AS TEXT) AS timestamptz)",
    };
    db.execute(
        &format!("UPDATE stage_attempts SET attempts = attempts - 1 WHERE {later} AND attempts > 0"),
        params![since],
    )
}

pub(crate) fn record_stage(db: &mut dyn Db, result: &StageResult) -> DbResult<()> {
    // The start that led here ended; only starts that never end count against the article.
    db.execute(
        "DELETE FROM stage_attempts WHERE file_id = ?1 AND item_index = ?2 AND stage_index = ?3",
        params![result.file_id, result.item_index, result.stage_index],
    )?;
    let article =
        result.article.as_ref().map(|a| serde_json::to_string(a).expect("articles always serialise"));
    db.execute(
        "INSERT INTO stage_results (file_id, item_index, stage_index, stage, outcome, millis, detail, article, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (file_id, item_index, stage_index) DO UPDATE SET stage = excluded.stage,
             outcome = excluded.outcome, millis = excluded.millis, detail = excluded.detail,
             article = excluded.article, at = excluded.at",
        params![
            result.file_id,
            result.item_index,
            result.stage_index,
            result.stage,
            result.outcome,
            result.millis,
            result.detail,
            article,
            now()
        ],
    )?;
    Ok(())
}

/// The live story `story_id` now is: itself, or the story it was merged into (followed through
/// later merges); `None` when there is no such story.
pub(crate) fn live_story(db: &mut dyn Db, story_id: i64) -> DbResult<Option<i64>> {
    let mut current = story_id;
    // Each merge points at a story that was live when it happened, so the chain only ever goes
    // forward; the bound is a guard against a hand-edited database, not a limit ever reached.
    for _ in 0..1000 {
        let next = db.query_opt("SELECT merged_into FROM stories WHERE id = ?1", params![current])?;
        match next.map(|r| r.get::<Option<i64>>(0)).transpose()? {
            None => return Ok(None),
            Some(None) => return Ok(Some(current)),
            Some(Some(into)) => current = into,
        }
    }
    Ok(None)
}

/// Merges each of `merges` into story `into` on behalf of the article (`file_id`, `item_index`):
/// its articles move, the story row points at `into`, and the merge is recorded. A story that is
/// unknown, already part of `into`, or `into` itself is skipped, so applying the same request
/// twice (a resumed article) changes nothing.
pub(crate) fn merge_stories(
    db: &mut dyn Db,
    file_id: i64,
    item_index: u32,
    into: i64,
    merges: &[stage_api::StoryMerge],
) -> DbResult<Vec<MergeRecord>> {
    let Some(into) = live_story(db, into)? else { return Ok(Vec::new()) };
    let mut done = Vec::new();
    for merge in merges {
        let Some(from) = live_story(db, merge.story_id)? else { continue };
        if from == into {
            continue;
        }
        let at = now();
        let n_moved =
            db.execute("UPDATE articles SET story_id = ?2 WHERE story_id = ?1", params![from, into])?;
        db.execute(
            "UPDATE stories SET merged_into = ?2, updated_at = ?3 WHERE id = ?1",
            params![from, into, at],
        )?;
        db.execute(
            "UPDATE stories SET updated_at = ?2, revision = revision + 1 WHERE id = ?1",
            params![into, at],
        )?;
        db.execute(
            "INSERT INTO story_merges (from_story, into_story, file_id, item_index, n_moved, reason, score, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![from, into, file_id, item_index, n_moved, merge.reason, merge.score, at],
        )?;
        let file_name: Vec<u8> =
            db.query_one("SELECT original_name FROM files WHERE id = ?1", params![file_id])?.get(0)?;
        done.push(MergeRecord {
            from_story: from,
            into_story: into,
            file_id,
            item_index,
            file_name: String::from_utf8_lossy(&file_name).into_owned(),
            n_moved: n_moved as u64,
            reason: merge.reason.clone(),
            score: merge.score,
            at,
        });
    }
    Ok(done)
}

/// Every merge that made up `story_id`: those into it and, recursively, into the stories merged
/// into it, oldest first.
pub(crate) fn merges_into(db: &mut dyn Db, story_id: i64) -> DbResult<Vec<MergeRecord>> {
    let found = db.query(
        "WITH RECURSIVE parts(id) AS (SELECT CAST(?1 AS BIGINT) UNION SELECT m.from_story FROM story_merges m JOIN parts p ON m.into_story = p.id)
         SELECT m.from_story, m.into_story, m.file_id, m.item_index, f.original_name, m.n_moved, m.reason, m.score, m.at
         FROM story_merges m JOIN files f ON f.id = m.file_id
         WHERE m.into_story IN (SELECT id FROM parts) ORDER BY m.id",
        params![story_id],
    )?;
    rows(found, |r| {
        let name: Vec<u8> = r.get(4)?;
        Ok(MergeRecord {
            from_story: r.get(0)?,
            into_story: r.get(1)?,
            file_id: r.get(2)?,
            item_index: r.get(3)?,
            file_name: String::from_utf8_lossy(&name).into_owned(),
            n_moved: r.get::<i64>(5)?.max(0) as u64,
            reason: r.get(6)?,
            score: r.get(7)?,
            at: r.get(8)?,
        })
    })
}

pub(crate) fn story_size(db: &mut dyn Db, story_id: i64) -> DbResult<u64> {
    let n: i64 =
        db.query_one("SELECT COUNT(*) FROM articles WHERE story_id = ?1", params![story_id])?.get(0)?;
    Ok(n.max(0) as u64)
}

pub(crate) fn story_published(db: &mut dyn Db, story_id: i64) -> DbResult<Vec<String>> {
    let published = db.dialect().json_text("data", &["published"]);
    let found = db.query(
        &format!("SELECT DISTINCT {published} FROM articles WHERE story_id = ?1 AND {published} IS NOT NULL"),
        params![story_id],
    )?;
    rows(found, |r| r.get(0))
}

pub(crate) fn insert_article(db: &mut dyn Db, file_id: i64, article: &Article, day: &str) -> DbResult<i64> {
    let at = now();
    // A story merged away since the article's stage decided leads to the story it became.
    let joined = match &article.story {
        Some(m) => live_story(db, m.story_id)?,
        None => None,
    };
    let story_id = match joined {
        Some(id) => {
            db.execute(
                "UPDATE stories SET updated_at = ?2, revision = revision + 1 WHERE id = ?1",
                params![id, at],
            )?;
            id
        }
        None => db
            .query_one(
                "INSERT INTO stories (created_at, updated_at, revision) VALUES (?1, ?1, 1) RETURNING id",
                params![at],
            )?
            .get(0)?,
    };
    let mut stored = article.clone();
    stored.raw = None;
    let data = serde_json::to_string(&stored).expect("articles always serialise");
    let (reason, score) = match (&article.story, joined) {
        (Some(m), Some(_)) => (Some(m.reason.clone()), Some(m.score)),
        _ => (None, None),
    };
    let article_id: i64 = db
        .query_one(
            "INSERT INTO articles (file_id, item_index, story_id, story_reason, story_score, day, finished_at, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            params![file_id, article.item_index, story_id, reason, score, day, at, data],
        )?
        .get(0)?;
    for (kind, value) in &article.fingerprints {
        db.execute(
            "INSERT INTO fingerprints (article_id, kind, value) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![article_id, kind, value],
        )?;
    }
    for (kind, values) in &article.keys {
        let mut seen = std::collections::BTreeSet::new();
        for value in values.iter().filter(|v| seen.insert(v.as_str())) {
            db.execute(
                "INSERT INTO article_keys (kind, value, article_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![kind, value, article_id],
            )?;
            db.execute(
                "INSERT INTO key_counts (kind, value, n) VALUES (?1, ?2, 1)
                 ON CONFLICT (kind, value) DO UPDATE SET n = key_counts.n + 1",
                params![kind, value],
            )?;
        }
    }
    Ok(story_id)
}

pub(crate) fn article_count(db: &mut dyn Db) -> DbResult<u64> {
    // MAX(id) rather than COUNT(*): articles are never deleted, and it is one index lookup.
    let n: i64 = db.query_one("SELECT COALESCE(MAX(id), 0) FROM articles", &[])?.get(0)?;
    Ok(n.max(0) as u64)
}

pub(crate) fn key_counts(db: &mut dyn Db, kind: &str, values: &[String]) -> DbResult<Vec<u64>> {
    // One statement for the whole list (values passed as a JSON array): an article asks for a
    // few thousand words at once, and a query per word costs more than the lookups themselves.
    let list = serde_json::to_string(values).expect("strings always serialise");
    let words = db.dialect().string_list("?2", "j");
    // CROSS JOIN keeps the list as the outer loop, so each word is one primary-key lookup (a
    // plain JOIN let SQLite's planner scan key_counts, which grows with the corpus).
    let found = db.query(
        &format!("SELECT j.key, k.n FROM {words} CROSS JOIN key_counts AS k WHERE k.kind = ?1 AND k.value = j.value"),
        params![kind, list],
    )?;
    let mut counts = vec![0u64; values.len()];
    for row in found {
        let index: i64 = row.get(0)?;
        let n: i64 = row.get(1)?;
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| counts.get_mut(i)) {
            *slot = n.max(0) as u64;
        }
    }
    Ok(counts)
}

/// How many of a key's newest articles candidate retrieval looks at; see `articles_with_keys`.
pub(crate) const POSTINGS_PER_KEY: i64 = 200;

pub(crate) fn articles_with_keys(
    db: &mut dyn Db,
    kind: &str,
    values: &[String],
    limit: usize,
) -> DbResult<Vec<stage_api::KeyHit>> {
    let list = serde_json::to_string(values).expect("strings always serialise");
    let words = db.dialect().string_list("?2", "j");
    // Only the newest POSTINGS_PER_KEY articles of each key are counted: a key's posting list
    // grows with the corpus (a common word, a band shared by every repost of one wire story),
    // and counting all of it made each lookup grow linearly. The bound is the row id of the
    // POSTINGS_PER_KEY-th newest posting, found by walking the primary key backwards.
    let found = db.query(
        &format!(
            "SELECT k.article_id, a.story_id, COUNT(*) AS shared
             FROM {words} CROSS JOIN article_keys AS k CROSS JOIN articles AS a
             WHERE k.kind = ?1 AND k.value = j.value
               AND k.article_id >= COALESCE((SELECT p.article_id FROM article_keys AS p
                                             WHERE p.kind = ?1 AND p.value = j.value
                                             ORDER BY p.article_id DESC LIMIT 1 OFFSET ?4), 0)
               AND a.id = k.article_id
             GROUP BY k.article_id, a.story_id ORDER BY shared DESC, k.article_id LIMIT ?3"
        ),
        params![kind, list, limit, POSTINGS_PER_KEY - 1],
    )?;
    rows(found, |r| {
        Ok(stage_api::KeyHit {
            article_id: r.get(0)?,
            story_id: r.get(1)?,
            shared: r.get::<i64>(2)?.max(0) as u64,
        })
    })
}

/// Rows of `(id, story_id, data)` from `articles`, as stored articles.
fn stored_articles(found: Vec<Row>) -> Result<Vec<stage_api::StoredArticle>, ReadError> {
    let mut out = Vec::with_capacity(found.len());
    for row in found {
        let article_id: i64 = row.get(0)?;
        let data: String = row.get(2)?;
        let article: Article = serde_json::from_str(&data).map_err(|e| ReadError::Json(article_id, e))?;
        out.push(stage_api::StoredArticle { article_id, story_id: row.get(1)?, article });
    }
    Ok(out)
}

pub(crate) fn story_articles(
    db: &mut dyn Db,
    story_id: i64,
    limit: usize,
) -> Result<Vec<stage_api::StoredArticle>, ReadError> {
    stored_articles(db.query(
        "SELECT id, story_id, data FROM articles WHERE story_id = ?1 ORDER BY id DESC LIMIT ?2",
        params![story_id, limit],
    )?)
}

/// The files whose id is `query`, or whose inbox name is `query`'s last component.
pub(crate) fn find_files(db: &mut dyn Db, query: &str) -> DbResult<Vec<FileRecord>> {
    let by_id: i64 = query.parse().unwrap_or(-1);
    let base =
        std::path::Path::new(query).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let found = db.query(
        &format!("SELECT {FILE_COLUMNS} FROM files WHERE id = ?1 OR original_name = ?2 ORDER BY id"),
        params![by_id, base.as_bytes()],
    )?;
    rows(found, file_from_row)
}

/// The articles a file gave.
pub(crate) fn file_articles(
    db: &mut dyn Db,
    file_id: i64,
) -> Result<Vec<stage_api::StoredArticle>, ReadError> {
    stored_articles(db.query(
        "SELECT a.id, a.story_id, a.data FROM articles a WHERE a.file_id = ?1 ORDER BY a.id",
        params![file_id],
    )?)
}

pub(crate) fn find_articles(
    db: &mut dyn Db,
    query: &str,
) -> Result<Vec<stage_api::StoredArticle>, ReadError> {
    let by_id: Option<i64> = query.parse().ok();
    let base =
        std::path::Path::new(query).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    stored_articles(db.query(
        "SELECT a.id, a.story_id, a.data FROM articles a JOIN files f ON f.id = a.file_id
         WHERE a.id = ?1 OR f.original_name = ?2 ORDER BY a.id",
        params![by_id.unwrap_or(-1), base.as_bytes()],
    )?)
}

pub(crate) fn finish_file(
    db: &mut dyn Db,
    file_id: i64,
    state: FileState,
    stage: Option<&str>,
    reason: Option<&str>,
    destination: &Path,
) -> DbResult<()> {
    db.execute(
        "UPDATE files SET state = ?2, failed_stage = COALESCE(?3, failed_stage), reason = COALESCE(?4, reason),
         destination = ?5, finished_at = ?6 WHERE id = ?1",
        params![file_id, state.as_str(), stage, reason, path_bytes(destination), now()],
    )?;
    Ok(())
}

pub(crate) fn stories_with_fingerprint(db: &mut dyn Db, kind: &str, value: &str) -> DbResult<Vec<i64>> {
    let found = db.query(
        "SELECT DISTINCT a.story_id FROM fingerprints f JOIN articles a ON a.id = f.article_id
         WHERE f.kind = ?1 AND f.value = ?2 ORDER BY a.story_id",
        params![kind, value],
    )?;
    rows(found, |r| r.get(0))
}

pub(crate) fn stories_for_day(db: &mut dyn Db, day: &str) -> Result<Vec<StoryView>, ReadError> {
    let found = db.query(
        "SELECT a.story_id, a.id, a.finished_at, a.data FROM articles a
         WHERE a.story_id IN (SELECT story_id FROM articles WHERE day = ?1)
         ORDER BY a.story_id, a.id",
        params![day],
    )?;
    story_views(db, found)
}

/// One live story with every source (`None` when it has no articles).
pub(crate) fn story(db: &mut dyn Db, story_id: i64) -> Result<Option<StoryView>, ReadError> {
    let found = db.query(
        "SELECT a.story_id, a.id, a.finished_at, a.data FROM articles a WHERE a.story_id = ?1 ORDER BY a.id",
        params![story_id],
    )?;
    let mut views = story_views(db, found)?;
    Ok(views.pop())
}

/// Stories from rows of (story id, article id, finished at, data) ordered by story, then
/// article, each with its current model summary.
fn story_views(db: &mut dyn Db, found: Vec<Row>) -> Result<Vec<StoryView>, ReadError> {
    let mut stories: Vec<StoryView> = Vec::new();
    for row in found {
        let story_id: i64 = row.get(0)?;
        let article_id: i64 = row.get(1)?;
        let data: String = row.get(3)?;
        let article: Article = serde_json::from_str(&data).map_err(|e| ReadError::Json(article_id, e))?;
        let source = Source { article_id, finished_at: row.get(2)?, article };
        match stories.last_mut() {
            Some(s) if s.id == story_id => s.sources.push(source),
            _ => stories.push(StoryView {
                id: story_id,
                sources: vec![source],
                model_summary: None,
                fields: None,
            }),
        }
    }
    for story in &mut stories {
        story.model_summary = db
            .query_opt(
                "SELECT m.summary FROM story_summaries m JOIN stories s ON s.id = m.story_id
                 WHERE m.story_id = ?1 AND m.revision = s.revision AND m.summary IS NOT NULL",
                params![story.id],
            )?
            .map(|r| r.get(0))
            .transpose()?;
        story.fields = crate::story_stages::fields(db, story.id)?;
    }
    Ok(stories)
}

pub(crate) fn days(db: &mut dyn Db, limit: usize) -> DbResult<Vec<String>> {
    // The index on `day` makes this a walk down its newest end.
    rows(db.query("SELECT DISTINCT day FROM articles ORDER BY day DESC LIMIT ?1", params![limit])?, |r| {
        r.get(0)
    })
}

/// The metadata key the `dedupe` stage names a reprint's original with; spelled out because the
/// store does not depend on stages. A reprint is not an independent source.
const REPRINT_OF: &str = "dedupe.reprint_of";

/// Puts `story_id` in the editor's queue (or refreshes its place): its independent sources and
/// the time of this change order the work.
pub(crate) fn enqueue(db: &mut dyn Db, story_id: i64) -> DbResult<()> {
    let reprint_of = db.dialect().json_text("data", &["metadata", REPRINT_OF]);
    let n_independent: i64 = db
        .query_one(
            &format!("SELECT COUNT(*) FROM articles WHERE story_id = ?1 AND {reprint_of} IS NULL"),
            params![story_id],
        )?
        .get(0)?;
    db.execute(
        "INSERT INTO summary_queue (story_id, n_independent, changed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (story_id) DO UPDATE SET n_independent = excluded.n_independent, changed_at = excluded.changed_at",
        params![story_id, n_independent, now()],
    )?;
    Ok(())
}

/// Lets another editor take a queued story `instance` had taken.
pub(crate) fn release_story(db: &mut dyn Db, story_id: i64, instance: &str) -> DbResult<()> {
    db.execute(
        "UPDATE summary_queue SET taken_by = NULL WHERE story_id = ?1 AND taken_by = ?2",
        params![story_id, instance],
    )?;
    Ok(())
}

pub(crate) fn dequeue(db: &mut dyn Db, story_id: i64) -> DbResult<()> {
    db.execute("DELETE FROM summary_queue WHERE story_id = ?1", params![story_id])?;
    Ok(())
}

/// The live story's revision; `None` for a story merged away or unknown.
pub(crate) fn story_revision(db: &mut dyn Db, story_id: i64) -> DbResult<Option<i64>> {
    db.query_opt("SELECT revision FROM stories WHERE id = ?1 AND merged_into IS NULL", params![story_id])?
        .map(|r| r.get(0))
        .transpose()
}

/// The first story of the queue that no other live daemon's editor holds (most independent
/// sources, then the newest change), taken for `instance`. On PostgreSQL the row is locked
/// for the transaction and rows other transactions hold are passed over, so two editors
/// choosing at once get two stories.
pub(crate) fn next_stale_story(
    db: &mut dyn Db,
    max_sources: usize,
    instance: &str,
) -> Result<Option<StaleStory>, ReadError> {
    let dialect = db.dialect();
    let free = format!(
        "taken_by IS NULL OR taken_by = ?1 OR NOT EXISTS (SELECT 1 FROM daemons d WHERE d.id = taken_by AND d.lease_until > {})",
        dialect.now_millis()
    );
    loop {
        let head: Option<i64> = db
            .query_opt(
                &format!(
                    "SELECT story_id FROM summary_queue WHERE {free}
                     ORDER BY n_independent DESC, changed_at DESC, story_id DESC LIMIT 1 {}",
                    dialect.skip_locked()
                ),
                params![instance],
            )?
            .map(|r| r.get(0))
            .transpose()?;
        let Some(story_id) = head else { return Ok(None) };
        db.execute(
            "UPDATE summary_queue SET taken_by = ?1 WHERE story_id = ?2",
            params![instance, story_id],
        )?;
        match story_revision(db, story_id)? {
            Some(revision) => {
                let sources = story_articles(db, story_id, max_sources)?;
                return Ok(Some(StaleStory { story_id, revision, sources }));
            }
            // Merged away since it was queued: the story it went into is queued itself.
            None => dequeue(db, story_id)?,
        }
    }
}

/// Records what the editor made of `revision` of `story_id` and takes the story off the queue,
/// if that is still the story's revision; `false` (nothing written, the story stays queued) when
/// the story changed since.
pub(crate) fn commit_story_summary(
    db: &mut dyn Db,
    story_id: i64,
    revision: i64,
    written: &Written,
    n_sources: usize,
) -> DbResult<bool> {
    if story_revision(db, story_id)? != Some(revision) {
        return Ok(false);
    }
    let (summary, rejected) = match written {
        Written::Summary(text) => (Some(text.as_str()), None),
        Written::Rejected(reason) => (None, Some(reason.as_str())),
    };
    db.execute(
        "INSERT INTO story_summaries (story_id, revision, summary, rejected, n_sources, written_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (story_id) DO UPDATE SET revision = excluded.revision, summary = excluded.summary,
           rejected = excluded.rejected, n_sources = excluded.n_sources, written_at = excluded.written_at",
        params![story_id, revision, summary, rejected, n_sources, now()],
    )?;
    dequeue(db, story_id)?;
    Ok(true)
}

pub(crate) fn editor_record(db: &mut dyn Db, story_id: i64) -> DbResult<Option<EditorRecord>> {
    let Some(revision) = story_revision(db, story_id)? else { return Ok(None) };
    let queued =
        db.query_opt("SELECT 1 FROM summary_queue WHERE story_id = ?1", params![story_id])?.is_some();
    let row = db.query_opt(
        "SELECT revision, summary, rejected, n_sources, written_at FROM story_summaries WHERE story_id = ?1",
        params![story_id],
    )?;
    Ok(Some(match row {
        Some(r) => {
            let summary: Option<String> = r.get(1)?;
            let rejected: Option<String> = r.get(2)?;
            let written = match summary {
                Some(text) => Written::Summary(text),
                None => Written::Rejected(rejected.unwrap_or_default()),
            };
            EditorRecord {
                revision,
                queued,
                written: Some((r.get(0)?, written)),
                n_sources: r.get(3)?,
                written_at: Some(r.get(4)?),
            }
        }
        None => EditorRecord { revision, queued, written: None, n_sources: 0, written_at: None },
    }))
}

pub(crate) fn story_days(db: &mut dyn Db, story_id: i64) -> DbResult<Vec<String>> {
    rows(
        db.query("SELECT DISTINCT day FROM articles WHERE story_id = ?1 ORDER BY day", params![story_id])?,
        |r| r.get(0),
    )
}

pub(crate) fn status(db: &mut dyn Db, recent: usize) -> DbResult<StatusReport> {
    let mut report = StatusReport::default();
    let states =
        [FileState::Accepted, FileState::Done, FileState::Duplicate, FileState::Dropped, FileState::Failed];
    for state in states {
        let n_files: i64 =
            db.query_one("SELECT COUNT(*) FROM files WHERE state = ?1", params![state.as_str()])?.get(0)?;
        report.files.push(StateCount { state, n_files });
    }
    // A story merged into another is part of it, not a story of its own.
    report.stories = db.query_one("SELECT COUNT(*) FROM stories WHERE merged_into IS NULL", &[])?.get(0)?;
    report.articles = db.query_one("SELECT COUNT(*) FROM articles", &[])?.get(0)?;
    let mut recent_of = |state: FileState| -> DbResult<Vec<RecentFile>> {
        let found = db.query(
            "SELECT original_name, COALESCE(failed_stage, ''), COALESCE(reason, ''), COALESCE(finished_at, received_at)
             FROM files WHERE state = ?1 ORDER BY id DESC LIMIT ?2",
            params![state.as_str(), recent],
        )?;
        rows(found, |r| {
            let name: Vec<u8> = r.get(0)?;
            Ok(RecentFile {
                name: String::from_utf8_lossy(&name).into_owned(),
                stage: r.get(1)?,
                reason: r.get(2)?,
                at: r.get(3)?,
            })
        })
    };
    report.recent_failures = recent_of(FileState::Failed)?;
    report.recent_drops = recent_of(FileState::Dropped)?;
    report.queued_summaries = db.query_one("SELECT COUNT(*) FROM summary_queue", &[])?.get(0)?;
    Ok(report)
}
