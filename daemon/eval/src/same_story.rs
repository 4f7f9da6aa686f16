//! `briefd eval same-story DIR`: the ECB+ same-story set (`clusters.tsv` and `text/`).
//!
//! Documents go, in file-name order, through the very `dedupe` stage, pipeline and store the
//! daemon uses (a temporary database, one commit per article), so the figures measure the incremental
//! clustering that runs in production, not an offline stand-in. Only the text is used: the first
//! line of a document is dropped when it is a URL (the README's rule for `ecbplus` files, applied
//! by content). Topics are read only to split folds for cross-validation, never as features.
//!
//! With a sentence encoder (`--embeddings DIR`, or `embeddings:` in the config) the run adds the
//! embedding signal alone and mixed with TF-IDF and names, each with its own cross-validated
//! threshold under `--sweep`, and the time embedding takes per document. The encoder is loaded
//! once and its memo shared by every run, so each document is embedded once.
//!
//! In the same run a baseline is computed in the harness: TF-IDF cosine over the whole set with
//! average-link agglomerative clustering, its cut threshold tuned on the whole set (an oracle,
//! so the baseline is if anything flattered).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context as _};
use dedupe::embed::{EmbeddingOptions, Encoder};
use dedupe::tfidf;
use pipeline::{Finished, Pipeline};
use stage_api::Article;
use store::Store;

/// One labelled document.
#[derive(Debug, Clone)]
pub struct Doc {
    /// File name without `.txt`.
    pub name: String,
    /// ECB+ topic, for cross-validation folds only.
    pub topic: String,
    /// The gold story.
    pub cluster: String,
    /// The text the system sees.
    pub text: String,
}

/// Precision, recall and F1 of one metric.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prf {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
}

/// B-cubed and pairwise scores of one clustering.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scores {
    /// B-cubed.
    pub bcubed: Prf,
    /// Pairwise.
    pub pairwise: Prf,
    /// Number of predicted clusters.
    pub n_clusters: usize,
}

/// Reads `clusters.tsv` and the texts, in file-name order.
pub fn load(dir: &Path) -> anyhow::Result<Vec<Doc>> {
    let tsv_path = dir.join("clusters.tsv");
    let tsv =
        std::fs::read_to_string(&tsv_path).with_context(|| format!("reading {}", tsv_path.display()))?;
    let mut docs = Vec::new();
    for (i, line) in tsv.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [name, topic, _subtopic, cluster, ..] = cols[..] else {
            bail!("{}:{}: expected doc, topic, subtopic, cluster columns", tsv_path.display(), i + 1);
        };
        let path: PathBuf = dir.join("text").join(format!("{name}.txt"));
        let raw = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        docs.push(Doc {
            name: name.into(),
            topic: topic.into(),
            cluster: cluster.into(),
            text: visible_text(&raw),
        });
    }
    if docs.is_empty() {
        bail!("{}: no documents listed", tsv_path.display());
    }
    docs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(docs)
}

/// The text without a leading URL line (token-spaced, e.g. `http: / / www. ...`).
fn visible_text(raw: &str) -> String {
    match raw.split_once('\n') {
        Some((first, rest)) if first.trim_start().starts_with("http") => rest.to_string(),
        _ => raw.to_string(),
    }
}

