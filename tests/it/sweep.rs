//! Issue 11: the server sweeps what has expired by itself, and `cleartokens --vacuum` gives
//! the space back (docs/security.md rule 36).

use crate::support::{
    ADMIN_PASSWORD, ALICE_PASSWORD, TestServer, Tutorial, access_stored, integrity_ok, rows,
    sign_in,
};
use std::time::{Duration, Instant};

/// Waits (at most 20 s) until `done` holds; the sweeper runs on its own schedule.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_server_sweeps_what_expired_and_keeps_what_lives() {
    let t = Tutorial::with_server(TestServer::with_extra_settings(
        "sweep_interval_seconds = 1\naccess_token_expire_seconds = 100\n\
         session_expire_seconds = 100",
    ));
    let s = &t.server;
    let expired = s.client_token(&t.client);
    sign_in(s, "alice", ALICE_PASSWORD);
    s.advance(100);
    let live = s.client_token(&t.client);
    let admin = sign_in(s, "admin", ADMIN_PASSWORD);
    eventually("the expired token and session are swept", || {
        rows(s, "access_tokens") == 1 && rows(s, "sessions") == 1
    });
    assert!(!access_stored(s, &expired));
    assert!(access_stored(s, &live));
    assert_eq!(
        rows(s, "grants"),
        1,
        "the expired token's grant went with it"
    );
    assert_eq!(s.with_bearer("GET", "/api/hello", &live, "").status, 200);
    let home = crate::support::home(s, &admin.cookie);
    assert_eq!(home.status, 200, "the live session still signs admin in");
    assert_eq!(rows(s, "sessions WHERE user_id IS NOT NULL"), 1);
}

#[test]
fn cleartokens_vacuum_gives_the_space_back() {
    let s = TestServer::start();
    let conn = rusqlite::Connection::open(s.db_path()).unwrap();
    conn.execute_batch(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000)
         INSERT INTO sessions (id_hash, csrf_token, created, expires)
         SELECT randomblob(32), hex(randomblob(512)), 0, 1 FROM n;
         PRAGMA wal_checkpoint(TRUNCATE);",
    )
    .unwrap();
    drop(conn);
    let size = || std::fs::metadata(s.db_path()).unwrap().len();
    let full = size();
    assert!(full > 4_000_000, "{full} bytes");

    let (code, out, err) = s.cli(&["cleartokens"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("4000 sessions"), "{out}");
    assert_eq!(rows(&s, "sessions"), 0);
    assert!(size() >= full, "SQLite keeps the freed pages");

    let (code, out, err) = s.cli(&["cleartokens", "--vacuum"], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("0 sessions") && out.contains("vacuumed"),
        "{out}"
    );
    assert!(size() < full / 10, "{} bytes after, {full} before", size());
    assert!(integrity_ok(&s));
    assert_eq!(s.request("GET", "/accounts/login/", &[], b"").status, 200);
}
