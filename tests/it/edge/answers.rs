//! Every request gets an answer (issue 9, requirement 5; docs/security.md rules 34, 35): bytes
//! outside ASCII where they do no harm are let through, in a credential they are refused in the
//! endpoint's own format, in the request line or as control characters they are a 400; an
//! unserved version is a 505, TLS is refused, and oversized heads are a 431 and a close.

use super::{CC_FORM, Wire, ask, assert_closing, get, post_form, refused};
use crate::support::{TestServer, dump};
use std::time::{Duration, Instant};

/// A value with obs-text (RFC 9110 §5.5): Latin-1, a stray UTF-8 lead byte, and 0x80-0xFF.
const OBS_TEXT: &[u8] = b"caf\xe9 \xc3 \x80\x9f\xa0\xff";

/// `request` with obs-text where it says `{obs}`.
fn with_obs_text(request: Vec<u8>) -> Vec<u8> {
    let request = String::from_utf8(request).unwrap();
    let (before, after) = request.split_once("{obs}").unwrap();
    [before.as_bytes(), OBS_TEXT, after.as_bytes()].concat()
}

#[test]
fn obs_text_in_a_field_oauthd_does_not_read_gets_the_normal_answer() {
    let s = TestServer::start();
    let client = s.add_client("confidential", "client-credentials", &[]);
    let token = s.client_token(&client);
    let health = with_obs_text(get("/health", "X-Note: {obs}\r\n"));
    let reply = ask(s.addr(), &health);
    assert_eq!((reply.status, reply.body.as_str()), (200, "ok"));
    let fields = format!("Authorization: Bearer {token}\r\nUser-Agent: {{obs}}\r\n");
    let reply = ask(s.addr(), &with_obs_text(get("/api/hello", &fields)));
    assert_eq!((reply.status, reply.body.as_str()), (200, "Hello, OAuth2!"));
}

#[test]
fn obs_text_in_authorization_is_refused_in_the_endpoints_format() {
    let s = TestServer::start();
    let client = s.add_client("confidential", "client-credentials", &[]);
    let before = dump(&s);
    let hello = with_obs_text(get("/api/hello", "Authorization: Bearer {obs}\r\n"));
    let reply = ask(s.addr(), &hello);
    assert_eq!(reply.status, 401, "{reply:?}");
    let detail = reply.json()["detail"].is_string();
    assert!(detail, "DRF format: {}", reply.body);
    let challenge = reply.header("WWW-Authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer realm=\"oauthd\""),
        "{challenge}"
    );
    let form = format!("{CC_FORM}&client_id={}", client.id);
    for scheme in ["Basic ", "Bearer ", ""] {
        let fields = format!("Authorization: {scheme}{{obs}}\r\n");
        let reply = ask(
            s.addr(),
            &with_obs_text(post_form("/o/token/", &fields, &form)),
        );
        let json = reply.json();
        let described = json["error"].is_string() && json["error_description"].is_string();
        let ok = matches!(reply.status, 400 | 401) && described;
        assert!(ok, "{scheme:?}: OAuth format: {reply:?}");
    }
    assert_eq!(dump(&s), before);
}

#[test]
fn malformed_request_lines_and_fields_are_400_and_unserved_versions_505() {
    let s = TestServer::start();
    let table: [(&[u8], u16); 9] = [
        (b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /health?q=\xff HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"G\xc9T /health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-Nul: a\0b\r\n\r\n",
            400,
        ),
        (
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-Cr: a\rb\r\n\r\n",
            400,
        ),
        (b"GET /health HTTP/1.1\r\nHost: x\r\nX-\0: b\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\nHost: x\r\n\rX-Cr: b\r\n\r\n", 400),
        (b"GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET /health HTTP/1.2\r\nHost: x\r\n\r\n", 505),
    ];
    for (request, status) in table {
        let reply = refused(s.addr(), request, status);
        assert!(!reply.body.is_empty(), "{reply:?} says why");
    }
    assert_eq!(ask(s.addr(), &get("/health", "")).status, 200);
}

/// The start of a TLS 1.3 ClientHello (RFC 8446 §4.1.2) as a browser sends it to an https URL.
const CLIENT_HELLO: &[u8] = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\
    \x5b\x9c\x1e\x8a\x41\x22\x07\x93\x6f\x0d\x33\x2a\x19\x51\xa4\x8e\
    \x02\x7c\x6d\x90\x11\x45\xe2\x3b\x8a\x4f\x72\x01\x99\x3c\xd6\x10\
    \x20\x13\x02\x13\x01\x13\x03\x00\x00\x00\x0e\x00\x0c\x00\x00\x09localhost\
    \x00\x0a\x00\x04\x00\x02\x00\x1d\x00\x2b\x00\x03\x02\x03\x04";

#[test]
fn a_tls_client_hello_is_refused_within_the_header_deadline() {
    let s = TestServer::with_extra_settings("header_timeout_seconds = 1");
    let began = Instant::now();
    let mut wire = Wire::open(s.addr());
    // A TLS client sends its hello and waits for the server's.
    wire.send(CLIENT_HELLO);
    let answered = wire.replies_until_closed(Duration::from_millis(2500));
    let took = began.elapsed();
    assert!(took < Duration::from_millis(2500), "{took:?}");
    if let Some(reply) = answered.first() {
        assert_eq!(answered.len(), 1, "{answered:?}");
        assert_closing(reply, 400);
    }
    assert_eq!(ask(s.addr(), &get("/health", "")).status, 200);
}

#[test]
fn heads_over_16_kib_or_100_field_lines_are_431_and_close() {
    let s = TestServer::start();
    // 100 lines in all (Host and 99), and a head of 16 KiB: the most served.
    let lines = |n: usize| (0..n).map(|i| format!("X-{i}: y\r\n")).collect::<String>();
    let fill = |total: usize| {
        let bare = get("/health", "X-Big: \r\n").len();
        format!("X-Big: {}\r\n", "b".repeat(total - bare))
    };
    for fields in [lines(99), fill(16 * 1024)] {
        assert_eq!(ask(s.addr(), &get("/health", &fields)).body, "ok");
    }
    let over = [lines(100), lines(1000), fill(16 * 1024 + 1), fill(20_000)];
    for fields in over.into_iter().chain([lines(20) + &fill(60_000)]) {
        refused(s.addr(), &get("/health", &fields), 431);
    }
}
