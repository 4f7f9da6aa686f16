//! Any bytes as a JSON file (an article, a list, a JSON Feed): articles or reasons, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let clean = clean::Clean::default();
    let _ = clean.clean_items(data, "feed.json");
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = clean::json::extract(text, "feed.json");
    }
});
