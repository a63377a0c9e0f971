//! Removing what has expired — codes, tokens, retired refresh-token families, sessions — in
//! short batches, each its own transaction: one function serves `oauthd cleartokens` and the
//! server's periodic sweep, so that neither holds the write lock for long.

use super::{Store, StoreError};
use rusqlite::params_from_iter;

/// Rows deleted per transaction: small enough that a request waiting for the write lock
/// waits milliseconds, not the whole sweep.
const BATCH: usize = 500;

/// What a sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cleared {
    /// Authorization codes removed.
    pub codes: usize,
    /// Refresh tokens removed.
    pub refresh_tokens: usize,
    /// Access tokens removed.
    pub access_tokens: usize,
    /// Grants left with no token, removed.
    pub grants: usize,
    /// Expired browser sessions removed.
    pub sessions: usize,
    /// Device authorizations (RFC 8628) removed.
    pub device_codes: usize,
}

/// One kind of row to remove: its table, which rows (`?1`, when present, is `value`), and
/// where the count goes.
struct Rule {
    table: &'static str,
    condition: &'static str,
    value: Option<i64>,
    count: fn(&mut Cleared) -> &mut usize,
}

impl Store {
    /// DOT's cleartokens, in order: expired codes and device codes (a used one stays while its
    /// grant lives, so that a late replay still revokes it, RFC 6749 §4.1.2); refresh tokens
    /// older than `refresh_lifetime` (when set); retired refresh tokens of families with no
    /// live one left; expired access tokens that no live refresh token holds; grants left with
    /// no token; expired sessions. Stops between batches once `keep_going` says so.
    pub(crate) fn clear_expired(
        &self,
        now: i64,
        refresh_lifetime: Option<i64>,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Cleared, StoreError> {
        let mut cleared = Cleared::default();
        for rule in rules(now, refresh_lifetime) {
            let sql = format!(
                "DELETE FROM {table} WHERE rowid IN
                 (SELECT rowid FROM {table} WHERE {condition} LIMIT {BATCH})",
                table = rule.table,
                condition = rule.condition,
            );
            loop {
                if !keep_going() {
                    return Ok(cleared);
                }
                let removed = self.immediate(|store| -> Result<usize, StoreError> {
                    let mut stmt = store.conn.prepare_cached(&sql)?;
                    Ok(stmt.execute(params_from_iter(rule.value))?)
                })?;
                *(rule.count)(&mut cleared) += removed;
                if removed < BATCH {
                    break;
                }
            }
        }
        Ok(cleared)
    }

    /// Gives the pages freed by deletions back to the file system (`VACUUM`), and folds the
    /// write-ahead log into the file so that the file itself shrinks now.
    pub(crate) fn vacuum(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("VACUUM")?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

fn rules(now: i64, refresh_lifetime: Option<i64>) -> Vec<Rule> {
    let mut rules = vec![Rule {
        table: "authorization_codes",
        condition: "expires <= ?1 AND (used IS NULL OR grant_id IS NULL)",
        value: Some(now),
        count: |c| &mut c.codes,
    }];
    // The same for device codes: a used one stays while its grant lives.
    rules.push(Rule {
        table: "device_codes",
        condition: "expires <= ?1 AND (used IS NULL OR grant_id IS NULL)",
        value: Some(now),
        count: |c| &mut c.device_codes,
    });
    if let Some(life) = refresh_lifetime {
        rules.push(Rule {
            table: "refresh_tokens",
            condition: "created <= ?1",
            value: Some(now - life),
            count: |c| &mut c.refresh_tokens,
        });
    }
    rules.extend([
        Rule {
            table: "refresh_tokens",
            condition: "revoked IS NOT NULL AND grant_id NOT IN
                (SELECT grant_id FROM refresh_tokens WHERE revoked IS NULL)",
            value: None,
            count: |c| &mut c.refresh_tokens,
        },
        Rule {
            table: "access_tokens",
            condition: "expires <= ?1 AND id NOT IN (SELECT access_token_id FROM refresh_tokens
                WHERE revoked IS NULL AND access_token_id IS NOT NULL)",
            value: Some(now),
            count: |c| &mut c.access_tokens,
        },
        Rule {
            table: "grants",
            condition: "NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = grants.id)
                AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = grants.id)",
            value: None,
            count: |c| &mut c.grants,
        },
        Rule {
            table: "sessions",
            condition: "expires <= ?1",
            value: Some(now),
            count: |c| &mut c.sessions,
        },
    ]);
    rules
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::oauth::resource::Resources;
    use crate::oauth::scope::Scopes;
    use crate::secret::digest;
    use crate::store::apps::tests::valid_new_app;
    use crate::store::{GrantRef, NewTokens};

    /// Issues app `app` a new grant of `read`, without a user, with an access and a refresh
    /// token named `{name}-access` and `{name}-refresh`, issued at `now` and expiring at
    /// `expires`: the grant's id.
    pub(crate) fn issue_app_grant(
        store: &Store,
        app: i64,
        name: &str,
        now: i64,
        expires: i64,
    ) -> i64 {
        let scope = Scopes::parse("read").unwrap();
        let tokens = NewTokens {
            grant: GrantRef::New {
                application_id: app,
                user_id: None,
                scope: &scope,
                resources: &Resources::default(),
                auth_time: None,
            },
            access_digest: digest(&format!("{name}-access")),
            refresh_digest: Some(digest(&format!("{name}-refresh"))),
            scope: &scope,
            resources: &Resources::default(),
            now,
            expires,
        };
        store.issue_tokens(&tokens).unwrap().grant_id
    }

    /// `n` sessions named `{prefix}{i}` that expire at `expires`.
    fn sessions(store: &Store, prefix: &str, n: usize, expires: i64) {
        for i in 0..n {
            let id = digest(&format!("{prefix}{i}"));
            store.create_session(&id, None, "c", 0, expires).unwrap();
        }
    }

    #[test]
    fn expired_rows_go_in_batches_and_live_ones_stay() {
        let store = Store::open_in_memory().unwrap();
        sessions(&store, "old", BATCH * 2 + 1, 100);
        sessions(&store, "live", 3, 101);
        let cleared = store.clear_expired(100, None, &|| true).unwrap();
        assert_eq!(cleared.sessions, BATCH * 2 + 1);
        assert!(store.find_session(&digest("live0"), 100).unwrap().is_some());
        let again = store.clear_expired(100, None, &|| true).unwrap();
        assert_eq!(again, Cleared::default(), "nothing left to remove");
    }

    #[test]
    fn a_sweep_told_to_stop_ends_between_batches() {
        let store = Store::open_in_memory().unwrap();
        sessions(&store, "old", BATCH * 3, 100);
        let left = || -> i64 {
            let count = "SELECT count(*) FROM sessions";
            store.conn.query_row(count, [], |r| r.get(0)).unwrap()
        };
        let until_one_batch_is_left = || left() > 500;
        let cleared = store
            .clear_expired(100, None, &until_one_batch_is_left)
            .unwrap();
        assert_eq!(cleared.sessions, BATCH * 2, "two batches, then it stopped");
        assert_eq!(
            store.clear_expired(100, None, &|| false).unwrap().sessions,
            0
        );
        let rest = store.clear_expired(100, None, &|| true).unwrap();
        assert_eq!(rest.sessions, BATCH);
    }

    #[test]
    fn a_dead_family_goes_and_a_live_one_keeps_its_expired_access_token() {
        let store = Store::open_in_memory().unwrap();
        let app = store.create_app(&valid_new_app(), 1).unwrap();
        let family = |name: &str| issue_app_grant(&store, app, name, 10, 50);
        let (dead, live) = (family("dead"), family("live"));
        store.revoke_grant(dead, 20).unwrap();
        let cleared = store.clear_expired(100, None, &|| true).unwrap();
        let expected = Cleared {
            refresh_tokens: 1,
            grants: 1,
            ..Cleared::default()
        };
        assert_eq!(cleared, expected, "the dead family and its grant only");
        assert_eq!(store.live_refresh_tokens(live).unwrap(), 1);
        let held = store.find_access_token(&digest("live-access")).unwrap();
        assert!(held.is_some(), "a live refresh token holds it");
        let aged = store.clear_expired(100, Some(80), &|| true).unwrap();
        assert_eq!(
            (aged.refresh_tokens, aged.access_tokens, aged.grants),
            (1, 1, 1),
            "older than the refresh lifetime: the whole family goes"
        );
    }
}
