//! CORS over sockets (docs/security.md rules 44, 58, 59): preflights and requests from a
//! registered origin and from others, errors a page can read, a disabled app's origin, the
//! public documents' `*`, and origins checked on the CLI and the pages, nothing stored when
//! refused.

use crate::support::{
    ALICE_PASSWORD, Client, Reply, TestServer, Tutorial, csrf_in, dump, form_encode, get_as,
    post_as, rows, sign_in,
};

/// The origin the test app registers, as typed (default port, upper case) and as stored.
const TYPED: &str = "https://App.Example:443";
const ORIGIN: &str = "https://app.example";
/// A second registered origin: a loopback dev server.
const LOOPBACK: &str = "http://127.0.0.1:5173";
/// An origin nobody registered.
const STRANGER: &str = "https://evil.example";

/// The endpoints that answer registered origins, with the methods their preflight lists.
const API: [(&str, &str); 9] = [
    ("/o/token/", "POST"),
    ("/o/revoke_token/", "POST"),
    ("/o/revoke-token/", "POST"),
    ("/o/introspect/", "POST"),
    ("/o/userinfo/", "GET, POST"),
    ("/api/hello", "GET, HEAD, OPTIONS"),
    ("/users/", "GET, POST, HEAD, OPTIONS"),
    ("/groups/", "GET, POST, HEAD, OPTIONS"),
    ("/users/1/", "GET, HEAD, OPTIONS"),
];

/// The public documents, which answer `*`.
const PUBLIC: [&str; 4] = [
    "/.well-known/openid-configuration",
    "/o/.well-known/openid-configuration/",
    "/.well-known/oauth-authorization-server",
    "/o/.well-known/jwks.json",
];

/// The tutorial's world and a client_credentials client that registered [`TYPED`] and
/// [`LOOPBACK`].
fn world() -> (Tutorial, Client) {
    let t = Tutorial::new();
    let client = t.server.add_client(
        "confidential",
        "client-credentials",
        &["--allowed-origin", TYPED, "--allowed-origin", LOOPBACK],
    );
    (t, client)
}

/// The origins the app `client_id` has stored.
fn stored_origins(s: &TestServer, client_id: &str) -> Vec<String> {
    let app = s.store().find_app_by_client_id(client_id).unwrap();
    app.expect("the app").fields.allowed_origins
}

fn preflight(s: &TestServer, path: &str, origin: &str) -> Reply {
    let headers = [
        ("Origin", origin),
        ("Access-Control-Request-Method", "POST"),
        (
            "Access-Control-Request-Headers",
            "authorization, content-type",
        ),
    ];
    s.request("OPTIONS", path, &headers, b"")
}

/// No CORS header at all, as for a same-origin answer.
fn assert_no_cors(reply: &Reply, what: &str) {
    for (name, _) in &reply.headers {
        assert!(
            !name.to_ascii_lowercase().starts_with("access-control-"),
            "{what}: {name} in {:?}",
            reply.headers
        );
    }
}

/// `origin` may read the answer, without credentials.
fn assert_allowed(reply: &Reply, origin: &str, what: &str) {
    assert_eq!(
        reply.header("Access-Control-Allow-Origin"),
        Some(origin),
        "{what}: {:?}",
        reply.headers
    );
    assert_eq!(
        reply.header("Access-Control-Allow-Credentials"),
        None,
        "{what}"
    );
    assert_eq!(reply.header("Vary"), Some("Origin"), "{what}");
}

