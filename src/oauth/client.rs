//! Client authentication (RFC 6749 §2.3): who is calling the token, revocation and introspection endpoints.

use crate::model::{Application, ClientType};
use crate::oauth::error::OAuthError;
use crate::secret;
use std::fmt;

/// How a client may authenticate (RFC 6749 §2.3.1, OIDC Core §9): the metadata's
/// `token_endpoint_auth_methods_supported` and its revocation and introspection twins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthMethod {
    /// The client_id and secret in an HTTP Basic header.
    ClientSecretBasic,
    /// The client_id and secret in the form body.
    ClientSecretPost,
    /// A public client: its client_id alone.
    None,
}

impl AuthMethod {
    /// Every method [`authenticate`] accepts.
    pub const ALL: [AuthMethod; 3] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::None,
    ];

    /// Parses the registered name.
    pub(crate) fn parse(text: &str) -> Option<AuthMethod> {
        AuthMethod::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// The registered name (RFC 7591 §2).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
        }
    }
}

/// What the client presented: from HTTP Basic or from the body, never both.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The claimed client_id.
    pub client_id: String,
    /// The presented secret; `None` when only a client_id was sent.
    pub secret: Option<String>,
    /// They came in an HTTP Basic Authorization header.
    pub basic: bool,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("basic", &self.basic)
            .finish()
    }
}

impl ClientCredentials {
    /// The secret to compare, if one was presented: an empty one counts as none. Without one
    /// there is nothing to guess (a public client names itself by client_id alone), so only
    /// credentials with a secret are a check the failed-try limiter counts.
    pub(crate) fn presented_secret(&self) -> Option<&str> {
        self.secret.as_deref().filter(|s| !s.is_empty())
    }
}

/// Judges presented credentials against the application loaded by their client_id
/// (`None` when there is none). Unknown client, disabled client and wrong secret give
/// the same answer; the secret's digest is compared in constant time.
pub(crate) fn authenticate(
    app: Option<Application>,
    presented: &ClientCredentials,
) -> Result<Application, OAuthError> {
    let presented_digest = presented.presented_secret().map(secret::digest);
    let failed = OAuthError::InvalidClient {
        basic: presented.basic,
    };
    let app = app.filter(|a| a.usable).ok_or_else(|| failed.clone())?;
    let ok = match (app.fields.client_type, &app.secret_digest, presented_digest) {
        (ClientType::Confidential, Some(stored), Some(given)) => {
            secret::constant_time_eq(stored, &given)
        }
        (ClientType::Public, _, None) => true,
        _ => false,
    };
    if ok { Ok(app) } else { Err(failed) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::fixtures::{valid_app, with_fields};

    fn creds(secret: Option<&str>) -> ClientCredentials {
        ClientCredentials {
            client_id: "client".into(),
            secret: secret.map(Into::into),
            basic: false,
        }
    }

    #[test]
    fn confidential_clients_need_their_secret() {
        assert!(authenticate(Some(valid_app()), &creds(Some("s3cret"))).is_ok());
        for wrong in [None, Some(""), Some("s3cre"), Some("s3cret ")] {
            assert_eq!(
                authenticate(Some(valid_app()), &creds(wrong)),
                Err(OAuthError::InvalidClient { basic: false })
            );
        }
    }

    #[test]
    fn unknown_and_disabled_clients_fail_alike() {
        assert_eq!(
            authenticate(None, &creds(Some("s3cret"))),
            Err(OAuthError::InvalidClient { basic: false })
        );
        let disabled = Application {
            usable: false,
            ..valid_app()
        };
        assert_eq!(
            authenticate(Some(disabled), &creds(Some("s3cret"))),
            Err(OAuthError::InvalidClient { basic: false })
        );
    }

    #[test]
    fn public_clients_send_no_secret() {
        let public = Application {
            secret_digest: None,
            ..with_fields(valid_app(), |f| f.client_type = ClientType::Public)
        };
        assert!(authenticate(Some(public.clone()), &creds(None)).is_ok());
        assert_eq!(
            authenticate(Some(public), &creds(Some("guess"))),
            Err(OAuthError::InvalidClient { basic: false })
        );
    }

    #[test]
    fn a_failed_basic_authentication_is_a_401() {
        let basic = ClientCredentials {
            basic: true,
            ..creds(Some("wrong"))
        };
        let error = authenticate(Some(valid_app()), &basic).unwrap_err();
        let header = error.header().map(|(name, _)| name);
        assert_eq!((error.status(), header), (401, Some("WWW-Authenticate")));
        let error = authenticate(Some(valid_app()), &creds(Some("wrong"))).unwrap_err();
        assert_eq!((error.status(), error.header()), (400, None));
    }

    #[test]
    fn only_a_non_empty_secret_is_presented() {
        for (secret, presented) in [
            (None, None),
            (Some(""), None),
            (Some(" "), Some(" ")),
            (Some("s3cret"), Some("s3cret")),
        ] {
            assert_eq!(creds(secret).presented_secret(), presented, "{secret:?}");
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        assert!(!format!("{:?}", creds(Some("s3cret"))).contains("s3cret"));
    }
}
