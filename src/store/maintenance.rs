//! Looking after the file itself: whether it can be served (writable, intact), its size, and
//! consistent backups while the server writes.

use super::{Store, StoreError};
use rusqlite::MAIN_DB;
use std::path::Path;

/// What `PRAGMA quick_check` reports at most, so that a badly damaged file gives a short message.
const PROBLEMS_SHOWN: usize = 3;

impl Store {
    /// Proves that this connection can write: SQLite quietly opens a write-protected file
    /// read-only, and then every write fails. Writes a scratch table in a transaction and
    /// rolls it back, so the file is left as it was.
    pub(crate) fn check_writable(&self) -> Result<(), StoreError> {
        if self.conn.is_readonly(MAIN_DB)? {
            return Err(StoreError::ReadOnly);
        }
        let probe = self.conn.unchecked_transaction()?;
        probe
            .execute_batch("CREATE TABLE oauthd_write_probe (x); DROP TABLE oauthd_write_probe")?;
        probe.rollback()?;
        Ok(())
    }

    /// `PRAGMA quick_check`: the b-trees and records are well formed (it skips the index
    /// contents `integrity_check` compares, and reads every page once). `Err(Damaged)` with
    /// the first problems SQLite names.
    pub fn quick_check(&self) -> Result<(), StoreError> {
        let mut statement = self.conn.prepare("PRAGMA quick_check")?;
        let answers = statement
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        match answers.as_slice() {
            [ok] if ok == "ok" => Ok(()),
            problems => {
                // SQLite may put several findings in one answer, under a heading line.
                let first: Vec<&str> = problems
                    .iter()
                    .flat_map(|answer| answer.lines())
                    .filter(|line| !line.starts_with("***"))
                    .take(PROBLEMS_SHOWN)
                    .collect();
                Err(StoreError::Damaged(format!(
                    "PRAGMA quick_check: {}",
                    first.join("; ")
                )))
            }
        }
    }

    /// The file's size in bytes as SQLite counts it (pages times page size; the write-ahead
    /// log not included).
    pub fn database_bytes(&self) -> Result<i64, StoreError> {
        let pages: i64 = self
            .conn
            .pragma_query_value(None, "page_count", |r| r.get(0))?;
        let page_size: i64 = self
            .conn
            .pragma_query_value(None, "page_size", |r| r.get(0))?;
        Ok(pages.saturating_mul(page_size))
    }

    /// Writes a consistent, compacted copy of the database to `target` with `VACUUM INTO`:
    /// one read transaction, so commits made meanwhile (by this or other processes) are
    /// either wholly in the copy or not at all, and what sits in the write-ahead log is
    /// included. `target` must not exist.
    pub(crate) fn backup_into(&self, target: &Path) -> Result<(), StoreError> {
        let target = target.to_str().ok_or(StoreError::NotUtf8Path)?;
        self.conn.execute("VACUUM INTO ?1", [target])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::users::tests::add_user;
    use super::*;
    use crate::settings::Durability;

    #[test]
    fn a_fresh_file_is_writable_intact_and_unchanged_by_the_probe() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), Durability::Full).unwrap();
        let before = store.database_bytes().unwrap();
        store.check_writable().unwrap();
        store.quick_check().unwrap();
        assert!(before >= 4096, "{before}");
        assert_eq!(store.database_bytes().unwrap(), before);
        let tables: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'oauthd_write_probe'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0, "the probe is rolled back");
    }

    #[test]
    fn a_backup_holds_the_rows_and_refuses_an_existing_target() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), Durability::Full).unwrap();
        add_user(&store, "bob\"e'i;--ü");
        let target = dir.path().join("copy of 'db'");
        store.backup_into(&target).unwrap();
        let copy = Store::open(&target, Durability::Full).unwrap();
        assert!(
            copy.find_user_by_username("bob\"e'i;--ü")
                .unwrap()
                .is_some()
        );
        copy.quick_check().unwrap();
        assert!(store.backup_into(&target).is_err(), "never overwrites");
    }

    #[test]
    fn a_read_only_connection_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        drop(Store::open(&path, Durability::Full).unwrap());
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let conn = rusqlite::Connection::open_with_flags(&path, flags).unwrap();
        let store = Store { conn };
        assert!(matches!(store.check_writable(), Err(StoreError::ReadOnly)));
    }
}
