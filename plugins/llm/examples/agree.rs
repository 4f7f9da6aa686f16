//! Greedy agreement with llama.cpp for `bench/summarize`: for each reference line
//! (`{"id", "prompt_ids", "greedy_ids"}`, made by llama.cpp on the same file), run the prompt
//! through briefd's engine, decode greedily as many tokens as the reference holds (stopping at
//! end-of-sequence or end-of-turn, as the reference did), and print how many leading tokens
//! agree, then one summary line. Used for models too large for CI (the Qwen2.5 file).
//!
//! cargo run --release -p llm --example agree -- MODEL REFERENCES_JSONL THREADS

use llm::generate::{self, Settings};
use llm::Model;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, references, threads] = args.as_slice() else {
        return Err("usage: agree MODEL REFERENCES_JSONL THREADS".into());
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads.parse()?).build()?;
    let model = Model::load(std::path::Path::new(model))?;
    let text = std::fs::read_to_string(references)?;
    let (mut full, mut cases) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line)?;
        let ids = |key: &str| -> Result<Vec<u32>, Box<dyn std::error::Error>> {
            let list = case[key].as_array().ok_or_else(|| format!("{key} is not a list"))?;
            list.iter()
                .map(|v| v.as_u64().map(|v| v as u32).ok_or_else(|| format!("{key} holds a non-id").into()))
                .collect()
        };
        let (prompt, want) = (ids("prompt_ids")?, ids("greedy_ids")?);
        let settings = Settings {
            max_new_tokens: want.len().max(1),
            temperature: 0.0,
            seed: 0,
            repeat_penalty: 1.0,
            repeat_last_n: 64,
            stop_tokens: model.template.stop_tokens(&model.tokenizer),
            banned_tokens: Vec::new(),
        };
        let generation = pool.install(|| {
            let mut weights = model.weights.lock().expect("one thread");
            generate::generate_unguarded(&mut weights, &prompt, &settings)
        })?;
        let same = generation.ids.iter().zip(&want).take_while(|(a, b)| a == b).count();
        let agrees = same == want.len() && generation.ids.len() == want.len();
        full += usize::from(agrees);
        cases += 1;
        println!(
            "{}: {same} of {} tokens agree{}",
            case["id"].as_str().unwrap_or("?"),
            want.len(),
            if agrees { "" } else { " (then differs)" }
        );
    }
    println!("greedy agreement with llama.cpp: {full} of {cases} prompts agree for every reference token");
    Ok(())
}
