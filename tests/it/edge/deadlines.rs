//! Deadlines and the connection cap (issue 9, requirement 3; docs/security.md rule 35): a head or a
//! body that does not arrive in time gets 408 and the connection closes; an idle connection is
//! closed without a word; past max_connections a quick 503; bad values stop `serve`.

use super::{
    Fill, ONE_SECOND_DEADLINES, PROMPT, Wire, ask, assert_closing, form_head, get, post_form,
    refused,
};
use crate::support::{Reply, TestServer};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a one-second deadline may take to be enforced, at most.
const LATE: Duration = Duration::from_millis(2500);

/// Runs `client` on a new connection, on a thread of its own: it sends what it sends and
/// returns when the deadline starts; then reads until the server closes the connection.
/// Gives the answers, and how long from that start the connection took to close.
fn closing<F>(addr: &str, client: F) -> JoinHandle<(Vec<Reply>, Duration)>
where
    F: FnOnce(&mut Wire) -> Instant + Send + 'static,
{
    let addr = addr.to_owned();
    std::thread::spawn(move || {
        let mut wire = Wire::open(&addr);
        let began = client(&mut wire);
        let answered = wire.replies_until_closed(LATE);
        (answered, began.elapsed())
    })
}

/// The connection closed about a second after its start, with this one answer or none.
fn assert_closed_after_a_second(
    closed: JoinHandle<(Vec<Reply>, Duration)>,
    status: Option<u16>,
    what: &str,
) {
    let (answered, took) = closed.join().unwrap();
    let ok = Duration::from_millis(900) <= took && took <= LATE;
    assert!(ok, "{what}: closed after {took:?}");
    match status {
        None => assert!(answered.is_empty(), "{what}: {answered:?}"),
        Some(status) => {
            assert_eq!(answered.len(), 1, "{what}: {answered:?}");
            assert_closing(&answered[0], status);
            assert_eq!(answered[0].body, "The request did not arrive in time.");
        }
    }
}

#[test]
fn a_partial_head_gets_408_and_the_connection_closes_after_the_header_deadline() {
    let s = TestServer::with_extra_settings(ONE_SECOND_DEADLINES);
    let partial = closing(s.addr(), |wire| {
        wire.send(b"GET /health HTTP/1.1\r\nHo");
        Instant::now()
    });
    // However steadily a head trickles in, the deadline is for the whole of it.
    let trickled = closing(s.addr(), |wire| {
        let began = Instant::now();
        let head = get("/health", &"X-Slow: a\r\n".repeat(100));
        for byte in head {
            wire.send(&[byte]);
            if wire.fill(Instant::now() + Duration::from_millis(50)) != Fill::TimedOut {
                break;
            }
        }
        began
    });
    // On a kept-alive connection, the deadline runs from the next head's first byte.
    let second = closing(s.addr(), |wire| {
        wire.send(&get("/health", ""));
        assert_eq!(wire.reply(PROMPT).status, 200);
        wire.send(b"GET /health HTTP/1.1\r\n");
        Instant::now()
    });
    assert_closed_after_a_second(partial, Some(408), "a partial head");
    assert_closed_after_a_second(trickled, Some(408), "a trickled head");
    assert_closed_after_a_second(second, Some(408), "a second head");
}

#[test]
fn a_declared_body_that_never_comes_gets_408_after_the_body_deadline() {
    let s = TestServer::with_extra_settings(ONE_SECOND_DEADLINES);
    let missing = closing(s.addr(), |wire| {
        let request = post_form("/o/token/", "", "grant_type=client_credentials");
        wire.send(&request[..request.len() - 5]);
        Instant::now()
    });
    assert_closed_after_a_second(missing, Some(408), "the missing body");
}

