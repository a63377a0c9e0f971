//! Token revocation (RFC 7009; docs/security.md rules 24, 26): /o/revoke_token/ and its alias
//! /o/revoke-token/.

use crate::support::{
    ADMIN_PASSWORD, Client, Reply, TestServer, Tutorial, access_stored, field, form_encode,
};
use oauthd::secret::digest;

const REVOKE: &str = "/o/revoke_token/";
const ALIAS: &str = "/o/revoke-token/";

/// A revocation request by `client`, with `extra` form fields after the token.
fn revoke_as(s: &TestServer, path: &str, client: &Client, token: &str, extra: &str) -> Reply {
    let form = format!("token={}{extra}", form_encode(token));
    s.post_form(path, &form, Some(client.basic()))
}

fn revoke(t: &Tutorial, token: &str, extra: &str) -> Reply {
    revoke_as(&t.server, REVOKE, &t.client, token, extra)
}

/// RFC 7009 §2.2: 200 with an empty body.
fn assert_revoked_ok(reply: &Reply) {
    assert_eq!((reply.status, reply.body.as_str()), (200, ""), "{reply:?}");
}

fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(
        (reply.status, reply.error().as_str()),
        (status, code),
        "{}",
        reply.body
    );
    assert!(reply.json()["error_description"].is_string());
}

/// The status GET /api/hello answers with this bearer token.
fn hello(s: &TestServer, token: &str) -> u16 {
    s.with_bearer("GET", "/api/hello", token, "").status
}

/// A fresh (access, refresh) pair for the admin.
fn tokens(t: &Tutorial) -> (String, String) {
    let body = t.admin_tokens("");
    (field(&body, "access_token"), field(&body, "refresh_token"))
}

fn refresh_live(s: &TestServer, token: &str) -> bool {
    let found = s.store().find_refresh_token(&digest(token)).unwrap();
    found.expect("refresh token stored").revoked.is_none()
}

#[test]
fn a_revoked_access_token_is_refused_at_once_on_both_paths() {
    let t = Tutorial::new();
    let s = &t.server;
    for path in [REVOKE, ALIAS] {
        let (access, refresh) = tokens(&t);
        assert_eq!(hello(s, &access), 200);
        assert_revoked_ok(&revoke_as(s, path, &t.client, &access, ""));
        assert!(
            !access_stored(s, &access),
            "{path}: the access token is gone"
        );
        let refused = s.with_bearer("GET", "/api/hello", &access, "");
        assert_eq!(refused.status, 401, "{path}");
        let challenge = refused.header("WWW-Authenticate").unwrap_or_default();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        assert!(
            refresh_live(s, &refresh),
            "revoking an access token leaves its refresh token"
        );
    }
}

#[test]
fn an_unknown_token_answers_200_and_changes_nothing() {
    let t = Tutorial::new();
    let (access, refresh) = tokens(&t);
    for unknown in ["no-such-token", &access[1..], &format!("{refresh}x")] {
        assert_revoked_ok(&revoke(&t, unknown, ""));
    }
    assert!(access_stored(&t.server, &access) && refresh_live(&t.server, &refresh));
    assert_eq!(hello(&t.server, &access), 200);
}

#[test]
fn a_missing_token_is_invalid_request() {
    let t = Tutorial::new();
    let (access, _) = tokens(&t);
    for form in ["", "token=", "token_type_hint=access_token"] {
        let reply = t.server.post_form(REVOKE, form, Some(t.client.basic()));
        assert_error(&reply, 400, "invalid_request");
    }
    let twice = format!("token={access}&token={access}");
    let reply = t.server.post_form(REVOKE, &twice, Some(t.client.basic()));
    assert_error(&reply, 400, "invalid_request");
    assert!(
        access_stored(&t.server, &access),
        "a refused request revokes nothing"
    );
}

#[test]
fn another_clients_token_is_refused_as_unauthorized_client_and_left_alone() {
    let t = Tutorial::new();
    let s = &t.server;
    let other = s.add_client("confidential", "password", &[]);
    let (access, refresh) = tokens(&t);
    for token in [&access, &refresh] {
        // RFC 7009 §2.1: the server checks the token was issued to the caller, else refuses.
        let reply = revoke_as(s, REVOKE, &other, token, "");
        assert_error(&reply, 400, "unauthorized_client");
        assert!(!reply.body.contains(token.as_str()));
    }
    assert!(access_stored(s, &access) && refresh_live(s, &refresh));
    assert_eq!(hello(s, &access), 200);
    let refreshed = t.refresh(&refresh, "");
    assert_eq!(
        refreshed.status, 200,
        "the owner's refresh token still works: {}",
        refreshed.body
    );
}

