//! Responses: JSON, the OAuth error format, the API error format, and the headers every answer carries.

use crate::http::paths;
use crate::http::request::{Req, RequestError};
use crate::http::{App, session};
use crate::model::FieldErrors;
use crate::oauth::error::OAuthError;
use crate::store::StoreError;
use serde::Serialize;
use serde_json::json;

/// A response ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resp {
    /// HTTP status code.
    pub status: u16,
    /// Headers beyond the ones every response gets.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Resp {
    /// A JSON body.
    pub fn json<T: Serialize>(status: u16, value: &T) -> Resp {
        // Serializing our own plain data types cannot fail; an empty body would show it if it did.
        let body = serde_json::to_vec(value).unwrap_or_default();
        Resp {
            status,
            headers: vec![("Content-Type", "application/json".into())],
            body,
        }
    }

    /// A JSON body that must not be cached: tokens and token metadata (RFC 6749 §5.1).
    pub(crate) fn json_no_store<T: Serialize>(status: u16, value: &T) -> Resp {
        Resp::json(status, value).with_header("Pragma", "no-cache")
    }

    /// A plain-text body.
    pub fn text(status: u16, text: &str) -> Resp {
        Resp {
            status,
            headers: vec![("Content-Type", "text/plain; charset=utf-8".into())],
            body: text.as_bytes().to_vec(),
        }
    }

    /// An HTML page, with the headers every page carries (RFC 9700 §4.16: no framing; no
    /// referrer leaks codes or state; nothing loads from third parties).
    pub fn page(status: u16, markup: maud::Markup) -> Resp {
        Resp {
            status,
            headers: vec![
                ("Content-Type", "text/html; charset=utf-8".into()),
                ("Content-Security-Policy", PAGE_CSP.into()),
                ("Referrer-Policy", "no-referrer".into()),
            ],
            body: markup.into_string().into_bytes(),
        }
    }

    /// A redirect; after a form POST always 303 (RFC 9700 §4.12: never 307).
    pub fn redirect(location: &str) -> Resp {
        Resp::empty(303).with_header("Location", location)
    }

    /// An empty body.
    pub fn empty(status: u16) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Resp {
        self.headers.push((name, value.into()));
        self
    }
}

/// The Content-Security-Policy of every page: own stylesheet only, no scripts, never framed.
/// No `form-action`: browsers apply it to the redirects that follow a POST (login, then the
/// authorization endpoint, then the client), so it would block the return to the client.
pub(crate) const PAGE_CSP: &str =
    "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Headers on every response: nothing is cached, nothing sniffed, nothing framed.
pub(crate) const COMMON_HEADERS: [(&str, &str); 3] = [
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
];

