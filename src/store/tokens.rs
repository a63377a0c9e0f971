//! Grants, access tokens and refresh tokens, looked up by the SHA-256 of the token.

use super::{APP_USABLE, JOIN_APP_OWNER, Store, StoreError, parsed, resources_at};
use crate::model::{AccessToken, Grant, RefreshToken};
use crate::oauth::resource::Resources;
use crate::oauth::scope::Scopes;
use crate::secret::Digest32;
use rusqlite::{OptionalExtension, Row, params};

/// Tokens to store for one successful grant. Callers run this inside [`Store::immediate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewTokens<'a> {
    /// The grant they belong to: an existing one (a refresh) or a new one.
    pub grant: GrantRef<'a>,
    /// Digest of the new access token.
    pub access_digest: Digest32,
    /// Digest of the new refresh token, if one is issued.
    pub refresh_digest: Option<Digest32>,
    /// The access token's scope.
    pub scope: &'a Scopes,
    /// The access token's audience (RFC 8707 §2.2).
    pub resources: &'a Resources,
    /// Issued at.
    pub now: i64,
    /// Access token expiry.
    pub expires: i64,
}

/// Which grant new tokens belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GrantRef<'a> {
    /// Record a new grant for this application and user with this scope.
    New {
        /// The client.
        application_id: i64,
        /// The resource owner, if any.
        user_id: Option<i64>,
        /// The scope the owner granted.
        scope: &'a Scopes,
        /// The resources it is for (RFC 8707).
        resources: &'a Resources,
        /// When the owner authenticated to grant it, if interactively.
        auth_time: Option<i64>,
    },
    /// An existing grant (its family continues).
    Existing(i64),
}

/// The rows a successful grant created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issued {
    /// The grant (new, or the one refreshed).
    pub grant_id: i64,
    /// The new access token.
    pub access_id: i64,
    /// The new refresh token, if one was issued.
    pub refresh_id: Option<i64>,
}

const GRANT_COLUMNS: &str = "g.id, g.application_id, g.user_id, g.scope, g.auth_time, g.resources";
/// How many columns [`GRANT_COLUMNS`] takes: the next column's index.
const G: usize = 6;

fn grant_from_row(row: &Row<'_>, at: usize) -> rusqlite::Result<Grant> {
    let scope: String = row.get(at + 3)?;
    Ok(Grant {
        id: row.get(at)?,
        application_id: row.get(at + 1)?,
        user_id: row.get(at + 2)?,
        scope: parsed(at + 3, &scope, Scopes::parse)?,
        auth_time: row.get(at + 4)?,
        resources: resources_at(row, at + 5)?,
    })
}

