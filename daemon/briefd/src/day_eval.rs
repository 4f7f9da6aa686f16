//! `briefd eval day DIR`: one real day of news, scored as the briefing a reader opens.
//!
//! DIR holds `clusters.tsv` (`id story borderline url`: each page of the extraction set labelled
//! with the development it reports); the pages are `DIR/../extraction/html/<id>.html.gz` unless
//! `--pages` says otherwise. Every labelled page is unpacked as `<id>.html` into a fresh temporary
//! folder and taken by `briefd ingest`'s own code ([`crate::ingest::ingest`]: the worker, the
//! configured stages, the store, the briefing writer), in file-name order, on a copy of the
//! config whose folders all point into that temporary folder. What is scored is the day's JSON
//! briefing as written to disk, so the figures are those of the file a reader or program gets.
//!
//! Grouping: each page's predicted story is the briefing story that lists its file as a source,
//! and a page the briefing does not list (dropped, failed, a duplicate) is a story of its own;
//! B-cubed precision and recall against the labels, as for the same-story set. A briefing story
//! whose pages carry two or more labels is a **wrong merge**, except that a mix of exactly two
//! labels is excused when one of its pages is labelled `borderline` (the README's rule).
//!
//! Reading: the figures count what a reader would stumble on. A **near copy** is two sources of
//! one story whose cleaned texts share at least [`NEAR_COPY_JACCARD`] of their word 4-shingles
//! (the same wire text listed twice as two independent sources; one listed as a reprint of the
//! other is shown for what it is). A **site tail** is a headline ending in ` - X`, ` | X`
//! (or an en or em dash) where X names the outlet or the host of one of the story's sources. A
//! **glued title** is a summary whose first words are the headline's. A **dateline** is a key
//! point that opens with a place, date or agency and a dash (`WASHINGTON —`,
//! `LONDON (Reuters) -`, `Nov 19 (AP) —`, `Hong Kong (CNN)`). A point **repeats the summary**
//! when at least [`REPEAT_SHARE`] of its content words are in the summary.
//!
//! With the shipped config the editor writes every story's model summary once the day's files
//! are in (`ingest` drains its queue; a few seconds per story on two cores), so a run takes
//! minutes; `--no-model` switches the summarize stage to its own `method: extractive` for a
//! quick look, which changes only the summaries.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::{bail, Context as _};
use config::{Config, StageConfig};
use serde::Deserialize;

use crate::worker::Outcome;

/// Two sources at or above this word 4-shingle Jaccard similarity are one text listed twice.
pub const NEAR_COPY_JACCARD: f64 = 0.9;

/// A key point with at least this share of its content words in the summary repeats it.
pub const REPEAT_SHARE: f64 = 0.8;

/// What to run besides the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The folder of `<id>.html.gz` pages; `DIR/../extraction/html` when not given.
    pub pages: Option<PathBuf>,
    /// Keep the produced briefing (`YYYY-MM-DD.md` and `.json`) in this folder.
    pub write: Option<PathBuf>,
    /// Run the summarize stage with `method: extractive` instead of the configured method.
    pub no_model: bool,
    /// Also list every headline, summary and point each reader figure counted.
    pub details: bool,
}

/// One labelled page of `clusters.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The page id (its file is `<id>.html.gz`, its inbox name `<id>.html`).
    pub id: String,
    /// The slug of the development it reports.
    pub story: String,
    /// Careful editors could disagree about its grouping.
    pub borderline: bool,
    /// Where the page was published.
    pub url: String,
}

/// A story of the JSON briefing, as far as scoring reads it (schema `briefd.briefing/1`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BriefingStory {
    /// What the reader sees first.
    pub headline: String,
    /// The story's summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// `model` or `extractive`.
    #[serde(default)]
    pub summary_method: Option<String>,
    /// The key points.
    #[serde(default)]
    pub key_points: Vec<BriefingPoint>,
    /// Every source, oldest first.
    pub sources: Vec<BriefingSource>,
}

/// A key point of the JSON briefing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BriefingPoint {
    /// The point.
    pub text: String,
    /// The cited sources give different values.
    #[serde(default)]
    pub sources_differ: bool,
}

/// A source line of the JSON briefing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BriefingSource {
    /// Its article id in the store (the key of its text).
    pub article_id: i64,
    /// Publisher, when known.
    #[serde(default)]
    pub outlet: Option<String>,
    /// The article's own headline.
    #[serde(default)]
    pub title: String,
    /// Where it was published, when known.
    #[serde(default)]
    pub url: Option<String>,
    /// The file it came in as.
    pub file: String,
    /// The source it reprints, when the briefing lists it as a reprint.
    #[serde(default)]
    pub reprint_of: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct BriefingDocument {
    stories: Vec<BriefingStory>,
}

/// A briefing story whose pages carry more than one label.
#[derive(Debug, Clone, PartialEq)]
pub struct Mix {
    /// The story's headline.
    pub headline: String,
    /// Each label in it with its number of pages and whether one of them is borderline.
    pub labels: Vec<(String, usize, bool)>,
    /// A two-label mix with a borderline page, which the rule forgives.
    pub excused: bool,
}

/// Everything `run` prints, computed from the labels and the briefing alone.
#[derive(Debug, Clone, Default)]
pub struct DayScores {
    /// Labelled pages.
    pub pages: usize,
    /// Labelled pages the briefing lists as a source.
    pub pages_in_briefing: usize,
    /// Stories in the briefing.
    pub stories: usize,
    /// Stories with more than one source.
    pub stories_multi_source: usize,
    /// Distinct labels.
    pub labelled_stories: usize,
    /// B-cubed precision, recall and F1 of the briefing's grouping.
    pub bcubed: eval::same_story::Prf,
    /// Mixed stories, excused or not, in briefing order.
    pub mixes: Vec<Mix>,
    /// Labels whose pages sit in more than one briefing story (or outside the briefing):
    /// the label and the headlines of the stories it is spread over.
    pub splits: Vec<(String, Vec<String>)>,
    /// Stories listing two sources that are near copies of each other, both as independent
    /// sources (a copy shown as a reprint of the other is not a stumble).
    pub sources_near_copies: Vec<String>,
    /// Headlines that are, or hold, a file name.
    pub headlines_with_file_name: Vec<String>,
    /// Headlines ending in the outlet's or host's name.
    pub headlines_with_site_tail: Vec<String>,
    /// Headlines that another story of the day also has (the reader cannot tell them apart).
    pub headlines_duplicated: Vec<String>,
    /// Sources whose outlet, shown as each key point's tag, is a URL.
    pub sources_outlet_is_url: Vec<String>,
    /// Summaries in the briefing.
    pub summaries: usize,
    /// Summaries written by the model.
    pub summaries_model: usize,
    /// Summaries that open with the headline or a source's title.
    pub summaries_with_glued_title: Vec<String>,
    /// Summaries whose first word is a personal pronoun ("He said …"): someone never named.
    pub summaries_opening_pronoun: Vec<String>,
    /// Headlines, summaries and points holding HTML tags or entities.
    pub texts_with_markup: Vec<String>,
    /// Key points in the briefing.
    pub points: usize,
    /// Key points opening with a dateline, or with a glued title and then a dateline.
    pub points_with_dateline: Vec<String>,
    /// Key points opening with the headline or a source's title.
    pub points_with_glued_title: Vec<String>,
    /// Mean words per key point.
    pub points_mean_words: f64,
    /// Median words per key point.
    pub points_median_words: f64,
    /// Key points whose content words are mostly in the summary.
    pub points_repeating_summary: Vec<String>,
    /// Key points flagged "sources differ".
    pub sources_differ_flags: Vec<String>,
}

