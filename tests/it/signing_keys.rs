//! id_token signing keys end to end: the first start makes a key whose private half only the
//! key file holds (mode 0600), start-up refuses a key file that cannot serve (in process and
//! through `oauthd serve`), and a running server follows a rotation made by the CLI.

use crate::support::{TestServer, kids};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauthd::settings::Durability;
use oauthd::store::Store;
use oauthd::{RunningServer, ServerConfig, Settings, StartError};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn db(dir: &Path) -> PathBuf {
    dir.join("oauthd.sqlite3")
}

fn key_file(dir: &Path) -> PathBuf {
    dir.join("oauthd.sqlite3.keys")
}

/// A server on a database in `dir`, with no key file prepared.
fn start(dir: &Path) -> Result<RunningServer, StartError> {
    RunningServer::start(ServerConfig {
        addr: "127.0.0.1:0".into(),
        threads: 2,
        db_path: db(dir),
        settings: Settings::from_toml("access_log = false").unwrap(),
        clock: oauthd::Clock::system(),
    })
}

/// `oauthd --db DIR/oauthd.sqlite3 ARGS...` in `dir`: (exit code, stdout, stderr).
fn oauthd(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_oauthd"))
        .current_dir(dir)
        .arg("--db")
        .arg(db(dir))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn current_kid(dir: &Path) -> String {
    let store = Store::open(&db(dir), Durability::Full).unwrap();
    store.current_signing_key().unwrap().unwrap().kid
}

fn kid_of(token: &str) -> String {
    oauthd::oidc::jws::parse(token).unwrap().kid.unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Whether `haystack` contains `needle`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_first_start_makes_a_key_whose_private_half_only_the_key_file_holds() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).unwrap();
    let file = key_file(dir.path());
    assert_eq!(mode(&file), 0o600);
    let store = Store::open(&db(dir.path()), Durability::Full).unwrap();
    let rows = store.list_signing_keys().unwrap();
    assert_eq!(rows.len(), 1);
    let token = server
        .signing_keys()
        .sign(&store, &json!({ "sub": "bob" }))
        .unwrap();
    assert_eq!(kid_of(&token), rows[0].kid);
    assert!(
        server
            .signing_keys()
            .verify(&store, &token)
            .unwrap()
            .is_some()
    );
    drop(store);
    server.shutdown();

    let set: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let private = &set["keys"][0];
    assert_eq!(private["kid"].as_str(), Some(rows[0].kid.as_str()));
    // Everything else in the directory: the database, with its WAL and shared memory if any.
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path != file {
            stored.extend(std::fs::read(&path).unwrap());
        }
    }
    let n = private["n"].as_str().unwrap();
    assert!(
        contains(&stored, n.as_bytes()),
        "the public modulus is in the database (the search works)"
    );
    for member in ["d", "p", "q", "dp", "dq", "qi"] {
        let text = private[member].as_str().unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(text).unwrap();
        assert!(bytes.len() > 100, "{member}");
        assert!(!contains(&stored, text.as_bytes()), "{member} as base64url");
        assert!(!contains(&stored, &bytes), "{member} as bytes");
        assert!(
            !contains(&stored, &bytes[..32]),
            "{member}: not even its first 32 bytes"
        );
    }
}

#[test]
fn start_up_refuses_a_missing_key_file_and_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    start(dir.path()).unwrap().shutdown();
    let kid = current_kid(dir.path());
    let file = key_file(dir.path());
    std::fs::remove_file(&file).unwrap();

    let err = start(dir.path()).err().expect("start-up fails");
    assert!(matches!(err, StartError::SigningKeys(_)), "{err:?}");
    let message = err.to_string();
    for said in [
        file.display().to_string(),
        kid.clone(),
        "restore".into(),
        "backup".into(),
        "oauthd keys rotate".into(),
    ] {
        assert!(message.contains(&said), "{said:?} not in {message:?}");
    }

    // The binary says the same and exits 1 before listening.
    let (code, out, err) = oauthd(dir.path(), &["serve", "--addr", "127.0.0.1:0"]);
    assert_eq!(code, 1, "{out} {err}");
    assert!(!out.contains("listening"), "{out}");
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains("oauthd keys rotate"), "{err}");
    assert!(!file.exists(), "a failed start does not make a key file");

    // The way out: a new key; the lost one stays published for the id_tokens it signed.
    let (code, out, err) = oauthd(dir.path(), &["keys", "rotate"]);
    assert_eq!(code, 0, "{out} {err}");
    assert!(err.contains(&format!("no private key for {kid}")), "{err}");
    start(dir.path()).unwrap().shutdown();
    assert_ne!(current_kid(dir.path()), kid);
}

#[test]
fn start_up_refuses_a_key_file_others_can_read() {
    let dir = tempfile::tempdir().unwrap();
    start(dir.path()).unwrap().shutdown();
    let file = key_file(dir.path());
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let message = start(dir.path()).err().expect("refused").to_string();
    assert!(message.contains(&file.display().to_string()), "{message}");
    assert!(message.contains("0644"), "{message}");
    assert!(message.contains("chmod 600"), "{message}");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    start(dir.path()).unwrap().shutdown();
}

#[test]
fn start_up_refuses_a_key_file_with_another_key() {
    let dir = tempfile::tempdir().unwrap();
    start(dir.path()).unwrap().shutdown();
    let other = tempfile::tempdir().unwrap();
    start(other.path()).unwrap().shutdown();
    // The other database's key file, holding a key this database does not know.
    std::fs::copy(key_file(other.path()), key_file(dir.path())).unwrap();
    let message = start(dir.path()).err().expect("refused").to_string();
    assert!(
        message.contains("no private key for the current key"),
        "{message}"
    );
}

#[test]
fn a_running_server_follows_a_rotation_by_the_cli() {
    let s = TestServer::start();
    let keys = s.signing_keys();
    let store = s.store();
    let before = keys.sign(&store, &json!({ "sub": "bob" })).unwrap();
    let old = kid_of(&before);
    assert_eq!(old, current_kid(s.dir.path()));

    let (code, out, err) = s.cli(&["keys", "rotate"], "");
    assert_eq!(code, 0, "{out} {err}");
    let new = current_kid(s.dir.path());
    assert_ne!(new, old);
    assert!(
        out.contains(&new) && out.contains(&format!("retired {old}")),
        "{out}"
    );

    // No restart: the next signature uses the new key; the old token still checks out.
    let after = keys.sign(&store, &json!({ "sub": "bob" })).unwrap();
    assert_eq!(kid_of(&after), new);
    assert!(keys.verify(&store, &after).unwrap().is_some());
    assert!(keys.verify(&store, &before).unwrap().is_some());
    let jwks = keys.jwks(&store, s.now()).unwrap();
    assert_eq!(kids(&jwks), [new.as_str(), old.as_str()]);
    assert_eq!(mode(&s.key_file_path()), 0o600);
}