/// Runs every document through a pipeline of the `dedupe` stage on a fresh store, committing each
/// as the daemon does; returns each one's story id once all are in (a later merge
/// moves earlier documents). With `options.embeddings` set, `encoder` must be the loaded model
/// (shared across runs).
pub fn cluster(
    docs: &[Doc],
    options: &dedupe::Options,
    encoder: Option<&Arc<Encoder>>,
) -> anyhow::Result<Vec<i64>> {
    let dir = tempfile::tempdir().context("creating a temporary folder for the eval database")?;
    let store = Store::open(&dir.path().join("eval.db"))?;
    let stage = match (encoder, &options.embeddings) {
        (Some(encoder), Some(_)) => dedupe::Dedupe::with_encoder(options.clone(), Arc::clone(encoder)),
        (None, Some(e)) => {
            bail!("embeddings are on but no encoder was loaded from {}", e.model_dir.display())
        }
        (_, None) => dedupe::Dedupe::new(options.clone()),
    };
    // The daemon's path: the pipeline records the stage's result and applies the story merges
    // it asks for, then the article is committed before the next one comes.
    let pipeline = Pipeline::new(vec![Box::new(stage)]);
    let mut files = Vec::with_capacity(docs.len());
    for doc in docs {
        let file =
            store.accept_file(doc.name.as_bytes(), doc.name.as_bytes(), &doc.name, doc.text.len() as u64)?;
        let article = Article {
            file_name: format!("{}.txt", doc.name),
            received_at: "2026-01-01T00:00:00Z".into(),
            text: doc.text.clone(),
            ..Default::default()
        };
        let article = match pipeline.run(&store, file.id, article)?.0 {
            Finished::Done(article) => article,
            Finished::Failed { message, .. } => bail!("dedupe failed {}: {message}", doc.name),
            Finished::Dropped { .. } => bail!("dedupe did not pass {} on", doc.name),
        };
        store.commit_item(file.id, &article, "2026-01-01")?;
        files.push(file.id);
    }
    let mut stories = Vec::with_capacity(docs.len());
    for (file_id, doc) in files.into_iter().zip(docs) {
        let story = store.committed_story(file_id, 0)?;
        stories.push(story.with_context(|| format!("{} was not committed", doc.name))?);
    }
    Ok(stories)
}

/// How many clusterings run at once: each is sequential (one article after another, as in the
/// daemon), but different grid points are independent, and the sweep has about thirty.
const PARALLEL_RUNS: usize = 3;

/// [`cluster`] for each of `options`, [`PARALLEL_RUNS`] at a time; results in the same order.
pub fn cluster_many(
    docs: &[Doc],
    options: &[dedupe::Options],
    encoder: Option<&Arc<Encoder>>,
) -> anyhow::Result<Vec<Vec<i64>>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<anyhow::Result<Vec<i64>>>>> =
        options.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL_RUNS.min(options.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(o) = options.get(i) else { break };
                let result = cluster(docs, o, encoder);
                *results[i].lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result);
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .expect("every run was taken by a thread")
        })
        .collect()
}

/// B-cubed and pairwise scores of `predicted` against `gold`, over the documents `keep` accepts.
pub fn score<P: Eq + std::hash::Hash, G: Eq + std::hash::Hash>(
    predicted: &[P],
    gold: &[G],
    keep: impl Fn(usize) -> bool,
) -> Scores {
    let idx: Vec<usize> = (0..predicted.len()).filter(|&i| keep(i)).collect();
    let mut pred_size: HashMap<&P, usize> = HashMap::new();
    let mut gold_size: HashMap<&G, usize> = HashMap::new();
    let mut both: HashMap<(&P, &G), usize> = HashMap::new();
    for &i in &idx {
        *pred_size.entry(&predicted[i]).or_default() += 1;
        *gold_size.entry(&gold[i]).or_default() += 1;
        *both.entry((&predicted[i], &gold[i])).or_default() += 1;
    }
    let n = idx.len().max(1) as f64;
    let (mut p, mut r) = (0.0, 0.0);
    for &i in &idx {
        let common = both[&(&predicted[i], &gold[i])] as f64;
        p += common / pred_size[&predicted[i]] as f64;
        r += common / gold_size[&gold[i]] as f64;
    }
    let pairs = |n: usize| (n * n.saturating_sub(1) / 2) as f64;
    let tp: f64 = both.values().map(|&c| pairs(c)).sum();
    let pred_pairs: f64 = pred_size.values().map(|&c| pairs(c)).sum();
    let gold_pairs: f64 = gold_size.values().map(|&c| pairs(c)).sum();
    Scores {
        bcubed: prf(p / n, r / n),
        pairwise: prf(ratio(tp, pred_pairs), ratio(tp, gold_pairs)),
        n_clusters: pred_size.len(),
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        1.0
    }
}

fn prf(precision: f64, recall: f64) -> Prf {
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    Prf { precision, recall, f1 }
}

/// The baseline: TF-IDF cosine with document frequencies over the whole set, average-link
/// agglomerative clustering cut at `threshold`. Returns a cluster index per document.
pub fn baseline(docs: &[Doc], threshold: f64) -> Vec<usize> {
    let sims = similarity_matrix(docs);
    average_link(&sims, threshold)
}

