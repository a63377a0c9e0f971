//! The authorization endpoint (RFC 6749 §3.1, §4.1.1, §4.2.1; OIDC Core §3.1.2, §3.2.2) as a
//! pure decision: a request, the client it names, who is signed in since when, and the
//! settings give the next step.

use crate::model::{Application, ClientType};
use crate::oauth::error::OAuthError;
use crate::oauth::pkce::{self, Challenge, Method};
use crate::oauth::prompt::{self, Prompt};
use crate::oauth::redirect::resolve_redirect_uri;
use crate::oauth::resource::{self, RESOURCE, Resources};
pub(crate) use crate::oauth::response_type::{ResponseMode, ResponseType};
use crate::oauth::scope::{self, Scopes};
use crate::settings::{ApprovalPrompt, PkceRequired, Settings};

/// The longest `nonce` accepted: it is echoed in every id_token of the grant.
pub(crate) const MAX_NONCE_LENGTH: usize = 512;

/// The raw parameters of an authorization request (query of the GET, hidden fields of the
/// consent POST — checked again in full either way). `display` and `ui_locales` are accepted
/// and ignored (OIDC Core §3.1.2.1 lets a provider do so).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AuthorizationParams<'a> {
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
    /// `response_mode`: `query` or `fragment`.
    pub response_mode: Option<&'a str>,
    /// `nonce`, echoed in the id_token.
    pub nonce: Option<&'a str>,
    /// `prompt`: none, login, consent, select_account.
    pub prompt: Option<&'a str>,
    /// `max_age`: the oldest sign-in accepted, in seconds.
    pub max_age: Option<&'a str>,
    /// `login_hint`: the username the login form starts with.
    pub login_hint: Option<&'a str>,
    /// `request`: a request object, which oauthd does not accept.
    pub request: Option<&'a str>,
    /// `request_uri`: a request object by reference, which oauthd does not fetch.
    pub request_uri: Option<&'a str>,
    /// `id_token_hint`: an id_token naming the user the client expects.
    pub id_token_hint: Option<&'a str>,
    /// `resource`, repeatable: where the tokens are meant to be used (RFC 8707 §2).
    pub resource: Vec<&'a str>,
}

impl<'a> AuthorizationParams<'a> {
    /// Reads the parameters by name from a query or a form: `get` gives a single-valued one,
    /// `all` every value of a repeatable one.
    pub fn read(
        get: impl Fn(&str) -> Option<&'a str>,
        all: impl Fn(&str) -> Vec<&'a str>,
    ) -> AuthorizationParams<'a> {
        AuthorizationParams {
            response_type: get("response_type"),
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            scope: get("scope"),
            state: get("state"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
            approval_prompt: get("approval_prompt"),
            response_mode: get("response_mode"),
            nonce: get("nonce"),
            prompt: get("prompt"),
            max_age: get("max_age"),
            login_hint: get("login_hint"),
            request: get("request"),
            request_uri: get("request_uri"),
            id_token_hint: get("id_token_hint"),
            resource: all(RESOURCE),
        }
    }

    /// The parameters present, by name, as [`AuthorizationParams::read`] reads them (a
    /// repeated one once per value).
    pub fn pairs(&self) -> Vec<(&'static str, &'a str)> {
        let single = [
            ("response_type", self.response_type),
            ("client_id", self.client_id),
            ("redirect_uri", self.redirect_uri),
            ("scope", self.scope),
            ("state", self.state),
            ("code_challenge", self.code_challenge),
            ("code_challenge_method", self.code_challenge_method),
            ("approval_prompt", self.approval_prompt),
            ("response_mode", self.response_mode),
            ("nonce", self.nonce),
            ("prompt", self.prompt),
            ("max_age", self.max_age),
            ("login_hint", self.login_hint),
            ("request", self.request),
            ("request_uri", self.request_uri),
            ("id_token_hint", self.id_token_hint),
        ];
        let single = single.into_iter().filter_map(|(k, v)| Some((k, v?)));
        let resources = self.resource.iter().map(|r| (RESOURCE, *r));
        single.chain(resources).collect()
    }