impl DayScores {
    /// Mixed stories the rule does not excuse.
    pub fn wrong_merges(&self) -> usize {
        self.mixes.iter().filter(|m| !m.excused).count()
    }
}

/// Reads `clusters.tsv` in `dir`, naming the file and line of any bad row.
pub fn load_labels(dir: &Path) -> anyhow::Result<Vec<Label>> {
    let path = dir.join("clusters.tsv");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut labels = Vec::new();
    let mut seen = HashSet::new();
    for (i, line) in text.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [id, story, borderline, url, ..] = cols[..] else {
            bail!("{}:{}: expected the columns id, story, borderline, url", path.display(), i + 1);
        };
        let borderline = match borderline {
            "yes" => true,
            "no" => false,
            other => bail!("{}:{}: borderline is {other:?}; expected yes or no", path.display(), i + 1),
        };
        if !seen.insert(id.to_string()) {
            bail!("{}:{}: page {id} is listed twice", path.display(), i + 1);
        }
        labels.push(Label { id: id.into(), story: story.into(), borderline, url: url.into() });
    }
    if labels.is_empty() {
        bail!("{}: no pages listed", path.display());
    }
    Ok(labels)
}

/// Runs the day through the pipeline of `config` and writes the figures, then the wrong merges,
/// the split stories and the pages left out, to `out`.
pub fn run(
    dir: &Path,
    mut config: Config,
    options: &Options,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    let labels = load_labels(dir)?;
    let pages = options.pages.clone().unwrap_or_else(|| dir.join("..").join("extraction").join("html"));
    let work = tempfile::tempdir().context("creating a temporary folder for the day's run")?;
    let inbox = work.path().join("pages");
    std::fs::create_dir_all(&inbox).with_context(|| format!("creating {}", inbox.display()))?;
    let mut files = Vec::with_capacity(labels.len());
    for label in &labels {
        files.push(unpack(&pages, &label.id, &inbox)?);
    }
    files.sort();
    set_apart(&mut config, work.path(), options.no_model);
    let briefings = config.paths.briefings.clone();
    let database = config.paths.database.file().map(Path::to_path_buf).expect("set apart as a SQLite file");

    let started = Instant::now();
    let mut outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
    let mut days = BTreeSet::new();
    let n_files = files.len();
    let summary = crate::ingest::ingest(config, &files, |report| {
        eprintln!("[{}/{n_files}] {} {}", outcomes.len() + 1, report.file, outcome_word(&report.outcome));
        if let Some(day) = &report.day {
            days.insert(day.clone());
        }
        outcomes.insert(report.file.clone(), report.outcome.clone());
    })?;
    let seconds = started.elapsed().as_secs_f64();
    if days.len() > 1 {
        // The worker names the day by the clock; a run across midnight splits the briefing.
        eprintln!("warning: the run crossed midnight; scoring the stories of {days:?} together");
    }

    let (stories, texts) = read_days(&days, &briefings, &database, options.write.as_deref())?;

    let scores = score(&labels, &stories, &texts);
    let mut report = String::new();
    writeln!(report, "files {}", summary.done + summary.duplicate + summary.dropped + summary.failed)?;
    writeln!(report, "files_done {}", summary.done)?;
    writeln!(report, "files_duplicate {}", summary.duplicate)?;
    writeln!(report, "files_dropped {}", summary.dropped)?;
    writeln!(report, "files_failed {}", summary.failed)?;
    writeln!(report, "run_seconds {seconds:.1}")?;
    report += &render(&scores, options.details);
    let missing: Vec<&Label> = labels.iter().filter(|l| !listed(&stories).contains(l.id.as_str())).collect();
    if !missing.is_empty() {
        writeln!(report, "\npages not in the briefing:")?;
        for label in missing {
            let file = format!("{}.html", label.id);
            let why = outcomes.get(&file).map(outcome_word).unwrap_or_else(|| "not processed".into());
            writeln!(report, "  {} ({}): {why}", label.id, label.story)?;
        }
    }
    out.write_all(report.as_bytes()).context("writing the report")?;
    Ok(())
}

/// Points `config`'s folders into `root`: the config's own would mix this run with the user's
/// state; only they change (and the summary method, with `no_model`).
fn set_apart(config: &mut Config, root: &Path, no_model: bool) {
    config.paths = config::Paths {
        inbox: root.join("inbox"),
        archive: root.join("archive"),
        failed: root.join("failed"),
        briefings: root.join("briefings"),
        database: config::Database::File(root.join("state").join("briefd.db")),
    };
    if no_model {
        for stage in &mut config.stages {
            if let StageConfig::Summarize(o) = stage {
                // `Method`'s default is the extractive summary; briefd reaches the stage crates only
                // through `pipeline` and `eval`, so the value is not named here.
                o.method = Default::default();
            }
        }
    }
}

/// The stories of the briefings of `days` and the text of each of their articles (by article
/// id); each day's briefing files are copied to `write` when given.
fn read_days(
    days: &BTreeSet<String>,
    briefings: &Path,
    database: &Path,
    write: Option<&Path>,
) -> anyhow::Result<(Vec<BriefingStory>, HashMap<i64, String>)> {
    let store = store::Store::open(database)?;
    let mut stories = Vec::new();
    let mut texts = HashMap::new();
    for day in days {
        let path = briefings.join(format!("{day}.json"));
        let json = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let document: BriefingDocument = serde_json::from_str(&json)
            .with_context(|| format!("parsing the briefing {}", path.display()))?;
        stories.extend(document.stories);
        for view in store.stories_for_day(day)? {
            for source in view.sources {
                texts.insert(source.article_id, source.article.text);
            }
        }
        if let Some(write) = write {
            std::fs::create_dir_all(write).with_context(|| format!("creating {}", write.display()))?;
            for name in ["md", "json", "html"].map(|ext| format!("{day}.{ext}")) {
                copy(briefings, write, &name)?;
            }
        }
    }
    if let Some(write) = write {
        for name in ["index.html", "feed.atom"] {
            copy(briefings, write, name)?;
        }
    }
    Ok((stories, texts))
}

