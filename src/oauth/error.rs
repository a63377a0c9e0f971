//! The OAuth 2.0 and OpenID Connect error codes (RFC 6749 §4.1.2.1 and §5.2, RFC 7009 §2.2.1,
//! OIDC Core §3.1.2.6, RFC 8628 §3.5): wire string, description, HTTP status and header in one place.

use std::borrow::Cow;
use std::fmt;

/// One variant per RFC error code, each with a human-readable description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OAuthError {
    /// A parameter is missing, repeated, unsupported or malformed.
    InvalidRequest(String),
    /// Client authentication failed. Unknown client and wrong secret look the same.
    /// `basic`: the client tried HTTP Basic, which earns a 401 with a challenge.
    InvalidClient {
        /// The client authenticated (or tried to) with an Authorization header.
        basic: bool,
    },
    /// The grant (credentials, refresh token, code) is invalid, expired, revoked or not this client's.
    InvalidGrant(String),
    /// This client may not use this grant type.
    UnauthorizedClient(String),
    /// The grant type is not one the server knows.
    UnsupportedGrantType,
    /// The requested scope is unknown, not allowed to this client, or wider than granted.
    InvalidScope(String),
    /// RFC 8707 §2: a `resource` is not an absolute URI without a fragment, or not one this
    /// client or grant may have.
    InvalidTarget(String),
    /// RFC 7009 §2.2.1: the token_type_hint names a type the server cannot revoke.
    UnsupportedTokenType,
    /// The authorization endpoint does not support this response_type (RFC 6749 §4.1.2.1).
    UnsupportedResponseType,
    /// The resource owner (or the server on their behalf) denied the request.
    AccessDenied(String),
    /// OIDC Core §3.1.2.6: prompt=none, but the user must sign in first.
    LoginRequired,
    /// OIDC Core §3.1.2.6: prompt=none, but the user must consent first.
    ConsentRequired,
    /// OIDC Core §6: a `request` object was sent; oauthd does not accept request objects.
    RequestNotSupported,
    /// OIDC Core §6: a `request_uri` was sent; oauthd does not fetch request objects.
    RequestUriNotSupported,
    /// RFC 6749 §4.1.2.1's "try again later", the one code the RFCs have for a refusal that
    /// passes with time: answered 429 with Retry-After (RFC 6585 §4). Too many failed password
    /// or client-secret checks (docs/security.md rule 30, [`OAuthError::throttled`]: before
    /// any secret is compared), a spent request budget, per address or overall (rule 66,
    /// [`OAuthError::over_budget`]), or a passing shortage; the description says which.
    TemporarilyUnavailable {
        /// Seconds until the next try is allowed.
        retry_after: i64,
        /// Why, and when to come back; names no credential.
        description: String,
    },
    /// RFC 7591 §3.2.2: a redirect URI of a registration request is not acceptable.
    InvalidRedirectUri(String),
    /// RFC 7591 §3.2.2: a registration request's metadata is invalid or not allowed.
    InvalidClientMetadata(String),
    /// RFC 8628 §3.5: the user has not yet approved or denied the device code; poll again.
    AuthorizationPending,
    /// RFC 8628 §3.5: polled too soon; poll again, `SLOW_DOWN_SECONDS` slower from now on.
    SlowDown,
    /// RFC 8628 §3.5: the device code expired before it was approved.
    ExpiredToken,
}

