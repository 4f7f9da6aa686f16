//! Full-text search over every stored article and every current model summary (the `search`
//! FTS5 table of migration 6, kept current by its triggers).
//!
//! A user's words never reach FTS5 as syntax: [`Query::parse`] keeps the letters and digits of
//! each word and quotes them as one phrase, drops the operators (`AND`, `OR`, `NOT`, `NEAR`), and
//! bounds the work ([`MAX_QUERY_BYTES`], [`MAX_TERMS`]); every term must match. Hits are ranked by
//! bm25 with a title counting most, then grouped by story (the story's best hit stands for it),
//! at most [`MAX_RESULTS`] stories.
//!
//! The matched words come back as [`Span`]s, not as markup: FTS5 marks them with U+E000 and
//! U+E001 (characters migration 6 takes out of the indexed text, so an article cannot forge
//! them), and [`spans`] cuts the marked text apart. Whoever renders a span escapes its text.
//!
//! On PostgreSQL the same table is a `tsvector` over the same four columns (weights A to D in
//! the same order), each term a `phraseto_tsquery` and all of them required, ranked by
//! `ts_rank` and marked by `ts_headline` with the same two characters. What differs: the
//! stemmer is Snowball's English (Porter's successor), diacritics are not folded, English stop
//! words are not indexed, and a snippet has no `…` at its cut ends.

use std::collections::BTreeSet;

use crate::db::{params, Db, DbResult, Dialect, ToValue};
use crate::model::ReadError;

/// A query longer than this (in bytes) is cut, at a character boundary.
pub const MAX_QUERY_BYTES: usize = 200;

/// At most this many words of a query are searched for.
pub const MAX_TERMS: usize = 16;

/// At most this many stories are returned.
pub const MAX_RESULTS: usize = 50;

/// How many ranked hits are read before grouping them by story: a bound on the work a query
/// with common words costs, and far more than [`MAX_RESULTS`] stories need.
const MAX_CANDIDATES: i64 = 2000;

/// Opens a matched word in FTS5's `highlight()` and `snippet()`.
const OPEN: char = '\u{E000}';
/// Closes a matched word.
const CLOSE: char = '\u{E001}';

/// A user's search, as the words that will be looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    terms: Vec<String>,
    /// True when the query was longer than [`MAX_QUERY_BYTES`] or had more than [`MAX_TERMS`]
    /// words, and only its beginning is searched for.
    pub shortened: bool,
}

impl Query {
    /// The words of `raw` as terms: within each whitespace-separated word, runs of letters and
    /// digits, as one phrase (`U.S.` is the phrase `U S`); FTS5 operator words dropped.
    pub fn parse(raw: &str) -> Query {
        let mut shortened = false;
        let mut bounded = raw;
        if raw.len() > MAX_QUERY_BYTES {
            let mut end = MAX_QUERY_BYTES;
            while !raw.is_char_boundary(end) {
                end -= 1;
            }
            bounded = &raw[..end];
            shortened = true;
        }
        let mut terms = Vec::new();
        for word in bounded.split_whitespace() {
            let parts: Vec<&str> =
                word.split(|c: char| !c.is_alphanumeric()).filter(|p| !p.is_empty()).collect();
            if parts.is_empty() {
                continue;
            }
            let term = parts.join(" ");
            // As typed by someone who knows FTS5 they would be operators; as words they are
            // too common to help. Either way they are not looked for.
            if matches!(term.as_str(), "AND" | "OR" | "NOT" | "NEAR") {
                continue;
            }
            if terms.len() == MAX_TERMS {
                shortened = true;
                break;
            }
            terms.push(term);
        }
        Query { terms, shortened }
    }

    /// The words searched for, each a phrase of one or more tokens.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// True when there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The FTS5 expression: every term quoted (a term holds no `"`: only letters, digits and
    /// spaces), all of them required.
    fn expression(&self) -> String {
        let quoted: Vec<String> = self.terms.iter().map(|t| format!("\"{t}\"")).collect();
        quoted.join(" ")
    }
}

/// A piece of highlighted text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The text, as stored (unescaped).
    pub text: String,
    /// True for a word the query matched.
    pub matched: bool,
}

/// One story found.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The live story.
    pub story_id: i64,
    /// The article that matched best; `None` when the story's model summary did.
    pub article_id: Option<i64>,
    /// The headline shown: the best article's (with matched words), else the story's lead's.
    pub headline: Vec<Span>,
    /// A passage of the best match around its matched words.
    pub snippet: Vec<Span>,
    /// The days (YYYY-MM-DD) of the story's articles, oldest first.
    pub days: Vec<String>,
    /// The story's outlets, each once, in the order their articles came.
    pub outlets: Vec<String>,
    /// How many articles the story has.
    pub n_articles: usize,
}

