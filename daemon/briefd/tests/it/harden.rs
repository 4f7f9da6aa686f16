//! Issue 20, "Reliability II": durability past kill -9 and power loss (every move of a user's
//! file synced, seen at the syscall level), report names that never collide with a user's file,
//! no wedge for any file, folders that are links refused, one daemon per inbox, a damaged
//! database refused, and the smaller findings. Each test drives the real binary.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::plugin_build::plugins;
use crate::support::{self, files_in, Env};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(support::test_data(&format!("harden/{name}"))).unwrap()
}

/// One syscall line of an `strace -y` log: the call and its quoted paths, or the path of the fd
/// it was given.
#[derive(Debug)]
enum Call {
    /// A rename (or a link: a report put into place), with its source and destination.
    Move { from: PathBuf, to: PathBuf, link: bool },
    /// An fsync or fdatasync of the file or folder at this path.
    Sync(PathBuf),
}

/// Parses one thread's `strace -y` log (`-ff` gives one file per thread, so no call is split
/// across lines by another thread's).
fn parse_strace(log: &str) -> Vec<Call> {
    let quoted =
        |line: &str| -> Vec<PathBuf> { line.split('"').skip(1).step_by(2).map(PathBuf::from).collect() };
    let mut calls = Vec::new();
    for line in log.lines() {
        if !line.trim_end().ends_with("= 0") {
            continue;
        }
        if line.starts_with("rename") || line.starts_with("link") {
            let paths = quoted(line);
            // renameat/linkat give dirfds; relative paths are relative to them (AT_FDCWD<dir>).
            let dirs: Vec<PathBuf> = line
                .split("AT_FDCWD<")
                .skip(1)
                .filter_map(|rest| rest.split('>').next())
                .map(PathBuf::from)
                .collect();
            if let [from, to] = &paths[..] {
                let resolve = |p: &PathBuf, i: usize| match dirs.get(i) {
                    Some(dir) if p.is_relative() => dir.join(p),
                    _ => p.clone(),
                };
                calls.push(Call::Move {
                    from: resolve(from, 0),
                    to: resolve(to, 1),
                    link: line.starts_with("link"),
                });
            }
        } else if line.starts_with("fsync(") || line.starts_with("fdatasync(") {
            if let Some(path) = line.split_once('<').and_then(|(_, rest)| rest.split_once(">)")) {
                calls.push(Call::Sync(PathBuf::from(path.0)));
            }
        }
    }
    calls
}