fn copy(from_dir: &Path, to_dir: &Path, name: &str) -> anyhow::Result<()> {
    let (from, to) = (from_dir.join(name), to_dir.join(name));
    std::fs::copy(&from, &to).with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// Gunzips `pages/<id>.html.gz` (or copies `pages/<id>.html`) into `inbox/<id>.html`.
fn unpack(pages: &Path, id: &str, inbox: &Path) -> anyhow::Result<PathBuf> {
    let target = inbox.join(format!("{id}.html"));
    let gz = pages.join(format!("{id}.html.gz"));
    let plain = pages.join(format!("{id}.html"));
    let bytes = if gz.exists() {
        let raw = std::fs::read(&gz).with_context(|| format!("reading {}", gz.display()))?;
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut bytes)
            .with_context(|| format!("gunzip {}", gz.display()))?;
        bytes
    } else {
        std::fs::read(&plain).with_context(|| {
            format!("reading page {id}: neither {} nor {} is readable", gz.display(), plain.display())
        })?
    };
    std::fs::write(&target, bytes).with_context(|| format!("writing {}", target.display()))?;
    Ok(target)
}

fn outcome_word(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Done { .. } => "done".into(),
        Outcome::Duplicate => "duplicate of an earlier file".into(),
        Outcome::Dropped { stage, reason } => format!("dropped by {stage}: {reason}"),
        Outcome::Failed { stage, reason } => format!("failed in {stage}: {reason}"),
    }
}

/// The page ids the briefing lists as sources.
fn listed(stories: &[BriefingStory]) -> HashSet<&str> {
    stories.iter().flat_map(|s| s.sources.iter().map(|src| page_id(&src.file))).collect()
}

/// The page id of an inbox file name (`<id>.html`).
fn page_id(file: &str) -> &str {
    file.strip_suffix(".html").unwrap_or(file)
}

/// The figures, one `name value` per line, then the wrong merges, excused mixes and splits;
/// with `details`, also every headline, summary and point a reader figure counted.
pub fn render(s: &DayScores, details: bool) -> String {
    let mut out = String::new();
    let mut line = |name: &str, value: String| out.push_str(&format!("{name} {value}\n"));
    line("pages", s.pages.to_string());
    line("pages_in_briefing", s.pages_in_briefing.to_string());
    line("labelled_stories", s.labelled_stories.to_string());
    line("stories", s.stories.to_string());
    line("stories_multi_source", s.stories_multi_source.to_string());
    line("bcubed_precision", format!("{:.3}", s.bcubed.precision));
    line("bcubed_recall", format!("{:.3}", s.bcubed.recall));
    line("bcubed_f1", format!("{:.3}", s.bcubed.f1));
    line("wrong_merges", s.wrong_merges().to_string());
    line("mixes_excused", (s.mixes.len() - s.wrong_merges()).to_string());
    line("split_stories", s.splits.len().to_string());
    line("sources_near_copies", s.sources_near_copies.len().to_string());
    line("headlines_with_file_name", s.headlines_with_file_name.len().to_string());
    line("headlines_with_site_tail", s.headlines_with_site_tail.len().to_string());
    line("headlines_duplicated", s.headlines_duplicated.len().to_string());
    line("sources_outlet_is_url", s.sources_outlet_is_url.len().to_string());
    line("summaries", s.summaries.to_string());
    line("summaries_model", s.summaries_model.to_string());
    line("summaries_with_glued_title", s.summaries_with_glued_title.len().to_string());
    line("summaries_opening_pronoun", s.summaries_opening_pronoun.len().to_string());
    line("texts_with_markup", s.texts_with_markup.len().to_string());
    line("points", s.points.to_string());
    line("points_with_dateline", s.points_with_dateline.len().to_string());
    line("points_with_glued_title", s.points_with_glued_title.len().to_string());
    line("points_mean_words", format!("{:.1}", s.points_mean_words));
    line("points_median_words", format!("{:.1}", s.points_median_words));
    line("points_repeating_summary", s.points_repeating_summary.len().to_string());
    line("sources_differ_flags", s.sources_differ_flags.len().to_string());
    for (title, excused) in
        [("wrong merges:", false), ("mixes excused (two stories, one page borderline):", true)]
    {
        let mixes: Vec<&Mix> = s.mixes.iter().filter(|m| m.excused == excused).collect();
        if mixes.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{title}\n"));
        for mix in mixes {
            let labels: Vec<String> = mix
                .labels
                .iter()
                .map(|(story, n, borderline)| {
                    format!("{story} ×{n}{}", if *borderline { " (borderline)" } else { "" })
                })
                .collect();
            out.push_str(&format!("  {:?}: {}\n", mix.headline, labels.join(", ")));
        }
    }
    if !s.splits.is_empty() {
        out.push_str("\nsplit stories (one label, several briefing stories):\n");
        for (story, headlines) in &s.splits {
            out.push_str(&format!("  {story}: {}\n", headlines.join(" | ")));
        }
    }
    if details {
        let lists = [
            ("stories with near-copy sources", &s.sources_near_copies),
            ("headlines with a file name", &s.headlines_with_file_name),
            ("headlines with a site tail", &s.headlines_with_site_tail),
            ("headlines another story also has", &s.headlines_duplicated),
            ("outlets that are URLs", &s.sources_outlet_is_url),
            ("summaries with the title glued on (story headline)", &s.summaries_with_glued_title),
            ("summaries opening with a pronoun", &s.summaries_opening_pronoun),
            ("headlines, summaries and points with markup", &s.texts_with_markup),
            ("points with a dateline", &s.points_with_dateline),
            ("points with the title glued on", &s.points_with_glued_title),
            ("points repeating the summary", &s.points_repeating_summary),
            ("points flagged sources differ", &s.sources_differ_flags),
        ];
        for (title, items) in lists.into_iter().filter(|(_, items)| !items.is_empty()) {
            out.push_str(&format!("\n{title}:\n"));
            for item in items {
                out.push_str(&format!("  {item:?}\n"));
            }
        }
    }
    out
}

/// Where a page ended up: a briefing story (its index) or nowhere (a story of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Placed {
    Story(usize),
    Alone(usize),
}

