//! `briefd eval extraction DIR`: the clean stage scored on an article-extraction set laid out as
//! `../shared/eval/extraction/` (html/<id>.html.gz, ground-truth.json, text/<id>.full.txt and
//! text/<id>.labelled.tsv), with the benchmark's own token metric:
//! `\w+` tokens (case kept), multisets of 4-token shingles, per-page tp/fp/fn normalised to sum
//! to 1, precision and recall averaged over pages, F1 of the two means, and ± from 1,000
//! bootstrap resamples of pages. The extraction method is then cross-validated over sites
//! ([`site_folds`]): the `cv ...` lines are figures on sites the choice never saw.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use clean::html::{Focus, HtmlExtractor};

use super::{mean_std, site_folds, SplitMix};

/// One page's shingle counts, normalised so that tp + fp + fn = 1.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageScore {
    tp: f64,
    fp: f64,
    fn_: f64,
}

/// Scores `predicted` against `gold` with the benchmark's metric.
pub fn page_score(gold: &str, predicted: &str) -> PageScore {
    let gold = shingles(gold);
    let pred = shingles(predicted);
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for (s, &p) in &pred {
        let g = gold.get(s).copied().unwrap_or(0);
        tp += p.min(g);
        fp += p.saturating_sub(g);
    }
    for (s, &g) in &gold {
        fn_ += g.saturating_sub(pred.get(s).copied().unwrap_or(0));
    }
    let total = (tp + fp + fn_) as f64;
    if total == 0.0 {
        return PageScore::default();
    }
    PageScore { tp: tp as f64 / total, fp: fp as f64 / total, fn_: fn_ as f64 / total }
}

/// Python's `re.findall(r'\w+', text)`: runs of letters, digits and `_`.
pub fn tokens(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|t| !t.is_empty()).collect()
}

fn shingles(text: &str) -> HashMap<Vec<&str>, usize> {
    let tokens = tokens(text);
    let mut out = HashMap::new();
    if tokens.is_empty() {
        return out;
    }
    if tokens.len() < 4 {
        out.insert(tokens, 1);
        return out;
    }
    for w in tokens.windows(4) {
        *out.entry(w.to_vec()).or_insert(0) += 1;
    }
    out
}

/// Precision, recall, F1 and accuracy over pages, with bootstrap standard deviations.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    /// Mean precision.
    pub precision: f64,
    /// Mean recall.
    pub recall: f64,
    /// F1 of the two means.
    pub f1: f64,
    /// Share of pages whose token lists are identical.
    pub accuracy: f64,
    /// Bootstrap standard deviations of precision, recall, F1.
    pub std: (f64, f64, f64),
}

/// Mean precision, mean recall and the F1 of the two, over `scores`.
pub(crate) fn prf(scores: &[PageScore]) -> (f64, f64, f64) {
    let p: Vec<f64> = scores.iter().filter(|s| s.tp + s.fp > 0.0).map(|s| s.tp / (s.tp + s.fp)).collect();
    let r: Vec<f64> = scores.iter().filter(|s| s.tp + s.fn_ > 0.0).map(|s| s.tp / (s.tp + s.fn_)).collect();
    let p = mean_std(&p).0;
    let r = mean_std(&r).0;
    let f = if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 };
    (p, r, f)
}

/// The benchmark's figures for per-page scores and exact-match flags.
pub fn figures(scores: &[PageScore], exact: &[bool]) -> Figures {
    let (precision, recall, f1) = prf(scores);
    let mut rng = SplitMix(42);
    let (mut ps, mut rs, mut fs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..1000 {
        let sample: Vec<PageScore> = (0..scores.len()).map(|_| scores[rng.below(scores.len())]).collect();
        let (p, r, f) = prf(&sample);
        ps.push(p);
        rs.push(r);
        fs.push(f);
    }
    let accuracy = exact.iter().filter(|&&e| e).count() as f64 / exact.len().max(1) as f64;
    Figures { precision, recall, f1, accuracy, std: (mean_std(&ps).1, mean_std(&rs).1, mean_std(&fs).1) }
}

fn print_figures(label: &str, f: &Figures) {
    println!("{label} precision {:.3} ± {:.3}", f.precision, f.std.0);
    println!("{label} recall {:.3} ± {:.3}", f.recall, f.std.1);
    println!("{label} F1 {:.3} ± {:.3}", f.f1, f.std.2);
    println!("{label} accuracy {:.3}", f.accuracy);
}

/// Runs the evaluation over `dir` and prints one line per figure.
pub fn run(dir: &Path) -> anyhow::Result<()> {
    let truth = Truth::load(&dir.join("ground-truth.json"))?;
    let pages = html_pages(&dir.join("html"))?;
    println!("html pages {}", pages.len());
    score_html(&pages, &truth);
    let cv_pages: Vec<site_folds::Page> = pages
        .iter()
        .map(|(id, html)| site_folds::Page {
            gold: truth.gold_of(id),
            host: site_folds::host(&truth.url_of(id)),
            outputs: clean::html::Outputs::read(html),
        })
        .collect();
    site_folds::run(&cv_pages);
    score_text(&dir.join("text"), &truth)
}

/// The gold article text of each page, by id.
struct Truth(HashMap<String, serde_json::Value>);

impl Truth {
    fn load(path: &Path) -> anyhow::Result<Truth> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let truth = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        Ok(Truth(truth))
    }

    /// The page's gold text; empty for a page the file does not know.
    fn gold_of(&self, id: &str) -> String {
        self.0.get(id).and_then(|v| v["articleBody"].as_str()).unwrap_or_default().to_string()
    }

    /// The page's url; empty for a page the file does not know.
    fn url_of(&self, id: &str) -> String {
        self.0.get(id).and_then(|v| v["url"].as_str()).unwrap_or_default().to_string()
    }
}

