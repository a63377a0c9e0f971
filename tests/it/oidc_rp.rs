//! The OpenID provider as relying-party libraries nobody here wrote see it. The Rust
//! `openidconnect` crate discovers it, runs the code flow with PKCE and a nonce for a
//! confidential and a public client, verifies the id_tokens against the served JWKS (and
//! `at_hash`), reads userinfo and refreshes. panva's `openid-client` for Node
//! (`tests/rp/openid_client.mjs`) does the same, then introspects, revokes and logs out.

use crate::support::{
    Approval, Client, TestServer, UserAgent, field, form_fields, library_http, owned, query_param,
    rows,
};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeyType,
    CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType, CoreTokenResponse,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, JsonWebKey, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    ResponseTypes, Scope, SubjectIdentifier, TokenResponse, UserInfoError,
};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The person who signs in: a unicode name and a verified address (the CLI set it).
pub const USERNAME: &str = "carol";
pub const PASSWORD: &str = "carol's pass ü";
pub const EMAIL: &str = "carol@example.com";
pub const FULL_NAME: &str = "Carol Ŋguyen-O'Brien";

/// The registered redirect URI: a loopback one, which matches on any port (RFC 8252 §7.3).
const REGISTERED_REDIRECT: &str = "http://127.0.0.1/cb";
/// Where the relying parties say they listen (nobody does: the test reads the redirect).
const REDIRECT: &str = "http://127.0.0.1:8123/cb";
/// The registered post-logout redirect URI.
const POST_LOGOUT: &str = "http://127.0.0.1:8124/signed-out";

/// A server with carol.
pub fn world() -> (TestServer, oauthd::model::User) {
    let s = TestServer::start();
    let carol = s.add_person(USERNAME, PASSWORD, EMAIL, FULL_NAME);
    assert_ne!(carol.subject, USERNAME, "sub is not the username");
    (s, carol)
}

/// An authorization-code client of this type, with the post-logout redirect URI.
fn code_client(s: &TestServer, client_type: &str) -> Client {
    s.add_app(&[
        "--name",
        "Carol's notes",
        "--client-type",
        client_type,
        "--grant",
        "authorization-code",
        "--redirect-uri",
        REGISTERED_REDIRECT,
        "--post-logout-redirect-uri",
        POST_LOGOUT,
    ])
}

/// What `CoreClient::from_provider_metadata` makes: an authorization endpoint, and token and
/// userinfo endpoints as far as the metadata gave them.
pub type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub fn discover(s: &TestServer) -> CoreProviderMetadata {
    let issuer = IssuerUrl::new(s.base.clone()).unwrap();
    CoreProviderMetadata::discover(&issuer, &library_http()).expect("discovery")
}

/// The library's client for `client`, configured from discovery alone, that says it listens
/// at `redirect`.
pub fn relying_party(s: &TestServer, client: &Client, redirect: &str) -> Rp {
    CoreClient::from_provider_metadata(
        discover(s),
        ClientId::new(client.id.clone()),
        client.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(redirect.into()).unwrap())
}

