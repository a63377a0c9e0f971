//! OpenID Connect over HTTP with a fixed clock (docs/security.md rules 39, 41): discovery, the code
//! flow's id_token checked against the served JWKS, implicit id_tokens, refresh, userinfo, prompt,
//! max_age and nonce, `iss` on every authorization response, and what bad input gets.

use crate::support::{
    Browser, Client, Reply, TestServer, allow_and_get_code, consent_fields, form_encode, get_as,
    post_as, rows, sign_in,
};
use serde_json::{Map, Value};

pub const CALLBACK: &str = "http://127.0.0.1/cb";
pub const PASSWORD: &str = "bob's password";
/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A server with bob (name and verified address), a confidential OpenID client allowed the
/// code and implicit grants, and bob signed in.
pub struct World {
    pub server: TestServer,
    pub client: Client,
    pub bob: Browser,
}

impl World {
    pub fn new() -> World {
        World::with_settings("")
    }

    pub fn with_settings(extra: &str) -> World {
        let server = TestServer::with_extra_settings(extra);
        let (code, _, err) = server.cli(
            &[
                "user",
                "add",
                "bob",
                "--email",
                "bob@example.com",
                "--name",
                "Bob Example",
            ],
            &format!("{PASSWORD}\n{PASSWORD}\n"),
        );
        assert_eq!(code, 0, "{err}");
        let client = server.add_client(
            "confidential",
            "authorization-code,implicit",
            &[
                "--redirect-uri",
                CALLBACK,
                "--post-logout-redirect-uri",
                "https://rp.example/bye",
            ],
        );
        let bob = sign_in(&server, "bob", PASSWORD);
        World {
            server,
            client,
            bob,
        }
    }

    /// An authorization request's query for this client.
    pub fn query(&self, response_type: &str, scope: &str, extra: &str) -> String {
        format!(
            "response_type={}&client_id={}&redirect_uri={}&scope={}&state=st%3D1&nonce=n-0S6{extra}",
            form_encode(response_type),
            self.client.id,
            form_encode(CALLBACK),
            form_encode(scope),
        )
    }

    /// bob approves a code request for `scope`, and the client exchanges the code.
    pub fn code_flow(&self, scope: &str) -> Value {
        let query = self.query(
            "code",
            scope,
            &format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"),
        );
        let code = allow_and_get_code(&self.server, &self.bob, &query);
        let reply = self.server.post_form(
            "/o/token/",
            &format!(
                "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
                form_encode(CALLBACK)
            ),
            Some(self.client.basic()),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    }

    /// The claims of `token` once its signature checks against the served JWKS.
    pub fn verified(&self, token: &str) -> Map<String, Value> {
        verify_with_jwks(&self.server, token)
    }
}

/// Checks a compact JWS against the server's JWKS with the `rsa` crate directly (not
/// oauthd's own verifier): RS256, the key its `kid` names. Returns the payload.
pub fn verify_with_jwks(server: &TestServer, token: &str) -> Map<String, Value> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).expect("base64url");
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    let header: Value = serde_json::from_slice(&decode(parts[0])).unwrap();
    assert_eq!(header["alg"], "RS256");
    let jwks = server.request("GET", "/o/.well-known/jwks.json", &[], b"");
    assert_eq!(jwks.status, 200);
    let keys = jwks.json()["keys"].as_array().unwrap().clone();
    let jwk = keys
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .unwrap_or_else(|| panic!("no key {} in the JWKS", header["kid"]));
    let number =
        |name: &str| rsa::BoxedUint::from_be_slice_vartime(&decode(jwk[name].as_str().unwrap()));
    let public = rsa::PublicKey::new(number("n"), number("e")).unwrap();
    let signature = Signature::try_from(decode(parts[2]).as_slice()).unwrap();
    VerifyingKey::<sha2::Sha256>::new(public)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("the signature checks against the JWKS");
    serde_json::from_slice(&decode(parts[1])).unwrap()
}