impl OAuthError {
    /// The `error` value on the wire.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient { .. } => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient(_) => "unauthorized_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::InvalidTarget(_) => "invalid_target",
            OAuthError::UnsupportedTokenType => "unsupported_token_type",
            OAuthError::UnsupportedResponseType => "unsupported_response_type",
            OAuthError::AccessDenied(_) => "access_denied",
            OAuthError::LoginRequired => "login_required",
            OAuthError::ConsentRequired => "consent_required",
            OAuthError::RequestNotSupported => "request_not_supported",
            OAuthError::RequestUriNotSupported => "request_uri_not_supported",
            OAuthError::TemporarilyUnavailable { .. } => "temporarily_unavailable",
            OAuthError::InvalidRedirectUri(_) => "invalid_redirect_uri",
            OAuthError::InvalidClientMetadata(_) => "invalid_client_metadata",
            OAuthError::AuthorizationPending => "authorization_pending",
            OAuthError::SlowDown => "slow_down",
            OAuthError::ExpiredToken => "expired_token",
        }
    }

    /// The `error_description` value: never contains a credential.
    pub fn description(&self) -> Cow<'_, str> {
        match self {
            OAuthError::InvalidRequest(d)
            | OAuthError::InvalidGrant(d)
            | OAuthError::UnauthorizedClient(d)
            | OAuthError::InvalidScope(d)
            | OAuthError::AccessDenied(d)
            | OAuthError::InvalidRedirectUri(d)
            | OAuthError::InvalidClientMetadata(d)
            | OAuthError::InvalidTarget(d)
            | OAuthError::TemporarilyUnavailable { description: d, .. } => Cow::Borrowed(d),
            OAuthError::InvalidClient { .. } => "Client authentication failed.".into(),
            OAuthError::UnsupportedGrantType => "The grant_type is not supported.".into(),
            OAuthError::UnsupportedTokenType => "The token_type_hint is not supported.".into(),
            OAuthError::UnsupportedResponseType => "The response_type is not supported.".into(),
            OAuthError::LoginRequired => "The user must sign in (prompt=none).".into(),
            OAuthError::ConsentRequired => {
                "The user must approve the request (prompt=none).".into()
            }
            OAuthError::RequestNotSupported => "Request objects are not supported.".into(),
            OAuthError::RequestUriNotSupported => "request_uri is not supported.".into(),
            OAuthError::AuthorizationPending => {
                "The user has not yet approved or denied the request.".into()
            }
            OAuthError::SlowDown => format!(
                "Polling too fast; wait {} seconds longer.",
                crate::oauth::device::SLOW_DOWN_SECONDS
            )
            .into(),
            OAuthError::ExpiredToken => "The device_code has expired.".into(),
        }
    }

    /// RFC 6749 §5.2: a client that tried HTTP Basic and failed gets 401 with a
    /// WWW-Authenticate challenge; `temporarily_unavailable` gets 429 (RFC 6585 §4) with
    /// Retry-After (see [`OAuthError::header`]); every other error is 400. (Bearer-token
    /// failures are not OAuth errors: see [`crate::http::bearer`].)
    pub fn status(&self) -> u16 {
        match self {
            OAuthError::InvalidClient { basic: true } => 401,
            OAuthError::TemporarilyUnavailable { .. } => 429,
            _ => 400,
        }
    }

    /// The header a status needs: WWW-Authenticate on a 401, Retry-After on a 429.
    pub fn header(&self) -> Option<(&'static str, String)> {
        match self {
            OAuthError::InvalidClient { basic: true } => {
                Some(("WWW-Authenticate", "Basic realm=\"oauthd\"".into()))
            }
            OAuthError::TemporarilyUnavailable { retry_after, .. } => {
                Some(("Retry-After", retry_after.to_string()))
            }
            _ => None,
        }
    }

    /// Too many failed secret checks: wait `retry_after` seconds (docs/security.md rule 30).
    pub(crate) fn throttled(retry_after: i64) -> OAuthError {
        OAuthError::TemporarilyUnavailable {
            retry_after,
            description: try_again_in(retry_after),
        }
    }

    /// A request budget is spent: wait until its window ends (docs/security.md rule 66). The
    /// description says whose budget it was.
    pub(crate) fn over_budget(spent: SpentBudget) -> OAuthError {
        let (retry_after, from) = match spent {
            SpentBudget::Address(seconds) => (seconds, "from this address"),
            SpentBudget::Overall(seconds) => (seconds, "from all addresses together"),
        };
        OAuthError::TemporarilyUnavailable {
            retry_after,
            description: format!("Too many requests {from}. {}", in_seconds(retry_after)),
        }
    }

    /// Shorthand for a missing required parameter.
    pub fn missing(name: &str) -> OAuthError {
        OAuthError::InvalidRequest(format!("Missing required parameter: {name}."))
    }
}