/// One authorization request the library built: what it must check afterwards.
pub struct Request {
    pub url: url::Url,
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

/// The library's authorization URL for the code flow with PKCE (S256) and a nonce.
pub fn request(rp: &Rp, scopes: &[&str]) -> Request {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut builder = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in scopes {
        builder = builder.add_scope(Scope::new((*scope).into()));
    }
    let (url, state, nonce) = builder.url();
    Request {
        url,
        state,
        nonce,
        verifier,
    }
}

/// The code from an approval, after checking what RFC 6749 §4.1.2 and RFC 9207 §2 require of
/// the response: the request's state, and the issuer in `iss`.
fn code_from(s: &TestServer, approval: &Approval, request: &Request) -> String {
    assert_eq!(
        approval.callback.as_str().split('?').next(),
        Some(REDIRECT),
        "back at the relying party's redirect URI"
    );
    let state = approval.param("state");
    assert_eq!(state.as_deref(), Some(request.state.secret().as_str()));
    assert_eq!(approval.param("iss"), Some(s.base.clone()), "RFC 9207 §2");
    approval.param("code").expect("a code")
}

/// The code exchange through the library.
pub fn exchange(rp: &Rp, code: String, verifier: PkceCodeVerifier) -> CoreTokenResponse {
    rp.exchange_code(AuthorizationCode::new(code))
        .expect("a token endpoint")
        .set_pkce_verifier(verifier)
        .request(&library_http())
        .expect("the code exchange")
}

/// The id_token of a token response, with the claims the library verified (signature against
/// the JWKS, RS256 only, iss, aud, exp, and the nonce).
pub fn verified(rp: &Rp, token: &CoreTokenResponse, nonce: &Nonce) -> CoreIdTokenClaims {
    let id_token = token.id_token().expect("an id_token (OIDC Core §3.1.3.3)");
    id_token
        .claims(&rs256_verifier(rp), nonce)
        .expect("the library verifies the id_token")
        .clone()
}

/// Back at the relying party: the checked response's code exchanged (with the request's PKCE
/// verifier) and the id_token verified, issued by this server to this client.
pub fn complete(
    s: &TestServer,
    rp: &Rp,
    approval: &Approval,
    request: Request,
) -> (CoreTokenResponse, CoreIdTokenClaims) {
    let code = code_from(s, approval, &request);
    let token = exchange(rp, code, request.verifier);
    let claims = verified(rp, &token, &request.nonce);
    assert_eq!(claims.issuer().as_str(), s.base);
    let audience = openidconnect::Audience::new(rp.client_id().to_string());
    assert_eq!(claims.audiences(), &[audience]);
    (token, claims)
}

pub fn rs256_verifier(rp: &Rp) -> openidconnect::core::CoreIdTokenVerifier<'_> {
    rp.id_token_verifier()
        .set_allowed_algs([CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256])
}

/// `at_hash` as the library computes it for the token's access token (OIDC Core §3.1.3.6).
pub fn expected_at_hash(rp: &Rp, token: &CoreTokenResponse) -> AccessTokenHash {
    let id_token = token.id_token().unwrap();
    let verifier = rs256_verifier(rp);
    AccessTokenHash::from_token(
        token.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap()
}

/// The claims about carol that `profile email` allow.
pub fn assert_carol(claims: &CoreIdTokenClaims, carol: &oauthd::model::User) {
    assert_eq!(claims.subject().as_str(), carol.subject);
    let username = claims.preferred_username().map(|u| u.as_str());
    assert_eq!(username, Some(USERNAME));
    let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str());
    assert_eq!(name, Some(FULL_NAME));
    assert_eq!(claims.email().map(|e| e.as_str()), Some(EMAIL));
    assert_eq!(claims.email_verified(), Some(true));
}

