//! Running oauthd for real (issue 11): backups of a running server and their restore, and
//! start-up refusing a database it cannot serve.

use crate::support::{Serving, TestServer, path_str, rows, run_cli};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// Applications the backup must hold: the bug report's count, all still in the WAL.
const APPS: usize = 7;

/// `oauthd --db DB serve` on port 0, expected to refuse: (exit code, stdout, stderr). Run
/// without the capability to override file modes, so that a write-protected file is one
/// for root too (CI runs as root in a fresh container).
fn refused_serve(db: &Path) -> (i32, String, String) {
    let oauthd = env!("CARGO_BIN_EXE_oauthd");
    let args = ["--db", path_str(db), "serve", "--addr", "127.0.0.1:0"];
    let mut command = match rustix::process::geteuid().is_root() {
        true => {
            let mut setpriv = Command::new("setpriv");
            setpriv.args([
                "--bounding-set=-dac_override,-dac_read_search",
                "--",
                oauthd,
            ]);
            setpriv
        }
        false => Command::new(oauthd),
    };
    let out = command.args(args).output().expect("run oauthd serve");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_backup_of_a_running_server_holds_what_the_wal_holds_and_restores() {
    let s = TestServer::start();
    let clients: Vec<_> = (0..APPS)
        .map(|_| s.add_client("confidential", "client-credentials", &[]))
        .collect();
    let tokens: Vec<String> = clients.iter().map(|c| s.client_token(c)).collect();
    let wal = s.dir.path().join("oauthd.sqlite3-wal");
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 0,
        "the rows are in the write-ahead log, where a plain cp misses them"
    );
    let backups = tempfile::tempdir().unwrap();
    let target = backups.path().join("oauthd-backup.sqlite3");

    // Tokens keep being issued while the copy is made.
    let (code, out, err) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for client in clients.iter().cycle().take(40) {
                s.client_token(client);
            }
        });
        let answer = s.cli(&["backup", path_str(&target)], "");
        writer.join().unwrap();
        answer
    });
    assert_eq!(code, 0, "{out} {err}");
    assert!(out.contains(path_str(&target)), "{out}");

    let copy = oauthd::store::Store::open(&target, oauthd::settings::Durability::Full).unwrap();
    copy.quick_check().unwrap();
    assert_eq!(copy.list_apps(None).unwrap().len(), APPS);
    let keys = backups.path().join("oauthd-backup.sqlite3.keys");
    assert_eq!(
        std::fs::read(&keys).unwrap(),
        std::fs::read(s.key_file_path()).unwrap()
    );
    let mode = std::fs::metadata(&keys).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the private keys stay private");
    let copied_tokens: i64 = rusqlite::Connection::open(&target)
        .unwrap()
        .query_row("SELECT count(*) FROM access_tokens", [], |r| r.get(0))
        .unwrap();
    let all_tokens = rows(&s, "access_tokens");
    assert!(
        (APPS as i64..=all_tokens).contains(&copied_tokens),
        "{copied_tokens} of {all_tokens}"
    );
    drop(copy);

    // Never over an existing file: the first copy stays as it was.
    let before = std::fs::read(&target).unwrap();
    let (code, _, err) = s.cli(&["backup", path_str(&target)], "");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), before);

    // Restore: the two files put back where a server looks for them.
    let restored = tempfile::tempdir().unwrap();
    let db = restored.path().join("oauthd.sqlite3");
    std::fs::copy(&target, &db).unwrap();
    std::fs::copy(&keys, restored.path().join("oauthd.sqlite3.keys")).unwrap();
    let serving = Serving::start(&db, &[]);
    for token in &tokens {
        let reply = serving.with_bearer("GET", "/api/hello", token, "");
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
}

#[test]
fn backup_needs_a_path_and_an_existing_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.sqlite3");
    let target = dir.path().join("copy.sqlite3");
    let (code, _, err) = run_cli(&["--db", path_str(&db), "backup", path_str(&target)], "");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no database at"), "{err}");
    let (code, _, err) = run_cli(&["--db", path_str(&db), "backup"], "");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("oauthd: backup: missing PATH\nusage:"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn serve_refuses_a_database_it_cannot_write() {
    let s = TestServer::start();
    s.add_client("public", "password", &[]);
    let db = s.db_path();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o400)).unwrap();
    let (code, out, err) = refused_serve(&db);
    assert_eq!(code, 1, "{out} {err}");
    assert!(!out.contains("listening"), "{out}");
    assert!(
        err.contains(&format!("cannot serve {}", db.display()))
            && err.contains("cannot be written"),
        "{err}"
    );
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(rows(&s, "applications"), 1, "nothing lost");
}

#[test]
fn serve_refuses_a_damaged_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("oauthd.sqlite3");
    for n in 0..APPS {
        let args = [
            "--db",
            path_str(&db),
            "app",
            "add",
            "--name",
            &format!("app {n}"),
        ];
        let args = [
            &args[..],
            &["--client-type", "public", "--grant", "password"],
        ]
        .concat();
        assert_eq!(run_cli(&args, "").0, 0);
    }
    // Garbage over the cell pointers of the applications table's page.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let root: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'applications'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    let mut bytes = std::fs::read(&db).unwrap();
    let start = usize::try_from((root - 1) * page_size + 8).unwrap();
    bytes[start..start + 64].fill(0xFF);
    std::fs::write(&db, &bytes).unwrap();

    let (code, out, err) = refused_serve(&db);
    assert_eq!(code, 1, "{out} {err}");
    assert!(!out.contains("listening"), "{out}");
    assert!(
        err.contains(&format!("cannot serve {}", db.display()))
            && err.contains("damaged")
            && err.contains("restore it from a backup"),
        "{err}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "left as it was");
}
