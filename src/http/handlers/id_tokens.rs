//! The id_tokens the authorization and token endpoints hand out (OIDC Core §3.1.3.3, §3.2.2.5,
//! §12.2): one place that loads the user and builds the claims — inside the transaction that
//! issues the tokens, so they describe what it issued — and one that signs them, after it
//! commits: an RSA signature takes milliseconds, and must not hold SQLite's write lock.

use crate::http::App;
use crate::http::handlers::userinfo::{OPENID_SCOPE, person};
use crate::http::response::HttpError;
use crate::oauth::id_token::{IdTokenFacts, id_token_claims};
use crate::oauth::scope::Scopes;
use crate::store::Store;
use serde_json::{Map, Value};

/// What an id_token is issued for.
pub(crate) struct IdTokenFor<'a> {
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

/// The claims of the id_token to issue, or `None` when the scope has no `openid`. `store` is
/// the connection of the transaction issuing the tokens.
pub(crate) fn claims(
    app: &App,
    store: &Store,
    what: &IdTokenFor<'_>,
    now: i64,
) -> Result<Option<Map<String, Value>>, HttpError> {
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
    Ok(Some(id_token_claims(&person(&user), what.scope, &facts)))
}

/// `claims` signed with the current key, once the tokens they describe are committed. A
/// failure here (the key file went missing since start-up) answers 500; the tokens issued
/// are then never handed out, and expire.
pub(crate) fn sign(
    app: &App,
    claims: Option<Map<String, Value>>,
) -> Result<Option<String>, HttpError> {
    claims
        .map(|claims| app.signing_keys.sign(&app.store, &Value::Object(claims)))
        .transpose()
        .map_err(HttpError::from)
}