#[test]
fn openidconnect_discovers_the_provider_and_its_signing_keys() {
    let (s, _) = world();
    let provider = discover(&s);
    let at = |path: &str| format!("{}{path}", s.base);
    assert_eq!(provider.issuer().as_str(), s.base, "no trailing slash");
    assert_eq!(
        provider.authorization_endpoint().as_str(),
        at("/o/authorize/")
    );
    let token_endpoint = provider.token_endpoint().map(|u| u.as_str());
    assert_eq!(token_endpoint, Some(at("/o/token/").as_str()));
    let userinfo = provider.userinfo_endpoint().map(|u| u.url().as_str());
    assert_eq!(userinfo, Some(at("/o/userinfo/").as_str()));
    assert_eq!(provider.jwks_uri().as_str(), at("/o/.well-known/jwks.json"));
    let scopes: Vec<String> = (provider
        .scopes_supported()
        .expect("scopes_supported")
        .iter())
    .map(|s| s.to_string())
    .collect();
    for scope in ["openid", "profile", "email", "offline_access"] {
        assert!(scopes.iter().any(|s| s == scope), "{scope} in {scopes:?}");
    }
    let code = ResponseTypes::new(vec![CoreResponseType::Code]);
    let id_token = ResponseTypes::new(vec![CoreResponseType::IdToken]);
    let both = ResponseTypes::new(vec![CoreResponseType::IdToken, CoreResponseType::Token]);
    for kind in [&code, &id_token, &both] {
        assert!(
            provider.response_types_supported().contains(kind),
            "{:?}",
            provider.response_types_supported()
        );
    }
    assert_eq!(
        provider.id_token_signing_alg_values_supported(),
        &[CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
    );

    // The library fetched the JWKS: RSA keys with a key id each, for signatures.
    let keys = provider.jwks().keys();
    assert!(!keys.is_empty(), "the JWKS has a key");
    for key in keys {
        assert_eq!(key.key_type(), &CoreJsonWebKeyType::RSA);
        assert!(key.key_id().is_some(), "every key has a kid");
        let alg = serde_json::to_value(key).unwrap()["alg"].clone();
        assert!(alg.is_null() || alg == "RS256", "{alg}");
    }

    // What the library does not model, read raw: RFC 9207's flag, PKCE's methods, and the
    // same document at DOT's path and at RFC 8414's.
    let raw = s.request("GET", "/.well-known/openid-configuration", &[], b"");
    assert_eq!(raw.status, 200, "{}", raw.body);
    let document = raw.json();
    assert_eq!(
        document["authorization_response_iss_parameter_supported"],
        true
    );
    let methods = &document["code_challenge_methods_supported"];
    assert!(
        methods.as_array().unwrap().contains(&"S256".into()),
        "{methods}"
    );
    assert_eq!(document["end_session_endpoint"], at("/o/logout/"));
    for path in [
        "/o/.well-known/openid-configuration/",
        "/.well-known/oauth-authorization-server",
    ] {
        let other = s.request("GET", path, &[], b"");
        assert_eq!(other.status, 200, "{path}: {}", other.body);
        assert_eq!(other.json(), document, "{path} serves the same document");
    }
}

#[test]
fn openidconnect_code_flow_for_a_confidential_client_verifies_everything() {
    let (s, carol) = world();
    let client = code_client(&s, "confidential");
    let rp = relying_party(&s, &client, REDIRECT);
    let http = library_http();

    let request = request(&rp, &["profile", "email"]);
    let asked = query_param(&request.url, "scope");
    assert_eq!(asked.as_deref(), Some("openid profile email"));
    let agent = UserAgent::new(&s.http);
    let approval = agent.authorize(request.url.as_str(), USERNAME, PASSWORD);
    for words in [
        "Sign you in to it with your account here",
        "See your username and your name",
        "See your email address",
    ] {
        assert!(approval.consent.body.contains(words), "{words}");
    }
    let nonce = request.nonce.clone();
    let (token, claims) = complete(&s, &rp, &approval, request);
    assert_eq!(claims.nonce().map(|n| n.secret()), Some(nonce.secret()));
    assert_carol(&claims, &carol);
    let auth_time = claims.auth_time().expect("auth_time").timestamp();
    assert_eq!(auth_time, s.now(), "carol signed in at the server's now");
    assert_eq!(claims.issue_time().timestamp(), s.now());
    assert!(claims.expiration() > claims.issue_time());
    let at_hash = claims.access_token_hash().expect("at_hash");
    assert_eq!(at_hash, &expected_at_hash(&rp, &token));

    // The library refuses what it must: another nonce, another audience, a forged signature.
    let id_token = token.id_token().unwrap();
    let verifier = rs256_verifier(&rp);
    let other_nonce = Nonce::new("someone else's".into());
    assert!(matches!(
        id_token.claims(&verifier, &other_nonce),
        Err(ClaimsVerificationError::InvalidNonce(_))
    ));
    let other_client = rp.id_token_verifier();
    let strangers = openidconnect::core::CoreIdTokenVerifier::new_public_client(
        ClientId::new("another-client".into()),
        IssuerUrl::new(s.base.clone()).unwrap(),
        discover(&s).jwks().clone(),
    );
    assert!(matches!(
        id_token.claims(&strangers, &nonce),
        Err(ClaimsVerificationError::InvalidAudience(_))
    ));
    let forged = forge_signature(id_token);
    assert!(matches!(
        forged.claims(&other_client, &nonce),
        Err(ClaimsVerificationError::SignatureVerification(_))
    ));

    // Userinfo through the library, which checks the subject (OIDC Core §5.3.4).
    let info: CoreUserInfoClaims = rp
        .user_info(token.access_token().clone(), Some(claims.subject().clone()))
        .expect("a userinfo endpoint")
        .request(&http)
        .expect("userinfo");
    assert_eq!(info.subject().as_str(), carol.subject);
    assert_eq!(info.email().map(|e| e.as_str()), Some(EMAIL));
    let name = info.name().and_then(|n| n.get(None)).map(|n| n.as_str());
    assert_eq!(name, Some(FULL_NAME));
    assert_eq!(info.email_verified(), Some(true));
    let wrong_sub = SubjectIdentifier::new("somebody-else".into());
    let mismatch = rp
        .user_info(token.access_token().clone(), Some(wrong_sub))
        .unwrap()
        .request::<openidconnect::EmptyAdditionalClaims, openidconnect::core::CoreGenderClaim, _>(
            &http,
        );
    assert!(
        matches!(mismatch, Err(UserInfoError::ClaimsVerification(_))),
        "{mismatch:?}"
    );

    // A refresh, two minutes later, returns a new id_token about the same person, issued
    // now, about the original authentication (OIDC Core §12.2).
    s.advance(120);
    let refresh = token.refresh_token().expect("a refresh token");
    let renewed = rp
        .exchange_refresh_token(refresh)
        .unwrap()
        .request(&http)
        .expect("the refresh");
    let no_nonce_or_the_original = |got: Option<&Nonce>| match got {
        None => Ok(()),
        Some(n) if n.secret() == nonce.secret() => Ok(()),
        Some(n) => Err(format!("unexpected nonce {}", n.secret())),
    };
    let renewed_claims = renewed
        .id_token()
        .expect("the refresh returns an id_token")
        .claims(&verifier, no_nonce_or_the_original)
        .expect("the library verifies the refreshed id_token")
        .clone();
    assert_eq!(renewed_claims.subject(), claims.subject(), "the same sub");
    assert_eq!(renewed_claims.issuer(), claims.issuer());
    assert_eq!(renewed_claims.audiences(), claims.audiences());
    assert_eq!(
        renewed_claims.auth_time(),
        claims.auth_time(),
        "§12.2: auth_time is the original authentication's"
    );
    assert_eq!(
        renewed_claims.issue_time().timestamp(),
        s.now(),
        "§12.2: iat is now"
    );
    if let Some(hash) = renewed_claims.access_token_hash() {
        assert_eq!(hash, &expected_at_hash(&rp, &renewed));
    }
    let renewed_info: CoreUserInfoClaims = rp
        .user_info(
            renewed.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request(&http)
        .expect("userinfo with the new access token");
    assert_eq!(renewed_info.subject().as_str(), carol.subject);
    // Rotation retired the first access token.
    let old = token.access_token().secret();
    let refused = s.with_bearer("GET", "/o/userinfo/", old, "");
    assert_eq!(refused.status, 401, "{}", refused.body);
}

/// The same id_token with one character of its signature changed.
fn forge_signature(id_token: &CoreIdToken) -> CoreIdToken {
    let text = id_token.to_string();
    let (signed, signature) = text.rsplit_once('.').unwrap();
    let mut bytes = signature.as_bytes().to_vec();
    bytes[4] = if bytes[4] == b'A' { b'B' } else { b'A' };
    let forged = format!("{signed}.{}", String::from_utf8(bytes).unwrap());
    forged.parse().expect("still a JWT")
}

#[test]
fn openidconnect_code_flow_for_a_public_client_needs_the_right_verifier() {
    let (s, carol) = world();
    let client = code_client(&s, "public");
    assert!(client.secret.is_none());
    let rp = relying_party(&s, &client, REDIRECT);
    let agent = UserAgent::new(&s.http);

    // Nobody signed in and prompt=none: login_required, back at the client with state and
    // iss (OIDC Core §3.1.2.6, RFC 9207 §2), no login page.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, state, _) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_prompt(openidconnect::core::CoreAuthPrompt::None)
        .set_pkce_challenge(challenge)
        .url();
    let silent = agent.get(url.as_str());
    assert_eq!(silent.status, 303, "{}", silent.body);
    let back = url::Url::parse(&agent.location(&silent)).expect("back at the client");
    assert_eq!(back.as_str().split('?').next(), Some(REDIRECT));
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(
        query_param(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(query_param(&back, "iss"), Some(s.base.clone()));

    // A code exchanged with another verifier is refused (RFC 7636 §4.6).
    let first = request(&rp, &["profile"]);
    let approval = agent.authorize(first.url.as_str(), USERNAME, PASSWORD);
    let code = code_from(&s, &approval, &first);
    let wrong = PkceCodeVerifier::new("x".repeat(64));
    let refused = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(wrong)
        .request(&library_http());
    match refused {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(e.error().to_string(), "invalid_grant", "{e:?}");
        }
        other => panic!("expected invalid_grant, got {other:?}"),
    }

    // Signed in already: the consent page straight away, then the right verifier.
    let second = request(&rp, &["profile"]);
    let approval = agent.approve(second.url.as_str());
    let (token, claims) = complete(&s, &rp, &approval, second);
    assert_eq!(claims.subject().as_str(), carol.subject);
    let username = claims.preferred_username().map(|u| u.as_str());
    assert_eq!(username, Some(USERNAME));
    assert_eq!(claims.email(), None, "no email scope, no email");
    assert_eq!(
        claims.access_token_hash(),
        Some(&expected_at_hash(&rp, &token))
    );
    let info: CoreUserInfoClaims = rp
        .user_info(token.access_token().clone(), Some(claims.subject().clone()))
        .unwrap()
        .request(&library_http())
        .expect("userinfo");
    assert_eq!(info.email(), None, "userinfo keeps to the scope too");
    assert_eq!(
        info.preferred_username().map(|u| u.as_str()),
        Some(USERNAME)
    );

    let renewed = rp
        .exchange_refresh_token(token.refresh_token().expect("a refresh token"))
        .unwrap()
        .request(&library_http())
        .expect("a public client's refresh");
    let renewed_claims = renewed
        .id_token()
        .expect("the refresh returns an id_token")
        .claims(&rs256_verifier(&rp), |_: Option<&Nonce>| Ok(()))
        .expect("verified")
        .clone();
    assert_eq!(renewed_claims.subject(), claims.subject());
}

/// A response in a URL's fragment, as pairs.
fn fragment_of(url: &url::Url) -> Vec<(String, String)> {
    let fragment = url
        .fragment()
        .unwrap_or_else(|| panic!("the response in the fragment: {url}"));
    serde_urlencoded::from_str(fragment).unwrap()
}

fn pair<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn openidconnect_implicit_flow_id_token_with_and_without_an_access_token() {
    let (s, carol) = world();
    let client = s.add_app(&[
        "--name",
        "Carol's widget",
        "--client-type",
        "public",
        "--grant",
        "implicit",
        "--redirect-uri",
        REGISTERED_REDIRECT,
    ]);
    let rp = relying_party(&s, &client, REDIRECT);
    let agent = UserAgent::new(&s.http);
    let mut signed_in = false;
    for with_token in [true, false] {
        let (url, state, nonce) = rp
            .authorize_url(
                CoreAuthenticationFlow::Implicit(with_token),
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .url();
        let approval = if signed_in {
            agent.approve(url.as_str())
        } else {
            agent.authorize(url.as_str(), USERNAME, PASSWORD)
        };
        signed_in = true;
        assert_eq!(approval.callback.query(), None, "nothing in the query");
        let answer = fragment_of(&approval.callback);
        assert_eq!(pair(&answer, "state"), Some(state.secret().as_str()));
        assert_eq!(pair(&answer, "iss"), Some(s.base.as_str()), "RFC 9207 §2");
        let id_token: CoreIdToken = pair(&answer, "id_token")
            .expect("an id_token")
            .parse()
            .unwrap();
        let verifier = rs256_verifier(&rp);
        let claims = id_token
            .claims(&verifier, &nonce)
            .expect("the library verifies the id_token");
        assert_eq!(claims.subject().as_str(), carol.subject);
        let access = pair(&answer, "access_token");
        if with_token {
            // OIDC Core §3.2.2.10: at_hash is REQUIRED beside an access token.
            let access = openidconnect::AccessToken::new(access.expect("an access token").into());
            let alg = id_token.signing_alg().unwrap();
            let key = id_token.signing_key(&verifier).unwrap();
            let expected = AccessTokenHash::from_token(&access, alg, key).unwrap();
            assert_eq!(claims.access_token_hash(), Some(&expected));
            let info: CoreUserInfoClaims = rp
                .user_info(access, Some(claims.subject().clone()))
                .unwrap()
                .request(&library_http())
                .expect("userinfo with the implicit access token");
            assert_eq!(info.subject().as_str(), carol.subject);
        } else {
            assert_eq!(
                access, None,
                "response_type=id_token issues no access token"
            );
            assert_eq!(claims.access_token_hash(), None);
        }
    }

    // OIDC Core §3.2.2.1: nonce is REQUIRED in the implicit flow; the error goes back in the
    // fragment, since the client and its redirect URI are valid.
    let (url, _, _) = rp
        .authorize_url(
            CoreAuthenticationFlow::Implicit(true),
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let mut without_nonce = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "nonce")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    without_nonce.query_pairs_mut().clear().extend_pairs(kept);
    let refused = agent.get(without_nonce.as_str());
    assert_eq!(refused.status, 303, "{}", refused.body);
    let back = url::Url::parse(&agent.location(&refused)).unwrap();
    let answer = fragment_of(&back);
    assert_eq!(pair(&answer, "error"), Some("invalid_request"), "{back}");
    assert_eq!(pair(&answer, "access_token"), None);
}

/// Kills the child `pid` unless the returned sender is sent to within a minute (a test that
/// panics drops it, which kills the child at once), so that a hung client fails its test
/// instead of hanging it.
pub fn kill_if_hung(pid: u32) -> mpsc::Sender<()> {
    let (done, finished) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if finished.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    });
    done
}

/// `tests/rp/`, where the Node relying party lives.
fn node_rp_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/rp")
}

/// Fails, with what to do, when Node or the npm package `package` is missing.
fn node_is_ready(package: &str) {
    let version = Command::new("node").arg("--version").output();
    match version {
        Ok(out) if out.status.success() => {}
        _ => panic!(
            "`node` is missing: install Debian's nodejs and npm packages \
             (apt-get install nodejs npm), then run `npm ci --prefix tests/rp`"
        ),
    }
    let manifest = node_rp_dir().join(format!("node_modules/{package}/package.json"));
    assert!(
        manifest.exists(),
        "{package} is not installed: run `npm ci --prefix tests/rp` once"
    );
}

/// What the Node relying party printed last, after the test handed it the callback URL.
fn run_openid_client(
    s: &TestServer,
    client: &Client,
    play_the_user: impl FnOnce(&str) -> String,
) -> serde_json::Value {
    let args = [
        s.base.as_str(),
        client.id.as_str(),
        client.secret.as_deref().unwrap(),
        REDIRECT,
        POST_LOGOUT,
    ];
    run_node_rp(
        "openid_client.mjs",
        "openid-client",
        &args,
        "authorize ",
        play_the_user,
    )
}

/// Runs `tests/rp/{script}` (which needs the npm package `package`) with `args`: it prints
/// `{prefix}<URL>` on its first line, the test plays the user with that URL and hands the
/// script the line `play_the_user` returns; the script's last line, JSON, is returned. A
/// script that fails or hangs fails the test.
pub fn run_node_rp(
    script: &str,
    package: &str,
    args: &[&str],
    prefix: &str,
    play_the_user: impl FnOnce(&str) -> String,
) -> serde_json::Value {
    node_is_ready(package);
    let mut child = Command::new("node")
        .arg(node_rp_dir().join(script))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node");
    let pid = child.id();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (errors, error_text) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
        let _ = errors.send(text);
    });
    // A hung Node process is killed, so that the test fails instead of hanging.
    let done = kill_if_hung(pid);
    let fail = |what: &str, errors: &mpsc::Receiver<String>| -> ! {
        let text = errors.recv_timeout(Duration::from_secs(10));
        panic!("{what}; node said: {}", text.unwrap_or_default())
    };

    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let Some(url) = line.trim().strip_prefix(prefix) else {
        fail(&format!("no {prefix:?} line ({line:?})"), &error_text)
    };
    let answer = play_the_user(url);
    writeln!(stdin, "{answer}").unwrap();
    drop(stdin);
    let mut last = String::new();
    stdout.read_line(&mut last).unwrap();
    let status = child.wait().unwrap();
    let _ = done.send(());
    if !status.success() || last.trim().is_empty() {
        fail(&format!("{script} failed ({status})"), &error_text)
    }
    serde_json::from_str(&last).unwrap_or_else(|e| panic!("not JSON ({e}): {last}"))
}

