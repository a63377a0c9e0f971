//! `POST /o/token/`: the authorization_code, password, client_credentials, refresh_token and
//! device_code grants (RFC 6749 §4.1.3, §4.3, §4.4, §6; RFC 8628 §3.4), with an id_token for
//! `openid` grants (OIDC Core §3.1.3.3, §12.2).

use crate::http::App;
use crate::http::events::SecurityEvent;
use crate::http::handlers::id_tokens::{self, IdTokenFor};
use crate::http::handlers::{authenticate_client, client_still_usable, oauth_params, secret_try};
use crate::http::limiter::Subject;
use crate::http::metrics::{Issuance, Replay};
use crate::http::request::Req;
use crate::http::response::{HttpError, Resp};
use crate::model::{Application, DeviceCode, GrantType};
use crate::oauth::device::{self, PollDecision};
use crate::oauth::error::OAuthError;
use crate::oauth::resource::{self, RESOURCE, Resources};
use crate::oauth::scope::Scopes;
use crate::oauth::token::{self, CodeDecision, Issue, RefreshDecision, TokenRequest};
use crate::secret::{self, DECOY_PASSWORD_HASH, Secret};
use crate::store::{GrantRef, NewTokens, Store, StoreError};
use serde::Serialize;
use serde_json::{Map, Value};

/// RFC 6749 §5.1 successful response.
#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

/// Freshly generated credentials for one response.
struct FreshTokens {
    access: Secret,
    refresh: Option<Secret>,
}

impl FreshTokens {
    fn generate(with_refresh: bool) -> Result<FreshTokens, HttpError> {
        let access = secret::random_token()?;
        let refresh = if with_refresh {
            Some(secret::random_token()?)
        } else {
            None
        };
        Ok(FreshTokens { access, refresh })
    }

    fn stored<'a>(
        &self,
        grant: GrantRef<'a>,
        (scope, resources): (&'a Scopes, &'a Resources),
        now: i64,
        lifetime: i64,
    ) -> NewTokens<'a> {
        NewTokens {
            grant,
            access_digest: self.access.digest(),
            refresh_digest: self.refresh.as_ref().map(Secret::digest),
            scope,
            resources,
            now,
            expires: now + lifetime,
        }
    }

    /// Stores these tokens as a new grant of `what`'s user to `client` from a code or a
    /// device code that was authorized for the `authorized` resources, the token request naming
    /// `requested` (RFC 8707 §2.2, docs/security.md rule 64: the grant keeps what was
    /// authorized, or when that was none what this request names; the token may be for
    /// fewer), with the id_token claims if the scope holds `openid`; then `mark_used` marks
    /// the code or device code used, naming the new grant. `invalid_target` stores nothing.
    fn issue_for_user(
        &self,
        (app, store, client): (&App, &Store, &Application),
        what: &IdTokenFor<'_>,
        (requested, authorized): (&[&str], &Resources),
        now: i64,
        mark_used: impl FnOnce(i64) -> Result<(), StoreError>,
    ) -> Result<Redeemed, HttpError> {
        let allowed = &client.fields.allowed_resources;
        let target = match resource::target(requested, authorized, allowed) {
            Ok(target) => target,
            Err(error) => return Ok(Err(Refusal::Plain(error))),
        };
        let grant = GrantRef::New {
            application_id: client.id,
            user_id: Some(what.user_id),
            scope: what.scope,
            resources: &target.granted,
            auth_time: what.auth_time,
        };
        let lifetime = app.settings.access_token_expire_seconds;
        let tokens = self.stored(grant, (what.scope, &target.audience), now, lifetime);
        let issued = store.issue_tokens(&tokens)?;
        mark_used(issued.grant_id)?;
        let claims = id_tokens::claims(app, store, what, now)?;
        Ok(Ok((what.scope.clone(), claims)))
    }

    fn response(&self, scope: &Scopes, lifetime: i64, id_token: Option<String>) -> Resp {
        Resp::json_no_store(
            200,
            &TokenResponse {
                access_token: self.access.expose(),
                token_type: "Bearer",
                expires_in: lifetime,
                refresh_token: self.refresh.as_ref().map(Secret::expose),
                scope: scope.to_string(),
                id_token,
            },
        )
    }
}

