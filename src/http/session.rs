//! Cookie sessions and CSRF: a random session id in an HttpOnly, SameSite=Lax cookie (Secure
//! with the `__Host-` prefix under https), stored only as its SHA-256; a CSRF token per
//! session that every state-changing form carries. Before login nothing is stored: the login
//! form's CSRF token is a double-submit cookie (docs/security.md rule 50).

use crate::http::App;
use crate::http::paths;
use crate::http::request::{Params, Req};
use crate::http::response::HttpError;
use crate::model::User;
use crate::pages::{CSRF_FIELD, Frame};
use crate::secret;
use crate::settings::Settings;
use crate::store::{Session, SessionUser};

/// The session cookie's name over plain http.
pub const COOKIE: &str = "oauthd_session";
/// Its name under https: the `__Host-` prefix pins it to this host and path `/`, Secure.
pub(crate) const SECURE_COOKIE: &str = "__Host-oauthd_session";

/// The login form's double-submit CSRF cookie over plain http.
pub(crate) const CSRF_COOKIE: &str = "oauthd_csrf";
/// Its name under https.
pub(crate) const SECURE_CSRF_COOKIE: &str = "__Host-oauthd_csrf";

/// How long a login form's CSRF cookie lasts: the time a person may take to sign in.
const LOGIN_CSRF_SECONDS: i64 = 3600;

/// A cookie's two names: over plain http, and under https (with the `__Host-` prefix).
type CookieNames = (&'static str, &'static str);
const SESSION_NAMES: CookieNames = (COOKIE, SECURE_COOKIE);
const CSRF_NAMES: CookieNames = (CSRF_COOKIE, SECURE_CSRF_COOKIE);

fn cookie_name(settings: &Settings, (plain, secure): CookieNames) -> &'static str {
    if settings.is_https() { secure } else { plain }
}

/// The request's live session, if its cookie names one.
pub(crate) fn current(app: &App, req: &Req, now: i64) -> Result<Option<Session>, HttpError> {
    match req.cookie(cookie_name(&app.settings, SESSION_NAMES)) {
        Some(id) => Ok(app.store.find_session(&secret::digest(id), now)?),
        None => Ok(None),
    }
}

/// Starts a session for `user`, who has just signed in (a fresh random id: no fixation), and
/// returns the Set-Cookie value that hands it to the browser; `None` when the user was removed
/// meanwhile (`oauthd user remove`), which callers answer as for someone not signed in.
pub(crate) fn start(
    app: &App,
    req: &Req,
    user: &User,
    now: i64,
) -> Result<Option<String>, HttpError> {
    let id = secret::random_token()?;
    let csrf_token = secret::random_token()?.expose().to_owned();
    let lifetime = app.settings.session_expire_seconds;
    let made = app.store.create_session(
        &id.digest(),
        Some(user.id),
        &csrf_token,
        now,
        now + lifetime,
    )?;
    Ok(made.map(|_| cookie(&app.settings, req, SESSION_NAMES, id.expose(), lifetime)))
}

/// The Set-Cookie value that removes the session cookie.
pub(crate) fn clear_cookie(settings: &Settings, req: &Req) -> String {
    cookie(settings, req, SESSION_NAMES, "", 0)
}

/// The CSRF token of a login form shown without a session, and the Set-Cookie value that
/// hands it to the browser when it does not hold one yet. Nothing is stored.
pub(crate) struct LoginCsrf {
    /// The value the form carries and the cookie holds.
    pub(crate) token: String,
    /// Set when the browser had no usable CSRF cookie.
    pub(crate) set_cookie: Option<String>,
}

/// The browser's login CSRF cookie, or a new random one.
pub(crate) fn login_csrf(app: &App, req: &Req) -> Result<LoginCsrf, HttpError> {
    if let Some(token) = csrf_cookie(app, req) {
        return Ok(LoginCsrf {
            token: token.to_owned(),
            set_cookie: None,
        });
    }
    let token = secret::random_token()?.expose().to_owned();
    let set_cookie = cookie(&app.settings, req, CSRF_NAMES, &token, LOGIN_CSRF_SECONDS);
    Ok(LoginCsrf {
        token,
        set_cookie: Some(set_cookie),
    })
}

