//! Framing (issue 9, requirement 6; docs/security.md rule 37; RFC 9112 §6): a request whose length
//! could be read two ways is answered once, with a 400 or 501, and the bytes it carried are never
//! taken for a request; pipelined requests are answered in order; 100-continue; chunked
//! bodies work.

use super::{
    CC_FORM, PROMPT, Wire, ask, assert_closing, basic_field, form_head, get, post_form, refused,
    token_request,
};
use crate::support::{Client, TestServer, access_stored, field, rows};
use std::time::Duration;

/// A server with a client that may get client_credentials tokens.
fn server() -> (TestServer, Client) {
    let s = TestServer::start();
    let client = s.add_client("confidential", "client-credentials", &[]);
    (s, client)
}

/// Sends `bytes` and the end of the stream: the server must answer exactly once with
/// `status`, close, and issue no token (the hidden token request is never served).
fn assert_one_refusal(s: &TestServer, bytes: &[u8], status: u16) {
    let issued = rows(s, "access_tokens");
    refused(s.addr(), bytes, status);
    let sent = String::from_utf8_lossy(bytes);
    assert_eq!(rows(s, "access_tokens"), issued, "{sent:?} issued a token");
}

/// A POST of /health with `fields`, whose body is `hidden`, with its Content-Length if
/// `with_length`.
fn carrying(fields: &str, hidden: &[u8], with_length: bool) -> Vec<u8> {
    let length = match with_length {
        true => format!("Content-Length: {}\r\n", hidden.len()),
        false => String::new(),
    };
    let head = format!("POST /health HTTP/1.1\r\nHost: x\r\n{fields}{length}\r\n");
    [head.as_bytes(), hidden].concat()
}

#[test]
fn a_transfer_encoding_beside_a_content_length_is_400_and_the_smuggled_request_never_served() {
    let (s, client) = server();
    let hidden = token_request(&client);
    for coding in [
        "xchunked",
        "identity",
        "chunked, identity",
        "chunked",
        " chunked",
    ] {
        let te = format!("Transfer-Encoding: {coding}\r\n");
        assert_one_refusal(&s, &carrying(&te, &hidden, true), 400);
        // The length first, and a chunked body that ends where the hidden request begins.
        let head = format!("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n{te}\r\n");
        let bytes = [head.as_bytes(), b"0\r\n\r\n", &hidden].concat();
        assert_one_refusal(&s, &bytes, 400);
    }
    // The hidden request is a good one: on its own it is served.
    assert_eq!(ask(s.addr(), &hidden).status, 200);
}

#[test]
fn a_transfer_coding_other_than_chunked_is_501_and_its_body_never_served() {
    let (s, client) = server();
    let hidden = [b"0\r\n\r\n".as_slice(), &token_request(&client)].concat();
    for fields in [
        "Transfer-Encoding: xchunked\r\n",
        "Transfer-Encoding: identity\r\n",
        "Transfer-Encoding: chunked, identity\r\n",
        "Transfer-Encoding: gzip, chunked\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    ] {
        assert_one_refusal(&s, &carrying(fields, &hidden, false), 501);
    }
}

#[test]
fn content_lengths_that_disagree_are_400_and_the_rest_never_served() {
    let (s, client) = server();
    let hidden = token_request(&client);
    let length = hidden.len();
    for fields in [
        format!("Content-Length: {length}\r\nContent-Length: 0\r\n"),
        format!("Content-Length: 0\r\nContent-Length: {length}\r\n"),
        format!("Content-Length: 0, {length}\r\n"),
        format!("Content-Length: {length}, 0\r\n"),
        format!("Content-Length: +{length}\r\n"),
        format!("Content-Length: {length}.0\r\n"),
    ] {
        let head = format!("POST /health HTTP/1.1\r\nHost: x\r\n{fields}\r\n");
        assert_one_refusal(&s, &[head.as_bytes(), &hidden].concat(), 400);
    }
    // The same length twice is one length (RFC 9110 §8.6): the body is the body.
    let same = format!("Content-Length: {length}\r\nContent-Length: {length}\r\n");
    let mut wire = Wire::open(s.addr());
    wire.send_last(&carrying(&same, &hidden, false));
    let answered = wire.replies_until_closed(PROMPT);
    let statuses: Vec<_> = answered.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [405], "one answer, to the POST of /health");
    assert_eq!(rows(&s, "access_tokens"), 0);
}

#[test]
fn pipelined_requests_in_one_write_are_answered_in_order() {
    let (s, client) = server();
    let basic = basic_field(&client);
    let requests = [
        token_request(&client),
        get("/health", ""),
        post_form("/o/token/", &basic, "grant_type=magic"),
        post_form("/o/introspect/", &basic, "token=unknown"),
        get("/nope", "Connection: close\r\n"),
    ]
    .concat();
    let mut wire = Wire::open(s.addr());
    wire.send(&requests);
    let answered = wire.replies_until_closed(PROMPT);
    let statuses: Vec<_> = answered.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 400, 200, 404], "{answered:?}");
    let token = field(&answered[0].json(), "access_token");
    assert!(access_stored(&s, &token));
    assert_eq!(answered[1].body, "ok");
    assert_eq!(answered[2].json()["error"], "unsupported_grant_type");
    assert_eq!(answered[3].json(), serde_json::json!({"active": false}));
    assert_closing(&answered[4], 404);
}

#[test]
fn expect_100_continue_gets_100_before_the_body_and_a_refused_claim_gets_none() {
    let (s, client) = server();
    let expect = format!("{}Expect: 100-continue\r\n", basic_field(&client));
    let request = post_form("/o/token/", &expect, CC_FORM);
    let (head, body) = request.split_at(request.len() - CC_FORM.len());
    let mut wire = Wire::open(s.addr());
    wire.send(head);
    let interim = wire.reply(PROMPT);
    assert_eq!(
        (interim.status, interim.headers.len()),
        (100, 0),
        "{interim:?}"
    );
    wire.assert_quiet(Duration::from_millis(100));
    wire.send(body);
    let reply = wire.reply(PROMPT);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(access_stored(&s, &field(&reply.json(), "access_token")));
    let head = form_head("/o/token/", &format!("{expect}Content-Length: 70000\r\n"));
    // Exactly one answer: no 100 Continue before it.
    refused(s.addr(), head.as_bytes(), 413);
}

#[test]
fn a_chunked_token_request_issues_a_token() {
    let (s, client) = server();
    let chunked = format!("{}Transfer-Encoding: chunked\r\n", basic_field(&client));
    let head = form_head("/o/token/", &chunked);
    let mut wire = Wire::open(s.addr());
    wire.send(head.as_bytes());
    // In pieces, with a chunk extension and a trailer, as the bytes come.
    for piece in [
        &b"b\r\ngrant_type="[..],
        b"\r\n12;ext=1\r\nclient_credentials\r\n",
        b"0\r\nX-Trailer: t\r\n",
        b"\r\n",
    ] {
        wire.send(piece);
    }
    let reply = wire.reply(PROMPT);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(access_stored(&s, &field(&reply.json(), "access_token")));
    // The connection goes on.
    wire.send(&get("/health", ""));
    assert_eq!(wire.reply(PROMPT).body, "ok");
}
