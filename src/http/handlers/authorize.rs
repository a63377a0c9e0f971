//! `GET` and `POST /o/authorize/` (RFC 6749 §4.1, §4.2; OIDC Core §3.1.2, §3.2.2): login,
//! consent, and the answer sent back to the client's verified redirect URI — every answer with
//! the issuer as `iss` (RFC 9207).

use crate::http::App;
use crate::http::handlers::id_tokens::{self, IdTokenFor};
use crate::http::metrics::Issuance;
use crate::http::paths;
use crate::http::request::{Params, Req};
use crate::http::response::{HttpError, Resp};
use crate::http::session;
use crate::model::Application;
use crate::oauth::authorize::{
    self, AuthorizationParams, AuthorizationRequest, AuthorizeStep, Hint, PriorConsent,
    RedirectError, ResponseMode, ResponseType,
};
use crate::oauth::error::OAuthError;
use crate::pages::{self, CSRF_FIELD, ConsentForm, REMEMBER_FIELD, Recipient};
use crate::secret;
use crate::secret::Secret;
use crate::store::{GrantRef, NewCode, NewTokens, Session, SessionUser, Store};
use serde_json::{Map, Value};
use url::Url;

/// `GET /o/authorize/?...`: check the request; sign in, ask, or answer.
pub(crate) fn authorize_page(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let query = req
        .query_params()
        .map_err(|_| HttpError::bad_request("The request could not be read."))?;
    let now = app.clock.now();
    let session = session::current(app, req, now)?;
    let (step, client) = decide(app, &query, session.as_ref(), now)?;
    match step {
        AuthorizeStep::Consent(request) => {
            let (Some(session), Some(client)) = (session.as_ref(), client.as_ref()) else {
                return Err(HttpError::bad_request("The session ended; try again."));
            };
            Ok(Resp::page(
                200,
                consent_page(app, session, client, &request),
            ))
        }
        AuthorizeStep::Grant(request) => answer(app, session.as_ref(), &request, now),
        other => follow(app, other, &query),
    }
}

/// `POST /o/authorize/`: the consent form. CSRF, then every field checked again as if new
/// (a tampered client, redirect URI, scope or response type does not pass); then Allow or Deny.
/// Without a session (it expired while the page was open) it is a new request: to the login.
pub(crate) fn authorize_decision(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let form = req
        .params(false)
        .map_err(|_| HttpError::bad_request("The form could not be read."))?;
    let now = app.clock.now();
    let session = session::current(app, req, now)?;
    if session.is_none() {
        // The session ended while the consent page was open: nothing is decided, and the same
        // request goes through the login and back to the consent page.
        let (step, _) = decide(app, &form, None, now)?;
        return follow(app, step, &form);
    }
    session::check_csrf(session.as_ref(), form.get(CSRF_FIELD))?;
    let (step, _) = decide(app, &form, session.as_ref(), now)?;
    match step {
        AuthorizeStep::Consent(request) | AuthorizeStep::Grant(request) => {
            if pages::allowed(|name| form.get(name).is_some()) == Some(true) {
                if form.get(REMEMBER_FIELD).is_some() {
                    remember(app, session.as_ref(), &request, now)?;
                }
                answer(app, session.as_ref(), &request, now)
            } else {
                let denied = OAuthError::AccessDenied("The user denied the request.".into());
                Ok(redirect_error(app, &request.error(denied)))
            }
        }
        other => follow(app, other, &form),
    }
}

/// Keeps the signed-in user's Allow for this client and scope set, so that the consent page
/// is skipped the next time (until they forget it on the authorized-tokens page).
fn remember(
    app: &App,
    session: Option<&Session>,
    request: &AuthorizationRequest,
    now: i64,
) -> Result<(), HttpError> {
    if let Some(user) = session.and_then(|s| s.user.as_ref()) {
        let (client, scope) = (request.application_id, &request.scope);
        app.store.remember_consent(user.id, client, scope, now)?;
    }
    Ok(())
}

