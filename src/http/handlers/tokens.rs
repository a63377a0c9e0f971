//! `/o/authorized_tokens/...`: DOT's granted-token views, one entry per grant a client can
//! still use (`<id>` is the grant's public id), and the decisions the user asked to be remembered
//! (`remembered/<id>/`). Someone else's answers 404.

use crate::http::App;
use crate::http::paths;
use crate::http::request::Req;
use crate::http::response::{HttpError, Resp};
use crate::http::session::{self, SignedIn};
use crate::pages::{self, Revoker};
use crate::store::Holder;

/// The most tokens one page lists.
pub(crate) const LIST_LIMIT: usize = 500;

/// `GET /o/authorized_tokens/`: the user's tokens, grouped by application, and their
/// remembered decisions.
pub(crate) fn list(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let user = session::signed_in(app, req)?;
    let tokens = app
        .store
        .token_views(Holder::User(user.user.id), LIST_LIMIT)?;
    let remembered = app.store.remembered_consents(user.user.id)?;
    let frame = user.frame(&app.settings);
    let now = app.clock.now();
    Ok(Resp::page(
        200,
        pages::tokens_list(&frame, &tokens, &remembered, now),
    ))
}

/// `GET /o/authorized_tokens/<id>/delete/`: the revoke confirmation.
pub(crate) fn revoke_page(app: &App, req: &Req, id: &str) -> Result<Resp, HttpError> {
    let user = session::signed_in(app, req)?;
    confirm_page(app, &user, id, Revoker::Holder)
}

/// The confirmation before `user` revokes the grant `id`: theirs, or, for an administrator
/// (`Revoker::Admin`), anyone's; 404 when it is not one they may revoke.
pub(crate) fn confirm_page(
    app: &App,
    user: &SignedIn,
    id: &str,
    by: Revoker,
) -> Result<Resp, HttpError> {
    let holder = match by {
        Revoker::Holder => Holder::User(user.user.id),
        Revoker::Admin => Holder::Anyone,
    };
    let token = app
        .store
        .find_token_view(id, holder)?
        .ok_or_else(HttpError::not_found)?;
    let frame = user.frame(&app.settings);
    Ok(Resp::page(
        200,
        pages::confirm_revoke(&frame, &token, app.clock.now(), by),
    ))
}

/// `POST /o/authorized_tokens/<id>/delete/`: revokes the grant's access and refresh tokens.
pub(crate) fn revoke(app: &App, req: &Req, id: &str) -> Result<Resp, HttpError> {
    let (user, _) = session::signed_in_form(app, req, &[])?;
    revoke_held(app, id, Holder::User(user.user.id))?;
    Ok(Resp::redirect(paths::AUTHORIZED_TOKENS))
}

/// Revokes the grant `id` of `holder` — its access token and its refresh token (and any token
/// refreshed from them) — in one transaction; 404 when it is not theirs.
pub(crate) fn revoke_held(app: &App, id: &str, holder: Holder) -> Result<(), HttpError> {
    app.store.immediate(|store| {
        let grant = store
            .find_token_view(id, holder)?
            .ok_or_else(HttpError::not_found)?;
        store.revoke_grant(grant.id, app.clock.now())?;
        Ok(())
    })
}

/// `GET /o/authorized_tokens/remembered/<id>/delete/`: the forget confirmation.
pub(crate) fn forget_page(app: &App, req: &Req, id: i64) -> Result<Resp, HttpError> {
    let user = session::signed_in(app, req)?;
    let consent = app
        .store
        .find_remembered_consent(id, user.user.id)?
        .ok_or_else(HttpError::not_found)?;
    let frame = user.frame(&app.settings);
    Ok(Resp::page(200, pages::confirm_forget(&frame, &consent)))
}

/// `POST /o/authorized_tokens/remembered/<id>/delete/`: forgets the decision; the tokens it
/// gave stay (revoke them above), only the consent page comes back.
pub(crate) fn forget(app: &App, req: &Req, id: i64) -> Result<Resp, HttpError> {
    let (user, _) = session::signed_in_form(app, req, &[])?;
    match app.store.forget_consent(id, user.user.id)? {
        true => Ok(Resp::redirect(paths::AUTHORIZED_TOKENS)),
        false => Err(HttpError::not_found()),
    }
}
