//! The errors of the engine: reading a GGUF, building its tokenizer and chat template, loading
//! its weights and running it. Every variant about a file names it, and the metadata key or
//! tensor at fault, so a message read in a log says which model is wrong and where.
//!
//! Some variants only say that briefd's own forward pass cannot run a file (`AttentionShape`,
//! `RopeScaling`, `TensorType`, `TensorShape`, `ReadTensor`): `Model::load` then runs the file on
//! candle instead and logs the reason; they reach a caller only from `llama::Llama::load`.

use std::path::PathBuf;

use candle_core::quantized::gguf_file::ValueType;
use candle_core::quantized::GgmlDType;

/// What can go wrong with a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("cannot read model {}: {source}; run models/fetch or fix model_path", path.display())]
    Open {
        /// The model file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a readable GGUF (truncated header, damaged, another format), or candle
    /// could not build its weights.
    #[error("model {} is not a usable GGUF file: {source}; fetch it again (models/fetch)", path.display())]
    Corrupt {
        /// The model file.
        path: PathBuf,
        /// What candle's reader found.
        source: candle_core::Error,
    },
    /// The header is whole but a tensor reaches past the end of the file (a cut download).
    #[error(
        "model {} is not a usable GGUF file: tensor {tensor} ends at byte {end} but the file has \
         {length} bytes (truncated?); fetch it again (models/fetch)",
        path.display()
    )]
    Truncated {
        /// The model file.
        path: PathBuf,
        /// The first tensor found past the end.
        tensor: String,
        /// Where it ends.
        end: u64,
        /// The file's length.
        length: u64,
    },
    /// A tensor the model needs is not in the file.
    #[error(
        "model {} is not a usable GGUF file: no tensor {tensor}; fetch it again (models/fetch)",
        path.display()
    )]
    MissingTensor {
        /// The model file.
        path: PathBuf,
        /// The tensor's name, e.g. `blk.0.attn_q.weight`.
        tensor: String,
    },
    /// A metadata key the model needs is absent.
    #[error("model {} lacks metadata key {key:?}", path.display())]
    MissingKey {
        /// The model file.
        path: PathBuf,
        /// The key, e.g. `llama.block_count`.
        key: String,
    },
    /// A metadata key holds a value of the wrong type (for a list, of the wrong element type).
    #[error("model {}: metadata key {key:?} holds a {found:?} where {expected} is needed", path.display())]
    KeyType {
        /// The model file.
        path: PathBuf,
        /// The key.
        key: String,
        /// What was needed, e.g. "an integer".
        expected: &'static str,
        /// The type found.
        found: ValueType,
    },
    /// The weights are of a family briefd cannot run.
    #[error(
        "model {} has architecture {found:?}, which briefd cannot run; use a llama-family GGUF \
         (general.architecture = \"llama\"), such as SmolLM2, Llama or Mistral",
        path.display()
    )]
    Architecture {
        /// The model file.
        path: PathBuf,
        /// `general.architecture` as found.
        found: String,
    },
    /// The tokenizer is not byte-level BPE.
    #[error(
        "model {}: tokenizer: tokenizer.ggml.model is {found:?}; only byte-level BPE (\"gpt2\") is supported",
        path.display()
    )]
    TokenizerModel {
        /// The model file.
        path: PathBuf,
        /// `tokenizer.ggml.model` as found.
        found: String,
    },
    /// An entry of `tokenizer.ggml.merges` is not two tokens separated by a space.
    #[error("model {}: tokenizer: merge {merge:?} has no space", path.display())]
    Merge {
        /// The model file.
        path: PathBuf,
        /// The entry.
        merge: String,
    },
    /// The vocabulary has more entries than a token id can number.
    #[error("model {}: tokenizer: {count} tokens, more than a 32-bit id can number", path.display())]
    Vocabulary {
        /// The model file.
        path: PathBuf,
        /// Entries in `tokenizer.ggml.tokens`.
        count: usize,
    },
    /// The `tokenizers` crate refused the vocabulary and merges.
    #[error("model {}: tokenizer: BPE: {source}", path.display())]
    Bpe {
        /// The model file.
        path: PathBuf,
        /// Why.
        source: tokenizers::Error,
    },
    /// The file has no chat template.
    #[error("model {}: chat template: no tokenizer.chat_template in the metadata", path.display())]
    NoChatTemplate {
        /// The model file.
        path: PathBuf,
    },
    /// The template writes a token that the vocabulary does not mark as a control token, so it
    /// could not be inserted by id.
    #[error("model {}: chat template: {token} is not a control token", path.display())]
    ControlToken {
        /// The model file.
        path: PathBuf,
        /// The token, e.g. `<|im_start|>`.
        token: &'static str,
    },
    /// The chat template is not one briefd renders.
    #[error("model {}: chat template: not ChatML; briefd renders ChatML templates only", path.display())]
    ChatTemplate {
        /// The model file.
        path: PathBuf,
    },
    /// briefd's engine cannot run this attention shape (candle can).
    #[error(
        "model {}: unusual attention shape ({heads} heads, {kv_heads} kv heads, {embed} wide, \
         {rope_dims} rope dimensions) for briefd's engine",
        path.display()
    )]
    AttentionShape {
        /// The model file.
        path: PathBuf,
        /// `llama.attention.head_count`.
        heads: usize,
        /// `llama.attention.head_count_kv`.
        kv_heads: usize,
        /// `llama.embedding_length`.
        embed: usize,
        /// `llama.rope.dimension_count`.
        rope_dims: usize,
    },
    /// briefd's engine does not scale rope (candle can).
    #[error("model {}: rope scaling, which briefd's engine does not do", path.display())]
    RopeScaling {
        /// The model file.
        path: PathBuf,
    },
    /// briefd's engine does not read this tensor's block type (candle can).
    #[error("model {}: tensor {tensor} is {found:?}, which briefd's engine does not read", path.display())]
    TensorType {
        /// The model file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// Its type.
        found: GgmlDType,
    },
    /// A tensor is not a matrix of whole blocks.
    #[error("model {}: tensor {tensor} of shape {shape:?} is not a matrix of whole blocks", path.display())]
    TensorShape {
        /// The model file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// Its dimensions, outermost first.
        shape: Vec<usize>,
    },
    /// A tensor's bytes could not be read.
    #[error("model {}: reading tensor {tensor}: {source}", path.display())]
    ReadTensor {
        /// The model file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// Why.
        source: std::io::Error,
    },
    /// The caller's cancel check said stop before generation finished.
    #[error("generation cancelled")]
    Cancelled,
    /// Generation was asked to continue an empty prompt.
    #[error("model inference failed: empty prompt")]
    EmptyPrompt,
    /// A forward pass was given positions that do not follow the ones in the KV cache.
    #[error("model inference failed: position {given} given, {filled} filled")]
    Position {
        /// The first position of the call.
        given: usize,
        /// Positions the KV cache holds.
        filled: usize,
    },
    /// The positions do not fit the KV cache (the prompt is too long for the context).
    #[error("model inference failed: {positions} positions do not fit the cache of {capacity}")]
    ContextFull {
        /// Positions the call would fill.
        positions: usize,
        /// Positions the cache holds at most.
        capacity: usize,
    },
    /// A token id outside the vocabulary.
    #[error("model inference failed: token {token} outside the vocabulary of {vocabulary}")]
    Token {
        /// The id.
        token: u32,
        /// The vocabulary's size.
        vocabulary: usize,
    },
    /// candle failed during a forward pass or sampling (a bug or an inconsistent file, never
    /// user text).
    #[error("model inference failed: {0}")]
    Inference(#[from] candle_core::Error),
}
