//! `backup PATH`: a consistent copy of the database while the server runs, and of the signing
//! key file beside it (`PATH.keys`), so that a restore is putting two files back.

use super::args::Args;
use super::{CliError, failed, usage};
use crate::oidc::keys::{key_file_beside, key_file_path};
use crate::settings::Settings;
use crate::store::Store;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Writes the copy with `VACUUM INTO` (see [`Store::backup_into`]), then the key file. In that
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
    let store = Store::open(db, settings.durability)?;
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
