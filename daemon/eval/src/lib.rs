//! `briefd eval <set> DIR`: reproducible quality figures on labelled dev sets (the layout of
//! `../shared/eval/`), one line per figure with its name.
//!
//! One module per command, each with a `run` the binary calls: [`extraction`], [`same_story`],
//! [`keypoints`], [`agreement`], [`summaries`], [`guard`]. The same-story and key-point sets go article by
//! article through a [`pipeline::Pipeline`] of the stage and a [`store::Store`], as in the
//! daemon, so there is no evaluation-only way into the stages or the store. The others call the
//! functions the stage itself runs, for what an article leaving the pipeline does not show:
//! each HTML extractor alone, the model's draft beside the summary shown, and the key points of
//! some 6,000 document pairs (built in memory as two-source stories, no store needed). Shared
//! pieces have their own modules: [`rouge`] (rouge-score's ROUGE), [`site_folds`] (the HTML
//! extraction method cross-validated over sites), [`stats`] (means and bootstrap resampling),
//! [`summary_set`] (the summaries set's reader), [`corrupt`] (reference summaries made false, for
//! the guard) and [`options`] (which stage options a run
//! uses).

pub mod agreement;
pub mod corrupt;
pub mod extraction;
pub mod guard;
pub mod keypoints;
pub mod options;
pub mod rouge;
pub mod same_story;
pub mod site_folds;
pub mod stats;
pub mod summaries;
pub mod summary_set;

pub use stats::{mean_std, SplitMix};
pub use summary_set::{summary_items, SummaryItem};

/// Whether `word` (lower case) is a stop word, by the list the dedupe stage weighs words with,
/// so that reader figures count content words the way the stages do.
pub fn is_stop_word(word: &str) -> bool {
    text::stop_words::NON_TOPICAL.contains(word)
}
