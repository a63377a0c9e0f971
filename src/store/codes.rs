//! Authorization codes, looked up by their SHA-256.

use super::{Store, StoreError, parsed, resources_at};
use crate::model::AuthorizationCode;
use crate::oauth::authorize::AuthorizationRequest;
use crate::oauth::pkce::{Challenge, Method};
use crate::oauth::scope::Scopes;
use crate::secret::Digest32;
use rusqlite::{OptionalExtension, params};

/// What issuing a code stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewCode<'a> {
    /// Digest of the code.
    pub digest: Digest32,
    /// The approved request: client, redirect URI, scope, PKCE challenge.
    pub request: &'a AuthorizationRequest,
    /// The approving user.
    pub user_id: i64,
    /// When they last authenticated (OIDC's `auth_time`).
    pub auth_time: i64,
    /// Issued at.
    pub now: i64,
    /// Expires at.
    pub expires: i64,
}

impl Store {
    /// Stores a new code.
    pub(crate) fn create_code(&self, code: &NewCode<'_>) -> Result<(), StoreError> {
        let (request, challenge) = (code.request, code.request.challenge.as_ref());
        self.conn
            .prepare_cached(
                "INSERT INTO authorization_codes (code_hash, application_id, user_id, redirect_uri,
                     redirect_uri_given, scope, code_challenge, code_challenge_method, created, expires,
                     nonce, auth_time, resources)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                code.digest,
                request.application_id,
                code.user_id,
                request.redirect_uri,
                request.redirect_uri_given,
                request.scope.to_string(),
                challenge.map(|c| c.challenge.as_str()),
                challenge.map(|c| c.method.as_str()),
                code.now,
                code.expires,
                request.nonce,
                code.auth_time,
                request.resources.stored()
            ])?;
        Ok(())
    }

    /// The code with this digest, used or not.
    pub fn find_code(&self, digest: &Digest32) -> Result<Option<AuthorizationCode>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id, c.application_id, c.user_id, u.is_active, c.redirect_uri, c.redirect_uri_given,
                    c.scope, c.code_challenge, c.code_challenge_method, c.expires, c.used, c.grant_id,
                    c.nonce, c.auth_time, c.resources
             FROM authorization_codes c JOIN users u ON u.id = c.user_id WHERE c.code_hash = ?1",
        )?;
        let code = stmt
            .query_row([digest], |row| {
                let scope: String = row.get(6)?;
                let challenge: Option<String> = row.get(7)?;
                let method: Option<String> = row.get(8)?;
                let challenge = match (challenge, method) {
                    (Some(challenge), Some(method)) => Some(Challenge {
                        challenge,
                        method: parsed(8, &method, Method::parse)?,
                    }),
                    _ => None,
                };
                Ok(AuthorizationCode {
                    id: row.get(0)?,
                    application_id: row.get(1)?,
                    user_id: row.get(2)?,
                    user_active: row.get(3)?,
                    redirect_uri: row.get(4)?,
                    redirect_uri_given: row.get(5)?,
                    scope: parsed(6, &scope, Scopes::parse)?,
                    challenge,
                    expires: row.get(9)?,
                    used: row.get(10)?,
                    grant_id: row.get(11)?,
                    nonce: row.get(12)?,
                    auth_time: row.get(13)?,
                    resources: resources_at(row, 14)?,
                })
            })
            .optional()?;
        Ok(code)
    }

    /// Marks a code exchanged, remembering the grant it produced (to revoke it on a replay).
    pub(crate) fn mark_code_used(
        &self,
        id: i64,
        now: i64,
        grant_id: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE authorization_codes SET used = ?2, grant_id = ?3 WHERE id = ?1",
            )?
            .execute([id, now, grant_id])?;
        Ok(())
    }
}