    /// The request to come back to once the user has signed in: the same, less what asked
    /// for the sign-in (`prompt=login`, `max_age`, an `id_token_hint` naming someone else),
    /// which the fresh sign-in has answered — else it would ask again, for ever.
    /// `prompt=consent` stays; a malformed `prompt` or `max_age` stays too, to be refused once
    /// the user is signed in.
    pub(crate) fn after_login(&self) -> AuthorizationParams<'a> {
        match (
            Prompt::parse(self.prompt),
            prompt::parse_max_age(self.max_age),
        ) {
            (Ok(prompt), Ok(_)) => AuthorizationParams {
                prompt: prompt.consent.then_some("consent"),
                max_age: None,
                id_token_hint: None,
                ..self.clone()
            },
            _ => self.clone(),
        }
    }
}

/// A request that passed every check: what the consent page carries (as its hidden fields),
/// the code keeps until its exchange, and the answer is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthorizationRequest {
    /// What comes back: a code, tokens, an id_token.
    pub response_type: ResponseType,
    /// The `response_mode` the request named, if any.
    pub response_mode: Option<ResponseMode>,
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
    /// `nonce`, for the id_token.
    pub nonce: Option<String>,
    /// The resources named (RFC 8707), within the client's list.
    pub resources: Resources,
}

impl AuthorizationRequest {
    /// The consent form's hidden fields: the request as [`AuthorizationParams::read`] reads it
    /// back (DOT's AllowForm), checked again in full when the form comes back. `prompt` and
    /// `max_age` are not among them: they were answered before the page was shown.
    pub(crate) fn hidden_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("response_type", self.response_type.as_str().to_owned()),
            ("client_id", self.client_id.clone()),
            ("scope", self.scope.to_string()),
        ];
        let optional = [
            (
                "redirect_uri",
                Some(&self.redirect_uri).filter(|_| self.redirect_uri_given),
            ),
            ("state", self.state.as_ref()),
            ("nonce", self.nonce.as_ref()),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                fields.push((name, value.clone()));
            }
        }
        if let Some(mode) = self.response_mode {
            fields.push(("response_mode", mode.as_str().to_owned()));
        }
        if let Some(challenge) = &self.challenge {
            fields.push(("code_challenge", challenge.challenge.clone()));
            fields.push((
                "code_challenge_method",
                challenge.method.as_str().to_owned(),
            ));
        }
        for resource in self.resources.as_slice() {
            fields.push((RESOURCE, resource.clone()));
        }
        fields
    }

    /// Where the answer's parameters go: the mode the request named, else its response
    /// type's default.
    pub fn mode(&self) -> ResponseMode {
        self.response_mode
            .unwrap_or(self.response_type.default_mode())
    }

    /// `error`, to be sent back to this request's client.
    pub fn error(&self, error: OAuthError) -> RedirectError {
        RedirectError {
            redirect_uri: self.redirect_uri.clone(),
            mode: self.mode(),
            error,
            state: self.state.clone(),
        }
    }
}

/// An error to send back to the client's verified redirect URI (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RedirectError {
    /// The verified redirect URI.
    pub redirect_uri: String,
    /// Query or fragment.
    pub mode: ResponseMode,
    /// The error.
    pub error: OAuthError,
    /// `state`, to hand back.
    pub state: Option<String>,
}

/// What an `id_token_hint` says about who is signed in (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// The request has none (or nobody is signed in to compare it with).
    Absent,
    /// It names the signed-in user.
    SameUser,
    /// It names someone else: they must sign in as the one the client expects.
    OtherUser,
    /// It is not an id_token this server issued.
    Invalid,
}

/// The error page's words for a client that is unknown, removed or disabled (RFC 6749
/// §4.1.2.1: shown to the user, never redirected).
pub(crate) const UNKNOWN_CLIENT: &str = "The client is unknown or disabled.";

