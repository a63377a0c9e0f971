//! The resource server (RFC 6750, docs/security.md rule 26) with DOT's permission classes on the
//! DRF tutorial's API: /api/hello, /users/ and /groups/.

use crate::support::{ALICE_PASSWORD, HOSTILE, Reply, TUTORIAL_SETTINGS};
use crate::support::{TestServer, Tutorial, field, form_encode};
use oauthd::model::{AccessToken, User};
use oauthd::secret::{digest, verify_password};
use serde_json::{Value, json};

const REALM: &str = "Bearer realm=\"oauthd\"";
const NO_PERMISSION: &str = "You do not have permission to perform this action.";
const COLLECTION: &str = "GET, POST, HEAD, OPTIONS";
const ITEM: &str = "GET, HEAD, OPTIONS";

fn admin_token(t: &Tutorial, extra: &str) -> String {
    field(&t.admin_tokens(extra), "access_token")
}

fn token_of(reply: Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.body);
    field(&reply.json(), "access_token")
}

/// A client_credentials token (no resource owner) with `scope`.
fn client_token(t: &Tutorial, scope: &str) -> String {
    let form = format!("grant_type=client_credentials&scope={}", form_encode(scope));
    token_of(
        t.server
            .post_form("/o/token/", &form, Some(t.client.basic())),
    )
}

fn hello(s: &TestServer, token: &str) -> Reply {
    s.with_bearer("GET", "/api/hello", token, "")
}

fn with_header(s: &TestServer, authorization: &str) -> Reply {
    let headers = [("Authorization", authorization)];
    s.request("GET", "/api/hello", &headers, b"")
}

fn post_json(s: &TestServer, path: &str, token: &str, body: Value) -> Reply {
    let auth = format!("Bearer {token}");
    let headers = [
        ("Authorization", &*auth),
        ("Content-Type", "application/json"),
    ];
    s.request("POST", path, &headers, body.to_string().as_bytes())
}

/// The reply has this status and exactly this JSON body.
fn assert_json(reply: &Reply, status: u16, body: Value) {
    let got = (reply.status, serde_json::from_str(&reply.body).ok());
    assert_eq!(got, (status, Some(body)), "{reply:?}");
}

fn assert_invalid_token(reply: &Reply) {
    let challenge = reply.header("WWW-Authenticate").unwrap_or_default();
    let invalid = challenge.starts_with(REALM) && challenge.contains("error=\"invalid_token\"");
    assert!(reply.status == 401 && invalid, "{reply:?}");
    assert!(reply.json()["detail"].is_string(), "{}", reply.body);
}

fn stored_token(s: &TestServer, token: &str) -> Option<AccessToken> {
    s.store().find_access_token(&digest(token)).unwrap()
}

fn stored_user(s: &TestServer, username: &str) -> Option<User> {
    s.store().find_user_by_username(username).unwrap()
}

fn usernames(s: &TestServer) -> Vec<String> {
    let users = s.store().user_views(None).unwrap();
    users.into_iter().map(|u| u.username).collect()
}

fn group_names(s: &TestServer) -> Vec<String> {
    let groups = s.store().groups(None).unwrap();
    groups.into_iter().map(|g| g.name).collect()
}

#[test]
fn a_valid_token_reads_hello() {
    let t = Tutorial::new();
    let token = admin_token(&t, "&scope=read");
    let reply = hello(&t.server, &token);
    assert_eq!((reply.status, reply.body.as_str()), (200, "Hello, OAuth2!"));
    let lower = with_header(&t.server, &format!("bearer {token}"));
    assert_eq!(lower.status, 200, "the scheme is case-insensitive");
    assert!(stored_token(&t.server, &token).is_some());
}

#[test]
fn no_token_gets_a_bare_bearer_challenge() {
    let t = Tutorial::new();
    let detail = json!({"detail": "Authentication credentials were not provided."});
    for path in ["/api/hello", "/users/", "/users/1/", "/groups/"] {
        let reply = t.server.request("GET", path, &[], b"");
        assert_json(&reply, 401, detail.clone());
        // No error attribute: the client did not try (RFC 6750 §3.1).
        assert_eq!(reply.header("WWW-Authenticate"), Some(REALM), "{path}");
    }
}

#[test]
fn unknown_and_malformed_tokens_are_invalid_token() {
    let t = Tutorial::new();
    let token = admin_token(&t, "");
    for bad in ["unknown-token", "a b", &format!("{token}x"), &token[1..]] {
        assert_invalid_token(&hello(&t.server, bad));
    }
    assert_invalid_token(&with_header(&t.server, "Bearer a,b"));
}

