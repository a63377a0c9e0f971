//! Cookie sessions and CSRF: a random session id in an HttpOnly, SameSite=Lax cookie (Secure
//! with the `__Host-` prefix under https), stored only as its SHA-256; a CSRF token per
//! session that every state-changing form carries.

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
pub const SECURE_COOKIE: &str = "__Host-oauthd_session";

/// The longest life of a session nobody has signed in to (it only carries the login form's
/// CSRF token): anyone can create one, so it must not linger.
pub const ANONYMOUS_SESSION_SECONDS: i64 = 3600;

/// A session just created, with the Set-Cookie value that hands it to the browser.
pub struct NewSession {
    /// The session.
    pub session: Session,
    /// The Set-Cookie header value.
    pub set_cookie: String,
}

fn cookie_name(settings: &Settings) -> &'static str {
    if settings.is_https() {
        SECURE_COOKIE
    } else {
        COOKIE
    }
}

/// The request's live session, if its cookie names one.
pub fn current(app: &App, req: &Req, now: i64) -> Result<Option<Session>, HttpError> {
    match req.cookie(cookie_name(&app.settings)) {
        Some(id) => Ok(app.store.find_session(&secret::digest(id), now)?),
        None => Ok(None),
    }
}

/// Starts a session (a fresh random id: no fixation), signed in as `user` or anonymous.
pub fn start(app: &App, req: &Req, user: Option<&User>, now: i64) -> Result<NewSession, HttpError> {
    let id = secret::random_token()?;
    let csrf_token = secret::random_token()?.expose().to_owned();
    let lifetime = match user {
        Some(_) => app.settings.session_expire_seconds,
        None => app
            .settings
            .session_expire_seconds
            .min(ANONYMOUS_SESSION_SECONDS),
    };
    let user_id = user.map(|u| u.id);
    let row = app
        .store
        .create_session(&id.digest(), user_id, &csrf_token, now, now + lifetime)?;
    let user = user.map(|u| SessionUser {
        id: u.id,
        username: u.username.clone(),
        is_admin: u.is_admin,
        auth_time: now,
    });
    Ok(NewSession {
        session: Session {
            id: row,
            user,
            csrf_token,
        },
        set_cookie: cookie(&app.settings, req, id.expose(), lifetime),
    })
}

/// The Set-Cookie value that removes the session cookie.
pub fn clear_cookie(settings: &Settings, req: &Req) -> String {
    cookie(settings, req, "", 0)
}

/// The cookie is `Secure` under an https `public_url`, and also when a trusted proxy says
/// the browser reached it over https (the name keeps to `public_url`, so that it does not
/// change from one request to the next).
fn cookie(settings: &Settings, req: &Req, value: &str, max_age: i64) -> String {
    let secure = if settings.is_https() || req.forwarded_https {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        cookie_name(settings)
    )
}

/// RFC 6749 §10.12: the form's token must equal the session's (constant-time); otherwise 403
/// and nothing changes.
pub fn check_csrf(session: Option<&Session>, presented: Option<&str>) -> Result<(), HttpError> {
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
pub fn frame<'a>(settings: &'a Settings, session: Option<&'a Session>) -> Frame<'a> {
    Frame {
        site_name: &settings.site_name,
        custom_css: settings.custom_css.is_some(),
        user: session.and_then(|s| s.user.as_ref()),
        csrf_token: session.map_or("", |s| s.csrf_token.as_str()),
    }
}

/// A request from a signed-in user.
pub struct SignedIn {
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
pub fn signed_in(app: &App, req: &Req) -> Result<SignedIn, HttpError> {
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
pub fn signed_in_form(
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
