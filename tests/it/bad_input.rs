//! Bad input (docs/security.md rules 34, 35): never a 5xx, never a state change, never a dead
//! worker; each error in its endpoint's format (OAuth JSON on /o/*, DRF `{"detail": ...}` on the
//! API).

use crate::support::{Reply, TUTORIAL_SETTINGS, TestServer, Tutorial, field};
use crate::support::{Serving, dump, exchange, send_on};
use serde_json::json;
use std::net::TcpStream;
use std::time::{Duration, Instant};

const OAUTH_PATHS: [&str; 3] = ["/o/token/", "/o/revoke_token/", "/o/introspect/"];
const FORM: &str = "application/x-www-form-urlencoded";
const HELLO: &[u8] = b"GET /api/hello HTTP/1.1\r\nHost: x\r\n\r\n";
/// Claims over the 64 KiB cap: just over, and far over.
const CLAIMS: [&str; 2] = ["65537", "100000000"];

/// The tutorial's world with an admin token, and the database as it stands.
fn world(settings: &str) -> (Tutorial, String, String) {
    let t = Tutorial::with_server(TestServer::with_settings(settings));
    let token = field(&t.admin_tokens(""), "access_token");
    let before = dump(&t.server);
    (t, token, before)
}

/// The state is unchanged and the workers still issue tokens and read the API.
fn assert_unchanged_and_serving(t: &Tutorial, token: &str, before: &str) {
    assert_eq!(dump(&t.server), before, "bad input changed the database");
    assert_eq!(t.admin_tokens("&scope=read")["scope"], "read");
    assert_eq!(hello(&t.server, token).status, 200);
}

fn hello(s: &TestServer, token: &str) -> Reply {
    s.with_bearer("GET", "/api/hello", token, "")
}

fn assert_oauth_error(reply: &Reply, status: u16, error: &str) {
    let described = reply.json()["error_description"].is_string();
    let ok = reply.status == status && reply.error() == error;
    assert!(ok && described, "{reply:?}");
}

fn assert_api_error(reply: &Reply, status: u16) {
    let detail = reply.json()["detail"].is_string();
    assert!(reply.status == status && detail, "DRF format: {reply:?}");
}

/// `answer` is an HTTP/1.1 response with this status.
fn assert_status(answer: &str, status: u16, context: &str) {
    let ok = answer.starts_with(&format!("HTTP/1.1 {status} "));
    assert!(ok, "{context}: expected {status}, got {answer:?}");
}

fn post(s: &TestServer, path: &str, mime: &str, token: Option<&str>, body: &[u8]) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", mime)];
    headers.extend(auth.as_deref().map(|a| ("Authorization", a)));
    s.request("POST", path, &headers, body)
}

#[test]
fn a_wrong_method_on_an_oauth_endpoint_is_405_allow_post() {
    let (t, token, before) = world(TUTORIAL_SETTINGS);
    for path in OAUTH_PATHS {
        for method in ["GET", "PUT", "DELETE"] {
            let reply = t.server.request(method, path, &[], b"");
            let allow = reply.header("Allow");
            assert_eq!((reply.status, allow), (405, Some("POST")), "{path}");
            assert!(reply.json().is_object(), "{}", reply.body);
        }
    }
    assert_unchanged_and_serving(&t, &token, &before);
}

#[test]
fn an_unknown_path_is_404_not_found() {
    let (t, token, before) = world(TUTORIAL_SETTINGS);
    let not_found = json!({"detail": "Not found."});
    let ids = ["0", "abc", "1/2", "99999999999999999999"];
    let items = ids.map(|id| format!("/users/{id}/"));
    let others = ["/nope", "/accounts/", "/o/token", "/users"].map(String::from);
    for path in items.iter().chain(&others) {
        let reply = t.server.with_bearer("GET", path, &token, "");
        assert_eq!((reply.status, reply.json()), (404, not_found.clone()));
    }
    assert_unchanged_and_serving(&t, &token, &before);
}