/// Scores `stories` (the day's briefing) against `labels`; `texts` holds each source's cleaned
/// text by article id, for the near-copy check (a source without one is never a near copy).
pub fn score(labels: &[Label], stories: &[BriefingStory], texts: &HashMap<i64, String>) -> DayScores {
    let mut story_of: HashMap<&str, usize> = HashMap::new();
    for (idx, story) in stories.iter().enumerate() {
        for source in &story.sources {
            // A file holding several articles could sit in two stories; its first one stands.
            story_of.entry(page_id(&source.file)).or_insert(idx);
        }
    }
    let placed: Vec<Placed> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| story_of.get(l.id.as_str()).map_or(Placed::Alone(i), |&idx| Placed::Story(idx)))
        .collect();
    let gold: Vec<&str> = labels.iter().map(|l| l.story.as_str()).collect();
    let grouping = eval::same_story::score(&placed, &gold, |_| true);

    let label_of: HashMap<&str, &Label> = labels.iter().map(|l| (l.id.as_str(), l)).collect();
    let mixes = stories.iter().filter_map(|story| mix(story, &label_of)).collect();

    let splits = splits(labels, stories, &placed);

    let mut scores = DayScores {
        pages: labels.len(),
        pages_in_briefing: placed.iter().filter(|p| matches!(p, Placed::Story(_))).count(),
        stories: stories.len(),
        stories_multi_source: stories.iter().filter(|s| s.sources.len() > 1).count(),
        labelled_stories: gold.iter().collect::<HashSet<_>>().len(),
        bcubed: grouping.bcubed,
        mixes,
        splits,
        ..DayScores::default()
    };
    let mut point_words = Vec::new();
    let mut headline_count: HashMap<&str, usize> = HashMap::new();
    for story in stories {
        *headline_count.entry(story.headline.trim()).or_default() += 1;
    }
    for story in stories {
        if headline_count[story.headline.trim()] > 1 {
            scores.headlines_duplicated.push(story.headline.clone());
        }
        let outlets = story.sources.iter().filter_map(|s| s.outlet.as_deref());
        scores.sources_outlet_is_url.extend(outlets.filter(|o| is_url(o)).map(str::to_string));
        check_story(story, texts, &label_of, &mut scores, &mut point_words);
    }
    (scores.points_mean_words, scores.points_median_words) = mean_median(&mut point_words);
    scores
}

/// The labelled stories whose pages are in more than one place, with the headlines of those
/// places.
fn splits(labels: &[Label], stories: &[BriefingStory], placed: &[Placed]) -> Vec<(String, Vec<String>)> {
    let mut spread: BTreeMap<&str, BTreeSet<Placed>> = BTreeMap::new();
    for (label, place) in labels.iter().zip(placed) {
        spread.entry(label.story.as_str()).or_default().insert(*place);
    }
    spread
        .into_iter()
        .filter(|(_, places)| places.len() > 1)
        .map(|(story, places)| {
            let headlines = places
                .iter()
                .map(|p| match p {
                    Placed::Story(idx) => stories[*idx].headline.clone(),
                    Placed::Alone(i) => format!("(page {} not in the briefing)", labels[*i].id),
                })
                .collect();
            (story.to_string(), headlines)
        })
        .collect()
}

/// Adds what is wrong with one briefing story (its sources, headline, summary and key points) to
/// `scores`, and its points' word counts to `point_words`.
fn check_story(
    story: &BriefingStory,
    texts: &HashMap<i64, String>,
    label_of: &HashMap<&str, &Label>,
    scores: &mut DayScores,
    point_words: &mut Vec<usize>,
) {
    // A reprint listed under the source it copies is not shown as another source.
    let source_texts: Vec<&str> = story
        .sources
        .iter()
        .filter(|s| s.reprint_of.is_none())
        .filter_map(|s| texts.get(&s.article_id).map(String::as_str))
        .collect();
    if has_near_copies(&source_texts) {
        scores.sources_near_copies.push(story.headline.clone());
    }
    if has_file_name(&story.headline, &story.sources) {
        scores.headlines_with_file_name.push(story.headline.clone());
    }
    let sites = sites(story, label_of);
    if has_site_tail(&story.headline, &sites) {
        scores.headlines_with_site_tail.push(story.headline.clone());
    }
    let titles: Vec<&str> = std::iter::once(story.headline.as_str())
        .chain(story.sources.iter().map(|s| s.title.as_str()))
        .collect();
    let texts = std::iter::once(&story.headline)
        .chain(&story.summary)
        .chain(story.key_points.iter().map(|p| &p.text));
    scores.texts_with_markup.extend(texts.filter(|t| has_markup(t)).cloned());
    if let Some(summary) = &story.summary {
        scores.summaries += 1;
        if story.summary_method.as_deref() == Some("model") {
            scores.summaries_model += 1;
        }
        if glued_title(summary, &titles).is_some() {
            scores.summaries_with_glued_title.push(story.headline.clone());
        }
        if opens_with_pronoun(summary) {
            scores.summaries_opening_pronoun.push(summary.clone());
        }
    }
    for point in &story.key_points {
        scores.points += 1;
        point_words.push(point.text.split_whitespace().count());
        let after_title = glued_title(&point.text, &titles);
        if is_dateline(&point.text) || after_title.is_some_and(is_dateline) {
            scores.points_with_dateline.push(point.text.clone());
        }
        if after_title.is_some() {
            scores.points_with_glued_title.push(point.text.clone());
        }
        if story.summary.as_deref().is_some_and(|summary| repeats_summary(&point.text, summary)) {
            scores.points_repeating_summary.push(point.text.clone());
        }
        if point.sources_differ {
            scores.sources_differ_flags.push(point.text.clone());
        }
    }
}

/// The labels of `story`'s pages when there is more than one, with the borderline rule applied.
fn mix(story: &BriefingStory, label_of: &HashMap<&str, &Label>) -> Option<Mix> {
    let mut labels: BTreeMap<&str, (usize, bool)> = BTreeMap::new();
    for source in &story.sources {
        // Sources that are not labelled pages say nothing about the grouping.
        let Some(label) = label_of.get(page_id(&source.file)) else { continue };
        let entry = labels.entry(label.story.as_str()).or_default();
        entry.0 += 1;
        entry.1 |= label.borderline;
    }
    if labels.len() < 2 {
        return None;
    }
    let excused = labels.len() == 2 && labels.values().any(|(_, borderline)| *borderline);
    let labels = labels.into_iter().map(|(story, (n, b))| (story.to_string(), n, b)).collect();
    Some(Mix { headline: story.headline.clone(), labels, excused })
}

/// The outlet names and hosts a headline tail could name: each source's outlet and URL host,
/// and the labelled URL of each page (known even when the cleaner found none).
fn sites(story: &BriefingStory, label_of: &HashMap<&str, &Label>) -> Vec<String> {
    let mut sites = Vec::new();
    for source in &story.sources {
        sites.extend(source.outlet.clone());
        sites.extend(source.url.as_deref().and_then(host_name));
        if let Some(label) = label_of.get(page_id(&source.file)) {
            sites.extend(host_name(&label.url));
        }
    }
    sites
}

