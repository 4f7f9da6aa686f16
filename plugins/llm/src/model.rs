//! The model: one GGUF file, read once. Metadata first (architecture, sizes, tokenizer, chat
//! template), so a wrong or damaged file is refused with its name and the missing key before any
//! weight is read; then the quantized weights: through briefd's own engine (`llama::Llama`)
//! when every matrix is Q4_1 or Q8_0, otherwise through candle-transformers' `quantized_llama`.
//!
//! `inspect` does the cheap half (header and tensor table, no weights) for config validation.
//! `use_threads` sizes candle's own pool, which the candle path runs on.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use candle_core::quantized::gguf_file::{Content, Value, ValueType};
use candle_core::Device;
use candle_transformers::models::quantized_llama::{ModelWeights, MAX_SEQ_LEN};

use crate::error::Error;
use crate::llama::Llama;
use crate::template::ChatTemplate;
use crate::tokenizer::Tokenizer;

/// Architectures briefd runs: `llama` (briefd's engine, else candle's `quantized_llama`, which
/// reads `llama.*` keys) and `qwen2` (briefd's engine only).
const SUPPORTED: &[&str] = &["llama", "qwen2"];

/// Metadata keys (after `ARCH.`) the forward pass cannot do without.
const REQUIRED: &[&str] = &[
    "attention.head_count",
    "attention.head_count_kv",
    "block_count",
    "embedding_length",
    "attention.layer_norm_rms_epsilon",
];

/// What the metadata says about a model file.
#[derive(Debug, Clone)]
pub struct Info {
    /// `general.architecture`.
    pub architecture: String,
    /// `general.name`, when present.
    pub name: Option<String>,
    /// Positions the model can attend to (capped by candle's rotary table).
    pub context_length: usize,
}

/// A loaded model: weights, tokenizer and chat template. Load it once and share it.
pub struct Model {
    /// The file it came from.
    pub path: PathBuf,
    /// Its metadata.
    pub info: Info,
    /// The tokenizer from its metadata.
    pub tokenizer: Tokenizer,
    /// The chat template from its metadata.
    pub template: ChatTemplate,
    /// The weights; a forward pass mutates the KV cache, so one article at a time.
    pub weights: Mutex<Engine>,
    /// Seconds the load took.
    pub load_seconds: f64,
}

/// Reads the metadata and tensor table of `path` and checks that briefd can run it, without
/// reading any weight.
pub fn inspect(path: &Path) -> Result<Info, Error> {
    let (content, _) = read_content(path)?;
    check(&content, path)
}

