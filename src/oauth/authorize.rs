//! The authorization endpoint (RFC 6749 §3.1, §4.1.1, §4.2.1) as a pure decision: a request,
//! the client it names, the signed-in user and the settings give the next step.

use crate::model::{Application, ClientType, GrantType};
use crate::oauth::error::OAuthError;
use crate::oauth::pkce::{self, Challenge, Method};
use crate::oauth::redirect::resolve_redirect_uri;
use crate::oauth::scope::{self, Scopes};
use crate::settings::{ApprovalPrompt, PkceRequired, Settings};

/// The response types (RFC 6749 §3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// `code`: the authorization code flow.
    Code,
    /// `token`: the implicit flow.
    Token,
}

impl ResponseType {
    /// Every response type, as `response_types_supported` lists them.
    pub const ALL: [ResponseType; 2] = [ResponseType::Code, ResponseType::Token];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Code => "code",
            ResponseType::Token => "token",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<ResponseType> {
        ResponseType::ALL.into_iter().find(|rt| rt.as_str() == text)
    }

    /// The grant an application must be registered for to use it.
    pub fn grant(self) -> GrantType {
        match self {
            ResponseType::Code => GrantType::AuthorizationCode,
            ResponseType::Token => GrantType::Implicit,
        }
    }

    /// Where its answer goes (OAuth 2.0 Multiple Response Type Encoding Practices §2.1): a
    /// code in the query; anything with a token in the fragment, which never reaches a server
    /// log or a Referer (RFC 6749 §4.2.2).
    pub fn response_mode(self) -> ResponseMode {
        match self {
            ResponseType::Code => ResponseMode::Query,
            ResponseType::Token => ResponseMode::Fragment,
        }
    }
}

/// Where an authorization response's parameters go on the redirect URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// In the query string.
    Query,
    /// In the fragment.
    Fragment,
}

impl ResponseMode {
    /// Every mode, as `response_modes_supported` lists them.
    pub const ALL: [ResponseMode; 2] = [ResponseMode::Query, ResponseMode::Fragment];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::Fragment => "fragment",
        }
    }
}

/// The raw parameters of an authorization request (query of the GET, hidden fields of the
/// consent POST — checked again in full either way).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationParams<'a> {
    /// `response_type`.
    pub response_type: Option<&'a str>,
    /// `client_id`.
    pub client_id: Option<&'a str>,
    /// `redirect_uri`.
    pub redirect_uri: Option<&'a str>,
    /// `scope`.
    pub scope: Option<&'a str>,
    /// `state`, returned untouched.
    pub state: Option<&'a str>,
    /// `code_challenge`.
    pub code_challenge: Option<&'a str>,
    /// `code_challenge_method`.
    pub code_challenge_method: Option<&'a str>,
    /// `approval_prompt`: `auto` or `force` (DOT).
    pub approval_prompt: Option<&'a str>,
}

impl<'a> AuthorizationParams<'a> {
    /// Reads the parameters by name from a query or a form.
    pub fn read(get: impl Fn(&str) -> Option<&'a str>) -> AuthorizationParams<'a> {
        AuthorizationParams {
            response_type: get("response_type"),
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            scope: get("scope"),
            state: get("state"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
            approval_prompt: get("approval_prompt"),
        }
    }
}

/// A request that passed every check: what the consent page carries (as its hidden fields),
/// the code keeps until its exchange, and the answer is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// Code or implicit.
    pub response_type: ResponseType,
    /// The client's public id.
    pub client_id: String,
    /// The client's row id.
    pub application_id: i64,
    /// Where the answer goes.
    pub redirect_uri: String,
    /// The request named the redirect URI (the exchange must then repeat it).
    pub redirect_uri_given: bool,
    /// The scope asked (or the defaults), within what the client may have.
    pub scope: Scopes,
    /// `state`, to hand back.
    pub state: Option<String>,
    /// The PKCE challenge for the code.
    pub challenge: Option<Challenge>,
}

impl AuthorizationRequest {
    /// The consent form's hidden fields: the request as [`AuthorizationParams::read`] reads it
    /// back (DOT's AllowForm), checked again in full when the form comes back.
    pub fn hidden_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("response_type", self.response_type.as_str().to_owned()),
            ("client_id", self.client_id.clone()),
            ("scope", self.scope.to_string()),
        ];
        if self.redirect_uri_given {
            fields.push(("redirect_uri", self.redirect_uri.clone()));
        }
        if let Some(state) = &self.state {
            fields.push(("state", state.clone()));
        }
        if let Some(challenge) = &self.challenge {
            fields.push(("code_challenge", challenge.challenge.clone()));
            fields.push((
                "code_challenge_method",
                challenge.method.as_str().to_owned(),
            ));
        }
        fields
    }

    /// `error`, to be sent back to this request's client.
    pub fn error(&self, error: OAuthError) -> RedirectError {
        RedirectError {
            redirect_uri: self.redirect_uri.clone(),
            mode: self.response_type.response_mode(),
            error,
            state: self.state.clone(),
        }
    }
}

