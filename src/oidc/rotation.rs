//! Making signing keys: the first key at first start (or adopting one the key file holds),
//! and `oauthd keys rotate`. The key file is always written before the database row that
//! needs it, inside the IMMEDIATE transaction that writes the row, so that processes sharing
//! the database take turns and a crash never leaves a current key without its private half.

use super::jwk;
use super::jws::RS256;
use super::key_file::{self, FileProblem, StoredKey};
use super::keys::{Advice, KEY_BITS, KeyError};
use crate::store::Store;
use rand::rngs::SysRng;
use rsa::PrivateKey;
use std::path::Path;

/// A new key, named by its RFC 7638 thumbprint.
pub(crate) fn generate() -> Result<StoredKey, KeyError> {
    let key = PrivateKey::new(&mut SysRng, KEY_BITS).map_err(KeyError::Crypto)?;
    Ok(StoredKey {
        kid: jwk::thumbprint(&key),
        key,
    })
}

fn write_file(file: &Path, keys: &[&StoredKey]) -> Result<(), KeyError> {
    key_file::write(file, keys).map_err(|error| KeyError::Write {
        path: file.to_owned(),
        error,
    })
}

/// Adds `key` to the table as the current key, with its public JWK.
fn add_current(store: &Store, key: &StoredKey, now: i64) -> Result<bool, KeyError> {
    let public = jwk::public_jwk(&key.key, &key.kid).to_string();
    Ok(store.add_current_signing_key(&key.kid, RS256, &public, now)?)
}

/// When the table has no current key: the newest key of the file that the table does not list
/// becomes current (a first start that stopped between writing the file and the row, or a key
/// file prepared beforehand), else a new key is written to the file and then to the table. One
/// IMMEDIATE transaction around the file and the row, so that two processes starting at once
/// end with one current key; the loser finds the winner's.
pub(crate) fn ensure_current_key(store: &Store, file: &Path, now: i64) -> Result<(), KeyError> {
    if store.current_signing_key()?.is_some() {
        return Ok(());
    }
    let readable = |problem| KeyError::KeyFile {
        path: file.to_owned(),
        problem,
        advice: Advice::MoveAway,
    };
    let file_keys = |store: &Store| -> Result<(Vec<StoredKey>, Option<usize>), KeyError> {
        let keys = match key_file::read(file) {
            Ok(keys) => keys,
            Err(FileProblem::Missing) => Vec::new(),
            Err(problem) => return Err(readable(problem)),
        };
        let mut unlisted = None;
        for (i, key) in keys.iter().enumerate() {
            if store.signing_key(&key.kid)?.is_none() {
                unlisted = Some(i);
            }
        }
        Ok((keys, unlisted))
    };
    // Generating takes a moment: before the write lock, unless the file has a key to adopt.
    let fresh = match file_keys(store)? {
        (_, Some(_)) => None,
        (_, None) => Some(generate()?),
    };
    store.immediate(|s| -> Result<(), KeyError> {
        if s.current_signing_key()?.is_some() {
            return Ok(());
        }
        let (keys, unlisted) = file_keys(s)?;
        match (unlisted.and_then(|i| keys.get(i)), fresh) {
            (Some(adopted), _) => {
                add_current(s, adopted, now)?;
            }
            (None, fresh) => {
                let fresh = match fresh {
                    Some(key) => key,
                    None => generate()?,
                };
                // The file first: a row whose private half is nowhere would stop every start.
                // Keys the table lists already are retired; their private halves can go.
                write_file(file, &[&fresh])?;
                add_current(s, &fresh, now)?;
            }
        }
        Ok(())
    })
}

/// What [`rotate`] did.
#[derive(Debug)]
pub struct Rotation {
    /// The new current key.
    pub kid: String,
    /// The key it replaced, now retired (published until `now + id_token_expire_seconds`).
    pub retired: Option<String>,
    /// Retired keys deleted because their publication window had passed.
    pub deleted: usize,
    /// Things the operator should know (the old key's private half was missing, ...).
    pub warnings: Vec<String>,
}

