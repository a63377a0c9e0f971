//! Grants as the authorized-tokens and admin pages list them: one row per grant that still
//! holds an access token or a live refresh token, so that nothing a client can still use is
//! hidden from the user who granted it.

use super::{Store, StoreError, parse_public_id, parsed, public_id_sql};
use crate::oauth::scope::Scopes;
use rusqlite::{OptionalExtension, Row, params};

/// Whose tokens a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// The tokens this user granted.
    User(i64),
    /// Every token (the admin pages).
    Anyone,
}

impl Holder {
    fn user_id(self) -> Option<i64> {
        match self {
            Holder::User(id) => Some(id),
            Holder::Anyone => None,
        }
    }
}

/// A grant that a client can still use: its access token (if one is left) and whether a live
/// refresh token goes with it. Never a token itself: only digests are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenView {
    /// The grant's row id; revoking it revokes every token it holds.
    pub id: i64,
    /// The grant's random id, which the pages name it by; never reused (unlike the row id).
    pub public_id: String,
    /// The application's row id.
    pub application_id: i64,
    /// The application's name.
    pub app_name: String,
    /// The resource owner, `None` for client_credentials.
    pub username: Option<String>,
    /// The scope the resource owner granted.
    pub scope: Scopes,
    /// Granted at, unix seconds.
    pub created: i64,
    /// When its newest access token expires; `None` when only a refresh token is left.
    pub expires: Option<i64>,
    /// A live refresh token can get new access tokens.
    pub refreshable: bool,
}

/// The columns [`view_from_row`] reads, and the joins they need.
fn view_select() -> String {
    format!(
        "SELECT g.id, app.id, app.name, u.username, g.scope, g.created,
            (SELECT max(a.expires) FROM access_tokens a WHERE a.grant_id = g.id),
            EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.id AND r.revoked IS NULL),
            {}
         FROM grants g JOIN applications app ON app.id = g.application_id
         LEFT JOIN users u ON u.id = g.user_id",
        public_id_sql("g")
    )
}

/// A grant a client can still use: it holds an access token or a live refresh token.
const USABLE: &str = "(EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id)
     OR EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.id AND r.revoked IS NULL))";

/// `holder`'s (?1, NULL for anyone) usable grants, at most ?2.
fn list_sql() -> String {
    format!(
        "{} WHERE (?1 IS NULL OR g.user_id = ?1) AND {USABLE}
         ORDER BY app.name, app.id, g.id DESC LIMIT ?2",
        view_select()
    )
}

/// The usable grant with row id ?1 and salt ?2 (its public id), if `holder`'s (?3): found
/// through the primary key, never by reading every grant.
fn single_sql() -> String {
    format!(
        "{} WHERE g.id = ?1 AND g.salt = ?2 AND (?3 IS NULL OR g.user_id = ?3) AND {USABLE}",
        view_select()
    )
}

fn view_from_row(row: &Row<'_>) -> rusqlite::Result<TokenView> {
    let scope: String = row.get(4)?;
    Ok(TokenView {
        id: row.get(0)?,
        public_id: row.get(8)?,
        application_id: row.get(1)?,
        app_name: row.get(2)?,
        username: row.get(3)?,
        scope: parsed(4, &scope, Scopes::parse)?,
        created: row.get(5)?,
        expires: row.get(6)?,
        refreshable: row.get(7)?,
    })
}