#[test]
fn revoking_a_refresh_token_revokes_its_access_token_and_the_refresh_fails() {
    let t = Tutorial::new();
    let s = &t.server;
    let (access, refresh) = tokens(&t);
    let (other_access, other_refresh) = tokens(&t);
    assert_revoked_ok(&revoke(&t, &refresh, ""));
    assert!(!refresh_live(s, &refresh), "the refresh token is retired");
    assert!(!access_stored(s, &access), "its access token is gone");
    assert_eq!(hello(s, &access), 401);
    assert_error(&t.refresh(&refresh, ""), 400, "invalid_grant");
    assert_eq!(
        t.server
            .store()
            .find_access_token(&digest(&access))
            .unwrap(),
        None
    );
    // Another grant of the same client and user is untouched.
    assert!(access_stored(s, &other_access) && refresh_live(s, &other_refresh));
    assert_eq!(hello(s, &other_access), 200);
}

#[test]
fn token_type_hints_are_honoured_and_a_wrong_hint_does_not_matter() {
    let t = Tutorial::new();
    let s = &t.server;
    let (access, refresh) = tokens(&t);
    assert_revoked_ok(&revoke(&t, &access, "&token_type_hint=access_token"));
    assert!(!access_stored(s, &access));
    assert_revoked_ok(&revoke(&t, &refresh, "&token_type_hint=refresh_token"));
    assert!(!refresh_live(s, &refresh));
    // RFC 7009 §2.1: a hint that does not fit only widens the search.
    let (access, refresh) = tokens(&t);
    assert_revoked_ok(&revoke(&t, &access, "&token_type_hint=refresh_token"));
    assert_revoked_ok(&revoke(&t, &refresh, "&token_type_hint=access_token"));
    assert!(!access_stored(s, &access) && !refresh_live(s, &refresh));
}

#[test]
fn an_unsupported_hint_is_unsupported_token_type() {
    let t = Tutorial::new();
    let (access, refresh) = tokens(&t);
    for hint in ["id_token", "ACCESS_TOKEN", "bogus"] {
        let extra = format!("&token_type_hint={hint}");
        assert_error(&revoke(&t, &access, &extra), 400, "unsupported_token_type");
        assert_error(&revoke(&t, &refresh, &extra), 400, "unsupported_token_type");
    }
    assert!(access_stored(&t.server, &access) && refresh_live(&t.server, &refresh));
}

#[test]
fn revocation_requires_client_authentication() {
    let t = Tutorial::new();
    let s = &t.server;
    let (access, refresh) = tokens(&t);
    let wrong = (t.client.id.as_str(), ADMIN_PASSWORD);
    for token in [&access, &refresh] {
        let form = format!("token={token}");
        let anonymous = s.post_form(REVOKE, &form, None);
        assert_error(&anonymous, 400, "invalid_client");
        let wrong_basic = s.post_form(ALIAS, &form, Some(wrong));
        assert_error(&wrong_basic, 401, "invalid_client");
        let challenge = wrong_basic.header("WWW-Authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Basic "), "{challenge}");
        for reply in [&anonymous, &wrong_basic] {
            assert!(!reply.body.contains(token.as_str()) && !reply.body.contains(ADMIN_PASSWORD));
        }
    }
    assert!(access_stored(s, &access) && refresh_live(s, &refresh));
    assert_eq!(hello(s, &access), 200);
}

#[test]
fn a_client_may_authenticate_in_the_body_and_a_public_client_by_id_alone() {
    let t = Tutorial::new();
    let s = &t.server;
    let (access, _) = tokens(&t);
    let secret = form_encode(t.client.secret.as_deref().unwrap());
    let form = format!(
        "token={access}&client_id={}&client_secret={secret}",
        t.client.id
    );
    assert_revoked_ok(&s.post_form(REVOKE, &form, None));
    assert!(!access_stored(s, &access));
    let public = s.add_client("public", "password", &[]);
    let grant = format!(
        "grant_type=password&username=admin&password={}",
        form_encode(ADMIN_PASSWORD)
    );
    let issued = s.post_form(
        "/o/token/",
        &format!("{grant}&client_id={}", public.id),
        None,
    );
    let public_access = field(&issued.json(), "access_token");
    let form = format!("token={public_access}&client_id={}", public.id);
    assert_revoked_ok(&s.post_form(ALIAS, &form, None));
    assert!(!access_stored(s, &public_access));
    assert_eq!(hello(s, &public_access), 401);
}
