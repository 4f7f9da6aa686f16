//! Log lines and `ingest`'s progress bar on one terminal: while a bar is shown, each log line is
//! written with the bar cleared and then redrawn below it, so neither overwrites the other.

use std::io::{self, Write};
use std::sync::Mutex;

use indicatif::ProgressBar;

static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Log lines go around `bar` until [`hide_bar`].
pub fn show_bar(bar: &ProgressBar) {
    *BAR.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
}

/// Log lines go straight to stderr again.
pub fn hide_bar() {
    *BAR.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// Standard error, around the progress bar when one is shown; the log's writer.
pub struct Stderr;

impl Stderr {
    /// A writer for one log event (`tracing_subscriber`'s `with_writer` takes this function).
    pub fn new() -> Stderr {
        Stderr
    }
}

impl Default for Stderr {
    fn default() -> Self {
        Stderr
    }
}

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let bar = BAR.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match bar {
            // The formatter writes a whole line at once, so one line is one suspension.
            Some(bar) => bar.suspend(|| io::stderr().write_all(buf)).map(|()| buf.len()),
            None => io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}