/// What to do with an authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthorizeStep {
    /// The client or the redirect URI cannot be trusted: show this on an error page and never
    /// redirect (RFC 6749 §4.1.2.1).
    ErrorPage(String),
    /// The user must sign in (nobody is, or prompt=login or max_age asks again): to the login
    /// page and back. Comes before any error is redirected (RFC 9700 §4.11.2), unless the
    /// request said prompt=none.
    Login,
    /// Send an error back to the client.
    Redirect(RedirectError),
    /// Ask the user.
    Consent(AuthorizationRequest),
    /// No need to ask (skip_authorization, a remembered decision, or approval_prompt=auto
    /// with a covering token).
    Grant(AuthorizationRequest),
}

/// What the signed-in user approved this client before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PriorConsent<'a> {
    /// The scopes of the valid tokens they hold from it: approval_prompt=auto skips the page
    /// when one covers the request; so does prompt=none.
    pub held: &'a [Scopes],
    /// The scope sets they ticked "Remember this decision" for: one that covers the request
    /// skips the page, unless the request says approval_prompt=force or prompt=consent.
    pub remembered: &'a [Scopes],
}

/// Decides the next step. `app` is the client named by client_id (if any), `auth_time` when
/// the signed-in user (if any) last authenticated, `hint` what the request's id_token_hint
/// says about them, and `prior` what that user approved this client before.
pub(crate) fn decide(
    params: &AuthorizationParams<'_>,
    app: Option<&Application>,
    auth_time: Option<i64>,
    hint: Hint,
    prior: &PriorConsent<'_>,
    settings: &Settings,
    now: i64,
) -> AuthorizeStep {
    let Some(app) = app.filter(|a| a.usable) else {
        return AuthorizeStep::ErrorPage(match params.client_id {
            None => "The request names no client (client_id is missing).".into(),
            Some(_) => UNKNOWN_CLIENT.into(),
        });
    };
    let Some(redirect_uri) = resolve_redirect_uri(&app.fields.redirect_uris, params.redirect_uri)
    else {
        return AuthorizeStep::ErrorPage(match params.redirect_uri {
            None => "The request names no redirect_uri, and the client has several.".into(),
            Some(_) => "The redirect_uri is not one this client registered.".into(),
        });
    };
    let openid = params
        .scope
        .is_some_and(|scope| scope.split(' ').any(|s| s == "openid"));
    if openid && params.redirect_uri.is_none() {
        // OIDC Core §3.1.2.1: an OpenID request must name it, even for a client with one.
        return AuthorizeStep::ErrorPage(
            "An OpenID Connect request must name its redirect_uri.".into(),
        );
    }
    if auth_time.is_none() && !Prompt::asks_none(params.prompt) {
        return AuthorizeStep::Login;
    }
    let response_type = params.response_type.and_then(ResponseType::parse);
    // Errors go where the answer would have gone: the response_mode asked, if it is one
    // this response type may use, else the response type's default.
    let asked_mode = params.response_mode.and_then(ResponseMode::parse);
    let mode = match (response_type, asked_mode) {
        (Some(rt), Some(mode)) if rt.allows_mode(mode) => mode,
        (Some(rt), _) => rt.default_mode(),
        (None, _) => ResponseMode::Query,
    };
    let fail = |error| {
        AuthorizeStep::Redirect(RedirectError {
            redirect_uri: redirect_uri.clone(),
            mode,
            error,
            state: params.state.map(str::to_owned),
        })
    };
    let request = match check(params, app, &redirect_uri, settings) {
        Ok(request) => request,
        Err(error) => return fail(error),
    };
    let (Ok(prompt), Ok(max_age)) = (
        Prompt::parse(params.prompt),
        prompt::parse_max_age(params.max_age),
    ) else {
        return AuthorizeStep::Redirect(request.error(OAuthError::InvalidRequest(
            "The prompt or max_age is malformed.".into(),
        )));
    };
    if hint == Hint::Invalid {
        return AuthorizeStep::Redirect(request.error(OAuthError::InvalidRequest(
            "The id_token_hint is not an id_token this server issued.".into(),
        )));
    }
    let signed_in_enough = auth_time.is_some_and(|at| {
        !prompt.login && !prompt::too_old(at, max_age, now) && hint != Hint::OtherUser
    });
    if !signed_in_enough {
        return match prompt.none {
            true => AuthorizeStep::Redirect(request.error(OAuthError::LoginRequired)),
            false => AuthorizeStep::Login,
        };
    }
    let approval = match params.approval_prompt {
        Some("auto") => ApprovalPrompt::Auto,
        Some("force") => ApprovalPrompt::Force,
        _ => settings.request_approval_prompt,
    };
    let covers = |sets: &[Scopes]| sets.iter().any(|set| request.scope.is_subset(set));
    let remembered = covers(prior.remembered) && params.approval_prompt != Some("force");
    let may_skip = app.fields.skip_authorization
        || remembered
        || (covers(prior.held) && (approval == ApprovalPrompt::Auto || prompt.none));
    match (prompt.none, may_skip && !prompt.consent) {
        (_, true) => AuthorizeStep::Grant(request),
        (true, false) => AuthorizeStep::Redirect(request.error(OAuthError::ConsentRequired)),
        (false, false) => AuthorizeStep::Consent(request),
    }
}

