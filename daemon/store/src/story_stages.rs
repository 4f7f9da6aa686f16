//! What story stages need from the store (migration 8): the queue of stories whose story stages
//! must run, the story as a story stage receives it ([`stage_api::Story`], reprints marked), and
//! each stage's stored outcome and fields.
//!
//! Crash safety follows the editor's queue: a story is queued in the transaction that changes it
//! (an article committed into it, a merge into it), each stage's result replaces that stage's
//! row for the story, and the story leaves the queue only when its revision is still the one the
//! stages read. So a kill at any point leaves the story queued or done, never half done, and
//! running the stages again replaces rows instead of adding to them.

use std::collections::BTreeMap;

use stage_api::{Article, Story, StoryFields, StorySource};

use crate::db::{params, Db, DbResult};
use crate::model::{live_story, rows, story_revision, ReadError, Source, StageOutcome};
use crate::now;

/// One story stage's result for one revision of a story.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryStageResult {
    /// The story.
    pub story_id: i64,
    /// The revision the stage read.
    pub revision: i64,
    /// Position of the stage among the story stages, in config order.
    pub stage_index: usize,
    /// The stage's name.
    pub stage: String,
    /// `Continue` for fields set, `Drop` for nothing set on purpose, `Fail`.
    pub outcome: StageOutcome,
    /// The reason (skip) or message (fail).
    pub detail: Option<String>,
    /// The fields set (with `Continue`).
    pub fields: Option<StoryFields>,
    /// Time taken.
    pub millis: f64,
}

/// The metadata key the `dedupe` stage names a reprint's original with; spelled out because the
/// store does not depend on stages.
const REPRINT_OF: &str = "dedupe.reprint_of";

/// For each source of one story that is a reprint, the independent source it copies (following
/// a copy of a copy to the first text). A source naming an article outside `sources` (merged
/// elsewhere, unknown, or older than the sources read) stays independent, so a reprint is never
/// hidden under nothing. A copy always repeats an article stored before it (a smaller id); any
/// other link is ignored, which also rules out cycles.
pub fn reprint_originals(sources: &[Source]) -> BTreeMap<i64, i64> {
    let named: BTreeMap<i64, i64> = sources
        .iter()
        .filter_map(|s| {
            let of = s.article.metadata.get(REPRINT_OF)?.trim().parse::<i64>().ok()?;
            (of < s.article_id && sources.iter().any(|o| o.article_id == of)).then_some((s.article_id, of))
        })
        .collect();
    let mut out = BTreeMap::new();
    for (&copy, &first) in &named {
        let mut root = first;
        // Ids fall along a chain, so it ends.
        while let Some(&next) = named.get(&root) {
            root = next;
        }
        out.insert(copy, root);
    }
    out
}

/// Puts `story_id` in the queue (or refreshes its place).
pub(crate) fn enqueue(db: &mut dyn Db, story_id: i64) -> DbResult<()> {
    db.execute(
        "INSERT INTO story_stage_queue (story_id, changed_at) VALUES (?1, ?2)
         ON CONFLICT (story_id) DO UPDATE SET changed_at = excluded.changed_at",
        params![story_id, now()],
    )?;
    Ok(())
}

/// The queued story that changed longest ago; stories merged away since they were queued leave
/// the queue here (the merge queued the story they went into).
pub(crate) fn next_queued(db: &mut dyn Db) -> DbResult<Option<i64>> {
    loop {
        let next: Option<i64> = db
            .query_opt("SELECT story_id FROM story_stage_queue ORDER BY changed_at, story_id LIMIT 1", &[])?
            .map(|r| r.get(0))
            .transpose()?;
        let Some(story_id) = next else { return Ok(None) };
        if live_story(db, story_id)? == Some(story_id) {
            return Ok(Some(story_id));
        }
        db.execute("DELETE FROM story_stage_queue WHERE story_id = ?1", params![story_id])?;
    }
}

/// Empties the queue (a pipeline without story stages has nothing to run).
pub(crate) fn clear_queue(db: &mut dyn Db) -> DbResult<usize> {
    db.execute("DELETE FROM story_stage_queue", &[])
}

