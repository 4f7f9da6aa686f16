//! The daemon's lease in the store (`Store::register_daemon`): renewed every heartbeat by a
//! thread of its own while the daemon lives, so that what it holds (files in flight, the
//! editor's story) stays its own; given up on a clean stop, so that others need not wait for it
//! to lapse. A daemon killed stops renewing, and once its lease lapses another takes over.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use store::Store;
use tracing::{error, warn};

/// The renewing thread; stops it and gives the lease up when dropped.
pub struct Lease {
    store: Arc<Store>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Lease {
    /// Registers this daemon with a lease of `lease`, renewed every `heartbeat`.
    pub fn start(store: Arc<Store>, lease: Duration, heartbeat: Duration) -> anyhow::Result<Lease> {
        store.register_daemon(lease)?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new().name("lease".into()).spawn({
            let (store, stop) = (store.clone(), stop.clone());
            move || renew_until_stopped(&store, lease, heartbeat, &stop)
        })?;
        Ok(Lease { store, stop, thread: Some(thread) })
    }
}

fn renew_until_stopped(store: &Store, lease: Duration, heartbeat: Duration, stop: &AtomicBool) {
    let mut next = Instant::now() + heartbeat;
    while !stop.load(Ordering::SeqCst) {
        let left = next.saturating_duration_since(Instant::now());
        if !left.is_zero() {
            std::thread::sleep(left.min(Duration::from_millis(50)));
            continue;
        }
        next = Instant::now() + heartbeat;
        match store.renew_lease() {
            Ok(true) => {}
            Ok(false) => error!(
                lease_seconds = lease.as_secs(),
                "this daemon's lease lapsed before it was renewed (the database was out of reach, or the \
                 daemon stalled): another daemon may have taken over its files in flight"
            ),
            Err(e) => warn!(error = %e, "cannot renew this daemon's lease; will try again"),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if let Err(e) = self.store.leave() {
            warn!(error = %e, "cannot give this daemon's lease up; its files wait for it to lapse");
        }
    }
}