/// The distinctive part of a URL's host: `https://www.telegraph.co.uk/x` gives `telegraph`,
/// `https://edition.cnn.com/` gives `cnn`.
pub fn host_name(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#', ':']).next()?.to_lowercase();
    let mut labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    if labels.len() < 2 {
        return None;
    }
    labels.pop();
    // Second-level registries: the name sits one label further left (`bbc.co.uk`).
    if labels.len() > 1 && ["co", "com", "org", "net", "ac", "gov"].contains(&labels[labels.len() - 1]) {
        labels.pop();
    }
    labels.last().map(|l| l.to_string())
}

/// An outlet name that is really an address (`https://www.facebook.com/CBSPolitics`).
fn is_url(text: &str) -> bool {
    let text = text.trim();
    text.contains("://") || text.starts_with("www.")
}

/// Lower-cased letters and digits only, so `Fox News` and `foxnews` compare equal.
fn squash(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The segment after the last ` - `, ` | `, ` – ` or ` — ` of a headline, when short enough to
/// be a name (at most five words).
pub fn tail_segment(headline: &str) -> Option<&str> {
    let cut = [" - ", " | ", " – ", " — "]
        .iter()
        .filter_map(|sep| headline.rfind(sep).map(|at| at + sep.len()))
        .max()?;
    let tail = headline[cut..].trim();
    (!tail.is_empty() && tail.split_whitespace().count() <= 5).then_some(tail)
}

/// A headline ending in a segment that names one of `sites` (outlets or host names), or that
/// is itself a domain (`SlashGear.com`).
pub fn has_site_tail(headline: &str, sites: &[String]) -> bool {
    let Some(tail) = tail_segment(headline) else { return false };
    static DOMAIN: OnceLock<regex::Regex> = OnceLock::new();
    let domain = DOMAIN.get_or_init(|| {
        regex::Regex::new(r"(?i)^[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|org|net|co\.uk|co|io|news|tv|in|de|fr)$")
            .expect("valid pattern")
    });
    if domain.is_match(tail) {
        return true;
    }
    let tail = squash(tail);
    if tail.len() < 3 {
        return false;
    }
    sites.iter().map(|s| squash(s)).filter(|s| s.len() >= 3).any(|site| {
        // "BBC News" and "The GiveWell Blog" name their sites ("Sputnik" names sputniknews.com),
        // but "comwrap auf der DMEXCO 2018" is a title that only mentions one: the name must
        // make up at least half of the tail.
        tail == site
            || (tail.contains(&site) && 2 * site.len() >= tail.len())
            || (tail.len() >= 4 && site.contains(&tail))
    })
}

/// A headline that is or holds a file name: a source's inbox name or its stem, or any word
/// ending in a document extension.
pub fn has_file_name(headline: &str, sources: &[BriefingSource]) -> bool {
    let lower = headline.to_lowercase();
    if sources.iter().any(|s| {
        let file = s.file.to_lowercase();
        let stem = file.rsplit_once('.').map_or(file.as_str(), |(stem, _)| stem);
        lower.contains(&file) || (stem.len() >= 8 && lower.contains(stem))
    }) {
        return true;
    }
    lower
        .split_whitespace()
        .any(|w| [".html", ".htm", ".txt", ".md", ".json"].iter().any(|ext| w.ends_with(ext)))
}

/// Lower-cased runs of letters and digits.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// A text (summary or key point) that opens with the words of one of `titles` (each with or
/// without a site tail): a title glued onto the first sentence. Returns the rest of the text,
/// after the title. Titles under three words are too short to tell.
pub fn glued_title<'a>(text: &'a str, titles: &[&str]) -> Option<&'a str> {
    let spans = word_spans(text);
    let lowered: Vec<String> = spans.iter().map(|&(start, end)| text[start..end].to_lowercase()).collect();
    let mut forms = Vec::new();
    for title in titles {
        forms.push(*title);
        if let Some(tail) = tail_segment(title) {
            forms.push(title[..title.len() - tail.len()].trim_end_matches([' ', '-', '|', '–', '—']));
        }
    }
    forms.iter().find_map(|form| {
        let title = words(form);
        (title.len() >= 3 && lowered.starts_with(&title)).then(|| {
            let end = spans[title.len() - 1].1;
            text[end..].trim_start_matches(|c: char| c.is_whitespace() || "?!.:;,\"'’”»".contains(c))
        })
    })
}

/// Byte ranges of the runs of letters and digits of `text` (the words of [`words`]).
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                spans.push((from, at));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        spans.push((from, text.len()));
    }
    spans
}

/// A headline, summary or point holding HTML: a tag of the common kinds or an entity. Angle
/// brackets around a title (`<The Palace>`, a Korean habit) are not markup.
pub fn has_markup(text: &str) -> bool {
    static MARKUP: OnceLock<regex::Regex> = OnceLock::new();
    let re = MARKUP.get_or_init(|| {
        regex::Regex::new(
            // Lower case only: `<I Am Legend>` as a quoted title is not an `<i>` tag.
            concat!(
                r"</?(?:p|div|span|a|br|img|script|style|b|i|em|strong|li|ul|ol|h[1-6]|figure|figcaption",
                r"|iframe|table|tr|td|section|article)\b[^>]*>|&(?:nbsp|amp|quot|lt|gt|#\d+|#x[0-9a-f]+);",
            ),
        )
        .expect("valid pattern")
    });
    re.is_match(text)
}

/// Whether `text` opens (after any quote mark) with a personal pronoun: an English summary that
/// does leaves its reader asking who. The checker's own short list, not the stage's.
fn opens_with_pronoun(text: &str) -> bool {
    let first =
        text.trim_start_matches(|c: char| !c.is_alphanumeric()).split(|c: char| !c.is_alphanumeric()).next();
    first.is_some_and(|w| {
        ["he", "she", "they", "his", "her", "their", "him", "them"].contains(&w.to_lowercase().as_str())
    })
}