impl Store {
    /// Stores a grant's tokens; returns the grant's and the access token's ids.
    pub(crate) fn issue_tokens(&self, new: &NewTokens<'_>) -> Result<Issued, StoreError> {
        let grant_id = match new.grant {
            GrantRef::Existing(id) => id,
            GrantRef::New {
                application_id,
                user_id,
                scope,
                resources,
                auth_time,
            } => self
                .conn
                .prepare_cached(
                    "INSERT INTO grants (application_id, user_id, scope, created, auth_time, resources, salt)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, random()) RETURNING id",
                )?
                .query_row(
                    params![
                        application_id,
                        user_id,
                        scope.to_string(),
                        new.now,
                        auth_time,
                        resources.stored()
                    ],
                    |r| r.get(0),
                )?,
        };
        let access_id: i64 = self
            .conn
            .prepare_cached(
                "INSERT INTO access_tokens (token_hash, grant_id, scope, created, expires, resources)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            )?
            .query_row(
                params![
                    new.access_digest,
                    grant_id,
                    new.scope.to_string(),
                    new.now,
                    new.expires,
                    new.resources.stored()
                ],
                |r| r.get(0),
            )?;
        let refresh_id = match new.refresh_digest {
            Some(refresh) => Some(
                self.conn
                    .prepare_cached(
                        "INSERT INTO refresh_tokens (token_hash, grant_id, access_token_id, created) VALUES (?1, ?2, ?3, ?4)
                         RETURNING id",
                    )?
                    .query_row(params![refresh, grant_id, access_id, new.now], |r| r.get(0))?,
            ),
            None => None,
        };
        Ok(Issued {
            grant_id,
            access_id,
            refresh_id,
        })
    }

    /// Replaces a refresh token's access token: deletes the old one and issues `new` in the same
    /// grant. With `rotate`, the presented refresh token is retired (it keeps the time of its
    /// first retirement) naming `new`'s refresh token as its successor; without, the presented
    /// one now holds the new access token. `supersedes`, a retry's earlier successor, is
    /// revoked with its access token, so that the family keeps one live refresh token.
    pub(crate) fn refresh_tokens(
        &self,
        old: &RefreshToken,
        rotate: bool,
        supersedes: Option<i64>,
        new: &NewTokens<'_>,
    ) -> Result<(), StoreError> {
        if let Some(access_id) = old.access_token_id {
            self.delete_access_token(access_id)?;
        }
        if let Some(sibling) = supersedes {
            self.revoke_refresh_token(sibling, new.now)?;
        }
        if rotate {
            let issued = self.issue_tokens(new)?;
            self.conn
                .prepare_cached(
                    "UPDATE refresh_tokens SET revoked = COALESCE(revoked, ?2), successor_id = ?3
                     WHERE id = ?1",
                )?
                .execute(params![old.id, new.now, issued.refresh_id])?;
        } else {
            let issued = self.issue_tokens(&NewTokens {
                refresh_digest: None,
                ..new.clone()
            })?;
            self.conn
                .prepare_cached("UPDATE refresh_tokens SET access_token_id = ?2 WHERE id = ?1")?
                .execute([old.id, issued.access_id])?;
        }
        Ok(())
    }

    /// The access token with this digest, with its grant, client and owner.
    pub fn find_access_token(&self, digest: &Digest32) -> Result<Option<AccessToken>, StoreError> {
        let sql = format!(
            "SELECT {GRANT_COLUMNS}, a.id, a.scope, a.created, a.expires, app.client_id, {APP_USABLE},
                    u.username, COALESCE(u.is_admin, 0), COALESCE(u.is_active, 1), a.resources
             FROM access_tokens a JOIN grants g ON g.id = a.grant_id
             JOIN applications app ON app.id = g.application_id {JOIN_APP_OWNER}
             LEFT JOIN users u ON u.id = g.user_id
             WHERE a.token_hash = ?1"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let token = stmt
            .query_row([digest], |row| {
                let scope: String = row.get(G + 1)?;
                Ok(AccessToken {
                    grant: grant_from_row(row, 0)?,
                    id: row.get(G)?,
                    scope: parsed(G + 1, &scope, Scopes::parse)?,
                    created: row.get(G + 2)?,
                    expires: row.get(G + 3)?,
                    client_id: row.get(G + 4)?,
                    app_usable: row.get(G + 5)?,
                    username: row.get(G + 6)?,
                    user_is_admin: row.get(G + 7)?,
                    user_is_active: row.get(G + 8)?,
                    resources: resources_at(row, G + 9)?,
                })
            })
            .optional()?;
        Ok(token)
    }

    /// The refresh token with this digest, live or retired, with its grant.
    pub fn find_refresh_token(
        &self,
        digest: &Digest32,
    ) -> Result<Option<RefreshToken>, StoreError> {
        let sql = format!(
            "SELECT {GRANT_COLUMNS}, r.id, r.access_token_id, r.created, r.revoked, app.client_id,
                    {APP_USABLE} AND COALESCE(u.is_active, 1), u.username, s.id
             FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id
             LEFT JOIN refresh_tokens s
                    ON s.id = r.successor_id AND s.grant_id = r.grant_id AND s.revoked IS NULL
             JOIN applications app ON app.id = g.application_id {JOIN_APP_OWNER}
             LEFT JOIN users u ON u.id = g.user_id
             WHERE r.token_hash = ?1"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let token = stmt
            .query_row([digest], |row| {
                Ok(RefreshToken {
                    grant: grant_from_row(row, 0)?,
                    id: row.get(G)?,
                    access_token_id: row.get(G + 1)?,
                    created: row.get(G + 2)?,
                    revoked: row.get(G + 3)?,
                    client_id: row.get(G + 4)?,
                    holders_active: row.get(G + 5)?,
                    username: row.get(G + 6)?,
                    live_successor: row.get(G + 7)?,
                })
            })
            .optional()?;
        Ok(token)
    }

    /// The scopes of the valid access tokens `user_id` holds from application `application_id`.
    pub(crate) fn held_scopes(
        &self,
        user_id: i64,
        application_id: i64,
        now: i64,
    ) -> Result<Vec<Scopes>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.scope FROM access_tokens a JOIN grants g ON g.id = a.grant_id
             WHERE g.user_id = ?1 AND g.application_id = ?2 AND a.expires > ?3",
        )?;
        let rows = stmt.query_map(params![user_id, application_id, now], |row| {
            let scope: String = row.get(0)?;
            parsed(0, &scope, Scopes::parse)
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes one access token (RFC 7009 revocation of an access token).
    pub(crate) fn delete_access_token(&self, id: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM access_tokens WHERE id = ?1")?
            .execute([id])?;
        Ok(())
    }

    /// Revokes one refresh token and deletes its access token; it names no successor, so a
    /// later presentation is a replay.
    fn revoke_refresh_token(&self, id: i64, now: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "DELETE FROM access_tokens WHERE id = (SELECT access_token_id FROM refresh_tokens WHERE id = ?1)",
            )?
            .execute([id])?;
        self.conn
            .prepare_cached("UPDATE refresh_tokens SET revoked = ?2 WHERE id = ?1")?
            .execute([id, now])?;
        Ok(())
    }

    /// Revokes a whole family: every access token of the grant is deleted and every refresh
    /// token retired (kept, so that a later replay is still recognised).
    pub(crate) fn revoke_grant(&self, grant_id: i64, now: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM access_tokens WHERE grant_id = ?1")?
            .execute([grant_id])?;
        self.conn
            .prepare_cached(
                "UPDATE refresh_tokens SET revoked = ?2 WHERE grant_id = ?1 AND revoked IS NULL",
            )?
            .execute([grant_id, now])?;
        Ok(())
    }

    /// Live refresh tokens in a grant (a family never holds more than one).
    #[cfg(test)]
    pub(crate) fn live_refresh_tokens(&self, grant_id: i64) -> Result<i64, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT count(*) FROM refresh_tokens WHERE grant_id = ?1 AND revoked IS NULL",
        )?;
        Ok(stmt.query_row([grant_id], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::digest;
    use crate::store::apps::tests::valid_new_app;

    #[test]
    fn a_grant_keeps_its_resources_and_each_access_token_its_audience() {
        let store = Store::open_in_memory().unwrap();
        let app = store.create_app(&valid_new_app(), 1).unwrap();
        let scope = Scopes::parse("read").unwrap();
        let granted = Resources::parse(&["https://mcp.example/mcp", "urn:o'brien;--x"]).unwrap();
        let audience = Resources::parse(&["https://mcp.example/mcp"]).unwrap();
        let none = Resources::default();
        for (name, granted, audience) in [("a", &granted, &audience), ("b", &none, &none)] {
            store
                .issue_tokens(&NewTokens {
                    grant: GrantRef::New {
                        application_id: app,
                        user_id: None,
                        scope: &scope,
                        resources: granted,
                        auth_time: None,
                    },
                    access_digest: digest(&format!("{name}-access")),
                    refresh_digest: Some(digest(&format!("{name}-refresh"))),
                    scope: &scope,
                    resources: audience,
                    now: 10,
                    expires: 50,
                })
                .unwrap();
            let access = store.find_access_token(&digest(&format!("{name}-access")));
            let access = access.unwrap().unwrap();
            assert_eq!(
                (&access.grant.resources, &access.resources),
                (granted, audience)
            );
            let refresh = store.find_refresh_token(&digest(&format!("{name}-refresh")));
            assert_eq!(&refresh.unwrap().unwrap().grant.resources, granted);
        }
        let nulls: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM access_tokens a JOIN grants g ON g.id = a.grant_id
                 WHERE a.resources IS NULL AND g.resources IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(nulls, 1, "none named is stored as NULL");
    }
}
