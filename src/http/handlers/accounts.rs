//! `/accounts/login/`, `/accounts/logout/` and the signed-in home page: Django's auth views.

use crate::http::App;
use crate::http::limiter::Subject;
use crate::http::paths;
use crate::http::request::Req;
use crate::http::response::{HttpError, Resp};
use crate::http::session;
use crate::oauth::error::try_again_in;
use crate::pages::{self, CSRF_FIELD, LoginForm};
use crate::secret::{self, DECOY_PASSWORD_HASH};

const BAD_CREDENTIALS: &str =
    "Please enter a correct username and password. Note that both fields may be case-sensitive.";

/// `GET /accounts/login/?next=/path`: the form, carrying the session's CSRF token, or without
/// a session the double-submit cookie's (nothing is stored before a login succeeds).
pub(crate) fn login_page(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let now = app.clock.now();
    let query = req.query_params().map_err(bad_form)?;
    let next = local_path(query.get("next"));
    let hint = login_hint(next);
    let form = LoginForm {
        next,
        username: hint.as_deref().unwrap_or(""),
        error: None,
    };
    if let Some(session) = session::current(app, req, now)? {
        let frame = session::frame(&app.settings, Some(&session));
        return Ok(Resp::page(200, pages::login(&frame, &form)));
    }
    let csrf = session::login_csrf(app, req)?;
    let frame = session::anonymous_frame(&app.settings, &csrf.token);
    let resp = Resp::page(200, pages::login(&frame, &form));
    Ok(match csrf.set_cookie {
        Some(cookie) => resp.with_header("Set-Cookie", cookie),
        None => resp,
    })
}

/// `POST /accounts/login/`: CSRF, the failed-login limiter, the password (against a decoy for
/// an unknown user), then a new session (no fixation) and a 303 to a local `next`.
pub(crate) fn login(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let now = app.clock.now();
    let params = req.params(false).map_err(bad_form)?;
    let session = session::current(app, req, now)?;
    let csrf = params.get(CSRF_FIELD);
    session::check_login_csrf(app, req, session.as_ref(), csrf)?;
    let username = params.get("username").unwrap_or("");
    let next = local_path(params.get("next"));
    let retry = |status: u16, error: &str| {
        let form = LoginForm {
            next,
            username,
            error: Some(error),
        };
        let frame = match &session {
            Some(session) => session::frame(&app.settings, Some(session)),
            None => session::anonymous_frame(&app.settings, csrf.unwrap_or("")),
        };
        Resp::page(status, pages::login(&frame, &form))
    };
    let attempt = match app
        .limiter
        .attempt(Subject::Username(username), req.remote, now)
    {
        Ok(attempt) => attempt,
        Err(wait) => {
            let error = try_again_in(wait);
            return Ok(retry(429, &error).with_header("Retry-After", wait.to_string()));
        }
    };
    let user = app.store.find_user_by_username(username)?;
    let hash = user
        .as_ref()
        .map_or(DECOY_PASSWORD_HASH, |u| u.password_hash.as_str());
    let password_ok = secret::verify_password(params.get("password").unwrap_or(""), hash);
    let Some(user) = user.filter(|u| password_ok && u.is_active) else {
        return Ok(retry(200, BAD_CREDENTIALS));
    };
    attempt.passed();
    if let Some(session) = &session {
        app.store.delete_session(session.id)?;
    }
    // Removed (`oauthd user remove`) since the password was checked: as if it never existed.
    let Some(set_cookie) = session::start(app, req, &user, now)? else {
        return Ok(retry(200, BAD_CREDENTIALS));
    };
    Ok(Resp::redirect(next).with_header("Set-Cookie", set_cookie))
}

/// `POST /accounts/logout/`: ends the session (CSRF-checked) and returns to the login page.
pub(crate) fn logout(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let params = req.params(false).map_err(bad_form)?;
    let session = session::current(app, req, app.clock.now())?;
    session::check_csrf(session.as_ref(), params.get(CSRF_FIELD))?;
    if let Some(session) = session {
        app.store.delete_session(session.id)?;
    }
    Ok(Resp::redirect(paths::LOGIN)
        .with_header("Set-Cookie", session::clear_cookie(&app.settings, req)))
}

/// `GET /`: the signed-in home page, or the login page with `next=/`.
pub(crate) fn home(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let signed_in = session::signed_in(app, req)?;
    Ok(Resp::page(
        200,
        pages::home(&signed_in.frame(&app.settings)),
    ))
}

/// A stylesheet: `/static/oauthd.css`, or the deployment's `/static/custom.css`.
pub(crate) fn stylesheet(css: &str) -> Resp {
    Resp {
        status: 200,
        headers: vec![("Content-Type", "text/css; charset=utf-8".into())],
        body: css.as_bytes().to_vec(),
    }
}

/// OIDC Core §3.1.2.1's `login_hint`: the username the form starts with, when the sign-in is
/// for an authorization request that names one.
fn login_hint(next: &str) -> Option<String> {
    let query = next.strip_prefix(paths::AUTHORIZE)?.strip_prefix('?')?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let (_, hint) = pairs.into_iter().find(|(name, _)| name == "login_hint")?;
    (hint.chars().count() <= MAX_HINT_CHARS).then_some(hint)
}

/// The longest login_hint shown (Django's username limit).
const MAX_HINT_CHARS: usize = 150;

/// `next` if it is a path on this server; otherwise `/` (RFC 9700 §4.11: no open redirector).
/// Refused: absolute URLs, scheme-relative `//host`, `/\host` (browsers read `\` as `/`), and
/// anything with control characters, whitespace or non-ASCII (no Location header holds it).
pub(crate) fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.is_ascii()
                && path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            path
        }
        _ => paths::HOME,
    }
}

fn bad_form<E>(_: E) -> HttpError {
    HttpError::bad_request("The form could not be read.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_hint_fills_in_the_username() {
        let next = "/o/authorize/?client_id=c&login_hint=bob%22e%27i&scope=openid";
        assert_eq!(login_hint(next).as_deref(), Some("bob\"e'i"));
        assert_eq!(login_hint("/o/applications/?login_hint=bob"), None);
        assert_eq!(login_hint("/o/authorize/?client_id=c"), None);
        let long = format!("/o/authorize/?login_hint={}", "b".repeat(151));
        assert_eq!(login_hint(&long), None);
    }

    #[test]
    fn only_local_paths_are_followed() {
        let authorize = format!("{}?client_id=x&state=y", paths::AUTHORIZE);
        for ok in [paths::HOME, &authorize, paths::APPLICATIONS] {
            assert_eq!(local_path(Some(ok)), ok);
        }
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example/",
            "\\\\evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/ok\r\nLocation: https://evil.example",
            "/a b",
            "/é",
            "",
        ] {
            assert_eq!(local_path(Some(bad)), paths::HOME, "{bad:?}");
        }
        assert_eq!(local_path(None), paths::HOME);
    }
}
