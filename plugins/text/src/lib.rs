//! Plain-text handling every stage shares: sentences ([`sentences`]), where a news sentence's
//! own words start after a glued headline or dateline ([`lead`]), words ([`words`]), stop words
//! ([`stop_words`]), stemming ([`stem`]), instructions hidden in an article ([`injection`]),
//! which every stage that shows an article's words filters out, and the site a URL names
//! ([`site`]).
//!
//! The stages and the eval harness used to carry their own copies of these, and `keypoints`
//! depended on `summarize` (and so on the inference engine) only for its sentence splitter.
//! Here they live once, with no dependency heavier than a Unicode segmenter, a stemmer and the
//! regex engine, so a stage that needs words does not pull in a model runtime.
//!
//! Everything here is pure: text in, text (or slices of it) out, no I/O and no state.

pub mod injection;
pub mod lead;
pub mod sentences;
pub mod site;
pub mod stem;
pub mod stop_words;
pub mod words;
