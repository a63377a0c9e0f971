//! Throttled password and client-secret checks at the OAuth endpoints (docs/security.md rule 30;
//! RFC 6749 §4.3.2, RFC 6819 §5.1.4.2.3): per username, per client id and per client address,
//! through the login page's limiter; a throttled try is a 429 in the OAuth error format and changes
//! nothing.

use crate::support::{
    ADMIN_PASSWORD, ALICE_PASSWORD, LOGIN, Reply, TestServer, Tutorial, access_stored,
    assert_error, body_credentials, form_encode, login_form, open_login, password_form, post_as,
    rows,
};
use oauthd::http::limiter::{
    FREE_TRIES_PER_ADDRESS, FREE_TRIES_PER_CLIENT, FREE_TRIES_PER_USERNAME,
};
use oauthd::secret::digest;

const TOKEN: &str = "/o/token/";
const REVOKE: &str = "/o/revoke_token/";
const INTROSPECT: &str = "/o/introspect/";
const WRONG_PASSWORD: &str = "wrong-pass-Tq7v";
const MADE_UP_SECRET: &str = "made-up-secret-Wn3r8Lp5";

/// Tokens and grants stored, to show a refused request changed none of them.
fn stored(s: &TestServer) -> [i64; 3] {
    ["grants", "access_tokens", "refresh_tokens"].map(|table| rows(s, table))
}

/// A throttled try: 429, RFC 6749 §5.2 JSON with temporarily_unavailable, not cached,
/// Retry-After in whole seconds matching the description, no Basic challenge, and none of
/// `credentials` in the body. Returns the wait.
fn assert_throttled(reply: &Reply, credentials: &[&str]) -> i64 {
    assert_error(reply, 429, "temporarily_unavailable");
    let content_type = reply.header("Content-Type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let no_cache = (reply.header("Cache-Control"), reply.header("Pragma"));
    assert_eq!(no_cache, (Some("no-store"), Some("no-cache")));
    assert_eq!(reply.header("WWW-Authenticate"), None);
    let wait: i64 = reply
        .header("Retry-After")
        .expect("Retry-After")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=2).contains(&wait), "the first wait is 2 s: {wait}");
    let unit = if wait == 1 { "second" } else { "seconds" };
    let description = format!("Too many failed attempts. Try again in {wait} {unit}.");
    assert_eq!(reply.json()["error_description"], description.as_str());
    for credential in credentials {
        assert!(
            !reply.body.contains(credential),
            "{credential:?}: {}",
            reply.body
        );
    }
    wait
}

/// A request `endpoint` answers 200 when the client authenticates: a client_credentials grant,
/// or the revocation or introspection of `token`.
fn endpoint_form(endpoint: &str, token: &str) -> String {
    match endpoint {
        TOKEN => "grant_type=client_credentials".into(),
        _ => format!("token={}", form_encode(token)),
    }
}

#[test]
fn wrong_passwords_for_one_username_get_429_and_then_even_the_right_one_waits() {
    let t = Tutorial::new();
    let s = &t.server;
    let secret = t.client.secret.clone().unwrap();
    for _ in 0..FREE_TRIES_PER_USERNAME {
        let reply = t.password_grant("alice", WRONG_PASSWORD, "");
        assert_error(&reply, 400, "invalid_grant");
    }
    let credentials = [ALICE_PASSWORD, WRONG_PASSWORD, secret.as_str()];
    let right = t.password_grant("alice", ALICE_PASSWORD, "");
    let mut wait = assert_throttled(&right, &credentials);
    assert_eq!(stored(s), [0, 0, 0], "nothing issued while throttled");
    let cased = t.password_grant("ALICE", ALICE_PASSWORD, "");
    wait = wait.max(assert_throttled(&cased, &credentials));
    // The login page's limiter: the same count.
    let (_, browser) = open_login(s, "/");
    let login = login_form(&browser.csrf, "alice", ALICE_PASSWORD, "/");
    let page = post_as(s, &browser, LOGIN, &login);
    assert_eq!(page.status, 429, "{}", page.body);
    assert_eq!(rows(s, "sessions WHERE user_id IS NOT NULL"), 0);
    // Only alice waits.
    let admin = t.password_grant("admin", ADMIN_PASSWORD, "");
    assert_eq!(admin.status, 200, "{}", admin.body);
    assert_eq!(stored(s), [1, 1, 1]);
    s.advance(wait - 1);
    let last_second = t.password_grant("alice", ALICE_PASSWORD, "");
    assert_throttled(&last_second, &credentials);
    s.advance(1);
    let later = t.password_grant("alice", ALICE_PASSWORD, "");
    assert_eq!(later.status, 200, "{}", later.body);
    let access = later.json()["access_token"].as_str().unwrap().to_owned();
    let token = s.store().find_access_token(&digest(&access)).unwrap();
    assert_eq!(token.unwrap().username.as_deref(), Some("alice"));
}

