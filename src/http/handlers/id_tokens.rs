//! Signing the id_tokens the authorization and token endpoints hand out (OIDC Core §3.1.3.3,
//! §3.2.2.5, §12.2): one place that loads the user, builds the claims and signs them.

use crate::http::App;
use crate::http::handlers::userinfo::{OPENID_SCOPE, person};
use crate::http::response::HttpError;
use crate::oauth::id_token::{IdTokenFacts, id_token_claims};
use crate::oauth::scope::Scopes;
use crate::store::Store;
use serde_json::Value;

/// What an id_token is issued for.
pub struct IdTokenFor<'a> {
    /// The user it is about.
    pub user_id: i64,
    /// The client it is for (`aud`).
    pub client_id: &'a str,
    /// The granted scope: no `openid`, no id_token; `profile`/`email` add claims.
    pub scope: &'a Scopes,
    /// When the user authenticated for this grant.
    pub auth_time: Option<i64>,
    /// The authorization request's nonce (never on a refresh).
    pub nonce: Option<&'a str>,
    /// The access token issued with it, for `at_hash`.
    pub access_token: Option<&'a str>,
}

/// The signed id_token, or `None` when the scope has no `openid`. `store` is the connection
/// of the transaction issuing the tokens, so that a failure leaves nothing issued.
pub fn issue(
    app: &App,
    store: &Store,
    what: &IdTokenFor<'_>,
    now: i64,
) -> Result<Option<String>, HttpError> {
    if !what.scope.contains(OPENID_SCOPE) {
        return Ok(None);
    }
    let user = store
        .find_user(what.user_id)?
        .ok_or_else(|| HttpError::bad_request("The user of this grant no longer exists."))?;
    let facts = IdTokenFacts {
        issuer: &app.issuer,
        client_id: what.client_id,
        now,
        lifetime: app.settings.id_token_expire_seconds,
        auth_time: what.auth_time,
        nonce: what.nonce,
        access_token: what.access_token,
    };
    let claims = id_token_claims(&person(&user), what.scope, &facts);
    let signed = app.signing_keys.sign(store, &Value::Object(claims))?;
    Ok(Some(signed))
}
