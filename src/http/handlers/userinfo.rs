//! `GET` and `POST /o/userinfo/` (OIDC Core §5.3): the claims an access token's scopes allow
//! about its user.

use crate::http::App;
use crate::http::bearer::{self, Guarded};
use crate::http::request::Req;
use crate::http::response::{HttpError, Resp};
use crate::model::User;
use crate::oauth::id_token::{Person, person_claims};
use crate::oauth::scope::Requirement;

/// The scope a token needs for userinfo (Core §5.3: an access token from an OpenID request).
pub(crate) const OPENID_SCOPE: &str = "openid";

/// Userinfo: a bearer token with `openid` (else 403 insufficient_scope; a bad token 401,
/// RFC 6750 §3.1), issued for a user who is still active; `sub` as in the id_token.
pub(crate) fn userinfo(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let requirement = Requirement::HasScope(vec![OPENID_SCOPE.into()]);
    let token = bearer::authorize(app, req, &requirement, app.clock.now())?;
    // A client_credentials token has no user to tell about.
    let user = match token.grant.user_id {
        Some(id) => app.store.find_user(id)?,
        None => None,
    };
    let Some(user) = user else {
        return Err(bearer::invalid_token(
            "The access token was not issued for a user.",
            Guarded::Resource,
        ));
    };
    Ok(Resp::json_no_store(
        200,
        &person_claims(&person(&user), &token.scope),
    ))
}

/// What the claims may tell about `user`.
pub(crate) fn person(user: &User) -> Person<'_> {
    Person {
        subject: &user.subject,
        username: &user.username,
        name: &user.name,
        email: &user.email,
        email_verified: user.email_verified,
    }
}