/// Every check of the request itself, once its client and redirect URI are trusted.
fn check(
    params: &AuthorizationParams<'_>,
    app: &Application,
    redirect_uri: &str,
    settings: &Settings,
) -> Result<AuthorizationRequest, OAuthError> {
    let invalid = |description: &str| OAuthError::InvalidRequest(description.into());
    if params.request.is_some() {
        return Err(OAuthError::RequestNotSupported);
    }
    if params.request_uri.is_some() {
        return Err(OAuthError::RequestUriNotSupported);
    }
    let response_type = params
        .response_type
        .ok_or_else(|| OAuthError::missing("response_type"))?;
    let response_type =
        ResponseType::parse(response_type).ok_or(OAuthError::UnsupportedResponseType)?;
    let grant = response_type.grant();
    if !app.allows(grant) {
        return Err(OAuthError::UnauthorizedClient(format!(
            "This client may not use the {grant} grant."
        )));
    }
    let response_mode = match params.response_mode.map(ResponseMode::parse) {
        None => None,
        Some(Some(mode)) if response_type.allows_mode(mode) => Some(mode),
        Some(_) => {
            return Err(invalid(
                "The response_mode is not supported for this response_type.",
            ));
        }
    };
    let allowed = scope::allowed_for_app(settings, app.fields.allowed_scopes.as_ref());
    let scope = scope::resolve_requested(params.scope, &allowed, &settings.default_scopes)?;
    if response_type.issues_id_token() && !scope.contains("openid") {
        return Err(OAuthError::InvalidScope(
            "An id_token response needs the openid scope.".into(),
        ));
    }
    match params.nonce {
        None if response_type.issues_id_token() => {
            return Err(invalid(
                "An id_token response needs a nonce (OIDC Core 3.2.2.1).",
            ));
        }
        Some(nonce) if nonce.is_empty() || nonce.len() > MAX_NONCE_LENGTH => {
            return Err(invalid("The nonce is empty or longer than 512 characters."));
        }
        _ => {}
    }
    let challenge = match response_type {
        ResponseType::Code => {
            pkce::parse_challenge(params.code_challenge, params.code_challenge_method)
                .map_err(invalid)?
        }
        _ => None,
    };
    let public = app.fields.client_type == ClientType::Public;
    // A public client that registered itself always needs S256, whatever pkce_required says
    // (docs/security.md rule 45).
    let must_use_pkce = response_type == ResponseType::Code
        && match settings.pkce_required {
            PkceRequired::All => true,
            PkceRequired::Public => public,
            PkceRequired::None => public && app.dynamically_registered,
        };
    if must_use_pkce && challenge.as_ref().is_none_or(|c| c.method != Method::S256) {
        return Err(invalid(
            "This client must send an S256 code_challenge (PKCE).",
        ));
    }
    // docs/security.md rule 63: none named is the app's whole list.
    let resources = resource::for_new_grant(&params.resource, &app.fields.allowed_resources)?;
    Ok(AuthorizationRequest {
        response_type,
        response_mode,
        client_id: app.client_id.clone(),
        application_id: app.id,
        redirect_uri_given: params.redirect_uri.is_some(),
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: params.state.map(str::to_owned),
        challenge,
        nonce: params.nonce.map(str::to_owned),
        resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GrantType;
    use crate::oauth::fixtures::{self, with_fields};

    /// The fixed clock of these tests, and a user who signed in a minute before.
    const NOW: i64 = 10_000;
    const SIGNED_IN: Option<i64> = Some(NOW - 60);
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
            ..Default::default()
        }
    }

    /// A user who approved nothing before.
    const NOTHING: PriorConsent<'static> = PriorConsent {
        held: &[],
        remembered: &[],
    };

    /// A user who holds tokens with these scopes.
    fn holding(held: &[Scopes]) -> PriorConsent<'_> {
        PriorConsent { held, ..NOTHING }
    }

    fn step(params: &AuthorizationParams<'_>, app: &Application) -> AuthorizeStep {
        decide(
            params,
            Some(app),
            SIGNED_IN,
            Hint::Absent,
            &NOTHING,
            &settings(),
            NOW,
        )
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
                response_mode: Some("fragment"),
                ..openid_params()
            },
            AuthorizationParams {
                resource: vec!["https://mcp.example/mcp", "https://api.example/"],
                ..valid_params()
            },
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
            let echoed = AuthorizationParams::read(
                |name| {
                    fields
                        .iter()
                        .find(|(field, _)| *field == name)
                        .map(|(_, value)| value.as_str())
                },
                |name| {
                    fields
                        .iter()
                        .filter(|(field, _)| *field == name)
                        .map(|(_, value)| value.as_str())
                        .collect()
                },
            );
            assert_eq!(step(&echoed, &valid_app()), AuthorizeStep::Consent(request));
        }
    }

    #[test]
    fn resources_are_checked_and_carried() {
        let api = "https://api.example/";
        let with = |resource: Vec<&'static str>| AuthorizationParams {
            resource,
            ..valid_params()
        };
        let AuthorizeStep::Consent(request) = step(&with(vec![api, api]), &valid_app()) else {
            panic!("expected consent")
        };
        assert_eq!(request.resources.as_slice(), [api]);
        for bad in [
            "/relative",
            "https://api.example/#f",
            "https://api.example/ü",
        ] {
            assert_eq!(
                redirected_error(step(&with(vec![api, bad]), &valid_app())),
                Some("invalid_target"),
                "{bad}"
            );
        }
        let limited = with_fields(valid_app(), |f| f.allowed_resources = vec![api.into()]);
        assert!(matches!(
            step(&with(vec![api]), &limited),
            AuthorizeStep::Consent(_)
        ));
        let AuthorizeStep::Consent(defaulted) = step(&with(vec![]), &limited) else {
            panic!("expected consent")
        };
        assert_eq!(
            defaulted.resources.as_slice(),
            [api],
            "the app's whole list"
        );
        assert_eq!(
            redirected_error(step(&with(vec!["https://other.example/"]), &limited)),
            Some("invalid_target")
        );
    }

    fn openid_app() -> Application {
        with_fields(valid_app(), |f| {
            f.grant_types = vec![GrantType::AuthorizationCode, GrantType::Implicit]
        })
    }

    fn openid_params() -> AuthorizationParams<'static> {
        AuthorizationParams {
            scope: Some("openid read"),
            nonce: Some("n-0S6_WzA2Mj"),
            ..valid_params()
        }
    }

    #[test]
    fn prompt_none_never_shows_a_page() {
        let none = AuthorizationParams {
            prompt: Some("none"),
            ..openid_params()
        };
        let s = settings();
        let app = openid_app();
        let error = |step| redirected_error(step);
        assert_eq!(
            error(decide(
                &none,
                Some(&app),
                None,
                Hint::Absent,
                &NOTHING,
                &s,
                NOW
            )),
            Some("login_required"),
            "nobody signed in"
        );
        assert_eq!(
            error(decide(
                &none,
                Some(&app),
                SIGNED_IN,
                Hint::Absent,
                &NOTHING,
                &s,
                NOW
            )),
            Some("consent_required"),
            "never approved"
        );
        let held = [Scopes::parse("openid read write").unwrap()];
        assert!(matches!(
            decide(
                &none,
                Some(&app),
                SIGNED_IN,
                Hint::Absent,
                &holding(&held),
                &s,
                NOW
            ),
            AuthorizeStep::Grant(_)
        ));
        let too_old = AuthorizationParams {
            max_age: Some("30"),
            ..none.clone()
        };
        assert_eq!(
            error(decide(
                &too_old,
                Some(&app),
                SIGNED_IN,
                Hint::Absent,
                &holding(&held),
                &s,
                NOW
            )),
            Some("login_required")
        );
        let trusted = with_fields(openid_app(), |f| f.skip_authorization = true);
        assert!(matches!(
            decide(
                &none,
                Some(&trusted),
                SIGNED_IN,
                Hint::Absent,
                &NOTHING,
                &s,
                NOW
            ),
            AuthorizeStep::Grant(_)
        ));
        for bad in ["none login", "none magic"] {
            let malformed = AuthorizationParams {
                prompt: Some(bad),
                ..openid_params()
            };
            assert_eq!(
                error(decide(
                    &malformed,
                    Some(&app),
                    None,
                    Hint::Absent,
                    &NOTHING,
                    &s,
                    NOW
                )),
                Some("invalid_request"),
                "{bad}: an error for the client, not the login page"
            );
        }
    }

    #[test]
    fn prompt_login_and_max_age_ask_for_the_password_again() {
        let s = settings();
        let app = openid_app();
        let ask = |params: &AuthorizationParams<'_>| {
            decide(
                params,
                Some(&app),
                SIGNED_IN,
                Hint::Absent,
                &NOTHING,
                &s,
                NOW,
            )
        };
        let with = |prompt, max_age| AuthorizationParams {
            prompt,
            max_age,
            ..openid_params()
        };
        assert_eq!(ask(&with(Some("login"), None)), AuthorizeStep::Login);
        assert_eq!(
            ask(&with(Some("select_account"), None)),
            AuthorizeStep::Login
        );
        assert_eq!(ask(&with(None, Some("59"))), AuthorizeStep::Login);
        assert!(matches!(
            ask(&with(None, Some("60"))),
            AuthorizeStep::Consent(_)
        ));
        assert_eq!(
            redirected_error(ask(&with(None, Some("-1")))),
            Some("invalid_request")
        );
        let back = with(Some("login consent"), Some("0")).after_login();
        assert_eq!((back.prompt, back.max_age), (Some("consent"), None));
        let malformed = with(Some("login bogus"), Some("-1"));
        assert_eq!(
            malformed.after_login(),
            malformed,
            "refused after the login"
        );
        assert_eq!(
            redirected_error(ask(&malformed.after_login())),
            Some("invalid_request")
        );
        assert!(
            matches!(ask(&back), AuthorizeStep::Consent(_)),
            "no second login after the first"
        );
        let trusted = with_fields(openid_app(), |f| f.skip_authorization = true);
        let consent = with(Some("consent"), None);
        assert!(matches!(
            decide(
                &consent,
                Some(&trusted),
                SIGNED_IN,
                Hint::Absent,
                &NOTHING,
                &s,
                NOW
            ),
            AuthorizeStep::Consent(_)
        ));
    }

    #[test]
    fn an_id_token_hint_must_name_the_signed_in_user() {
        let s = settings();
        let app = openid_app();
        let ask = |params: &AuthorizationParams<'_>, hint| {
            decide(params, Some(&app), SIGNED_IN, hint, &NOTHING, &s, NOW)
        };
        let none = AuthorizationParams {
            prompt: Some("none"),
            ..openid_params()
        };
        assert!(matches!(
            ask(&openid_params(), Hint::SameUser),
            AuthorizeStep::Consent(_)
        ));
        assert_eq!(ask(&openid_params(), Hint::OtherUser), AuthorizeStep::Login);
        assert_eq!(
            redirected_error(ask(&none, Hint::OtherUser)),
            Some("login_required")
        );
        assert_eq!(
            redirected_error(ask(&openid_params(), Hint::Invalid)),
            Some("invalid_request")
        );
        let hinted = AuthorizationParams {
            id_token_hint: Some("eyJ..."),
            ..openid_params()
        };
        assert_eq!(
            hinted.after_login().id_token_hint,
            None,
            "whoever signs in now"
        );
    }

    #[test]
    fn openid_request_rules() {
        let app = openid_app();
        let table: [(AuthorizationParams<'_>, Option<&str>); 9] = [
            (openid_params(), None),
            (
                AuthorizationParams {
                    response_type: Some("id_token"),
                    ..openid_params()
                },
                None,
            ),
            (
                AuthorizationParams {
                    response_type: Some("token id_token"),
                    nonce: None,
                    ..openid_params()
                },
                Some("invalid_request"),
            ),
            (
                AuthorizationParams {
                    response_type: Some("id_token"),
                    scope: Some("read"),
                    ..openid_params()
                },
                Some("invalid_scope"),
            ),
            (
                AuthorizationParams {
                    nonce: Some(&"n".repeat(10_000)),
                    ..openid_params()
                },
                Some("invalid_request"),
            ),
            (
                AuthorizationParams {
                    request: Some("eyJhbGciOiJub25lIn0.e30."),
                    ..openid_params()
                },
                Some("request_not_supported"),
            ),
            (
                AuthorizationParams {
                    request_uri: Some("https://app.example/r"),
                    ..openid_params()
                },
                Some("request_uri_not_supported"),
            ),
            (
                AuthorizationParams {
                    response_type: Some("token"),
                    response_mode: Some("query"),
                    ..openid_params()
                },
                Some("invalid_request"),
            ),
            (
                AuthorizationParams {
                    response_mode: Some("form_post"),
                    ..openid_params()
                },
                Some("invalid_request"),
            ),
        ];
        for (params, expected) in table {
            let decided = step(&params, &app);
            match expected {
                None => assert!(matches!(decided, AuthorizeStep::Consent(_)), "{params:?}"),
                Some(code) => assert_eq!(redirected_error(decided), Some(code), "{params:?}"),
            }
        }
        let fragment = AuthorizationParams {
            response_mode: Some("fragment"),
            ..openid_params()
        };
        let AuthorizeStep::Consent(request) = step(&fragment, &app) else {
            panic!("expected consent")
        };
        assert_eq!(request.mode(), ResponseMode::Fragment);
        assert_eq!(request.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
        let bad_scope_in_fragment = AuthorizationParams {
            scope: Some("openid nope"),
            ..fragment.clone()
        };
        let AuthorizeStep::Redirect(error) = step(&bad_scope_in_fragment, &app) else {
            panic!("expected a redirect")
        };
        assert_eq!(error.mode, ResponseMode::Fragment, "the mode asked");
        let no_uri = AuthorizationParams {
            redirect_uri: None,
            ..openid_params()
        };
        assert!(matches!(step(&no_uri, &app), AuthorizeStep::ErrorPage(_)));
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
            for signed_in in [None, SIGNED_IN] {
                assert!(matches!(
                    decide(params, app, signed_in, Hint::Absent, &NOTHING, &s, NOW),
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
            decide(
                &broken,
                Some(&valid_app()),
                None,
                Hint::Absent,
                &NOTHING,
                &settings(),
                NOW
            ),
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
                    response_type: Some("code id_token"),
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
            decide(
                &without,
                Some(&confidential),
                SIGNED_IN,
                Hint::Absent,
                &NOTHING,
                &all,
                NOW
            ),
            AuthorizeStep::Redirect(_)
        ));
        let none = Settings {
            pkce_required: PkceRequired::None,
            ..settings()
        };
        assert!(matches!(
            decide(
                &without,
                Some(&public),
                SIGNED_IN,
                Hint::Absent,
                &NOTHING,
                &none,
                NOW
            ),
            AuthorizeStep::Consent(_)
        ));
        // docs/security.md rule 45: a public client that registered itself needs S256 even so.
        let registered = Application {
            dynamically_registered: true,
            ..public.clone()
        };
        let registered_confidential = Application {
            dynamically_registered: true,
            ..confidential.clone()
        };
        for (params, app, refused) in [
            (&without, &registered, true),
            (&plain, &registered, true),
            (&valid_params(), &registered, false),
            (&without, &registered_confidential, false),
        ] {
            let step = decide(
                params,
                Some(app),
                SIGNED_IN,
                Hint::Absent,
                &NOTHING,
                &none,
                NOW,
            );
            assert_eq!(
                redirected_error(step).is_some(),
                refused,
                "{params:?} {:?}",
                app.fields.client_type
            );
        }
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
                SIGNED_IN,
                Hint::Absent,
                &holding(&[Scopes::parse("read write groups").unwrap()]),
                &s,
                NOW
            ),
            AuthorizeStep::Grant(_)
        ));
        assert!(matches!(
            decide(
                &auto,
                Some(&valid_app()),
                SIGNED_IN,
                Hint::Absent,
                &NOTHING,
                &s,
                NOW
            ),
            AuthorizeStep::Consent(_)
        ));
        assert!(
            matches!(
                decide(
                    &valid_params(),
                    Some(&valid_app()),
                    SIGNED_IN,
                    Hint::Absent,
                    &holding(&[Scopes::parse("read write groups").unwrap()]),
                    &s,
                    NOW
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
    fn a_remembered_decision_skips_the_page_unless_the_request_insists() {
        let wider = [Scopes::parse("read write groups").unwrap()];
        let remembered = PriorConsent {
            remembered: &wider,
            ..NOTHING
        };
        let ask = |params: &AuthorizationParams<'_>, prior: &PriorConsent<'_>| {
            let s = settings();
            decide(
                params,
                Some(&valid_app()),
                SIGNED_IN,
                Hint::Absent,
                prior,
                &s,
                NOW,
            )
        };
        let with = |approval_prompt, prompt| AuthorizationParams {
            approval_prompt,
            prompt,
            ..valid_params()
        };
        for skipped in [
            with(None, None),
            with(Some("auto"), None),
            with(None, Some("none")),
        ] {
            let step = ask(&skipped, &remembered);
            assert!(matches!(step, AuthorizeStep::Grant(_)), "{skipped:?}");
        }
        for asked in [with(Some("force"), None), with(None, Some("consent"))] {
            let step = ask(&asked, &remembered);
            assert!(matches!(step, AuthorizeStep::Consent(_)), "{asked:?}");
        }
        let narrower = [Scopes::parse("read").unwrap()];
        let less = PriorConsent {
            remembered: &narrower,
            ..NOTHING
        };
        let step = ask(&valid_params(), &less);
        assert!(
            matches!(step, AuthorizeStep::Consent(_)),
            "write was never allowed"
        );
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
