//! The token endpoint's grants (RFC 6749 §4.3, §4.4, §6) as pure decisions over loaded records and `now`.

use crate::model::{Application, AuthorizationCode, ClientType, GrantType, RefreshToken, User};
use crate::oauth::error::OAuthError;
use crate::oauth::pkce;
use crate::oauth::scope::{self, Scopes};
use crate::settings::Settings;

/// The grant a token request asks for, with its grant-specific parameters.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum TokenRequest {
    /// RFC 6749 §4.3.2.
    Password {
        /// The resource owner's username.
        username: String,
        /// The resource owner's password.
        password: String,
    },
    /// RFC 6749 §4.4.2.
    ClientCredentials,
    /// RFC 6749 §6.
    RefreshToken {
        /// The refresh token presented.
        refresh_token: String,
    },
    /// RFC 6749 §4.1.3.
    AuthorizationCode {
        /// The code presented.
        code: String,
        /// The redirect URI, when the authorization request named one.
        redirect_uri: Option<String>,
        /// The PKCE verifier (RFC 7636 §4.5).
        code_verifier: Option<String>,
    },
    /// RFC 8628 §3.4.
    DeviceCode {
        /// The device code presented.
        device_code: String,
    },
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenRequest::Password { username, .. } => {
                write!(f, "Password {{ username: {username:?} }}")
            }
            TokenRequest::ClientCredentials => f.write_str("ClientCredentials"),
            TokenRequest::RefreshToken { .. } => f.write_str("RefreshToken"),
            TokenRequest::AuthorizationCode { .. } => f.write_str("AuthorizationCode"),
            TokenRequest::DeviceCode { .. } => f.write_str("DeviceCode"),
        }
    }
}

/// Reads grant_type and its parameters; `param` returns a single-valued parameter.
pub(crate) fn parse_request<'a>(
    param: impl Fn(&str) -> Option<&'a str>,
) -> Result<TokenRequest, OAuthError> {
    let required = |name: &str| {
        param(name)
            .map(str::to_owned)
            .ok_or_else(|| OAuthError::missing(name))
    };
    let grant_type = param("grant_type").ok_or_else(|| OAuthError::missing("grant_type"))?;
    if grant_type == REFRESH_TOKEN {
        return Ok(TokenRequest::RefreshToken {
            refresh_token: required("refresh_token")?,
        });
    }
    match GrantType::from_wire_name(grant_type) {
        Some(GrantType::Password) => Ok(TokenRequest::Password {
            username: required("username")?,
            password: required("password")?,
        }),
        Some(GrantType::ClientCredentials) => Ok(TokenRequest::ClientCredentials),
        Some(GrantType::AuthorizationCode) => Ok(TokenRequest::AuthorizationCode {
            code: required("code")?,
            redirect_uri: param("redirect_uri").map(str::to_owned),
            code_verifier: param("code_verifier").map(str::to_owned),
        }),
        Some(GrantType::DeviceCode) => Ok(TokenRequest::DeviceCode {
            device_code: required("device_code")?,
        }),
        // The implicit grant has no token request (RFC 6749 §4.2).
        Some(GrantType::Implicit) | None => Err(OAuthError::UnsupportedGrantType),
    }
}

/// The refresh grant's wire name (RFC 6749 §6): a grant every client with a refresh token may
/// use, not one an application is registered for.
pub(crate) const REFRESH_TOKEN: &str = "refresh_token";

/// The metadata's `grant_types_supported` (RFC 8414 §2): the registrable grants and refresh.
pub fn grant_types_supported() -> Vec<&'static str> {
    let registrable = GrantType::ALL.into_iter().map(GrantType::wire_name);
    registrable.chain([REFRESH_TOKEN]).collect()
}

/// What a successful grant issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The resource owner, or `None` for client_credentials.
    pub user_id: Option<i64>,
    /// The access token's scope.
    pub(crate) scope: Scopes,
    /// Whether a refresh token comes with it.
    pub with_refresh_token: bool,
}

