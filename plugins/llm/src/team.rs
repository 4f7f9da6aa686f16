//! A fixed team of threads that runs the forward pass's parallel steps.
//!
//! Why not rayon: one generated token is about 150 short parallel steps (a matrix product of a
//! few microseconds each), and a pool whose idle threads sleep pays a wake-up per step, which
//! measured as a third of the time of a token on 2 cores. The team's threads spin between steps
//! of one pass, as llama.cpp's do, and sleep only after a while without work, so an idle daemon
//! costs nothing.

use std::cell::UnsafeCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long an idle thread spins before it sleeps: longer than the gap between two steps of a
/// pass (norms, sampling), far shorter than the gap between two articles.
const SPIN: Duration = Duration::from_millis(2);

type Job = *const (dyn Fn(usize) + Sync);

struct Shared {
    /// Bumped once per step; a thread runs the step when it sees a new value.
    epoch: AtomicU64,
    /// The current step; written only while no thread runs one.
    job: UnsafeCell<Option<Job>>,
    /// Helper threads inside a step (joined, not yet left).
    active: AtomicUsize,
    /// Set when the step's owner has finished its share: a helper arriving later skips it.
    closed: AtomicBool,
    /// Helper threads asleep (or about to be) on `wake`.
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
    stop: AtomicBool,
    panicked: AtomicBool,
}

// SAFETY: `job` is written by the owner only while `closed` is set and no helper is `active`;
// a helper reads it only after joining (`active` + 1) and then seeing `closed` unset, and the
// owner does not close and clear it until `active` is back to 0. All these are SeqCst.
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

/// The caller plus `threads - 1` helper threads.
pub struct Team {
    shared: Arc<Shared>,
    helpers: Vec<JoinHandle<()>>,
}

impl Team {
    /// A team of `threads` (at least 1: the caller alone).
    pub fn new(threads: usize) -> Team {
        let shared = Arc::new(Shared {
            epoch: AtomicU64::new(0),
            job: UnsafeCell::new(None),
            active: AtomicUsize::new(0),
            closed: AtomicBool::new(true),
            sleepers: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            panicked: AtomicBool::new(false),
        });
        let mut helpers = Vec::new();
        for index in 1..threads.max(1) {
            let shared = Arc::clone(&shared);
            let spawned = std::thread::Builder::new()
                .name(format!("briefd-model-{index}"))
                .spawn(move || helper(&shared, index));
            match spawned {
                Ok(handle) => helpers.push(handle),
                // Fewer threads is slower, not wrong: the steps split over whoever is there.
                Err(e) => {
                    tracing::warn!(error = %e, "could not start a model thread");
                    break;
                }
            }
        }
        Team { shared, helpers }
    }

    /// Threads in the team, the caller included.
    pub fn threads(&self) -> usize {
        self.helpers.len() + 1
    }

    /// Runs `job(index)` once on each thread of the team (the caller is index 0) and returns when
    /// all are done. A panic in any of them is raised here.
    pub fn run(&mut self, job: &(dyn Fn(usize) + Sync)) {
        if self.helpers.is_empty() {
            job(0);
            return;
        }
        let s = &*self.shared;
        // SAFETY: the lifetime is erased only for the duration of this call, which does not
        // return before every helper that joined the step has left it.
        let erased: Job = unsafe { std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), Job>(job) };
        // SAFETY: the step is closed and no helper is in it (`&mut self`; the previous `run`
        // waited for that).
        unsafe { *s.job.get() = Some(erased) };
        s.closed.store(false, Ordering::SeqCst);
        s.epoch.fetch_add(1, Ordering::SeqCst);
        if s.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = s.lock.lock().unwrap_or_else(|e| e.into_inner());
            s.wake.notify_all();
        }
        let mine = catch_unwind(AssertUnwindSafe(|| job(0)));
        s.closed.store(true, Ordering::SeqCst);
        let mut spins = 0u32;
        while s.active.load(Ordering::SeqCst) != 0 {
            spins += 1;
            if spins.is_multiple_of(256) {
                // A helper was preempted mid-chunk (a busy machine): let it run.
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        // SAFETY: closed, and no helper is in the step.
        unsafe { *s.job.get() = None };
        if let Err(payload) = mine {
            std::panic::resume_unwind(payload);
        }
        if s.panicked.swap(false, Ordering::SeqCst) {
            panic!("a model thread panicked");
        }
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        {
            let _guard = self.shared.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.shared.wake.notify_all();
        }
        for handle in self.helpers.drain(..) {
            let _ = handle.join();
        }
    }
}

