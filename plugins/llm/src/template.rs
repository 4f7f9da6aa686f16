//! The chat template, recognised from the GGUF's `tokenizer.chat_template`.
//!
//! GGUF templates are Jinja programs; briefd does not run Jinja. It recognises the template's
//! family by the control tokens it writes and renders that family itself, inserting control
//! tokens by id and every other part as plain text (see `tokenizer`): the article can never
//! open or close a turn. ChatML (`<|im_start|>role\n…<|im_end|>\n`, SmolLM2, Qwen, many others)
//! is the one family supported today; another template is refused when the model is loaded.

use std::path::Path;

use candle_core::quantized::gguf_file::Content;

use crate::error::Error;
use crate::tokenizer::Tokenizer;

/// A chat format briefd can render.
#[derive(Debug, Clone)]
pub enum ChatTemplate {
    /// ChatML, with the ids of its two control tokens.
    ChatMl {
        /// `<|im_start|>`.
        start: u32,
        /// `<|im_end|>`.
        end: u32,
    },
}

impl ChatTemplate {
    /// The template named by `content`'s metadata.
    pub fn from_gguf(content: &Content, path: &Path, tokenizer: &Tokenizer) -> Result<ChatTemplate, Error> {
        let source = content
            .metadata
            .get("tokenizer.chat_template")
            .and_then(|v| v.to_string().ok())
            .ok_or_else(|| Error::NoChatTemplate { path: path.to_path_buf() })?;
        let control = |token: &'static str| {
            tokenizer.control(token).ok_or_else(|| Error::ControlToken { path: path.to_path_buf(), token })
        };
        if source.contains("<|im_start|>") && source.contains("<|im_end|>") {
            let start = control("<|im_start|>")?;
            let end = control("<|im_end|>")?;
            return Ok(ChatTemplate::ChatMl { start, end });
        }
        Err(Error::ChatTemplate { path: path.to_path_buf() })
    }

    /// The prompt ids for one system message and one user message, the assistant turn opened.
    pub fn render(&self, tokenizer: &Tokenizer, system: &str, user: &[u32]) -> Vec<u32> {
        match self {
            ChatTemplate::ChatMl { start, end } => {
                let mut ids = vec![*start];
                ids.extend(tokenizer.encode(&format!("system\n{system}")));
                ids.push(*end);
                ids.extend(tokenizer.encode("\n"));
                ids.push(*start);
                ids.extend(tokenizer.encode("user\n"));
                ids.extend_from_slice(user);
                ids.push(*end);
                ids.extend(tokenizer.encode("\n"));
                ids.push(*start);
                ids.extend(tokenizer.encode("assistant\n"));
                ids
            }
        }
    }

    /// Tokens that end the assistant's turn.
    pub fn stop_tokens(&self, tokenizer: &Tokenizer) -> Vec<u32> {
        match self {
            ChatTemplate::ChatMl { end, .. } => vec![*end, tokenizer.eos],
        }
    }
}
