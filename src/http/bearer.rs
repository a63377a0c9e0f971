//! RFC 6750 bearer-token guard for resource endpoints, with DOT's permission classes as
//! [`Requirement`]s. The resource handlers call [`authorize`]; the registration endpoint reads
//! its initial access token (RFC 7591 §3) with [`presented`] and refuses it with
//! [`invalid_token`], both in its own error format ([`Guarded::Registration`]).

use crate::http::App;
use crate::http::request::{BearerHeader, Req};
use crate::http::response::{BearerBody, HttpError};
use crate::model::AccessToken;
use crate::oauth::scope::Requirement;
use crate::secret;

const REALM: &str = "Bearer realm=\"oauthd\"";

/// Checks the request's bearer token against `requirement` at time `now`.
///
/// 401 with a bare `Bearer` challenge when no token was sent; 401 with
/// `error="invalid_token"` when it is malformed, unknown, revoked or expired; 403 with
/// `error="insufficient_scope"` naming the scopes needed (RFC 6750 §3.1).
pub(crate) fn authorize(
    app: &App,
    req: &Req,
    requirement: &Requirement,
    now: i64,
) -> Result<AccessToken, HttpError> {
    let token = app
        .store
        .find_access_token(&secret::digest(presented(req, Guarded::Resource)?))?
        .filter(|t| t.is_active(now))
        .ok_or_else(|| {
            invalid_token(
                "The access token is invalid, expired or revoked.",
                Guarded::Resource,
            )
        })?;
    match requirement.check(&req.method, &token.scope, &app.settings) {
        Ok(()) => Ok(token),
        Err(needed) => Err(HttpError::Bearer {
            status: 403,
            challenge: format!(
                "{REALM}, error=\"insufficient_scope\", error_description=\"The request requires higher privileges than provided by the access token.\", scope=\"{}\"",
                needed.join(" ")
            ),
            body: BearerBody::Detail("You do not have permission to perform this action."),
        }),
    }
}

/// Whose bearer token a 401 refuses, which sets the body's format; the challenge is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guarded {
    /// A resource endpoint's access token: DRF's `{"detail": ...}`.
    Resource,
    /// The registration endpoint's initial access token (RFC 7591 §3): RFC 6749 §5.2 JSON of
    /// `invalid_token`, like the endpoint's other errors.
    Registration,
}

/// The request's bearer token (RFC 6750 §2.1), or the 401 of §3.1 in `guarded`'s format: a
/// bare `Bearer` challenge, with no error code, when no token was sent; `error="invalid_token"`
/// when the header is malformed.
pub(crate) fn presented(req: &Req, guarded: Guarded) -> Result<&str, HttpError> {
    match req.bearer_token() {
        BearerHeader::Token(token) => Ok(token),
        BearerHeader::Absent => Err(HttpError::Bearer {
            status: 401,
            challenge: REALM.into(),
            body: match guarded {
                Guarded::Resource => {
                    BearerBody::Detail("Authentication credentials were not provided.")
                }
                Guarded::Registration => BearerBody::InvalidToken(
                    "An initial access token is required, as a Bearer token.".into(),
                ),
            },
        }),
        BearerHeader::Malformed => Err(invalid_token(
            match guarded {
                Guarded::Resource => "The token is malformed.",
                Guarded::Registration => "The initial access token is malformed.",
            },
            guarded,
        )),
    }
}

/// 401 with `error="invalid_token"` and `description` (RFC 6750 §3.1), in `guarded`'s format.
pub(crate) fn invalid_token(description: &str, guarded: Guarded) -> HttpError {
    HttpError::Bearer {
        status: 401,
        challenge: format!("{REALM}, error=\"invalid_token\", error_description=\"{description}\""),
        body: match guarded {
            Guarded::Resource => BearerBody::Detail(
                "Invalid token header. The access token is invalid, expired or revoked.",
            ),
            Guarded::Registration => BearerBody::InvalidToken(description.into()),
        },
    }
}
