//! One briefd run for `bench/summarize`: load the GGUF, process a prompt given as token ids,
//! generate a fixed number of tokens greedily (stop tokens ignored, so both engines do the same
//! work), and print one JSON line with load time, prompt and generation tokens/s and peak RSS.
//!
//! cargo run --release -p llm --example bench -- MODEL PROMPT_IDS_JSON THREADS N_NEW

use std::time::Instant;

use llm::generate::{self, Settings};
use llm::Model;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, prompt, threads, n_new] = args.as_slice() else {
        return Err("usage: bench MODEL PROMPT_IDS_JSON THREADS N_NEW".into());
    };
    let prompt: Vec<u32> = serde_json::from_str(&std::fs::read_to_string(prompt)?)?;
    let threads: usize = threads.parse()?;
    let n_new: usize = n_new.parse()?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    let started = Instant::now();
    let model = Model::load(std::path::Path::new(model))?;
    let load_seconds = started.elapsed().as_secs_f64();
    let settings = Settings {
        max_new_tokens: n_new,
        temperature: 0.0,
        seed: 0,
        repeat_penalty: 1.0,
        repeat_last_n: 64,
        stop_tokens: Vec::new(),
        banned_tokens: Vec::new(),
    };
    let backend = model.weights.lock().expect("one thread").name();
    let cpu_before = cpu_seconds();
    let generation = pool.install(|| {
        let mut weights = model.weights.lock().expect("one thread");
        generate::generate_unguarded(&mut weights, &prompt, &settings)
    })?;
    let cpu = cpu_seconds() - cpu_before;
    println!(
        "{{\"engine\":\"briefd\",\"backend\":\"{}\",\"load_s\":{load_seconds:.3},\"prompt_tokens\":{},\"prompt_tok_s\":{:.2},\"gen_tokens\":{},\"gen_tok_s\":{:.2},\"peak_rss_mb\":{:.1},\"cpu_s\":{cpu:.2}}}",
        backend,
        generation.prompt_tokens,
        generation.prompt_tokens as f64 / generation.prompt_seconds,
        generation.ids.len() - 1,
        (generation.ids.len() - 1) as f64 / generation.generate_seconds,
        peak_rss_mb()
    );
    Ok(())
}

/// CPU time this process's threads have run so far (from /proc/self/task/*/schedstat, in
/// nanoseconds): what a prompt costs, whatever else shares the cores.
fn cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0.0 };
    let nanos: u64 = tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    nanos as f64 / 1e9
}

/// VmHWM of this process, from /proc (Linux).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