/// The client must be registered for `grant` (else unauthorized_client, whatever else the
/// request holds).
pub(crate) fn require_grant(app: &Application, grant: GrantType) -> Result<(), OAuthError> {
    if app.allows(grant) {
        Ok(())
    } else {
        Err(OAuthError::UnauthorizedClient(format!(
            "This client may not use the {grant} grant."
        )))
    }
}

/// The scope of a new grant without an authorization request (password, client_credentials,
/// device code): the one requested, or the defaults, within what the app may have.
pub(crate) fn requested_scope_for(
    app: &Application,
    requested_scope: Option<&str>,
    settings: &Settings,
) -> Result<Scopes, OAuthError> {
    let allowed = scope::allowed_for_app(settings, app.fields.allowed_scopes.as_ref());
    scope::resolve_requested(requested_scope, &allowed, &settings.default_scopes)
}

/// The user the password grant's credentials prove: known, active and with the right
/// password; `None` otherwise, whichever part was wrong.
pub(crate) fn resource_owner(user: Option<&User>, password_ok: bool) -> Option<&User> {
    user.filter(|u| password_ok && u.is_active)
}

/// RFC 6749 §4.3: the user was looked up by name (`None`: unknown) and the password checked
/// (against a decoy hash for an unknown user). Every failure reads the same.
pub(crate) fn password_grant(
    app: &Application,
    user: Option<&User>,
    password_ok: bool,
    requested_scope: Option<&str>,
    settings: &Settings,
) -> Result<Issue, OAuthError> {
    require_grant(app, GrantType::Password)?;
    let user = resource_owner(user, password_ok)
        .ok_or_else(|| OAuthError::InvalidGrant("Invalid credentials given.".into()))?;
    let scope = requested_scope_for(app, requested_scope, settings)?;
    Ok(Issue {
        user_id: Some(user.id),
        scope,
        with_refresh_token: true,
    })
}

/// RFC 6749 §4.4: confidential clients only; no user, no refresh token (§4.4.3).
pub(crate) fn client_credentials_grant(
    app: &Application,
    requested_scope: Option<&str>,
    settings: &Settings,
) -> Result<Issue, OAuthError> {
    require_grant(app, GrantType::ClientCredentials)?;
    if app.fields.client_type != ClientType::Confidential {
        return Err(OAuthError::UnauthorizedClient(
            "Only confidential clients may use client_credentials.".into(),
        ));
    }
    let scope = requested_scope_for(app, requested_scope, settings)?;
    Ok(Issue {
        user_id: None,
        scope,
        with_refresh_token: false,
    })
}

/// The outcome of a code exchange, decided inside the transaction that will carry it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CodeDecision {
    /// Issue tokens (with a refresh token) for what the code records: its user and scope.
    Issue,
    /// RFC 6749 §4.1.2: a used code came back; revoke what it was exchanged for, then fail.
    RevokeFamily(OAuthError),
    /// Fail and change nothing.
    Reject(OAuthError),
}

/// RFC 6749 §4.1.3 and RFC 7636 §4.6: judges a presented, known code. Every failure is
/// invalid_grant.
pub(crate) fn code_grant(
    app: &Application,
    code: &AuthorizationCode,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    now: i64,
) -> CodeDecision {
    if let Err(e) = require_grant(app, GrantType::AuthorizationCode) {
        return CodeDecision::Reject(e);
    }
    let invalid = |why: &str| CodeDecision::Reject(OAuthError::InvalidGrant(why.into()));
    if code.application_id != app.id {
        return invalid("The code is invalid.");
    }
    if code.used.is_some() {
        return CodeDecision::RevokeFamily(OAuthError::InvalidGrant(
            "The code was already used.".into(),
        ));
    }
    if now >= code.expires || !code.user_active {
        return invalid("The code is invalid or expired.");
    }
    let redirect_ok = match redirect_uri {
        Some(uri) => uri == code.redirect_uri,
        None => !code.redirect_uri_given,
    };
    if !redirect_ok {
        return invalid("The redirect_uri does not match the one the code was issued for.");
    }
    if !pkce::verify(code.challenge.as_ref(), verifier) {
        return invalid("The code_verifier does not match the code_challenge.");
    }
    CodeDecision::Issue
}

