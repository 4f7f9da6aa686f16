//! The errors of the model path: loading a GGUF, building its tokenizer, running it. Every
//! variant names the file, so a message read in a log says which model is at fault.

use std::path::PathBuf;

/// What can go wrong with a summarization model.
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
    /// The file is not a readable GGUF (truncated, damaged, another format).
    #[error("model {} is not a usable GGUF file: {message}; fetch it again (models/fetch)", path.display())]
    Corrupt {
        /// The model file.
        path: PathBuf,
        /// What the reader found.
        message: String,
    },
    /// A metadata key the model needs is absent or of the wrong type.
    #[error("model {} lacks metadata key {key:?} ({message})", path.display())]
    MissingKey {
        /// The model file.
        path: PathBuf,
        /// The key.
        key: String,
        /// Absent, or the type found.
        message: String,
    },
    /// The weights are of a family briefd cannot run.
    #[error("model {} has architecture {found:?}, which briefd cannot run; use a llama-family GGUF (general.architecture = \"llama\"), such as SmolLM2, Llama or Mistral", path.display())]
    Architecture {
        /// The model file.
        path: PathBuf,
        /// `general.architecture` as found.
        found: String,
    },
    /// The tokenizer described by the metadata cannot be built.
    #[error("model {}: tokenizer: {message}", path.display())]
    Tokenizer {
        /// The model file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The chat template is not one briefd understands.
    #[error("model {}: chat template: {message}", path.display())]
    Template {
        /// The model file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The forward pass failed (a bug or an inconsistent file, never user text).
    #[error("model inference failed: {0}")]
    Inference(String),
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Inference(e.to_string())
    }
}