fn similarity_matrix(docs: &[Doc]) -> Vec<Vec<f64>> {
    let counts: Vec<BTreeMap<String, u32>> =
        docs.iter().map(|d| tfidf::counts(&tfidf::terms(&d.text))).collect();
    let mut df: HashMap<&str, u64> = HashMap::new();
    for c in &counts {
        for t in c.keys() {
            *df.entry(t).or_default() += 1;
        }
    }
    let n = docs.len() as u64;
    let idf: HashMap<String, f64> = df.iter().map(|(t, &d)| (t.to_string(), tfidf::idf(d, n))).collect();
    let vectors: Vec<tfidf::Vector> = counts.iter().map(|c| tfidf::vector(c, &idf, |_| true)).collect();
    (0..docs.len()).map(|i| (0..docs.len()).map(|j| vectors[i].cosine(&vectors[j])).collect()).collect()
}

/// Average-link agglomeration (Lance-Williams update), merging while the best pair's mean
/// similarity is at least `threshold`.
fn average_link(sims: &[Vec<f64>], threshold: f64) -> Vec<usize> {
    let n = sims.len();
    let mut sim = sims.to_vec();
    let mut size = vec![1usize; n];
    let mut alive = vec![true; n];
    let mut owner: Vec<usize> = (0..n).collect();
    loop {
        let mut best = (f64::NEG_INFINITY, 0, 0);
        for i in (0..n).filter(|&i| alive[i]) {
            for j in (i + 1..n).filter(|&j| alive[j]) {
                if sim[i][j] > best.0 {
                    best = (sim[i][j], i, j);
                }
            }
        }
        let (s, a, b) = best;
        if s < threshold || !s.is_finite() {
            break;
        }
        for k in (0..n).filter(|&k| alive[k] && k != a && k != b) {
            let merged =
                (size[a] as f64 * sim[a][k] + size[b] as f64 * sim[b][k]) / (size[a] + size[b]) as f64;
            sim[a][k] = merged;
            sim[k][a] = merged;
        }
        size[a] += size[b];
        alive[b] = false;
        owner.iter_mut().filter(|o| **o == b).for_each(|o| *o = a);
    }
    owner
}

/// Runs the evaluation and returns the report, one figure per line. `embeddings` names a model
/// folder for the embedding lines; `options.embeddings`' folder is used when it is `None`.
pub fn run(
    dir: &Path,
    options: &dedupe::Options,
    sweep: bool,
    embeddings: Option<&Path>,
) -> anyhow::Result<String> {
    let docs = load(dir)?;
    let model_dir = embeddings
        .map(Path::to_path_buf)
        .or_else(|| options.embeddings.as_ref().map(|e| e.model_dir.clone()));
    let encoder = match &model_dir {
        Some(dir) => Some(Arc::new(Encoder::load(dir)?)),
        None => None,
    };
    let gold: Vec<&str> = docs.iter().map(|d| d.cluster.as_str()).collect();
    let all = |_| true;
    let mut out = String::new();
    let n_gold = gold.iter().collect::<std::collections::BTreeSet<_>>().len();
    writeln!(out, "documents {} gold stories {}", docs.len(), n_gold)?;

    let started = std::time::Instant::now();
    let predicted = cluster(&docs, options, encoder.as_ref())?;
    let elapsed = started.elapsed().as_secs_f64();
    let ours = score(&predicted, &gold, all);
    print_scores(&mut out, "", &ours)?;
    writeln!(
        out,
        "options same_story_threshold {} entity_weight {} near_copy_threshold {} story_link {:?} merge_stories {} story_merge_threshold {} lead_words {} lead_weight {} core_share {} min_anchors {}",
        options.same_story_threshold,
        options.entity_weight,
        options.near_copy_threshold,
        options.story_link,
        options.merge_stories,
        options.story_merge_threshold,
        options.lead_words,
        options.lead_weight,
        options.core_share,
        options.min_anchors
    )?;
    writeln!(out, "dedupe ms per document {:.2}", elapsed * 1000.0 / docs.len() as f64)?;

    baseline_report(&mut out, &docs, &gold, &ours)?;
    ablation_report(&mut out, &docs, &gold, options, encoder.as_ref())?;

    // The embedding lines (the signal alone, mixed in, as a veto) only when asked for with
    // `--embeddings`: a config that merely uses the encoder is measured as configured.
    let embedding = match (&encoder, embeddings) {
        (Some(encoder), Some(model_dir)) => {
            Some(EmbeddingRun { docs: &docs, gold: &gold, base: options, encoder, model_dir })
        }
        _ => None,
    };
    if let Some(embedding) = &embedding {
        embedding.report(&mut out)?;
    }
    if sweep {
        let (grid, plain_cv) = sweep_report(&mut out, &docs, &gold, options, encoder.as_ref())?;
        if let Some(embedding) = &embedding {
            embedding.sweep(&mut out, grid, plain_cv)?;
        }
    }
    Ok(out)
}