/// Issue 20, finding 1, bar 2: under `strace`, every rename that moves a user's file (the claim
/// into the processing folder, archive, failed, a report put into place, a briefing replaced) is
/// followed by an fsync of the destination's folder before the thread's next move, a claim also
/// by one of the inbox, and the move of a finished file comes after an fsync of the database's
/// WAL (the outcome's commit). Fails, not skips, without strace.
#[test]
fn every_move_of_a_users_file_is_synced_before_the_next_state_change() {
    let env = Env::new();
    let root = env.root().canonicalize().unwrap();
    let logs = root.join("strace");
    std::fs::create_dir(&logs).unwrap();
    let mut cmd = Command::new("strace");
    cmd.args(["-ff", "-y", "-e", "trace=rename,renameat,renameat2,link,linkat,fsync,fdatasync,openat", "-o"])
        .arg(logs.join("trace"))
        .arg(env!("CARGO_BIN_EXE_briefd"))
        .arg("--config")
        .arg(root.join("config.yaml"))
        .arg("run")
        .env("BRIEFD_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut strace = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            panic!("strace is needed by this test and cannot run ({e}): install it (apt-get install strace)")
        }
    };
    let inbox = root.join("inbox");
    env.wait_until("the daemon started", Duration::from_secs(30), || {
        std::fs::read_to_string(root.join("state/briefd.db.lock")).is_ok_and(|pid| !pid.trim().is_empty())
    });
    for i in 0..3 {
        env.drop_file(&format!("article-{i}.txt"), support::article_text(200 + i).as_bytes());
    }
    env.drop_file("picture.txt", &data("binary.png"));
    env.wait_until("three archived, one failed", Duration::from_secs(60), || {
        env.archived().len() == 3 && files_in(&env.failed()).len() == 1
    });
    env.wait_for_briefing(|md| support::sources_in(md) == 3, Duration::from_secs(30));
    let pid: i32 =
        std::fs::read_to_string(root.join("state/briefd.db.lock")).unwrap().trim().parse().unwrap();
    // SAFETY: signalling the briefd this test started (under strace).
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = strace.wait().unwrap();
    assert!(status.success(), "briefd under strace exited with {status}");

    let (mut claims, mut finished, mut reports, mut briefings) = (0, 0, 0, 0);
    for entry in std::fs::read_dir(&logs).unwrap().flatten() {
        let calls = parse_strace(&std::fs::read_to_string(entry.path()).unwrap());
        for (i, call) in calls.iter().enumerate() {
            let Call::Move { from, to, .. } = call else { continue };
            let to_dir = to.parent().unwrap();
            let from_dir = from.parent().unwrap();
            let until_next_move =
                calls[i + 1..].iter().take_while(|c| !matches!(c, Call::Move { .. })).collect::<Vec<_>>();
            let synced = |dir: &Path| until_next_move.iter().any(|c| matches!(c, Call::Sync(p) if p == dir));
            let users = from_dir == inbox
                || to.starts_with(root.join("archive"))
                || to.starts_with(root.join("failed"));
            let briefing = to.starts_with(root.join("briefings"));
            if !users && !briefing {
                continue;
            }
            assert!(
                synced(to_dir),
                "{} -> {}: its folder was not fsynced before the next move",
                from.display(),
                to.display()
            );
            if from_dir == inbox {
                claims += 1;
                assert!(synced(from_dir), "claim of {}: the inbox was not fsynced", from.display());
            } else if to.to_string_lossy().ends_with(".error.txt") {
                reports += 1;
            } else if briefing {
                briefings += 1;
            } else {
                finished += 1;
                assert!(synced(from_dir), "{}: the processing folder was not fsynced", from.display());
                // The outcome was committed, and its WAL synced, after the previous move of a file
                // (a report linked into place in between commits nothing).
                let since_previous =
                    calls[..i].iter().rev().take_while(|c| !matches!(c, Call::Move { link: false, .. }));
                let wal_synced = since_previous
                    .filter(|c| matches!(c, Call::Sync(p) if p.to_string_lossy().ends_with("briefd.db-wal")))
                    .count();
                assert!(wal_synced > 0, "{}: moved without a synced commit before it", to.display());
            }
        }
    }
    assert_eq!((claims, finished, reports), (4, 4, 1), "moves seen in the trace");
    assert!(briefings >= 3, "briefing files replaced: {briefings}");
}

/// Issue 20, finding 2: a failed binary file named `note.txt.error.txt`, then an empty
/// `note.txt`: the second's report used to overwrite the first file. Both files and both
/// reports are kept, and the user's bytes are intact.
#[test]
fn a_report_never_overwrites_a_users_file() {
    let env = Env::new();
    let mut daemon = env.start();
    env.drop_file("note.txt.error.txt", &data("binary.png"));
    env.wait_until("the binary file failed", Duration::from_secs(20), || {
        env.failed().join("note.txt.error.txt.error.txt").exists()
    });
    env.drop_file("note.txt", &data("empty.txt"));
    env.wait_until("note.txt failed", Duration::from_secs(20), || {
        std::fs::read_dir(env.failed()).unwrap().count() == 4
    });
    assert_eq!(std::fs::read(env.failed().join("note.txt.error.txt")).unwrap(), data("binary.png"));
    let mut names: Vec<String> = std::fs::read_dir(env.failed())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    names.sort();
    let moved =
        names.iter().find(|n| n.starts_with("note.") && n.ends_with(".txt") && !n.contains("error")).unwrap();
    let report = std::fs::read_to_string(env.failed().join(format!("{moved}.error.txt"))).unwrap();
    assert!(report.contains("file:     note.txt\n"), "{report}");
    assert!(std::fs::read(env.failed().join(moved)).unwrap().is_empty());
    assert!(daemon.stop_gracefully().success());
}

