//! The OAuth 2.0 error codes (RFC 6749 §5.2, RFC 7009 §2.2.1): wire string and HTTP status in one place.

use std::fmt;

/// One variant per RFC error code, each with a human-readable description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthError {
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
    /// RFC 7009 §2.2.1: the token_type_hint names a type the server cannot revoke.
    UnsupportedTokenType,
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
            OAuthError::UnsupportedTokenType => "unsupported_token_type",
        }
    }

    /// The `error_description` value: never contains a credential.
    pub fn description(&self) -> &str {
        match self {
            OAuthError::InvalidRequest(d)
            | OAuthError::InvalidGrant(d)
            | OAuthError::UnauthorizedClient(d)
            | OAuthError::InvalidScope(d) => d,
            OAuthError::InvalidClient { .. } => "Client authentication failed.",
            OAuthError::UnsupportedGrantType => "The grant_type is not supported.",
            OAuthError::UnsupportedTokenType => "The token_type_hint is not supported.",
        }
    }

    /// RFC 6749 §5.2: a client that tried HTTP Basic and failed gets 401 with a
    /// WWW-Authenticate challenge (see [`OAuthError::challenge`]); everything else is 400.
    pub fn status(&self) -> u16 {
        match self {
            OAuthError::InvalidClient { basic: true } => 401,
            _ => 400,
        }
    }

    /// The WWW-Authenticate value a 401 carries.
    pub fn challenge(&self) -> Option<&'static str> {
        match self {
            OAuthError::InvalidClient { basic: true } => Some("Basic realm=\"oauthd\""),
            _ => None,
        }
    }

    /// Shorthand for a missing required parameter.
    pub fn missing(name: &str) -> OAuthError {
        OAuthError::InvalidRequest(format!("Missing required parameter: {name}."))
    }
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
            (
                OAuthError::UnsupportedTokenType,
                "unsupported_token_type",
                400,
            ),
        ];
        for (error, code, status) in table {
            assert_eq!((error.code(), error.status()), (code, status));
            assert_eq!(error.challenge().is_some(), status == 401);
        }
    }
}