fn helper(s: &Shared, index: usize) {
    let mut seen = 0u64;
    loop {
        let started = Instant::now();
        let mut spins = 0u32;
        loop {
            if s.stop.load(Ordering::Acquire) {
                return;
            }
            if s.epoch.load(Ordering::SeqCst) != seen {
                break;
            }
            spins += 1;
            if spins < 256 {
                std::hint::spin_loop();
                continue;
            }
            if started.elapsed() < SPIN {
                // Between steps of a pass: stay close, but give the core away if another
                // thread wants it.
                std::thread::yield_now();
                continue;
            }
            let guard = s.lock.lock().unwrap_or_else(|e| e.into_inner());
            s.sleepers.fetch_add(1, Ordering::SeqCst);
            // Checked again under the lock: a step posted after this point notifies, one posted
            // before is seen here, so no wake-up is lost.
            if s.epoch.load(Ordering::SeqCst) == seen && !s.stop.load(Ordering::SeqCst) {
                let _guard = s.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
            }
            s.sleepers.fetch_sub(1, Ordering::SeqCst);
            spins = 0;
        }
        s.active.fetch_add(1, Ordering::SeqCst);
        seen = s.epoch.load(Ordering::SeqCst);
        if !s.closed.load(Ordering::SeqCst) {
            // SAFETY: joined and not closed: the job is the current step's and stays valid
            // until this thread leaves (see `Shared`).
            if let Some(job) = unsafe { *s.job.get() } {
                // SAFETY: as above.
                let job = unsafe { &*job };
                if catch_unwind(AssertUnwindSafe(|| job(index))).is_err() {
                    s.panicked.store(true, Ordering::SeqCst);
                }
            }
        }
        s.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Hands out the indices `0..count` to whoever asks first, so threads that started late or run
/// slower (a busy machine) take fewer.
pub struct Chunks {
    next: AtomicUsize,
    count: usize,
}

impl Chunks {
    /// Indices `0..count`.
    pub fn new(count: usize) -> Chunks {
        Chunks { next: AtomicUsize::new(0), count }
    }

    /// The next index not yet taken.
    pub fn take(&self) -> Option<usize> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        (i < self.count).then_some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_runs_once_per_step_across_many_steps() {
        // More threads than cores, so some helpers arrive late and skip steps.
        let mut team = Team::new(5);
        assert_eq!(team.threads(), 5);
        for step in 0..2000 {
            let hits: Vec<AtomicUsize> = (0..50).map(|_| AtomicUsize::new(0)).collect();
            let chunks = Chunks::new(hits.len());
            team.run(&|_| {
                while let Some(i) = chunks.take() {
                    hits[i].fetch_add(1, Ordering::Relaxed);
                }
            });
            assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1), "step {step}");
        }
    }

    /// A job in which the caller waits (up to 10 s) until every thread of the team is in it,
    /// so the helpers must wake and join.
    fn all_together(team: &mut Team, ran: &AtomicUsize, fail_helper: bool) {
        let threads = team.threads();
        let before = ran.load(Ordering::SeqCst);
        team.run(&|i| {
            ran.fetch_add(1, Ordering::SeqCst);
            if i == 0 {
                let started = Instant::now();
                while ran.load(Ordering::SeqCst) < before + threads
                    && started.elapsed() < Duration::from_secs(10)
                {
                    std::thread::yield_now();
                }
            } else if fail_helper {
                panic!("helper fails");
            }
        });
    }

    #[test]
    fn sleeping_helpers_wake_for_the_next_step() {
        let mut team = Team::new(2);
        let ran = AtomicUsize::new(0);
        all_together(&mut team, &ran, false);
        std::thread::sleep(SPIN * 5);
        all_together(&mut team, &ran, false);
        assert_eq!(ran.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn a_panic_in_a_helper_reaches_the_caller_and_the_team_goes_on() {
        let mut team = Team::new(2);
        let ran = AtomicUsize::new(0);
        let caught = catch_unwind(AssertUnwindSafe(|| all_together(&mut team, &ran, true)));
        assert!(caught.is_err());
        all_together(&mut team, &ran, false);
        assert_eq!(ran.load(Ordering::SeqCst), 4);
    }
}