/// The baseline (TF-IDF cosine, average link, threshold tuned on the whole set) and our ratio
/// to it.
fn baseline_report(out: &mut String, docs: &[Doc], gold: &[&str], ours: &Scores) -> anyhow::Result<()> {
    let all = |_| true;
    let sims = similarity_matrix(docs);
    let (base_threshold, base) = (5..=60)
        .map(|t| {
            let t = f64::from(t) / 100.0;
            (t, score(&average_link(&sims, t), gold, all))
        })
        .max_by(|a, b| a.1.bcubed.f1.total_cmp(&b.1.bcubed.f1))
        .expect("the grid is not empty");
    print_scores(out, "baseline ", &base)?;
    writeln!(
        out,
        "baseline threshold {base_threshold:.2} (TF-IDF cosine, average link, tuned on the whole set)"
    )?;
    writeln!(out, "ratio B-cubed F1 {:.3}", ours.bcubed.f1 / base.bcubed.f1)?;
    writeln!(out, "ratio pairwise F1 {:.3}", ours.pairwise.f1 / base.pairwise.f1)?;
    Ok(())
}

/// What each signal adds: the same run with one signal switched off, same thresholds.
fn ablation_report(
    out: &mut String,
    docs: &[Doc],
    gold: &[&str],
    options: &dedupe::Options,
    encoder: Option<&Arc<Encoder>>,
) -> anyhow::Result<()> {
    let all = |_| true;
    let ablations = [
        ("without entities", dedupe::Options { entity_weight: 0.0, ..options.clone() }),
        ("without tfidf", dedupe::Options { entity_weight: 1.0, ..options.clone() }),
        ("without near-copy", dedupe::Options { near_copy_threshold: 1.0, ..options.clone() }),
        (
            "average link instead of centroid",
            dedupe::Options { story_link: dedupe::StoryLink::Average, ..options.clone() },
        ),
        (
            if options.merge_stories { "without bridging merges" } else { "with bridging merges" },
            dedupe::Options { merge_stories: !options.merge_stories, ..options.clone() },
        ),
        (
            if options.lead_weight > 1 { "without the lead weight" } else { "with lead_weight 3" },
            dedupe::Options { lead_weight: if options.lead_weight > 1 { 1 } else { 3 }, ..options.clone() },
        ),
    ];
    let runs = cluster_many(docs, &ablations.iter().map(|a| a.1.clone()).collect::<Vec<_>>(), encoder)?;
    for ((name, _), predicted) in ablations.iter().zip(runs) {
        let s = score(&predicted, gold, all);
        writeln!(
            out,
            "{name} B-cubed P {:.3} R {:.3} F1 {:.3} pairwise F1 {:.3}",
            s.bcubed.precision, s.bcubed.recall, s.bcubed.f1, s.pairwise.f1
        )?;
    }
    Ok(())
}

/// What the embedding lines need: the set, the configured options and the loaded encoder.
struct EmbeddingRun<'a> {
    docs: &'a [Doc],
    gold: &'a [&'a str],
    base: &'a dedupe::Options,
    encoder: &'a Arc<Encoder>,
    model_dir: &'a Path,
}

