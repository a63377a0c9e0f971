//! Thin glue per area: load records, call `oauth::`, save, answer.

pub mod accounts;
pub mod admin;
pub mod apps;
pub mod authorize;
pub(crate) mod client_registration;
pub(crate) mod device;
pub(crate) mod device_page;
pub mod discovery;
pub mod id_tokens;
pub mod introspect;
pub mod logout;
pub mod metrics;
pub mod password_change;
pub mod resource;
pub mod revoke;
pub mod token;
pub mod tokens;
pub mod userinfo;

use crate::http::App;
use crate::http::limiter::{Attempt, Subject};
use crate::http::request::{Params, Req};
use crate::http::response::HttpError;
use crate::model::Application;
use crate::oauth::client::{self, ClientCredentials};
use crate::oauth::error::OAuthError;
use crate::store::Store;

/// Reads an OAuth endpoint's body parameters, in that endpoint's error format.
pub(crate) fn oauth_params(app: &App, req: &Req) -> Result<Params, HttpError> {
    req.params(app.settings.accept_json_bodies)
        .map_err(HttpError::OAuthRequest)
}

/// The client credentials of a request (RFC 6749 §2.3.1): HTTP Basic, or client_id and
/// client_secret in the body; `None` when neither was sent. A malformed Basic header fails
/// client authentication; Basic together with a body secret, or with another client_id, is
/// invalid_request (one method only).
pub(crate) fn client_credentials(
    req: &Req,
    params: &Params,
) -> Result<Option<ClientCredentials>, HttpError> {
    let basic = req
        .basic_credentials()
        .map_err(|_| OAuthError::InvalidClient { basic: true })?;
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    match basic {
        Some((client_id, _))
            if body_secret.is_some() || body_id.is_some_and(|id| id != client_id) =>
        {
            Err(
                OAuthError::InvalidRequest("Use one client authentication method, not two.".into())
                    .into(),
            )
        }
        Some((client_id, secret)) => Ok(Some(ClientCredentials {
            client_id,
            secret: Some(secret),
            basic: true,
        })),
        None => Ok(body_id.map(|client_id| ClientCredentials {
            client_id: client_id.to_owned(),
            secret: body_secret.map(str::to_owned),
            basic: false,
        })),
    }
}

/// Authenticates the calling client, or fails with invalid_client. A presented secret is
/// checked under the failed-try limiter, per client id from each address; a bare client_id
/// is not (there is nothing to guess).
pub(crate) fn authenticate_client(
    app: &App,
    req: &Req,
    params: &Params,
) -> Result<Application, HttpError> {
    let credentials =
        client_credentials(req, params)?.ok_or(OAuthError::InvalidClient { basic: false })?;
    let attempt = credentials
        .presented_secret()
        .map(|_| secret_try(app, req, Subject::Client(&credentials.client_id)))
        .transpose()?;
    let loaded = app.store.find_app_by_client_id(&credentials.client_id)?;
    let client = client::authenticate(loaded, &credentials)?;
    if let Some(attempt) = attempt {
        attempt.passed();
    }
    Ok(client)
}

/// Inside an issuing transaction: the client authenticated a moment ago must still exist and
/// be usable, else invalid_client, as for an unknown client (an `app remove` or a disable that
/// raced the request); nothing is stored for it.
pub(crate) fn client_still_usable(
    store: &Store,
    req: &Req,
    client: &Application,
) -> Result<(), HttpError> {
    if store.app_is_usable(client.id)? {
        return Ok(());
    }
    let basic = matches!(req.basic_credentials(), Ok(Some(_)));
    Err(OAuthError::InvalidClient { basic }.into())
}

/// Asks the failed-try limiter (docs/security.md rule 30) for one check of `subject`'s secret from
/// the request's address, before the secret is compared: the try is counted as failed until the
/// caller says it [`Attempt::passed`]. While `subject` or the address must wait:
/// temporarily_unavailable, 429 with Retry-After. Every OAuth endpoint's password and
/// client-secret check comes through here.
pub(crate) fn secret_try<'a>(
    app: &'a App,
    req: &Req,
    subject: Subject<'a>,
) -> Result<Attempt<'a>, OAuthError> {
    app.limiter
        .attempt(subject, req.remote, app.clock.now())
        .map_err(OAuthError::throttled)
}
