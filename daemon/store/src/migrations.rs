//! Schema versions. Each entry upgrades from the previous version; entries are never edited once
//! shipped, only appended.

use std::path::Path;

use rusqlite::Connection;

use crate::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: files, stage results, stories, articles, fingerprints.
    r#"
    CREATE TABLE files (
        id              INTEGER PRIMARY KEY,
        processing_name BLOB NOT NULL UNIQUE,
        original_name   BLOB NOT NULL,
        content_hash    TEXT,
        size            INTEGER NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('accepted', 'done', 'dropped', 'duplicate', 'failed')),
        received_at     TEXT NOT NULL,
        finished_at     TEXT,
        duplicate_of    INTEGER REFERENCES files(id),
        failed_stage    TEXT,
        reason          TEXT,
        destination     BLOB,
        moved           INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX files_by_hash ON files(content_hash);
    CREATE INDEX files_by_state ON files(state);

    CREATE TABLE stage_results (
        file_id     INTEGER NOT NULL REFERENCES files(id),
        item_index  INTEGER NOT NULL,
        stage_index INTEGER NOT NULL,
        stage       TEXT NOT NULL,
        outcome     TEXT NOT NULL CHECK (outcome IN ('continue', 'drop', 'fail')),
        millis      REAL NOT NULL,
        detail      TEXT,
        article     TEXT,
        at          TEXT NOT NULL,
        PRIMARY KEY (file_id, item_index, stage_index)
    );

    CREATE TABLE stories (
        id         INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );

    CREATE TABLE articles (
        id           INTEGER PRIMARY KEY,
        file_id      INTEGER NOT NULL REFERENCES files(id),
        item_index   INTEGER NOT NULL,
        story_id     INTEGER NOT NULL REFERENCES stories(id),
        story_reason TEXT,
        story_score  REAL,
        day          TEXT NOT NULL,
        finished_at  TEXT NOT NULL,
        data         TEXT NOT NULL,
        UNIQUE (file_id, item_index)
    );
    CREATE INDEX articles_by_day ON articles(day);
    CREATE INDEX articles_by_story ON articles(story_id);

    CREATE TABLE fingerprints (
        article_id INTEGER NOT NULL REFERENCES articles(id),
        kind       TEXT NOT NULL,
        value      TEXT NOT NULL,
        PRIMARY KEY (kind, value, article_id)
    );
    "#,
    // 2: multi-valued article keys (LSH bands, words) for dedupe's candidate retrieval, and the
    // number of articles per key, kept as a counter so a document frequency is one lookup
    // instead of a count over a growing posting list.
    r#"
    CREATE TABLE article_keys (
        kind       TEXT NOT NULL,
        value      TEXT NOT NULL,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        PRIMARY KEY (kind, value, article_id)
    ) WITHOUT ROWID;
    CREATE TABLE key_counts (
        kind  TEXT NOT NULL,
        value TEXT NOT NULL,
        n     INTEGER NOT NULL,
        PRIMARY KEY (kind, value)
    ) WITHOUT ROWID;
    "#,
    // 3: story merges. When a later article bridges two stories, the smaller one's articles move
    // into the larger (`articles.story_id` is updated) and the story row stays, pointing at where
    // it went, so an id held elsewhere (an older article's JSON, a log line) still leads to the
    // live story. Each merge is recorded with the bridging article and the scores that justified
    // it, for `briefd explain`.
    r#"
    ALTER TABLE stories ADD COLUMN merged_into INTEGER REFERENCES stories(id);
    CREATE TABLE story_merges (
        id         INTEGER PRIMARY KEY,
        from_story INTEGER NOT NULL UNIQUE REFERENCES stories(id),
        into_story INTEGER NOT NULL REFERENCES stories(id),
        file_id    INTEGER NOT NULL REFERENCES files(id),
        item_index INTEGER NOT NULL,
        n_moved    INTEGER NOT NULL,
        reason     TEXT NOT NULL,
        score      REAL NOT NULL,
        at         TEXT NOT NULL
    );
    CREATE INDEX story_merges_by_into ON story_merges(into_story);
    "#,
    // 4: the editor. A story's revision counts the changes to its sources (an article joining, a
    // merge); the queue holds the stories whose model summary is stale, with what orders the
    // work (independent sources, then the newest change); a story's model summary, or the
    // reason its draft was rejected, is kept with the revision it was written for, and shown
    // only while that revision is current. Stories of an older schema keep revision 0 and are
    // not queued: only changes from now on are.
    r#"
    ALTER TABLE stories ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE summary_queue (
        story_id      INTEGER PRIMARY KEY REFERENCES stories(id),
        n_independent INTEGER NOT NULL,
        changed_at    TEXT NOT NULL
    );
    CREATE INDEX summary_queue_by_order ON summary_queue(n_independent DESC, changed_at DESC, story_id DESC);
    CREATE TABLE story_summaries (
        story_id   INTEGER PRIMARY KEY REFERENCES stories(id),
        revision   INTEGER NOT NULL,
        summary    TEXT,
        rejected   TEXT,
        n_sources  INTEGER NOT NULL,
        written_at TEXT NOT NULL,
        CHECK ((summary IS NULL) != (rejected IS NULL))
    );
    "#,
    // 5: the model's speed per run, for `/metrics`.
    r#"
    CREATE TABLE model_runs (
        id               INTEGER PRIMARY KEY,
        at               TEXT NOT NULL,
        prompt_tokens    INTEGER NOT NULL,
        prompt_seconds   REAL NOT NULL,
        generated_tokens INTEGER NOT NULL,
        generate_seconds REAL NOT NULL
    );
    "#,
    // 6: full-text search (FTS5, porter-stemmed, diacritics folded). One row per article, its
    // rowid the article's id, and one per story with a current model summary, its rowid the
    // story's id negated: the two kinds share one table so that bm25 ranks them on one scale.
    // Triggers keep it current in the transaction of each write (an article stored, a story
    // changed or merged, a summary written), so it cannot drift from the rows it mirrors; a
    // story's id is looked up through `articles` at query time, so a merge moves nothing here.
    // U+E000 and U+E001 are taken out of the indexed text: they mark the matched words in a
    // highlight, and an article must not be able to forge them.
    r#"
    CREATE VIRTUAL TABLE search USING fts5(
        title, outlet, summary, body,
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    INSERT INTO search (rowid, title, outlet, summary, body)
    SELECT id,
        replace(replace(COALESCE(NULLIF(trim(json_extract(data, '$.title')), ''), json_extract(data, '$.file_name'), ''), char(57344), ' '), char(57345), ' '),
        replace(replace(COALESCE(json_extract(data, '$.outlet'), ''), char(57344), ' '), char(57345), ' '),
        replace(replace(COALESCE(json_extract(data, '$.summary'), ''), char(57344), ' '), char(57345), ' '),
        replace(replace(COALESCE(json_extract(data, '$.text'), ''), char(57344), ' '), char(57345), ' ')
    FROM articles;
    INSERT INTO search (rowid, title, outlet, summary, body)
    SELECT -m.story_id, '', '', replace(replace(m.summary, char(57344), ' '), char(57345), ' '), ''
    FROM story_summaries m JOIN stories s ON s.id = m.story_id
    WHERE m.summary IS NOT NULL AND m.revision = s.revision AND s.merged_into IS NULL;

    CREATE TRIGGER search_article_stored AFTER INSERT ON articles BEGIN
        INSERT INTO search (rowid, title, outlet, summary, body) VALUES (NEW.id,
            replace(replace(COALESCE(NULLIF(trim(json_extract(NEW.data, '$.title')), ''), json_extract(NEW.data, '$.file_name'), ''), char(57344), ' '), char(57345), ' '),
            replace(replace(COALESCE(json_extract(NEW.data, '$.outlet'), ''), char(57344), ' '), char(57345), ' '),
            replace(replace(COALESCE(json_extract(NEW.data, '$.summary'), ''), char(57344), ' '), char(57345), ' '),
            replace(replace(COALESCE(json_extract(NEW.data, '$.text'), ''), char(57344), ' '), char(57345), ' '));
    END;
    CREATE TRIGGER search_article_rewritten AFTER UPDATE OF data ON articles BEGIN
        DELETE FROM search WHERE rowid = OLD.id;
        INSERT INTO search (rowid, title, outlet, summary, body) VALUES (NEW.id,
            replace(replace(COALESCE(NULLIF(trim(json_extract(NEW.data, '$.title')), ''), json_extract(NEW.data, '$.file_name'), ''), char(57344), ' '), char(57345), ' '),
            replace(replace(COALESCE(json_extract(NEW.data, '$.outlet'), ''), char(57344), ' '), char(57345), ' '),
            replace(replace(COALESCE(json_extract(NEW.data, '$.summary'), ''), char(57344), ' '), char(57345), ' '),
            replace(replace(COALESCE(json_extract(NEW.data, '$.text'), ''), char(57344), ' '), char(57345), ' '));
    END;
    CREATE TRIGGER search_article_removed AFTER DELETE ON articles BEGIN
        DELETE FROM search WHERE rowid = OLD.id;
    END;
    -- A new revision makes the model summary stale (the briefing stops showing it), and a story
    -- merged away has none: either way its summary is no longer searchable.
    CREATE TRIGGER search_story_changed AFTER UPDATE OF revision, merged_into ON stories BEGIN
        DELETE FROM search WHERE rowid = -NEW.id;
    END;
    CREATE TRIGGER search_summary_written AFTER INSERT ON story_summaries BEGIN
        DELETE FROM search WHERE rowid = -NEW.story_id;
        INSERT INTO search (rowid, title, outlet, summary, body)
        SELECT -NEW.story_id, '', '', replace(replace(NEW.summary, char(57344), ' '), char(57345), ' '), ''
        WHERE NEW.summary IS NOT NULL;
    END;
    CREATE TRIGGER search_summary_rewritten AFTER UPDATE ON story_summaries BEGIN
        DELETE FROM search WHERE rowid = -NEW.story_id;
        INSERT INTO search (rowid, title, outlet, summary, body)
        SELECT -NEW.story_id, '', '', replace(replace(NEW.summary, char(57344), ' '), char(57345), ' '), ''
        WHERE NEW.summary IS NOT NULL;
    END;
    "#,
    // 7: each stage's starts on an article that have not (yet) ended with a recorded result. A
    // stage that starts and never records its result took the daemon down with it (a segfault
    // in an in-process plugin, an abort in a built-in); the pipeline fails an article rather than
    // start the same stage on it a third time, so one poisoned file cannot crash-loop the
    // daemon. The row is removed when the stage's result is recorded.
    r#"
    CREATE TABLE stage_attempts (
        file_id     INTEGER NOT NULL REFERENCES files(id),
        item_index  INTEGER NOT NULL,
        stage_index INTEGER NOT NULL,
        stage       TEXT NOT NULL,
        attempts    INTEGER NOT NULL,
        started_at  TEXT NOT NULL,
        PRIMARY KEY (file_id, item_index, stage_index)
    ) WITHOUT ROWID;
    "#,
    // 8: story stages (stage-api 1.4). Every change to a story (an article committed into it, a
    // merge into it) puts it in `story_stage_queue` in the same transaction; the pipeline runs
    // the story stages over it and stores each stage's outcome and fields in `story_fields`
    // (one row per story and stage, replaced on every run, with the revision it was computed
    // from), then takes the story off the queue only if its revision is still the one it read.
    // A kill between the commit and the last stage's result leaves the story queued, and the
    // next start runs the stages again, replacing the rows: nothing lost, nothing twice.
    r#"
    CREATE TABLE story_stage_queue (
        story_id   INTEGER PRIMARY KEY REFERENCES stories(id),
        changed_at TEXT NOT NULL
    );
    CREATE TABLE story_fields (
        story_id    INTEGER NOT NULL REFERENCES stories(id),
        stage       TEXT NOT NULL,
        stage_index INTEGER NOT NULL,
        revision    INTEGER NOT NULL,
        outcome     TEXT NOT NULL CHECK (outcome IN ('continue', 'drop', 'fail')),
        detail      TEXT,
        fields      TEXT,
        millis      REAL NOT NULL,
        written_at  TEXT NOT NULL,
        PRIMARY KEY (story_id, stage)
    ) WITHOUT ROWID;
    "#,
    // 9: several daemons on one store (issue 21; the same tables as PostgreSQL's migration 2,
    // where they matter). Each running daemon has a row with a lease (milliseconds since the
    // epoch, by the database's clock) that it renews; a file in flight is claimed by one daemon
    // (`claims`: recorded before the rename into the processing folder, so no file is there
    // without one, and unique by inbox name until renamed, so two daemons never both take one
    // name); the editor's story in hand is marked by its daemon (`summary_queue.taken_by`). A
    // claim or a taken story whose daemon's lease has lapsed is anyone's.
    r#"
    CREATE TABLE daemons (
        id          TEXT PRIMARY KEY,
        host        TEXT NOT NULL,
        pid         INTEGER NOT NULL,
        started_at  TEXT NOT NULL,
        lease_until INTEGER NOT NULL
    );
    CREATE TABLE claims (
        processing_name BLOB PRIMARY KEY,
        original_name   BLOB NOT NULL,
        owner           TEXT NOT NULL,
        renamed         INTEGER NOT NULL DEFAULT 0,
        claimed_at      TEXT NOT NULL
    );
    CREATE UNIQUE INDEX claims_being_renamed ON claims(original_name) WHERE renamed = 0;
    ALTER TABLE summary_queue ADD COLUMN taken_by TEXT;
    "#,
];

/// The schema version this build writes.
pub(crate) fn version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database to the newest schema, one transaction per step.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let sql = |source| StoreError::Sqlite { path: path.to_path_buf(), source };
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(sql)?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew { database: path.display().to_string(), found: version, known });
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(sql)?;
        tx.execute_batch(step).map_err(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1).map_err(sql)?;
        tx.commit().map_err(sql)?;
    }
    Ok(())
}
