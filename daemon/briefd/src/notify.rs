//! Telling a service manager how the daemon is doing (systemd's `sd_notify` protocol; a no-op
//! when `NOTIFY_SOCKET` is not set): `READY=1` once the inbox is watched (and after a reload,
//! which `RELOADING=1` opens), `WATCHDOG=1` at half
//! the interval `WATCHDOG_USEC` asks for, `STOPPING=1` when a stop begins. With
//! `contrib/briefd.service` (`Type=notify`, `WatchdogSec=`), systemd starts dependants only once
//! briefd is ready and restarts it when the pings stop.
//!
//! The pings come from the async runtime, so they prove that the process and its runtime are
//! alive, not that a long stage is making progress (the pipeline's own time boxes cover that).

use std::time::Duration;

use sd_notify::NotifyState;
use tracing::warn;

/// The inbox is watched and files are taken.
pub fn ready() {
    send(&[NotifyState::Ready, NotifyState::Status("watching the inbox")]);
}

/// The config is being read again (ends with [`ready`]).
pub fn reloading() {
    send(&[NotifyState::Reloading, NotifyState::Status("reloading the config")]);
}

/// A stop has begun; the article in flight is being finished.
pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping: finishing the article in flight")]);
}

/// How often to ping the watchdog, when the service manager asks for pings.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled().map(|limit| limit / 2)
}

/// One watchdog ping.
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        // The daemon works the same without a service manager; say so once per failure.
        warn!(error = %e, "could not notify the service manager (NOTIFY_SOCKET)");
    }
}