/// Issue 20, finding 2: a failing file whose name is 250 bytes (its report name would be over
/// 255) used to wedge the daemon; a 254-byte name archived twice in one day too (the dedup
/// suffix). Both are shortened with a hash, and the files behind them go through.
#[test]
fn long_names_fail_or_archive_without_wedging_the_daemon() {
    let env = Env::new();
    let mut daemon = env.start();
    let failing = format!("{}.txt", "f".repeat(246));
    let archived = format!("{}.txt", "a".repeat(250));
    assert_eq!((failing.len(), archived.len()), (250, 254));
    drop_long(&env, &failing, &data("binary.png"));
    drop_long(&env, &archived, support::article_text(300).as_bytes());
    env.wait_until("the first two handled", Duration::from_secs(30), || {
        files_in(&env.failed()).len() == 1 && env.archived().len() == 1
    });
    drop_long(&env, &archived, support::article_text(301).as_bytes());
    env.drop_file("after.txt", support::article_text(302).as_bytes());
    env.wait_until("the second long name and the next file archived", Duration::from_secs(30), || {
        env.archived().len() == 3
    });
    let failed: Vec<PathBuf> = std::fs::read_dir(env.failed()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    for path in failed.iter().chain(env.archived().iter()) {
        assert!(path.file_name().unwrap().len() <= 255);
    }
    let report = failed.iter().find(|p| p.to_string_lossy().ends_with(".error.txt")).unwrap();
    assert!(std::fs::read_to_string(report).unwrap().contains(&failing));
    assert!(waiting_in_processing(&env).is_empty());
    assert!(daemon.stop_gracefully().success());
}

/// `Env::drop_file` for names too long for its `.drop-NAME` aside.
fn drop_long(env: &Env, name: &str, content: &[u8]) {
    let aside = env.root().join(".drop-long");
    std::fs::write(&aside, content).unwrap();
    std::fs::rename(&aside, env.inbox().join(name)).unwrap();
}

fn waiting_in_processing(env: &Env) -> Vec<PathBuf> {
    files_in(&env.inbox().join(".processing"))
}

/// Issue 20, finding 4: `inbox/.processing` a link to another folder holding files: the daemon
/// refuses to start, naming it, and the target's files are untouched. The same for `archive`.
#[test]
fn a_processing_folder_that_is_a_link_is_refused() {
    let env = Env::new();
    let elsewhere = env.root().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("0000000000000001-1-0_private.txt"), support::article_text(310)).unwrap();
    std::os::unix::fs::symlink(&elsewhere, env.inbox().join(".processing")).unwrap();
    let out = env.briefd_fails(&["run"]);
    assert!(out.contains(".processing is a symbolic link"), "{out}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 1);
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("0000000000000001-1-0_private.txt")).unwrap(),
        support::article_text(310)
    );
    std::fs::remove_file(env.inbox().join(".processing")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, env.root().join("archive")).unwrap();
    let out = env.briefd_fails(&["run"]);
    assert!(out.contains("archive is a symbolic link"), "{out}");
    assert!(!env.root().join("state/briefd.db").exists(), "nothing is started before the check");
}

/// Issue 20, finding 5: a second config (its own database and folders) on a running daemon's
/// inbox is refused, naming the inbox and the first daemon's pid.
#[test]
fn a_second_config_on_the_same_inbox_is_refused() {
    let env = Env::new();
    let mut daemon = env.start();
    env.wait_until("the first daemon holds the inbox", Duration::from_secs(20), || {
        env.inbox().join(".processing/.lock").exists()
    });
    std::fs::write(env.root().join("second.yaml"), data("second_config.yaml")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_briefd"))
        .arg("--config")
        .arg(env.root().join("second.yaml"))
        .arg("run")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains(&format!("(pid {})", daemon.pid())), "{text}");
    assert!(text.contains(&format!("from the inbox {}", env.inbox().display())), "{text}");
    assert!(daemon.is_running());
    assert!(daemon.stop_gracefully().success());
}