#[test]
fn wrong_client_secrets_are_throttled_per_client_id_at_token_revocation_and_introspection() {
    let s = TestServer::start();
    let bystander = s.add_client("confidential", "client-credentials", &[]);
    for endpoint in [TOKEN, REVOKE, INTROSPECT] {
        let client = s.add_client("confidential", "client-credentials", &[]);
        let secret = client.secret.clone().unwrap();
        let token = s.client_token(&client);
        let form = endpoint_form(endpoint, &token);
        for i in 0..FREE_TRIES_PER_CLIENT {
            // A wrong secret counts in the Authorization header and in the body alike.
            let (reply, status) = match i % 2 {
                0 => (
                    s.post_form(endpoint, &form, Some((&client.id, MADE_UP_SECRET))),
                    401,
                ),
                _ => {
                    let in_body =
                        form.clone() + &body_credentials(&client.id, Some(MADE_UP_SECRET));
                    (s.post_form(endpoint, &in_body, None), 400)
                }
            };
            assert_error(&reply, status, "invalid_client");
        }
        let before = stored(&s);
        let credentials = [secret.as_str(), MADE_UP_SECRET, token.as_str()];
        for other in [TOKEN, REVOKE, INTROSPECT] {
            let right = s.post_form(other, &endpoint_form(other, &token), Some(client.basic()));
            assert_throttled(&right, &credentials);
        }
        assert_eq!(stored(&s), before, "{endpoint}: nothing issued or revoked");
        assert!(
            access_stored(&s, &token),
            "{endpoint}: the token was not revoked"
        );
        let control = endpoint_form(endpoint, &s.client_token(&bystander));
        let other_client = s.post_form(endpoint, &control, Some(bystander.basic()));
        assert_eq!(
            other_client.status, 200,
            "{endpoint}: {}",
            other_client.body
        );
    }
}

#[test]
fn one_address_is_throttled_across_usernames_client_ids_and_the_login_page() {
    let t = Tutorial::new();
    let s = &t.server;
    // A public client names itself by client_id alone: not a secret, never counted.
    let public = s.add_client("public", "password", &[]);
    let grant = |username: &str, password: &str| {
        let form = password_form(username, password) + &body_credentials(&public.id, None);
        s.post_form(TOKEN, &form, None)
    };
    for i in 0..FREE_TRIES_PER_ADDRESS {
        assert_error(
            &grant(&format!("user{i}"), WRONG_PASSWORD),
            400,
            "invalid_grant",
        );
    }
    let secret = t.client.secret.clone().unwrap();
    let credentials = [ALICE_PASSWORD, WRONG_PASSWORD, secret.as_str()];
    assert_throttled(&grant("alice", ALICE_PASSWORD), &credentials);
    let cc = s.post_form(
        TOKEN,
        "grant_type=client_credentials",
        Some(t.client.basic()),
    );
    assert_throttled(&cc, &credentials);
    let (_, browser) = open_login(s, "/");
    let login = login_form(&browser.csrf, "admin", ADMIN_PASSWORD, "/");
    let page = post_as(s, &browser, LOGIN, &login);
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(page.header("Retry-After").is_some());
    assert_eq!(stored(s), [0, 0, 0]);
}

#[test]
fn a_right_password_or_secret_clears_the_count() {
    let t = Tutorial::new();
    let s = &t.server;
    for _ in 0..2 {
        for _ in 1..FREE_TRIES_PER_USERNAME {
            assert_error(
                &t.password_grant("alice", WRONG_PASSWORD, ""),
                400,
                "invalid_grant",
            );
        }
        let right = t.password_grant("alice", ALICE_PASSWORD, "");
        assert_eq!(right.status, 200, "{}", right.body);
    }
    let cc = "grant_type=client_credentials";
    for _ in 0..2 {
        for _ in 1..FREE_TRIES_PER_CLIENT {
            let wrong = s.post_form(TOKEN, cc, Some((&t.client.id, MADE_UP_SECRET)));
            assert_error(&wrong, 401, "invalid_client");
        }
        let right = s.post_form(TOKEN, cc, Some(t.client.basic()));
        assert_eq!(right.status, 200, "{}", right.body);
    }
    assert_eq!(rows(s, "access_tokens"), 4);
}

#[test]
fn requests_refused_before_a_secret_is_compared_are_not_counted() {
    let t = Tutorial::new();
    let s = &t.server;
    let cc_only = s.add_client("confidential", "client-credentials", &[]);
    let wrong_secret = Some((t.client.id.as_str(), MADE_UP_SECRET));
    let alice_wrong = password_form("alice", WRONG_PASSWORD);
    let two_methods = format!(
        "{alice_wrong}&client_secret={}",
        form_encode(MADE_UP_SECRET)
    );
    let no_secret = alice_wrong.clone() + &body_credentials(&t.client.id, None);
    let refused = [
        (
            "grant_type=magic",
            wrong_secret,
            400,
            "unsupported_grant_type",
        ),
        (
            "grant_type=password&username=alice",
            wrong_secret,
            400,
            "invalid_request",
        ),
        (
            two_methods.as_str(),
            Some(t.client.basic()),
            400,
            "invalid_request",
        ),
        (no_secret.as_str(), None, 400, "invalid_client"),
        (
            alice_wrong.as_str(),
            Some(cc_only.basic()),
            400,
            "unauthorized_client",
        ),
    ];
    // More of them than any free tries, per name or per address: none was counted.
    for _ in 0..=FREE_TRIES_PER_ADDRESS / 4 {
        for (form, basic, status, code) in refused {
            assert_error(&s.post_form(TOKEN, form, basic), status, code);
        }
    }
    let right = t.password_grant("alice", ALICE_PASSWORD, "");
    assert_eq!(right.status, 200, "{}", right.body);
    let cc = s.post_form(
        TOKEN,
        "grant_type=client_credentials",
        Some(t.client.basic()),
    );
    assert_eq!(cc.status, 200, "{}", cc.body);
}