/// An error to send back to the client's verified redirect URI (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    /// The verified redirect URI.
    pub redirect_uri: String,
    /// Query or fragment.
    pub mode: ResponseMode,
    /// The error.
    pub error: OAuthError,
    /// `state`, to hand back.
    pub state: Option<String>,
}

/// What to do with an authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeStep {
    /// The client or the redirect URI cannot be trusted: show this on an error page and never
    /// redirect (RFC 6749 §4.1.2.1).
    ErrorPage(String),
    /// Nobody is signed in: send the user to the login page and back (before any error is
    /// redirected, RFC 9700 §4.11.2).
    Login,
    /// Send an error back to the client.
    Redirect(RedirectError),
    /// Ask the user.
    Consent(AuthorizationRequest),
    /// No need to ask (skip_authorization, or approval_prompt=auto with a covering token).
    Grant(AuthorizationRequest),
}

/// Decides the next step. `app` is the client named by client_id (if any), `signed_in` whether
/// a user is, and `held` the scopes of the valid tokens that user already holds from this
/// client (approval_prompt=auto skips the page when one covers the request).
pub fn decide(
    params: &AuthorizationParams<'_>,
    app: Option<&Application>,
    signed_in: bool,
    held: &[Scopes],
    settings: &Settings,
) -> AuthorizeStep {
    let Some(app) = app.filter(|a| a.usable) else {
        return AuthorizeStep::ErrorPage(match params.client_id {
            None => "The request names no client (client_id is missing).".into(),
            Some(_) => "The client is unknown or disabled.".into(),
        });
    };
    let Some(redirect_uri) = resolve_redirect_uri(&app.fields.redirect_uris, params.redirect_uri)
    else {
        return AuthorizeStep::ErrorPage(match params.redirect_uri {
            None => "The request names no redirect_uri, and the client has several.".into(),
            Some(_) => "The redirect_uri is not one this client registered.".into(),
        });
    };
    if !signed_in {
        return AuthorizeStep::Login;
    }
    let response_type = params.response_type.and_then(ResponseType::parse);
    let fail = |error| {
        AuthorizeStep::Redirect(RedirectError {
            redirect_uri: redirect_uri.clone(),
            mode: response_type.map_or(ResponseMode::Query, ResponseType::response_mode),
            error,
            state: params.state.map(str::to_owned),
        })
    };
    let invalid = |description: &str| fail(OAuthError::InvalidRequest(description.into()));
    let response_type = match (params.response_type, response_type) {
        (None, _) => return fail(OAuthError::missing("response_type")),
        (Some(_), None) => return fail(OAuthError::UnsupportedResponseType),
        (_, Some(rt)) => rt,
    };
    let grant = response_type.grant();
    if !app.allows(grant) {
        return fail(OAuthError::UnauthorizedClient(format!(
            "This client may not use the {grant} grant."
        )));
    }
    let allowed = scope::allowed_for_app(settings, app.fields.allowed_scopes.as_ref());
    let scope = match scope::resolve_requested(params.scope, &allowed, &settings.default_scopes) {
        Ok(scope) => scope,
        Err(e) => return fail(e),
    };
    let challenge = match response_type {
        ResponseType::Token => None,
        ResponseType::Code => {
            match pkce::parse_challenge(params.code_challenge, params.code_challenge_method) {
                Ok(challenge) => challenge,
                Err(why) => return invalid(why),
            }
        }
    };
    let must_use_pkce = response_type == ResponseType::Code
        && match settings.pkce_required {
            PkceRequired::All => true,
            PkceRequired::Public => app.fields.client_type == ClientType::Public,
            PkceRequired::None => false,
        };
    if must_use_pkce && challenge.as_ref().is_none_or(|c| c.method != Method::S256) {
        return invalid("This client must send an S256 code_challenge (PKCE).");
    }
    let prompt = match params.approval_prompt {
        Some("auto") => ApprovalPrompt::Auto,
        Some("force") => ApprovalPrompt::Force,
        _ => settings.request_approval_prompt,
    };
    let request = AuthorizationRequest {
        response_type,
        client_id: app.client_id.clone(),
        application_id: app.id,
        redirect_uri_given: params.redirect_uri.is_some(),
        redirect_uri,
        scope,
        state: params.state.map(str::to_owned),
        challenge,
    };
    let covered = held.iter().any(|h| request.scope.is_subset(h));
    if app.fields.skip_authorization || (prompt == ApprovalPrompt::Auto && covered) {
        AuthorizeStep::Grant(request)
    } else {
        AuthorizeStep::Consent(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::fixtures::{self, with_fields};

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn settings() -> Settings {
        Settings::from_toml(
            "scopes = { read = \"R\", write = \"W\", groups = \"G\" }\ndefault_scopes = [\"read\"]",
        )
        .unwrap()
    }

    fn valid_app() -> Application {
        with_fields(fixtures::valid_app(), |f| {
            f.grant_types = vec![GrantType::AuthorizationCode]
        })
    }

    fn valid_params() -> AuthorizationParams<'static> {
        AuthorizationParams {
            response_type: Some("code"),
            client_id: Some("c"),
            redirect_uri: Some("https://app.example/cb"),
            scope: Some("read write"),
            state: Some("xyz"),
            code_challenge: Some(CHALLENGE),
            code_challenge_method: Some("S256"),
            approval_prompt: None,
        }
    }

    fn step(params: &AuthorizationParams<'_>, app: &Application) -> AuthorizeStep {
        decide(params, Some(app), true, &[], &settings())
    }

    fn redirected_error(step: AuthorizeStep) -> Option<&'static str> {
        match step {
            AuthorizeStep::Redirect(e) => Some(e.error.code()),
            _ => None,
        }
    }

    #[test]
    fn a_valid_request_asks_for_consent() {
        let AuthorizeStep::Consent(request) = step(&valid_params(), &valid_app()) else {
            panic!("expected consent")
        };
        assert_eq!(request.scope.to_string(), "read write");
        assert_eq!(
            (request.redirect_uri.as_str(), request.redirect_uri_given),
            ("https://app.example/cb", true)
        );
        assert_eq!(request.challenge.unwrap().method, Method::S256);
        assert_eq!(request.state.as_deref(), Some("xyz"));
    }

    #[test]
    fn the_hidden_fields_read_back_as_the_same_request() {
        for params in [
            valid_params(),
            AuthorizationParams {
                redirect_uri: None,
                state: None,
                code_challenge: None,
                code_challenge_method: None,
                scope: None,
                ..valid_params()
            },
        ] {
            let AuthorizeStep::Consent(request) = step(&params, &valid_app()) else {
                panic!("expected consent")
            };
            let fields = request.hidden_fields();
            let echoed = AuthorizationParams::read(|name| {
                fields
                    .iter()
                    .find(|(field, _)| *field == name)
                    .map(|(_, value)| value.as_str())
            });
            assert_eq!(step(&echoed, &valid_app()), AuthorizeStep::Consent(request));
        }
    }

    #[test]
    fn untrusted_clients_and_redirect_uris_get_an_error_page_even_before_login() {
        let s = settings();
        let disabled = Application {
            usable: false,
            ..valid_app()
        };
        let bad_uri = AuthorizationParams {
            redirect_uri: Some("https://evil.example/cb"),
            ..valid_params()
        };
        let two = with_fields(valid_app(), |f| {
            f.redirect_uris = vec!["https://a.example/1".into(), "https://a.example/2".into()]
        });
        let no_uri = AuthorizationParams {
            redirect_uri: None,
            ..valid_params()
        };
        for (params, app) in [
            (&valid_params(), None),
            (&valid_params(), Some(&disabled)),
            (&bad_uri, Some(&valid_app())),
            (&no_uri, Some(&two)),
        ] {
            for signed_in in [false, true] {
                assert!(matches!(
                    decide(params, app, signed_in, &[], &s),
                    AuthorizeStep::ErrorPage(_)
                ));
            }
        }
    }

    #[test]
    fn the_user_signs_in_before_any_error_is_redirected() {
        let broken = AuthorizationParams {
            response_type: Some("magic"),
            ..valid_params()
        };
        assert_eq!(
            decide(&broken, Some(&valid_app()), false, &[], &settings()),
            AuthorizeStep::Login
        );
    }

    #[test]
    fn request_errors_go_back_to_the_client() {
        let app = valid_app();
        let table: [(AuthorizationParams<'_>, &str); 7] = [
            (
                AuthorizationParams {
                    response_type: None,
                    ..valid_params()
                },
                "invalid_request",
            ),
            (
                AuthorizationParams {
                    response_type: Some("id_token"),
                    ..valid_params()
                },
                "unsupported_response_type",
            ),
            (
                AuthorizationParams {
                    response_type: Some("token"),
                    ..valid_params()
                },
                "unauthorized_client",
            ),
            (
                AuthorizationParams {
                    scope: Some("admin"),
                    ..valid_params()
                },
                "invalid_scope",
            ),
            (
                AuthorizationParams {
                    code_challenge_method: Some("S512"),
                    ..valid_params()
                },
                "invalid_request",
            ),
            (
                AuthorizationParams {
                    code_challenge: None,
                    ..valid_params()
                },
                "invalid_request",
            ),
            (
                AuthorizationParams {
                    code_challenge: Some("short"),
                    ..valid_params()
                },
                "invalid_request",
            ),
        ];
        for (params, expected) in table {
            assert_eq!(
                redirected_error(step(&params, &app)),
                Some(expected),
                "{params:?}"
            );
        }
    }

    #[test]
    fn pkce_rules_follow_the_setting_and_the_client_type() {
        let confidential = valid_app();
        let public = with_fields(valid_app(), |f| f.client_type = ClientType::Public);
        let without = AuthorizationParams {
            code_challenge: None,
            code_challenge_method: None,
            ..valid_params()
        };
        let plain = AuthorizationParams {
            code_challenge_method: Some("plain"),
            ..valid_params()
        };
        assert!(matches!(
            step(&without, &confidential),
            AuthorizeStep::Consent(_)
        ));
        assert_eq!(
            redirected_error(step(&without, &public)),
            Some("invalid_request")
        );
        assert_eq!(
            redirected_error(step(&plain, &public)),
            Some("invalid_request"),
            "public clients need S256"
        );
        assert!(matches!(
            step(&plain, &confidential),
            AuthorizeStep::Consent(_)
        ));
        let all = Settings {
            pkce_required: PkceRequired::All,
            ..settings()
        };
        assert!(matches!(
            decide(&without, Some(&confidential), true, &[], &all),
            AuthorizeStep::Redirect(_)
        ));
        let none = Settings {
            pkce_required: PkceRequired::None,
            ..settings()
        };
        assert!(matches!(
            decide(&without, Some(&public), true, &[], &none),
            AuthorizeStep::Consent(_)
        ));
    }

    #[test]
    fn consent_is_skipped_only_when_it_may_be() {
        let auto = AuthorizationParams {
            approval_prompt: Some("auto"),
            ..valid_params()
        };
        let s = settings();
        assert!(matches!(
            decide(
                &auto,
                Some(&valid_app()),
                true,
                &[Scopes::parse("read write groups").unwrap()],
                &s
            ),
            AuthorizeStep::Grant(_)
        ));
        assert!(matches!(
            decide(&auto, Some(&valid_app()), true, &[], &s),
            AuthorizeStep::Consent(_)
        ));
        assert!(
            matches!(
                decide(
                    &valid_params(),
                    Some(&valid_app()),
                    true,
                    &[Scopes::parse("read write groups").unwrap()],
                    &s
                ),
                AuthorizeStep::Consent(_)
            ),
            "force is the default"
        );
        let trusted = with_fields(valid_app(), |f| f.skip_authorization = true);
        assert!(matches!(
            step(&valid_params(), &trusted),
            AuthorizeStep::Grant(_)
        ));
    }

    #[test]
    fn implicit_errors_go_in_the_fragment() {
        let app = with_fields(valid_app(), |f| f.grant_types = vec![GrantType::Implicit]);
        let params = AuthorizationParams {
            response_type: Some("token"),
            scope: Some("admin"),
            ..valid_params()
        };
        let AuthorizeStep::Redirect(error) = step(&params, &app) else {
            panic!("expected a redirect")
        };
        assert_eq!(error.mode, ResponseMode::Fragment);
        let ok = AuthorizationParams {
            response_type: Some("token"),
            code_challenge: None,
            code_challenge_method: None,
            ..valid_params()
        };
        assert!(matches!(step(&ok, &app), AuthorizeStep::Consent(r) if r.challenge.is_none()));
    }
}
