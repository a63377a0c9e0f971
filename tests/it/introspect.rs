//! Token introspection (RFC 7662; docs/security.md rules 25, 26): POST /o/introspect/.

use crate::support::{ADMIN_PASSWORD, ALICE_PASSWORD, Client, Reply, TUTORIAL_SETTINGS};
use crate::support::{TestServer, Tutorial, assert_error, field, form_encode};
use oauthd::secret::digest;
use serde_json::{Value, json};

const INTROSPECT: &str = "/o/introspect/";
const BOTH: [&str; 2] = ["access_token", "refresh_token"];

/// RFC 7662 §2.2: an inactive token's whole answer.
fn inactive() -> Value {
    json!({ "active": false })
}

/// Introspection authenticated as `client`.
fn as_client(s: &TestServer, client: &Client, token: &str) -> Reply {
    let form = format!("token={}", form_encode(token));
    s.post_form(INTROSPECT, &form, Some(client.basic()))
}

/// Introspection authorized by a bearer token.
fn as_bearer(s: &TestServer, bearer: &str, token: &str) -> Reply {
    let form = format!("token={}", form_encode(token));
    s.with_bearer("POST", INTROSPECT, bearer, &form)
}

/// A 200 JSON introspection answer, not to be cached.
fn answer(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let content_type = reply.header("Content-Type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    reply.json()
}

/// The admin's tokens, issued to `client`.
fn tokens_of(s: &TestServer, client: &Client, extra: &str) -> Value {
    let password = form_encode(ADMIN_PASSWORD);
    let form = format!("grant_type=password&username=admin&password={password}{extra}");
    let reply = s.post_form("/o/token/", &form, Some(client.basic()));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

/// A resource server's own token: client_credentials with the introspection scope.
fn resource_server(t: &Tutorial) -> String {
    let form = "grant_type=client_credentials&scope=introspection";
    let reply = t
        .server
        .post_form("/o/token/", form, Some(t.client.basic()));
    assert_eq!(reply.status, 200, "{}", reply.body);
    field(&reply.json(), "access_token")
}

#[test]
fn the_owning_client_sees_an_active_access_token_with_its_metadata() {
    let t = Tutorial::new();
    let token = field(&t.admin_tokens(""), "access_token");
    let body = answer(&as_client(&t.server, &t.client, &token));
    let found = t.server.store().find_access_token(&digest(&token)).unwrap();
    let stored = found.expect("stored");
    let expected = json!({
        "active": true, "scope": "groups read write", "client_id": t.client.id,
        "username": "admin", "token_type": "Bearer", "exp": stored.expires, "iat": stored.created,
    });
    assert_eq!(body, expected);
    let (exp, iat) = (body["exp"].as_i64().unwrap(), body["iat"].as_i64().unwrap());
    assert_eq!(exp - iat, 36000);
    assert_eq!(iat, t.server.now(), "iat is not now");
}

#[test]
fn a_refresh_token_introspects_as_active_with_token_type_refresh_token() {
    let t = Tutorial::new();
    let refresh = field(&t.admin_tokens("&scope=read"), "refresh_token");
    let body = answer(&as_client(&t.server, &t.client, &refresh));
    let found = t
        .server
        .store()
        .find_refresh_token(&digest(&refresh))
        .unwrap();
    let iat = found.expect("stored").created;
    let got = (
        &body["active"],
        &body["token_type"],
        &body["scope"],
        &body["username"],
    );
    assert_eq!(
        got,
        (
            &json!(true),
            &json!("refresh_token"),
            &json!("read"),
            &json!("admin")
        )
    );
    assert_eq!(
        (&body["client_id"], &body["iat"]),
        (&json!(t.client.id), &json!(iat))
    );
}

#[test]
fn unknown_revoked_and_rotated_tokens_are_exactly_inactive() {
    let t = Tutorial::new();
    let s = &t.server;
    let revoked = t.admin_tokens("");
    for name in BOTH {
        let form = format!("token={}", field(&revoked, name));
        let reply = s.post_form("/o/revoke_token/", &form, Some(t.client.basic()));
        assert_eq!(reply.status, 200);
    }
    let rotated = field(&t.admin_tokens(""), "refresh_token");
    assert_eq!(t.refresh(&rotated, "").status, 200);
    let retired = s.store().find_refresh_token(&digest(&rotated)).unwrap();
    assert!(
        retired.expect("kept").revoked.is_some(),
        "the rotated token is retired"
    );
    let access = field(&revoked, "access_token");
    let unknown: String = access.chars().rev().collect();
    for token in [unknown, access, field(&revoked, "refresh_token"), rotated] {
        assert_eq!(
            answer(&as_client(s, &t.client, &token)),
            inactive(),
            "{token}"
        );
    }
}

#[test]
fn an_expired_access_token_is_exactly_inactive() {
    let settings = format!("{TUTORIAL_SETTINGS}\naccess_token_expire_seconds = 2\n");
    let t = Tutorial::with_server(TestServer::with_settings(&settings));
    let s = &t.server;
    let tokens = t.admin_tokens("");
    let (access, refresh) = (
        field(&tokens, "access_token"),
        field(&tokens, "refresh_token"),
    );
    let live = answer(&as_client(s, &t.client, &access));
    let lifetime = live["exp"].as_i64().unwrap() - live["iat"].as_i64().unwrap();
    assert_eq!((&live["active"], lifetime), (&json!(true), 2));
    s.advance(1);
    let last_second = answer(&as_client(s, &t.client, &access));
    assert_eq!(last_second["active"], true, "active until its last second");
    s.advance(1);
    assert_eq!(answer(&as_client(s, &t.client, &access)), inactive());
    let found = s.store().find_access_token(&digest(&access)).unwrap();
    let expires = found
        .expect("still stored: inactive by expiry, not deletion")
        .expires;
    assert_eq!(expires, s.now(), "it has expired this very second");
    assert_eq!(s.with_bearer("GET", "/api/hello", &access, "").status, 401);
    let body = answer(&as_client(s, &t.client, &refresh));
    assert_eq!(
        body["active"], true,
        "the refresh token outlives its access token"
    );
}

#[test]
fn another_clients_token_reads_inactive() {
    let t = Tutorial::new();
    let other = t.server.add_client("confidential", "password", &[]);
    let tokens = t.admin_tokens("");
    for name in BOTH {
        let token = field(&tokens, name);
        assert_eq!(
            answer(&as_client(&t.server, &other, &token)),
            inactive(),
            "{name}"
        );
        let own = answer(&as_client(&t.server, &t.client, &token));
        assert_eq!(own["active"], true, "{name}");
    }
}

#[test]
fn a_resource_server_allowed_introspection_may_inspect_any_token_with_its_own_credentials() {
    let t = Tutorial::new();
    let s = &t.server;
    // RFC 7662 §2.1: the resource server authenticates as the client it is registered as.
    let rs = s.add_client(
        "confidential",
        "client-credentials",
        &["--scopes", "introspection"],
    );
    let everything = s.add_client("confidential", "client-credentials", &[]);
    let narrow = s.add_client("confidential", "client-credentials", &["--scopes", "read"]);
    let tokens = t.admin_tokens("");
    for name in BOTH {
        let token = field(&tokens, name);
        let seen = answer(&as_client(s, &rs, &token));
        assert_eq!(seen["active"], true, "{name}: {seen}");
        assert_eq!(seen["client_id"], t.client.id.as_str());
        assert_eq!(seen["username"], "admin");
        for other in [&everything, &narrow] {
            assert_eq!(
                answer(&as_client(s, other, &token)),
                inactive(),
                "{name}: not allowed the scope explicitly, only its own tokens"
            );
        }
    }
}

#[test]
fn a_bearer_with_the_introspection_scope_may_inspect_any_clients_token() {
    let t = Tutorial::new();
    let s = &t.server;
    let bearer = resource_server(&t);
    let other = s.add_client("confidential", "password", &[]);
    let foreign = tokens_of(s, &other, "&scope=read");
    let access = answer(&as_bearer(s, &bearer, &field(&foreign, "access_token")));
    let got = (
        &access["active"],
        &access["client_id"],
        &access["scope"],
        &access["token_type"],
    );
    assert_eq!(
        got,
        (
            &json!(true),
            &json!(other.id),
            &json!("read"),
            &json!("Bearer")
        )
    );
    let refresh = answer(&as_bearer(s, &bearer, &field(&foreign, "refresh_token")));
    let got = (&refresh["active"], &refresh["token_type"]);
    assert_eq!(got, (&json!(true), &json!("refresh_token")));
    let cc = s.post_form(
        "/o/token/",
        "grant_type=client_credentials",
        Some(t.client.basic()),
    );
    let machine = answer(&as_bearer(s, &bearer, &field(&cc.json(), "access_token")));
    assert_eq!(
        (&machine["active"], machine.get("username")),
        (&json!(true), None)
    );
    assert_eq!(answer(&as_bearer(s, &bearer, "no-such-token")), inactive());
}

#[test]
fn tokens_of_a_disabled_user_or_client_read_inactive() {
    let t = Tutorial::new();
    let s = &t.server;
    let bearer = resource_server(&t);
    let alices = t.password_grant("alice", ALICE_PASSWORD, "").json();
    let other = s.add_client("confidential", "password", &[]);
    let others = tokens_of(s, &other, "");
    let disable = [["user", "disable", "alice"], ["app", "disable", &other.id]];
    for (tokens, args) in [(&alices, disable[0]), (&others, disable[1])] {
        let active = |name| answer(&as_bearer(s, &bearer, &field(tokens, name)));
        assert!(BOTH.iter().all(|name| active(name)["active"] == true));
        let (code, out, err) = s.cli(&args, "");
        assert_eq!(code, 0, "{out} {err}");
        for name in BOTH {
            assert_eq!(active(name), inactive(), "{args:?} {name}");
        }
        let access = digest(&field(tokens, "access_token"));
        assert!(
            s.store().find_access_token(&access).unwrap().is_some(),
            "kept, not deleted"
        );
    }
}

#[test]
fn a_bearer_without_the_introspection_scope_is_403() {
    let t = Tutorial::new();
    let bearer = field(&t.admin_tokens(""), "access_token");
    let reply = as_bearer(&t.server, &bearer, &bearer);
    assert_eq!(reply.status, 403, "{}", reply.body);
    let challenge = reply.header("WWW-Authenticate").unwrap_or_default();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"introspection\""), "{challenge}");
    assert!(
        !reply.body.contains("active"),
        "no token metadata: {}",
        reply.body
    );
}

