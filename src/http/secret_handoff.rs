//! Client secrets waiting to be shown once, for POST-redirect-GET: the POST that makes a
//! secret keeps it here under a random handle and redirects; the GET that follows takes it
//! out and shows it. Reloading that page finds nothing, and the database never holds the
//! secret in clear. Kept in memory only: a restart forgets them, which only costs a
//! regeneration.

use crate::secret::{self, Digest32, RandomError, Secret};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// How long a kept secret waits for its page, in seconds.
pub(crate) const HANDOFF_SECONDS: i64 = 300;

/// Who may take a kept secret, and for which application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HandoffFor {
    /// The browser session that made it, by the SHA-256 of its CSRF token: drawn afresh for
    /// every session and never given to another, unlike the session's row id, which SQLite
    /// gives again once a logout deletes the newest session.
    pub session: Digest32,
    /// The application it belongs to (row id).
    pub app_id: i64,
}

struct Waiting {
    owner: HandoffFor,
    secret: Secret,
    expires: i64,
}

/// The secrets waiting for their one showing, keyed by the SHA-256 of their handle; shared
/// by the workers.
#[derive(Default)]
pub(crate) struct SecretHandoff {
    waiting: Mutex<HashMap<Digest32, Waiting>>,
}

impl SecretHandoff {
    /// Keeps `secret` for one showing to `owner` until `now` + [`HANDOFF_SECONDS`]; returns the
    /// handle that the redirect carries. Forgets the secrets that expired meanwhile, and the one
    /// still waiting for the same owner: the new secret replaced it in the database, and a
    /// session repeating the POST must not grow the table.
    pub(crate) fn keep(
        &self,
        owner: HandoffFor,
        secret: Secret,
        now: i64,
    ) -> Result<Secret, RandomError> {
        let handle = secret::random_token()?;
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.retain(|_, kept| kept.expires > now && kept.owner != owner);
        let expires = now + HANDOFF_SECONDS;
        waiting.insert(
            handle.digest(),
            Waiting {
                owner,
                secret,
                expires,
            },
        );
        Ok(handle)
    }

    /// The secret kept under `handle` for `owner`, removed as it is returned; `None` when it was
    /// taken already, expired, or kept for another session or application (that one stays).
    pub(crate) fn take(&self, handle: &str, owner: HandoffFor, now: i64) -> Option<Secret> {
        let key = secret::digest(handle);
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        match waiting.get(&key) {
            Some(kept) if kept.owner == owner && kept.expires > now => {
                waiting.remove(&key).map(|kept| kept.secret)
            }
            _ => None,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: HandoffFor = HandoffFor {
        session: [1; 32],
        app_id: 7,
    };

    fn kept(handoff: &SecretHandoff, now: i64) -> (Secret, Secret) {
        let secret = secret::random_secret(32).unwrap();
        let handle = handoff.keep(OWNER, secret.clone(), now).unwrap();
        (handle, secret)
    }

    #[test]
    fn a_secret_is_taken_once_by_its_session_for_its_app() {
        let handoff = SecretHandoff::default();
        let (handle, secret) = kept(&handoff, 100);
        for other in [
            HandoffFor {
                session: [2; 32],
                ..OWNER
            },
            HandoffFor { app_id: 8, ..OWNER },
        ] {
            assert_eq!(handoff.take(handle.expose(), other, 101), None, "{other:?}");
        }
        assert_eq!(handoff.take("guessed", OWNER, 101), None);
        assert_eq!(handoff.take(handle.expose(), OWNER, 101), Some(secret));
        assert_eq!(handoff.take(handle.expose(), OWNER, 102), None, "once");
        assert_eq!(handoff.len(), 0);
    }

    #[test]
    fn a_secret_expires_and_expired_ones_are_forgotten() {
        let handoff = SecretHandoff::default();
        let (late, _) = kept(&handoff, 100);
        assert_eq!(
            handoff.take(late.expose(), OWNER, 100 + HANDOFF_SECONDS),
            None
        );
        let (_, _) = kept(&handoff, 100 + HANDOFF_SECONDS);
        assert_eq!(handoff.len(), 1, "the expired one was dropped");
        let (handle, secret) = kept(&handoff, 200);
        assert_ne!(handle.expose(), secret.expose());
        assert!(handle.expose().len() >= 43, "256 random bits");
        assert_eq!(format!("{:?}", secret), "[redacted]");
    }

    /// Regression: every regeneration POST used to add an entry for five minutes, so one
    /// signed-in user could grow the table without bound by repeating it.
    #[test]
    fn a_newer_secret_for_the_same_session_and_app_replaces_the_older() {
        let handoff = SecretHandoff::default();
        let (older, _) = kept(&handoff, 100);
        for now in 101..1101 {
            kept(&handoff, now);
        }
        assert_eq!(handoff.len(), 1, "one waiting secret per session and app");
        assert_eq!(
            handoff.take(older.expose(), OWNER, 1101),
            None,
            "superseded"
        );
        let other = HandoffFor {
            session: [2; 32],
            ..OWNER
        };
        let secret = secret::random_secret(32).unwrap();
        handoff.keep(other, secret, 1101).unwrap();
        assert_eq!(handoff.len(), 2, "another session's stays");
    }
}
