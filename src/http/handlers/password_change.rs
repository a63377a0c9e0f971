//! `/accounts/password_change/`: a signed-in user changes their own password (Django's view).
//! The current password is checked under the failed-login limiter; on success every other
//! session of the user ends, the current one goes on under a fresh session id, and the answer
//! redirects to `done/` (so a reload does not post the old password again).

use crate::accounts;
use crate::http::App;
use crate::http::events::SecurityEvent;
use crate::http::limiter::Subject;
use crate::http::paths;
use crate::http::request::Req;
use crate::http::response::{HttpError, Resp, form_status};
use crate::http::session::{self, SignedIn};
use crate::model::FieldErrors;
use crate::oauth::error::try_again_in;
use crate::pages;
use crate::secret;

/// Django's message for a wrong current password.
const WRONG_PASSWORD: &str = "Your old password was entered incorrectly. Please enter it again.";

/// `GET /accounts/password_change/`: the form.
pub(crate) fn page(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let signed_in = session::signed_in(app, req)?;
    Ok(form(app, &signed_in, 200, &FieldErrors::default(), None))
}

/// `POST /accounts/password_change/`: CSRF, the limiter, the current password, the account
/// rules for the new one; then, in one transaction, the new hash, the end of every session of
/// the user, and a new session for this browser. Any error re-shows the form (400, or 429
/// while throttled) and changes nothing.
pub(crate) fn change(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let (signed_in, params) = session::signed_in_form(app, req, &[])?;
    let now = app.clock.now();
    let field = |name| params.get(name).unwrap_or("");
    let Some(user) = app.store.find_user(signed_in.user.id)? else {
        return Err(HttpError::LoginRequired(req.path.clone()));
    };
    let attempt = match app
        .limiter
        .attempt(Subject::Username(&user.username), req.remote, now)
    {
        Ok(attempt) => attempt,
        Err(wait) => {
            let alert = try_again_in(wait);
            let resp = form(app, &signed_in, 429, &FieldErrors::default(), Some(&alert));
            return Ok(resp.with_header("Retry-After", wait.to_string()));
        }
    };
    let mut errors = FieldErrors::default();
    if secret::verify_password(field("old_password"), &user.password_hash) {
        attempt.passed();
    } else {
        errors.add("old_password", WRONG_PASSWORD);
    }
    let new_password = field("new_password1");
    if let Some(problem) = accounts::new_password_problem(new_password, field("new_password2")) {
        errors.add("new_password1", problem);
    }
    if !errors.is_empty() {
        return Ok(form(app, &signed_in, form_status(&errors), &errors, None));
    }
    let hash = secret::hash_password(new_password)?;
    // A user removed meanwhile (`oauthd user remove`) is answered as signed out, and the
    // transaction rolls back.
    let signed_out = || HttpError::LoginRequired(req.path.clone());
    let set_cookie = app.store.immediate(|store| -> Result<_, HttpError> {
        if !store.set_password(user.id, &hash)? {
            return Err(signed_out());
        }
        store.end_user_sessions(user.id, None)?;
        session::start(app, req, &user, now)?.ok_or_else(signed_out)
    })?;
    let event = SecurityEvent::PasswordChanged {
        subject: &user.subject,
    };
    app.telemetry.security(&event, req.remote);
    Ok(Resp::redirect(paths::PASSWORD_CHANGE_DONE).with_header("Set-Cookie", set_cookie))
}

/// `GET /accounts/password_change/done/`: the confirmation.
pub(crate) fn done(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let signed_in = session::signed_in(app, req)?;
    let frame = signed_in.frame(&app.settings);
    Ok(Resp::page(200, pages::password_changed(&frame)))
}

/// The form with `errors` (or an `alert` about the whole try) in the signed-in user's frame.
fn form(
    app: &App,
    signed_in: &SignedIn,
    status: u16,
    errors: &FieldErrors,
    alert: Option<&str>,
) -> Resp {
    let page = pages::password_change(&signed_in.frame(&app.settings), errors, alert);
    Resp::page(status, page)
}
