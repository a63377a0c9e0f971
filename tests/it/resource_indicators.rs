//! Resource indicators (RFC 8707; docs/security.md rules 61-64): `resource` on the
//! authorization and token requests, the application's list (and its default), narrowing at
//! the exchange and at refresh, and the audience that introspection shows.

use crate::support::{
    ADMIN_PASSWORD, Client, Reply, TestServer, Tutorial, UserAgent, assert_error, dump, field,
    form_encode, get_as, query_param, rows, signed_in,
};
use serde_json::{Value, json};

const API: &str = "https://api.example/";
const MCP: &str = "https://mcp.example/mcp";
const OTHER: &str = "https://other.example/";
const CALLBACK: &str = "http://127.0.0.1/cb";
/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// Not resource indicators: a fragment, relative references, garbage, a space, characters
/// outside RFC 3986 that a lenient parser would take.
const BAD: [&str; 7] = [
    "https://api.example/#frag",
    "/api",
    "api.example",
    "bob\"e'i;--ü",
    "https://api.example/ x",
    "https://api.example/ü",
    "https://api.example/{x}",
];

/// `&resource=...` for each of `resources`.
fn resource_params(resources: &[&str]) -> String {
    resources
        .iter()
        .map(|r| format!("&resource={}", form_encode(r)))
        .collect()
}

/// A confidential code client (it may introspect its own tokens), with `extra` flags.
fn code_client(s: &TestServer, extra: &[&str]) -> Client {
    let flags = [&["--redirect-uri", CALLBACK][..], extra].concat();
    s.add_client("confidential", "authorization-code", &flags)
}

/// The authorization URL for `client` naming `resources`.
fn authorize_url(client: &Client, resources: &[&str]) -> String {
    format!(
        "/o/authorize/?response_type=code&client_id={}&redirect_uri={}&scope=read&state=s1&code_challenge={CHALLENGE}&code_challenge_method=S256{}",
        client.id,
        form_encode(CALLBACK),
        resource_params(resources)
    )
}

/// A token request by `client`.
fn token(s: &TestServer, client: &Client, form: &str) -> Reply {
    s.post_form("/o/token/", form, Some(client.basic()))
}

/// The code exchange, naming `resources`.
fn exchange(s: &TestServer, client: &Client, code: &str, resources: &[&str]) -> Reply {
    let form = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}{}",
        form_encode(code),
        form_encode(CALLBACK),
        resource_params(resources)
    );
    token(s, client, &form)
}

/// A refresh, naming `resources`.
fn refresh(s: &TestServer, client: &Client, refresh_token: &str, resources: &[&str]) -> Reply {
    let form = format!(
        "grant_type=refresh_token&refresh_token={}{}",
        form_encode(refresh_token),
        resource_params(resources)
    );
    token(s, client, &form)
}

/// client_credentials, naming `resources`.
fn client_credentials(s: &TestServer, client: &Client, resources: &[&str]) -> Reply {
    let form = format!(
        "grant_type=client_credentials{}",
        resource_params(resources)
    );
    token(s, client, &form)
}

/// The `aud` introspection shows for `token`, asked by its own `client` (`Null`: absent).
fn audience(s: &TestServer, client: &Client, token: &str) -> Value {
    let form = format!("token={}", form_encode(token));
    let reply = s.post_form("/o/introspect/", &form, Some(client.basic()));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["active"], json!(true), "{body}");
    body.get("aud").cloned().unwrap_or(Value::Null)
}

/// The tokens of a successful token `reply` and the `aud` of its access token.
fn issued(s: &TestServer, client: &Client, reply: &Reply) -> (Value, Value) {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let tokens = reply.json();
    let aud = audience(s, client, &field(&tokens, "access_token"));
    (tokens, aud)
}

