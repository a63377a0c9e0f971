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
/// is signed in. A POST carrying `confirm` is the user's answer: CSRF, then the session ends
/// and the browser goes to the registered URI. A GET never ends a session.
pub(crate) fn logout(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let is_post = req.method == "POST";
    let params = match is_post {
        true => req.params(false),
        false => req.query_params(),
    }
    .map_err(|_| HttpError::bad_request("The logout request could not be read."))?;
    let now = app.clock.now();
    let session = session::current(app, req, now)?;
    let target = check(app, &params)?;
    let state = params.get("state");
    let confirmed = is_post && params.get("confirm").is_some();
    if confirmed {
        session::check_csrf(session.as_ref(), params.get(CSRF_FIELD))?;
    }
    match session.filter(|s| s.user.is_some()) {
        Some(session) if confirmed => {
            app.store.delete_session(session.id)?;
            let resp = match &target.return_to {
                Some(uri) => Resp::redirect(&with_state(uri, state)),
                None => signed_out(app, None),
            };
            Ok(resp.with_header("Set-Cookie", session::clear_cookie(&app.settings, req)))
        }
        Some(session) => {
            let app_name = match &target.client_id {
                Some(id) => app.store.find_app_by_client_id(id)?.map(|a| a.fields.name),
                None => None,
            };
            let return_host = target.return_to.as_deref().and_then(host);
            let hidden = hidden_fields(&target, state);
            let frame = session::frame(&app.settings, Some(&session));
            let form = LogoutForm {
                app_name: app_name.as_deref(),
                return_host: return_host.as_deref(),
                hidden: &hidden,
                action: paths::RP_INITIATED_LOGOUT,
            };
            Ok(Resp::page(200, pages::confirm_logout(&frame, &form)))
        }
        // A relying party's cross-site POST arrives without the SameSite=Lax cookie: ask again
        // as a top-level GET, which carries it, so that a signed-in user gets the confirmation.
        None if is_post => Ok(Resp::redirect(&format!(
            "{}?{}",
            paths::RP_INITIATED_LOGOUT,
            request_query(&params)?
        ))),
        // Nobody is signed in. Straight back only when an id_token of ours vouches for the
        // client (§3); otherwise a link, so that a forged client_id cannot bounce the browser.
        None => match &target.return_to {
            Some(uri) if target.by_hint => Ok(Resp::redirect(&with_state(uri, state))),
            Some(uri) => Ok(signed_out(app, Some(&with_state(uri, state)))),
            None => Ok(signed_out(app, None)),
        },
    }
}

fn signed_out(app: &App, continue_to: Option<&str>) -> Resp {
    let frame = session::frame(&app.settings, None);
    let link = continue_to.and_then(|uri| Some((host(uri)?, uri)));
    let link = link.as_ref().map(|(host, uri)| (host.as_str(), *uri));
    Resp::page(200, pages::signed_out(&frame, link))
}

/// A relying party's logout parameters, as a query.
fn request_query(params: &Params) -> Result<String, HttpError> {
    let names = [
        "id_token_hint",
        "client_id",
        "post_logout_redirect_uri",
        "state",
    ];
    let present: Vec<(&str, &str)> = names
        .into_iter()
        .filter_map(|name| Some((name, params.get(name)?)))
        .collect();
    serde_urlencoded::to_string(present)
        .map_err(|_| HttpError::bad_request("The logout request could not be read."))
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
            let claims = app.signing_keys.verify(&app.store, hint)?.ok_or_else(|| {
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