/// The answer for an unknown code.
pub(crate) fn invalid_code() -> OAuthError {
    OAuthError::InvalidGrant("The code is invalid.".into())
}

/// The outcome of a refresh request, decided inside the transaction that will carry it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RefreshDecision {
    /// Issue a new access token (and, with rotation, a new refresh token) in the same grant.
    Refresh {
        /// The new access token's scope.
        scope: Scopes,
        /// Retire the presented refresh token and issue a successor.
        rotate: bool,
        /// A retry within the grace period: the live successor the presented (retired) token
        /// was rotated to, which the new successor replaces.
        supersedes: Option<i64>,
    },
    /// RFC 9700 §4.14.2: a retired refresh token came back; revoke the whole family, then fail.
    RevokeFamily(OAuthError),
    /// Fail and change nothing.
    Reject(OAuthError),
}

/// The answer for an unknown, foreign, expired or disabled refresh token: all look alike.
pub(crate) fn invalid_refresh_token() -> OAuthError {
    OAuthError::InvalidGrant("The refresh token is invalid.".into())
}

/// RFC 6749 §6 and RFC 9700 §4.14.2: judges a presented, known refresh token.
pub(crate) fn refresh_grant(
    app: &Application,
    token: &RefreshToken,
    requested_scope: Option<&str>,
    now: i64,
    settings: &Settings,
) -> RefreshDecision {
    if token.grant.application_id != app.id {
        return RefreshDecision::Reject(invalid_refresh_token());
    }
    let supersedes = match token.revoked {
        None => None,
        Some(retired) => match retry_of(token, retired, now, settings) {
            Some(successor) => Some(successor),
            None => {
                return RefreshDecision::RevokeFamily(OAuthError::InvalidGrant(
                    "The refresh token was already used or revoked.".into(),
                ));
            }
        },
    };
    if !token.is_unexpired_and_held(now, settings.refresh_token_expire_seconds) {
        return RefreshDecision::Reject(invalid_refresh_token());
    }
    // Settings or the app's scopes may have shrunk since the grant: never issue beyond them.
    let allowed = scope::allowed_for_app(settings, app.fields.allowed_scopes.as_ref());
    let still_granted = token.grant.scope.intersection(&allowed);
    if still_granted.is_empty() {
        return RefreshDecision::Reject(OAuthError::InvalidScope(
            "None of the granted scopes is still allowed for this application.".into(),
        ));
    }
    match scope::resolve_refresh(requested_scope, &still_granted) {
        Ok(scope) => RefreshDecision::Refresh {
            scope,
            rotate: settings.rotate_refresh_token,
            supersedes,
        },
        Err(e) => RefreshDecision::Reject(e),
    }
}

