//! Any bytes as a saved HTML page: the cleaner returns text or a reason, never panics or hangs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let clean = clean::Clean::default();
    let _ = clean.clean_items(data, "page.html");
    if let Ok(html) = std::str::from_utf8(data) {
        // Straight to the extractors too, past decoding and format detection.
        let _ = clean::html::extract(html);
        let _ = clean::html::strip_tags(html);
    }
});