impl EmbeddingRun<'_> {
    /// The configured options with the embeddings at `weight` and the threshold at `threshold`.
    fn options(&self, weight: f64, threshold: f64) -> dedupe::Options {
        dedupe::Options {
            same_story_threshold: threshold,
            embeddings: Some(EmbeddingOptions {
                model_dir: self.model_dir.to_path_buf(),
                weight,
                min_similarity: 0.0,
            }),
            ..self.base.clone()
        }
    }

    /// Each (embedding weight, threshold) point's clustering.
    fn grid(&self, points: &[(f64, f64)]) -> anyhow::Result<Vec<Vec<i64>>> {
        let options: Vec<_> = points.iter().map(|&(w, t)| self.options(w, t)).collect();
        cluster_many(self.docs, &options, Some(self.encoder))
    }

    /// The lines of a plain run: the time per document, and the embeddings alone and mixed in
    /// at the thresholds `--sweep` chose for them.
    fn report(&self, out: &mut String) -> anyhow::Result<()> {
        // Every document once (the memo makes this free for those a run already embedded).
        for doc in self.docs {
            self.encoder.embed(&doc.text)?;
        }
        let (embedded, seconds) = self.encoder.work();
        writeln!(
            out,
            "embedding ms per document {:.2} ({embedded} embedded, {})",
            seconds * 1000.0 / embedded.max(1) as f64,
            self.encoder.dir.display()
        )?;
        let points = [("embeddings alone", 1.0, ALONE_THRESHOLD), ("embeddings mixed", MIXED.0, MIXED.1)];
        let options: Vec<_> = points.iter().map(|p| self.options(p.1, p.2)).collect();
        let runs = cluster_many(self.docs, &options, Some(self.encoder))?;
        for ((name, weight, threshold), predicted) in points.into_iter().zip(runs) {
            let s = score(&predicted, self.gold, |_| true);
            writeln!(
                out,
                "{name} weight {weight:.2} threshold {threshold:.2} B-cubed P {:.3} R {:.3} F1 {:.3} pairwise F1 {:.3}",
                s.bcubed.precision, s.bcubed.recall, s.bcubed.f1, s.pairwise.f1
            )?;
        }
        self.veto(out)
    }

    /// The encoder as a veto (`min_similarity`, weight 0: the words and names decide, the
    /// embedding cosine only forbids), alone and with the lead-anchor rules (`core_share` 0.5,
    /// `min_anchors` 2), at the configured threshold and weights; each fold takes the setting
    /// best on the other three, ties to the earlier (the configured options first).
    fn veto(&self, out: &mut String) -> anyhow::Result<()> {
        let vetoes = [None, Some(0.4), Some(0.5), Some(0.6), Some(0.7)];
        let rules = [(self.base.core_share, self.base.min_anchors), (0.5, 2)];
        let mut labels = Vec::new();
        let mut options = Vec::new();
        for &(core_share, min_anchors) in &rules {
            for veto in vetoes {
                let embeddings = veto.map(|min_similarity| EmbeddingOptions {
                    model_dir: self.model_dir.to_path_buf(),
                    weight: 0.0,
                    min_similarity,
                });
                let label = format!(
                    "min_similarity {} core_share {core_share:.2} min_anchors {min_anchors}",
                    veto.map_or("off".to_string(), |v| format!("{v:.2}"))
                );
                labels.push(label);
                options.push(dedupe::Options { embeddings, core_share, min_anchors, ..self.base.clone() });
            }
        }
        let runs = cluster_many(self.docs, &options, Some(self.encoder))?;
        for (label, predicted) in labels.iter().zip(&runs) {
            let s = score(predicted, self.gold, |_| true);
            writeln!(
                out,
                "veto sweep {label} B-cubed P {:.3} R {:.3} F1 {:.3} pairwise F1 {:.3}",
                s.bcubed.precision, s.bcubed.recall, s.bcubed.f1, s.pairwise.f1
            )?;
        }
        let grid: Vec<(String, Vec<i64>)> = labels.into_iter().zip(runs).collect();
        let mean = cross_validate_labelled(out, "veto ", self.docs, self.gold, &grid);
        writeln!(out, "veto cv mean held-out B-cubed F1 {mean:.3}")?;
        Ok(())
    }

    /// The embeddings under the same CV rule as the thresholds: alone (a grid of thresholds; its
    /// cosines sit higher than TF-IDF's), and mixed in (points with embedding weight 0.25 and 0.5
    /// at the configured entity weight, plus the plain grid, which wins ties), against the plain
    /// grid's held-out F1.
    fn sweep(&self, out: &mut String, plain: Vec<GridPoint>, plain_cv: f64) -> anyhow::Result<()> {
        let mut alone = Vec::new();
        let thresholds = [0.5, 0.6, 0.7, 0.8];
        let runs = self.grid(&thresholds.map(|t| (1.0, t)))?;
        for (threshold, predicted) in thresholds.into_iter().zip(runs) {
            let whole = score(&predicted, self.gold, |_| true).bcubed.f1;
            writeln!(out, "sweep embeddings alone threshold {threshold:.2} B-cubed F1 {whole:.3}")?;
            alone.push(GridPoint {
                threshold,
                entity_weight: 0.0,
                embedding_weight: 1.0,
                lead_weight: self.base.lead_weight,
                stories: predicted,
            });
        }
        let alone_cv = cross_validate(out, "embeddings alone ", self.docs, self.gold, &alone)?;
        writeln!(out, "embeddings alone cv mean held-out B-cubed F1 {alone_cv:.3}")?;

        let mut mixed = Vec::new();
        let points: Vec<(f64, f64)> =
            [0.25, 0.5].into_iter().flat_map(|w| [0.25, 0.3, 0.35, 0.4, 0.45].map(|t| (w, t))).collect();
        for ((weight, threshold), predicted) in points.iter().copied().zip(self.grid(&points)?) {
            let whole = score(&predicted, self.gold, |_| true).bcubed.f1;
            writeln!(
                out,
                "sweep embedding_weight {weight:.2} threshold {threshold:.2} entity_weight {:.2} B-cubed F1 {whole:.3}",
                self.base.entity_weight
            )?;
            mixed.push(GridPoint {
                threshold,
                entity_weight: self.base.entity_weight,
                embedding_weight: weight,
                lead_weight: self.base.lead_weight,
                stories: predicted,
            });
        }
        mixed.extend(plain);
        let mixed_cv = cross_validate(out, "embeddings mixed ", self.docs, self.gold, &mixed)?;
        writeln!(
            out,
            "embeddings mixed cv mean held-out B-cubed F1 {mixed_cv:.3} (plain grid {plain_cv:.3})"
        )?;
        Ok(())
    }
}