/// The token endpoint.
pub(crate) fn token(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let params = oauth_params(app, req)?;
    let request = token::parse_request(|name| params.get(name))?;
    let client = authenticate_client(app, req, &params)?;
    let scope = params.get("scope");
    // Each grant judges the client and the credential before the resources (docs/security.md
    // rule 61), so that a replay is a replay whatever else the request holds.
    let resources = params.all(RESOURCE);
    // A grant without a code is for the resources its token request names (RFC 8707 §2.2).
    let new_grant = || resource::for_new_grant(&resources, &client.fields.allowed_resources);
    match request {
        TokenRequest::Password { username, password } => {
            let credentials = (username.as_str(), password.as_str());
            password_grant(app, req, &client, credentials, scope, new_grant)
        }
        TokenRequest::ClientCredentials => {
            let issue = token::client_credentials_grant(&client, scope, &app.settings)?;
            let by = Issuance::ClientCredentials;
            issue_new_grant(app, req, &client, (&issue, &new_grant()?), by)
        }
        TokenRequest::RefreshToken { refresh_token } => {
            refresh(app, req, &client, &refresh_token, (scope, &resources))
        }
        TokenRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => exchange_code(
            app,
            req,
            &client,
            &code,
            (redirect_uri.as_deref(), code_verifier.as_deref()),
            &resources,
        ),
        TokenRequest::DeviceCode { device_code } => {
            poll_device(app, req, &client, &device_code, &resources)
        }
    }
}

/// RFC 6749 §4.3.2: the user's password is checked under the failed-try limiter, per
/// username (RFC 6819 §5.1.4.2.3), once the client may use this grant at all; a right
/// password takes its try back even when the scope then fails. The `resources` are judged
/// last.
fn password_grant(
    app: &App,
    req: &Req,
    client: &Application,
    (username, password): (&str, &str),
    scope: Option<&str>,
    resources: impl FnOnce() -> Result<Resources, OAuthError>,
) -> Result<Resp, HttpError> {
    token::require_grant(client, GrantType::Password)?;
    let attempt = secret_try(app, req, Subject::Username(username))?;
    let user = app.store.find_user_by_username(username)?;
    let hash = user
        .as_ref()
        .map_or(DECOY_PASSWORD_HASH, |u| u.password_hash.as_str());
    let password_ok = secret::verify_password(password, hash);
    if token::resource_owner(user.as_ref(), password_ok).is_some() {
        attempt.passed();
    }
    let issue = token::password_grant(client, user.as_ref(), password_ok, scope, &app.settings)?;
    issue_new_grant(
        app,
        req,
        client,
        (&issue, &resources()?),
        Issuance::Password,
    )
}

/// A new grant without a code: client_credentials (no user), or the password grant, whose
/// user has just proved who they are — so an `openid` scope gets an id_token with that moment
/// as its `auth_time`, as a code would have.
fn issue_new_grant(
    app: &App,
    req: &Req,
    client: &Application,
    (issue, resources): (&Issue, &Resources),
    by: Issuance,
) -> Result<Resp, HttpError> {
    let lifetime = app.settings.access_token_expire_seconds;
    let fresh = FreshTokens::generate(issue.with_refresh_token)?;
    let now = app.clock.now();
    let auth_time = issue.user_id.map(|_| now);
    let grant = GrantRef::New {
        application_id: client.id,
        user_id: issue.user_id,
        scope: &issue.scope,
        resources,
        auth_time,
    };
    let claims = app.store.immediate(|store| -> Result<_, HttpError> {
        client_still_usable(store, req, client)?;
        let what = (&issue.scope, resources);
        store.issue_tokens(&fresh.stored(grant, what, now, lifetime))?;
        let Some(user_id) = issue.user_id else {
            return Ok(None);
        };
        let what = IdTokenFor {
            user_id,
            client_id: &client.client_id,
            scope: &issue.scope,
            auth_time,
            nonce: None,
            access_token: Some(fresh.access.expose()),
        };
        id_tokens::claims(app, store, &what, now)
    })?;
    let id_token = id_tokens::sign(app, claims)?;
    app.telemetry.issued(by);
    Ok(fresh.response(&issue.scope, lifetime, id_token))
}

