//! Behind a reverse proxy (issue 9, requirement 7; docs/security.md rules 30, 31, 38): from a
//! trusted proxy the login limiter counts the address X-Forwarded-For names; from anyone else the
//! header is ignored, so that writing a new address on every guess dodges nothing.

use crate::support::{ALICE_PASSWORD, Browser, LOGIN, Reply, TestServer, login_form, open_login};
use oauthd::http::limiter::FREE_TRIES_PER_ADDRESS;

/// A login on the login page, relayed for `forwarded_for` when given.
fn login_via(
    s: &TestServer,
    browser: &Browser,
    forwarded_for: Option<&str>,
    username: &str,
    password: &str,
) -> Reply {
    let mut headers = vec![
        ("Cookie", browser.cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    headers.extend(forwarded_for.map(|address| ("X-Forwarded-For", address)));
    let form = login_form(&browser.csrf, username, password, "/");
    s.request("POST", LOGIN, &headers, form.as_bytes())
}

/// Fails the free tries of an address: one wrong login each for as many usernames, each
/// relayed for the address `forwarded_for(i)` names.
fn fail_free_tries(s: &TestServer, browser: &Browser, forwarded_for: impl Fn(u32) -> String) {
    for i in 0..FREE_TRIES_PER_ADDRESS {
        let from = forwarded_for(i);
        let reply = login_via(s, browser, Some(&from), &format!("user{i}"), "wrong");
        assert_eq!(reply.status, 200, "try {i} from {from}: {}", reply.body);
    }
}

#[test]
fn behind_a_trusted_proxy_failed_logins_count_against_the_forwarded_address() {
    let s = TestServer::with_extra_settings("trusted_proxies = [\"127.0.0.1\"]");
    s.add_user("alice", ALICE_PASSWORD, false);
    let (_, browser) = open_login(&s, "/");
    fail_free_tries(&s, &browser, |_| "203.0.113.1".into());
    // That address is slowed, whichever username it tries next, however the chain is written.
    for forwarded_for in [
        "203.0.113.1",
        "198.51.100.9, 203.0.113.1",
        "203.0.113.1, 127.0.0.1",
    ] {
        let slowed = login_via(&s, &browser, Some(forwarded_for), "someone", "wrong");
        assert_eq!(slowed.status, 429, "{forwarded_for}: {}", slowed.body);
    }
    // Another client of the proxy is not, and neither is the proxy itself.
    let other = login_via(&s, &browser, Some("203.0.113.2"), "alice", ALICE_PASSWORD);
    assert_eq!(other.status, 303, "{}", other.body);
    let (_, browser) = open_login(&s, "/");
    let proxy = login_via(&s, &browser, None, "someone", "wrong");
    assert_eq!(proxy.status, 200, "{}", proxy.body);
}

#[test]
fn without_trusted_proxies_x_forwarded_for_is_ignored_by_the_limiter() {
    let s = TestServer::start();
    let (_, browser) = open_login(&s, "/");
    // A new address written on every guess: all of them are the peer's.
    fail_free_tries(&s, &browser, |i| format!("203.0.113.{i}"));
    let slowed = login_via(&s, &browser, Some("198.51.100.1"), "alice", ALICE_PASSWORD);
    assert_eq!(slowed.status, 429, "{}", slowed.body);
    let slowed = login_via(&s, &browser, None, "alice", ALICE_PASSWORD);
    assert_eq!(slowed.status, 429, "{}", slowed.body);
}
