//! The id_token signing keys: one current RSA key signs; a retired key stays published in the
//! JWKS until the id_tokens it signed have expired (RFC 7517; OIDC Core §10.1). The public
//! halves are rows of `signing_keys`; the private halves live in the key file (`key_file`),
//! never in the database. Every worker shares one [`SigningKeys`], which follows a rotation
//! made by another process (`oauthd keys rotate`) without a restart.

use super::jwk::{self, BadJwk};
use super::jws::{self, RS256};
pub use super::key_file::FileProblem;
use super::key_file::{self, StoredKey};
use super::rotation::ensure_current_key;
use crate::settings::Settings;
use crate::store::{SigningKeyRow, Store, StoreError};
use serde_json::{Map, Value, json};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// The modulus size of a new key. 2048 bits is what RS256 requires at least (RFC 7518 §3.3)
/// and what relying parties expect.
pub(crate) const KEY_BITS: usize = 2048;

/// What to do about a key file that cannot serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Advice {
    /// The database's current key (this kid) needs its private half back, or a new key.
    RestoreOrRotate(String),
    /// oauthd does not overwrite a file it cannot read as its key file.
    MoveAway,
    /// The problem says it all.
    None,
}

/// Why signing keys could not be set up, loaded or used.
#[derive(Debug)]
pub enum KeyError {
    /// The database failed.
    Store(StoreError),
    /// The key file cannot give what is needed.
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: FileProblem,
        /// What the operator can do.
        advice: Advice,
    },
    /// The key file could not be written.
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The database names no current key (start-up makes one).
    NoCurrentKey,
    /// The database refused a new current key with this id.
    Refused(String),
    /// A public key in the database cannot be read.
    BadPublicKey(String, BadJwk),
    /// Key generation or a signature failed.
    Crypto(rsa::Error),
    /// The claims to sign are not a JSON object (RFC 7519 §7.2).
    NotAnObject,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Store(e) => write!(f, "{e}"),
            KeyError::KeyFile {
                path,
                problem,
                advice,
            } => {
                write!(f, "signing key file {}: {problem}", path.display())?;
                match advice {
                    Advice::RestoreOrRotate(kid) => write!(
                        f,
                        ". The database's current signing key is {kid}: restore the key file \
                         from the backup taken with the database, or run `oauthd keys rotate` \
                         to make a new key (id_tokens the old key signed still verify until \
                         they expire)"
                    ),
                    Advice::MoveAway => f.write_str(
                        ". oauthd does not overwrite a file it cannot read as its key file: \
                         move it away, or set `signing_key_file` to another path",
                    ),
                    Advice::None => Ok(()),
                }
            }
            KeyError::Write { path, error } => {
                write!(
                    f,
                    "cannot write signing key file {}: {error}",
                    path.display()
                )
            }
            KeyError::NoCurrentKey => f.write_str("the database has no current signing key"),
            KeyError::Refused(kid) => {
                write!(f, "the database refused the new signing key {kid}")
            }
            KeyError::BadPublicKey(kid, why) => {
                write!(f, "the database's public key {kid} is unreadable: {why}")
            }
            KeyError::Crypto(e) => write!(f, "RSA failed: {e}"),
            KeyError::NotAnObject => f.write_str("id_token claims must be a JSON object"),
        }
    }
}

impl std::error::Error for KeyError {}

impl From<StoreError> for KeyError {
    fn from(e: StoreError) -> Self {
        KeyError::Store(e)
    }
}

/// The key file of a database: the `signing_key_file` setting, else the database path with
/// `.keys` appended (`oauthd.sqlite3.keys`).
pub fn key_file_path(db_path: &Path, settings: &Settings) -> PathBuf {
    settings
        .signing_key_file
        .clone()
        .unwrap_or_else(|| key_file_beside(db_path))
}

/// `DB.keys`: where the key file of the database `db_path` goes unless configured elsewhere.
pub(crate) fn key_file_beside(db_path: &Path) -> PathBuf {
    let mut path = db_path.as_os_str().to_owned();
    path.push(".keys");
    PathBuf::from(path)
}

/// The signing keys, shared by every worker: signs id_tokens with the current key, publishes
/// the JWKS and checks tokens we signed.
pub struct SigningKeys {
    file: PathBuf,
    /// `id_token_expire_seconds`: how long a retired key stays published.
    window: i64,
    /// The current key as last loaded from the file; replaced when the database names another.
    current: Mutex<Option<Arc<StoredKey>>>,
}

impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeys")
            .field("file", &self.file)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// Start-up. Makes sure the database has a current key whose private half is in `file`
    /// (making one at first start), loads it and proves it with one signature checked against
    /// the published public key, so that a missing, exposed or wrong key file stops start-up
    /// instead of failing requests later. `window` is `id_token_expire_seconds`.
    pub fn open(
        store: &Store,
        file: PathBuf,
        window: i64,
        now: i64,
    ) -> Result<SigningKeys, KeyError> {
        ensure_current_key(store, &file, now)?;
        let keys = SigningKeys {
            file,
            window,
            current: Mutex::new(None),
        };
        let row = store.current_signing_key()?.ok_or(KeyError::NoCurrentKey)?;
        keys.key_for(&row)?;
        Ok(keys)
    }

    /// The key file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// `claims` (a JSON object) as a compact JWS signed with the current key, its `kid` in the
    /// header. The current key is read from the database each time, so a rotation by another
    /// process takes effect at once; its private half is read from the file only when it changed.
    pub fn sign(&self, store: &Store, claims: &Value) -> Result<String, KeyError> {
        if !claims.is_object() {
            return Err(KeyError::NotAnObject);
        }
        let row = store.current_signing_key()?.ok_or(KeyError::NoCurrentKey)?;
        let key = match self.key_for(&row) {
            Ok(key) => key,
            // A rotation may have ended between reading the row and the file, which then holds
            // the new key only: once more with the row as it is now.
            Err(first) => match store.current_signing_key()? {
                Some(newer) if newer.kid != row.kid => self.key_for(&newer)?,
                _ => return Err(first),
            },
        };
        jws::sign(&key.key, &key.kid, claims).map_err(KeyError::Crypto)
    }

    /// The JWK Set to publish at `now`: the current key and every retired key whose id_tokens
    /// may not have expired yet (retired less than `id_token_expire_seconds` ago).
    pub fn jwks(&self, store: &Store, now: i64) -> Result<Value, KeyError> {
        let keys = store
            .published_signing_keys(now, self.window)?
            .into_iter()
            .map(|row| {
                serde_json::from_str::<Value>(&row.public_jwk)
                    .map_err(|_| KeyError::BadPublicKey(row.kid, BadJwk("not JSON")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(json!({ "keys": keys }))
    }

    /// The payload of `token` if it is an RS256 compact JWS signed by one of our keys: the one
    /// its header's `kid` names, current or retired while the database still lists it (a
    /// rotation deletes keys whose publication window has passed). Nothing else is checked:
    /// expiry and audience are the caller's business (logout accepts an expired
    /// id_token_hint). `Ok(None)` for anything else; `Err` only when the database fails.
    pub fn verify(
        &self,
        store: &Store,
        token: &str,
    ) -> Result<Option<Map<String, Value>>, KeyError> {
        let Some(unverified) = jws::parse(token) else {
            return Ok(None);
        };
        let Some(kid) = unverified.kid.as_deref() else {
            return Ok(None);
        };
        let Some(row) = store.signing_key(kid)? else {
            return Ok(None);
        };
        if row.alg != RS256 {
            return Ok(None);
        }
        Ok(published_key(&row)
            .ok()
            .and_then(|key| unverified.verify(&key)))
    }

    /// The private key for the database's current key `row`: the cached one, or the file's.
    fn key_for(&self, row: &SigningKeyRow) -> Result<Arc<StoredKey>, KeyError> {
        let mut cached = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = cached.as_ref().filter(|k| k.kid == row.kid) {
            return Ok(Arc::clone(key));
        }
        let loaded = Arc::new(load_checked(&self.file, row)?);
        if let Some(previous) = cached.as_ref() {
            // A security event: one line, no key material.
            eprintln!(
                "oauthd: signing key rotated: {} signs instead of {}",
                row.kid, previous.kid
            );
        }
        *cached = Some(Arc::clone(&loaded));
        Ok(loaded)
    }
}

/// The public key a row publishes.
fn published_key(row: &SigningKeyRow) -> Result<rsa::PublicKey, KeyError> {
    let bad = |why| KeyError::BadPublicKey(row.kid.clone(), why);
    let jwk: Value = serde_json::from_str(&row.public_jwk).map_err(|_| bad(BadJwk("not JSON")))?;
    jwk::public_key(&jwk).map_err(bad)
}

/// The private half of the current key `row` from `file`, proven to match the public half
/// the database publishes by one signature.
fn load_checked(file: &Path, row: &SigningKeyRow) -> Result<StoredKey, KeyError> {
    let failed = |problem| KeyError::KeyFile {
        path: file.to_owned(),
        advice: match problem {
            FileProblem::Exposed(_) => Advice::None,
            _ => Advice::RestoreOrRotate(row.kid.clone()),
        },
        problem,
    };
    let key = key_file::read(file)
        .map_err(failed)?
        .into_iter()
        .find(|k| k.kid == row.kid)
        .ok_or_else(|| failed(FileProblem::LacksKey))?;
    let probe = jws::sign(&key.key, &key.kid, &json!({ "probe": "oauthd start-up" }))
        .map_err(KeyError::Crypto)?;
    match jws::verify(&published_key(row)?, &probe) {
        Some(_) => Ok(key),
        None => Err(failed(FileProblem::Mismatch)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::oidc::jwk::tests::rfc7515_a2_key;
    use crate::oidc::rotation::{generate, rotate};

    /// A key file with the RFC 7515 A.2 key (no generation: fast) and a store without keys.
    pub(crate) fn rfc_setup() -> (tempfile::TempDir, PathBuf, Store) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("oauthd.sqlite3.keys");
        let key = StoredKey {
            kid: "rfc".into(),
            key: jwk::private_key(&rfc7515_a2_key()).unwrap(),
        };
        key_file::write(&file, &[&key]).unwrap();
        (dir, file, Store::open_in_memory().unwrap())
    }

    #[test]
    fn a_prepared_key_file_is_adopted_and_signs() {
        let (_dir, file, store) = rfc_setup();
        let keys = SigningKeys::open(&store, file, 3600, 100).unwrap();
        let row = store.current_signing_key().unwrap().unwrap();
        assert_eq!((row.kid.as_str(), row.created), ("rfc", 100));
        let claims = json!({ "iss": "https://id.example", "sub": "bob\"e'i;--ü" });
        let token = keys.sign(&store, &claims).unwrap();
        assert_eq!(jws::parse(&token).unwrap().kid.as_deref(), Some("rfc"));
        assert_eq!(
            keys.verify(&store, &token).unwrap().map(Value::Object),
            Some(claims)
        );
        assert!(matches!(
            keys.sign(&store, &json!(["not", "an", "object"])),
            Err(KeyError::NotAnObject)
        ));
    }

    #[test]
    fn the_database_never_holds_the_private_key() {
        let (_dir, file, store) = rfc_setup();
        SigningKeys::open(&store, file, 3600, 100).unwrap();
        let row = store.current_signing_key().unwrap().unwrap();
        let public: Value = serde_json::from_str(&row.public_jwk).unwrap();
        let rfc = rfc7515_a2_key();
        assert_eq!(public["n"], rfc["n"]);
        for member in ["d", "p", "q", "dp", "dq", "qi"] {
            let secret = rfc[member].as_str().unwrap();
            assert!(!row.public_jwk.contains(secret), "{member} is in the row");
        }
    }

    #[test]
    fn a_missing_or_wrong_key_file_stops_start_up() {
        let (_dir, file, store) = rfc_setup();
        SigningKeys::open(&store, file.clone(), 3600, 100).unwrap();

        std::fs::remove_file(&file).unwrap();
        let err = SigningKeys::open(&store, file.clone(), 3600, 100).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&file.display().to_string()), "{message}");
        assert!(message.contains("oauthd keys rotate"), "{message}");
        assert!(message.contains("backup"), "{message}");

        // Another key under the current key's id.
        let impostor = StoredKey {
            kid: "rfc".into(),
            key: generate().unwrap().key,
        };
        key_file::write(&file, &[&impostor]).unwrap();
        let err = SigningKeys::open(&store, file.clone(), 3600, 100).unwrap_err();
        assert!(
            matches!(
                err,
                KeyError::KeyFile {
                    problem: FileProblem::Mismatch,
                    ..
                }
            ),
            "{err}"
        );
        let other = StoredKey {
            kid: "other".into(),
            key: impostor.key,
        };
        key_file::write(&file, &[&other]).unwrap();
        let err = SigningKeys::open(&store, file, 3600, 100).unwrap_err();
        assert!(
            matches!(
                err,
                KeyError::KeyFile {
                    problem: FileProblem::LacksKey,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn jwks_publishes_a_retired_key_for_the_window_after_rotation() {
        let (_dir, file, store) = rfc_setup();
        let keys = SigningKeys::open(&store, file.clone(), 600, 100).unwrap();
        let old_token = keys.sign(&store, &json!({ "n": 1 })).unwrap();

        let rotation = rotate(&store, &file, 600, 1000).unwrap();
        assert_eq!(rotation.retired.as_deref(), Some("rfc"));
        assert!(rotation.warnings.is_empty(), "{:?}", rotation.warnings);
        let kids = |now| -> Vec<String> {
            let jwks = keys.jwks(&store, now).unwrap();
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| {
                    assert_eq!(
                        (k["kty"].as_str(), k["use"].as_str()),
                        (Some("RSA"), Some("sig"))
                    );
                    assert!(k.get("d").is_none());
                    k["kid"].as_str().unwrap().to_owned()
                })
                .collect()
        };
        assert_eq!(kids(1000), [rotation.kid.as_str(), "rfc"]);
        assert_eq!(kids(1599), [rotation.kid.as_str(), "rfc"]);
        assert_eq!(kids(1600), [rotation.kid.as_str()], "the window has passed");

        // The running SigningKeys follows the rotation; the old token still verifies.
        let new_token = keys.sign(&store, &json!({ "n": 2 })).unwrap();
        assert_eq!(
            jws::parse(&new_token).unwrap().kid,
            Some(rotation.kid.clone())
        );
        assert!(keys.verify(&store, &new_token).unwrap().is_some());
        assert!(keys.verify(&store, &old_token).unwrap().is_some());
        let in_file: Vec<String> = key_file::read(&file)
            .unwrap()
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(
            in_file,
            [rotation.kid.as_str()],
            "the retired private half is gone"
        );

        // A rotation after the window deletes the expired row; its tokens verify no more.
        let second = rotate(&store, &file, 600, 1600).unwrap();
        assert_eq!(second.deleted, 1);
        assert_eq!(store.signing_key("rfc").unwrap(), None);
        assert_eq!(keys.verify(&store, &old_token).unwrap(), None);
        assert_eq!(kids(1600), [second.kid, rotation.kid]);
    }

    #[test]
    fn hostile_tokens_do_not_verify_against_our_keys() {
        let (_dir, file, store) = rfc_setup();
        let keys = SigningKeys::open(&store, file, 600, 100).unwrap();
        let good = keys.sign(&store, &json!({ "sub": "a" })).unwrap();
        let payload = good.split('.').nth(1).unwrap();
        let signature = good.split('.').nth(2).unwrap();
        let header = |json: &str| jws::b64(json.as_bytes());
        // Signed by a key the database does not list, under our kid and under its own.
        let stranger = generate().unwrap();
        let cases = [
            String::new(),
            "not a jwt".into(),
            format!("{}.{payload}.{signature}", header(r#"{"alg":"RS256"}"#)),
            format!(
                "{}.{payload}.{signature}",
                header(r#"{"alg":"RS256","kid":"gone"}"#)
            ),
            format!("{}.{payload}.", header(r#"{"alg":"none","kid":"rfc"}"#)),
            format!(
                "{}.{payload}.{signature}",
                header(r#"{"alg":"HS256","kid":"rfc"}"#)
            ),
            jws::sign(&stranger.key, "rfc", &json!({ "sub": "a" })).unwrap(),
            jws::sign(&stranger.key, &stranger.kid, &json!({ "sub": "a" })).unwrap(),
            format!("{good}x"),
        ];
        for token in &cases {
            assert_eq!(keys.verify(&store, token).unwrap(), None, "{token}");
        }
        assert!(keys.verify(&store, &good).unwrap().is_some());
    }

    #[test]
    fn the_default_key_file_is_next_to_the_database() {
        let settings = Settings::from_toml("").unwrap();
        assert_eq!(
            key_file_path(Path::new("/var/lib/oauthd/oauthd.sqlite3"), &settings),
            PathBuf::from("/var/lib/oauthd/oauthd.sqlite3.keys")
        );
        let set = Settings::from_toml("signing_key_file = \"/etc/oauthd/keys\"").unwrap();
        assert_eq!(
            key_file_path(Path::new("x.sqlite3"), &set),
            PathBuf::from("/etc/oauthd/keys")
        );
    }
}