fn params_of(location: &str, separator: char) -> Vec<(String, String)> {
    let part = location.split_once(separator).map_or("", |(_, p)| p);
    serde_urlencoded::from_str(part).unwrap()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn redirect(reply: &Reply) -> &str {
    assert_eq!(reply.status, 303, "{}", reply.body);
    reply.header("Location").expect("a Location")
}

fn issuer(s: &TestServer) -> String {
    format!("http://{}", s.addr())
}

#[test]
fn discovery_documents_describe_this_server_from_its_own_lists() {
    let s = TestServer::start();
    let paths = [
        "/.well-known/openid-configuration",
        "/o/.well-known/openid-configuration/",
        "/.well-known/oauth-authorization-server",
    ];
    let documents: Vec<Value> = paths
        .iter()
        .map(|path| {
            let reply = s.request("GET", path, &[], b"");
            assert_eq!(reply.status, 200, "{path}");
            assert_eq!(reply.header("Access-Control-Allow-Origin"), Some("*"));
            assert!(
                reply
                    .header("Cache-Control")
                    .unwrap()
                    .starts_with("public, max-age=")
            );
            reply.json()
        })
        .collect();
    assert!(documents.iter().all(|d| *d == documents[0]), "one document");
    let d = &documents[0];
    let issuer = issuer(&s);
    assert_eq!(d["issuer"], issuer.as_str());
    for (key, path) in [
        ("authorization_endpoint", "/o/authorize/"),
        ("token_endpoint", "/o/token/"),
        ("userinfo_endpoint", "/o/userinfo/"),
        ("jwks_uri", "/o/.well-known/jwks.json"),
        ("revocation_endpoint", "/o/revoke_token/"),
        ("introspection_endpoint", "/o/introspect/"),
        ("end_session_endpoint", "/o/logout/"),
        ("device_authorization_endpoint", "/o/device-authorization/"),
    ] {
        assert_eq!(d[key], format!("{issuer}{path}"), "{key}");
    }
    let list = |key: &str| -> Vec<String> {
        d[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    for scope in ["openid", "profile", "email", "offline_access", "read"] {
        assert!(
            list("scopes_supported").contains(&scope.to_owned()),
            "{scope}"
        );
    }
    assert_eq!(
        list("response_types_supported"),
        ["code", "token", "id_token", "id_token token"]
    );
    assert_eq!(list("response_modes_supported"), ["query", "fragment"]);
    assert_eq!(
        list("grant_types_supported"),
        [
            "authorization_code",
            "implicit",
            "password",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:device_code",
            "refresh_token"
        ]
    );
    assert_eq!(list("subject_types_supported"), ["public"]);
    assert_eq!(list("id_token_signing_alg_values_supported"), ["RS256"]);
    assert_eq!(
        list("token_endpoint_auth_methods_supported"),
        ["client_secret_basic", "client_secret_post", "none"]
    );
    assert_eq!(
        list("introspection_endpoint_auth_methods_supported"),
        ["client_secret_basic", "client_secret_post"],
        "public clients cannot introspect"
    );
    assert_eq!(list("code_challenge_methods_supported"), ["S256", "plain"]);
    assert!(list("claims_supported").contains(&"email_verified".to_owned()));
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    let post = s.request("POST", paths[0], &[], b"");
    assert_eq!(post.status, 405);

    let behind = TestServer::with_extra_settings(
        "public_url = \"https://id.example:8443/\"\npkce_required = \"all\"",
    );
    let d = behind
        .request("GET", "/.well-known/openid-configuration", &[], b"")
        .json();
    assert_eq!(
        d["issuer"], "https://id.example:8443",
        "as configured, no trailing slash"
    );
    assert_eq!(d["token_endpoint"], "https://id.example:8443/o/token/");
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
}

#[test]
fn the_code_flow_gives_a_signed_id_token_that_says_who_for_whom_and_when() {
    let w = World::new();
    let signed_in_at = w.server.now();
    w.server.advance(5);
    let tokens = w.code_flow("openid profile email");
    let claims = w.verified(tokens["id_token"].as_str().expect("an id_token"));
    let bob = w
        .server
        .store()
        .find_user_by_username("bob")
        .unwrap()
        .unwrap();
    let now = w.server.now();
    assert_eq!(claims["iss"], issuer(&w.server).as_str());
    assert_eq!(claims["sub"], bob.subject.as_str());
    assert_ne!(bob.subject, "bob");
    assert_eq!(claims["aud"], w.client.id.as_str());
    assert_eq!(claims["nonce"], "n-0S6");
    assert_eq!(claims["iat"], now);
    assert_eq!(claims["exp"], now + 3600);
    assert_eq!(claims["auth_time"], signed_in_at);
    assert_eq!(claims["preferred_username"], "bob");
    assert_eq!(claims["name"], "Bob Example");
    assert_eq!(claims["email"], "bob@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(
        claims["at_hash"],
        oauthd::oauth::id_token::at_hash(tokens["access_token"].as_str().unwrap()).as_str()
    );
    assert!(!claims.contains_key("azp"), "one audience: no azp");

    let plain = w.code_flow("read");
    assert!(
        plain.get("id_token").is_none(),
        "no openid, no id_token: {plain}"
    );
    let only_openid = w.verified(w.code_flow("openid")["id_token"].as_str().unwrap());
    for claim in ["preferred_username", "name", "email", "email_verified"] {
        assert!(!only_openid.contains_key(claim), "{claim} needs its scope");
    }
}

#[test]
fn every_authorization_response_carries_the_issuer() {
    let w = World::new();
    let iss = issuer(&w.server);
    let code_query = w.query(
        "code",
        "openid",
        &format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"),
    );
    let page = get_as(
        &w.server,
        &w.bob.cookie,
        &format!("/o/authorize/?{code_query}"),
    );
    let mut fields = consent_fields(&page);
    fields.push(("allow".into(), "x".into()));
    let allowed = post_as(
        &w.server,
        &w.bob,
        "/o/authorize/",
        &serde_urlencoded::to_string(&fields).unwrap(),
    );
    let params = params_of(redirect(&allowed), '?');
    assert_eq!(param(&params, "iss"), Some(iss.as_str()));
    assert!(param(&params, "code").is_some());
    let denied_fields: Vec<_> = fields
        .iter()
        .filter(|(k, _)| k != "allow")
        .cloned()
        .chain([("deny".to_owned(), "x".to_owned())])
        .collect();
    let denied = post_as(
        &w.server,
        &w.bob,
        "/o/authorize/",
        &serde_urlencoded::to_string(&denied_fields).unwrap(),
    );
    let params = params_of(redirect(&denied), '?');
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "iss"), Some(iss.as_str()));
    assert_eq!(param(&params, "state"), Some("st=1"));
    let bad_scope = get_as(
        &w.server,
        &w.bob.cookie,
        &format!("/o/authorize/?{}", w.query("token", "nope", "")),
    );
    let params = params_of(redirect(&bad_scope), '#');
    assert_eq!(param(&params, "error"), Some("invalid_scope"));
    assert_eq!(param(&params, "iss"), Some(iss.as_str()));
}

#[test]
fn implicit_id_tokens_come_in_the_fragment_bound_to_the_nonce_and_the_access_token() {
    let w = World::new();
    for response_type in ["id_token", "id_token token"] {
        let query = w.query(response_type, "openid email", "");
        let page = get_as(&w.server, &w.bob.cookie, &format!("/o/authorize/?{query}"));
        assert_eq!(page.status, 200, "{}", page.body);
        let mut fields = consent_fields(&page);
        fields.push(("allow".into(), "x".into()));
        let reply = post_as(
            &w.server,
            &w.bob,
            "/o/authorize/",
            &serde_urlencoded::to_string(&fields).unwrap(),
        );
        let location = redirect(&reply);
        assert!(!location.contains('?'), "nothing in the query: {location}");
        let params = params_of(location, '#');
        let claims = w.verified(param(&params, "id_token").expect("an id_token"));
        assert_eq!(claims["nonce"], "n-0S6");
        assert_eq!(claims["email"], "bob@example.com");
        assert_eq!(param(&params, "state"), Some("st=1"));
        match param(&params, "access_token") {
            Some(token) => {
                assert_eq!(response_type, "id_token token");
                assert_eq!(
                    claims["at_hash"],
                    oauthd::oauth::id_token::at_hash(token).as_str()
                );
            }
            None => {
                assert_eq!(response_type, "id_token");
                assert!(!claims.contains_key("at_hash"));
            }
        }
    }
    let before = rows(&w.server, "access_tokens");
    let no_nonce = w
        .query("id_token token", "openid", "")
        .replace("&nonce=n-0S6", "");
    let reply = get_as(
        &w.server,
        &w.bob.cookie,
        &format!("/o/authorize/?{no_nonce}"),
    );
    let params = params_of(redirect(&reply), '#');
    assert_eq!(param(&params, "error"), Some("invalid_request"));
    assert_eq!(rows(&w.server, "access_tokens"), before, "nothing issued");
}

#[test]
fn a_refresh_of_an_openid_grant_gives_a_new_id_token_for_the_same_person() {
    let w = World::new();
    let signed_in_at = w.server.now();
    let first = w.code_flow("openid profile offline_access");
    let original = w.verified(first["id_token"].as_str().unwrap());
    w.server.advance(600);
    let reply = w.server.post_form(
        "/o/token/",
        &format!(
            "grant_type=refresh_token&refresh_token={}",
            first["refresh_token"].as_str().unwrap()
        ),
        Some(w.client.basic()),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let refreshed = reply.json();
    let claims = w.verified(refreshed["id_token"].as_str().expect("a new id_token"));
    for same in ["iss", "sub", "aud"] {
        assert_eq!(claims[same], original[same], "{same}");
    }
    assert_eq!(claims["auth_time"], signed_in_at, "the original sign-in");
    assert_eq!(claims["iat"], w.server.now());
    assert!(!claims.contains_key("nonce"));
    assert_eq!(
        claims["at_hash"],
        oauthd::oauth::id_token::at_hash(refreshed["access_token"].as_str().unwrap()).as_str()
    );
}

#[test]
fn userinfo_tells_what_the_token_scopes_allow() {
    let w = World::new();
    let tokens = w.code_flow("openid email");
    let token = tokens["access_token"].as_str().unwrap();
    let id_token = w.verified(tokens["id_token"].as_str().unwrap());
    for method in ["GET", "POST"] {
        let reply = w.server.with_bearer(method, "/o/userinfo/", token, "");
        assert_eq!(reply.status, 200, "{method}: {}", reply.body);
        assert_eq!(reply.header("Cache-Control"), Some("no-store"));
        let claims = reply.json();
        assert_eq!(claims["sub"], id_token["sub"]);
        assert_eq!(claims["email"], "bob@example.com");
        assert_eq!(claims["email_verified"], true);
        assert!(
            claims.get("preferred_username").is_none(),
            "no profile scope"
        );
    }
    let without_openid = w.code_flow("read");
    let reply = w.server.with_bearer(
        "GET",
        "/o/userinfo/",
        without_openid["access_token"].as_str().unwrap(),
        "",
    );
    assert_eq!(reply.status, 403);
    assert!(
        reply
            .header("WWW-Authenticate")
            .unwrap()
            .contains("insufficient_scope")
    );
    for bad in ["not-a-token", token.trim_end_matches(|_| true)] {
        let reply = w.server.with_bearer("GET", "/o/userinfo/", bad, "");
        assert_eq!(reply.status, 401, "{bad:?}");
    }
    let reply = w.server.request("GET", "/o/userinfo/", &[], b"");
    assert_eq!(reply.status, 401);
    assert!(
        reply
            .header("WWW-Authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    w.server.advance(36_000);
    let expired = w.server.with_bearer("GET", "/o/userinfo/", token, "");
    assert_eq!(expired.status, 401);
    assert!(
        expired
            .header("WWW-Authenticate")
            .unwrap()
            .contains("invalid_token")
    );
}

#[test]
fn prompt_none_answers_the_client_and_never_shows_a_page() {
    let w = World::new();
    let iss = issuer(&w.server);
    let query = w.query("code", "openid", "&prompt=none");
    let anonymous = w
        .server
        .request("GET", &format!("/o/authorize/?{query}"), &[], b"");
    let params = params_of(redirect(&anonymous), '?');
    assert!(redirect(&anonymous).starts_with(CALLBACK));
    assert_eq!(param(&params, "error"), Some("login_required"));
    assert_eq!(param(&params, "state"), Some("st=1"));
    assert_eq!(param(&params, "iss"), Some(iss.as_str()));
    let unapproved = get_as(&w.server, &w.bob.cookie, &format!("/o/authorize/?{query}"));
    let params = params_of(redirect(&unapproved), '?');
    assert_eq!(param(&params, "error"), Some("consent_required"));
    // Once bob approved and holds a token covering the request, prompt=none goes through.
    w.code_flow("openid");
    let silent = get_as(&w.server, &w.bob.cookie, &format!("/o/authorize/?{query}"));
    let params = params_of(redirect(&silent), '?');
    assert!(param(&params, "code").is_some(), "{params:?}");
    assert_eq!(rows(&w.server, "authorization_codes"), 2);
}

#[test]
fn prompt_login_and_max_age_ask_for_the_password_again_once() {
    let w = World::new();
    let login_again = |query: &str| {
        let reply = get_as(&w.server, &w.bob.cookie, &format!("/o/authorize/?{query}"));
        let location = redirect(&reply).to_owned();
        assert!(location.starts_with("/accounts/login/?next="), "{location}");
        location
    };
    let location = login_again(&w.query("code", "openid", "&prompt=login&login_hint=bob"));
    let page = get_as(&w.server, &w.bob.cookie, &location);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("value=\"bob\""),
        "login_hint fills in the username"
    );
    let next: Vec<(String, String)> =
        serde_urlencoded::from_str(location.split_once('?').unwrap().1).unwrap();
    let next = param(&next, "next").unwrap();
    assert!(
        !next.contains("prompt"),
        "signed in again, not asked again: {next}"
    );
    let fresh = sign_in(&w.server, "bob", PASSWORD);
    let consent = get_as(&w.server, &fresh.cookie, next);
    assert_eq!(consent.status, 200, "the consent page, not the login again");
    assert!(consent.body.contains("action=\"/o/authorize/\""));

    w.server.advance(120);
    let max_age = w.query("code", "openid", "&max_age=60");
    let location = login_again(&max_age);
    assert!(!location.contains("max_age"), "{location}");
    let fresh = sign_in(&w.server, "bob", PASSWORD);
    let consent = get_as(
        &w.server,
        &fresh.cookie,
        &format!("/o/authorize/?{max_age}"),
    );
    assert_eq!(consent.status, 200, "signed in within max_age");
}

#[test]
fn hostile_openid_parameters_get_the_rfc_error_and_change_nothing() {
    let w = World::new();
    let long_nonce = format!("&nonce={}", "n".repeat(10_000));
    for (extra, error) in [
        ("&nonce=n&prompt=none%20login", "invalid_request"),
        ("&nonce=n&prompt=sometimes", "invalid_request"),
        ("&nonce=n&max_age=-1", "invalid_request"),
        ("&nonce=n&max_age=1e3", "invalid_request"),
        (long_nonce.as_str(), "invalid_request"),
        ("&request=eyJhbGciOiJub25lIn0.e30.", "request_not_supported"),
        (
            "&request_uri=https%3A%2F%2Frp.example%2Fr",
            "request_uri_not_supported",
        ),
        ("&response_mode=form_post", "invalid_request"),
    ] {
        let query = format!(
            "response_type=code&client_id={}&redirect_uri={}&scope=openid&state=st{extra}",
            w.client.id,
            form_encode(CALLBACK)
        );
        let reply = get_as(&w.server, &w.bob.cookie, &format!("/o/authorize/?{query}"));
        let params = params_of(redirect(&reply), '?');
        assert_eq!(param(&params, "error"), Some(error), "{extra:.60}");
        assert_eq!(param(&params, "iss"), Some(issuer(&w.server).as_str()));
        assert_eq!(param(&params, "state"), Some("st"));
    }
    let unknown_client = w
        .query("code", "openid", "&prompt=none")
        .replace(&w.client.id, "nobody");
    let reply = get_as(
        &w.server,
        &w.bob.cookie,
        &format!("/o/authorize/?{unknown_client}"),
    );
    assert_eq!(
        reply.status, 400,
        "an untrusted client gets a page, even with prompt=none"
    );
    assert_eq!(rows(&w.server, "authorization_codes"), 0);
    assert_eq!(rows(&w.server, "access_tokens"), 0);
}

#[test]
fn after_a_key_rotation_new_id_tokens_use_the_new_key_and_old_ones_still_verify() {
    let w = World::new();
    let kid = |token: &str| -> String {
        let header = token.split('.').next().unwrap();
        let header: Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
                .unwrap(),
        )
        .unwrap();
        header["kid"].as_str().unwrap().to_owned()
    };
    let before = w.code_flow("openid")["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, _, err) = w.server.cli(&["keys", "rotate"], "");
    assert_eq!(code, 0, "{err}");
    let after = w.code_flow("openid")["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(
        kid(&before),
        kid(&after),
        "the running server signs with the new key"
    );
    w.verified(&after);
    w.verified(&before);
    let jwks = w
        .server
        .request("GET", "/o/.well-known/jwks.json", &[], b"")
        .json();
    let published: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(published, [kid(&after), kid(&before)]);
    for key in jwks["keys"].as_array().unwrap() {
        for member in ["kty", "use", "alg", "kid", "n", "e"] {
            assert!(key.get(member).is_some(), "{member}");
        }
        assert!(key.get("d").is_none(), "no private member is published");
    }
}

#[test]
fn the_password_grant_with_openid_gives_an_id_token_from_that_moment() {
    let w = World::new();
    let client = w.server.add_client("confidential", "password", &[]);
    let now = w.server.now();
    let reply = w.server.post_form(
        "/o/token/",
        &format!(
            "grant_type=password&username=bob&password={}&scope=openid+profile",
            form_encode(PASSWORD)
        ),
        Some(client.basic()),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let claims = w.verified(reply.json()["id_token"].as_str().expect("an id_token"));
    assert_eq!(claims["auth_time"], now);
    assert_eq!(claims["aud"], client.id.as_str());
    assert_eq!(claims["preferred_username"], "bob");
    assert!(!claims.contains_key("nonce"));
    let cc = w
        .server
        .add_client("confidential", "client-credentials", &[]);
    let reply = w.server.post_form(
        "/o/token/",
        "grant_type=client_credentials&scope=openid",
        Some(cc.basic()),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.json().get("id_token").is_none(),
        "no user, no id_token"
    );
}

#[test]
fn an_id_token_hint_naming_someone_else_is_not_answered_silently() {
    let w = World::new();
    let bobs = w.code_flow("openid")["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, _, err) = w
        .server
        .cli(&["user", "add", "carol"], "carol's pass\ncarol's pass\n");
    assert_eq!(code, 0, "{err}");
    let carol = sign_in(&w.server, "carol", "carol's pass");
    let silent = |cookie: &str, hint: &str| {
        let query = w.query(
            "code",
            "openid",
            &format!("&prompt=none&id_token_hint={hint}"),
        );
        let reply = get_as(&w.server, cookie, &format!("/o/authorize/?{query}"));
        params_of(redirect(&reply), '?')
    };
    let for_bob = silent(&w.bob.cookie, &bobs);
    assert!(param(&for_bob, "code").is_some(), "{for_bob:?}");
    let for_carol = silent(&carol.cookie, &bobs);
    assert_eq!(param(&for_carol, "error"), Some("login_required"));
    assert!(param(&for_carol, "code").is_none());
    let forged = silent(&w.bob.cookie, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.");
    assert_eq!(param(&forged, "error"), Some("invalid_request"));
    // Without prompt=none, carol is asked to sign in (as whoever the client expects).
    let query = w.query("code", "openid", &format!("&id_token_hint={bobs}"));
    let reply = get_as(&w.server, &carol.cookie, &format!("/o/authorize/?{query}"));
    assert!(redirect(&reply).starts_with("/accounts/login/"));
    assert_eq!(
        rows(&w.server, "authorization_codes"),
        2,
        "bob's two codes only"
    );
}