/// The embedding-alone threshold and the mixed (weight, threshold) the plain run reports, from
/// `--sweep` on 2026-11-24 with bridging merges and the lead weighting (README, "Measuring"):
/// alone, every fold chose 0.7; mixed, (0.25, 0.45) is the embedding point three folds chose.
const ALONE_THRESHOLD: f64 = 0.7;
const MIXED: (f64, f64) = (0.25, 0.45);

/// One grid point: its settings and each document's story.
struct GridPoint {
    threshold: f64,
    entity_weight: f64,
    embedding_weight: f64,
    lead_weight: u32,
    stories: Vec<i64>,
}

/// Each document's fold: the distinct topics in sorted order dealt round-robin into 4 folds, so
/// the two events of a topic are always held out together.
fn topic_folds(docs: &[Doc]) -> Vec<usize> {
    let mut topics: Vec<&str> = docs.iter().map(|d| d.topic.as_str()).collect();
    topics.sort();
    topics.dedup();
    docs.iter().map(|d| topics.binary_search(&d.topic.as_str()).unwrap_or(0) % 4).collect()
}

/// Leave-topics-out cross-validation over `grid`: topics go to 4 folds; for each, the grid point
/// with the best B-cubed F1 on the other three (the later point on a tie) is scored on it.
/// Prints each fold's choice and returns the mean held-out F1, the honest estimate of the rule
/// "pick the best grid point".
fn cross_validate(
    out: &mut String,
    label: &str,
    docs: &[Doc],
    gold: &[&str],
    grid: &[GridPoint],
) -> anyhow::Result<f64> {
    let folds = topic_folds(docs);
    let fold_of = |i: usize| folds[i];
    let mut held_out = Vec::new();
    for fold in 0..4 {
        let chosen = grid
            .iter()
            .max_by(|a, b| {
                let fa = score(&a.stories, gold, |i| fold_of(i) != fold).bcubed.f1;
                let fb = score(&b.stories, gold, |i| fold_of(i) != fold).bcubed.f1;
                fa.total_cmp(&fb)
            })
            .context("the grid is empty")?;
        let f1 = score(&chosen.stories, gold, |i| fold_of(i) == fold).bcubed.f1;
        writeln!(
            out,
            "{label}cv fold {fold} chose threshold {:.2} entity_weight {:.2} embedding_weight {:.2} lead_weight {} held-out B-cubed F1 {f1:.3}",
            chosen.threshold, chosen.entity_weight, chosen.embedding_weight, chosen.lead_weight
        )?;
        held_out.push(f1);
    }
    Ok(held_out.iter().sum::<f64>() / held_out.len() as f64)
}

