//! `POST /o/revoke_token/` (RFC 7009): a client revokes its own access or refresh tokens.

use crate::http::App;
use crate::http::handlers::{authenticate_client, oauth_params};
use crate::http::request::Req;
use crate::http::response::{HttpError, Resp};
use crate::oauth::error::OAuthError;
use crate::secret;

/// The revocation endpoint: 200 with an empty body whether or not the token was known
/// (RFC 7009 §2.2); another client's token is left alone. Revoking a refresh token revokes
/// every token of its grant (RFC 7009 §2.1).
pub(crate) fn revoke(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let params = oauth_params(app, req)?;
    let client = authenticate_client(app, req, &params)?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::missing("token"))?;
    if !matches!(
        params.get("token_type_hint"),
        None | Some("access_token" | "refresh_token")
    ) {
        return Err(OAuthError::UnsupportedTokenType.into());
    }
    let digest = secret::digest(token);
    let now = app.clock.now();
    // RFC 7009 §2.1: a token issued to another client is refused, and stays valid; an unknown
    // one is answered 200 like a revoked one (§2.2).
    let foreign =
        || OAuthError::UnauthorizedClient("The token was not issued to this client.".into());
    let outcome = app
        .store
        .immediate(|store| -> Result<Result<(), OAuthError>, HttpError> {
            if let Some(access) = store.find_access_token(&digest)? {
                if access.grant.application_id != client.id {
                    return Ok(Err(foreign()));
                }
                store.delete_access_token(access.id)?;
            } else if let Some(refresh) = store.find_refresh_token(&digest)? {
                if refresh.grant.application_id != client.id {
                    return Ok(Err(foreign()));
                }
                store.revoke_grant(refresh.grant.id, now)?;
            }
            Ok(Ok(()))
        })?;
    outcome?;
    Ok(Resp::empty(200))
}
