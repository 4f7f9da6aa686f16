//! The tokenizer, built from the GGUF's own `tokenizer.ggml.*` metadata, so a model file is all
//! briefd needs (no `tokenizer.json`, no hub).
//!
//! Only byte-level BPE (`tokenizer.ggml.model = "gpt2"`) is supported. The pre-tokenizer follows
//! llama.cpp, not candle's GGUF path: candle adds a leading space for SmolLM2's `smollm`
//! pre-tokenizer, llama.cpp does not, and the model was trained the llama.cpp way
//! (`tokenizer.ggml.add_space_prefix = false`). `smollm` splits every digit apart, then applies
//! the GPT-2 split; that is `Digits(individual) + ByteLevel(no prefix space)`.
//!
//! Control tokens (`<|im_start|>` and friends) are deliberately *not* registered with the
//! `tokenizers` tokenizer: text is always encoded as text, so an article that contains
//! `<|im_end|>` cannot close the fence it is placed in. The chat template inserts control tokens
//! by id.

use std::collections::HashMap;
use std::path::Path;

use candle_core::quantized::gguf_file::{Content, Value};
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::SplitDelimiterBehavior;

use crate::error::Error;
use crate::model::{key_type, metadata_str, metadata_u32, value};

/// llama.cpp's pre-tokenizer regex for `tokenizer.ggml.pre = qwen2` (`LLAMA_VOCAB_PRE_TYPE_QWEN2`):
/// GPT-4's split with digits one by one.
const QWEN2_SPLIT: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// GGUF token type of control tokens (llama.cpp's `LLAMA_TOKEN_TYPE_CONTROL`).
const CONTROL: i32 = 3;

/// A byte-level BPE tokenizer and the model's control tokens.
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    /// Control tokens by their text, e.g. `<|im_end|>` → 2.
    control: HashMap<String, u32>,
    /// End-of-sequence id from the metadata.
    pub eos: u32,
}

impl Tokenizer {
    /// Builds the tokenizer described by `content`'s metadata (`path` names the file in errors).
    pub fn from_gguf(content: &Content, path: &Path) -> Result<Tokenizer, Error> {
        let kind = metadata_str(content, path, "tokenizer.ggml.model")?;
        if kind != "gpt2" {
            return Err(Error::TokenizerModel { path: path.to_path_buf(), found: kind.to_string() });
        }
        let pre = metadata_str(content, path, "tokenizer.ggml.pre").unwrap_or("default");
        let list = |key: &str| -> Result<&Vec<Value>, Error> {
            let v = value(content, path, key)?;
            v.to_vec().map_err(|_| key_type(path, key, "a list", v.value_type()))
        };
        // Each element of a list key, or an error naming the key and the element's type.
        let strings = |key: &str| -> Result<Vec<String>, Error> {
            list(key)?
                .iter()
                .map(|v| {
                    let text = v.to_string().cloned();
                    text.map_err(|_| key_type(path, key, "a list of strings", v.value_type()))
                })
                .collect()
        };
        let tokens = strings("tokenizer.ggml.tokens")?;
        let types_key = "tokenizer.ggml.token_type";
        let types: Vec<i32> = match content.metadata.get(types_key) {
            Some(_) => list(types_key)?
                .iter()
                .map(|t| t.to_i32().map_err(|_| key_type(path, types_key, "a list of i32", t.value_type())))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let merges: Vec<(String, String)> = strings("tokenizer.ggml.merges")?
            .into_iter()
            .map(|merge| match merge.split_once(' ') {
                Some((a, b)) => Ok((a.to_string(), b.to_string())),
                None => Err(Error::Merge { path: path.to_path_buf(), merge }),
            })
            .collect::<Result<_, _>>()?;
        let eos = metadata_u32(content, path, "tokenizer.ggml.eos_token_id")?;

        let mut control = HashMap::new();
        let mut vocab = tokenizers::models::bpe::Vocab::default();
        for (id, token) in tokens.iter().enumerate() {
            let id = u32::try_from(id)
                .map_err(|_| Error::Vocabulary { path: path.to_path_buf(), count: tokens.len() })?;
            if types.get(id as usize) == Some(&CONTROL) {
                control.insert(token.clone(), id);
            }
            vocab.insert(token.clone(), id);
        }
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|source| Error::Bpe { path: path.to_path_buf(), source })?;
        let mut inner = tokenizers::Tokenizer::new(bpe);
        // llama.cpp's `smollm`, `starcoder`, `refact` and friends split digits one by one first;
        // the plain GPT-2 family does not.
        let digits_apart = matches!(
            pre,
            "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" | "exaone" | "minerva-7b"
        );
        let byte_level = ByteLevel::new(false, true, true);
        if pre == "qwen2" {
            // The split does the work of GPT-2's regex, so the byte-level step maps bytes only.
            let split =
                Split::new(SplitPattern::Regex(QWEN2_SPLIT.into()), SplitDelimiterBehavior::Isolated, false)
                    .map_err(|source| Error::Bpe { path: path.to_path_buf(), source })?;
            inner.with_pre_tokenizer(Some(Sequence::new(vec![
                split.into(),
                ByteLevel::new(false, false, false).into(),
            ])));
        } else if digits_apart {
            inner.with_pre_tokenizer(Some(Sequence::new(vec![Digits::new(true).into(), byte_level.into()])));
        } else {
            inner.with_pre_tokenizer(Some(byte_level));
        }
        inner.with_decoder(Some(ByteLevelDecoder::default()));
        Ok(Tokenizer { inner, control, eos })
    }

    /// The ids of `text`, encoded as plain text (control tokens written in it are not parsed).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        if text.is_empty() {
            return Vec::new();
        }
        match self.inner.encode_fast(text, false) {
            Ok(encoding) => encoding.get_ids().to_vec(),
            // The BPE model covers every byte, so this cannot happen for a well-formed vocabulary;
            // an empty prompt part is the harmless answer if it ever does.
            Err(e) => {
                tracing::warn!(error = %e, "tokenizer failed on a text");
                Vec::new()
            }
        }
    }

    /// The text of `ids`, control tokens left out.
    pub fn decode(&self, ids: &[u32]) -> String {
        let ids: Vec<u32> = ids.iter().copied().filter(|id| !self.is_control(*id)).collect();
        self.inner.decode(&ids, false).unwrap_or_default()
    }

    /// The id of a control token such as `<|im_start|>`.
    pub fn control(&self, token: &str) -> Option<u32> {
        self.control.get(token).copied()
    }

    /// The ids of the ordinary (not control) tokens whose text holds any of `chars`, which
    /// must be printable ASCII: byte-level BPE writes those bytes as themselves in token text.
    pub fn ids_containing(&self, chars: &[char]) -> Vec<u32> {
        debug_assert!(chars.iter().all(|c| c.is_ascii_graphic()));
        let mut ids: Vec<u32> = self
            .inner
            .get_vocab(false)
            .into_iter()
            .filter(|(token, id)| token.contains(chars) && !self.is_control(*id))
            .map(|(_, id)| id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Whether `id` is a control token.
    pub fn is_control(&self, id: u32) -> bool {
        self.control.values().any(|&c| c == id)
    }
}