/// The stored resources of the rows of `table` (in id order; `None`: NULL).
fn stored_resources(s: &TestServer, table: &str) -> Vec<Option<String>> {
    let conn = rusqlite::Connection::open(s.db_path()).unwrap();
    let sql = format!("SELECT resources FROM {table} ORDER BY id");
    let mut stmt = conn.prepare(&sql).unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

/// Signs in as the admin through the login page and allows the request (the consent page
/// names each resource); returns the code.
fn approve(t: &Tutorial, client: &Client, resources: &[&str]) -> String {
    approve_showing(t, client, resources, resources)
}

/// As [`approve`], when the consent page names `shown` (the app's list when none is asked).
fn approve_showing(t: &Tutorial, client: &Client, resources: &[&str], shown: &[&str]) -> String {
    let agent = UserAgent::new(&t.server.http);
    let url = authorize_url(client, resources);
    let approval = agent.authorize(&url, "admin", ADMIN_PASSWORD);
    let page = &approval.consent.body;
    for resource in shown {
        assert!(
            page.contains(&format!("<li><code>{resource}</code></li>")),
            "{page}"
        );
    }
    assert_eq!(page.contains("For use at:"), !shown.is_empty());
    approval.param("code").expect("a code")
}

/// The callback's error after a signed-in admin opens the request naming `resources`; no
/// code is stored and no resource echoed.
fn authorize_error(t: &Tutorial, client: &Client, resources: &[&str]) -> String {
    let agent = UserAgent::new(&t.server.http);
    let url = authorize_url(client, &[]);
    agent.authorize(&url, "admin", ADMIN_PASSWORD);
    let codes = rows(&t.server, "authorization_codes");
    let reply = agent.get(&authorize_url(client, resources));
    assert_eq!(reply.status, 303, "{}", reply.body);
    let callback = url::Url::parse(&agent.location(&reply)).unwrap();
    assert!(callback.as_str().starts_with(CALLBACK), "{callback}");
    let param = |name: &str| query_param(&callback, name);
    assert_eq!(param("state").as_deref(), Some("s1"));
    let description = param("error_description").unwrap_or_default();
    for resource in resources {
        assert!(!description.contains(resource), "echoed: {description}");
    }
    assert_eq!(
        rows(&t.server, "authorization_codes"),
        codes,
        "no code stored"
    );
    param("error").expect("an error")
}

#[test]
fn a_code_for_two_resources_gives_tokens_for_both_or_fewer() {
    let t = Tutorial::new();
    let client = code_client(&t.server, &[]);
    let code = approve(&t, &client, &[MCP, API]);
    let both = format!("{API} {MCP}");
    assert_eq!(
        stored_resources(&t.server, "authorization_codes"),
        [Some(both.clone())],
        "the login round trip and the consent form kept both"
    );

    let reply = exchange(&t.server, &client, &code, &[MCP]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let tokens = reply.json();
    let access = field(&tokens, "access_token");
    assert_eq!(audience(&t.server, &client, &access), json!(MCP));
    assert_eq!(stored_resources(&t.server, "grants"), [Some(both.clone())]);
    assert_eq!(
        stored_resources(&t.server, "access_tokens"),
        [Some(MCP.into())]
    );

    // Without `resource`, a refresh is for the grant's whole set: `aud` as an array.
    let reply = refresh(&t.server, &client, &field(&tokens, "refresh_token"), &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let tokens = reply.json();
    let access = field(&tokens, "access_token");
    assert_eq!(audience(&t.server, &client, &access), json!([API, MCP]));
    let refresh_token = field(&tokens, "refresh_token");
    assert_eq!(
        audience(&t.server, &client, &refresh_token),
        json!([API, MCP])
    );

    // A refresh narrows to one of them.
    let reply = refresh(&t.server, &client, &refresh_token, &[API]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let access = field(&reply.json(), "access_token");
    assert_eq!(audience(&t.server, &client, &access), json!(API));
    assert_eq!(
        stored_resources(&t.server, "access_tokens"),
        [Some(API.into())]
    );
    assert_eq!(
        stored_resources(&t.server, "grants"),
        [Some(both)],
        "the grant keeps both"
    );
}

#[test]
fn a_refresh_cannot_add_a_resource_and_changes_nothing_trying() {
    let t = Tutorial::new();
    let client = code_client(&t.server, &[]);
    let code = approve(&t, &client, &[API]);
    let tokens = exchange(&t.server, &client, &code, &[]).json();
    let refresh_token = field(&tokens, "refresh_token");
    let before = dump(&t.server);
    for asked in [&[OTHER][..], &[API, MCP][..], &[BAD[0]][..]] {
        let reply = refresh(&t.server, &client, &refresh_token, asked);
        assert_error(&reply, 400, "invalid_target");
        assert_eq!(dump(&t.server), before, "{asked:?} changed nothing");
    }
    let access = field(&tokens, "access_token");
    assert_eq!(
        audience(&t.server, &client, &access),
        json!(API),
        "still live"
    );
    let reply = refresh(&t.server, &client, &refresh_token, &[API]);
    assert_eq!(
        reply.status, 200,
        "the refresh token still works: {}",
        reply.body
    );
}

#[test]
fn an_exchange_outside_the_codes_resources_fails_and_leaves_the_code_unused() {
    let t = Tutorial::new();
    let client = code_client(&t.server, &[]);
    let code = approve(&t, &client, &[API]);
    let reply = exchange(&t.server, &client, &code, &[MCP]);
    assert_error(&reply, 400, "invalid_target");
    assert_eq!(rows(&t.server, "grants"), 0);
    assert_eq!(rows(&t.server, "authorization_codes WHERE used IS NULL"), 1);
    let reply = exchange(&t.server, &client, &code, &[API]);
    assert_eq!(reply.status, 200, "the code still works: {}", reply.body);
    let access = field(&reply.json(), "access_token");
    assert_eq!(audience(&t.server, &client, &access), json!(API));
}

#[test]
fn a_code_without_resources_gives_unlimited_tokens_or_any_one_asked() {
    let t = Tutorial::new();
    let client = code_client(&t.server, &[]);
    let code = approve(&t, &client, &[]);
    let (tokens, aud) = issued(
        &t.server,
        &client,
        &exchange(&t.server, &client, &code, &[]),
    );
    assert_eq!(aud, Value::Null, "no aud");
    assert_eq!(stored_resources(&t.server, "grants"), [None]);
    let reply = refresh(&t.server, &client, &field(&tokens, "refresh_token"), &[MCP]);
    let (tokens, aud) = issued(&t.server, &client, &reply);
    assert_eq!(aud, json!(MCP));
    assert_eq!(
        stored_resources(&t.server, "grants"),
        [None],
        "a grant that named none stays unlimited"
    );
    let reply = refresh(&t.server, &client, &field(&tokens, "refresh_token"), &[API]);
    assert_eq!(
        issued(&t.server, &client, &reply).1,
        json!(API),
        "another one"
    );
}

#[test]
fn an_exchange_naming_resources_binds_a_grant_whose_code_named_none() {
    let t = Tutorial::new();
    let client = code_client(&t.server, &[]);
    let code = approve(&t, &client, &[]);
    let reply = exchange(&t.server, &client, &code, &[MCP]);
    let (tokens, aud) = issued(&t.server, &client, &reply);
    assert_eq!(aud, json!(MCP));
    assert_eq!(stored_resources(&t.server, "grants"), [Some(MCP.into())]);
    let refresh_token = field(&tokens, "refresh_token");
    let before = dump(&t.server);
    let reply = refresh(&t.server, &client, &refresh_token, &[API]);
    assert_error(&reply, 400, "invalid_target");
    assert_eq!(dump(&t.server), before, "changed nothing");
    let reply = refresh(&t.server, &client, &refresh_token, &[]);
    assert_eq!(issued(&t.server, &client, &reply).1, json!(MCP));
}

#[test]
fn malformed_indicators_are_invalid_target_on_both_endpoints() {
    let t = Tutorial::new();
    let client = code_client(&t.server, &[]);
    let code = approve(&t, &client, &[API]);
    let refresh_token = field(&t.admin_tokens(""), "refresh_token");
    let password = |bad: &str| {
        format!(
            "grant_type=password&username=admin&password={}{}",
            form_encode(ADMIN_PASSWORD),
            resource_params(&[bad])
        )
    };
    for bad in BAD {
        assert_eq!(
            authorize_error(&t, &client, &[API, bad]),
            "invalid_target",
            "{bad}"
        );
        let before = dump(&t.server);
        let replies = [
            (
                "client_credentials",
                client_credentials(&t.server, &t.client, &[bad]),
            ),
            ("password", token(&t.server, &t.client, &password(bad))),
            (
                "authorization_code",
                exchange(&t.server, &client, &code, &[bad]),
            ),
            (
                "refresh_token",
                refresh(&t.server, &t.client, &refresh_token, &[bad]),
            ),
        ];
        for (grant, reply) in replies {
            assert_error(&reply, 400, "invalid_target");
            assert!(
                !reply.body.contains(bad),
                "{grant} echoed {bad}: {}",
                reply.body
            );
        }
        assert_eq!(dump(&t.server), before, "{bad}: nothing stored");
    }
    let reply = exchange(&t.server, &client, &code, &[API]);
    assert_eq!(
        reply.status, 200,
        "the code is still unused: {}",
        reply.body
    );
    let reply = refresh(&t.server, &t.client, &refresh_token, &[]);
    let (_, aud) = issued(&t.server, &t.client, &reply);
    assert_eq!(aud, Value::Null, "the refresh token is still live");
}

#[test]
fn the_grant_and_the_credential_are_judged_before_the_resources() {
    let t = Tutorial::new();
    let client = code_client(&t.server, &[]);
    let reply = client_credentials(&t.server, &client, &[BAD[0]]);
    assert_error(&reply, 400, "unauthorized_client");
    assert_eq!(rows(&t.server, "grants"), 0);

    let tokens = t.admin_tokens("");
    let first = field(&tokens, "refresh_token");
    let reply = refresh(&t.server, &t.client, &first, &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let second = field(&reply.json(), "refresh_token");
    let reply = refresh(&t.server, &t.client, &first, &[BAD[0]]);
    assert_error(&reply, 400, "invalid_grant");
    assert_eq!(
        (
            rows(&t.server, "refresh_tokens WHERE revoked IS NULL"),
            rows(&t.server, "access_tokens")
        ),
        (0, 0),
        "a replay revokes the family whatever its resource"
    );
    assert_error(
        &refresh(&t.server, &t.client, &second, &[]),
        400,
        "invalid_grant",
    );
}

#[test]
fn an_apps_resource_list_limits_what_it_may_ask_for() {
    let t = Tutorial::new();
    let limited = code_client(&t.server, &["--resource", API, "--resource", MCP]);
    assert_eq!(authorize_error(&t, &limited, &[OTHER]), "invalid_target");
    assert_eq!(
        authorize_error(&t, &limited, &[API, OTHER]),
        "invalid_target"
    );
    let code = approve(&t, &limited, &[MCP]);
    let reply = exchange(&t.server, &limited, &code, &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let stored = t
        .server
        .store()
        .find_app_by_client_id(&limited.id)
        .unwrap()
        .unwrap();
    assert_eq!(stored.fields.allowed_resources, [API, MCP]);
    let detail = format!("/o/applications/{}/", stored.public_id);
    let page = get_as(&t.server, &signed_in(&t.server).cookie, &detail);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!("<code>{MCP}</code>")),
        "{}",
        page.body
    );

    let before = dump(&t.server);
    for bad in BAD {
        let (code, _, err) = t
            .server
            .cli(&["app", "update", &limited.id, "--resource", bad], "");
        assert_ne!(code, 0, "{bad}");
        assert!(err.contains("--resource: "), "{err}");
    }
    assert_eq!(dump(&t.server), before, "nothing changed");

    let (code, out, err) = t
        .server
        .cli(&["app", "update", &t.client.id, "--resource", API], "");
    assert_eq!(code, 0, "{out} {err}");
    let before = dump(&t.server);
    assert_error(
        &client_credentials(&t.server, &t.client, &[OTHER]),
        400,
        "invalid_target",
    );
    assert_eq!(dump(&t.server), before);
    let reply = client_credentials(&t.server, &t.client, &[API]);
    assert_eq!(reply.status, 200, "{}", reply.body);

    let (code, out, err) = t
        .server
        .cli(&["app", "update", &t.client.id, "--resource", ""], "");
    assert_eq!(code, 0, "{out} {err}");
    let reply = client_credentials(&t.server, &t.client, &[OTHER]);
    assert_eq!(
        reply.status, 200,
        "an empty list is any resource: {}",
        reply.body
    );
}

#[test]
fn a_limited_app_that_names_no_resource_gets_its_whole_list() {
    let t = Tutorial::new();
    let limited = code_client(&t.server, &["--resource", MCP, "--resource", API]);
    let code = approve_showing(&t, &limited, &[], &[API, MCP]);
    let both = format!("{API} {MCP}");
    assert_eq!(
        stored_resources(&t.server, "authorization_codes"),
        [Some(both.clone())]
    );
    let reply = exchange(&t.server, &limited, &code, &[]);
    assert_eq!(issued(&t.server, &limited, &reply).1, json!([API, MCP]));
    assert_eq!(stored_resources(&t.server, "grants"), [Some(both)]);

    // A grant made before the list: its refreshes get the list as it is now.
    let earlier = t.admin_tokens("");
    assert_eq!(stored_resources(&t.server, "grants")[1], None);
    let (code, out, err) = t
        .server
        .cli(&["app", "update", &t.client.id, "--resource", API], "");
    assert_eq!(code, 0, "{out} {err}");
    let reply = t.refresh(&field(&earlier, "refresh_token"), "");
    assert_eq!(issued(&t.server, &t.client, &reply).1, json!(API));
    assert_eq!(stored_resources(&t.server, "grants")[1], None, "still none");

    let reply = client_credentials(&t.server, &t.client, &[]);
    assert_eq!(issued(&t.server, &t.client, &reply).1, json!(API));
    let reply = t.password_grant("admin", ADMIN_PASSWORD, "");
    assert_eq!(issued(&t.server, &t.client, &reply).1, json!(API));
    let grants = stored_resources(&t.server, "grants");
    assert_eq!(grants[2..], [Some(API.into()), Some(API.into())]);
}

#[test]
fn client_credentials_and_password_tokens_are_for_the_resources_asked() {
    let t = Tutorial::new();
    let reply = client_credentials(&t.server, &t.client, &[MCP, API, MCP]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let access = field(&reply.json(), "access_token");
    assert_eq!(audience(&t.server, &t.client, &access), json!([API, MCP]));
    let both = format!("{API} {MCP}");
    assert_eq!(stored_resources(&t.server, "grants"), [Some(both.clone())]);
    assert_eq!(stored_resources(&t.server, "access_tokens"), [Some(both)]);

    let reply = client_credentials(&t.server, &t.client, &[]);
    let access = field(&reply.json(), "access_token");
    assert_eq!(audience(&t.server, &t.client, &access), Value::Null);

    let tokens = t.admin_tokens(&resource_params(&[API]));
    let access = field(&tokens, "access_token");
    assert_eq!(audience(&t.server, &t.client, &access), json!(API));
    let refresh_token = field(&tokens, "refresh_token");
    assert_error(
        &refresh(&t.server, &t.client, &refresh_token, &[MCP]),
        400,
        "invalid_target",
    );
}
