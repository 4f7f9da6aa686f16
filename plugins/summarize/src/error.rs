//! The errors of the summarize stage's model path. Everything that can fail there happens in the
//! engine (loading the GGUF, its tokenizer and template, running it), so the stage's error wraps
//! the engine's, keeping its message, which names the file and what is wrong with it.

/// What can go wrong while writing a model summary.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model could not be loaded or run.
    #[error(transparent)]
    Model(#[from] llm::Error),
    /// The caller asked generation to stop (the story changed, or the daemon is stopping).
    #[error("generation cancelled")]
    Cancelled,
}
