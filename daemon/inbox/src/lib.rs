//! The inbox folder and the files' way out of it.
//!
//! - [`names`]: which names are ignored until renamed (hidden and temporary files);
//! - [`settle`]: when a file is complete (renamed in, or unchanged for the settle time);
//! - [`claim`]: taking a file by one atomic rename into the processing folder, and reading it
//!   without following links;
//! - [`dispose`]: moving a finished file to `archive/YYYY-MM-DD/` or to `failed/` with its reason;
//! - [`durable`]: renames and writes that are on disk when they return, and the real-folder check;
//! - [`watch`]: file-system events from `notify`, with overflow turned into a rescan.
//!
//! Nothing here knows about the store or the stages; the daemon wires them together.

pub mod claim;
pub mod dispose;
pub mod durable;
pub mod names;
pub mod settle;
pub mod watch;

pub use claim::{Claimed, ReadError};