/// Issue 20, finding 6: an empty `state/briefd.db` is refused with a clear message and left as
/// it is, by `run` and by `status`.
#[test]
fn an_empty_database_is_refused_not_replaced() {
    let env = Env::new();
    std::fs::create_dir(env.root().join("state")).unwrap();
    std::fs::write(env.root().join("state/briefd.db"), b"").unwrap();
    for command in ["run", "status"] {
        let out = env.briefd_fails(&[command]);
        assert!(out.contains("briefd.db is empty (0 bytes)"), "{command}: {out}");
        assert!(out.contains("it is not replaced"), "{command}: {out}");
    }
    assert_eq!(std::fs::metadata(env.root().join("state/briefd.db")).unwrap().len(), 0);
}

/// Issue 20, finding 7: under umask 022 the briefing files are 0644 (they were 0600).
#[test]
fn briefing_files_follow_the_umask() {
    let env = Env::new();
    let mut daemon = env.start_with(|cmd| {
        // SAFETY: umask is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::umask(0o022);
                Ok(())
            });
        }
    });
    env.drop_file("news.txt", support::article_text(320).as_bytes());
    env.wait_for_briefing(|md| md.contains("number 320"), Duration::from_secs(20));
    for ext in ["md", "json", "html"] {
        let path = env.briefings().join(format!("{}.{ext}", support::today_utc()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{}", path.display());
    }
    assert!(daemon.stop_gracefully().success());
}

/// Issue 20, finding 7: a `.briefing-*` temporary file a kill -9 left mid-write is removed at
/// the next start.
#[test]
fn a_briefing_temp_left_by_a_kill_is_removed_at_start() {
    let env = Env::new();
    std::fs::create_dir_all(env.briefings()).unwrap();
    let stale = env.briefings().join(".briefing-Ab12Cd");
    std::fs::write(&stale, b"half a briefing").unwrap();
    let mut daemon = env.start();
    env.wait_until("today's briefing written at start", Duration::from_secs(20), || {
        env.briefings().join(format!("{}.md", support::today_utc())).exists()
    });
    assert!(!stale.exists());
    assert!(daemon.stop_gracefully().success());
}

/// Issue 20, finding 7: `status` works on a state folder it cannot write. As root every folder
/// is writable, so the command runs as `nobody` on a root-owned folder (as any user, on a folder
/// of mode 0555).
#[test]
fn status_reads_a_read_only_state_folder() {
    let env = Env::new();
    let mut daemon = env.start();
    env.drop_file("news.txt", support::article_text(330).as_bytes());
    env.wait_until("archived", Duration::from_secs(20), || env.archived().len() == 1);
    assert!(daemon.stop_gracefully().success());
    let state = env.root().join("state");
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    for dir in [env.root(), env.root().join("inbox").as_path()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_briefd"));
    cmd.arg("--config").arg(env.root().join("config.yaml")).arg("status");
    if root {
        cmd.uid(65534).gid(65534);
    }
    let out = cmd.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if !root {
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert!(out.status.success(), "{text}");
    assert!(text.contains("done"), "{text}");
}

/// An environment on `harden/hang.yaml`: a stage holds each article that says "please hang" for
/// three seconds, so a test can act on the file while it is in flight.
fn hanging_env() -> Env {
    let env = Env::new();
    std::fs::write(env.root().join("config.yaml"), data("hang.yaml")).unwrap();
    std::fs::create_dir(env.root().join("plugins")).unwrap();
    let library = &plugins().misbehaving;
    std::fs::copy(library, env.root().join("plugins").join(library.file_name().unwrap())).unwrap();
    env
}

/// Drops `in_flight.txt` and returns its path in the processing folder once it is there.
fn drop_and_find_in_flight(env: &Env) -> PathBuf {
    env.drop_file("in_flight.txt", &data("in_flight.txt"));
    let mut found = None;
    env.wait_until("the file in flight", Duration::from_secs(20), || {
        found = waiting_in_processing(env).into_iter().next();
        found.is_some()
    });
    found.unwrap()
}

/// Issue 20, finding 3: a file removed from the processing folder while in flight is recorded
/// as failed (lost) with a reason, not retried for ever; the next file goes through.
#[test]
fn a_file_removed_while_in_flight_is_recorded_as_lost() {
    let env = hanging_env();
    let mut daemon = env.start();
    let in_flight = drop_and_find_in_flight(&env);
    std::fs::remove_file(&in_flight).unwrap();
    env.wait_until("the lost file's report", Duration::from_secs(30), || {
        env.failed().join("in_flight.txt.error.txt").exists()
    });
    let report = std::fs::read_to_string(env.failed().join("in_flight.txt.error.txt")).unwrap();
    assert!(report.contains("disappeared from the processing folder"), "{report}");
    env.drop_file("next.txt", support::article_text(340).as_bytes());
    env.wait_until("the next file archived", Duration::from_secs(30), || env.archived().len() == 1);
    let status = env.briefd(&["status"]);
    assert!(status.contains("in_flight.txt"), "{status}");
    assert!(status.contains("0 being processed"), "{status}");
    assert!(daemon.stop_gracefully().success());
}

/// Issue 20, finding 7: text appended after the claim (a writer that kept the file open) is
/// archived with the file, and the log and `explain` say the file changed after it was read.
#[test]
fn a_file_changed_after_it_was_read_is_noted() {
    for change in ["append", "truncate"] {
        let env = hanging_env();
        let mut daemon = env.start();
        let in_flight = drop_and_find_in_flight(&env);
        // The stage holds the article for three seconds: it has been read by now.
        std::thread::sleep(Duration::from_millis(800));
        let file = std::fs::OpenOptions::new().append(true).open(&in_flight).unwrap();
        match change {
            "append" => std::io::Write::write_all(&mut &file, &data("appended.txt")).unwrap(),
            _ => file.set_len(0).unwrap(),
        }
        env.wait_until("archived", Duration::from_secs(30), || env.archived().len() == 1);
        let archived = std::fs::read(&env.archived()[0]).unwrap();
        let expected_len = match change {
            "append" => data("in_flight.txt").len() + data("appended.txt").len(),
            _ => 0,
        };
        assert_eq!(archived.len(), expected_len, "{change}");
        env.wait_until("the change logged", Duration::from_secs(10), || {
            env.log().contains("file changed after it was read")
        });
        let explain = env.briefd(&["explain", "in_flight.txt"]);
        assert!(explain.contains("note: the file changed after briefd read it"), "{change}: {explain}");
        env.wait_for_briefing(|md| md.contains("Harbour crane"), Duration::from_secs(20));
        assert!(daemon.stop_gracefully().success());
    }
}

/// Issue 20, finding 3: a file that cannot be finished for a reason of its own (here its day's
/// archive folder is taken by a file) goes to failed/ after bounded retries, with the reason,
/// instead of holding up the daemon for ever.
#[test]
fn a_file_that_cannot_be_finished_fails_after_bounded_retries() {
    let env = Env::new();
    std::fs::create_dir_all(env.root().join("archive")).unwrap();
    std::fs::write(env.root().join("archive").join(support::today_utc()), b"in the way").unwrap();
    let mut daemon = env.start();
    env.drop_file("stuck.txt", support::article_text(350).as_bytes());
    // The report is written first, then the file moved.
    env.wait_until("stuck.txt failed", Duration::from_secs(40), || {
        env.failed().join("stuck.txt").exists() && waiting_in_processing(&env).is_empty()
    });
    let report = std::fs::read_to_string(env.failed().join("stuck.txt.error.txt")).unwrap();
    assert!(report.contains("could not finish this file after 3 tries"), "{report}");
    assert!(env.failed().join("stuck.txt").exists());
    assert!(waiting_in_processing(&env).is_empty());
    // Two failed tries logged; the third one's error is the reason recorded.
    assert_eq!(env.log().matches("will be retried").count(), 2, "{}", env.log());
    assert!(daemon.stop_gracefully().success());
}

/// Issue 20, finding 3, across file systems for real: `archive/` and `failed/` on a tmpfs
/// (`/dev/shm`), and a dropped folder, a symlink, a fifo and a 254-byte name in the inbox. The
/// folder moves with what it holds, the link moves as a link (its target untouched), the fifo as
/// a fifo (never opened), the long name is archived under a shortened name, and the file after
/// them all goes through: nothing wedges.
#[test]
fn moves_to_another_file_system_take_every_kind_of_entry() {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let env = Env::new();
    let other = tempfile::Builder::new()
        .prefix("briefd-other-fs-")
        .tempdir_in("/dev/shm")
        .expect("this test puts archive/ and failed/ on /dev/shm, a tmpfs; the machine has none");
    let device = |p: &Path| std::fs::metadata(p).unwrap().dev();
    assert_ne!(device(other.path()), device(env.root()), "/dev/shm must be another file system here");
    let config = env.root().join("config.yaml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "archive: {}\nfailed: {}\n",
        other.path().join("archive").display(),
        other.path().join("failed").display()
    ));
    std::fs::write(&config, text).unwrap();
    let outside = env.root().join("outside.txt");
    std::fs::write(&outside, support::article_text(310)).unwrap();

    let mut daemon = env.start();
    let folder = env.root().join(".aside-folder");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("inner.txt"), support::article_text(311)).unwrap();
    std::fs::rename(&folder, env.inbox().join("a folder")).unwrap();
    std::os::unix::fs::symlink(&outside, env.inbox().join("link.txt")).unwrap();
    let fifo = std::ffi::CString::new(env.inbox().join("pipe.txt").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    drop_long(&env, &format!("{}.txt", "l".repeat(250)), support::article_text(312).as_bytes());
    env.drop_file("after.txt", support::article_text(313).as_bytes());

    let failed_dir = other.path().join("failed");
    let entries = |dir: &Path| -> Vec<(String, std::fs::FileType)> {
        std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| (e.file_name().to_string_lossy().into_owned(), e.file_type().unwrap()))
                    .filter(|(n, _)| !n.starts_with('.') && !n.ends_with(".error.txt"))
                    .collect()
            })
            .unwrap_or_default()
    };
    env.wait_until("three entries failed and two files archived", Duration::from_secs(60), || {
        entries(&failed_dir).len() == 3 && files_in(&other.path().join("archive")).len() == 2
    });
    assert!(daemon.stop_gracefully().success());
    let failed = entries(&failed_dir);
    let kind = |name: &str| failed.iter().find(|(n, _)| n.starts_with(name)).map(|(_, t)| *t);
    assert!(kind("a folder").is_some_and(|t| t.is_dir()), "{failed:?}");
    assert!(failed_dir.join("a folder/inner.txt").is_file(), "the folder moved with what it holds");
    assert!(kind("link").is_some_and(|t| t.is_symlink()), "{failed:?}");
    assert!(kind("pipe").is_some_and(|t| t.is_fifo()), "{failed:?}");
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        support::article_text(310),
        "link target untouched"
    );
    let reports = std::fs::read_dir(&failed_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".error.txt"))
        .count();
    assert_eq!(reports, 3, "one report per failed entry");
    for path in files_in(&other.path().join("archive")) {
        assert!(path.file_name().unwrap().len() <= 255);
    }
    assert!(files_in(&env.inbox()).is_empty() && waiting_in_processing(&env).is_empty());
}