/// The Bearer scheme with no token is a malformed credential, not an absent one (RFC 6750
/// §3.1; `Req::bearer_token` itself calls "Bearer " `Malformed`).
#[test]
fn a_bearer_header_without_a_token_is_invalid_token() {
    let t = Tutorial::new();
    for header in ["Bearer", "Bearer "] {
        assert_invalid_token(&with_header(&t.server, header));
    }
}

#[test]
fn a_revoked_token_is_refused_at_once() {
    let t = Tutorial::new();
    let (s, token) = (&t.server, admin_token(&t, ""));
    assert_eq!(hello(s, &token).status, 200);
    let form = format!("token={token}");
    let revoked = s.post_form("/o/revoke_token/", &form, Some(t.client.basic()));
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(stored_token(s, &token), None);
    assert_invalid_token(&hello(s, &token));
    assert_invalid_token(&s.with_bearer("GET", "/users/", &token, ""));
}

#[test]
fn an_expired_token_is_invalid_token() {
    let settings = format!("{TUTORIAL_SETTINGS}\naccess_token_expire_seconds = 2\n");
    let t = Tutorial::with_server(TestServer::with_settings(&settings));
    let token = admin_token(&t, "");
    assert_eq!(hello(&t.server, &token).status, 200);
    t.server.advance(1);
    assert_eq!(hello(&t.server, &token).status, 200, "its last second");
    t.server.advance(1);
    assert_invalid_token(&hello(&t.server, &token));
    let stored = stored_token(&t.server, &token).expect("kept until cleartokens");
    assert_eq!(stored.expires, t.server.now());
}

#[test]
fn a_token_in_the_query_string_is_not_accepted() {
    let t = Tutorial::new();
    let token = admin_token(&t, "");
    for path in ["/api/hello", "/users/"] {
        let query = format!("{path}?access_token={token}");
        let reply = t.server.request("GET", &query, &[], b"");
        let challenge = reply.header("WWW-Authenticate");
        assert_eq!((reply.status, challenge), (401, Some(REALM)), "{path}");
    }
}

#[test]
fn options_needs_no_token_and_lists_the_methods() {
    let t = Tutorial::new();
    let paths = [("/users/", COLLECTION), ("/groups/", COLLECTION)];
    for (path, allow) in paths
        .into_iter()
        .chain([("/api/hello", ITEM), ("/users/1/", ITEM)])
    {
        let reply = t.server.request("OPTIONS", path, &[], b"");
        let got = (reply.status, reply.header("Allow"), reply.body.as_str());
        assert_eq!(got, (200, Some(allow), ""), "{path}");
    }
}

#[test]
fn head_is_get_without_a_body() {
    let t = Tutorial::new();
    let token = admin_token(&t, "");
    let reply = t.server.with_bearer("HEAD", "/api/hello", &token, "");
    assert_eq!((reply.status, reply.body.as_str()), (200, ""));
    assert_eq!(reply.header("Content-Length"), Some("14"), "GET's length");
    let refused = t.server.request("HEAD", "/api/hello", &[], b"");
    let challenge = refused.header("WWW-Authenticate");
    assert_eq!((refused.status, challenge), (401, Some(REALM)));
}

#[test]
fn a_missing_item_is_404_not_found() {
    let t = Tutorial::new();
    let token = admin_token(&t, "");
    for path in ["/users/999/", "/groups/999/"] {
        let reply = t.server.with_bearer("GET", path, &token, "");
        assert_json(&reply, 404, json!({"detail": "Not found."}));
    }
}

#[test]
fn a_non_admin_with_write_scope_cannot_create_users_or_groups() {
    let t = Tutorial::new();
    let s = &t.server;
    let token = token_of(t.password_grant("alice", ALICE_PASSWORD, ""));
    let users = s.with_bearer("POST", "/users/", &token, "username=eve&password=x");
    assert_json(&users, 403, json!({"detail": NO_PERMISSION}));
    let groups = s.with_bearer("POST", "/groups/", &token, "name=evil");
    assert_json(&groups, 403, json!({"detail": NO_PERMISSION}));
    assert_eq!(usernames(s), ["admin", "alice"], "nothing created");
    assert_eq!(group_names(s), ["staff"]);
}