/// The HTML pages of `html_dir` (`<id>.html` or `<id>.html.gz`) as (id, text), by name.
fn html_pages(html_dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut pages: Vec<(String, String)> = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(html_dir)
        .with_context(|| format!("listing {}", html_dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".html.gz") || n.ends_with(".html"))
        .collect();
    names.sort();
    for name in &names {
        let path = html_dir.join(name);
        let raw = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let bytes = if name.ends_with(".gz") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .with_context(|| format!("gunzip {}", path.display()))?;
            out
        } else {
            raw
        };
        let id = name.trim_end_matches(".gz").trim_end_matches(".html").to_string();
        pages.push((id, String::from_utf8_lossy(&bytes).into_owned()));
    }
    Ok(pages)
}

/// HTML pages: every extractor on the same pages, in one run.
fn score_html(pages: &[(String, String)], truth: &Truth) {
    type Extract = fn(&str) -> Result<clean::Extracted, String>;
    let variants: [(&str, Extract); 4] = [
        ("html briefd", |h| clean::html::extract(h)),
        ("html trafilatura-rs", |h| clean::html::extract_only(h, HtmlExtractor::Trafilatura)),
        ("html readability", |h| clean::html::extract_only(h, HtmlExtractor::Readability)),
        ("html trafilatura-rs-precision", |h| clean::html::extract_trafilatura(h, Focus::Precision)),
    ];
    for (label, extract) in variants {
        let mut scores = Vec::new();
        let mut exact = Vec::new();
        let mut spent = Duration::ZERO;
        for (id, html) in pages {
            let began = Instant::now();
            let text = extract(html).map(|x| x.text).unwrap_or_default();
            spent += began.elapsed();
            let gold = truth.gold_of(id);
            exact.push(tokens(&gold) == tokens(&text));
            scores.push(page_score(&gold, &text));
        }
        print_figures(label, &figures(&scores, &exact));
        let rate = pages.len() as f64 / spent.as_secs_f64().max(1e-9);
        println!("{label} pages/s {rate:.1}");
    }
}

/// Text saved from the web: the text cleaner against the same gold, line labels and a
/// keep-everything baseline.
fn score_text(text_dir: &Path, truth: &Truth) -> anyhow::Result<()> {
    let mut ids: Vec<String> = std::fs::read_dir(text_dir)
        .with_context(|| format!("listing {}", text_dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_string_lossy().strip_suffix(".full.txt").map(str::to_string))
        .collect();
    ids.sort();
    let (mut ours, mut everything, mut exact, mut exact_all) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut lines = LineCounts::default();
    for id in &ids {
        let full = std::fs::read_to_string(text_dir.join(format!("{id}.full.txt")))?;
        let labelled = std::fs::read_to_string(text_dir.join(format!("{id}.labelled.tsv")))?;
        let cleaned = clean::text::extract(&full);
        let output =
            cleaned.title.iter().cloned().chain([cleaned.text.clone()]).collect::<Vec<_>>().join("\n\n");
        let gold = truth.gold_of(id);
        ours.push(page_score(&gold, &output));
        everything.push(page_score(&gold, &full));
        exact.push(tokens(&gold) == tokens(&output));
        exact_all.push(tokens(&gold) == tokens(&full));
        lines.add(&labelled, &output);
    }
    println!("text pages {}", ids.len());
    print_figures("text clean", &figures(&ours, &exact));
    print_figures("text keep-everything", &figures(&everything, &exact_all));
    lines.print();
    Ok(())
}

/// The labelled lines kept or left out by the text cleaner.
#[derive(Default)]
struct LineCounts {
    tp: usize,
    fp: usize,
    fn_: usize,
    /// Lines labelled article text (`B`).
    body: usize,
    all: usize,
}

impl LineCounts {
    /// Counts one page's labelled lines (`label<TAB>text`) against the cleaner's `output`.
    fn add(&mut self, labelled: &str, output: &str) {
        let kept = normalise(output);
        for line in labelled.lines() {
            let Some((label, text)) = line.split_once('\t') else { continue };
            let is_body = label == "B";
            let was_kept = kept.contains(&normalise(text));
            self.all += 1;
            self.body += usize::from(is_body);
            match (is_body, was_kept) {
                (true, true) => self.tp += 1,
                (false, true) => self.fp += 1,
                (true, false) => self.fn_ += 1,
                (false, false) => {}
            }
        }
    }

    fn print(&self) {
        let p = self.tp as f64 / (self.tp + self.fp).max(1) as f64;
        let r = self.tp as f64 / (self.tp + self.fn_).max(1) as f64;
        println!("text lines precision {p:.3}");
        println!("text lines recall {r:.3}");
        println!("text lines F1 {:.3}", if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 });
        let base_p = self.body as f64 / self.all.max(1) as f64;
        println!("text lines keep-everything F1 {:.3}", 2.0 * base_p / (base_p + 1.0));
    }
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_text_scores_one_and_disjoint_text_zero() {
        let s = page_score("one two three four five", "one two three four five");
        assert_eq!((s.tp, s.fp, s.fn_), (1.0, 0.0, 0.0));
        let s = page_score("one two three four five", "six seven eight nine ten");
        assert_eq!(s.tp, 0.0);
    }

    #[test]
    fn short_texts_are_one_shingle_and_case_is_kept() {
        let s = page_score("Hello world", "hello world");
        assert_eq!(s.tp, 0.0);
        let s = page_score("Hello, world!", "Hello world");
        assert_eq!(s.tp, 1.0);
    }
}