#[test]
fn introspection_without_valid_authorization_is_refused() {
    let t = Tutorial::new();
    let s = &t.server;
    let token = field(&t.admin_tokens(""), "access_token");
    let form = format!("token={token}");
    let anonymous = s.post_form(INTROSPECT, &form, None);
    let wrong_secret = s.post_form(INTROSPECT, &form, Some((&t.client.id, ADMIN_PASSWORD)));
    assert_error(&anonymous, 400, "invalid_client");
    assert_error(&wrong_secret, 401, "invalid_client");
    let challenge = wrong_secret.header("WWW-Authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Basic "), "{challenge}");
    for reply in [&anonymous, &wrong_secret] {
        assert!(!reply.body.contains("active") && !reply.body.contains(ADMIN_PASSWORD));
    }
    for bearer in ["no-such-token", "not a token"] {
        let reply = as_bearer(s, bearer, &token);
        assert_eq!(reply.status, 401, "{}", reply.body);
        let challenge = reply.header("WWW-Authenticate").unwrap_or_default();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    }
}

#[test]
fn a_missing_token_is_invalid_request() {
    let t = Tutorial::new();
    let s = &t.server;
    let bearer = resource_server(&t);
    for form in ["", "token=", "token_type_hint=access_token"] {
        assert_error(
            &s.post_form(INTROSPECT, form, Some(t.client.basic())),
            400,
            "invalid_request",
        );
        assert_error(
            &s.with_bearer("POST", INTROSPECT, &bearer, form),
            400,
            "invalid_request",
        );
    }
}

#[test]
fn a_users_token_with_the_introspection_scope_may_not_introspect() {
    // Any user may ask for the scope (it is configured and allowed by default); it must not
    // open every client's tokens to them (RFC 7662 §4).
    let t = Tutorial::new();
    let users_token = field(&t.admin_tokens("&scope=introspection"), "access_token");
    let victim = field(&t.admin_tokens(""), "access_token");
    let reply = as_bearer(&t.server, &users_token, &victim);
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert!(
        !reply.body.contains("active") && !reply.body.contains("admin"),
        "{}",
        reply.body
    );
}

#[test]
fn a_public_client_cannot_introspect_with_its_client_id_alone() {
    let t = Tutorial::new();
    let s = &t.server;
    let public = s.add_client("public", "password", &[]);
    let token = field(&tokens_of(s, &public, ""), "access_token");
    let form = format!("token={token}&client_id={}", public.id);
    let reply = s.post_form(INTROSPECT, &form, None);
    assert_error(&reply, 400, "unauthorized_client");
    assert!(
        !reply.body.contains("active") && !reply.body.contains("admin"),
        "{}",
        reply.body
    );
}
