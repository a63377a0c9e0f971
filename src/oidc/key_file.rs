//! The key file: the private halves of the id_token signing keys, kept next to the database and
//! never in it, so that a copy of the database alone cannot sign tokens.
//!
//! Format: a JWK Set (RFC 7517 §5) in UTF-8 JSON, `{"keys": [JWK, ...]}`, oldest first; each
//! member is an RSA private JWK (RFC 7518 §6.3.2) with `kty` RSA, `kid`, `alg` RS256, `use`
//! sig, `n`, `e`, `d`, `p`, `q`, `dp`, `dq` and `qi`, all Base64urlUInt. Any JOSE tool reads it
//! (for instance to extract a PEM). It holds only keys still needed for signing: normally the
//! current key alone; a retired key's public half is in the database, which is all that
//! checking its tokens and publishing it needs.
//!
//! The file must be a regular file that neither group nor others may read or write (like ssh,
//! oauthd refuses a private key with wider permissions). It is written whole and atomically:
//! a temporary file created with mode 0600 in the same directory, fsynced, renamed over the
//! old one, and the directory fsynced.

use crate::oidc::jwk;
use rsa::PrivateKey;
use serde_json::{Value, json};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The largest key file read: a few keys take a few KiB.
const MAX_BYTES: u64 = 1024 * 1024;

/// One private key of the file, with its id.
pub(crate) struct StoredKey {
    pub kid: String,
    pub key: PrivateKey,
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoredKey {{ kid: {:?}, key: [redacted] }}", self.kid)
    }
}

/// Why the key file could not be read.
#[derive(Debug)]
pub enum FileProblem {
    /// There is no file at the path.
    Missing,
    /// It could not be opened or read.
    Unreadable(io::Error),
    /// Group or others may access it; the mode is given.
    Exposed(u32),
    /// It is not a regular file, or is larger than any key file.
    NotAKeyFile,
    /// Its content is not a JWK Set of RSA private keys; says where it went wrong.
    Malformed(String),
    /// It holds no private key with the current key's id.
    LacksKey,
    /// Its private key for the current key id is not the one the database publishes.
    Mismatch,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileProblem::Missing => f.write_str("the file does not exist"),
            FileProblem::Unreadable(e) => write!(f, "cannot be read: {e}"),
            FileProblem::Exposed(mode) => write!(
                f,
                "its mode {mode:04o} lets group or others in; the private keys in it may have \
                 leaked. If they cannot have, `chmod 600` it; else run `oauthd keys rotate`"
            ),
            FileProblem::NotAKeyFile => f.write_str("it is not a regular file of at most 1 MiB"),
            FileProblem::Malformed(why) => write!(f, "it is not an oauthd key file ({why})"),
            FileProblem::LacksKey => f.write_str("it holds no private key for the current key"),
            FileProblem::Mismatch => f.write_str(
                "its private key for the current key does not match the public key the database \
                 publishes",
            ),
        }
    }
}

/// The keys in the file at `path`, oldest first; a file that group or others may access is
/// refused.
pub(crate) fn read(path: &Path) -> Result<Vec<StoredKey>, FileProblem> {
    let (keys, mode) = read_any_mode(path)?;
    match mode & 0o077 {
        0 => Ok(keys),
        _ => Err(FileProblem::Exposed(mode)),
    }
}

/// The keys in the file at `path` with the file's mode, whatever the mode.
pub(crate) fn read_any_mode(path: &Path) -> Result<(Vec<StoredKey>, u32), FileProblem> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(FileProblem::Missing),
        Err(e) => return Err(FileProblem::Unreadable(e)),
    };
    // The open file's own metadata: no window for a swap between the check and the read.
    let meta = file.metadata().map_err(FileProblem::Unreadable)?;
    let mode = meta.permissions().mode() & 0o7777;
    if !meta.is_file() || meta.len() > MAX_BYTES {
        return Err(FileProblem::NotAKeyFile);
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(FileProblem::Unreadable)?;
    Ok((parse(&text).map_err(FileProblem::Malformed)?, mode))
}

fn parse(text: &str) -> Result<Vec<StoredKey>, String> {
    let set: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let members = set
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("no \"keys\" list")?;
    members
        .iter()
        .enumerate()
        .map(|(i, member)| {
            let kid = member
                .get("kid")
                .and_then(Value::as_str)
                .ok_or(format!("key {i} has no kid"))?;
            let key = jwk::private_key(member).map_err(|e| format!("key {kid}: {e}"))?;
            Ok(StoredKey {
                kid: kid.to_owned(),
                key,
            })
        })
        .collect()
}

/// Replaces the file at `path` with exactly `keys`, atomically and durably, with mode 0600.
pub(crate) fn write(path: &Path, keys: &[&StoredKey]) -> io::Result<()> {
    let members: Vec<Value> = keys
        .iter()
        .map(|k| jwk::private_jwk(&k.key, &k.kid))
        .collect();
    let mut text = serde_json::to_string_pretty(&json!({ "keys": members }))?;
    text.push('\n');
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let suffix = crate::secret::random_secret(12).map_err(io::Error::other)?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        suffix.expose()
    ));
    let written = (|| {
        // Created with its final mode: the keys are never readable by others, not even briefly.
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::jwk::tests::rfc7515_a2_key;

    fn rfc_key(kid: &str) -> StoredKey {
        StoredKey {
            kid: kid.into(),
            key: jwk::private_key(&rfc7515_a2_key()).unwrap(),
        }
    }

    #[test]
    fn written_keys_read_back_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oauthd.sqlite3.keys");
        let (a, b) = (rfc_key("bob\"e'i;--ü"), rfc_key("b"));
        write(&path, &[&a, &b]).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let read_back = read(&path).unwrap();
        let kids: Vec<&str> = read_back.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["bob\"e'i;--ü", "b"]);
        assert_eq!(read_back[0].key, a.key);
        write(&path, &[&b]).unwrap();
        assert_eq!(read(&path).unwrap().len(), 1, "replaced whole");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn the_file_is_a_jwk_set_of_private_jwks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        write(&path, &[&rfc_key("k")]).unwrap();
        let set: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let member = &set["keys"][0];
        assert_eq!(member["kid"], "k");
        assert_eq!(member["d"], rfc7515_a2_key()["d"]);
        assert_eq!(member["qi"], rfc7515_a2_key()["qi"]);
    }

    #[test]
    fn a_file_others_may_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        write(&path, &[&rfc_key("k")]).unwrap();
        for mode in [0o640, 0o604, 0o620, 0o602, 0o644] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            assert!(
                matches!(read(&path), Err(FileProblem::Exposed(m)) if m == mode),
                "{mode:o}"
            );
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert_eq!(
            read(&path).unwrap().len(),
            1,
            "read-only for the owner is fine"
        );
    }

    #[test]
    fn missing_odd_and_malformed_files_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        assert!(matches!(read(&path), Err(FileProblem::Missing)));
        std::fs::create_dir(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(matches!(read(&path), Err(FileProblem::NotAKeyFile)));
        std::fs::remove_dir(&path).unwrap();
        for text in [
            "",
            "[]",
            "{\"keys\": {}}",
            "{\"keys\": [{\"kty\": \"RSA\"}]}",
            "{\"keys\": [{\"kid\": \"k\", \"kty\": \"RSA\", \"n\": \"AQAB\", \"e\": \"AQAB\"}]}",
        ] {
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            assert!(
                matches!(read(&path), Err(FileProblem::Malformed(_))),
                "{text:?}"
            );
        }
    }
}