#[test]
fn a_browser_asking_for_an_unknown_page_gets_an_html_404_and_api_clients_keep_json() {
    let (t, token, before) = world(TUTORIAL_SETTINGS);
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    for path in ["/nope", "/o/nope/", "/users/abc/", "/accounts/"] {
        let page = t.server.request("GET", path, &[("Accept", browser)], b"");
        assert_eq!(page.status, 404, "{path}");
        let content_type = page.header("Content-Type").unwrap_or_default();
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        assert!(
            page.body.contains("<h1>Not found</h1>") && page.body.contains("/static/oauthd.css"),
            "the site's own page: {}",
            page.body
        );
        for accept in ["application/json", "*/*", "text/html;q=0"] {
            let reply = t.server.request("GET", path, &[("Accept", accept)], b"");
            let body = (reply.status, reply.json());
            assert_eq!(
                body,
                (404, json!({"detail": "Not found."})),
                "{path} {accept}"
            );
        }
    }
    assert_unchanged_and_serving(&t, &token, &before);
}

#[test]
fn broken_form_bodies_are_invalid_request_in_each_endpoints_format() {
    let (t, token, before) = world(TUTORIAL_SETTINGS);
    let (s, basic) = (&t.server, Some(t.client.basic()));
    let admin = Some(token.as_str());
    let bad_utf8 = ["grant_type=password&password=%FF", "token=%C3&x=%BC"];
    for body in bad_utf8.iter().chain(&["grant_type=a&grant_type=b"]) {
        for path in OAUTH_PATHS {
            let reply = s.post_form(path, body, basic);
            assert_oauth_error(&reply, 400, "invalid_request");
        }
        let user = format!("username=zed&{body}");
        let reply = post(s, "/users/", FORM, admin, user.as_bytes());
        assert_api_error(&reply, 400);
    }
    let text = "text/plain";
    for path in OAUTH_PATHS {
        let reply = post(s, path, text, None, b"grant_type=password");
        assert_oauth_error(&reply, 415, "invalid_request");
    }
    let reply = post(s, "/users/", text, admin, b"username=zed&password=p");
    assert_api_error(&reply, 415);
    assert_unchanged_and_serving(&t, &token, &before);
}

#[test]
fn a_broken_json_body_is_invalid_request_when_json_is_accepted() {
    let settings = format!("{TUTORIAL_SETTINGS}\naccept_json_bodies = true\n");
    let (t, token, before) = world(&settings);
    let (s, json) = (&t.server, "application/json");
    let texts = ["{\"grant_type\":", "{\"a\":1}", "[1]", "null"];
    let not_utf8: &[u8] = b"\xff{}";
    for body in texts.map(str::as_bytes).into_iter().chain([not_utf8]) {
        for path in OAUTH_PATHS {
            let reply = post(s, path, json, None, body);
            assert_oauth_error(&reply, 400, "invalid_request");
        }
        assert_api_error(&post(s, "/users/", json, Some(&token), body), 400);
    }
    assert_unchanged_and_serving(&t, &token, &before);
    let (id, secret) = t.client.basic();
    let good =
        json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret});
    let reply = post(s, "/o/token/", json, None, good.to_string().as_bytes());
    assert_eq!(reply.status, 200, "JSON itself is accepted: {}", reply.body);
}

#[test]
fn an_oversized_body_is_413() {
    let (t, token, before) = world(TUTORIAL_SETTINGS);
    let s = &t.server;
    let big = "a".repeat(70_000);
    let body = format!("grant_type=password&username=admin&password={big}");
    for path in OAUTH_PATHS {
        let reply = s.post_form(path, &body, Some(t.client.basic()));
        assert_oauth_error(&reply, 413, "invalid_request");
    }
    let reply = post(s, "/users/", FORM, Some(&token), body.as_bytes());
    assert_api_error(&reply, 413);
    let head = format!("POST /o/token/ HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}");
    let chunks = format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len());
    let chunked = format!("{head}\r\nTransfer-Encoding: chunked\r\n\r\n{chunks}");
    assert_status(&s.raw(chunked.as_bytes()), 413, "a chunked body");
    assert_unchanged_and_serving(&t, &token, &before);
}

