//! `GET` and `POST /o/authorize/` (RFC 6749 §4.1, §4.2): login, consent, and the answer sent
//! back to the client's verified redirect URI.

use crate::clock::now;
use crate::http::App;
use crate::http::paths;
use crate::http::request::{Params, Req};
use crate::http::response::{HttpError, Resp};
use crate::http::session;
use crate::model::Application;
use crate::oauth::authorize::{
    self, AuthorizationParams, AuthorizeStep, RedirectError, ResponseType, ValidRequest,
};
use crate::pages::{self, CSRF_FIELD, ConsentForm};
use crate::secret;
use crate::store::{GrantRef, NewCode, NewTokens, Session};
use url::Url;

/// `GET /o/authorize/?...`: check the request; sign in, ask, or answer.
pub fn authorize_page(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let query = req
        .query_params()
        .map_err(|_| HttpError::bad_request("The request could not be read."))?;
    let now = now();
    let session = session::current(app, req, now)?;
    let (step, client) = decide(app, &query, session.as_ref(), now)?;
    match step {
        AuthorizeStep::Consent(request) => {
            let (Some(session), Some(client)) = (session.as_ref(), client.as_ref()) else {
                return Err(HttpError::bad_request("The session ended; try again."));
            };
            Ok(Resp::page(
                200,
                consent_page(app, session, client, &request, &query),
            ))
        }
        AuthorizeStep::Grant(request) => answer(app, session.as_ref(), &request, now),
        other => follow(other, req),
    }
}

/// `POST /o/authorize/`: the consent form. CSRF, then every field checked again as if new
/// (a tampered client, redirect URI, scope or response type does not pass); then Allow or Deny.
pub fn authorize_decision(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let form = req
        .params(false)
        .map_err(|_| HttpError::bad_request("The form could not be read."))?;
    let now = now();
    let session = session::current(app, req, now)?;
    session::check_csrf(session.as_ref(), form.get(CSRF_FIELD))?;
    let (step, _) = decide(app, &form, session.as_ref(), now)?;
    match step {
        AuthorizeStep::Consent(request) | AuthorizeStep::Grant(request) => {
            if form.get("allow").is_some() {
                answer(app, session.as_ref(), &request, now)
            } else {
                Ok(redirect_error(&RedirectError {
                    in_fragment: request.response_type == ResponseType::Token,
                    redirect_uri: request.redirect_uri,
                    error: "access_denied",
                    description: "The user denied the request.".into(),
                    state: request.state,
                }))
            }
        }
        other => follow(other, req),
    }
}

/// Loads what the pure decision needs and asks it.
fn decide(
    app: &App,
    params: &Params,
    session: Option<&Session>,
    now: i64,
) -> Result<(AuthorizeStep, Option<Application>), HttpError> {
    let request = AuthorizationParams {
        response_type: params.get("response_type"),
        client_id: params.get("client_id"),
        redirect_uri: params.get("redirect_uri"),
        scope: params.get("scope"),
        state: params.get("state"),
        code_challenge: params.get("code_challenge"),
        code_challenge_method: params.get("code_challenge_method"),
        approval_prompt: params.get("approval_prompt"),
    };
    let client = match request.client_id {
        Some(id) => app.store.find_app_by_client_id(id)?,
        None => None,
    };
    let user = session.and_then(|s| s.user.as_ref());
    let held = match (user, &client) {
        (Some(user), Some(client)) => app.store.held_scopes(user.id, client.id, now)?,
        _ => Vec::new(),
    };
    let step = authorize::decide(
        &request,
        client.as_ref(),
        user.is_some(),
        &held,
        &app.settings,
    );
    Ok((step, client))
}

/// The steps that do not issue anything.
fn follow(step: AuthorizeStep, req: &Req) -> Result<Resp, HttpError> {
    match step {
        AuthorizeStep::ErrorPage(message) => Err(HttpError::Page {
            status: 400,
            title: "Authorization error",
            message,
        }),
        AuthorizeStep::Redirect(error) => Ok(redirect_error(&error)),
        // Back here after login: the GET with its query (a POST came from a page that had it).
        _ => Err(HttpError::LoginRequired(format!(
            "{}?{}",
            paths::AUTHORIZE,
            req.query
        ))),
    }
}