/// A spent request budget (docs/security.md rule 66): whose, and the seconds until its window
/// ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpentBudget {
    /// The budget of the sender's address group.
    Address(i64),
    /// The budget of all addresses together.
    Overall(i64),
}

/// What a throttled try is told, here and on the login page; it names no credential.
pub(crate) fn try_again_in(seconds: i64) -> String {
    format!("Too many failed attempts. {}", in_seconds(seconds))
}

/// "Try again in N seconds."
fn in_seconds(seconds: i64) -> String {
    let unit = if seconds == 1 { "second" } else { "seconds" };
    format!("Try again in {seconds} {unit}.")
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_codes_and_statuses() {
        let table = [
            (OAuthError::missing("grant_type"), "invalid_request", 400),
            (
                OAuthError::InvalidClient { basic: true },
                "invalid_client",
                401,
            ),
            (
                OAuthError::InvalidClient { basic: false },
                "invalid_client",
                400,
            ),
            (OAuthError::InvalidGrant("x".into()), "invalid_grant", 400),
            (
                OAuthError::UnauthorizedClient("x".into()),
                "unauthorized_client",
                400,
            ),
            (
                OAuthError::UnsupportedGrantType,
                "unsupported_grant_type",
                400,
            ),
            (OAuthError::InvalidScope("x".into()), "invalid_scope", 400),
            (OAuthError::InvalidTarget("x".into()), "invalid_target", 400),
            (
                OAuthError::UnsupportedTokenType,
                "unsupported_token_type",
                400,
            ),
            (
                OAuthError::UnsupportedResponseType,
                "unsupported_response_type",
                400,
            ),
            (OAuthError::AccessDenied("x".into()), "access_denied", 400),
            (OAuthError::LoginRequired, "login_required", 400),
            (OAuthError::ConsentRequired, "consent_required", 400),
            (
                OAuthError::RequestNotSupported,
                "request_not_supported",
                400,
            ),
            (
                OAuthError::RequestUriNotSupported,
                "request_uri_not_supported",
                400,
            ),
            (OAuthError::throttled(8), "temporarily_unavailable", 429),
            (
                OAuthError::over_budget(SpentBudget::Address(8)),
                "temporarily_unavailable",
                429,
            ),
            (
                OAuthError::over_budget(SpentBudget::Overall(8)),
                "temporarily_unavailable",
                429,
            ),
            (
                OAuthError::InvalidRedirectUri("x".into()),
                "invalid_redirect_uri",
                400,
            ),
            (
                OAuthError::InvalidClientMetadata("x".into()),
                "invalid_client_metadata",
                400,
            ),
            (
                OAuthError::AuthorizationPending,
                "authorization_pending",
                400,
            ),
            (OAuthError::SlowDown, "slow_down", 400),
            (OAuthError::ExpiredToken, "expired_token", 400),
        ];
        for (error, code, status) in table {
            assert_eq!((error.code(), error.status()), (code, status));
            let header = error.header().map(|(name, _)| name);
            let expected = match status {
                401 => Some("WWW-Authenticate"),
                429 => Some("Retry-After"),
                _ => None,
            };
            assert_eq!(header, expected, "{error}");
        }
    }

    #[test]
    fn a_throttled_try_says_when_to_come_back() {
        let error = OAuthError::throttled(16);
        assert_eq!(error.header(), Some(("Retry-After", "16".into())));
        assert_eq!(
            error.description(),
            "Too many failed attempts. Try again in 16 seconds."
        );
        let spent = OAuthError::over_budget(SpentBudget::Address(60));
        assert_eq!(spent.header(), Some(("Retry-After", "60".into())));
        assert_eq!(
            spent.description(),
            "Too many requests from this address. Try again in 60 seconds."
        );
        let all_spent = OAuthError::over_budget(SpentBudget::Overall(1));
        assert_eq!(all_spent.header(), Some(("Retry-After", "1".into())));
        assert_eq!(
            all_spent.description(),
            "Too many requests from all addresses together. Try again in 1 second."
        );
        assert_eq!(
            try_again_in(1),
            "Too many failed attempts. Try again in 1 second."
        );
    }
}
