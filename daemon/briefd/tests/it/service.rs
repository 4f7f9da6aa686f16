//! Issue 19, bar 1: under a service manager. The test owns the notify socket (`NOTIFY_SOCKET`)
//! and asks for watchdog pings (`WATCHDOG_USEC`), as systemd does for `Type=notify` with
//! `WatchdogSec=`; the daemon says READY once it watches the inbox, pings, and says STOPPING when
//! told to stop.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use crate::support::Env;

/// Every message received within `limit`, until `done` holds for what was received so far.
fn receive_until(
    socket: &UnixDatagram,
    limit: Duration,
    mut done: impl FnMut(&[String]) -> bool,
) -> Vec<String> {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit && !done(&got) {
        if let Ok(n) = socket.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    got
}

#[test]
fn the_daemon_says_ready_pings_the_watchdog_and_says_stopping() {
    let env = Env::new();
    let path = env.root().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut daemon = env.start_with(|cmd| {
        cmd.env("NOTIFY_SOCKET", &path).env("WATCHDOG_USEC", "400000").env_remove("WATCHDOG_PID");
    });
    let count = |got: &[String], what: &str| got.iter().filter(|m| m.lines().any(|l| l == what)).count();
    let got = receive_until(&socket, Duration::from_secs(30), |got| {
        count(got, "READY=1") == 1 && count(got, "WATCHDOG=1") >= 3
    });
    assert_eq!(count(&got, "READY=1"), 1, "{got:?}\n{}", env.log());
    assert!(count(&got, "WATCHDOG=1") >= 3, "{got:?}");
    // Files are taken once READY was said.
    env.drop_file(
        "a.txt",
        &std::fs::read(crate::support::shared_sample("000_9df954c550cd2be9.txt")).unwrap(),
    );
    env.wait_until("the file archived", Duration::from_secs(20), || env.archived().len() == 1);
    daemon.stop_gracefully();
    let got = receive_until(&socket, Duration::from_secs(2), |got| count(got, "STOPPING=1") == 1);
    assert_eq!(count(&got, "STOPPING=1"), 1, "{got:?}");
}

/// The unit file is valid where systemd is installed to check it.
#[test]
fn the_unit_file_is_a_notify_service_with_a_watchdog_and_a_sandbox() {
    let unit = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../contrib/briefd.service"))
        .unwrap();
    for line in [
        "Type=notify",
        "WatchdogSec=",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=",
        "PrivateNetwork=yes",
    ] {
        assert!(unit.lines().any(|l| l.starts_with(line)), "{line} missing");
    }
    match std::process::Command::new("systemd-analyze").arg("--version").output() {
        Ok(out) if out.status.success() => {
            let out = std::process::Command::new("systemd-analyze")
                .args(["verify", "--man=no"])
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../contrib/briefd.service"))
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stderr);
            // The binary path does not exist on a build machine; everything else must pass.
            let problems: Vec<&str> = text.lines().filter(|l| !l.contains("/usr/local/bin/briefd")).collect();
            assert!(problems.is_empty(), "{text}");
        }
        _ => eprintln!(
            "systemd-analyze is not installed: the unit file's keys were checked, not verified by systemd"
        ),
    }
}