/// A token request whose Content-Length claims `length` bytes but which sends only a few.
fn claiming(length: &str) -> Vec<u8> {
    let head = format!("POST /o/token/ HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}");
    let body = "grant_type=password";
    format!("{head}\r\nContent-Length: {length}\r\n\r\n{body}").into_bytes()
}

#[test]
fn a_claimed_huge_length_is_refused_without_waiting_for_the_body() {
    let (t, token, before) = world(TUTORIAL_SETTINGS);
    let addr = t.server.addr();
    let end = r#""error_description":"The request body is larger than 65536 bytes."}"#;
    for claim in CLAIMS {
        let started = Instant::now();
        assert_status(&t.server.raw(&claiming(claim)), 413, claim);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(5), "{claim}: took {took:?}");
        let answer = exchange(addr, &claiming(claim), 2);
        assert!(answer.complete && answer.text.ends_with(end), "{answer:?}");
        let closes = answer.text.contains("\r\nConnection: close\r\n");
        assert!(closes, "the unread body ends the connection: {answer:?}");
    }
    assert_unchanged_and_serving(&t, &token, &before);
}

#[test]
fn clients_that_claim_a_huge_body_and_stall_do_not_pin_the_workers() {
    let (t, token, before) = world(TUTORIAL_SETTINGS);
    let addr = t.server.addr();
    // Two stalled clients per kind of claim: as many as TestServer has workers.
    let mut stalled = Vec::new();
    for claim in [CLAIMS, CLAIMS].concat() {
        let mut stream = TcpStream::connect(addr).unwrap();
        let answer = send_on(&mut stream, &claiming(claim), 5, true);
        assert_status(&answer.text, 413, claim);
        stalled.push(stream);
    }
    assert_status(&exchange(addr, HELLO, 5).text, 401, "meanwhile");
    drop(stalled);
    assert_unchanged_and_serving(&t, &token, &before);
}

/// `oauthd serve --threads 1` in a new directory with at most `files` open descriptors: a
/// process of its own, so that a crash cannot take the test binary with it.
fn serve_limited(dir: &tempfile::TempDir, files: u32) -> Serving {
    let db = dir.path().join("oauthd.sqlite3");
    Serving::start_limited(&db, &["--threads", "1"], files)
}

#[test]
fn absurd_content_lengths_kill_neither_the_server_nor_its_worker() {
    for length in ["1000000000000000000".into(), usize::MAX.to_string()] {
        let dir = tempfile::tempdir().unwrap();
        let mut serving = serve_limited(&dir, 1024);
        let answer = exchange(&serving.addr, &claiming(&length), 5);
        assert_status(&answer.text, 413, &length);
        let hello = exchange(&serving.addr, HELLO, 5);
        assert!(serving.is_running(), "{length} killed the server");
        assert_status(&hello.text, 401, &format!("after Content-Length {length}"));
    }
}

/// A refused claim must not keep its connection or a thread (issue 9, requirement 4):
/// leaked sockets would run out of descriptors. 300 of them under a 256-descriptor limit
/// leave the server accepting.
#[test]
fn refused_claims_release_their_connections() {
    let dir = tempfile::tempdir().unwrap();
    let mut serving = serve_limited(&dir, 256);
    for round in 0..300 {
        let Ok(mut stream) = TcpStream::connect(&serving.addr) else {
            panic!("round {round}: the server stopped accepting connections");
        };
        let answer = send_on(&mut stream, &claiming("1000000000000000000"), 5, true);
        assert_status(&answer.text, 413, &format!("round {round}"));
    }
    let hello = exchange(&serving.addr, HELLO, 5);
    assert!(serving.is_running());
    assert_status(&hello.text, 401, "after 300 refused claims");
}