impl Store {
    /// At most `limit` of `holder`'s usable grants, grouped by application, newest first.
    pub fn token_views(&self, holder: Holder, limit: usize) -> Result<Vec<TokenView>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(&list_sql())?;
        let rows = stmt.query_map(params![holder.user_id(), limit], view_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The usable grant with this public id, if it belongs to `holder`.
    pub(crate) fn find_token_view(
        &self,
        public_id: &str,
        holder: Holder,
    ) -> Result<Option<TokenView>, StoreError> {
        let Some((id, salt)) = parse_public_id(public_id) else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare_cached(&single_sql())?;
        Ok(stmt
            .query_row(params![id, salt, holder.user_id()], view_from_row)
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::resource::Resources;
    use crate::store::apps::tests::valid_new_app;
    use crate::store::users::tests::add_user;
    use crate::store::{GrantRef, NewTokens};

    /// Issues a grant's first tokens; returns the grant's id and the access token's.
    fn issue(store: &Store, app: i64, user: Option<i64>, hash: &str, refresh: bool) -> (i64, i64) {
        let scope = Scopes::parse("read").unwrap();
        let issued = store
            .issue_tokens(&NewTokens {
                grant: GrantRef::New {
                    application_id: app,
                    user_id: user,
                    scope: &scope,
                    resources: &Resources::default(),
                    auth_time: None,
                },
                access_digest: crate::secret::digest(hash),
                refresh_digest: refresh.then(|| crate::secret::digest(&format!("r{hash}"))),
                scope: &scope,
                resources: &Resources::default(),
                now: 10,
                expires: 20,
            })
            .unwrap();
        (issued.grant_id, issued.access_id)
    }

    /// SQLite's plan for the single-grant `sql` (row id, salt, holder), one detail a line.
    fn plan(store: &Store, sql: &str) -> String {
        let mut stmt = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let details = stmt
            .query_map(params![7, -3, 1], |row| row.get::<_, String>(3))
            .unwrap();
        details.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    /// Regression: the single-grant lookup once shared the listing's optional filter, which
    /// SQLite cannot answer from a key, so it read every grant.
    #[test]
    fn finding_one_grant_uses_its_primary_key() {
        let store = Store::open_in_memory().unwrap();
        let single = plan(&store, &single_sql());
        assert!(
            single.contains("SEARCH g USING INTEGER PRIMARY KEY (rowid=?)"),
            "{single}"
        );
        assert!(!single.contains("SCAN g"), "{single}");
    }

    #[test]
    fn each_user_sees_only_their_own_tokens_and_admins_see_all() {
        let store = Store::open_in_memory().unwrap();
        let app = store.create_app(&valid_new_app(), 1).unwrap();
        let bob = add_user(&store, "bob");
        let eve = add_user(&store, "eve");
        let (bobs, bobs_access) = issue(&store, app, Some(bob), "a", true);
        let (eves, _) = issue(&store, app, Some(eve), "b", false);
        let (service, _) = issue(&store, app, None, "c", false);
        let mine = store.token_views(Holder::User(bob), 100).unwrap();
        assert_eq!(mine.len(), 1);
        let view = &mine[0];
        assert_eq!((view.id, view.application_id), (bobs, app));
        assert_eq!(view.username.as_deref(), Some("bob"));
        assert_eq!(
            (view.created, view.expires, view.refreshable),
            (10, Some(20), true)
        );
        assert_eq!(view.scope.to_string(), "read");
        let all: Vec<i64> = store
            .token_views(Holder::Anyone, 100)
            .unwrap()
            .iter()
            .map(|v| v.id)
            .collect();
        assert_eq!(all, vec![service, eves, bobs]);
        assert_eq!(store.token_views(Holder::Anyone, 2).unwrap().len(), 2);
        let listed = store.token_views(Holder::Anyone, 100).unwrap();
        let public = |id: i64| {
            let view = listed.iter().find(|v| v.id == id).unwrap();
            assert_eq!(view.public_id.len(), 32, "the row id and the salt in hex");
            view.public_id.clone()
        };
        let (bobs, eves, service) = (public(bobs), public(eves), public(service));
        assert!(bobs != eves && eves != service && bobs != service);
        assert_eq!(
            store.find_token_view(&eves, Holder::User(bob)).unwrap(),
            None
        );
        assert!(
            store
                .find_token_view(&eves, Holder::User(eve))
                .unwrap()
                .is_some()
        );
        let found = store.find_token_view(&service, Holder::Anyone).unwrap();
        assert_eq!(found.map(|v| v.public_id), Some(service));
        for unknown in ["9999", "", "bob\"e'i;--ü"] {
            assert_eq!(
                store.find_token_view(unknown, Holder::Anyone).unwrap(),
                None
            );
        }

        // RFC 7009 revocation of the access token alone leaves the refresh token usable: the
        // grant stays listed, so its user can still revoke it.
        store.delete_access_token(bobs_access).unwrap();
        let left = store
            .find_token_view(&bobs, Holder::User(bob))
            .unwrap()
            .unwrap();
        assert_eq!((left.expires, left.refreshable), (None, true));
        // Nothing usable left: no longer listed.
        store.revoke_grant(left.id, 30).unwrap();
        assert_eq!(
            store.find_token_view(&bobs, Holder::User(bob)).unwrap(),
            None
        );
    }
}
