//! Generation that can be stopped between tokens, for the editor: a story that gains a source
//! while its summary is being written, or a daemon that is stopping, should not wait for a draft
//! that will be thrown away.
//!
//! `llm::generate` has no such hook and the engine crate is not this crate's to change, so the
//! greedy loop is repeated here over the engine's public `clear` and `forward`, with the same
//! repeat penalty, stop tokens and loop detector (`llm::generate::is_looping`); a test compares
//! the tokens with `llm::generate` on the real model. Sampling (`temperature` above 0) goes
//! through `llm::generate` itself, whose sampler is candle's: `cancel` is then asked only before
//! and after the whole generation.

use std::collections::HashSet;
use std::time::Instant;

use llm::generate::{self, Generation, Settings, Stop};
use llm::Engine;

use crate::abstractive::Cancel;
use crate::error::Error;

/// Runs `prompt` through `engine` and generates greedily, asking `cancel` before the prompt and
/// after each token; [`Error::Cancelled`] when it says stop. The KV cache is cleared first.
pub fn generate_until(
    engine: &mut Engine,
    prompt: &[u32],
    settings: &Settings,
    cancel: Cancel<'_>,
) -> Result<Generation, Error> {
    if cancel() {
        return Err(Error::Cancelled);
    }
    if settings.temperature > 0.0 {
        let generation = generate::generate(engine, prompt, settings)?;
        return if cancel() { Err(Error::Cancelled) } else { Ok(generation) };
    }
    if prompt.is_empty() {
        return Err(llm::Error::EmptyPrompt.into());
    }
    engine.clear();
    let mut context: Vec<u32> = prompt.to_vec();
    let mut ids = Vec::new();

    let started = Instant::now();
    let logits = engine.forward(prompt, 0)?;
    let mut next = greedy(logits, &context, settings);
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
        if generate::is_looping(&ids) {
            stop = Stop::Loop;
            break;
        }
        if ids.len() == settings.max_new_tokens {
            break;
        }
        let logits = engine.forward(&[next], context.len() - 1)?;
        next = greedy(logits, &context, settings);
    }
    Ok(Generation {
        ids,
        stop,
        prompt_tokens: prompt.len(),
        prompt_seconds,
        generate_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The first of the largest logits after llama.cpp's repeat penalty (each distinct token of the
/// last `repeat_last_n` once, shrunk toward zero), as `llm::generate` picks greedily.
fn greedy(mut logits: Vec<f32>, context: &[u32], settings: &Settings) -> u32 {
    if settings.repeat_penalty != 1.0 {
        let from = context.len().saturating_sub(settings.repeat_last_n);
        let mut seen = HashSet::new();
        for &t in &context[from..] {
            if let Some(l) = logits.get_mut(t as usize) {
                if seen.insert(t) {
                    *l = if *l >= 0.0 { *l / settings.repeat_penalty } else { *l * settings.repeat_penalty };
                }
            }
        }
    }
    let mut best = 0;
    for (i, l) in logits.iter().enumerate() {
        if *l > logits[best] {
            best = i;
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(repeat_penalty: f32) -> Settings {
        Settings {
            max_new_tokens: 8,
            temperature: 0.0,
            seed: 1,
            repeat_penalty,
            repeat_last_n: 64,
            stop_tokens: Vec::new(),
        }
    }

    #[test]
    fn greedy_takes_the_first_maximum_after_the_penalty() {
        assert_eq!(greedy(vec![0.5, 2.0, 2.0, 1.0], &[], &settings(1.0)), 1);
        // Token 1 was just used: 2.0 / 1.5 falls below token 3's 1.5.
        assert_eq!(greedy(vec![0.5, 2.0, -1.0, 1.5], &[1], &settings(1.5)), 3);
        // A negative logit is pushed further down, not toward zero.
        assert_eq!(greedy(vec![-1.0, -1.2], &[0], &settings(1.5)), 1);
    }
}