#[test]
fn broken_basic_credentials_are_invalid_client() {
    use base64::Engine;
    let (t, token, before) = world(TUTORIAL_SETTINGS);
    let no_colon = base64::engine::general_purpose::STANDARD.encode(&t.client.id);
    let no_colon = format!("Basic {no_colon}");
    let body = format!("grant_type=client_credentials&token={token}");
    for auth in ["Basic !!!", &no_colon, "Basic /w==", "Basic "] {
        for path in OAUTH_PATHS {
            let headers = [("Content-Type", FORM), ("Authorization", auth)];
            let reply = t.server.request("POST", path, &headers, body.as_bytes());
            assert_oauth_error(&reply, 401, "invalid_client");
            let challenge = reply.header("WWW-Authenticate");
            assert_eq!(challenge, Some("Basic realm=\"oauthd\""), "{auth}");
        }
    }
    assert_unchanged_and_serving(&t, &token, &before);
}

#[test]
fn a_garbage_bearer_on_introspect_is_401_and_reveals_nothing() {
    let (t, token, before) = world(TUTORIAL_SETTINGS);
    let form = format!("token={token}");
    for bearer in ["a b", "garbage", "\"quoted\"", "=abc"] {
        let s = &t.server;
        let reply = s.with_bearer("POST", "/o/introspect/", bearer, &form);
        let challenge = reply.header("WWW-Authenticate").unwrap_or_default();
        let invalid = challenge.contains("error=\"invalid_token\"");
        assert!(reply.status == 401 && invalid, "{bearer}: {reply:?}");
        assert!(!reply.body.contains("active"), "{}", reply.body);
    }
    assert_unchanged_and_serving(&t, &token, &before);
}

/// Bad request lines, bad headers and binary junk.
fn garbage() -> Vec<Vec<u8>> {
    let fixed: [&[u8]; 17] = [
        b"GARBAGE\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /api/hello HTTP/1.1\r\nHost: x\r\nNoColonHeader\r\n\r\n",
        b"GET /api/hello HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n",
        b"POST /o/token/ HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /o/token/ HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST /o/token/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
        b"POST /o/token/ HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 0\r\n\r\n",
        b"GET /%FF%00/../ HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET http://evil.example/api/hello HTTP/1.1\r\nHost: x\r\n\r\n",
        b"BREW /api/hello HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\xff\x00\xfe\x80\r\n\r\n",
        b"GET /api/hello HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n\r\n",
        b"POST /o/token/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic \xff\r\nContent-Length: 0\r\n\r\n",
        b"POST /o/token/ HTTP/1.1\r\nHost: x\r\nContent-Type: a; charset=\xff\r\nContent-Length: 3\r\n\r\na=b",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 tls hello\r\n\r\n",
    ];
    let long = "a".repeat(10_000);
    let generated = [
        format!("GET /{long} HTTP/1.1\r\nHost: x\r\n\r\n"),
        format!("GET /api/hello HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {long}\r\n\r\n"),
        format!("GET /api/hello HTTP/1.1\r\nHost: x\r\nX-{long}: 1\r\n\r\n"),
    ];
    let fixed = fixed.iter().map(|b| b.to_vec());
    fixed.chain(generated.map(String::into_bytes)).collect()
}

#[test]
fn garbage_requests_never_get_a_5xx_and_the_workers_live() {
    let (t, token, before) = world(TUTORIAL_SETTINGS);
    for bytes in garbage() {
        let answer = t.server.raw(&bytes);
        let sent = String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).into_owned();
        // Every request gets an answer; the only 5xx is 505 for a version not served.
        let version = sent.contains("HTTP/9.9");
        let status = answer.get(9..12).unwrap_or_default();
        let expected = if version { "505" } else { "4" };
        assert!(
            answer.starts_with("HTTP/1.1 ") && status.starts_with(expected),
            "{sent:?} got {answer}"
        );
    }
    let reply = t.server.request("GET", "/api/hello", &[], b"");
    let challenge = reply.header("WWW-Authenticate");
    assert_eq!(
        (reply.status, challenge),
        (401, Some("Bearer realm=\"oauthd\""))
    );
    assert_unchanged_and_serving(&t, &token, &before);
}