/// A key point that opens with a dateline: a place in capitals, a place with an agency, a date,
/// or an agency alone, then a dash (or, after an agency, straight into the text: `(CNN)Asian`);
/// a place in capitals then a colon (`NEW DELHI :`) unless the word is a label (`UPDATE:`); a
/// place with a state (`New York, NY –`). A hyphen counts as a dash only between spaces, so
/// `NASA-backed` is no dateline.
pub fn is_dateline(point: &str) -> bool {
    /// Capitalised openings with a colon that label the text rather than place it.
    const LABELS: &[&str] = &[
        "ANALYSIS",
        "BREAKING",
        "CORRECTION",
        "EDITOR'S NOTE",
        "EXCLUSIVE",
        "FACT CHECK",
        "FILE",
        "LIVE",
        "NOTE",
        "OPINION",
        "PHOTO",
        "PHOTOS",
        "READ MORE",
        "RELATED",
        "SEE ALSO",
        "SPOILER",
        "UPDATE",
        "UPDATED",
        "VIDEO",
        "WARNING",
        "WATCH",
    ];
    static DATELINE: OnceLock<(regex::Regex, regex::Regex)> = OnceLock::new();
    let (re, colon) = DATELINE.get_or_init(|| {
        let caps = r"[A-Z][A-Z.'’-]{2,}(?:\s+[A-Z][A-Z.'’-]+){0,3}";
        let title = r"[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2}";
        let region = r"(?:,\s*[A-Z][A-Za-z.]+(?:\s+[A-Z][A-Za-z.]+)?)?";
        let date = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}(?:,?\s+\d{4})?";
        let agency = r"\([A-Za-z][^)]{0,30}\)";
        let dash = r"(?:\s*[—–]|\s+-{1,2}|--)\s*";
        let state = r"(?:[A-Z]{2}|[A-Z]\.[A-Z]\.|[A-Z][a-z]{1,4}\.)";
        let pattern = format!(
            "^(?:{caps}{region}(?:,\\s*{date})?(?:\\s*{agency})?{dash}\
             |{title}{region}(?:,\\s*{date})?\\s*{agency}(?:{dash}|[A-Z])\
             |{title}{region},\\s*{date}(?:\\s*{agency})?{dash}\
             |{title},\\s*{state}{dash}\
             |{date}(?:\\s*{agency})?{dash}\
             |{agency}(?:{dash}|[A-Z]))"
        );
        let colon = format!("^({caps}){region}\\s*:\\s");
        (
            regex::Regex::new(&pattern).expect("valid pattern"),
            regex::Regex::new(&colon).expect("valid pattern"),
        )
    });
    let point = point.trim_start();
    re.is_match(point)
        || colon.captures(point).is_some_and(|c| !LABELS.contains(&c[1].trim_end_matches(['.', '-'])))
}

/// A key point whose content words (not stop words) are at least [`REPEAT_SHARE`] in the summary.
pub fn repeats_summary(point: &str, summary: &str) -> bool {
    let in_summary: HashSet<String> = words(summary).into_iter().collect();
    let content: Vec<String> = words(point).into_iter().filter(|w| !eval::is_stop_word(w)).collect();
    if content.is_empty() {
        return false;
    }
    let shared = content.iter().filter(|w| in_summary.contains(*w)).count();
    shared as f64 / content.len() as f64 >= REPEAT_SHARE
}

/// The set of word 4-shingles of `text` (lower-cased; a shorter text is one shingle).
fn shingles(text: &str) -> HashSet<Vec<String>> {
    let words = words(text);
    if words.len() < 4 {
        return if words.is_empty() { HashSet::new() } else { HashSet::from([words]) };
    }
    words.windows(4).map(<[String]>::to_vec).collect()
}