/// Cuts FTS5's marked text into spans. Marks are expected in pairs; an unpaired one only ends
/// or starts a span, and nothing of a mark is kept.
pub fn spans(marked: &str) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut matched = false;
    let mut text = String::new();
    fn flush(text: &mut String, matched: bool, out: &mut Vec<Span>) {
        if !text.is_empty() {
            out.push(Span { text: std::mem::take(text), matched });
        }
    }
    for c in marked.chars() {
        match c {
            OPEN => {
                flush(&mut text, matched, &mut out);
                matched = true;
            }
            CLOSE => {
                flush(&mut text, matched, &mut out);
                matched = false;
            }
            _ => text.push(c),
        }
    }
    flush(&mut text, matched, &mut out);
    out
}

fn has_match(spans: &[Span]) -> bool {
    spans.iter().any(|s| s.matched)
}

fn plain(text: String) -> Vec<Span> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![Span { text, matched: false }]
    }
}

/// The stories matching `query`, best first, at most `limit` (and [`MAX_RESULTS`]).
pub(crate) fn search(db: &mut dyn Db, query: &Query, limit: usize) -> Result<Vec<Hit>, ReadError> {
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let limit = limit.min(MAX_RESULTS);
    let backend: &dyn Engine = match db.dialect() {
        Dialect::Sqlite => &Fts5,
        Dialect::Postgres => &TsVector,
    };
    let mut best: Vec<(i64, i64)> = Vec::new();
    let mut seen = BTreeSet::new();
    for row in backend.ranked(db, query)? {
        let (rowid, story_id): (i64, i64) = (row.get(0)?, row.get(1)?);
        if seen.insert(story_id) {
            best.push((rowid, story_id));
            if best.len() == limit {
                break;
            }
        }
    }
    let mut hits = Vec::with_capacity(best.len());
    for (rowid, story_id) in best {
        let (title, body, summary) = backend.marked(db, query, rowid)?;
        let (body, summary) = (spans(&body), spans(&summary));
        let snippet =
            if has_match(&body) || (!has_match(&summary) && !body.is_empty()) { body } else { summary };
        let article_id = (rowid > 0).then_some(rowid);
        let headline = match article_id {
            Some(_) => spans(&title),
            None => plain(lead_headline(db, story_id)?),
        };
        let (days, outlets, n_articles) = story_facts(db, story_id)?;
        hits.push(Hit { story_id, article_id, headline, snippet, days, outlets, n_articles });
    }
    Ok(hits)
}

/// The two full-text engines: the hits ranked, and one hit's marked title, body and summary.
trait Engine {
    /// Rows of (search row id, story id), best first, at most [`MAX_CANDIDATES`].
    fn ranked(&self, db: &mut dyn Db, query: &Query) -> DbResult<Vec<crate::db::Row>>;
    /// The title with every match marked, and passages of the body and the summary.
    fn marked(&self, db: &mut dyn Db, query: &Query, rowid: i64) -> DbResult<(String, String, String)>;
}

/// SQLite's FTS5 table.
struct Fts5;

impl Engine for Fts5 {
    fn ranked(&self, db: &mut dyn Db, query: &Query) -> DbResult<Vec<crate::db::Row>> {
        // Weights per column (title, outlet, summary, body): a word in the headline says more
        // about what the article is about than the same word deep in its text.
        db.query(
            "SELECT h.rowid, COALESCE(a.story_id, -h.rowid)
             FROM (SELECT rowid, bm25(search, 10.0, 4.0, 3.0, 1.0) AS score FROM search
                   WHERE search MATCH ?1 ORDER BY score LIMIT ?2) AS h
             LEFT JOIN articles AS a ON a.id = h.rowid
             ORDER BY h.score, h.rowid",
            params![query.expression(), MAX_CANDIDATES],
        )
    }

    fn marked(&self, db: &mut dyn Db, query: &Query, rowid: i64) -> DbResult<(String, String, String)> {
        let r = db.query_one(
            "SELECT highlight(search, 0, ?2, ?3), snippet(search, 3, ?2, ?3, '…', 24),
                    snippet(search, 2, ?2, ?3, '…', 24)
             FROM search WHERE search MATCH ?1 AND rowid = ?4",
            params![query.expression(), OPEN.to_string(), CLOSE.to_string(), rowid],
        )?;
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    }
}

/// PostgreSQL's `tsvector` column over the same table.
struct TsVector;

impl TsVector {
    /// Every term as a phrase, all required: `?1` to `?n`.
    fn tsquery(query: &Query) -> String {
        let phrases: Vec<String> =
            (1..=query.terms.len()).map(|i| format!("phraseto_tsquery('english', ?{i})")).collect();
        phrases.join(" && ")
    }
}