#[test]
fn a_registered_origins_preflight_lists_the_routes_methods_and_only_two_headers() {
    let (t, client) = world();
    let s = &t.server;
    assert_eq!(stored_origins(s, &client.id), [LOOPBACK, ORIGIN]);
    let before = dump(s);
    for (path, methods) in API {
        for origin in [ORIGIN, LOOPBACK] {
            let reply = preflight(s, path, origin);
            assert_eq!(reply.status, 204, "{path}: {}", reply.body);
            assert!(reply.body.is_empty(), "{path}");
            assert_allowed(&reply, origin, path);
            assert_eq!(
                reply.header("Access-Control-Allow-Methods"),
                Some(methods),
                "{path}"
            );
            assert_eq!(
                reply.header("Access-Control-Allow-Headers"),
                Some("Authorization, Content-Type"),
                "{path}"
            );
            assert_eq!(
                reply.header("Access-Control-Max-Age"),
                Some("600"),
                "{path}"
            );
        }
        for stranger in [STRANGER, "null", TYPED, "https://app.example/", "*"] {
            let reply = preflight(s, path, stranger);
            assert_eq!(reply.status, 204, "{path} {stranger}");
            assert_no_cors(&reply, &format!("{path} {stranger}"));
            assert_eq!(reply.header("Vary"), Some("Origin"), "{path}");
        }
    }
    assert_eq!(dump(s), before, "a preflight stores nothing");
}

#[test]
fn requests_and_their_errors_carry_the_registered_origin_and_no_other() {
    let (t, client) = world();
    let s = &t.server;
    let basic = crate::support::basic_header(client.basic());
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let token_request = |origin: Option<&str>, auth: &str| {
        let mut headers = vec![form[0], ("Authorization", auth)];
        headers.extend(origin.map(|o| ("Origin", o)));
        s.request(
            "POST",
            "/o/token/",
            &headers,
            b"grant_type=client_credentials",
        )
    };
    let issued = token_request(Some(ORIGIN), &basic);
    assert_eq!(issued.status, 200, "{}", issued.body);
    assert_allowed(&issued, ORIGIN, "token");
    let token = issued.json()["access_token"].as_str().unwrap().to_owned();
    assert!(crate::support::access_stored(s, &token));

    let wrong = crate::support::basic_header((&client.id, "wrong"));
    let refused = token_request(Some(ORIGIN), &wrong);
    assert_eq!(
        (refused.status, refused.error()),
        (401, "invalid_client".into())
    );
    assert_allowed(&refused, ORIGIN, "a token error");

    let stranger = token_request(Some(STRANGER), &basic);
    assert_eq!(stranger.status, 200, "the request itself is served");
    assert_no_cors(&stranger, "an unregistered origin");
    let same_origin = token_request(None, &basic);
    assert_eq!(same_origin.status, 200);
    assert_no_cors(&same_origin, "no Origin");
    assert_eq!(same_origin.header("Vary"), Some("Origin"));

    let bearer = format!("Bearer {token}");
    let hello = |origin: &str, auth: &str| {
        s.request(
            "GET",
            "/api/hello",
            &[("Origin", origin), ("Authorization", auth)],
            b"",
        )
    };
    let read = hello(LOOPBACK, &bearer);
    assert_eq!((read.status, read.body.as_str()), (200, "Hello, OAuth2!"));
    assert_allowed(&read, LOOPBACK, "hello");
    let unauthorized = hello(LOOPBACK, "Bearer not-a-token");
    assert_eq!(unauthorized.status, 401);
    assert_allowed(&unauthorized, LOOPBACK, "a bearer error");
    assert_eq!(
        unauthorized.header("Access-Control-Expose-Headers"),
        Some("WWW-Authenticate"),
        "the page may read the challenge"
    );
    assert_no_cors(&hello(STRANGER, &bearer), "hello from a stranger");

    // Revocation answers the registered origin too, and revokes.
    let revoke = s.request(
        "POST",
        "/o/revoke_token/",
        &[form[0], ("Authorization", &basic), ("Origin", ORIGIN)],
        format!("token={}", form_encode(&token)).as_bytes(),
    );
    assert_eq!(revoke.status, 200, "{}", revoke.body);
    assert_allowed(&revoke, ORIGIN, "revoke");
    assert!(!crate::support::access_stored(s, &token));
}

