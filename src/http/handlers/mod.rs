//! Thin glue per area: load records, call `oauth::`, save, answer.

pub mod accounts;
pub mod admin;
pub mod apps;
pub mod authorize;
pub mod introspect;
pub mod resource;
pub mod revoke;
pub mod token;
pub mod tokens;

use crate::http::App;
use crate::http::request::{Params, Req};
use crate::http::response::HttpError;
use crate::model::Application;
use crate::oauth::client::{self, ClientCredentials};
use crate::oauth::error::OAuthError;

/// Reads an OAuth endpoint's body parameters, in that endpoint's error format.
pub fn oauth_params(app: &App, req: &Req) -> Result<Params, HttpError> {
    req.params(app.settings.accept_json_bodies)
        .map_err(HttpError::OAuthRequest)
}

/// The client credentials of a request (RFC 6749 §2.3.1): HTTP Basic, or client_id and
/// client_secret in the body; `None` when neither was sent. A malformed Basic header fails
/// client authentication; Basic together with a body secret, or with another client_id, is
/// invalid_request (one method only).
pub fn client_credentials(
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

/// Authenticates the calling client, or fails with invalid_client.
pub fn authenticate_client(
    app: &App,
    req: &Req,
    params: &Params,
) -> Result<Application, HttpError> {
    let credentials =
        client_credentials(req, params)?.ok_or(OAuthError::InvalidClient { basic: false })?;
    let loaded = app.store.find_app_by_client_id(&credentials.client_id)?;
    Ok(client::authenticate(loaded, &credentials)?)
}