impl Engine for TsVector {
    fn ranked(&self, db: &mut dyn Db, query: &Query) -> DbResult<Vec<crate::db::Row>> {
        let n = query.terms.len();
        let sql = format!(
            "SELECT h.id, COALESCE(a.story_id, -h.id)
             FROM (SELECT s.id, ts_rank('{{0.1, 0.3, 0.4, 1.0}}', s.doc, q.q) AS score
                   FROM search AS s, (SELECT {} AS q) AS q
                   WHERE s.doc @@ q.q ORDER BY score DESC, s.id LIMIT ?{}) AS h
             LEFT JOIN articles AS a ON a.id = h.id
             ORDER BY h.score DESC, h.id",
            Self::tsquery(query),
            n + 1
        );
        let mut values: Vec<&dyn ToValue> = query.terms.iter().map(|t| t as &dyn ToValue).collect();
        values.push(&MAX_CANDIDATES);
        db.query(&sql, &values)
    }

    fn marked(&self, db: &mut dyn Db, query: &Query, rowid: i64) -> DbResult<(String, String, String)> {
        let n = query.terms.len();
        let sql = format!(
            "SELECT ts_headline('english', s.title, q.q, ?{all}), ts_headline('english', s.body, q.q, ?{part}),
                    ts_headline('english', s.summary, q.q, ?{part})
             FROM search AS s, (SELECT {} AS q) AS q WHERE s.id = ?{id}",
            Self::tsquery(query),
            all = n + 1,
            part = n + 2,
            id = n + 3
        );
        let all = format!("StartSel=\"{OPEN}\", StopSel=\"{CLOSE}\", HighlightAll=true");
        let part = format!("StartSel=\"{OPEN}\", StopSel=\"{CLOSE}\", MaxWords=24, MinWords=8");
        let mut values: Vec<&dyn ToValue> = query.terms.iter().map(|t| t as &dyn ToValue).collect();
        values.extend([&all as &dyn ToValue, &part, &rowid]);
        let r = db.query_one(&sql, &values)?;
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    }
}

/// The headline of the story's lead (its fullest text, the earliest on ties), as the briefing
/// picks it.
fn lead_headline(db: &mut dyn Db, story_id: i64) -> DbResult<String> {
    let d = db.dialect();
    let (title, file_name, text) = (
        d.json_text("data", &["title"]),
        d.json_text("data", &["file_name"]),
        d.json_text("data", &["text"]),
    );
    let found = db.query_opt(
        &format!(
            "SELECT COALESCE(NULLIF(trim({title}), ''), {file_name}, '')
             FROM articles WHERE story_id = ?1
             ORDER BY length({text}) DESC, id LIMIT 1"
        ),
        params![story_id],
    )?;
    match found {
        Some(row) => row.get(0),
        None => Ok(String::new()),
    }
}

/// The story's days, outlets and number of articles.
fn story_facts(db: &mut dyn Db, story_id: i64) -> DbResult<(Vec<String>, Vec<String>, usize)> {
    let outlet = db.dialect().json_text("data", &["outlet"]);
    let found = db.query(
        &format!("SELECT day, COALESCE(trim({outlet}), '') FROM articles WHERE story_id = ?1 ORDER BY id"),
        params![story_id],
    )?;
    let (mut days, mut outlets, mut n) = (BTreeSet::new(), Vec::new(), 0);
    for row in found {
        n += 1;
        days.insert(row.get::<String>(0)?);
        let outlet: String = row.get(1)?;
        if !outlet.is_empty() && !outlets.contains(&outlet) {
            outlets.push(outlet);
        }
    }
    Ok((days.into_iter().collect(), outlets, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_and_punctuation_become_plain_quoted_words() {
        let query = Query::parse("\"a\" OR NEAR( b*  title:c -d ^e U.S. (f) AND");
        assert_eq!(query.terms(), ["a", "b", "title c", "d", "e", "U S", "f"]);
        assert_eq!(query.expression(), "\"a\" \"b\" \"title c\" \"d\" \"e\" \"U S\" \"f\"");
        assert!(!query.shortened);
        assert!(Query::parse(" ( ) \" * ").is_empty());
    }

    #[test]
    fn a_long_query_is_cut_to_its_first_words() {
        let many = (0..40).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        let query = Query::parse(&many);
        assert_eq!(query.terms().len(), MAX_TERMS);
        assert_eq!(query.terms()[0], "w0");
        assert!(query.shortened);
        // Cut in the middle of a multi-byte character: the cut moves back to a boundary.
        let long = "é".repeat(MAX_QUERY_BYTES);
        let query = Query::parse(&long);
        assert!(query.shortened);
        assert_eq!(query.terms()[0].len(), MAX_QUERY_BYTES);
    }

    #[test]
    fn marks_split_the_text_and_never_survive() {
        let marked = format!("a {OPEN}b{CLOSE} c {CLOSE}d{OPEN}");
        assert_eq!(
            spans(&marked),
            [
                Span { text: "a ".into(), matched: false },
                Span { text: "b".into(), matched: true },
                Span { text: " c ".into(), matched: false },
                Span { text: "d".into(), matched: false },
            ]
        );
    }
}