/// A bearer-token failure's body, in the format of the endpoint it came from.
#[derive(Debug)]
pub(crate) enum BearerBody {
    /// A resource endpoint's: DRF's `{"detail": ...}`.
    Detail(&'static str),
    /// An OAuth endpoint's (the registration endpoint's): RFC 6749 §5.2 JSON of
    /// `invalid_token` (RFC 6750 §3.1) with this description.
    InvalidToken(String),
}

/// Everything a handler can fail with, rendered in the format of the endpoint it came from.
#[derive(Debug)]
pub(crate) enum HttpError {
    /// An OAuth endpoint's error (RFC 6749 §5.2 JSON).
    OAuth(OAuthError),
    /// An OAuth endpoint's unreadable request: `invalid_request` with the request error's status.
    OAuthRequest(RequestError),
    /// A resource endpoint's error: DRF's `{"detail": ...}` with a status.
    Api(u16, String),
    /// A resource endpoint's validation failure: DRF's `{"field": ["message"]}` with 400.
    Fields(serde_json::Value),
    /// RFC 6750 §3: a bearer-token failure; 401 or 403 with its challenge.
    Bearer {
        /// 401 or 403.
        status: u16,
        /// The WWW-Authenticate value.
        challenge: String,
        /// The body, in the endpoint's format.
        body: BearerBody,
    },
    /// The method is not served at this path; the value lists the ones that are.
    MethodNotAllowed(&'static str),
    /// The same at an OAuth endpoint: answered in the OAuth error format.
    OAuthMethodNotAllowed(&'static str),
    /// The same at a browser page: an HTML error page.
    PageMethodNotAllowed(&'static str),
    /// A browser page's error: an HTML error page with this status.
    Page {
        /// 400, 403, 404...
        status: u16,
        /// The page title.
        title: &'static str,
        /// One sentence for the user.
        message: String,
    },
    /// A page that needs a signed-in user: a 303 to the login page, which returns to `next`.
    LoginRequired(String),
    /// A database failure: logged, answered 500.
    Store(StoreError),
    /// The OS random source failed: logged, answered 500.
    Random(crate::secret::RandomError),
    /// An id_token could not be signed (the key file went missing since start-up): logged,
    /// answered 500. Its message names the file and the fix, never key material.
    Signing(crate::oidc::keys::KeyError),
}

impl From<crate::oidc::keys::KeyError> for HttpError {
    fn from(e: crate::oidc::keys::KeyError) -> Self {
        HttpError::Signing(e)
    }
}

impl From<StoreError> for HttpError {
    fn from(e: StoreError) -> Self {
        HttpError::Store(e)
    }
}

impl From<crate::secret::RandomError> for HttpError {
    fn from(e: crate::secret::RandomError) -> Self {
        HttpError::Random(e)
    }
}

impl From<OAuthError> for HttpError {
    fn from(e: OAuthError) -> Self {
        HttpError::OAuth(e)
    }
}

impl HttpError {
    /// The page of every object the user may not see: 404, whether it exists or not.
    pub fn not_found() -> HttpError {
        HttpError::Page {
            status: 404,
            title: "Not found",
            message: "There is nothing here, or it is not yours.".into(),
        }
    }

    /// A page's 400 with one sentence for the user.
    pub(crate) fn bad_request(message: &str) -> HttpError {
        HttpError::Page {
            status: 400,
            title: "Bad request",
            message: message.into(),
        }
    }

    /// A resource endpoint's unreadable request, in DRF's format.
    pub(crate) fn api_request(e: RequestError) -> HttpError {
        HttpError::Api(e.status(), e.description())
    }

    /// The response for this error to `req`; an error page keeps the navigation of the
    /// request's signed-in user. Internal failures are logged here, without request data.
    pub(crate) fn into_response(self, app: &App, req: &Req) -> Resp {
        match self {
            HttpError::OAuth(e) => {
                let resp = oauth_error_body(e.status(), e.code(), &e.description());
                match e.header() {
                    Some((name, value)) => resp.with_header(name, value),
                    None => resp,
                }
            }
            HttpError::OAuthRequest(e) => {
                oauth_error_body(e.status(), "invalid_request", &e.description())
            }
            HttpError::Api(status, detail) => Resp::json(status, &json!({ "detail": detail })),
            HttpError::Fields(errors) => Resp::json(400, &errors),
            HttpError::Bearer {
                status,
                challenge,
                body,
            } => match body {
                BearerBody::Detail(detail) => Resp::json(status, &json!({ "detail": detail })),
                BearerBody::InvalidToken(description) => {
                    oauth_error_body(status, "invalid_token", &description)
                }
            }
            .with_header("WWW-Authenticate", challenge),
            HttpError::OAuthMethodNotAllowed(allow) => {
                oauth_error_body(405, "invalid_request", "The method is not allowed here.")
                    .with_header("Allow", allow)
            }
            HttpError::MethodNotAllowed(allow) => {
                Resp::json(405, &json!({ "detail": "Method not allowed." }))
                    .with_header("Allow", allow)
            }
            HttpError::Page {
                status,
                title,
                message,
            } => {
                // A database failure here only costs the page its navigation.
                let session = session::current(app, req, app.clock.now()).ok().flatten();
                let frame = session::frame(&app.settings, session.as_ref());
                Resp::page(status, crate::pages::error(&frame, title, &message))
            }
            HttpError::PageMethodNotAllowed(allow) => HttpError::Page {
                status: 405,
                title: "Method not allowed",
                message: "This page does not take that kind of request.".into(),
            }
            .into_response(app, req)
            .with_header("Allow", allow),
            HttpError::LoginRequired(next) => {
                let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                Resp::redirect(&format!("{}?{query}", paths::LOGIN))
            }
            HttpError::Store(e) => internal(&e.to_string()),
            HttpError::Random(e) => internal(&e.to_string()),
            HttpError::Signing(e) => internal(&e.to_string()),
        }
    }
}

fn oauth_error_body(status: u16, code: &str, description: &str) -> Resp {
    Resp::json_no_store(
        status,
        &json!({ "error": code, "error_description": description }),
    )
}

/// A form's status: 200, or 400 when it came back with errors.
pub(crate) fn form_status(errors: &FieldErrors) -> u16 {
    if errors.is_empty() { 200 } else { 400 }
}

/// A 500 whose cause is logged on the server and not told to the client.
pub(crate) fn internal(cause: &str) -> Resp {
    eprintln!("oauthd: internal error: {cause}");
    Resp::json(
        500,
        &json!({ "error": "server_error", "detail": "Internal server error." }),
    )
}