/// DOT's `refresh_token_grace_period_seconds`: a token `retired` at that time counts as a
/// retry after a lost response, not as a replay, when rotation retired it (it names a
/// successor), that successor is still the family's live token (never refreshed, never
/// revoked) and the grace period since the retirement has not run out. Returns the successor.
/// The period runs from the first retirement, so retries cannot stretch it.
fn retry_of(token: &RefreshToken, retired: i64, now: i64, settings: &Settings) -> Option<i64> {
    let in_grace = now - retired < settings.refresh_token_grace_period_seconds;
    token
        .live_successor
        .filter(|_| settings.rotate_refresh_token && in_grace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Grant;
    use crate::oauth::fixtures::{valid_app, with_fields};
    use crate::oauth::resource::Resources;

    fn settings() -> Settings {
        Settings::from_toml("scopes = { read = \"R\", write = \"W\", groups = \"G\" }\nrefresh_token_expire_seconds = 100")
            .unwrap()
    }

    fn valid_user() -> User {
        User {
            id: 3,
            username: "bob\"e'i;--ü".into(),
            email: String::new(),
            email_verified: false,
            name: String::new(),
            subject: "0123456789abcdef0123456789abcdef".into(),
            password_hash: String::new(),
            is_admin: false,
            is_active: true,
        }
    }

    fn valid_refresh() -> RefreshToken {
        RefreshToken {
            id: 1,
            grant: Grant {
                id: 9,
                application_id: 7,
                user_id: Some(3),
                scope: Scopes::parse("read write").unwrap(),
                resources: Resources::default(),
                auth_time: None,
            },
            access_token_id: Some(4),
            created: 1000,
            revoked: None,
            client_id: "c".into(),
            username: Some("bob".into()),
            holders_active: true,
            live_successor: None,
        }
    }

    fn params<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    #[test]
    fn parse_grant_types() {
        let parse = |pairs: &[(&str, &str)]| parse_request(params(pairs)).map_err(|e| e.code());
        assert_eq!(parse(&[]), Err("invalid_request"));
        for unsupported in ["magic", "implicit", "authorization-code"] {
            assert_eq!(
                parse(&[("grant_type", unsupported)]),
                Err("unsupported_grant_type")
            );
        }
        assert_eq!(
            parse(&[("grant_type", "password"), ("username", "u")]),
            Err("invalid_request")
        );
        assert_eq!(
            parse(&[("grant_type", "refresh_token")]),
            Err("invalid_request")
        );
        assert_eq!(
            parse(&[("grant_type", "client_credentials")]),
            Ok(TokenRequest::ClientCredentials)
        );
        assert!(
            !format!(
                "{:?}",
                parse(&[
                    ("grant_type", "password"),
                    ("username", "u"),
                    ("password", "hunter2")
                ])
            )
            .contains("hunter2")
        );
    }

    #[test]
    fn every_supported_grant_type_parses() {
        for grant_type in grant_types_supported() {
            let pairs = [
                ("grant_type", grant_type),
                ("code", "c"),
                ("username", "u"),
                ("password", "p"),
                ("refresh_token", "r"),
                ("device_code", "d"),
            ];
            let parsed = parse_request(params(&pairs));
            assert_eq!(
                parsed.is_ok(),
                grant_type != "implicit",
                "{grant_type}: {parsed:?}"
            );
        }
    }

    #[test]
    fn only_a_known_active_user_with_the_right_password_is_proven() {
        let (user, inactive) = (
            valid_user(),
            User {
                is_active: false,
                ..valid_user()
            },
        );
        for (loaded, password_ok, proven) in [
            (Some(&user), true, true),
            (Some(&user), false, false),
            (Some(&inactive), true, false),
            (None, true, false),
            (None, false, false),
        ] {
            let owner = resource_owner(loaded, password_ok);
            assert_eq!(owner.is_some(), proven, "{loaded:?} {password_ok}");
        }
    }

    #[test]
    fn password_grant_rules() {
        let s = settings();
        let user = valid_user();
        let ok = password_grant(&valid_app(), Some(&user), true, None, &s).unwrap();
        assert_eq!(
            (ok.user_id, ok.scope.to_string(), ok.with_refresh_token),
            (Some(3), "groups read write".into(), true)
        );
        let code = |app: &Application, user: Option<&User>, pw: bool, scope: Option<&str>| {
            password_grant(app, user, pw, scope, &s)
                .map(|_| ())
                .map_err(|e| e.code())
        };
        let inactive = User {
            is_active: false,
            ..valid_user()
        };
        let cc_only = with_fields(valid_app(), |f| {
            f.grant_types = vec![GrantType::ClientCredentials]
        });
        let read_only = with_fields(valid_app(), |f| f.allowed_scopes = Scopes::parse("read"));
        assert_eq!(
            code(&valid_app(), Some(&user), false, None),
            Err("invalid_grant")
        );
        assert_eq!(code(&valid_app(), None, true, None), Err("invalid_grant"));
        assert_eq!(
            code(&valid_app(), Some(&inactive), true, None),
            Err("invalid_grant")
        );
        assert_eq!(
            code(&cc_only, Some(&user), true, None),
            Err("unauthorized_client")
        );
        assert_eq!(
            code(&read_only, Some(&user), true, Some("write")),
            Err("invalid_scope")
        );
        assert_eq!(code(&read_only, Some(&user), true, Some("read")), Ok(()));
    }

    #[test]
    fn client_credentials_rules() {
        let s = settings();
        let issue = client_credentials_grant(&valid_app(), Some("read"), &s).unwrap();
        assert_eq!((issue.user_id, issue.with_refresh_token), (None, false));
        let public = with_fields(valid_app(), |f| f.client_type = ClientType::Public);
        assert_eq!(
            client_credentials_grant(&public, None, &s)
                .unwrap_err()
                .code(),
            "unauthorized_client"
        );
        let pw_only = with_fields(valid_app(), |f| f.grant_types = vec![GrantType::Password]);
        assert_eq!(
            client_credentials_grant(&pw_only, None, &s)
                .unwrap_err()
                .code(),
            "unauthorized_client"
        );
    }

    #[test]
    fn a_refresh_never_exceeds_what_the_app_may_have_now() {
        let s = settings();
        let narrowed = with_fields(valid_app(), |f| f.allowed_scopes = Scopes::parse("read"));
        let decision = refresh_grant(&narrowed, &valid_refresh(), None, 1050, &s);
        assert_eq!(
            decision,
            RefreshDecision::Refresh {
                scope: Scopes::parse("read").unwrap(),
                rotate: true,
                supersedes: None
            }
        );
        let none_left = with_fields(valid_app(), |f| f.allowed_scopes = Scopes::parse("groups"));
        let decision = refresh_grant(&none_left, &valid_refresh(), None, 1050, &s);
        assert!(matches!(decision, RefreshDecision::Reject(e) if e.code() == "invalid_scope"));
    }

    fn valid_code() -> AuthorizationCode {
        AuthorizationCode {
            id: 5,
            application_id: 7,
            user_id: 3,
            user_active: true,
            redirect_uri: "https://app.example/cb".into(),
            redirect_uri_given: true,
            scope: Scopes::parse("read").unwrap(),
            resources: Resources::default(),
            challenge: pkce::parse_challenge(
                Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
                Some("S256"),
            )
            .unwrap(),
            expires: 1060,
            used: None,
            grant_id: None,
            nonce: None,
            auth_time: Some(990),
        }
    }

    #[test]
    fn code_rules() {
        let app = valid_app();
        let verifier = Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let wrong = "x".repeat(43);
        let uri = Some("https://app.example/cb");
        let decide = |code: &AuthorizationCode, uri, verifier, now| {
            code_grant(&app, code, uri, verifier, now)
        };
        assert_eq!(
            decide(&valid_code(), uri, verifier, 1000),
            CodeDecision::Issue
        );
        let rejected =
            |d: CodeDecision| matches!(d, CodeDecision::Reject(e) if e.code() == "invalid_grant");
        assert!(
            rejected(decide(&valid_code(), uri, verifier, 1060)),
            "expired"
        );
        assert!(
            rejected(decide(&valid_code(), None, verifier, 1000)),
            "redirect_uri was given"
        );
        assert!(rejected(decide(
            &valid_code(),
            Some("https://app.example/cb2"),
            verifier,
            1000
        )));
        assert!(
            rejected(decide(&valid_code(), uri, None, 1000)),
            "no verifier"
        );
        assert!(
            rejected(decide(&valid_code(), uri, Some(wrong.as_str()), 1000)),
            "wrong verifier"
        );
        let without_pkce = AuthorizationCode {
            challenge: None,
            ..valid_code()
        };
        assert!(
            rejected(decide(&without_pkce, uri, verifier, 1000)),
            "downgrade"
        );
        let implied = AuthorizationCode {
            redirect_uri_given: false,
            challenge: None,
            ..valid_code()
        };
        assert_eq!(decide(&implied, None, None, 1000), CodeDecision::Issue);
        let foreign = AuthorizationCode {
            application_id: 8,
            ..valid_code()
        };
        assert!(rejected(decide(&foreign, uri, verifier, 1000)));
        let used = AuthorizationCode {
            used: Some(1001),
            grant_id: Some(4),
            ..valid_code()
        };
        assert!(matches!(
            decide(&used, uri, verifier, 1002),
            CodeDecision::RevokeFamily(_)
        ));
        let disabled = AuthorizationCode {
            user_active: false,
            ..valid_code()
        };
        assert!(rejected(decide(&disabled, uri, verifier, 1000)));
    }

    #[test]
    fn refresh_rules() {
        let s = settings();
        let app = valid_app();
        let decide = |t: Option<&RefreshToken>, scope: Option<&str>, now: i64| {
            refresh_grant(&app, t.unwrap(), scope, now, &s)
        };
        let live = valid_refresh();
        assert_eq!(
            decide(Some(&live), None, 1050),
            RefreshDecision::Refresh {
                scope: Scopes::parse("read write").unwrap(),
                rotate: true,
                supersedes: None
            }
        );
        assert!(
            matches!(decide(Some(&live), Some("read"), 1050), RefreshDecision::Refresh { scope, .. } if scope.to_string() == "read")
        );
        assert!(
            matches!(decide(Some(&live), Some("groups"), 1050), RefreshDecision::Reject(e) if e.code() == "invalid_scope")
        );
        assert!(
            matches!(decide(Some(&live), None, 1100), RefreshDecision::Reject(e) if e.code() == "invalid_grant")
        );
        let rotated = RefreshToken {
            revoked: Some(1010),
            ..valid_refresh()
        };
        assert!(
            matches!(decide(Some(&rotated), None, 1050), RefreshDecision::RevokeFamily(e) if e.code() == "invalid_grant")
        );
        let foreign = RefreshToken {
            grant: Grant {
                application_id: 8,
                ..valid_refresh().grant
            },
            ..valid_refresh()
        };
        assert!(matches!(
            decide(Some(&foreign), None, 1050),
            RefreshDecision::Reject(_)
        ));
        let disabled = RefreshToken {
            holders_active: false,
            ..valid_refresh()
        };
        assert!(matches!(
            decide(Some(&disabled), None, 1050),
            RefreshDecision::Reject(_)
        ));
    }

    #[test]
    fn a_retry_within_the_grace_period_supersedes_the_live_successor() {
        let grace = |seconds: i64| {
            let mut s = settings();
            s.refresh_token_grace_period_seconds = seconds;
            s
        };
        let retired_at_1010 = |live_successor| RefreshToken {
            revoked: Some(1010),
            live_successor,
            ..valid_refresh()
        };
        let decide = |token: &RefreshToken, now: i64, s: &Settings| {
            refresh_grant(&valid_app(), token, None, now, s)
        };
        let retry = |d: RefreshDecision| match d {
            RefreshDecision::Refresh { supersedes, .. } => supersedes,
            _ => None,
        };
        let replay = |d: RefreshDecision| matches!(d, RefreshDecision::RevokeFamily(_));
        let rotated = retired_at_1010(Some(2));
        assert_eq!(retry(decide(&rotated, 1014, &grace(5))), Some(2));
        assert!(replay(decide(&rotated, 1015, &grace(5))), "grace over");
        assert!(
            replay(decide(&rotated, 1010, &grace(0))),
            "no grace by default"
        );
        assert!(
            replay(decide(&retired_at_1010(None), 1011, &grace(5))),
            "the successor was refreshed or revoked, or the token was revoked"
        );
        let mut no_rotation = grace(5);
        no_rotation.rotate_refresh_token = false;
        assert!(replay(decide(&rotated, 1011, &no_rotation)));
        let rejected = |d: RefreshDecision| matches!(d, RefreshDecision::Reject(_));
        assert!(rejected(decide(&rotated, 1100, &grace(3600))), "expired");
        let disabled = RefreshToken {
            holders_active: false,
            ..rotated
        };
        assert!(rejected(decide(&disabled, 1011, &grace(5))));
    }
}