/// Check and rotation run in one IMMEDIATE transaction, so of concurrent requests presenting
/// one refresh token exactly one sees it live; the others see it retired and revoke the family
/// — or, within `refresh_token_grace_period_seconds`, each rotates again from it in turn, and
/// only the last successor stays live. The resources may narrow the grant's, never add to them
/// (RFC 8707 §2.2); none named: the grant's.
fn refresh(
    app: &App,
    req: &Req,
    client: &Application,
    presented: &str,
    (scope, resources): (Option<&str>, &[&str]),
) -> Result<Resp, HttpError> {
    let settings = &app.settings;
    let lifetime = settings.access_token_expire_seconds;
    let fresh = FreshTokens::generate(settings.rotate_refresh_token)?;
    let now = app.clock.now();
    let outcome = app.store.immediate(|store| -> Result<_, HttpError> {
        let Some(token) = store.find_refresh_token(&secret::digest(presented))? else {
            return Ok(Err(Refusal::Plain(token::invalid_refresh_token())));
        };
        match token::refresh_grant(client, &token, scope, now, settings) {
            RefreshDecision::Refresh {
                scope,
                rotate,
                supersedes,
            } => {
                let allowed = &client.fields.allowed_resources;
                let audience = match resource::target(resources, &token.grant.resources, allowed) {
                    Ok(target) => target.audience,
                    Err(error) => return Ok(Err(Refusal::Plain(error))),
                };
                let what = (&scope, &audience);
                let new = fresh.stored(GrantRef::Existing(token.grant.id), what, now, lifetime);
                store.refresh_tokens(&token, rotate, supersedes, &new)?;
                // Core §12.2: the same iss, sub and aud; the original auth_time; no nonce.
                let claims = match token.grant.user_id {
                    Some(user_id) => id_tokens::claims(
                        app,
                        store,
                        &IdTokenFor {
                            user_id,
                            client_id: &client.client_id,
                            scope: &scope,
                            auth_time: token.grant.auth_time,
                            nonce: None,
                            access_token: Some(fresh.access.expose()),
                        },
                        now,
                    )?,
                    None => None,
                };
                Ok(Ok((scope, claims)))
            }
            RefreshDecision::RevokeFamily(error) => {
                store.revoke_grant(token.grant.id, now)?;
                Ok(Err(Refusal::Replay(error, Some(token.grant.id))))
            }
            RefreshDecision::Reject(error) => Ok(Err(Refusal::Plain(error))),
        }
    })?;
    let (scope, claims) =
        outcome.map_err(|e| replayed(app, req, client, Replay::RefreshToken, e))?;
    let resp = fresh.response(&scope, lifetime, id_tokens::sign(app, claims)?);
    app.telemetry.refreshed();
    Ok(resp)
}

/// RFC 6749 §4.1.3: the check, the single use and the issuance run in one IMMEDIATE
/// transaction, so of concurrent exchanges of one code exactly one succeeds; a later one is a
/// replay and revokes what the code was exchanged for (RFC 6749 §4.1.2).
fn exchange_code(
    app: &App,
    req: &Req,
    client: &Application,
    presented: &str,
    (redirect_uri, verifier): (Option<&str>, Option<&str>),
    resources: &[&str],
) -> Result<Resp, HttpError> {
    let kind = (Replay::Code, Issuance::AuthorizationCode);
    redeem(app, req, client, kind, |store, fresh, now| {
        let Some(code) = store.find_code(&secret::digest(presented))? else {
            return Ok(Err(Refusal::Plain(token::invalid_code())));
        };
        match token::code_grant(client, &code, redirect_uri, verifier, now) {
            CodeDecision::Issue => {
                let what = IdTokenFor {
                    user_id: code.user_id,
                    client_id: &client.client_id,
                    scope: &code.scope,
                    auth_time: code.auth_time,
                    nonce: code.nonce.as_deref(),
                    access_token: Some(fresh.access.expose()),
                };
                let resources = (resources, &code.resources);
                let mark_used = |grant| store.mark_code_used(code.id, now, grant);
                fresh.issue_for_user((app, store, client), &what, resources, now, mark_used)
            }
            CodeDecision::RevokeFamily(error) => revoke_replayed(store, error, code.grant_id, now),
            CodeDecision::Reject(error) => Ok(Err(Refusal::Plain(error))),
        }
    })
}

