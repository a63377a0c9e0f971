//! Dynamic client registration (RFC 7591): the initial access tokens of the `token` mode, and
//! storing a client that registered itself, with the use of its token, in one transaction.

use super::{NewApplication, Store, StoreError};
use crate::secret::Digest32;
use rusqlite::{OptionalExtension, params};

/// The condition on a `registration_tokens` row that it can be used at `?2`.
const LIVE: &str = "(expires IS NULL OR expires > ?2) AND (uses_left IS NULL OR uses_left > 0)";

/// An initial access token as listed: never the token, which only the command that made it
/// printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegistrationToken {
    /// Row id, never reused; `registration-token remove` takes it.
    pub id: i64,
    /// Registrations it still allows; `None`: any number.
    pub uses_left: Option<i64>,
    /// When it stops working (Unix seconds); `None`: never.
    pub expires: Option<i64>,
    /// When it was made.
    pub created: i64,
}

impl Store {
    /// Stores a new initial access token by its digest and returns its id.
    pub(crate) fn add_registration_token(
        &self,
        digest: &Digest32,
        uses: Option<i64>,
        expires: Option<i64>,
        now: i64,
    ) -> Result<i64, StoreError> {
        let id = self
            .conn
            .prepare_cached(
                "INSERT INTO registration_tokens (token_hash, uses_left, expires, created)
                 VALUES (?1, ?2, ?3, ?4) RETURNING id",
            )?
            .query_row(params![digest, uses, expires, now], |r| r.get(0))?;
        Ok(id)
    }

    /// Every initial access token, oldest first.
    pub(crate) fn list_registration_tokens(&self) -> Result<Vec<RegistrationToken>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, uses_left, expires, created FROM registration_tokens ORDER BY id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(RegistrationToken {
                id: row.get(0)?,
                uses_left: row.get(1)?,
                expires: row.get(2)?,
                created: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes the initial access token `id`; `false` when there is none.
    pub(crate) fn remove_registration_token(&self, id: i64) -> Result<bool, StoreError> {
        let removed = self
            .conn
            .prepare_cached("DELETE FROM registration_tokens WHERE id = ?1")?
            .execute([id])?;
        Ok(removed > 0)
    }

    /// Whether the initial access token with this digest can be used now (unknown, expired and
    /// used-up ones cannot): checked before the request body is parsed; [`Store::register_client`]
    /// takes the use.
    pub(crate) fn registration_token_is_live(
        &self,
        digest: &Digest32,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT 1 FROM registration_tokens WHERE token_hash = ?1 AND {LIVE}"
            ))?
            .query_row(params![digest, now], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Stores a client that registered itself, marked as such: `Some` with the id of the
    /// initial access token used, if any. With `token` (the digest of the one presented), one
    /// use of it is taken in the same IMMEDIATE transaction, so that concurrent registrations
    /// cannot share a last use; `None` when the token is unknown, expired or used up: then
    /// nothing is stored.
    pub(crate) fn register_client(
        &self,
        app: &NewApplication,
        token: Option<&Digest32>,
        now: i64,
    ) -> Result<Option<Option<i64>>, StoreError> {
        self.immediate(|store| {
            let token_id = match token {
                Some(digest) => match store.use_registration_token(digest, now)? {
                    Some(id) => Some(id),
                    None => return Ok(None),
                },
                None => None,
            };
            store.insert_app(app, true, now)?;
            Ok(Some(token_id))
        })
    }

    /// Takes one use of a live token; its id, or `None` when there is no live one.
    fn use_registration_token(
        &self,
        digest: &Digest32,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "UPDATE registration_tokens SET uses_left = uses_left - 1
                 WHERE token_hash = ?1 AND {LIVE} RETURNING id"
            ))?
            .query_row(params![digest, now], |r| r.get(0))
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use crate::secret::digest;
    use crate::store::Store;
    use crate::store::apps::tests::valid_new_app;

    #[test]
    fn a_token_is_used_up_expires_and_is_listed_without_its_secret() {
        let store = Store::open_in_memory().unwrap();
        let twice = digest("twice");
        let id = store
            .add_registration_token(&twice, Some(2), Some(100), 10)
            .unwrap();
        let first = store.register_client(&valid_new_app(), Some(&twice), 20);
        assert!(first.unwrap().is_some());
        let mut second_app = valid_new_app();
        second_app.client_id = "second".into();
        assert!(
            store
                .register_client(&second_app, Some(&twice), 20)
                .unwrap()
                .is_some()
        );
        second_app.client_id = "third".into();
        let used_up = store.register_client(&second_app, Some(&twice), 20);
        assert_eq!(used_up.unwrap(), None, "used up");
        assert!(store.find_app_by_client_id("third").unwrap().is_none());
        let listed = store.list_registration_tokens().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].id, listed[0].uses_left), (id, Some(0)));
        assert_eq!(listed[0].expires, Some(100));

        let forever = digest("forever");
        store
            .add_registration_token(&forever, None, Some(100), 10)
            .unwrap();
        assert!(
            store
                .register_client(&second_app, Some(&forever), 100)
                .unwrap()
                .is_none(),
            "expired"
        );
        assert!(
            store
                .register_client(&second_app, Some(&digest("unknown")), 20)
                .unwrap()
                .is_none()
        );
        assert!(store.registration_token_is_live(&forever, 99).unwrap());
        assert!(!store.registration_token_is_live(&forever, 100).unwrap());
        assert!(
            !store.registration_token_is_live(&twice, 20).unwrap(),
            "used up"
        );
        let forever_id = store.list_registration_tokens().unwrap()[1].id;
        let stored = store
            .register_client(&second_app, Some(&forever), 99)
            .unwrap();
        assert_eq!(stored.unwrap(), Some(forever_id));
        let app = store.find_app_by_client_id("third").unwrap().unwrap();
        assert!(app.dynamically_registered);
        assert_eq!(app.owner_id, None);
        let open = store
            .register_client(&valid_new_app_named("open"), None, 1)
            .unwrap();
        assert_eq!(open, Some(None));

        assert!(store.remove_registration_token(id).unwrap());
        assert!(!store.remove_registration_token(id).unwrap());
        assert_eq!(store.list_registration_tokens().unwrap().len(), 1);
    }

    fn valid_new_app_named(client_id: &str) -> crate::store::NewApplication {
        crate::store::NewApplication {
            client_id: client_id.into(),
            ..valid_new_app()
        }
    }

    #[test]
    fn apps_made_otherwise_are_not_marked() {
        let store = Store::open_in_memory().unwrap();
        let id = store.create_app(&valid_new_app(), 1).unwrap();
        assert!(!store.find_app(id).unwrap().unwrap().dynamically_registered);
    }
}
