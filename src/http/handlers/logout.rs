//! `GET` and `POST /o/logout/`: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0),
//! DOT's path and the metadata's `end_session_endpoint`. The user confirms with a CSRF-checked
//! POST; the browser returns only to a post_logout_redirect_uri its client registered.

use crate::http::App;
use crate::http::paths;
use crate::http::request::{Params, Req};
use crate::http::response::{HttpError, Resp};
use crate::http::session;
use crate::oauth::logout::{self, LogoutTarget};
use crate::pages::{self, CSRF_FIELD, LogoutForm};
use url::Url;

/// A logout request (GET, or a POST from the relying party): the confirmation when someone
/// is signed in; otherwise straight back. A POST carrying `confirm` is the user's answer:
/// CSRF, then the session ends.
pub fn logout(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let params = match req.method.as_str() {
        "POST" => req.params(false),
        _ => req.query_params(),
    }
    .map_err(|_| HttpError::bad_request("The logout request could not be read."))?;
    let now = app.clock.now();
    let session = session::current(app, req, now)?;
    let target = check(app, &params)?;
    let confirmed = params.get("confirm").is_some();
    if confirmed {
        session::check_csrf(session.as_ref(), params.get(CSRF_FIELD))?;
    }
    match session.filter(|s| s.user.is_some()) {
        Some(session) if !confirmed => {
            let app_name = match &target.client_id {
                Some(id) => app.store.find_app_by_client_id(id)?.map(|a| a.fields.name),
                None => None,
            };
            let return_host = target.return_to.as_deref().and_then(host);
            let hidden = hidden_fields(&target, params.get("state"));
            let frame = session::frame(&app.settings, Some(&session));
            let form = LogoutForm {
                app_name: app_name.as_deref(),
                return_host: return_host.as_deref(),
                hidden: &hidden,
                action: paths::RP_INITIATED_LOGOUT,
            };
            Ok(Resp::page(200, pages::confirm_logout(&frame, &form)))
        }
        signed_in => {
            if let Some(session) = signed_in {
                app.store.delete_session(session.id)?;
            }
            let resp = match &target.return_to {
                Some(uri) => Resp::redirect(&with_state(uri, params.get("state"))),
                None => Resp::page(200, pages::signed_out(&session::frame(&app.settings, None))),
            };
            Ok(resp.with_header("Set-Cookie", session::clear_cookie(&app.settings, req)))
        }
    }
}

/// The request's client and return address: the id_token_hint must be one of ours (its
/// signature; an expired one still identifies), and everything must agree (`oauth::logout`).
fn check(app: &App, params: &Params) -> Result<LogoutTarget, HttpError> {
    let refuse = |message: &str| HttpError::Page {
        status: 400,
        title: "Logout error",
        message: message.into(),
    };
    let hint_client = match params.get("id_token_hint") {
        None => None,
        Some(hint) => {
            let claims = app.signing_keys.verify(&app.store, hint).ok_or_else(|| {
                refuse("The id_token_hint is not an id_token this server issued.")
            })?;
            Some(
                logout::hint_client(&claims, &app.issuer)
                    .ok_or_else(|| refuse("The id_token_hint names no client of this server."))?,
            )
        }
    };
    let client_id = params.get("client_id");
    let named = hint_client.as_deref().or(client_id);
    let client = match named {
        Some(id) => app.store.find_app_by_client_id(id)?,
        None => None,
    };
    logout::check(
        hint_client.as_deref(),
        client_id,
        client.as_ref(),
        params.get("post_logout_redirect_uri"),
    )
    .map_err(refuse)
}

/// The confirmation's hidden fields: the checked request, checked again when it comes back.
fn hidden_fields(target: &LogoutTarget, state: Option<&str>) -> Vec<(&'static str, String)> {
    let fields = [
        ("client_id", target.client_id.as_deref()),
        ("post_logout_redirect_uri", target.return_to.as_deref()),
        ("state", state),
    ];
    fields
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?.to_owned())))
        .collect()
}

/// The registered URI with `state` added to its query (§3).
fn with_state(uri: &str, state: Option<&str>) -> String {
    match (Url::parse(uri), state) {
        (Ok(mut url), Some(state)) => {
            url.query_pairs_mut().append_pair("state", state);
            url.into()
        }
        _ => uri.to_owned(),
    }
}

fn host(uri: &str) -> Option<String> {
    Url::parse(uri).ok()?.host_str().map(str::to_owned)
}
