//! The token endpoint (RFC 6749 §2.3, §4.3, §4.4, §5; docs/security.md rules 17-22).

use crate::support::{
    ADMIN_PASSWORD, ALICE_PASSWORD, HOSTILE, Reply, TUTORIAL_SETTINGS, TestServer, Tutorial,
    body_credentials, field, form_encode, password_form, rows,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oauthd::model::{AccessToken, AppFields, ClientType, GrantType};
use oauthd::secret::digest;
use oauthd::store::NewApplication;

const TOKEN: &str = "/o/token/";
const WRONG_PASSWORD: &str = "wrong-pass-Zq9x";
const MADE_UP_SECRET: &str = "made-up-secret-Kp4w7Vn2";
/// The tutorial's default scopes, as a token response lists them.
const ALL: &str = "groups read write";
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

fn is_json(reply: &Reply) -> bool {
    let content_type = reply.header("Content-Type").unwrap_or_default();
    content_type.starts_with("application/json")
}

/// An RFC 6749 §5.2 error: status, JSON `error`, a description, no caching; no token was stored.
fn assert_oauth_error(s: &TestServer, reply: &Reply, status: u16, code: &str) {
    let got = (reply.status, reply.error());
    assert_eq!(got, (status, code.to_owned()), "{}", reply.body);
    assert!(is_json(reply) && reply.json()["error_description"].is_string());
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    assert_eq!(rows(s, "access_tokens"), 0, "nothing issued after {code}");
}

/// A successful token response (RFC 6749 §5.1) and the access token it stored.
fn issued(s: &TestServer, reply: &Reply, scope: &str) -> AccessToken {
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(is_json(reply));
    let no_cache = (reply.header("Cache-Control"), reply.header("Pragma"));
    assert_eq!(no_cache, (Some("no-store"), Some("no-cache")));
    let body = reply.json();
    let shape = (&body["token_type"], &body["expires_in"], &body["scope"]);
    assert_eq!(shape, (&"Bearer".into(), &36000.into(), &scope.into()));
    let access = digest(&field(&body, "access_token"));
    let found = s.store().find_access_token(&access).unwrap();
    found.expect("the access token is stored by digest")
}

#[test]
fn malformed_requests_are_invalid_request() {
    let t = Tutorial::new();
    let full = password_form("admin", ADMIN_PASSWORD);
    for form in [
        String::new(),
        full.replace("grant_type=password&", ""),
        full.replace("username=admin&", ""),
        "grant_type=password&username=admin".to_string(),
        format!("grant_type=password&{full}"),
        format!("{full}&password={}", form_encode(ADMIN_PASSWORD)),
        "grant_type=refresh_token".to_string(),
    ] {
        let reply = t.server.post_form(TOKEN, &form, Some(t.client.basic()));
        assert_oauth_error(&t.server, &reply, 400, "invalid_request");
        assert!(!reply.body.contains(ADMIN_PASSWORD), "{}", reply.body);
    }
}

#[test]
fn failed_client_authentication_is_invalid_client_401_with_a_challenge_only_for_basic() {
    let t = Tutorial::new();
    let s = &t.server;
    let form = password_form("admin", ADMIN_PASSWORD);
    let in_body = |secret| form.clone() + &body_credentials(&t.client.id, secret);
    let unknown = s.post_form(TOKEN, &form, Some(("no-such-client", MADE_UP_SECRET)));
    let wrong = s.post_form(TOKEN, &form, Some((&t.client.id, MADE_UP_SECRET)));
    let wrong_in_body = s.post_form(TOKEN, &in_body(Some(MADE_UP_SECRET)), None);
    let missing = s.post_form(TOKEN, &form, None);
    let id_only = s.post_form(TOKEN, &in_body(None), None);
    let empty_secret = s.post_form(TOKEN, &form, Some((&t.client.id, "")));
    let malformed = s.request(
        "POST",
        TOKEN,
        &[FORM, ("Authorization", "Basic !!!")],
        form.as_bytes(),
    );
    // RFC 6749 §5.2: a client that tried HTTP Basic gets 401 and a challenge.
    for reply in [&unknown, &wrong, &empty_secret, &malformed] {
        assert_oauth_error(s, reply, 401, "invalid_client");
        let challenge = reply.header("WWW-Authenticate").expect("a challenge");
        assert!(challenge.starts_with("Basic "), "{challenge}");
        assert!(!reply.body.contains(MADE_UP_SECRET), "{}", reply.body);
    }
    // Credentials in the body, or none: 400, no challenge.
    for reply in [&wrong_in_body, &missing, &id_only] {
        assert_oauth_error(s, reply, 400, "invalid_client");
        assert_eq!(reply.header("WWW-Authenticate"), None);
        assert!(!reply.body.contains(MADE_UP_SECRET), "{}", reply.body);
    }
    assert_eq!(
        unknown.body, wrong.body,
        "unknown client and wrong secret differ"
    );
}

#[test]
fn a_disabled_client_or_user_reads_like_an_unknown_one() {
    let t = Tutorial::new();
    let s = &t.server;
    let form = password_form("alice", ALICE_PASSWORD);
    let unknown_client = s.post_form(TOKEN, &form, Some(("nobody", "x")));
    let wrong_password = t.password_grant("alice", WRONG_PASSWORD, "");
    let disable = [
        ["user", "disable", "alice"],
        ["app", "disable", &t.client.id],
    ];
    for args in disable {
        let (code, out, err) = s.cli(&args, "");
        assert_eq!(code, 0, "{out} {err}");
        let reply = t.password_grant("alice", ALICE_PASSWORD, "");
        let (status, expected) = match args[0] {
            "user" => (400, &wrong_password),
            _ => (401, &unknown_client),
        };
        assert_oauth_error(s, &reply, status, expected.error().as_str());
        assert_eq!(reply.body, expected.body, "{args:?} must not be told apart");
    }
    let apps = s.store().list_apps(None).unwrap();
    assert!(
        apps.iter()
            .any(|a| a.client_id == t.client.id && !a.usable && a.disabled_by_admin)
    );
    let alice = s.store().find_user_by_username("alice").unwrap();
    assert!(!alice.expect("alice").is_active);
}

#[test]
fn wrong_password_and_unknown_user_are_the_same_invalid_grant() {
    let t = Tutorial::new();
    let wrong = t.password_grant("admin", WRONG_PASSWORD, "");
    let unknown = t.password_grant("nobody", WRONG_PASSWORD, "");
    let hostile = t.password_grant(HOSTILE, HOSTILE, "");
    for reply in [&wrong, &unknown, &hostile] {
        assert_oauth_error(&t.server, reply, 400, "invalid_grant");
        assert!(reply.header("WWW-Authenticate").is_none());
    }
    assert_eq!(wrong.body, unknown.body, "tells which part was wrong");
    assert_eq!(wrong.body, hostile.body);
}

#[test]
fn a_grant_the_app_is_not_registered_for_is_unauthorized_client() {
    let t = Tutorial::new();
    let s = &t.server;
    let password_only = s.add_client("confidential", "password", &[]);
    let cc_only = s.add_client("confidential", "client-credentials", &[]);
    // Registration refuses this pair now (RFC 6749 §4.4); a database from before may hold it.
    stored_app(s, "public-cc", None, ClientType::Public);
    let cc = "grant_type=client_credentials";
    let public_form = cc.to_owned() + &body_credentials("public-cc", None);
    let password = password_form("admin", ADMIN_PASSWORD);
    for reply in [
        s.post_form(TOKEN, cc, Some(password_only.basic())),
        s.post_form(TOKEN, &password, Some(cc_only.basic())),
        s.post_form(TOKEN, &public_form, None),
    ] {
        assert_oauth_error(s, &reply, 400, "unauthorized_client");
    }
}

#[test]
fn an_unknown_grant_type_is_unsupported_grant_type() {
    let t = Tutorial::new();
    for grant in ["urn:example:magic", "PASSWORD", "client credentials"] {
        let form = format!("grant_type={}&username=admin", form_encode(grant));
        let reply = t.server.post_form(TOKEN, &form, Some(t.client.basic()));
        assert_oauth_error(&t.server, &reply, 400, "unsupported_grant_type");
    }
}

#[test]
fn an_unknown_scope_is_invalid_scope() {
    let t = Tutorial::new();
    for scope in ["admin", "read admin", "read\"x"] {
        let extra = format!("&scope={}", form_encode(scope));
        let reply = t.password_grant("admin", ADMIN_PASSWORD, &extra);
        assert_oauth_error(&t.server, &reply, 400, "invalid_scope");
        let form = format!("grant_type=client_credentials{extra}");
        let cc = t.server.post_form(TOKEN, &form, Some(t.client.basic()));
        assert_oauth_error(&t.server, &cc, 400, "invalid_scope");
    }
}

#[test]
fn an_apps_scopes_bound_what_it_gets_and_may_ask() {
    let t = Tutorial::new();
    let s = &t.server;
    let app = s.add_client("confidential", "password", &["--scopes", "read"]);
    let apps = s.store().list_apps(None).unwrap();
    let stored = apps.iter().find(|a| a.client_id == app.id).expect("stored");
    let allowed = stored
        .fields
        .allowed_scopes
        .as_ref()
        .map(ToString::to_string);
    assert_eq!(allowed.as_deref(), Some("read"));
    let form = password_form("alice", ALICE_PASSWORD);
    let grant = |extra: &str| s.post_form(TOKEN, &(form.clone() + extra), Some(app.basic()));
    for scope in ["write", "read write", "groups"] {
        let reply = grant(&format!("&scope={}", form_encode(scope)));
        assert_oauth_error(s, &reply, 400, "invalid_scope");
    }
    let token = issued(s, &grant(""), "read");
    assert_eq!(
        (token.scope.to_string(), token.client_id),
        ("read".into(), app.id)
    );
}

#[test]
fn a_password_grant_answers_bearer_json_with_a_refresh_token_stored_by_digest() {
    let t = Tutorial::new();
    let s = &t.server;
    let reply = t.password_grant("admin", ADMIN_PASSWORD, "&scope=read+write");
    let stored = issued(s, &reply, "read write");
    let body = reply.json();
    let (access, refresh) = (field(&body, "access_token"), field(&body, "refresh_token"));
    assert_ne!(access, refresh);
    assert_eq!(stored.username.as_deref(), Some("admin"));
    let owner = (stored.client_id.as_str(), stored.expires - stored.created);
    assert_eq!(owner, (t.client.id.as_str(), 36000));
    let found = s.store().find_refresh_token(&digest(&refresh)).unwrap();
    let stored_refresh = found.expect("refresh token stored by digest");
    let pair = (stored_refresh.grant.id, stored_refresh.access_token_id);
    assert_eq!(pair, (stored.grant.id, Some(stored.id)));
    for file in ["oauthd.sqlite3", "oauthd.sqlite3-wal"] {
        let dump = std::fs::read(s.dir.path().join(file)).unwrap_or_default();
        let clear = dump.windows(access.len()).any(|w| w == access.as_bytes());
        assert!(!clear, "access token in clear in {file}");
    }
    assert_eq!(s.with_bearer("GET", "/api/hello", &access, "").status, 200);
}

#[test]
fn a_client_credentials_token_has_no_user_and_no_refresh_token() {
    let t = Tutorial::new();
    let s = &t.server;
    let form = "grant_type=client_credentials&scope=read";
    let reply = s.post_form(TOKEN, form, Some(t.client.basic()));
    let stored = issued(s, &reply, "read");
    let refresh = reply.json().get("refresh_token").cloned();
    assert_eq!(refresh, None, "RFC 6749 §4.4.3: no refresh token");
    assert_eq!((stored.username, stored.grant.user_id), (None, None));
    assert_eq!(rows(s, "refresh_tokens"), 0);
}

#[test]
fn client_credentials_in_the_body_work_like_basic() {
    let t = Tutorial::new();
    let credentials = body_credentials(&t.client.id, t.client.secret.as_deref());
    let form = password_form("alice", ALICE_PASSWORD) + &credentials;
    let stored = issued(&t.server, &t.server.post_form(TOKEN, &form, None), ALL);
    let owner = (stored.client_id, stored.username.as_deref());
    assert_eq!(owner, (t.client.id.clone(), Some("alice")));
}

/// A client_credentials app written straight to the store, past registration's checks.
fn stored_app(s: &TestServer, client_id: &str, secret: Option<&str>, client_type: ClientType) {
    let app = NewApplication {
        client_id: client_id.into(),
        secret_digest: secret.map(digest),
        owner_id: None,
        fields: AppFields {
            name: HOSTILE.into(),
            client_type,
            grant_types: vec![GrantType::ClientCredentials],
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            allowed_origins: vec![],
            allowed_resources: vec![],
            allowed_scopes: None,
            skip_authorization: false,
            enabled: true,
        },
    };
    s.store().create_app(&app, 0).expect("app created");
}

#[test]
fn basic_credentials_are_form_urldecoded() {
    let s = TestServer::start();
    // An id and secret that need encoding: ':' '+' ' ' '%' '@' and non-ASCII.
    let (id, secret) = ("svc:ü 1", "p@ss:w+rd %");
    stored_app(&s, id, Some(secret), ClientType::Confidential);
    let send = |pair: &str| {
        let auth = format!("Basic {}", STANDARD.encode(pair));
        let headers = [FORM, ("Authorization", auth.as_str())];
        s.request("POST", TOKEN, &headers, b"grant_type=client_credentials")
    };
    let stored = issued(&s, &send("svc%3A%C3%BC+1:p%40ss%3Aw%2Brd+%25"), ALL);
    assert_eq!(stored.client_id, id);
    // Unencoded, the first ':' ends the id and '+' reads as a space: authentication fails.
    let refused = send(&format!("{id}:{secret}"));
    assert_eq!(
        (refused.status, refused.error().as_str()),
        (401, "invalid_client")
    );
    assert_eq!(rows(&s, "access_tokens"), 1);
}

#[test]
fn basic_together_with_body_credentials_is_invalid_request() {
    let t = Tutorial::new();
    let secret = t.client.secret.as_deref().unwrap();
    let form = password_form("admin", ADMIN_PASSWORD);
    for extra in [
        body_credentials(&t.client.id, Some(secret)),
        format!("&client_secret={}", form_encode(secret)),
        body_credentials("other-client", None),
    ] {
        let reply = t
            .server
            .post_form(TOKEN, &(form.clone() + &extra), Some(t.client.basic()));
        assert_oauth_error(&t.server, &reply, 400, "invalid_request");
        assert!(!reply.body.contains(secret));
    }
}

#[test]
fn a_public_client_authenticates_by_client_id_alone_and_never_with_a_secret() {
    let t = Tutorial::new();
    let s = &t.server;
    let public = s.add_client("public", "password", &[]);
    assert_eq!(public.secret, None, "a public client gets no secret");
    let form = password_form("alice", ALICE_PASSWORD);
    let guessed = form.clone() + &body_credentials(&public.id, Some(MADE_UP_SECRET));
    for (reply, status) in [
        (s.post_form(TOKEN, &guessed, None), 400),
        (
            s.post_form(TOKEN, &form, Some((&public.id, MADE_UP_SECRET))),
            401,
        ),
    ] {
        assert_oauth_error(s, &reply, status, "invalid_client");
        assert!(!reply.body.contains(MADE_UP_SECRET));
    }
    let reply = s.post_form(TOKEN, &(form + &body_credentials(&public.id, None)), None);
    let stored = issued(s, &reply, ALL);
    let owner = (stored.client_id, stored.username.as_deref());
    assert_eq!(owner, (public.id, Some("alice")));
}

fn json_grant(t: &Tutorial, content_type: &str) -> Reply {
    let body = serde_json::json!({
        "grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD,
        "client_id": t.client.id, "client_secret": t.client.secret,
    });
    let headers = [("Content-Type", content_type)];
    t.server
        .request("POST", TOKEN, &headers, body.to_string().as_bytes())
}

#[test]
fn json_bodies_are_415_unless_accept_json_bodies_is_set() {
    let t = Tutorial::new();
    let refused = [
        "application/json",
        "text/plain",
        "application/json; charset=utf-8",
    ];
    for content_type in refused {
        let reply = json_grant(&t, content_type);
        assert_oauth_error(&t.server, &reply, 415, "invalid_request");
        assert!(!reply.body.contains(ADMIN_PASSWORD));
    }
    let settings = format!("{TUTORIAL_SETTINGS}\naccept_json_bodies = true\n");
    let json = Tutorial::with_server(TestServer::with_settings(&settings));
    let text = json_grant(&json, "text/plain");
    assert_oauth_error(&json.server, &text, 415, "invalid_request");
    let stored = issued(&json.server, &json_grant(&json, "application/json"), ALL);
    assert_eq!(stored.username.as_deref(), Some("admin"));
}

#[test]
fn no_credential_appears_in_any_error_body() {
    let t = Tutorial::new();
    let s = &t.server;
    let secret = t.client.secret.clone().unwrap();
    let (good, bad) = (
        password_form("admin", ADMIN_PASSWORD),
        password_form("admin", WRONG_PASSWORD),
    );
    let replies = [
        t.password_grant("admin", WRONG_PASSWORD, ""),
        t.password_grant(WRONG_PASSWORD, ADMIN_PASSWORD, "&scope=nope"),
        s.post_form(TOKEN, &good, Some((&t.client.id, WRONG_PASSWORD))),
        s.post_form(TOKEN, &bad, Some((WRONG_PASSWORD, &secret))),
        s.post_form(
            TOKEN,
            &(bad.clone() + "&password=x"),
            Some(t.client.basic()),
        ),
        t.refresh(WRONG_PASSWORD, ""),
    ];
    let encoded = form_encode(ADMIN_PASSWORD);
    let credentials = [WRONG_PASSWORD, ADMIN_PASSWORD, &encoded, &secret];
    for reply in &replies {
        assert!(reply.status >= 400, "{}", reply.body);
        for credential in credentials {
            assert!(
                !reply.body.contains(credential),
                "{credential:?}: {}",
                reply.body
            );
        }
    }
    assert_eq!(rows(s, "access_tokens"), 0);
}
