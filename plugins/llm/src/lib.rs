//! The inference engine: a llama-family GGUF read once (`model`), its tokenizer and chat template
//! from the file's own metadata (`tokenizer`, `template`), briefd's forward pass for Q4_1/Q8_0
//! files (`llama`, over the kernels in `quant`, `attention` and `ops`, run on the thread `team`)
//! or candle's `quantized_llama` for any other, and the decode loop (`generate`). It knows
//! nothing of articles or prompts: the stages that use a model write their own.

pub mod attention;
pub mod error;
pub mod generate;
pub mod llama;
pub mod model;
pub mod ops;
pub mod quant;
pub mod team;
pub mod template;
pub mod tokenizer;

pub use error::Error;
pub use model::{Engine, Info, Model};