/// Leave-topics-out cross-validation over labelled settings, by the folds of [`cross_validate`]:
/// each fold takes the setting best on the other three (ties to the earlier one, so a rule must
/// beat what comes before it) and is scored on its own topics. Prints each choice; returns the
/// mean held-out B-cubed F1.
fn cross_validate_labelled(
    out: &mut String,
    prefix: &str,
    docs: &[Doc],
    gold: &[&str],
    grid: &[(String, Vec<i64>)],
) -> f64 {
    let folds = topic_folds(docs);
    let fold_of = |i: usize| folds[i];
    let mut held_out = Vec::new();
    for fold in 0..4 {
        let train = |p: &Vec<i64>| score(p, gold, |i| fold_of(i) != fold).bcubed.f1;
        let Some(mut best) = grid.first() else { return 0.0 };
        for candidate in &grid[1..] {
            if train(&candidate.1) > train(&best.1) {
                best = candidate;
            }
        }
        let f1 = score(&best.1, gold, |i| fold_of(i) == fold).bcubed.f1;
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{prefix}cv fold {fold} chose {} held-out B-cubed F1 {f1:.3}", best.0);
        held_out.push(f1);
    }
    held_out.iter().sum::<f64>() / held_out.len() as f64
}

fn print_scores(out: &mut String, prefix: &str, s: &Scores) -> std::fmt::Result {
    writeln!(out, "{prefix}B-cubed precision {:.3}", s.bcubed.precision)?;
    writeln!(out, "{prefix}B-cubed recall {:.3}", s.bcubed.recall)?;
    writeln!(out, "{prefix}B-cubed F1 {:.3}", s.bcubed.f1)?;
    writeln!(out, "{prefix}pairwise precision {:.3}", s.pairwise.precision)?;
    writeln!(out, "{prefix}pairwise recall {:.3}", s.pairwise.recall)?;
    writeln!(out, "{prefix}pairwise F1 {:.3}", s.pairwise.f1)?;
    writeln!(out, "{prefix}predicted stories {}", s.n_clusters)
}

/// A grid over the threshold, the entity weight and the lead weight (no embeddings), then
/// leave-topics-out cross-validation ([`cross_validate`]). Returns the grid and the mean
/// held-out F1.
fn sweep_report(
    out: &mut String,
    docs: &[Doc],
    gold: &[&str],
    base: &dedupe::Options,
    encoder: Option<&Arc<Encoder>>,
) -> anyhow::Result<(Vec<GridPoint>, f64)> {
    // Lead weight 1 comes last, so it wins a tie: the simpler rule must be beaten, not matched.
    let points: Vec<(f64, f64, u32)> = [3, 1]
        .into_iter()
        .flat_map(|lead| {
            [0.2, 0.25, 0.3, 0.35].into_iter().flat_map(move |t| [0.5, 0.7, 0.8].map(|w| (t, w, lead)))
        })
        .collect();
    // The configured encoder stays as it is (off, or a veto at weight 0): the grid is of the
    // words-and-names settings around it.
    let options: Vec<_> = points
        .iter()
        .map(|&(t, w, lead)| dedupe::Options {
            same_story_threshold: t,
            entity_weight: w,
            lead_weight: lead,
            ..base.clone()
        })
        .collect();
    let mut grid = Vec::new();
    for ((threshold, weight, lead), predicted) in
        points.into_iter().zip(cluster_many(docs, &options, encoder)?)
    {
        let whole = score(&predicted, gold, |_| true).bcubed;
        writeln!(
            out,
            "sweep threshold {threshold:.2} entity_weight {weight:.2} lead_weight {lead} B-cubed P {:.3} R {:.3} F1 {:.3}",
            whole.precision, whole.recall, whole.f1
        )?;
        grid.push(GridPoint {
            threshold,
            entity_weight: weight,
            embedding_weight: 0.0,
            lead_weight: lead,
            stories: predicted,
        });
    }
    let mean = cross_validate(out, "", docs, gold, &grid)?;
    writeln!(out, "cv mean held-out B-cubed F1 {mean:.3}")?;
    merge_report(out, docs, gold, base, encoder)?;
    core_report(out, docs, gold, base, encoder)?;
    Ok((grid, mean))
}

