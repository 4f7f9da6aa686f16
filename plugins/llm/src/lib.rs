//! The inference engine: a llama-family GGUF read once, its tokenizer and chat template taken
//! from the file itself, a forward pass with one preallocated KV cache, and the decode loop. It
//! knows nothing of articles or prompts: a stage that uses a model (`summarize`) writes its own
//! prompt, and checks what comes back.
//!
//! # Loading (`model`)
//!
//! `Model::load` reads the metadata first: the architecture (`llama` or `qwen2`; keys are read
//! under the architecture's prefix), the keys the forward pass cannot do without, and
//! every tensor of the table inside the file's length, so a wrong, cut or damaged file is refused
//! with its path and the missing key or tensor (`Error`) before a weight is read. `inspect` does
//! only that half, for config validation. Then the weights: a file whose matrices are Q4_1, Q8_0,
//! Q4_K or Q6_K (the default SmolLM2-135M-Instruct Q4_1 file, Qwen2.5-Coder-1.5B-Instruct
//! Q4_K_M) runs on briefd's own forward pass (`Engine::Native`, `llama::Llama`); any other
//! `llama` file runs on candle-transformers' `quantized_llama` (`Engine::Candle`), and the log
//! says why (the `Error` `Llama::load` gave); another `qwen2` file is refused with that error.
//!
//! # Tokenizer and template (`tokenizer`, `template`)
//!
//! Byte-level BPE is built from the GGUF's `tokenizer.ggml.*` keys (no `tokenizer.json`, no
//! hub), with llama.cpp's pre-tokenization rather than candle's: no prefix space, and digits
//! split one by one for the `smollm` family. Control tokens are never registered with the BPE:
//! text is always encoded as text, and `ChatTemplate` inserts `<|im_start|>`/`<|im_end|>` by id,
//! so text a caller puts in a turn cannot open or close one. GGUF templates are Jinja programs;
//! briefd does not run Jinja but recognises ChatML from `tokenizer.chat_template` and renders it
//! itself (one system and one user turn, the assistant turn opened); another template is refused.
//!
//! # The forward pass (`llama`, `quant`, `attention`, `ops`)
//!
//! It exists for speed and fidelity: stock candle runs Q4_1 with a scalar dot product and drifts
//! from llama.cpp's greedy output after a few tokens. Every step is computed with llama.cpp's
//! arithmetic, so greedy decoding follows llama.cpp's token for token rather than only at first:
//! activations quantized per block of 32 to 8 bits with f16-rounded scales (ties to even),
//! integer block sums scaled and accumulated in eight f32 lanes with fused multiply-adds and the
//! lanes added in `hsum_float_8`'s order, the RMS norm's sum of squares in f64, rope angles
//! stepped by repeated multiplication in f32 and rotated with the fused multiply-adds GCC emits
//! for ggml's rope, its vectorised `expf`, and f16 keys, values, queries and attention weights.
//!
//! - K-quants (`kquant`): Q4_K and Q6_K rows against activations quantized to Q8_K per 256
//!   values, with the float steps of llama.cpp's AVX2 products (see the module).
//! - Kernels (`quant`): AVX2 kernels (with FMA and F16C, chosen at run time) read the file's own
//!   blocks, never a dequantized copy; a portable form computes the same bits more slowly, and
//!   tests compare the two wherever the CPU has AVX2. The float steps are written once in plain
//!   Rust and compiled twice (`ops::simd_fn!`), with and without those features.
//! - Prompt batching: the whole prompt goes through each matrix in one pass, four tokens per
//!   unpacked Q4_1 weight block, each keeping its own accumulator (so the numbers are the
//!   one-token ones); a block's matrices that read the same input (q, k, v; gate, up) share one
//!   parallel step. Only the last position's logits are computed.
//! - KV cache: one per layer, allocated once for the whole context (`Info::context_length`)
//!   and in f16 as llama.cpp holds it: keys by position, values transposed. Zeroed allocations
//!   are not resident until written, so a large context costs memory only for the positions an
//!   article uses. A new prompt clears it (`Engine::clear`); a forward pass that would not follow
//!   the filled positions, or not fit, is refused (`Error::Position`, `Error::ContextFull`).
//! - Attention (`attention`): llama.cpp's non-flash path, per head: scores of f16-rounded queries
//!   and keys, softmax padded to a multiple of eight with its probabilities rounded to f16, then
//!   times the transposed values. One dot product of 64 values is a chain of dependent
//!   multiply-adds, so the AVX2 kernels keep eight independent products in flight, each adding
//!   its own terms in its own order (the portable results, to the bit).
//!
//! # Threads (`team`)
//!
//! One generated token is about 150 short parallel steps (q/k/v together, attention, output,
//! gate/up together, down, per layer), each a few microseconds. A pool whose idle threads sleep
//! pays a wake-up per step (measured as a third of a token's time on 2 cores), so the forward
//! pass runs on a `team::Team` whose threads spin between the steps of a pass, as llama.cpp's
//! do, and sleep after 2 ms without work, so an idle daemon costs nothing. Work goes out in
//! chunks to whichever thread asks; a step never waits for a helper that did not join it, so a
//! preempted thread on a busy machine delays nobody. The team has as many threads as the rayon
//! pool the call runs in (a stage's `threads`). candle's fallback uses its own process-wide pool
//! instead, sized once from `CANDLE_NUM_THREADS` (`model::use_threads`).
//!
//! # Decoding (`generate`)
//!
//! The prompt runs once, filling the cache; then one token at a time until a stop token,
//! `max_new_tokens`, or the loop detector (the last 12 tokens already seen in the output: a
//! small model that starts repeating itself does not recover). Greedy by default (the first of
//! equal maxima, as llama.cpp's top-1), so the same prompt always gives the same tokens; a
//! temperature above 0 samples with a fixed seed. An optional repeat penalty follows llama.cpp's
//! rule. `generate_unguarded` leaves out the loop detector, for benchmarks that must do the same
//! work as the engine they are compared with (`examples/bench.rs`, run by `bench/summarize`).
//!
//! # Fidelity and speed
//!
//! `tests/it` checks the tokenizer and the chat prompt against llama.cpp's ids, and greedy tokens
//! against llama.cpp built on this machine kind and against a shared reference
//! (`test_data/SOURCE.md` says how they were made). `bench/summarize` times this engine against
//! llama.cpp on the same file, prompt and threads.

pub mod attention;
pub mod error;
pub mod gemm;
pub mod generate;
pub mod kquant;
pub mod llama;
pub mod model;
pub mod ops;
pub mod quant;
pub mod team;
pub mod template;
pub mod tokenizer;

pub use error::Error;
pub use model::{Engine, Info, Model};
