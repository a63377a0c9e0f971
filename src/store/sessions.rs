//! Browser sessions, looked up by the SHA-256 of the cookie value.

use super::{Store, StoreError};
use crate::secret::Digest32;
use rusqlite::{OptionalExtension, params};

/// A live session as a request sees it.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    /// Row id.
    pub id: i64,
    /// The signed-in user, `None` before login (or when the user was disabled).
    pub user: Option<SessionUser>,
    /// The CSRF token every state-changing form of this session must carry.
    pub csrf_token: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("user", &self.user)
            .finish()
    }
}

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// May use the admin pages.
    pub is_admin: bool,
    /// When they last proved who they are (signed in with their password), unix seconds:
    /// OpenID Connect's `auth_time`, which `max_age` is measured against.
    pub auth_time: i64,
}

/// A row refused because what it refers to is gone.
fn is_foreign_key_failure(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(code, _)
            if code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
    )
}

impl Store {
    /// Records a session under the digest of its cookie value; returns its row id, or `None`
    /// when the user is gone (removed since they were looked up: the foreign key refuses the
    /// row). A session with a user starts at the moment they authenticated (`now`).
    pub(crate) fn create_session(
        &self,
        id_digest: &Digest32,
        user_id: Option<i64>,
        csrf_token: &str,
        now: i64,
        expires: i64,
    ) -> Result<Option<i64>, StoreError> {
        let made = self
            .conn
            .prepare_cached(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, created, expires, auth_time)
                 VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?2 IS NULL THEN NULL ELSE ?4 END)
                 RETURNING id",
            )?
            .query_row(params![id_digest, user_id, csrf_token, now, expires], |r| {
                r.get(0)
            });
        match made {
            Ok(id) => Ok(Some(id)),
            Err(e) if is_foreign_key_failure(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The unexpired session with this digest; a disabled user's session reads as signed out.
    pub fn find_session(
        &self,
        id_digest: &Digest32,
        now: i64,
    ) -> Result<Option<Session>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.id, s.csrf_token, u.id, u.username, u.is_admin, s.auth_time
             FROM sessions s LEFT JOIN users u ON u.id = s.user_id AND u.is_active
             WHERE s.id_hash = ?1 AND s.expires > ?2",
        )?;
        let session = stmt
            .query_row(params![id_digest, now], |row| {
                let user_id: Option<i64> = row.get(2)?;
                let user = match user_id {
                    Some(id) => Some(SessionUser {
                        id,
                        username: row.get(3)?,
                        is_admin: row.get(4)?,
                        auth_time: row.get::<_, Option<i64>>(5)?.unwrap_or(0),
                    }),
                    None => None,
                };
                Ok(Session {
                    id: row.get(0)?,
                    user,
                    csrf_token: row.get(1)?,
                })
            })
            .optional()?;
        Ok(session)
    }

    /// Ends a session (logout, or replaced at login).
    pub(crate) fn delete_session(&self, id: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE id = ?1")?
            .execute([id])?;
        Ok(())
    }

    /// Ends every session of a user but `keep` (after a password change); returns how many.
    pub(crate) fn end_user_sessions(
        &self,
        user_id: i64,
        keep: Option<i64>,
    ) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .prepare_cached("DELETE FROM sessions WHERE user_id = ?1 AND id IS NOT ?2")?
            .execute(params![user_id, keep])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::digest;
    use crate::store::users::tests::add_user;

    #[test]
    fn sessions_expire_and_follow_their_user() {
        let store = Store::open_in_memory().unwrap();
        let bob = add_user(&store, "bob");
        store
            .create_session(&digest("anon"), None, "c1", 10, 100)
            .unwrap();
        store
            .create_session(&digest("bob"), Some(bob), "c2", 10, 100)
            .unwrap();
        let anon = store.find_session(&digest("anon"), 50).unwrap().unwrap();
        assert_eq!((anon.user, anon.csrf_token.as_str()), (None, "c1"));
        let signed_in = store.find_session(&digest("bob"), 50).unwrap().unwrap();
        let user = signed_in.user.unwrap();
        assert_eq!((user.username.as_str(), user.auth_time), ("bob", 10));
        assert_eq!(
            store.find_session(&digest("bob"), 100).unwrap(),
            None,
            "expired"
        );
        let cleared = store.clear_expired(100, None, &|| true).unwrap();
        assert_eq!(cleared.sessions, 2);
        assert_eq!(store.find_session(&digest("anon"), 50).unwrap(), None);
    }

    /// Regression: a user removed between the password check and the new session made the
    /// foreign key fail, which answered 500.
    #[test]
    fn no_session_starts_for_a_user_who_is_gone() {
        let store = Store::open_in_memory().unwrap();
        let bob = add_user(&store, "bob");
        store.immediate(|s| s.remove_user(bob)).unwrap().unwrap();
        let made = store.create_session(&digest("bob"), Some(bob), "c", 10, 100);
        assert_eq!(made.unwrap(), None);
        assert_eq!(store.find_session(&digest("bob"), 50).unwrap(), None);
        let never = add_user(&store, "eve") + 1000;
        let made = store.create_session(&digest("eve"), Some(never), "c", 10, 100);
        assert_eq!(made.unwrap(), None);
    }

    #[test]
    fn a_users_sessions_end_but_the_one_kept_and_other_users_sessions() {
        let store = Store::open_in_memory().unwrap();
        let (bob, eve) = (add_user(&store, "bob"), add_user(&store, "eve"));
        let mut ids = Vec::new();
        for (name, user) in [("bob1", bob), ("bob2", bob), ("bob3", bob), ("eve", eve)] {
            ids.push(
                store
                    .create_session(&digest(name), Some(user), "c", 10, 100)
                    .unwrap()
                    .unwrap(),
            );
        }
        assert_eq!(store.end_user_sessions(bob, Some(ids[1])).unwrap(), 2);
        let alive = |name| store.find_session(&digest(name), 50).unwrap().is_some();
        assert_eq!(
            [alive("bob1"), alive("bob2"), alive("bob3"), alive("eve")],
            [false, true, false, true]
        );
        assert_eq!(store.end_user_sessions(bob, None).unwrap(), 1);
        assert!(!alive("bob2") && alive("eve"));
    }

    #[test]
    fn disabling_a_user_ends_their_sessions_for_good() {
        let store = Store::open_in_memory().unwrap();
        let bob = add_user(&store, "bob");
        let eve = add_user(&store, "eve");
        for (name, user) in [("bob", bob), ("eve", eve)] {
            store
                .create_session(&digest(name), Some(user), "c", 10, 100)
                .unwrap();
        }
        store.set_user_active(bob, false).unwrap();
        store.set_user_active(bob, true).unwrap();
        assert_eq!(store.find_session(&digest("bob"), 50).unwrap(), None);
        assert!(store.find_session(&digest("eve"), 50).unwrap().is_some());
    }
}
