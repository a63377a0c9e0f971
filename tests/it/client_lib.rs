//! A real client library none of us wrote (the `oauth2` crate) drives the password,
//! client-credentials and refresh grants, with both ways of sending client credentials.

use crate::support::{ADMIN_PASSWORD, Tutorial, library_http as http_client};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RefreshToken,
    ResourceOwnerPassword, ResourceOwnerUsername, Scope, TokenResponse, TokenUrl,
};

/// A client with only a token endpoint configured.
type TokenOnlyClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn library_client(t: &Tutorial, auth: AuthType) -> TokenOnlyClient {
    BasicClient::new(ClientId::new(t.client.id.clone()))
        .set_client_secret(ClientSecret::new(
            t.client.secret.clone().expect("confidential"),
        ))
        .set_auth_type(auth)
        .set_token_uri(TokenUrl::new(format!("{}/o/token/", t.server.base)).expect("token url"))
}

#[test]
fn oauth2_crate_password_grant_then_refresh() {
    let t = Tutorial::new();
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let client = library_client(&t, auth);
        let token = client
            .exchange_password(
                &ResourceOwnerUsername::new("admin".into()),
                &ResourceOwnerPassword::new(ADMIN_PASSWORD.into()),
            )
            .add_scope(Scope::new("read".into()))
            .request(&http_client())
            .expect("password grant");
        let scopes: Vec<_> = token
            .scopes()
            .expect("scope returned")
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(scopes, ["read"]);
        assert_eq!(token.expires_in().map(|d| d.as_secs()), Some(36000));
        let access = token.access_token().secret().clone();
        assert_eq!(
            t.server.with_bearer("GET", "/users/", &access, "").status,
            200
        );

        let refresh = token
            .refresh_token()
            .expect("a refresh token")
            .secret()
            .clone();
        let renewed = client
            .exchange_refresh_token(&RefreshToken::new(refresh.clone()))
            .request(&http_client())
            .expect("refresh grant");
        let rotated = renewed
            .refresh_token()
            .expect("rotated refresh token")
            .secret();
        assert_ne!(rotated, &refresh, "rotation issues a new refresh token");
        assert_eq!(
            t.server
                .with_bearer("GET", "/api/hello", &access, "")
                .status,
            401,
            "old access token retired"
        );
        let new_access = renewed.access_token().secret();
        assert_eq!(
            t.server
                .with_bearer("GET", "/api/hello", new_access, "")
                .status,
            200
        );
    }
}

#[test]
fn oauth2_crate_client_credentials_and_a_typed_error() {
    let t = Tutorial::new();
    let client = library_client(&t, AuthType::BasicAuth);
    let token = client
        .exchange_client_credentials()
        .request(&http_client())
        .expect("client credentials");
    assert!(
        token.refresh_token().is_none(),
        "client_credentials issues no refresh token"
    );
    let stored = t
        .server
        .store()
        .find_access_token(&oauthd::secret::digest(token.access_token().secret()));
    assert_eq!(
        stored.unwrap().expect("stored").username,
        None,
        "a client_credentials token has no user"
    );

    let wrong = BasicClient::new(ClientId::new(t.client.id.clone()))
        .set_client_secret(ClientSecret::new("wrong".into()))
        .set_token_uri(TokenUrl::new(format!("{}/o/token/", t.server.base)).expect("token url"));
    match wrong.exchange_client_credentials().request(&http_client()) {
        Err(oauth2::RequestTokenError::ServerResponse(e)) => {
            assert_eq!(
                e.error(),
                &oauth2::basic::BasicErrorResponseType::InvalidClient
            );
        }
        other => panic!("expected invalid_client, got {other:?}"),
    }
}

#[test]
fn oauth2_crate_drives_the_code_flow_with_pkce() {
    use crate::support::{consent_fields, post_as, signed_in};
    use oauth2::{AuthUrl, AuthorizationCode, CsrfToken, PkceCodeChallenge, RedirectUrl};
    let t = Tutorial::new();
    let s = &t.server;
    let native = s.add_client(
        "public",
        "authorization-code",
        &["--redirect-uri", "http://127.0.0.1/cb"],
    );
    let client = BasicClient::new(ClientId::new(native.id.clone()))
        .set_auth_uri(AuthUrl::new(format!("{}/o/authorize/", s.base)).expect("auth url"))
        .set_token_uri(TokenUrl::new(format!("{}/o/token/", s.base)).expect("token url"))
        .set_redirect_uri(
            RedirectUrl::new("http://127.0.0.1:8123/cb".into()).expect("redirect url"),
        );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The user: signed in, opens the library's URL, allows.
    let browser = signed_in(s);
    let path = &url.as_str()[s.base.len()..];
    let page = s.request("GET", path, &[("Cookie", browser.cookie.as_str())], b"");
    assert_eq!(page.status, 200, "{}", page.body);
    let mut fields = consent_fields(&page);
    fields.push(("allow".into(), "Authorize".into()));
    let answer = post_as(
        s,
        &browser,
        "/o/authorize/",
        &serde_urlencoded::to_string(&fields).unwrap(),
    );
    let location = answer.header("Location").expect("redirected to the client");
    let back = url::Url::parse(location).expect("an absolute URL");
    assert_eq!(
        (back.host_str(), back.port(), back.path()),
        (Some("127.0.0.1"), Some(8123), "/cb")
    );
    let param = |name: &str| {
        back.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(
        param("state").as_deref(),
        Some(state.secret().as_str()),
        "the library's CSRF state comes back"
    );

    let token = client
        .exchange_code(AuthorizationCode::new(param("code").expect("a code")))
        .set_pkce_verifier(verifier)
        .request(&http_client())
        .expect("code exchange");
    let access = token.access_token().secret();
    assert_eq!(s.with_bearer("GET", "/users/", access, "").status, 200);
    assert!(token.refresh_token().is_some());
}