/// RFC 8628 §3.4–3.5: a device polls with its device code. A poll that must wait or is
/// refused only reads: its pace is kept in memory (docs/security.md rule 56). One that would
/// issue or revoke is judged again inside one IMMEDIATE transaction that carries it out, so of
/// concurrent polls after approval exactly one gets the tokens; the others are refused, and a
/// poll coming the code's interval or more after its use is a replay that revokes them
/// (docs/security.md rule 55).
fn poll_device(
    app: &App,
    req: &Req,
    client: &Application,
    presented: &str,
    requested: &[&str],
) -> Result<Resp, HttpError> {
    let digest = secret::digest(presented);
    let first = app.store.find_device_code(&digest)?;
    let now = app.clock.now();
    match first.map(|code| paced_poll(app, client, &code, now)) {
        None => return Err(device::invalid_device_code().into()),
        Some(PollDecision::Wait { error, .. } | PollDecision::Reject(error)) => {
            return Err(error.into());
        }
        Some(PollDecision::Issue { .. } | PollDecision::RevokeFamily(_)) => {}
    }
    let kind = (Replay::DeviceCode, Issuance::DeviceCode);
    redeem(app, req, client, kind, |store, fresh, now| {
        let Some(code) = store.find_device_code(&digest)? else {
            return Ok(Err(Refusal::Plain(device::invalid_device_code())));
        };
        match paced_poll(app, client, &code, now) {
            PollDecision::Issue { user_id } => {
                let what = IdTokenFor {
                    user_id,
                    client_id: &client.client_id,
                    scope: &code.scope,
                    auth_time: code.auth_time,
                    nonce: None,
                    access_token: Some(fresh.access.expose()),
                };
                let resources = (requested, &code.resources);
                let mark_used = |grant| store.mark_device_code_used(code.id, now, grant);
                fresh.issue_for_user((app, store, client), &what, resources, now, mark_used)
            }
            PollDecision::RevokeFamily(error) => revoke_replayed(store, error, code.grant_id, now),
            PollDecision::Wait { error, .. } | PollDecision::Reject(error) => {
                Ok(Err(Refusal::Plain(error)))
            }
        }
    })
}

/// [`device::poll`] at `now`, with the code's pace kept in memory.
fn paced_poll(app: &App, client: &Application, code: &DeviceCode, now: i64) -> PollDecision {
    app.device_pacing
        .poll(code, now, |pace| device::poll(client, code, pace, now))
}

/// What redeeming a single-use credential decided: the scope and id_token claims of the
/// tokens it issued, or why it issued none.
type Redeemed = Result<(Scopes, Option<Map<String, Value>>), Refusal>;

/// Redeems a single-use credential (a code, a device code) for fresh tokens: the client's
/// check and `decide` (which finds, judges, issues and marks the credential used) run in one
/// IMMEDIATE transaction; then the response, or the refusal (a replay reported as `kind.0`).
fn redeem(
    app: &App,
    req: &Req,
    client: &Application,
    (of, by): (Replay, Issuance),
    decide: impl FnOnce(&Store, &FreshTokens, i64) -> Result<Redeemed, HttpError>,
) -> Result<Resp, HttpError> {
    let lifetime = app.settings.access_token_expire_seconds;
    let fresh = FreshTokens::generate(true)?;
    let now = app.clock.now();
    let outcome = app.store.immediate(|store| -> Result<_, HttpError> {
        client_still_usable(store, req, client)?;
        decide(store, &fresh, now)
    })?;
    let (scope, claims) = outcome.map_err(|e| replayed(app, req, client, of, e))?;
    let resp = fresh.response(&scope, lifetime, id_tokens::sign(app, claims)?);
    app.telemetry.issued(by);
    Ok(resp)
}

/// A used credential came back: revokes the grant it was exchanged for, if any, and refuses.
fn revoke_replayed(
    store: &Store,
    error: OAuthError,
    grant_id: Option<i64>,
    now: i64,
) -> Result<Redeemed, HttpError> {
    if let Some(grant_id) = grant_id {
        store.revoke_grant(grant_id, now)?;
    }
    Ok(Err(Refusal::Replay(error, grant_id)))
}

/// Why a code or a refresh token was refused.
enum Refusal {
    /// Unknown, expired, another client's, a scope too wide…
    Plain(OAuthError),
    /// Presented again: the grant it gave (none for a code that had given nothing yet) was
    /// revoked.
    Replay(OAuthError, Option<i64>),
}

/// The error of a refusal; a replay's security event is reported here, once the revocation
/// has been committed.
fn replayed(
    app: &App,
    req: &Req,
    client: &Application,
    of: Replay,
    refusal: Refusal,
) -> OAuthError {
    match refusal {
        Refusal::Plain(error) => error,
        Refusal::Replay(error, grant_id) => {
            let event = SecurityEvent::Replay {
                of,
                client_id: &client.client_id,
                grant_id,
            };
            app.telemetry.security(&event, req.remote);
            error
        }
    }
}