/// The request's CSRF cookie, when it looks like one this server draws.
fn csrf_cookie<'r>(app: &App, req: &'r Req) -> Option<&'r str> {
    req.cookie(cookie_name(&app.settings, CSRF_NAMES))
        .filter(|token| secret::looks_like_token(token))
}

/// The login form's CSRF check: the form's token must equal the browser's double-submit
/// cookie, or its session's token when it has a session; otherwise 403 and nothing changes.
pub(crate) fn check_login_csrf(
    app: &App,
    req: &Req,
    session: Option<&Session>,
    presented: Option<&str>,
) -> Result<(), HttpError> {
    let by_cookie = match (csrf_cookie(app, req), presented) {
        (Some(cookie), Some(token)) => {
            secret::constant_time_eq(cookie.as_bytes(), token.as_bytes())
        }
        _ => false,
    };
    match by_cookie {
        true => Ok(()),
        false => check_csrf(session, presented),
    }
}

/// The cookie is `Secure` under an https `public_url`, and also when a trusted proxy says
/// the browser reached it over https (the name keeps to `public_url`, so that it does not
/// change from one request to the next).
fn cookie(settings: &Settings, req: &Req, names: CookieNames, value: &str, max_age: i64) -> String {
    let secure = if settings.is_https() || req.forwarded_https {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        cookie_name(settings, names)
    )
}

/// RFC 6749 §10.12: the form's token must equal the session's (constant-time); otherwise 403
/// and nothing changes.
pub(crate) fn check_csrf(
    session: Option<&Session>,
    presented: Option<&str>,
) -> Result<(), HttpError> {
    let valid = match (session, presented) {
        (Some(session), Some(token)) => {
            secret::constant_time_eq(session.csrf_token.as_bytes(), token.as_bytes())
        }
        _ => false,
    };
    if valid {
        Ok(())
    } else {
        Err(HttpError::Page {
            status: 403,
            title: "Forbidden",
            message: "CSRF verification failed. Request aborted. Reload the page and try again."
                .into(),
        })
    }
}

/// The frame a page is drawn in: the site's settings and the session's user, if any.
pub(crate) fn frame<'a>(settings: &'a Settings, session: Option<&'a Session>) -> Frame<'a> {
    Frame {
        site_name: &settings.site_name,
        custom_css: settings.custom_css.is_some(),
        user: session.and_then(|s| s.user.as_ref()),
        csrf_token: session.map_or("", |s| s.csrf_token.as_str()),
    }
}

/// The frame of a login page shown without a session, carrying the form's CSRF token.
pub(crate) fn anonymous_frame<'a>(settings: &'a Settings, csrf_token: &'a str) -> Frame<'a> {
    Frame {
        csrf_token,
        ..frame(settings, None)
    }
}

/// A request from a signed-in user.
pub(crate) struct SignedIn {
    /// Their session.
    pub session: Session,
    /// Who they are.
    pub user: SessionUser,
}

impl SignedIn {
    /// The frame of their pages.
    pub fn frame<'a>(&'a self, settings: &'a Settings) -> Frame<'a> {
        frame(settings, Some(&self.session))
    }
}

/// The signed-in user of a page request; otherwise a trip to the login page and back.
pub(crate) fn signed_in(app: &App, req: &Req) -> Result<SignedIn, HttpError> {
    as_signed_in(current(app, req, app.clock.now())?).ok_or_else(|| {
        let back = match req.query.as_str() {
            "" => req.path.clone(),
            query => format!("{}?{query}", req.path),
        };
        HttpError::LoginRequired(back)
    })
}

/// A signed-in user's form POST: the body (with the checkbox `lists` that may repeat), its
/// CSRF token checked first (RFC 6749 §10.12), then the user.
pub(crate) fn signed_in_form(
    app: &App,
    req: &Req,
    lists: &[&str],
) -> Result<(SignedIn, Params), HttpError> {
    let form = req.page_form(lists).map_err(|e| HttpError::Page {
        status: e.status(),
        title: "Bad request",
        message: e.description(),
    })?;
    let session = current(app, req, app.clock.now())?;
    check_csrf(session.as_ref(), form.get(CSRF_FIELD))?;
    let signed_in = as_signed_in(session).ok_or(HttpError::LoginRequired(paths::HOME.into()))?;
    Ok((signed_in, form))
}

fn as_signed_in(session: Option<Session>) -> Option<SignedIn> {
    let session = session?;
    let user = session.user.clone()?;
    Some(SignedIn { session, user })
}