/// Loads what the pure decision needs and asks it.
fn decide(
    app: &App,
    params: &Params,
    session: Option<&Session>,
    now: i64,
) -> Result<(AuthorizeStep, Option<Application>), HttpError> {
    let request = AuthorizationParams::read(|name| params.get(name), |name| params.all(name));
    let client = match request.client_id {
        Some(id) => app.store.find_app_by_client_id(id)?,
        None => None,
    };
    let user = session.and_then(|s| s.user.as_ref());
    let (held, remembered) = match (user, &client) {
        (Some(user), Some(client)) => (
            app.store.held_scopes(user.id, client.id, now)?,
            app.store.remembered_scopes(user.id, client.id)?,
        ),
        _ => (Vec::new(), Vec::new()),
    };
    let hint = hint(app, &request, user)?;
    let prior = PriorConsent {
        held: &held,
        remembered: &remembered,
    };
    let step = authorize::decide(
        &request,
        client.as_ref(),
        user.map(|u| u.auth_time),
        hint,
        &prior,
        &app.settings,
        now,
    );
    Ok((step, client))
}

/// What the request's id_token_hint says about the signed-in user: it must be an id_token of
/// ours (its signature and issuer; an expired one still names its user) and name them.
fn hint(
    app: &App,
    request: &AuthorizationParams<'_>,
    user: Option<&SessionUser>,
) -> Result<Hint, HttpError> {
    let (Some(token), Some(user)) = (request.id_token_hint, user) else {
        return Ok(Hint::Absent);
    };
    let Some(claims) = app.signing_keys.verify(&app.store, token)? else {
        return Ok(Hint::Invalid);
    };
    let claim = |name: &str| claims.get(name).and_then(Value::as_str);
    if claim("iss") != Some(app.issuer.as_str()) {
        return Ok(Hint::Invalid);
    }
    let subject = app.store.find_user(user.id)?.map(|u| u.subject);
    Ok(match (claim("sub"), subject) {
        (Some(named), Some(subject)) if named == subject => Hint::SameUser,
        _ => Hint::OtherUser,
    })
}

/// Inside an issuing transaction: the client checked with the request must still exist and be
/// usable (an `app remove` or a disable may have raced it), else the unknown client's error
/// page, and nothing is stored.
fn requested_client_usable(store: &Store, request: &AuthorizationRequest) -> Result<(), HttpError> {
    if store.app_is_usable(request.application_id)? {
        return Ok(());
    }
    Err(HttpError::Page {
        status: 400,
        title: "Authorization error",
        message: authorize::UNKNOWN_CLIENT.into(),
    })
}

/// The steps that do not issue anything.
fn follow(app: &App, step: AuthorizeStep, params: &Params) -> Result<Resp, HttpError> {
    match step {
        AuthorizeStep::ErrorPage(message) => Err(HttpError::Page {
            status: 400,
            title: "Authorization error",
            message,
        }),
        AuthorizeStep::Redirect(error) => Ok(redirect_error(app, &error)),
        // Back here after login, with what asked for the login taken out.
        _ => {
            let request =
                AuthorizationParams::read(|name| params.get(name), |name| params.all(name))
                    .after_login();
            let query = serde_urlencoded::to_string(request.pairs())
                .map_err(|_| HttpError::bad_request("The request could not be read."))?;
            Err(HttpError::LoginRequired(format!(
                "{}?{query}",
                paths::AUTHORIZE
            )))
        }
    }
}