/// Issues a code or (implicit) an access token for the signed-in user and redirects.
fn answer(
    app: &App,
    session: Option<&Session>,
    request: &ValidRequest,
    now: i64,
) -> Result<Resp, HttpError> {
    let Some(user) = session.and_then(|s| s.user.as_ref()) else {
        return Err(HttpError::bad_request("The session ended; try again."));
    };
    let state = request.state.as_deref();
    let location = match request.response_type {
        ResponseType::Code => {
            let code = secret::random_token()?;
            app.store.create_code(&NewCode {
                digest: code.digest(),
                application_id: request.application_id,
                user_id: user.id,
                redirect_uri: &request.redirect_uri,
                redirect_uri_given: request.redirect_uri_given,
                scope: &request.scope,
                challenge: request.challenge.as_ref(),
                now,
                expires: now + app.settings.authorization_code_expire_seconds,
            })?;
            let pairs = [("code", Some(code.expose())), ("state", state)];
            with_params(&request.redirect_uri, &pairs, false)
        }
        ResponseType::Token => {
            let token = secret::random_token()?;
            let lifetime = app.settings.access_token_expire_seconds;
            let grant = GrantRef::New {
                application_id: request.application_id,
                user_id: Some(user.id),
                scope: &request.scope,
            };
            app.store.immediate(|store| {
                store.issue_tokens(&NewTokens {
                    grant,
                    access_digest: token.digest(),
                    refresh_digest: None,
                    scope: &request.scope,
                    now,
                    expires: now + lifetime,
                })
            })?;
            let (expires_in, scope) = (lifetime.to_string(), request.scope.to_string());
            let pairs = [
                ("access_token", Some(token.expose())),
                ("token_type", Some("Bearer")),
                ("expires_in", Some(expires_in.as_str())),
                ("scope", Some(scope.as_str())),
                ("state", state),
            ];
            with_params(&request.redirect_uri, &pairs, true)
        }
    };
    Ok(Resp::redirect(&location))
}

fn redirect_error(error: &RedirectError) -> Resp {
    let pairs = [
        ("error", Some(error.error)),
        ("error_description", Some(error.description.as_str())),
        ("state", error.state.as_deref()),
    ];
    Resp::redirect(&with_params(&error.redirect_uri, &pairs, error.in_fragment))
}

/// The verified redirect URI with parameters added to its query (code flow) or put in its
/// fragment (implicit, RFC 6749 §4.2.2).
fn with_params(redirect_uri: &str, pairs: &[(&str, Option<&str>)], in_fragment: bool) -> String {
    let present = pairs.iter().filter_map(|(k, v)| v.map(|v| (*k, v)));
    match Url::parse(redirect_uri) {
        Ok(mut url) if in_fragment => {
            let encoded =
                serde_urlencoded::to_string(present.collect::<Vec<_>>()).unwrap_or_default();
            url.set_fragment(Some(&encoded));
            url.into()
        }
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(present);
            url.into()
        }
        // Registered URIs were validated as absolute; a stored one that no longer parses
        // cannot be answered safely.
        Err(_) => paths::HOME.into(),
    }
}

fn consent_page(
    app: &App,
    session: &Session,
    client: &Application,
    request: &ValidRequest,
    params: &Params,
) -> maud::Markup {
    let scope = request.scope.to_string();
    let response_type = request.response_type.as_str();
    let mut hidden = vec![
        ("client_id", client.client_id.as_str()),
        ("response_type", response_type),
        ("scope", scope.as_str()),
    ];
    for name in [
        "redirect_uri",
        "state",
        "code_challenge",
        "code_challenge_method",
    ] {
        if let Some(value) = params.get(name) {
            hidden.push((name, value));
        }
    }
    let host = Url::parse(&request.redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| request.redirect_uri.clone());
    let scopes = request
        .scope
        .iter()
        .map(|name| {
            (
                name,
                app.settings.scopes.get(name).map_or("", String::as_str),
            )
        })
        .collect();
    let frame = session::frame(&app.settings, Some(session));
    pages::consent(
        &frame,
        &ConsentForm {
            app_name: &client.fields.name,
            redirect_host: &host,
            scopes,
            hidden,
        },
    )
}
