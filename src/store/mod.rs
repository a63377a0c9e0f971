//! The only module that speaks SQL: opening and migrating the database, transactions, and
//! methods named by intent (split by area into users, apps and tokens).

mod apps;
mod codes;
mod consents;
mod device_codes;
mod maintenance;
mod registration;
mod sessions;
mod signing_keys;
mod sweep;
mod token_views;
mod tokens;
mod users;

pub use apps::NewApplication;
pub(crate) use codes::NewCode;
pub(crate) use consents::RememberedConsent;
pub(crate) use device_codes::{DeviceDecision, NewDeviceCode};
pub use sessions::{Session, SessionUser};
pub(crate) use signing_keys::SigningKeyRow;
pub use token_views::{Holder, TokenView};
pub(crate) use tokens::{GrantRef, NewTokens};
pub(crate) use users::{NewUser, UserView};

use crate::oauth::resource::Resources;
use crate::settings::Durability;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// The schema as versioned sections (see the head of schema.sql).
const SCHEMA: &str = include_str!("../../schema.sql");
/// The schema version this build reads and writes: the last section of schema.sql.
pub const SCHEMA_VERSION: i64 = 13;
/// Whether an application (aliased `app`, its owner LEFT JOINed as `owner`) may be used: its
/// owner's switch is on, no administrator disabled it, and its owner, if any, is active.
const APP_USABLE: &str =
    "(app.enabled AND NOT app.disabled_by_admin AND COALESCE(owner.is_active, 1))";
/// The join that [`APP_USABLE`] needs.
const JOIN_APP_OWNER: &str = "LEFT JOIN users owner ON owner.id = app.owner_id";
/// The start of the line that opens each section of schema.sql.
const SECTION_MARK: &str = "\n-- version ";
/// Page cache per connection, as SQLite's negative `cache_size`: KiB.
const PAGE_CACHE_KIB: i64 = -1024;
/// How long a writer waits for another connection's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A database failure. Never turned into "not found"; it becomes a 500 at the edge.
#[derive(Debug)]
pub enum StoreError {
    /// SQLite reported an error.
    Sqlite(rusqlite::Error),
    /// The file was written by a newer oauthd, whose schema this build does not know.
    NewerSchema(i64),
    /// The file cannot be written (SQLite opened it read-only).
    ReadOnly,
    /// `PRAGMA quick_check` found damage; its first findings.
    Damaged(String),
    /// A path SQLite must be given as text is not UTF-8.
    NotUtf8Path,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Sqlite(e) => write!(f, "database error: {e}"),
            StoreError::NewerSchema(v) => {
                write!(
                    f,
                    "the database has schema version {v}; this oauthd knows up to {SCHEMA_VERSION}"
                )
            }
            StoreError::ReadOnly => write!(
                f,
                "the database cannot be written (a write-protected file or directory, or a \
                 read-only file system)"
            ),
            StoreError::Damaged(problems) => write!(
                f,
                "the database is damaged ({problems}); restore it from a backup"
            ),
            StoreError::NotUtf8Path => write!(f, "the path is not UTF-8"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}

/// One connection to the oauthd database; each worker thread owns one.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the database file, sets WAL, foreign keys, the busy timeout
    /// and the synchronous mode for `durability`, and brings the schema up to date.
    pub fn open(path: &Path, durability: Durability) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        // First, so that opening while another process writes waits instead of failing.
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Store::configure(conn, durability)
    }

    /// Opens the file to read it only, as it is: no migration, no change of journal mode,
    /// nothing written (`oauthd backup` must leave the file it copies untouched).
    pub(crate) fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(Store { conn })
    }

    /// An in-memory database, for tests.
    #[cfg(test)]
    pub(crate) fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Store::configure(conn, Durability::Full)
    }

    fn configure(conn: Connection, durability: Durability) -> Result<Store, StoreError> {
        let synchronous = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", synchronous)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // 1 MiB of page cache per connection (SQLite's default is 2 MiB): lookups touch a few
        // index pages each, and the OS caches the file anyway; it keeps the server under 30 MB.
        conn.pragma_update(None, "cache_size", PAGE_CACHE_KIB)?;
        // The query planner stability guarantee: a cached statement keeps its plan. Without it,
        // rusqlite's clear_bindings on every return to the statement cache makes SQLite re-plan
        // the token lookups on every request (half the validation path's CPU, measured).
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        let store = Store { conn };
        store.migrate()?;
        Ok(store)
    }

    /// Brings the file to [`SCHEMA_VERSION`]: runs, in order and each in its own transaction,
    /// the sections of schema.sql after the file's `user_version`; refuses a newer file.
    fn migrate(&self) -> Result<(), StoreError> {
        for (version, sql) in schema_sections() {
            self.immediate(|store| -> Result<(), StoreError> {
                match store.schema_version()? {
                    current if current + 1 == version => Ok(store.conn.execute_batch(sql)?),
                    _ => Ok(()),
                }
            })?;
        }
        match self.schema_version()? {
            newer if newer > SCHEMA_VERSION => Err(StoreError::NewerSchema(newer)),
            _ => Ok(()),
        }
    }

    /// The `user_version` recorded in the file.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?)
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so a
    /// read-check-write cannot interleave with another writer. Commits when `work` returns `Ok`
    /// (an `Ok` may carry a protocol error whose side effects must stick, such as a family
    /// revocation); rolls back on `Err` or on a panic.
    pub(crate) fn immediate<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&Store) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let out = work(self)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    /// `PRAGMA integrity_check` answers "ok".
    #[cfg(test)]
    pub(crate) fn integrity_ok(&self) -> Result<bool, StoreError> {
        let answer: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
        Ok(answer == "ok")
    }
}