/// Jaccard similarity of the word 4-shingle sets of `a` and `b`; 0 when either is empty.
pub fn shingle_jaccard(a: &str, b: &str) -> f64 {
    let (a, b) = (shingles(a), shingles(b));
    let union = a.union(&b).count();
    if union == 0 || a.is_empty() || b.is_empty() {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

/// True when two of `texts` are near copies ([`NEAR_COPY_JACCARD`]).
pub fn has_near_copies(texts: &[&str]) -> bool {
    (0..texts.len())
        .any(|i| (i + 1..texts.len()).any(|j| shingle_jaccard(texts[i], texts[j]) >= NEAR_COPY_JACCARD))
}

fn mean_median(values: &mut [usize]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    values.sort_unstable();
    let n = values.len();
    let mean = values.iter().sum::<usize>() as f64 / n as f64;
    let median =
        if n % 2 == 1 { values[n / 2] as f64 } else { (values[n / 2 - 1] + values[n / 2]) as f64 / 2.0 };
    (mean, median)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(id: &str, story: &str, borderline: bool) -> Label {
        Label { id: id.into(), story: story.into(), borderline, url: format!("https://www.{story}.com/x") }
    }

    fn story(headline: &str, ids: &[&str]) -> BriefingStory {
        let sources = ids
            .iter()
            .enumerate()
            .map(|(i, id)| BriefingSource {
                article_id: i as i64,
                file: format!("{id}.html"),
                ..Default::default()
            })
            .collect();
        BriefingStory { headline: headline.into(), sources, ..Default::default() }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn bcubed_counts_a_lumped_story_against_precision() {
        let labels = [label("p1", "a", false), label("p2", "a", false), label("p3", "b", false)];
        let scores = score(&labels, &[story("All three", &["p1", "p2", "p3"])], &HashMap::new());
        // Pages of a see 2 of 3 right, the page of b 1 of 3; every page finds all its own.
        assert!(close(scores.bcubed.precision, (2.0 / 3.0 + 2.0 / 3.0 + 1.0 / 3.0) / 3.0), "{scores:?}");
        assert!(close(scores.bcubed.recall, 1.0), "{scores:?}");
        assert_eq!(scores.stories, 1);
    }

    #[test]
    fn a_page_missing_from_the_briefing_is_a_singleton() {
        let labels = [label("p1", "a", false), label("p2", "a", false)];
        let scores = score(&labels, &[story("Only one", &["p1"])], &HashMap::new());
        assert!(close(scores.bcubed.precision, 1.0), "{scores:?}");
        assert!(close(scores.bcubed.recall, 0.5), "{scores:?}");
        assert_eq!(scores.pages_in_briefing, 1);
        assert_eq!(scores.splits.len(), 1, "story a is spread over a briefing story and a lost page");
    }

    #[test]
    fn two_lost_pages_of_one_story_are_not_grouped_together() {
        let labels = [label("p1", "a", false), label("p2", "a", false)];
        let scores = score(&labels, &[], &HashMap::new());
        assert!(close(scores.bcubed.recall, 0.5), "{scores:?}");
        assert!(close(scores.bcubed.precision, 1.0), "{scores:?}");
    }

    #[test]
    fn a_mix_of_two_stories_is_excused_only_with_a_borderline_page() {
        let plain = [label("p1", "a", false), label("p2", "b", false)];
        let scores = score(&plain, &[story("Mixed", &["p1", "p2"])], &HashMap::new());
        assert_eq!(scores.wrong_merges(), 1);
        assert_eq!(scores.mixes[0].labels, vec![("a".to_string(), 1, false), ("b".to_string(), 1, false)]);

        let borderline = [label("p1", "a", false), label("p2", "b", true)];
        let scores = score(&borderline, &[story("Mixed", &["p1", "p2"])], &HashMap::new());
        assert_eq!(scores.wrong_merges(), 0);
        assert_eq!(scores.mixes.len(), 1);
        assert!(scores.mixes[0].excused);
    }

    #[test]
    fn a_mix_of_three_stories_is_wrong_even_with_a_borderline_page() {
        let labels = [label("p1", "a", true), label("p2", "b", false), label("p3", "c", false)];
        let scores = score(&labels, &[story("Mixed", &["p1", "p2", "p3"])], &HashMap::new());
        assert_eq!(scores.wrong_merges(), 1);
        let rendered = render(&scores, true);
        assert!(rendered.contains("wrong_merges 1\n"), "{rendered}");
        assert!(rendered.contains("\"Mixed\": a ×1 (borderline), b ×1, c ×1"), "{rendered}");
    }

    #[test]
    fn one_story_per_label_is_not_a_mix() {
        let labels = [label("p1", "a", false), label("p2", "a", false), label("p3", "b", false)];
        let stories = [story("A", &["p1", "p2"]), story("B", &["p3"])];
        let scores = score(&labels, &stories, &HashMap::new());
        assert!(scores.mixes.is_empty());
        assert!(close(scores.bcubed.f1, 1.0));
        assert_eq!(scores.stories_multi_source, 1);
    }

    #[test]
    fn datelines_are_found() {
        for point in [
            "WASHINGTON — The House opened its hearings on Tuesday.",
            "LONDON (Reuters) - Prince Andrew stepped back from public duties.",
            "Nov 19 (AP) — Stocks fell in early trading.",
            "SAN FRANCISCO, Calif. — Google said Stadia launches today.",
            "Washington, Nov 19 (AFP) - The White House called it a sham.",
            "Hong Kong (CNN)Asian markets traded lower on Tuesday.",
            "(CNN) — Europa has water vapour, NASA says.",
            "BEIJING, Nov. 19 -- China reported a second case.",
            "NEW DELHI : Their American dream shattered, 150 Indians returned home.",
            "New York, NY – With content engagement migrating to mobile, my6sense adds a strategist.",
            "SIOUX FALLS, S.D. – People across the nation are talking about it.",
        ] {
            assert!(is_dateline(point), "{point}");
        }
    }

    #[test]
    fn ordinary_openings_are_not_datelines() {
        for point in [
            "NASA added five companies to its lunar lander programme.",
            "The US - China trade talks stalled again.",
            "Boeing 737 MAX — still grounded — will fly again next year.",
            "US — and Chinese — officials met on Monday.",
            "Prince Andrew said he had no recollection of the meeting.",
            "In November 2019 the company cut 2,400 jobs.",
            "NASA-backed researchers found water vapour on Europa.",
            "UPDATE: The hearing was moved to Wednesday.",
            "EDITOR'S NOTE: This story has been corrected.",
        ] {
            assert!(!is_dateline(point), "{point}");
        }
    }

    #[test]
    fn near_copies_are_one_text_with_small_edits() {
        let wire: String = (0..60).map(|i| format!("word{i} ")).collect();
        let edited = format!("{wire} Reporting by Jane Doe.");
        let other: String = (0..60).map(|i| format!("other{i} ")).collect();
        assert!(shingle_jaccard(&wire, &edited) >= NEAR_COPY_JACCARD);
        assert!(has_near_copies(&[other.as_str(), wire.as_str(), edited.as_str()]));
        assert!(!has_near_copies(&[wire.as_str(), other.as_str()]));
        assert!(!has_near_copies(&[wire.as_str()]), "one source cannot be a copy of itself");
        assert_eq!(shingle_jaccard("", ""), 0.0);

        let labels = [label("p1", "a", false), label("p2", "a", false), label("p3", "b", false)];
        let texts = HashMap::from([(0, wire.clone()), (1, edited)]);
        let stories = [story("A", &["p1", "p2"]), story("B", &["p3"])];
        assert_eq!(score(&labels, &stories, &texts).sources_near_copies, vec!["A".to_string()]);
        // Listed as a reprint of the other, the copy is not a second source.
        let mut shown = story("A", &["p1", "p2"]);
        shown.sources[1].reprint_of = Some(0);
        assert!(score(&labels, &[shown, story("B", &["p3"])], &texts).sources_near_copies.is_empty());
    }

    #[test]
    fn site_tails_name_the_outlet_or_host() {
        let sites = vec!["cityam".to_string(), "BBC News".to_string(), "sputniknews".to_string()];
        assert!(has_site_tail("Alibaba to raise up to $12.9bn in Hong Kong listing - CityAM", &sites));
        assert!(has_site_tail("Assange probe dropped | BBC News", &sites));
        assert!(has_site_tail("Royal self-indicting arrogance — Sputnik", &sites));
        assert!(has_site_tail("Audi e-tron Sportback revealed - SlashGear.com", &[]));
        assert!(!has_site_tail("Trump - China trade talks stall", &sites));
        assert!(!has_site_tail("Alibaba lists in Hong Kong", &sites));
        let comwrap = vec!["comwrap".to_string()];
        assert!(
            !has_site_tail("Take C.A.R.E. - comwrap auf der DMEXCO 2018", &comwrap),
            "a title, not a name"
        );
        assert!(has_site_tail("September 2018 open thread - The GiveWell Blog", &["givewell".to_string()]));
        assert_eq!(host_name("https://www.telegraph.co.uk/tennis/x").as_deref(), Some("telegraph"));
        assert_eq!(host_name("https://edition.cnn.com/2019/x").as_deref(), Some("cnn"));
    }

    #[test]
    fn repeated_headlines_and_url_outlets_are_counted() {
        let labels = [label("p1", "a", false), label("p2", "b", false), label("p3", "c", false)];
        let mut first = story("엔터 미디어", &["p1"]);
        first.sources[0].outlet = Some("https://www.facebook.com/CBSPolitics".into());
        let mut third = story("Sweden drops Assange rape investigation", &["p3"]);
        third.sources[0].outlet = Some("BBC News".into());
        let stories = [first, story("엔터 미디어 ", &["p2"]), third];
        let scores = score(&labels, &stories, &HashMap::new());
        assert_eq!(scores.headlines_duplicated.len(), 2, "both stories named alike are counted");
        assert_eq!(scores.sources_outlet_is_url, vec!["https://www.facebook.com/CBSPolitics".to_string()]);
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).expect("gzip to memory");
        encoder.finish().expect("gzip to memory")
    }

    fn page(title: &str, body: &str) -> String {
        let head = format!("<html><head><title>{title}</title></head>");
        format!("{head}<body><article><h1>{title}</h1>{body}</article></body></html>")
    }

    /// The whole command on a tiny day: pages unpacked, ingested with the test config, the
    /// briefing written and read back, and a page the cleaner refuses listed as left out.
    #[test]
    fn a_small_day_runs_through_ingest_and_is_scored() {
        let root = tempfile::tempdir().expect("temp dir");
        let day = root.path().join("day");
        let html = root.path().join("extraction").join("html");
        std::fs::create_dir_all(&day).expect("mkdir");
        std::fs::create_dir_all(&html).expect("mkdir");
        let harbour = "<p>The harbour bridge opened on Monday in Rotterdam after four years of work, \
                       officials said.</p>";
        let plague = "<p>Health officials in Beijing confirmed a third case of plague on Tuesday and \
                      quarantined 28 contacts.</p>";
        let pages = [
            ("p1", "harbour", page("Harbour bridge opens", &harbour.repeat(3))),
            ("p2", "plague", page("Plague case in Beijing", &plague.repeat(3))),
            ("p3", "empty", "<html><body><nav>Home</nav></body></html>".to_string()),
        ];
        let mut tsv = String::from("id\tstory\tborderline\turl\n");
        for (id, story, text) in &pages {
            std::fs::write(html.join(format!("{id}.html.gz")), gzip(text.as_bytes())).expect("write page");
            tsv += &format!("{id}\t{story}\tno\thttps://www.{story}.example/{id}\n");
        }
        std::fs::write(day.join("clusters.tsv"), tsv).expect("write labels");
        let config_path = root.path().join("config.yaml");
        let test_config = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join("config.yaml");
        std::fs::copy(test_config, &config_path).expect("copy config");
        let config = Config::load(&config_path).expect("test config loads");
        let kept = root.path().join("kept");
        let options = Options { write: Some(kept.clone()), ..Options::default() };

        let mut out = Vec::new();
        run(&day, config, &options, &mut out).expect("the day runs");
        let report = String::from_utf8(out).expect("utf-8 report");

        for line in ["files 3\n", "files_done 2\n", "pages 3\n", "pages_in_briefing 2\n", "stories 2\n"] {
            assert!(report.contains(line), "{line:?} missing from:\n{report}");
        }
        assert!(report.contains("wrong_merges 0\n"), "{report}");
        assert!(report.contains("pages not in the briefing:\n  p3 (empty): failed in clean"), "{report}");
        let mut written: Vec<String> = std::fs::read_dir(&kept)
            .expect("kept folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        written.sort();
        let day = written.first().map(|d| d[..10].to_string()).unwrap_or_default();
        let expected = [".html", ".json", ".md"].map(|ext| format!("{day}{ext}"));
        assert_eq!(written[..3], expected, "the day's files, the index and the feed: {written:?}");
        assert_eq!(written[3..], ["feed.atom", "index.html"], "{written:?}");
        assert!(!root.path().join("inbox").exists(), "the run works in its own temporary folder");
    }

    #[test]
    fn file_names_in_headlines_are_found() {
        let sources = [BriefingSource { file: "360c732d1fdbfc68.html".into(), ..Default::default() }];
        assert!(has_file_name("360c732d1fdbfc68.html", &sources));
        assert!(has_file_name("360c732d1fdbfc68", &sources));
        assert!(has_file_name("index.html", &[]));
        assert!(!has_file_name("Alibaba lists in Hong Kong", &sources));
    }

    #[test]
    fn a_text_opening_with_a_title_is_glued() {
        let headline = ["NASA adds five companies to lunar lander programme - Space.com"];
        let glued = "NASA adds five companies to lunar lander programme NASA said on Monday...";
        assert_eq!(glued_title(glued, &headline), Some("NASA said on Monday..."));
        let with_tail = "NASA adds five companies to lunar lander programme - Space.com The agency...";
        assert_eq!(glued_title(with_tail, &headline), Some("The agency..."));
        assert_eq!(glued_title("The agency said on Monday that five companies will bid.", &headline), None);
        assert_eq!(glued_title("Breaking news today.", &["Breaking news"]), None, "two words are too few");
        let titles =
            ["Some other headline here", "Esper accuses China of intimidating smaller Asian nations"];
        let point = "Esper accuses China of intimidating smaller Asian nations HANOI, Vietnam (AP) — U.S. \
                     Defense Secretary Mark Esper accused China.";
        let rest = glued_title(point, &titles).expect("the second title is glued on");
        assert!(rest.starts_with("HANOI"), "{rest}");
        assert!(is_dateline(rest), "{rest}");
    }

    #[test]
    fn a_point_with_a_glued_title_and_a_dateline_counts_for_both() {
        let labels = [label("p1", "a", false)];
        let mut s = story("PG&E begins new mass power shutoff over fire danger", &["p1"]);
        s.key_points = vec![BriefingPoint {
            text: "PG&E begins new mass power shutoff over fire danger SAN FRANCISCO (AP) — Pacific Gas \
                   & Electric Co. was set to begin shutting off power."
                .into(),
            sources_differ: false,
        }];
        let scores = score(&labels, &[s], &HashMap::new());
        assert_eq!(scores.points_with_glued_title.len(), 1);
        assert_eq!(scores.points_with_dateline.len(), 1);
        assert!(scores.texts_with_markup.is_empty(), "an ampersand alone is no entity");
    }

    #[test]
    fn markup_is_tags_and_entities_not_angle_quoted_titles() {
        assert!(has_markup("<p class=\"post-end\">Stadia Falls Short of 4K at Launch"));
        assert!(has_markup("Tom&nbsp;Johnston and Michael McDonald"));
        assert!(has_markup("line<br/>break"));
        assert!(!has_markup("Jeongdong Theater prepared three items from <The Palace: Tale of Jang Noksu>!"));
        assert!(!has_markup("PG&E begins a new shutoff; 3 < 4 > 2"));
        assert!(!has_markup("Critics on <I Am Legend>: a remake is due"));
    }

    #[test]
    fn a_point_made_of_the_summary_words_repeats_it() {
        let summary = "Sweden dropped its rape investigation into Julian Assange on Tuesday.";
        assert!(repeats_summary("Sweden has dropped the investigation into Assange.", summary));
        assert!(!repeats_summary(
            "Assange remains in Belmarsh prison awaiting an extradition hearing.",
            summary
        ));
    }

    #[test]
    fn point_lengths_have_a_mean_and_median() {
        assert_eq!(mean_median(&mut [4, 1, 10]), (5.0, 4.0));
        assert_eq!(mean_median(&mut [2, 4]), (3.0, 3.0));
        assert_eq!(mean_median(&mut []), (0.0, 0.0));
    }

    #[test]
    fn labels_are_read_and_bad_rows_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("clusters.tsv");
        std::fs::write(
            &path,
            "id\tstory\tborderline\turl\np1\ta\tno\thttps://x.com/\np2\tb\tyes\thttps://y.com/\n",
        )
        .expect("write");
        let labels = load_labels(dir.path()).expect("labels");
        assert_eq!(
            labels[1],
            Label { id: "p2".into(), story: "b".into(), borderline: true, url: "https://y.com/".into() }
        );
        std::fs::write(&path, "id\tstory\tborderline\turl\np1\ta\tmaybe\thttps://x.com/\n").expect("write");
        let error = load_labels(dir.path()).expect_err("bad borderline").to_string();
        assert!(error.contains("clusters.tsv:2: borderline is \"maybe\""), "{error}");
    }
}
