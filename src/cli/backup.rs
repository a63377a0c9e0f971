//! `backup PATH`: a consistent copy of the database while the server runs, and of the signing
//! key file beside it (`PATH.keys`), so that a restore is putting two files back.

use super::args::Args;
use super::{CliError, failed, usage};
use crate::oidc::keys::{key_file_beside, key_file_path};
use crate::settings::Settings;
use crate::store::{SCHEMA_VERSION, Store};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Writes the copy with `VACUUM INTO` (see [`Store::backup_into`]) through a read-only
/// connection, then the key file. In that
/// order: the key file is written before the row of a new key (`oidc::rotation`), so a key
/// file copied after the database holds every private key the copy names.
pub fn backup(
    mut args: Args,
    db: &Path,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let target = PathBuf::from(args.word("PATH")?);
    args.done()?;
    if target.as_os_str().is_empty() {
        return Err(usage("PATH is empty"));
    }
    if !db.exists() {
        return Err(failed(format!("no database at {}", db.display())));
    }
    let keys_target = key_file_beside(&target);
    for path in [&target, &keys_target] {
        if path.exists() {
            return Err(failed(format!(
                "{} already exists; a backup never overwrites",
                path.display()
            )));
        }
    }
    // Read only and as it is: a backup never migrates or otherwise writes the file it copies
    // (one taken before an upgrade keeps the old version, which `serve` brings up to date).
    let store = Store::open_read_only(db)?;
    let version = store.schema_version()?;
    let cannot_write =
        |e: &dyn std::fmt::Display| failed(format!("cannot write {}: {e}", target.display()));
    // The copy holds password hashes and digests: made empty and private first, since
    // `VACUUM INTO` would create it with the umask's mode (and it writes into an empty file).
    write_private(&target, &[]).map_err(|e| cannot_write(&e))?;
    if let Err(e) = store.backup_into(&target) {
        let _ = std::fs::remove_file(&target);
        return Err(cannot_write(&e));
    }
    writeln!(out, "database copied to {}", target.display())?;
    if version != SCHEMA_VERSION {
        writeln!(
            out,
            "the copy keeps the file's schema version {version} (this oauthd's is {SCHEMA_VERSION})"
        )?;
    }
    let keys = key_file_path(db, settings);
    match std::fs::read(&keys) {
        Ok(bytes) => {
            write_private(&keys_target, &bytes)
                .map_err(|e| failed(format!("cannot write {}: {e}", keys_target.display())))?;
            writeln!(out, "signing keys copied to {}", keys_target.display())?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            writeln!(out, "no signing key file at {} to copy", keys.display())?;
        }
        Err(e) => return Err(failed(format!("cannot read {}: {e}", keys.display()))),
    }
    Ok(())
}

/// A new file readable by its owner only (it holds private keys, or the database).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::file_at_version;

    /// Regression: backup opened the database through `Store::open`, which migrates it (and
    /// turns on WAL): a backup changed the file it copied.
    #[test]
    fn a_backup_leaves_an_older_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("old.sqlite3");
        drop(file_at_version(&db, 4));
        let before = std::fs::read(&db).unwrap();
        let target = dir.path().join("copy.sqlite3");
        let args = Args(vec![target.to_str().unwrap().to_owned()]);
        let settings = Settings::from_toml("").unwrap();
        let mut out = Vec::new();
        backup(args, &db, &settings, &mut out).unwrap();

        let unchanged = std::fs::read(&db).unwrap() == before;
        assert!(unchanged, "not a byte of the source changed");
        let version = |path: &Path| {
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
                .unwrap()
        };
        assert_eq!((version(&db), version(&target)), (4, 4));
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains(&format!(
                "schema version 4 (this oauthd's is {SCHEMA_VERSION})"
            )),
            "{out}"
        );
        assert!(!dir.path().join("old.sqlite3-wal").exists());
    }

    /// A file in WAL mode with no server running (no `-wal` or `-shm` beside it) is copied
    /// through the read-only connection too, and says nothing of versions.
    #[test]
    fn a_backup_reads_a_closed_wal_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db.sqlite3");
        let settings = Settings::from_toml("").unwrap();
        drop(Store::open(&db, settings.durability).unwrap());
        assert!(!dir.path().join("db.sqlite3-wal").exists());
        let target = dir.path().join("copy.sqlite3");
        let args = Args(vec![target.to_str().unwrap().to_owned()]);
        let mut out = Vec::new();
        backup(args, &db, &settings, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("schema version"), "{out}");
        let copy = Store::open(&target, settings.durability).unwrap();
        assert_eq!(copy.schema_version().unwrap(), SCHEMA_VERSION);
    }
}
