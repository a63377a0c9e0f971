//! Remembered consent: the decisions a user asked the consent page not to ask again, per
//! application and scope set (DOT's `approval_prompt=auto`, kept on purpose rather than
//! inferred from tokens).

use super::{Store, StoreError, parsed};
use crate::oauth::scope::Scopes;
use rusqlite::{OptionalExtension, Row, params};

/// A remembered decision as the authorized-tokens page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RememberedConsent {
    /// Row id.
    pub id: i64,
    /// The application's name.
    pub app_name: String,
    /// The scopes allowed; a request for these or fewer is not asked again.
    pub scope: Scopes,
    /// Remembered at, unix seconds.
    pub created: i64,
}

const CONSENT_SQL: &str = "SELECT c.id, app.name, c.scope, c.created
     FROM remembered_consents c JOIN applications app ON app.id = c.application_id
     WHERE c.user_id = ?1 AND (?2 IS NULL OR c.id = ?2)
     ORDER BY app.name, app.id, c.id";

fn consent_from_row(row: &Row<'_>) -> rusqlite::Result<RememberedConsent> {
    let scope: String = row.get(2)?;
    Ok(RememberedConsent {
        id: row.get(0)?,
        app_name: row.get(1)?,
        scope: parsed(2, &scope, Scopes::parse)?,
        created: row.get(3)?,
    })
}

impl Store {
    /// Remembers that `user_id` allowed `application_id` these scopes (once per set); nothing
    /// when the user or the application was removed meanwhile (docs/security.md rule 47).
    pub(crate) fn remember_consent(
        &self,
        user_id: i64,
        application_id: i64,
        scope: &Scopes,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO remembered_consents (user_id, application_id, scope, created)
                 SELECT ?1, ?2, ?3, ?4
                 WHERE EXISTS (SELECT 1 FROM users WHERE id = ?1)
                   AND EXISTS (SELECT 1 FROM applications WHERE id = ?2)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![user_id, application_id, scope.to_string(), now])?;
        Ok(())
    }

    /// The scope sets `user_id` asked to be remembered for `application_id`.
    pub(crate) fn remembered_scopes(
        &self,
        user_id: i64,
        application_id: i64,
    ) -> Result<Vec<Scopes>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT scope FROM remembered_consents WHERE user_id = ?1 AND application_id = ?2
             ORDER BY id",
        )?;
        let rows = stmt.query_map([user_id, application_id], |row| {
            let scope: String = row.get(0)?;
            parsed(0, &scope, Scopes::parse)
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every decision `user_id` asked to be remembered, by application name.
    pub(crate) fn remembered_consents(
        &self,
        user_id: i64,
    ) -> Result<Vec<RememberedConsent>, StoreError> {
        let mut stmt = self.conn.prepare_cached(CONSENT_SQL)?;
        let rows = stmt.query_map(params![user_id, None::<i64>], consent_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The remembered decision `id`, if it is `user_id`'s.
    pub(crate) fn find_remembered_consent(
        &self,
        id: i64,
        user_id: i64,
    ) -> Result<Option<RememberedConsent>, StoreError> {
        let mut stmt = self.conn.prepare_cached(CONSENT_SQL)?;
        Ok(stmt
            .query_row(params![user_id, id], consent_from_row)
            .optional()?)
    }

    /// Forgets the remembered decision `id` of `user_id`; whether there was one.
    pub(crate) fn forget_consent(&self, id: i64, user_id: i64) -> Result<bool, StoreError> {
        let deleted = self
            .conn
            .prepare_cached("DELETE FROM remembered_consents WHERE id = ?1 AND user_id = ?2")?
            .execute([id, user_id])?;
        Ok(deleted > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewApplication;
    use crate::store::apps::tests::valid_new_app;
    use crate::store::users::tests::add_user;

    fn scopes(text: &str) -> Scopes {
        Scopes::parse(text).unwrap()
    }

    #[test]
    fn a_decision_is_remembered_once_per_scope_set_and_forgotten_only_by_its_user() {
        let store = Store::open_in_memory().unwrap();
        let (bob, eve) = (add_user(&store, "bob"), add_user(&store, "eve"));
        let app = store.create_app(&valid_new_app(), 1).unwrap();
        for scope in ["write read", "read write", "read"] {
            store.remember_consent(bob, app, &scopes(scope), 5).unwrap();
        }
        assert_eq!(
            store.remembered_scopes(bob, app).unwrap(),
            [scopes("read write"), scopes("read")]
        );
        assert_eq!(store.remembered_scopes(eve, app).unwrap(), []);
        let listed = store.remembered_consents(bob).unwrap();
        assert_eq!(listed.len(), 2);
        let first = listed[0].clone();
        assert_eq!(store.find_remembered_consent(first.id, eve).unwrap(), None);
        assert!(!store.forget_consent(first.id, eve).unwrap(), "not eve's");
        assert_eq!(
            store.find_remembered_consent(first.id, bob).unwrap(),
            Some(first.clone())
        );
        assert!(store.forget_consent(first.id, bob).unwrap());
        assert_eq!(store.remembered_consents(bob).unwrap().len(), 1);
    }

    #[test]
    fn decisions_go_with_their_user_and_their_application() {
        let store = Store::open_in_memory().unwrap();
        let (bob, eve) = (add_user(&store, "bob"), add_user(&store, "eve"));
        let app = store.create_app(&valid_new_app(), 1).unwrap();
        let other = NewApplication {
            client_id: "other".into(),
            ..valid_new_app()
        };
        let other = store.create_app(&other, 1).unwrap();
        for (user, app) in [(bob, app), (bob, other), (eve, app)] {
            store
                .remember_consent(user, app, &scopes("read"), 5)
                .unwrap();
        }
        assert!(store.delete_app(app).unwrap());
        assert_eq!(store.remembered_consents(eve).unwrap(), []);
        store
            .conn
            .execute("DELETE FROM users WHERE id = ?1", [bob])
            .unwrap();
        let left: i64 = store
            .conn
            .query_row("SELECT count(*) FROM remembered_consents", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }

    /// Regression: an Allow racing `app remove` (or `user remove`) failed the foreign key
    /// and answered 500 (docs/security.md rule 47).
    #[test]
    fn remembering_for_a_removed_app_or_user_stores_nothing_and_is_no_error() {
        let store = Store::open_in_memory().unwrap();
        let bob = add_user(&store, "bob");
        let app = store.create_app(&valid_new_app(), 1).unwrap();
        let read = scopes("read");
        store.remember_consent(bob, app + 1, &read, 5).unwrap();
        store.remember_consent(bob + 1, app, &read, 5).unwrap();
        assert_eq!(store.remembered_consents(bob).unwrap(), []);
        store.remember_consent(bob, app, &read, 5).unwrap();
        assert_eq!(store.remembered_scopes(bob, app).unwrap(), [read]);
    }
}