#[test]
fn invalid_users_are_drf_field_errors_and_not_stored() {
    let t = Tutorial::new();
    let (s, token) = (&t.server, admin_token(&t, ""));
    let required = ["This field is required."];
    let hostile = format!("username={}&password=x", form_encode(HOSTILE));
    let invalid = "Enter a valid username: 1-150 letters, digits and @/./+/-/_ only.";
    let cases = [
        (
            "username=alice&password=long+enough",
            "username",
            "A user with that username already exists.",
        ),
        (
            "username=bob&password=bar",
            "password",
            "This password is too short. It must contain at least 8 characters.",
        ),
        ("username=bob", "password", required[0]),
        ("username=bob&password=", "password", required[0]),
        ("password=x", "username", required[0]),
        (&hostile, "username", invalid),
    ];
    for (form, name, message) in cases {
        let reply = s.with_bearer("POST", "/users/", &token, form);
        assert_json(&reply, 400, json!({ name: [message] }));
    }
    assert_eq!(usernames(s), ["admin", "alice"]);
    let alice = stored_user(s, "alice").unwrap();
    let kept = verify_password(ALICE_PASSWORD, &alice.password_hash);
    assert!(kept, "the duplicate kept alice's password");
}

#[test]
fn a_json_body_creates_a_user() {
    let t = Tutorial::new();
    let token = admin_token(&t, "");
    let password = "pw \"ü\" long";
    let body = json!({"username": "jay", "password": password, "email": "j@example.org"});
    let reply = post_json(&t.server, "/users/", &token, body);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let view = reply.json();
    assert_eq!(
        (&view["username"], &view["is_staff"]),
        (&json!("jay"), &json!(false))
    );
    let jay = stored_user(&t.server, "jay").expect("stored");
    assert!(verify_password(password, &jay.password_hash));
    assert_eq!((jay.email.as_str(), jay.is_admin), ("j@example.org", false));
    assert!(
        !jay.email_verified,
        "an address the API caller gives is not verified"
    );
}

#[test]
fn an_admin_with_groups_scope_creates_a_group() {
    let t = Tutorial::new();
    let (s, token) = (&t.server, admin_token(&t, "&scope=groups"));
    let reply = post_json(s, "/groups/", &token, json!({"name": HOSTILE}));
    assert_json(&reply, 201, json!({"id": 2, "name": HOSTILE}));
    assert_eq!(group_names(s), ["staff", HOSTILE]);
    let again = format!("name={}", form_encode(HOSTILE));
    let again = s.with_bearer("POST", "/groups/", &token, &again);
    let exists = json!({"name": ["group with this name already exists."]});
    assert_json(&again, 400, exists);
    assert_eq!(group_names(s).len(), 2);
}

#[test]
fn delete_on_users_is_405_with_allow() {
    let t = Tutorial::new();
    let token = admin_token(&t, "");
    for (path, allow) in [("/users/", COLLECTION), ("/users/2/", ITEM)] {
        let reply = t.server.with_bearer("DELETE", path, &token, "");
        assert_json(&reply, 405, json!({"detail": "Method not allowed."}));
        assert_eq!(reply.header("Allow"), Some(allow), "{path}");
    }
    assert_eq!(usernames(&t.server), ["admin", "alice"]);
}

#[test]
fn a_client_credentials_token_reads_users_but_cannot_create_them() {
    let t = Tutorial::new();
    let (s, read) = (&t.server, client_token(&t, "read"));
    let list = s.with_bearer("GET", "/users/", &read, "");
    let count = list.json().as_array().map(Vec::len);
    assert_eq!((list.status, count), (200, Some(2)), "{}", list.body);
    let write = client_token(&t, "read write");
    let form = "username=bot&password=x";
    let refused = s.with_bearer("POST", "/users/", &write, form);
    assert_json(&refused, 403, json!({"detail": NO_PERMISSION}));
    let narrow = s.with_bearer("POST", "/users/", &read, form);
    let challenge = narrow.header("WWW-Authenticate").unwrap_or_default();
    assert!(
        narrow.status == 403 && challenge.contains("scope=\"write\""),
        "{narrow:?}"
    );
    assert_eq!(usernames(s), ["admin", "alice"]);
    let stored = stored_token(s, &write).unwrap();
    assert_eq!((stored.username, stored.grant.user_id), (None, None));
}

#[test]
fn health_answers_ok_without_credentials_and_only_to_reads() {
    let s = TestServer::start();
    let reply = s.request("GET", "/health", &[], b"");
    assert_eq!((reply.status, reply.body.as_str()), (200, "ok"));
    let reply = s.request("POST", "/health", &[], b"");
    assert_eq!(
        (reply.status, reply.header("Allow")),
        (405, Some("GET, HEAD"))
    );
}
