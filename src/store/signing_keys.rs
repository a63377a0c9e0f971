//! The public halves of the id_token signing keys (the private halves live in the key file,
//! never here): the current key, retirement, and the publication window of retired keys.

use super::{Store, StoreError};
use rusqlite::{OptionalExtension, Row, params};

/// One row of `signing_keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRow {
    /// The key id, as the JWS header and the JWKS name it.
    pub kid: String,
    /// The JWS algorithm, `RS256`.
    pub alg: String,
    /// The public JWK as the JWKS serves it (JSON text).
    pub public_jwk: String,
    /// When the key was made (unix seconds).
    pub created: i64,
    /// When it stopped signing; `None` for the current key.
    pub retired: Option<i64>,
}

const COLUMNS: &str = "kid, alg, public_jwk, created, retired";

fn row_of(row: &Row<'_>) -> rusqlite::Result<SigningKeyRow> {
    Ok(SigningKeyRow {
        kid: row.get(0)?,
        alg: row.get(1)?,
        public_jwk: row.get(2)?,
        created: row.get(3)?,
        retired: row.get(4)?,
    })
}

impl Store {
    /// The key that signs now (the one row with `retired` NULL).
    pub fn current_signing_key(&self) -> Result<Option<SigningKeyRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM signing_keys WHERE retired IS NULL");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([], row_of)
            .optional()?)
    }

    /// The key with this id, current or retired.
    pub(crate) fn signing_key(&self, kid: &str) -> Result<Option<SigningKeyRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM signing_keys WHERE kid = ?1");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([kid], row_of)
            .optional()?)
    }

    /// The keys the JWKS publishes at `now`: the current one, and each retired one until
    /// `window` seconds after its retirement; newest first.
    pub(crate) fn published_signing_keys(
        &self,
        now: i64,
        window: i64,
    ) -> Result<Vec<SigningKeyRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM signing_keys WHERE retired IS NULL OR retired + ?2 > ?1
             ORDER BY retired IS NOT NULL, retired DESC, created DESC"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([now, window], row_of)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every key in the table, newest first.
    pub fn list_signing_keys(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM signing_keys
             ORDER BY retired IS NOT NULL, retired DESC, created DESC, kid"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], row_of)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Adds a key as the current one; `false` when the table refuses it because a current key
    /// exists already (the unique index allows one) or the kid is taken.
    pub(crate) fn add_current_signing_key(
        &self,
        kid: &str,
        alg: &str,
        public_jwk: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let added = self
            .conn
            .prepare_cached(
                "INSERT INTO signing_keys (kid, alg, public_jwk, created) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![kid, alg, public_jwk, now])?;
        Ok(added == 1)
    }

    /// Retires the current key at `now`; returns its kid, `None` when there was none.
    pub(crate) fn retire_current_signing_key(
        &self,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE signing_keys SET retired = ?1 WHERE retired IS NULL RETURNING kid",
            )?
            .query_row([now], |row| row.get(0))
            .optional()?)
    }

    /// Deletes the retired keys whose publication window (`window` seconds after retirement)
    /// has passed at `now`; returns how many.
    pub(crate) fn delete_expired_signing_keys(
        &self,
        now: i64,
        window: i64,
    ) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM signing_keys WHERE retired IS NOT NULL AND retired + ?2 <= ?1",
            [now, window],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    const HOSTILE: &str = "bob\"e'i;--ü";

    fn kids(rows: &[SigningKeyRow]) -> Vec<&str> {
        rows.iter().map(|r| r.kid.as_str()).collect()
    }

    #[test]
    fn one_current_key_at_most() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.current_signing_key().unwrap(), None);
        assert!(
            store
                .add_current_signing_key(HOSTILE, "RS256", "{\"kid\":1}", 10)
                .unwrap()
        );
        assert!(
            !store
                .add_current_signing_key("two", "RS256", "{}", 11)
                .unwrap(),
            "the unique index refuses a second current key"
        );
        let current = store.current_signing_key().unwrap().unwrap();
        let expected = SigningKeyRow {
            kid: HOSTILE.into(),
            alg: "RS256".into(),
            public_jwk: "{\"kid\":1}".into(),
            created: 10,
            retired: None,
        };
        assert_eq!(current, expected);
        assert_eq!(store.signing_key(HOSTILE).unwrap(), Some(expected));
        assert_eq!(store.signing_key("two").unwrap(), None);
    }

    #[test]
    fn retired_keys_are_published_for_the_window_then_deleted() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.retire_current_signing_key(5).unwrap(), None);
        store
            .add_current_signing_key("a", "RS256", "{}", 0)
            .unwrap();
        assert_eq!(
            store.retire_current_signing_key(100).unwrap().as_deref(),
            Some("a")
        );
        store
            .add_current_signing_key("b", "RS256", "{}", 100)
            .unwrap();
        assert!(
            !store
                .add_current_signing_key("a", "RS256", "{}", 100)
                .unwrap(),
            "a retired kid is not reused"
        );
        store.retire_current_signing_key(200).unwrap();
        store
            .add_current_signing_key("c", "RS256", "{}", 200)
            .unwrap();

        let published = |now| store.published_signing_keys(now, 60).unwrap();
        assert_eq!(kids(&published(159)), ["c", "b", "a"]);
        assert_eq!(kids(&published(160)), ["c", "b"], "a's window ended");
        assert_eq!(kids(&published(260)), ["c"]);
        assert_eq!(kids(&store.list_signing_keys().unwrap()), ["c", "b", "a"]);

        assert_eq!(store.delete_expired_signing_keys(160, 60).unwrap(), 1);
        assert_eq!(kids(&store.list_signing_keys().unwrap()), ["c", "b"]);
        assert_eq!(store.delete_expired_signing_keys(10_000, 60).unwrap(), 1);
        assert_eq!(
            kids(&store.list_signing_keys().unwrap()),
            ["c"],
            "the current key is never deleted"
        );
    }
}