/// `oauthd keys rotate`: a new key becomes current and the current one is retired at `now`.
/// The file is written first, holding the new key next to the one still signing; then, in
/// one IMMEDIATE transaction, the old row is retired, rows whose window (`window` seconds
/// after retirement) has passed are deleted and the new row is inserted; last, the file is
/// written again with the new key alone. A crash at any point leaves a file that serves the
/// database's current key. Also the way out when the key file was lost.
pub fn rotate(store: &Store, file: &Path, window: i64, now: i64) -> Result<Rotation, KeyError> {
    let fresh = generate()?;
    let mut warnings = Vec::new();
    let (retired, deleted) = store.immediate(|s| -> Result<_, KeyError> {
        let current = s.current_signing_key()?.map(|row| row.kid);
        let mut keep = None;
        match key_file::read_any_mode(file) {
            Ok((keys, mode)) => {
                if mode & 0o077 != 0 {
                    warnings.push(format!(
                        "the old key file had mode {mode:04o}: if others could read it, \
                         its keys may have leaked"
                    ));
                }
                keep = keys.into_iter().find(|k| Some(&k.kid) == current.as_ref());
            }
            Err(FileProblem::Missing) => {}
            Err(problem) => {
                return Err(KeyError::KeyFile {
                    path: file.to_owned(),
                    problem,
                    advice: Advice::MoveAway,
                });
            }
        }
        if let (Some(kid), None) = (&current, &keep) {
            warnings.push(format!(
                "the key file had no private key for {kid}, which could not sign any more"
            ));
        }
        write_file(file, &keep.iter().chain([&fresh]).collect::<Vec<_>>())?;
        let retired = s.retire_current_signing_key(now)?;
        let deleted = s.delete_expired_signing_keys(now, window)?;
        if !add_current(s, &fresh, now)? {
            return Err(KeyError::Refused(fresh.kid.clone()));
        }
        Ok((retired, deleted))
    })?;
    // Committed: the retired key's private half is needed no more — unless another rotation
    // has meanwhile made its own key current, whose file must not be overwritten; so under the
    // write lock, and only while this key is still the current one.
    let cleanup = store.immediate(|s| -> Result<(), KeyError> {
        let still_current = s
            .current_signing_key()?
            .is_some_and(|row| row.kid == fresh.kid);
        if still_current {
            write_file(file, &[&fresh])?;
        }
        Ok(())
    });
    if let Err(e) = cleanup {
        warnings.push(format!("the retired key stays in the key file: {e}"));
    }
    Ok(Rotation {
        kid: fresh.kid,
        retired,
        deleted,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::keys::SigningKeys;
    use crate::oidc::keys::tests::rfc_setup;
    use serde_json::json;

    #[test]
    fn rotation_replaces_a_lost_key_file_and_refuses_a_foreign_one() {
        let (_dir, file, store) = rfc_setup();
        SigningKeys::open(&store, file.clone(), 600, 100).unwrap();
        std::fs::remove_file(&file).unwrap();
        let rotation = rotate(&store, &file, 600, 200).unwrap();
        assert_eq!(rotation.warnings.len(), 1, "{:?}", rotation.warnings);
        let keys = SigningKeys::open(&store, file.clone(), 600, 200).unwrap();
        assert!(keys.sign(&store, &json!({})).is_ok());

        std::fs::write(&file, "precious = true\n").unwrap();
        let err = rotate(&store, &file, 600, 300).unwrap_err();
        assert!(err.to_string().contains("move it away"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "precious = true\n",
            "left alone"
        );
        assert_eq!(
            store.current_signing_key().unwrap().unwrap().kid,
            rotation.kid,
            "nothing rotated"
        );
    }

    #[test]
    fn two_processes_starting_at_once_end_with_one_current_key() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("oauthd.sqlite3");
        let file = dir.path().join("oauthd.sqlite3.keys");
        let durability = crate::settings::Durability::Full;
        // Created and migrated first: only the key set-up races.
        drop(Store::open(&db, durability).unwrap());
        let barrier = std::sync::Barrier::new(2);
        let kids: Vec<String> = std::thread::scope(|scope| {
            let starts: Vec<_> = (0..2)
                .map(|_| {
                    let (db, file, barrier) = (&db, file.clone(), &barrier);
                    scope.spawn(move || {
                        // A connection of its own, as another process would have.
                        let store = Store::open(db, durability).unwrap();
                        barrier.wait();
                        let keys = SigningKeys::open(&store, file, 600, 100).unwrap();
                        let token = keys.sign(&store, &json!({})).unwrap();
                        crate::oidc::jws::parse(&token).unwrap().kid.unwrap()
                    })
                })
                .collect();
            starts.into_iter().map(|s| s.join().unwrap()).collect()
        });
        assert_eq!(kids[0], kids[1], "both sign with the one current key");
        let rows = Store::open(&db, durability)
            .unwrap()
            .list_signing_keys()
            .unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        let in_file = key_file::read(&file).unwrap();
        assert_eq!(in_file.len(), 1);
        assert_eq!(in_file[0].kid, kids[0]);
    }

    #[test]
    fn the_first_rotation_of_an_empty_database_retires_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys");
        let store = Store::open_in_memory().unwrap();
        let rotation = rotate(&store, &file, 600, 100).unwrap();
        assert_eq!((rotation.retired, rotation.deleted), (None, 0));
        assert!(rotation.warnings.is_empty(), "{:?}", rotation.warnings);
        let row = store.current_signing_key().unwrap().unwrap();
        assert_eq!(row.kid, rotation.kid);
        assert_eq!(
            row.kid,
            jwk::thumbprint(&key_file::read(&file).unwrap()[0].key)
        );
    }
}