#[test]
fn pages_never_answer_cors_even_to_a_registered_origin() {
    let (t, _) = world();
    for path in [
        "/o/authorize/?client_id=x",
        "/accounts/login/",
        "/o/applications/",
        "/",
    ] {
        let reply = t.server.request("GET", path, &[("Origin", ORIGIN)], b"");
        assert_no_cors(&reply, path);
        assert_eq!(reply.header("Vary"), None, "{path}");
        let reply = preflight(&t.server, path, ORIGIN);
        assert_ne!(reply.status, 204, "{path}: not a CORS endpoint");
        assert_no_cors(&reply, path);
    }
}

#[test]
fn a_disabled_or_changed_apps_origins_stop_at_once() {
    let (t, client) = world();
    let s = &t.server;
    let allowed = |origin: &str| {
        let reply = preflight(s, "/o/token/", origin);
        assert_eq!(reply.status, 204);
        reply.header("Access-Control-Allow-Origin") == Some(origin)
    };
    assert!(allowed(ORIGIN));
    let cli = |args: &[&str]| {
        let (code, out, err) = s.cli(args, "");
        assert_eq!(code, 0, "{args:?}: {out} {err}");
    };
    cli(&["app", "disable", &client.id]);
    assert!(
        !allowed(ORIGIN) && !allowed(LOOPBACK),
        "a disabled app's origins"
    );
    cli(&["app", "enable", &client.id]);
    assert!(allowed(ORIGIN));
    cli(&["user", "disable", "admin"]);
    cli(&["app", "update", &client.id, "--owner", "alice"]);
    cli(&["user", "disable", "alice"]);
    assert!(!allowed(ORIGIN), "an app whose owner is disabled");
    cli(&["user", "enable", "alice"]);
    assert!(allowed(ORIGIN));

    // update replaces the list; --no-allowed-origins clears it.
    cli(&["app", "update", &client.id, "--allowed-origin", STRANGER]);
    assert_eq!(stored_origins(s, &client.id), [STRANGER]);
    assert!(allowed(STRANGER) && !allowed(ORIGIN));
    cli(&["app", "update", &client.id, "--no-allowed-origins"]);
    assert!(stored_origins(s, &client.id).is_empty());
    assert!(!allowed(STRANGER));
    assert_eq!(rows(s, "app_origins"), 0);

    // Another app that registers the same origin keeps it allowed while it is usable.
    let other = s.add_client(
        "public",
        "authorization-code",
        &[
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--allowed-origin",
            ORIGIN,
        ],
    );
    assert!(allowed(ORIGIN));
    cli(&["app", "remove", &other.id]);
    assert!(!allowed(ORIGIN), "removed with its app");
    assert_eq!(rows(s, "app_origins"), 0);
}

#[test]
fn public_documents_answer_any_origin_with_a_star() {
    let s = TestServer::start();
    for path in PUBLIC {
        let reply = s.request("GET", path, &[("Origin", STRANGER)], b"");
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(
            reply.header("Access-Control-Allow-Origin"),
            Some("*"),
            "{path}"
        );
        assert_eq!(reply.header("Access-Control-Allow-Credentials"), None);
        let reply = s.request("GET", path, &[], b"");
        assert_eq!(
            reply.header("Access-Control-Allow-Origin"),
            Some("*"),
            "{path}"
        );
        let reply = preflight(&s, path, STRANGER);
        assert_eq!(reply.status, 204, "{path}");
        assert_eq!(
            reply.header("Access-Control-Allow-Origin"),
            Some("*"),
            "{path}"
        );
        assert_eq!(
            reply.header("Access-Control-Allow-Methods"),
            Some("GET, HEAD"),
            "{path}"
        );
    }
}

