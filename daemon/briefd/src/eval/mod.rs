//! `briefd eval SET DIR`: score a stage on a labelled set from `../shared/eval/`, printing one
//! line per figure. Each set owns a module.

pub mod same_story;