/// The precision rules by the same rule: `core_share` (the share of a story's articles a new one
/// must reach the join threshold with one by one) crossed with `min_anchors` (lead anchors it
/// must share with one of them), at the configured threshold and weights; each fold takes the
/// best pair on the other three, the earlier (off, then the looser) winning ties.
fn core_report(
    out: &mut String,
    docs: &[Doc],
    gold: &[&str],
    base: &dedupe::Options,
    encoder: Option<&Arc<Encoder>>,
) -> anyhow::Result<()> {
    let points: Vec<(f64, usize)> =
        [0.0, 0.5, 1.0].into_iter().flat_map(|core| [0, 1, 2, 3].map(|anchors| (core, anchors))).collect();
    let options: Vec<_> = points
        .iter()
        .map(|&(core_share, min_anchors)| dedupe::Options { core_share, min_anchors, ..base.clone() })
        .collect();
    let mut core_grid = Vec::new();
    for ((core, anchors), predicted) in points.iter().zip(cluster_many(docs, &options, encoder)?) {
        let whole = score(&predicted, gold, |_| true);
        writeln!(
            out,
            "core sweep core_share {core:.2} min_anchors {anchors} \
             B-cubed P {:.3} R {:.3} F1 {:.3} pairwise F1 {:.3}",
            whole.bcubed.precision, whole.bcubed.recall, whole.bcubed.f1, whole.pairwise.f1
        )?;
        core_grid.push((format!("core_share {core:.2} min_anchors {anchors}"), predicted));
    }
    let mean = cross_validate_labelled(out, "core ", docs, gold, &core_grid);
    writeln!(out, "core cv mean held-out B-cubed F1 {mean:.3}")?;
    Ok(())
}

/// Bridging merges, by the same rule: each merge threshold (and "off") at the configured join
/// threshold and entity weight; each fold takes the setting best on the other three.
fn merge_report(
    out: &mut String,
    docs: &[Doc],
    gold: &[&str],
    base: &dedupe::Options,
    encoder: Option<&Arc<Encoder>>,
) -> anyhow::Result<()> {
    let merges = [None, Some(0.2), Some(0.3), Some(0.35), Some(0.4), Some(0.45), Some(0.5), Some(0.6)];
    let options: Vec<_> = merges
        .iter()
        .map(|merge| dedupe::Options {
            merge_stories: merge.is_some(),
            story_merge_threshold: merge.unwrap_or(base.story_merge_threshold),
            ..base.clone()
        })
        .collect();
    let mut merge_grid = Vec::new();
    for (merge, predicted) in merges.iter().zip(cluster_many(docs, &options, encoder)?) {
        let whole = score(&predicted, gold, |_| true);
        let label = merge.map_or("off".to_string(), |m| format!("{m:.2}"));
        writeln!(
            out,
            "merge sweep story_merge_threshold {label} B-cubed P {:.3} R {:.3} F1 {:.3} pairwise F1 {:.3}",
            whole.bcubed.precision, whole.bcubed.recall, whole.bcubed.f1, whole.pairwise.f1
        )?;
        merge_grid.push((label, predicted));
    }
    // Ties go to the earlier entry ("off" first), so merging must earn its place.
    let mean = cross_validate_labelled(out, "merge ", docs, gold, &merge_grid);
    writeln!(out, "merge cv mean held-out B-cubed F1 {mean:.3}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_lumped_clusterings_score_as_expected() {
        let gold = ["a", "a", "b", "b"];
        let perfect = score(&[1, 1, 2, 2], &gold, |_| true);
        assert_eq!((perfect.bcubed.f1, perfect.pairwise.f1), (1.0, 1.0));
        let lumped = score(&[1, 1, 1, 1], &gold, |_| true);
        assert_eq!(lumped.bcubed.precision, 0.5);
        assert_eq!(lumped.bcubed.recall, 1.0);
        assert_eq!(lumped.pairwise.precision, 2.0 / 6.0);
    }

    #[test]
    fn the_url_line_is_hidden() {
        assert_eq!(visible_text("http: / / x. com\nHeadline\nBody"), "Headline\nBody");
        assert_eq!(visible_text("Body only\nmore"), "Body only\nmore");
    }

    #[test]
    fn average_link_stops_at_the_threshold() {
        let sims = vec![vec![1.0, 0.9, 0.1], vec![0.9, 1.0, 0.2], vec![0.1, 0.2, 1.0]];
        let owner = average_link(&sims, 0.5);
        assert_eq!(owner[0], owner[1]);
        assert_ne!(owner[0], owner[2]);
    }
}
