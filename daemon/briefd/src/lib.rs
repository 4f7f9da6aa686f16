//! The briefd daemon as a library: the binary's commands, so tests can drive them in-process.
//!
//! - [`daemon::run`]: the long-running service (watch, claim, process, publish, shut down);
//! - [`ingest::ingest`]: process given files once and exit;
//! - [`worker::Worker`]: one claimed file from bytes to archive or failed, shared by both;
//! - [`publish`]: writes a day's briefing atomically;
//! - [`lock`]: one briefd per state database.

pub mod daemon;
pub mod eval;
pub mod ingest;
pub mod lock;
pub mod publish;
pub mod worker;

/// The local date (YYYY-MM-DD) of now in `tz`: the day a briefing is named for.
pub fn today(tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::now().to_zoned_datetime(tz.clone()).date().to_string()
}