/// Issues what the request asks for the signed-in user — a code; or (implicit) an access
/// token, an id_token or both — and redirects.
fn answer(
    app: &App,
    session: Option<&Session>,
    request: &AuthorizationRequest,
    now: i64,
) -> Result<Resp, HttpError> {
    let Some(user) = session.and_then(|s| s.user.as_ref()) else {
        return Err(HttpError::bad_request("The session ended; try again."));
    };
    let mut pairs: Vec<(&str, String)> = Vec::new();
    let claims = match request.response_type {
        ResponseType::Code => {
            let code = secret::random_token()?;
            app.store.immediate(|store| {
                requested_client_usable(store, request)?;
                Ok::<_, HttpError>(store.create_code(&NewCode {
                    digest: code.digest(),
                    request,
                    user_id: user.id,
                    auth_time: user.auth_time,
                    now,
                    expires: now + app.settings.authorization_code_expire_seconds,
                })?)
            })?;
            pairs.push(("code", code.expose().to_owned()));
            None
        }
        rt if rt.issues_access_token() => {
            let token = secret::random_token()?;
            let lifetime = app.settings.access_token_expire_seconds;
            let grant = GrantRef::New {
                application_id: request.application_id,
                user_id: Some(user.id),
                scope: &request.scope,
                resources: &request.resources,
                auth_time: Some(user.auth_time),
            };
            let claims = app.store.immediate(|store| -> Result<_, HttpError> {
                requested_client_usable(store, request)?;
                store.issue_tokens(&NewTokens {
                    grant,
                    access_digest: token.digest(),
                    refresh_digest: None,
                    scope: &request.scope,
                    resources: &request.resources,
                    now,
                    expires: now + lifetime,
                })?;
                match rt.issues_id_token() {
                    true => implicit_claims(app, store, user, request, Some(&token), now),
                    false => Ok(None),
                }
            })?;
            app.telemetry.issued(Issuance::Implicit);
            pairs.push(("access_token", token.expose().to_owned()));
            pairs.push(("token_type", "Bearer".into()));
            pairs.push(("expires_in", lifetime.to_string()));
            pairs.push(("scope", request.scope.to_string()));
            claims
        }
        _ => implicit_claims(app, &app.store, user, request, None, now)?,
    };
    if let Some(id_token) = id_tokens::sign(app, claims)? {
        pairs.push(("id_token", id_token));
    }
    if let Some(state) = &request.state {
        pairs.push(("state", state.clone()));
    }
    let pairs: Vec<(&str, Option<&str>)> =
        pairs.iter().map(|(k, v)| (*k, Some(v.as_str()))).collect();
    Ok(Resp::redirect(&response_location(
        app,
        &request.redirect_uri,
        request.mode(),
        &pairs,
    )))
}

fn redirect_error(app: &App, error: &RedirectError) -> Resp {
    let pairs = [
        ("error", Some(error.error.code())),
        ("error_description", Some(&*error.error.description())),
        ("state", error.state.as_deref()),
    ];
    Resp::redirect(&response_location(
        app,
        &error.redirect_uri,
        error.mode,
        &pairs,
    ))
}

/// The one place an authorization response is put on the verified redirect URI: its
/// parameters and the issuer (`iss`, RFC 9207 §2) added to the query, or (RFC 6749 §4.2.2)
/// put in the fragment.
fn response_location(
    app: &App,
    redirect_uri: &str,
    mode: ResponseMode,
    pairs: &[(&str, Option<&str>)],
) -> String {
    let iss = [("iss", Some(app.issuer.as_str()))];
    let present = pairs
        .iter()
        .chain(&iss)
        .filter_map(|(k, v)| v.map(|v| (*k, v)));
    match (Url::parse(redirect_uri), mode) {
        (Ok(mut url), ResponseMode::Fragment) => {
            let encoded =
                serde_urlencoded::to_string(present.collect::<Vec<_>>()).unwrap_or_default();
            url.set_fragment(Some(&encoded));
            url.into()
        }
        (Ok(mut url), ResponseMode::Query) => {
            url.query_pairs_mut().extend_pairs(present);
            url.into()
        }
        // Registered URIs were validated as absolute; a stored one that no longer parses
        // cannot be answered safely.
        (Err(_), _) => paths::HOME.into(),
    }
}

fn consent_page(
    app: &App,
    session: &Session,
    client: &Application,
    request: &AuthorizationRequest,
) -> maud::Markup {
    let hidden = request.hidden_fields();
    let host = Url::parse(&request.redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| request.redirect_uri.clone());
    let frame = session::frame(&app.settings, Some(session));
    pages::consent(
        &frame,
        &ConsentForm {
            app_name: &client.fields.name,
            self_registered: client.dynamically_registered,
            recipient: Recipient::Redirect(&host),
            scopes: pages::described_scopes(&app.settings, &request.scope),
            action: paths::AUTHORIZE,
            resources: request.resources.as_slice(),
            hidden: &hidden,
        },
    )
}

/// The claims of an implicit answer's id_token (OIDC Core §3.2.2.10), with `at_hash` when an
/// access token comes with it. The request was checked to hold `openid`.
fn implicit_claims(
    app: &App,
    store: &Store,
    user: &SessionUser,
    request: &AuthorizationRequest,
    access_token: Option<&Secret>,
    now: i64,
) -> Result<Option<Map<String, Value>>, HttpError> {
    let what = IdTokenFor {
        user_id: user.id,
        client_id: &request.client_id,
        scope: &request.scope,
        auth_time: Some(user.auth_time),
        nonce: request.nonce.as_deref(),
        access_token: access_token.map(Secret::expose),
    };
    id_tokens::claims(app, store, &what, now)
}