/// The live story `story_id` with its newest `max_sources` sources, independent ones first, then
/// reprints, each group newest first; `None` for a story merged away or unknown. Read inside the
/// caller's transaction, so the revision and the sources agree.
pub(crate) fn story_input(
    db: &mut dyn Db,
    story_id: i64,
    max_sources: usize,
) -> Result<Option<Story>, ReadError> {
    let Some(revision) = story_revision(db, story_id)? else { return Ok(None) };
    let found = db.query(
        "SELECT id, finished_at, data FROM articles WHERE story_id = ?1 ORDER BY id DESC LIMIT ?2",
        params![story_id, max_sources],
    )?;
    let mut sources = Vec::with_capacity(found.len());
    for row in found {
        let article_id: i64 = row.get(0)?;
        let data: String = row.get(2)?;
        let article: Article = serde_json::from_str(&data).map_err(|e| ReadError::Json(article_id, e))?;
        sources.push(Source { article_id, finished_at: row.get(1)?, article });
    }
    if sources.is_empty() {
        return Ok(None);
    }
    let originals = reprint_originals(&sources);
    let (independent, reprints): (Vec<Source>, Vec<Source>) =
        sources.into_iter().partition(|s| !originals.contains_key(&s.article_id));
    let sources = independent
        .into_iter()
        .chain(reprints)
        .map(|s| StorySource {
            article_id: s.article_id,
            outlet: s.article.outlet.clone(),
            reprint_of: originals.get(&s.article_id).copied(),
            article: s.article,
        })
        .collect();
    Ok(Some(Story { story_id, revision, sources, fields: StoryFields::default() }))
}

/// Replaces the stage's row for the story. The fields a stage sets are applied over what it set
/// for earlier revisions ("not set" leaves a field as it was); a skip or a failure keeps them.
pub(crate) fn record(db: &mut dyn Db, result: &StoryStageResult) -> DbResult<()> {
    let fields = match &result.fields {
        Some(set) => {
            let earlier: Option<String> = db
                .query_opt(
                    "SELECT fields FROM story_fields WHERE story_id = ?1 AND stage = ?2",
                    params![result.story_id, result.stage],
                )?
                .map(|r| r.get::<Option<String>>(0))
                .transpose()?
                .flatten();
            // An unreadable earlier row is replaced rather than kept: it was this stage's own.
            let mut merged: StoryFields =
                earlier.and_then(|e| serde_json::from_str(&e).ok()).unwrap_or_default();
            merged.apply(set);
            Some(serde_json::to_string(&merged).expect("story fields always serialise"))
        }
        None => None,
    };
    db.execute(
        "INSERT INTO story_fields (story_id, stage, stage_index, revision, outcome, detail, fields, millis, written_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (story_id, stage) DO UPDATE SET stage_index = excluded.stage_index,
             revision = excluded.revision, outcome = excluded.outcome, detail = excluded.detail,
             fields = COALESCE(excluded.fields, story_fields.fields), millis = excluded.millis,
             written_at = excluded.written_at",
        params![
            result.story_id,
            result.stage,
            result.stage_index,
            result.revision,
            result.outcome,
            result.detail,
            fields,
            result.millis,
            now()
        ],
    )?;
    Ok(())
}

/// Takes the story off the queue if `revision` is still its revision (or it was merged away);
/// `false` when it changed meanwhile and stays queued.
pub(crate) fn finish(db: &mut dyn Db, story_id: i64, revision: i64) -> DbResult<bool> {
    match story_revision(db, story_id)? {
        Some(current) if current != revision => Ok(false),
        _ => {
            db.execute("DELETE FROM story_stage_queue WHERE story_id = ?1", params![story_id])?;
            Ok(true)
        }
    }
}

/// The story's fields: every stage's stored fields applied in the stages' order, `None` when no
/// story stage set any.
pub(crate) fn fields(db: &mut dyn Db, story_id: i64) -> Result<Option<StoryFields>, ReadError> {
    let found = db.query(
        "SELECT fields FROM story_fields WHERE story_id = ?1 AND fields IS NOT NULL ORDER BY stage_index, stage",
        params![story_id],
    )?;
    let mut out: Option<StoryFields> = None;
    for row in found {
        let data: String = row.get(0)?;
        let set: StoryFields = serde_json::from_str(&data).map_err(|e| ReadError::Fields(story_id, e))?;
        out.get_or_insert_with(StoryFields::default).apply(&set);
    }
    Ok(out)
}

/// One story stage's latest outcome for a story (for `briefd explain`).
#[derive(Debug, Clone, PartialEq)]
pub struct StoryStageOutcome {
    /// The stage's name.
    pub stage: String,
    /// The revision it ran over.
    pub revision: i64,
    /// `Continue` for fields set, `Drop` for nothing set on purpose, `Fail`.
    pub outcome: StageOutcome,
    /// The reason (skip) or message (fail).
    pub detail: Option<String>,
}

/// Each story stage's latest outcome for the story, in the stages' order.
pub(crate) fn outcomes(db: &mut dyn Db, story_id: i64) -> DbResult<Vec<StoryStageOutcome>> {
    let found = db.query(
        "SELECT stage, revision, outcome, detail FROM story_fields WHERE story_id = ?1 ORDER BY stage_index, stage",
        params![story_id],
    )?;
    rows(found, |r| {
        Ok(StoryStageOutcome { stage: r.get(0)?, revision: r.get(1)?, outcome: r.get(2)?, detail: r.get(3)? })
    })
}