/// The SQL of a row's public id (schema version 8): its row id and its salt as 32 hex digits.
fn public_id_sql(alias: &str) -> String {
    format!("printf('%016x%016x', {alias}.id, {alias}.salt)")
}

/// The row id and salt a public id names; `None` for anything that is not 32 lowercase hex
/// digits.
fn parse_public_id(public_id: &str) -> Option<(i64, i64)> {
    let half = |digits: &str| -> Option<i64> {
        let lowercase_hex = digits
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let value = u64::from_str_radix(digits, 16)
            .ok()
            .filter(|_| lowercase_hex)?;
        Some(i64::from_ne_bytes(value.to_ne_bytes()))
    };
    match (public_id.len(), public_id.split_at_checked(16)) {
        (32, Some((id, salt))) => Some((half(id)?, half(salt)?)),
        _ => None,
    }
}

/// The sections of schema.sql as (version, SQL), in file order.
fn schema_sections() -> impl Iterator<Item = (i64, &'static str)> {
    SCHEMA.split(SECTION_MARK).skip(1).filter_map(|section| {
        let (heading, sql) = section.split_once('\n')?;
        let number = heading.split(|c: char| !c.is_ascii_digit()).next()?;
        Some((number.parse().ok()?, sql))
    })
}

/// Parses column `index`'s text; a value that does not parse is an error, never a
/// permissive default (a corrupt client_type must not become "public").
fn parsed<T>(index: usize, text: &str, parse: impl Fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    parse(text).ok_or_else(|| {
        let why = format!("column {index} holds an unreadable value");
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, why.into())
    })
}