impl Model {
    /// Loads the model at `path`: metadata, tokenizer, template, then the weights.
    pub fn load(path: &Path) -> Result<Model, Error> {
        let started = Instant::now();
        let (content, mut reader) = read_content(path)?;
        let info = check(&content, path)?;
        let tokenizer = Tokenizer::from_gguf(&content, path)?;
        let template = ChatTemplate::from_gguf(&content, path, &tokenizer)?;
        let weights = match Llama::load(path, &content, &mut reader, info.context_length) {
            Ok(llama) => Engine::Native(llama),
            // candle's `quantized_llama` reads `llama.*` keys only.
            Err(why) if info.architecture != "llama" => return Err(why),
            Err(why) => {
                tracing::info!(model = %path.display(), reason = %why, "model runs on candle's quantized_llama");
                reader
                    .seek(SeekFrom::Start(0))
                    .map_err(|source| Error::Open { path: path.to_path_buf(), source })?;
                let weights = ModelWeights::from_gguf(content, &mut reader, &Device::Cpu)
                    .map_err(|source| Error::Corrupt { path: path.to_path_buf(), source })?;
                Engine::Candle(weights)
            }
        };
        Ok(Model {
            path: path.to_path_buf(),
            info,
            tokenizer,
            template,
            weights: Mutex::new(weights),
            load_seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// The forward pass a model runs on.
pub enum Engine {
    /// briefd's engine: Q4_1/Q8_0 llama files, llama.cpp's arithmetic, AVX2.
    Native(Llama),
    /// candle-transformers' `quantized_llama`, for every other llama-family file.
    Candle(ModelWeights),
}

impl Engine {
    /// Which engine this is, for logs and benchmarks.
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Native(_) => "briefd",
            Engine::Candle(_) => "candle quantized_llama",
        }
    }

    /// Forgets the KV cache.
    pub fn clear(&mut self) {
        match self {
            Engine::Native(m) => m.clear(),
            Engine::Candle(m) => m.clear_kv_cache(),
        }
    }

    /// Runs `tokens` from position `start` and returns the logits after the last one.
    pub fn forward(&mut self, tokens: &[u32], start: usize) -> Result<Vec<f32>, Error> {
        match self {
            Engine::Native(m) => m.forward(tokens, start),
            Engine::Candle(m) => {
                let input = candle_core::Tensor::new(tokens, &Device::Cpu)?.unsqueeze(0)?;
                Ok(m.forward(&input, start)?.squeeze(0)?.to_vec1::<f32>()?)
            }
        }
    }
}

/// candle 0.11 runs its CPU kernels on a process-wide pool sized once, at first use, from
/// `CANDLE_NUM_THREADS`; a rayon pool around the call does not reach it. So the first model
/// user sets the variable (unless the user did) before any kernel runs; a second one with
/// another thread count shares the first one's pool.
pub fn use_threads(threads: usize) {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        // Called while the process sets up its stages, before the pipeline runs any kernel.
        std::env::set_var("CANDLE_NUM_THREADS", threads.max(1).to_string());
    }
}

fn read_content(path: &Path) -> Result<(Content, BufReader<File>), Error> {
    let file = File::open(path).map_err(|source| Error::Open { path: path.to_path_buf(), source })?;
    let mut reader = BufReader::new(file);
    let content =
        Content::read(&mut reader).map_err(|source| Error::Corrupt { path: path.to_path_buf(), source })?;
    Ok((content, reader))
}

/// Architecture, required keys, and every tensor inside the file's length.
fn check(content: &Content, path: &Path) -> Result<Info, Error> {
    let architecture = metadata_str(content, path, "general.architecture")?.to_string();
    if !SUPPORTED.contains(&architecture.as_str()) {
        return Err(Error::Architecture { path: path.to_path_buf(), found: architecture });
    }
    for key in REQUIRED {
        let key = format!("{architecture}.{key}");
        let value = value(content, path, &key)?;
        if value.to_u32().is_err() && value.to_f32().is_err() {
            return Err(key_type(path, &key, "a number", value.value_type()));
        }
    }
    // candle's `quantized_llama` (the fallback for llama files) needs this one too.
    if architecture == "llama" {
        let key = "llama.rope.dimension_count";
        let value = value(content, path, key)?;
        if value.to_u32().is_err() {
            return Err(key_type(path, key, "a number", value.value_type()));
        }
    }
    for key in ["tokenizer.ggml.tokens", "tokenizer.ggml.merges"] {
        value(content, path, key)?;
    }
    if !content.tensor_infos.contains_key("token_embd.weight") {
        return Err(Error::MissingTensor { path: path.to_path_buf(), tensor: "token_embd.weight".into() });
    }
    // A truncated download keeps a valid header; the tensor table says how long the file must be.
    let length =
        std::fs::metadata(path).map_err(|source| Error::Open { path: path.to_path_buf(), source })?.len();
    for (name, tensor) in &content.tensor_infos {
        let block = tensor.ggml_dtype.block_size();
        let bytes = (tensor.shape.elem_count() / block.max(1) * tensor.ggml_dtype.type_size()) as u64;
        let end = content.tensor_data_offset.saturating_add(tensor.offset).saturating_add(bytes);
        if end > length {
            return Err(Error::Truncated { path: path.to_path_buf(), tensor: name.clone(), end, length });
        }
    }
    let context_length = content
        .metadata
        .get(&format!("{architecture}.context_length"))
        .and_then(|v| v.to_u32().ok())
        .map_or(2048, |n| n as usize)
        .min(MAX_SEQ_LEN);
    let name = content.metadata.get("general.name").and_then(|v| v.to_string().ok()).cloned();
    Ok(Info { architecture, name, context_length })
}

/// A string metadata value, or an error naming the file and the key.
pub(crate) fn metadata_str<'c>(content: &'c Content, path: &Path, key: &str) -> Result<&'c str, Error> {
    let v = value(content, path, key)?;
    v.to_string().map(String::as_str).map_err(|_| key_type(path, key, "a string", v.value_type()))
}

/// An integer metadata value, or an error naming the file and the key.
pub(crate) fn metadata_u32(content: &Content, path: &Path, key: &str) -> Result<u32, Error> {
    let v = value(content, path, key)?;
    v.to_u32()
        .or_else(|_| v.to_i32().map(|i| i as u32))
        .or_else(|_| v.to_u64().map(|i| i as u32))
        .map_err(|_| key_type(path, key, "an integer", v.value_type()))
}

/// The value of `key`, or an error naming the file and the key.
pub(crate) fn value<'c>(content: &'c Content, path: &Path, key: &str) -> Result<&'c Value, Error> {
    content.metadata.get(key).ok_or_else(|| Error::MissingKey { path: path.to_path_buf(), key: key.into() })
}

/// `key` (or an element of it) holds a `found` where `expected` is needed.
pub(crate) fn key_type(path: &Path, key: &str, expected: &'static str, found: ValueType) -> Error {
    Error::KeyType { path: path.to_path_buf(), key: key.into(), expected, found }
}