#[test]
fn an_idle_connection_is_closed_without_a_word_after_the_idle_deadline() {
    let s = TestServer::with_extra_settings(ONE_SECOND_DEADLINES);
    let kept = closing(s.addr(), |wire| {
        wire.send(&get("/health", ""));
        assert_eq!(wire.reply(PROMPT).status, 200);
        Instant::now()
    });
    // A connection that never sends a byte is closed at the header deadline, as quietly.
    let silent = closing(s.addr(), |_| Instant::now());
    assert_closed_after_a_second(kept, None, "the kept-alive connection");
    assert_closed_after_a_second(silent, None, "the silent connection");
}

#[test]
fn past_max_connections_a_new_connection_gets_a_quick_503_and_is_served_once_others_close() {
    let s = TestServer::with_extra_settings("max_connections = 3");
    let health = get("/health", "");
    let held: Vec<_> = (0..3)
        .map(|_| {
            let mut wire = Wire::open(s.addr());
            wire.send(&health);
            assert_eq!(wire.reply(PROMPT).status, 200);
            wire
        })
        .collect();
    for _ in 0..3 {
        let began = Instant::now();
        let busy = refused(s.addr(), &health, 503);
        let took = began.elapsed();
        assert!(
            took < Duration::from_secs(1),
            "a quick 503, not after {took:?}"
        );
        assert_eq!(busy.header("Retry-After"), Some("1"));
    }
    drop(held);
    // The closed connections leave the table as their threads see the end; poll briefly.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let reply = ask(s.addr(), &health);
        if reply.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still refused: {reply:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let again: Vec<_> = (0..3).map(|_| ask(s.addr(), &health).status).collect();
    assert_eq!(again, [200; 3]);
}

#[test]
fn bad_edge_settings_stop_serve_at_startup_and_name_the_key() {
    let s = TestServer::start();
    let config = s.dir.path().join("bad.toml");
    for (key, value) in [
        ("header_timeout_seconds", "0"),
        ("body_timeout_seconds", "3601"),
        ("idle_timeout_seconds", "-1"),
        ("max_connections", "0"),
        ("max_connections", "65537"),
        ("trusted_proxies", "[\"10.0.0.0/33\"]"),
        ("trusted_proxies", "[\"proxy.local\"]"),
        ("log_format", "\"xml\""),
    ] {
        std::fs::write(&config, format!("{key} = {value}\n")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_oauthd"))
            .arg("--db")
            .arg(s.db_path())
            .arg("--config")
            .arg(&config)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Bounded: a server that started anyway is killed, and the test fails.
        let deadline = Instant::now() + Duration::from_secs(5);
        while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let refused = out.status.code().is_some_and(|c| c != 0) && err.contains(key);
        assert!(refused, "{key} = {value}: {:?} {err}", out.status);
    }
}

/// docs/conventions.md, convention 9: a stop ends idle connections at once and lets a request in
/// flight finish — its body still arriving — with an answer that closes the connection; then the
/// workers exit.
#[test]
fn a_stop_finishes_the_request_in_flight_and_ends_idle_connections() {
    let dir = tempfile::tempdir().unwrap();
    let server = oauthd::RunningServer::start(oauthd::ServerConfig {
        addr: "127.0.0.1:0".into(),
        threads: 2,
        db_path: dir.path().join("oauthd.sqlite3"),
        settings: oauthd::Settings::from_toml("access_log = false").unwrap(),
        clock: oauthd::Clock::system(),
    })
    .unwrap();
    let addr = server.addr().to_string();
    let mut idle = Wire::open(&addr);
    let mut busy = Wire::open(&addr);
    busy.send(form_head("/o/token/", "Content-Length: 3\r\n").as_bytes());
    busy.send(b"a=");
    // Both connections are in, the busy one's head and part of its body read.
    std::thread::sleep(Duration::from_millis(200));
    let stopper = server.stopper();
    let waiting = std::thread::spawn(move || server.wait());
    stopper.stop();
    assert_eq!(
        idle.replies_until_closed(PROMPT).len(),
        0,
        "closed unanswered"
    );
    busy.send(b"b");
    let answer = busy.reply(PROMPT);
    assert_closing(&answer, 400);
    assert_eq!(answer.json()["error"], "invalid_request", "{answer:?}");
    waiting.join().unwrap();
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "no longer listening"
    );
}
