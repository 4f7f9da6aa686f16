//! Generation: the prompt through the model once (filling the KV cache), then one token at a
//! time until a stop token, `max_new_tokens`, or the repetition guard.
//!
//! Greedy by default, so the same article always gets the same summary; a temperature above 0
//! samples with a fixed seed instead. The repetition guard is two things: an optional repeat
//! penalty on recent tokens (llama.cpp's `repeat_penalty`), and a loop detector that stops as
//! soon as the last `LOOP_NGRAM` tokens already appeared earlier in the output, since a small
//! model that starts repeating itself does not recover.

use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};

use crate::error::Error;
use crate::model::Engine;

/// A token n-gram this long seen twice in the output means the model is looping.
const LOOP_NGRAM: usize = 12;

/// How to generate.
#[derive(Debug, Clone)]
pub struct Settings {
    /// At most this many new tokens.
    pub max_new_tokens: usize,
    /// 0 = greedy.
    pub temperature: f64,
    /// Seed for sampling (unused when greedy).
    pub seed: u64,
    /// 1.0 = off; llama.cpp's usual value is 1.1.
    pub repeat_penalty: f32,
    /// The penalty looks this many tokens back (prompt included).
    pub repeat_last_n: usize,
    /// Generation ends at any of these.
    pub stop_tokens: Vec<u32>,
    /// Tokens never generated (their logits are set to minus infinity before the pick), e.g.
    /// [`Tokenizer::ids_containing`](crate::tokenizer::Tokenizer::ids_containing) for text
    /// that can never belong in the output.
    pub banned_tokens: Vec<u32>,
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A stop token.
    EndOfTurn,
    /// `max_new_tokens` reached.
    Length,
    /// The loop detector fired.
    Loop,
}

/// What one generation produced, with its timings.
#[derive(Debug, Clone)]
pub struct Generation {
    /// The new tokens (stop token excluded).
    pub ids: Vec<u32>,
    /// Why it ended.
    pub stop: Stop,
    /// Prompt length in tokens.
    pub prompt_tokens: usize,
    /// Seconds spent on the prompt (batched forward passes).
    pub prompt_seconds: f64,
    /// Seconds spent generating after the first token.
    pub generate_seconds: f64,
}

/// Runs `prompt` through `model` and generates. The KV cache is cleared first.
pub fn generate(model: &mut Engine, prompt: &[u32], settings: &Settings) -> Result<Generation, Error> {
    run(model, prompt, settings, true, &|| false, usize::MAX)
}

/// As `generate`, asking `cancel` before the prompt and before each token; [`Error::Cancelled`]
/// when it says stop (a caller whose draft became useless need not wait for it).
pub fn generate_until(
    model: &mut Engine,
    prompt: &[u32],
    settings: &Settings,
    cancel: &dyn Fn() -> bool,
) -> Result<Generation, Error> {
    run(model, prompt, settings, true, cancel, CANCELLABLE_PREFILL)
}

/// As `generate`, without the loop detector: exactly `max_new_tokens` unless a stop token comes
/// (for benchmarks, which must do the same work as the engine they are compared with).
pub fn generate_unguarded(
    model: &mut Engine,
    prompt: &[u32],
    settings: &Settings,
) -> Result<Generation, Error> {
    run(model, prompt, settings, false, &|| false, usize::MAX)
}

/// Prompt tokens per forward pass when the caller may cancel: a long prompt on a loaded machine
/// takes seconds in one pass, and a stopping daemon should not wait for it.
const CANCELLABLE_PREFILL: usize = 128;

/// Runs the prompt in passes of at most `prefill_chunk` tokens (asking `cancel` between them;
/// the native engine only, whose cache takes a batch at any position), then generates.
fn run(
    model: &mut Engine,
    prompt: &[u32],
    settings: &Settings,
    loop_guard: bool,
    cancel: &dyn Fn() -> bool,
    prefill_chunk: usize,
) -> Result<Generation, Error> {
    if cancel() {
        return Err(Error::Cancelled);
    }
    if prompt.is_empty() {
        return Err(Error::EmptyPrompt);
    }
    model.clear();
    let mut sampler = if settings.temperature <= 0.0 {
        LogitsProcessor::from_sampling(settings.seed, Sampling::ArgMax)
    } else {
        LogitsProcessor::from_sampling(settings.seed, Sampling::All { temperature: settings.temperature })
    };
    let mut context: Vec<u32> = prompt.to_vec();
    let mut ids = Vec::new();

    let started = Instant::now();
    let chunk = if matches!(model, Engine::Native(_)) { prefill_chunk.max(1) } else { prompt.len() };
    let mut logits = Vec::new();
    for (i, part) in prompt.chunks(chunk).enumerate() {
        if i > 0 && cancel() {
            return Err(Error::Cancelled);
        }
        logits = model.forward(part, i * chunk)?;
    }
    let mut next = pick(&mut sampler, logits, &context, settings)?;
    let prompt_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut stop = Stop::Length;
    for _ in 0..settings.max_new_tokens {
        if cancel() {
            return Err(Error::Cancelled);
        }
        if settings.stop_tokens.contains(&next) {
            stop = Stop::EndOfTurn;
            break;
        }
        ids.push(next);
        context.push(next);
        if loop_guard && is_looping(&ids) {
            stop = Stop::Loop;
            break;
        }
        if ids.len() == settings.max_new_tokens {
            break;
        }
        let logits = model.forward(&[next], context.len() - 1)?;
        next = pick(&mut sampler, logits, &context, settings)?;
    }
    Ok(Generation {
        ids,
        stop,
        prompt_tokens: prompt.len(),
        prompt_seconds,
        generate_seconds: started.elapsed().as_secs_f64(),
    })
}

fn pick(
    sampler: &mut LogitsProcessor,
    mut logits: Vec<f32>,
    context: &[u32],
    settings: &Settings,
) -> Result<u32, Error> {
    if settings.repeat_penalty != 1.0 {
        // llama.cpp's rule: each distinct recent token once, shrinking its logit toward zero.
        let from = context.len().saturating_sub(settings.repeat_last_n);
        let mut seen = std::collections::HashSet::new();
        for &t in &context[from..] {
            if let Some(l) = logits.get_mut(t as usize) {
                if seen.insert(t) {
                    *l = if *l >= 0.0 { *l / settings.repeat_penalty } else { *l * settings.repeat_penalty };
                }
            }
        }
    }
    for &t in &settings.banned_tokens {
        if let Some(l) = logits.get_mut(t as usize) {
            *l = f32::NEG_INFINITY;
        }
    }
    if settings.temperature <= 0.0 {
        // Greedy: the first of equal maxima, as llama.cpp's top-1.
        let mut best = 0;
        for (i, l) in logits.iter().enumerate() {
            if *l > logits[best] {
                best = i;
            }
        }
        return Ok(best as u32);
    }
    let logits = Tensor::new(logits, &Device::Cpu)?;
    Ok(sampler.sample(&logits)?)
}

/// Whether the last `LOOP_NGRAM` tokens already occur earlier in `ids`.
pub fn is_looping(ids: &[u32]) -> bool {
    if ids.len() < 2 * LOOP_NGRAM {
        return false;
    }
    let tail = &ids[ids.len() - LOOP_NGRAM..];
    ids[..ids.len() - 1].windows(LOOP_NGRAM).filter(|w| *w == tail).count() > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_span_is_a_loop() {
        let mut ids: Vec<u32> = (0..20).collect();
        assert!(!is_looping(&ids));
        ids.extend(8..20);
        assert!(is_looping(&ids));
    }
}