#[test]
fn the_cli_refuses_what_is_not_an_origin_and_stores_nothing() {
    let s = TestServer::start();
    let before = dump(&s);
    for bad in [
        "https://app.example/",
        "https://app.example/cb",
        "app.example",
        "ftp://app.example",
        "https://user@app.example",
        "https://app.example?x",
        "null",
    ] {
        let args = [
            "app",
            "add",
            "--name",
            "spa",
            "--client-type",
            "public",
            "--grant",
            "authorization-code",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--allowed-origin",
            ORIGIN,
            "--allowed-origin",
            bad,
        ];
        let (code, out, err) = s.cli(&args, "");
        assert_eq!(code, 2, "{bad}: {out}");
        assert!(err.contains("--allowed-origin:"), "{bad}: {err}");
        assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
    }
    let (code, _, err) = s.cli(
        &[
            "app",
            "update",
            "x",
            "--allowed-origin",
            ORIGIN,
            "--no-allowed-origins",
        ],
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("contradict"), "{err}");
    assert_eq!(dump(&s), before);
    assert_eq!(rows(&s, "applications"), 0);
}

/// The register form of a public SPA with `origins` in its textarea.
fn spa_form(csrf: &str, origins: &str) -> String {
    serde_urlencoded::to_string([
        ("csrfmiddlewaretoken", csrf),
        ("name", "spa"),
        ("client_type", "public"),
        ("grant_types", "authorization-code"),
        ("redirect_uris", "http://127.0.0.1/cb"),
        ("allowed_origins", origins),
        ("allowed_scopes", "read"),
        ("enabled", "on"),
    ])
    .unwrap()
}

#[test]
fn the_pages_take_origins_one_per_line_and_refuse_bad_ones() {
    let t = Tutorial::new();
    let s = &t.server;
    let alice = sign_in(s, "alice", ALICE_PASSWORD);
    let register = "/o/applications/register/";
    let before = dump(s);
    let typed = format!("{TYPED}\r\nhttps://app.example/cb\r\n{LOOPBACK}");
    let refused = post_as(s, &alice, register, &spa_form(&alice.csrf, &typed));
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("&quot;https://app.example/cb&quot; is not an origin"),
        "the error beside the field: {}",
        refused.body
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    assert!(refused.body.contains(TYPED), "the input is kept");
    assert_eq!(dump(s), before, "nothing stored");

    let typed = format!("{TYPED}\r\n{LOOPBACK}\r\n");
    let saved = post_as(s, &alice, register, &spa_form(&alice.csrf, &typed));
    assert_eq!(saved.status, 303, "{}", saved.body);
    let location = saved.header("Location").unwrap();
    let detail = get_as(s, &alice.cookie, location);
    assert_eq!(detail.status, 200);
    let shown = detail.body.split("id=\"allowed_origins\"").nth(1).unwrap();
    assert!(
        shown.contains(ORIGIN) && shown.contains(LOOPBACK),
        "{shown}"
    );
    let apps = s.store().list_apps(None).unwrap();
    let spa = apps.iter().find(|a| a.fields.name == "spa").unwrap();
    assert_eq!(spa.fields.allowed_origins, [LOOPBACK, ORIGIN]);
    assert_eq!(
        preflight(s, "/o/token/", ORIGIN).header("Access-Control-Allow-Origin"),
        Some(ORIGIN)
    );

    // The update form shows them one per line and an emptied field clears them.
    let update = format!("/o/applications/{}/update/", spa.public_id);
    let form = get_as(s, &alice.cookie, &update);
    assert!(
        form.body.contains(&format!("{LOOPBACK}\n{ORIGIN}")),
        "{}",
        form.body
    );
    let csrf = csrf_in(&form.body);
    let cleared = post_as(s, &alice, &update, &spa_form(&csrf, " \r\n"));
    assert_eq!(cleared.status, 303, "{}", cleared.body);
    assert!(stored_origins(s, &spa.client_id).is_empty());
    assert_eq!(rows(s, "app_origins"), 0);
}