/// The resource indicators (RFC 8707) of column `index` (NULL: none).
fn resources_at(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Resources> {
    let text: Option<String> = row.get(index)?;
    Ok(Resources::from_stored(text.as_deref()))
}

/// Joins names for a space-separated column.
fn join<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    items
        .into_iter()
        .map(|s| s.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rusqlite::params;

    #[test]
    fn schema_applies_to_an_empty_file_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fresh.sqlite3");
        {
            let store = Store::open(&path, Durability::Full).unwrap();
            assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
            users::tests::add_user(&store, "bob\"e'i;--ü");
        }
        let store = Store::open(&path, Durability::Normal).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(
            store
                .find_user_by_username("bob\"e'i;--ü")
                .unwrap()
                .unwrap()
                .username,
            "bob\"e'i;--ü"
        );
        assert!(store.integrity_ok().unwrap());
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn schema_sections_count_up_to_the_schema_version() {
        let versions: Vec<i64> = schema_sections().map(|(v, _)| v).collect();
        assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
        for (version, sql) in schema_sections() {
            assert!(
                sql.contains(&format!("PRAGMA user_version = {version};")),
                "section {version}"
            );
        }
    }

    #[test]
    fn a_version_1_file_is_migrated_and_keeps_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            let (_, v1) = schema_sections().next().unwrap();
            conn.execute_batch(v1).unwrap();
            conn.execute(
                "INSERT INTO users (username, password_hash, created) VALUES (?1, 'h', 1)",
                ["bob\"e'i;--ü"],
            )
            .unwrap();
            // Before version 4 only administrators disabled apps, with `enabled`.
            conn.execute_batch(
                "INSERT INTO applications (client_id, name, client_type, grant_types, enabled, created)
                 VALUES ('on', 'On', 'public', 'password', 1, 1), ('off', 'Off', 'public', 'password', 0, 1)",
            )
            .unwrap();
            assert_eq!(
                conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
                    .unwrap(),
                1
            );
        }
        let store = Store::open(&path, Durability::Full).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert!(
            store
                .find_user_by_username("bob\"e'i;--ü")
                .unwrap()
                .is_some()
        );
        let sessions: i64 = store
            .conn
            .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sessions, 0);
        let state = |client_id| {
            let app = store.find_app_by_client_id(client_id).unwrap().unwrap();
            (app.fields.enabled, app.disabled_by_admin, app.usable)
        };
        assert_eq!(state("on"), (true, false, true));
        assert_eq!(
            state("off"),
            (true, true, false),
            "now the administrator's switch"
        );
        assert!(store.integrity_ok().unwrap());
    }

    /// A database file as an older oauthd left it: the schema up to `version`.
    pub(crate) fn file_at_version(path: &Path, version: i64) -> Connection {
        let conn = Connection::open(path).unwrap();
        for (_, sql) in schema_sections().take_while(|(v, _)| *v <= version) {
            conn.execute_batch(sql).unwrap();
        }
        conn
    }

    #[test]
    fn a_version_4_file_gives_its_users_subjects_and_verifies_their_emails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v4.sqlite3");
        {
            let conn = file_at_version(&path, 4);
            conn.execute_batch(
                "INSERT INTO users (username, email, password_hash, created)
                 VALUES ('bob', 'b@example.com', 'h', 1), ('eve', '', 'h', 1)",
            )
            .unwrap();
        }
        let store = Store::open(&path, Durability::Full).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let user = |name| store.find_user_by_username(name).unwrap().unwrap();
        let (bob, eve) = (user("bob"), user("eve"));
        for subject in [&bob.subject, &eve.subject] {
            assert!(users::tests::is_subject(subject), "{subject}");
        }
        assert_ne!(bob.subject, eve.subject);
        assert_eq!(
            (bob.email_verified, eve.email_verified, bob.name.as_str()),
            (false, false, ""),
            "an address from before cannot say who set it"
        );
        let new = users::tests::add_user(&store, "mallory");
        let mallory = store.find_user(new).unwrap().unwrap();
        assert!(mallory.subject != bob.subject && mallory.subject != eve.subject);
        assert!(store.integrity_ok().unwrap());
    }

    #[test]
    fn a_version_5_file_with_names_differing_in_case_migrates_and_reports_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.sqlite3");
        {
            let conn = file_at_version(&path, 5);
            conn.execute_batch(
                "INSERT INTO users (username, password_hash, created)
                 VALUES ('alice', 'h1', 1), ('Alice', 'h2', 1), ('bob\"e''i;--ü', 'h3', 1)",
            )
            .unwrap();
        }
        let store = Store::open(&path, Durability::Full).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(
            store.username_clashes().unwrap(),
            vec![vec!["Alice".to_owned(), "alice".to_owned()]]
        );
        let hash = |name| {
            store
                .find_user_by_username(name)
                .unwrap()
                .map(|u| u.password_hash)
        };
        assert_eq!(
            (hash("alice"), hash("Alice"), hash("ALICE")),
            (Some("h1".into()), Some("h2".into()), None),
            "each by their exact name; no guess between them"
        );
        assert_eq!(hash("BOB\"E'I;--ü").as_deref(), Some("h3"));
        assert_eq!(
            store
                .create_user(&users::tests::valid_new_user("ALICE"), 2)
                .unwrap(),
            None,
            "no new clash"
        );
        let alice = store.find_user_by_username("alice").unwrap().unwrap();
        store.immediate(|s| s.remove_user(alice.id)).unwrap();
        assert_eq!(store.username_clashes().unwrap(), Vec::<Vec<String>>::new());
        assert_eq!(hash("ALICE").as_deref(), Some("h2"), "now unambiguous");
        assert!(store.integrity_ok().unwrap());
    }

    #[test]
    fn a_version_5_file_keeps_its_refresh_tokens_and_gives_old_retirements_no_grace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.sqlite3");
        let (live, retired) = (crate::secret::digest("live"), crate::secret::digest("old"));
        {
            let conn = file_at_version(&path, 5);
            conn.execute_batch(
                "INSERT INTO applications (id, client_id, name, client_type, grant_types, created)
                     VALUES (1, 'c', 'C', 'public', 'password', 1);
                 INSERT INTO grants (id, application_id, scope, created) VALUES (1, 1, 'read', 1);",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO refresh_tokens (token_hash, grant_id, created, revoked)
                 VALUES (?1, 1, 1, 2), (?2, 1, 2, NULL)",
                params![retired, live],
            )
            .unwrap();
        }
        let store = Store::open(&path, Durability::Full).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let found = |digest| store.find_refresh_token(&digest).unwrap().unwrap();
        let (old, current) = (found(retired), found(live));
        assert_eq!((old.revoked, old.live_successor), (Some(2), None));
        assert_eq!((current.revoked, current.live_successor), (None, None));
        assert_eq!(store.live_refresh_tokens(1).unwrap(), 1);
        assert!(store.integrity_ok().unwrap());
    }

    #[test]
    fn a_version_5_file_gives_its_apps_and_grants_public_ids_that_are_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.sqlite3");
        {
            let conn = file_at_version(&path, 5);
            conn.execute_batch(
                "INSERT INTO applications (client_id, name, client_type, grant_types, created)
                 VALUES ('one', 'bob\"e''i;--ü', 'public', 'password', 1),
                        ('two', 'Two', 'public', 'password', 1);
                 INSERT INTO grants (application_id, scope, created) VALUES (1, 'read', 1), (2, 'read', 1);
                 INSERT INTO access_tokens (token_hash, grant_id, scope, created, expires)
                 VALUES (x'01', 1, 'read', 1, 99), (x'02', 2, 'read', 1, 99);",
            )
            .unwrap();
        }
        let store = Store::open(&path, Durability::Full).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let app = |client_id| store.find_app_by_client_id(client_id).unwrap().unwrap();
        let (one, two) = (app("one"), app("two"));
        assert_eq!(one.fields.name, "bob\"e'i;--ü", "the data is kept");
        let grants = store.token_views(Holder::Anyone, 10).unwrap();
        let mut ids: Vec<&str> = grants.iter().map(|g| g.public_id.as_str()).collect();
        ids.extend([one.public_id.as_str(), two.public_id.as_str()]);
        for id in &ids {
            assert!(users::tests::is_subject(id), "32 hex digits: {id}");
        }
        let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), 4, "{ids:?}");
        assert_eq!(
            store.find_app_by_public_id(&two.public_id).unwrap(),
            Some(two.clone())
        );

        // The newest app deleted, the next one gets its row id back but not its public id.
        assert!(store.delete_app(two.id).unwrap());
        let three = store.create_app(&apps::tests::valid_new_app(), 2).unwrap();
        assert_eq!(three, two.id, "SQLite reuses the row id");
        let three = store.find_app(three).unwrap().unwrap();
        assert!(users::tests::is_subject(&three.public_id));
        assert_ne!(three.public_id, two.public_id);
        assert_eq!(store.find_app_by_public_id(&two.public_id).unwrap(), None);
        assert!(store.integrity_ok().unwrap());
    }

    #[test]
    fn a_version_5_file_with_data_learns_to_remember_consent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.sqlite3");
        {
            let conn = file_at_version(&path, 5);
            conn.execute_batch(
                "INSERT INTO users (username, password_hash, created) VALUES ('bob', 'h', 1);
                 INSERT INTO applications (client_id, name, client_type, grant_types, created)
                 VALUES ('c', 'App', 'public', 'authorization-code', 1);
                 INSERT INTO sessions (id_hash, user_id, csrf_token, created, expires, auth_time)
                 VALUES (x'00', 1, 't', 1, 99, 1);",
            )
            .unwrap();
        }
        let store = Store::open(&path, Durability::Full).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let bob = store.find_user_by_username("bob").unwrap().unwrap();
        let app = store.find_app_by_client_id("c").unwrap().unwrap();
        let read = crate::oauth::scope::Scopes::parse("read").unwrap();
        store.remember_consent(bob.id, app.id, &read, 2).unwrap();
        assert_eq!(store.remembered_scopes(bob.id, app.id).unwrap(), [read]);
        let sessions: i64 = store
            .conn
            .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sessions, 1, "the session is kept");
        assert!(store.integrity_ok().unwrap());
    }

    /// `successor_id` is no foreign key: a number that now names a token of another grant (the
    /// successor was swept and SQLite reused its id) never counts as a live successor.
    #[test]
    fn only_a_live_token_of_the_same_grant_is_a_live_successor() {
        let store = Store::open_in_memory().unwrap();
        let [same, other, live, elsewhere] =
            ["same", "other", "live", "elsewhere"].map(crate::secret::digest);
        store
            .conn
            .execute_batch(
                "INSERT INTO applications (id, client_id, name, client_type, grant_types, created)
                     VALUES (1, 'c', 'C', 'public', 'password', 1);
                 INSERT INTO grants (id, application_id, scope, created)
                     VALUES (1, 1, 'read', 1), (2, 1, 'read', 1);",
            )
            .unwrap();
        store
            .conn
            .execute(
                "INSERT INTO refresh_tokens (id, token_hash, grant_id, created, revoked, successor_id)
                 VALUES (12, ?1, 1, 2, NULL, NULL), (20, ?2, 2, 2, NULL, NULL),
                        (10, ?3, 1, 1, 2, 12), (11, ?4, 1, 1, 2, 20)",
                params![live, elsewhere, same, other],
            )
            .unwrap();
        let successor = |digest| {
            store
                .find_refresh_token(&digest)
                .unwrap()
                .unwrap()
                .live_successor
        };
        assert_eq!(successor(same), Some(12));
        assert_eq!(successor(other), None, "token 20 is another grant's");
    }

    #[test]
    fn a_public_id_is_the_row_id_and_the_salt_in_lowercase_hex() {
        let store = Store::open_in_memory().unwrap();
        for (id, salt) in [(1, 0), (7, -3), (i64::MAX, i64::MIN)] {
            let sql = format!(
                "SELECT {} FROM (SELECT ?1 AS id, ?2 AS salt) AS r",
                public_id_sql("r")
            );
            let public: String = store
                .conn
                .query_row(&sql, [id, salt], |r| r.get(0))
                .unwrap();
            assert_eq!(public.len(), 32, "{public}");
            assert_eq!(parse_public_id(&public), Some((id, salt)), "{public}");
        }
        let upper = "0000000000000007FFFFFFFFFFFFFFFD";
        for bad in [
            upper,
            "7",
            "00000000000000070000000000000003x",
            "+000000000000007000000000000003",
        ] {
            assert_eq!(parse_public_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("newer.sqlite3");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(matches!(
            Store::open(&path, Durability::Full),
            Err(StoreError::NewerSchema(99))
        ));
    }

    #[test]
    fn immediate_rolls_back_on_error() {
        let store = Store::open_in_memory().unwrap();
        let result: Result<(), StoreError> = store.immediate(|s| {
            s.create_user(&users::tests::valid_new_user("alice"), 1)?;
            Err(StoreError::NewerSchema(0))
        });
        assert!(result.is_err());
        assert_eq!(store.find_user_by_username("alice").unwrap(), None);
    }
}