#[test]
fn openid_client_for_node_signs_in_refreshes_introspects_revokes_and_logs_out() {
    let (s, carol) = world();
    let client = code_client(&s, "confidential");
    let agent = UserAgent::new(&s.http);
    let mut nonce_asked = None;
    let saw = run_openid_client(&s, &client, |url| {
        let url = url::Url::parse(url).expect("an authorization URL");
        assert_eq!(
            query_param(&url, "code_challenge_method").as_deref(),
            Some("S256")
        );
        assert_eq!(query_param(&url, "max_age").as_deref(), Some("300"));
        nonce_asked = query_param(&url, "nonce");
        let approval = agent.authorize(url.as_str(), USERNAME, PASSWORD);
        assert!(approval.consent.body.contains("offline_access"));
        approval.callback.to_string()
    });
    let at = |path: &str| format!("{}{path}", s.base);

    assert_eq!(saw["metadata"]["issuer"], s.base);
    assert_eq!(saw["metadata"]["end_session_endpoint"], at("/o/logout/"));
    assert_eq!(saw["callback_iss"], s.base, "RFC 9207 §2");
    assert_eq!(
        saw["token_type"].as_str().map(str::to_lowercase),
        Some("bearer".into())
    );
    let claims = &saw["claims"];
    assert_eq!(claims["sub"], carol.subject.as_str());
    assert_eq!(claims["iss"], s.base);
    assert_eq!(claims["aud"], client.id.as_str());
    assert_eq!(claims["nonce"], saw["nonce"]);
    assert_eq!(nonce_asked.as_deref(), saw["nonce"].as_str());
    assert_eq!(claims["auth_time"], s.now());
    assert_eq!(claims["email"], EMAIL);
    assert_eq!(claims["name"], FULL_NAME);
    assert_eq!(claims["preferred_username"], USERNAME);
    let userinfo = &saw["userinfo"];
    assert_eq!(userinfo["sub"], carol.subject.as_str());
    assert_eq!(userinfo["email"], EMAIL);
    assert_eq!(userinfo["email_verified"], true);

    let refreshed = &saw["refreshed"];
    assert_eq!(refreshed["claims"]["sub"], carol.subject.as_str(), "§12.2");
    assert_eq!(refreshed["claims"]["auth_time"], claims["auth_time"]);
    assert_eq!(refreshed["new_refresh_token"], true, "rotated");

    let introspection = &saw["introspection"];
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["client_id"], client.id.as_str());
    let scope = introspection["scope"].as_str().unwrap_or_default();
    for wanted in ["openid", "profile", "email", "offline_access"] {
        assert!(scope.split(' ').any(|s| s == wanted), "{scope}");
    }
    assert_eq!(saw["after_revocation"]["active"], false);
    let challenged = &saw["revoked_userinfo"];
    assert_eq!(challenged["status"], 401, "{challenged}");
    assert_eq!(challenged["code"], "OAUTH_WWW_AUTHENTICATE_CHALLENGE");
    assert_eq!(challenged["challenges"][0]["scheme"], "bearer");
    let error = &challenged["challenges"][0]["parameters"]["error"];
    assert_eq!(error, "invalid_token", "RFC 6750 §3.1");
    // The revoked token is dead for everyone, not only in openid-client's eyes.
    let revoked = field(refreshed, "access_token");
    let form = format!("token={revoked}");
    let answer = s.post_form("/o/introspect/", &form, Some(client.basic()));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["active"], false);
    let refused = s.with_bearer("GET", "/o/userinfo/", &revoked, "");
    assert_eq!(refused.status, 401, "{}", refused.body);

    // RP-initiated logout: the end-session URL, the confirmation, then back with state.
    let end_session = url::Url::parse(&field(&saw, "end_session_url")).unwrap();
    assert!(end_session.as_str().starts_with(&at("/o/logout/?")));
    let param = |name: &str| query_param(&end_session, name);
    assert!(param("id_token_hint").is_some());
    assert_eq!(param("client_id").as_deref(), Some(client.id.as_str()));
    assert_eq!(
        param("post_logout_redirect_uri").as_deref(),
        Some(POST_LOGOUT)
    );
    let state = field(&saw, "logout_state");
    assert_eq!(param("state").as_deref(), Some(state.as_str()));

    let carols_sessions = format!("sessions WHERE user_id = {}", carol.id);
    assert_eq!(rows(&s, &carols_sessions), 1);
    let confirmation = agent.get(end_session.as_str());
    assert_eq!(confirmation.status, 200, "{}", confirmation.body);
    assert!(
        confirmation.body.contains("Sign out?"),
        "{}",
        confirmation.body
    );
    assert!(
        confirmation.body.contains("Carol&#39;s notes")
            || confirmation.body.contains("Carol's notes")
    );
    assert_eq!(rows(&s, &carols_sessions), 1, "a GET signs nobody out");
    let mut fields = form_fields(&confirmation, "/o/logout/");
    assert!(fields.iter().any(|(k, _)| k == "csrfmiddlewaretoken"));
    fields.extend(owned(&[("confirm", "yes".to_owned())]));
    let signed_out = agent.post("/o/logout/", &fields);
    assert_eq!(signed_out.status, 303, "{}", signed_out.body);
    let back = url::Url::parse(&agent.location(&signed_out)).unwrap();
    assert_eq!(back.as_str().split('?').next(), Some(POST_LOGOUT));
    assert_eq!(query_param(&back, "state"), Some(state));
    assert_eq!(
        agent.cookie("oauthd_session"),
        None,
        "the session cookie is cleared"
    );
    assert_eq!(rows(&s, &carols_sessions), 0, "the session is gone");
    // Signed out for real: the next authorization request asks for the password again.
    let again = agent.get(&field(&saw, "authorization_url"));
    assert_eq!(again.status, 303);
    assert!(agent.location(&again).starts_with("/accounts/login/"));
}
