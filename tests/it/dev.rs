//! `oauthd serve --dev` run as the real binary (docs/security.md rule 60): what it prints is
//! used as a developer would paste it — the discovery URL, a client_credentials token, the
//! authorization link signed in with the printed password, the code exchanged with the printed
//! verifier — and the throwaway database is gone after it stops; `--db` keeps its file.

use crate::support::{Http, Serving, allow_and_get_code, form_encode, path_str, run_cli, sign_in};
use oauthd::settings::Durability;
use oauthd::store::Store;
use std::path::Path;

/// What `serve --dev` printed, by label.
struct Printed(Vec<String>);

impl Printed {
    /// The value of the first line (trimmed) that starts with `label`.
    fn value(&self, label: &str) -> String {
        self.values(label).into_iter().next().unwrap_or_else(|| {
            panic!("no {label:?} in {:?}", self.0);
        })
    }

    /// The values of every line (trimmed) that starts with `label`, in order.
    fn values(&self, label: &str) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|line| line.trim().strip_prefix(label))
            .map(|rest| rest.trim().to_owned())
            .collect()
    }

    /// The line after the one that starts with `label`, trimmed.
    fn after(&self, label: &str) -> String {
        let at = self.0.iter().position(|l| l.starts_with(label));
        let line = at.and_then(|at| self.0.get(at + 1));
        line.unwrap_or_else(|| panic!("nothing after {label:?}"))
            .trim()
            .to_owned()
    }
}

/// Starts `serve --dev` in `dir` and reads all it prints before serving.
fn start(dir: &Path, extra: &[&str]) -> (Serving, Printed) {
    let mut serving = Serving::start_dev(dir, extra);
    let lines = serving.lines_until("Ctrl-C stops it.");
    (serving, Printed(lines))
}

/// The entries of `dir` whose names start with `oauthd-dev-`.
fn throwaways(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("oauthd-dev-"))
        .collect()
}

#[test]
fn the_printed_credentials_link_and_curls_work_and_the_throwaway_database_goes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut serving, printed) = start(dir.path(), &[]);
    let s: &Http = &serving;
    assert!(
        printed.0[0].contains("FOR DEVELOPMENT ONLY"),
        "{:?}",
        printed.0
    );
    assert!(!printed.0.iter().any(|l| l.contains("WARNING")), "loopback");
    let issuer = printed.value("issuer:");
    assert_eq!(issuer, s.base);
    let database = printed.value("database:");
    assert!(database.ends_with("(throwaway: removed when it stops)"));
    assert_eq!(throwaways(dir.path()).len(), 1, "the database is in TMPDIR");

    // Discovery, at the printed URL.
    let discovery = printed.value("discovery:");
    let path = discovery.strip_prefix(&issuer).unwrap();
    let metadata = s.request("GET", path, &[], b"");
    assert_eq!(metadata.status, 200);
    assert_eq!(metadata.json()["issuer"], issuer.as_str());

    // The client_credentials curl: -u ID:SECRET -d grant_type=client_credentials TOKEN_URL.
    let curl = printed.after("A token for the client-credentials client:");
    let words: Vec<&str> = curl.split_whitespace().collect();
    let (id, secret) = words[2].split_once(':').unwrap();
    assert_eq!(words[words.len() - 1], format!("{issuer}/o/token/"));
    let tokens = s.post_form("/o/token/", words[4], Some((id, secret)));
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let access = tokens.json()["access_token"].as_str().unwrap().to_owned();
    let hello = s.with_bearer("GET", "/api/hello", &access, "");
    assert_eq!((hello.status, hello.body.as_str()), (200, "Hello, OAuth2!"));

    // The authorization link, signed in with the printed password, then the printed exchange.
    let link = printed.after("Sign in as dev and allow");
    let query = link.split_once('?').unwrap().1;
    let browser = sign_in(s, &printed.value("username:"), &printed.value("password:"));
    let code = allow_and_get_code(s, &browser, query);
    let public_id = &printed.values("client_id:")[1];
    let verifier = printed.value("PKCE code_verifier:");
    assert!(query.contains(&format!(
        "code_challenge={}",
        printed.value("PKCE code_challenge:")
    )));
    let exchange = printed.after("Exchange the code (public client, with the verifier):");
    assert!(exchange.contains(&format!(
        "-d client_id={public_id} -d code_verifier={verifier}"
    )));
    let form = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&client_id={public_id}&code_verifier={verifier}",
        form_encode(&code),
        form_encode("http://127.0.0.1:5000/cb"),
    );
    let tokens = s.post_form("/o/token/", &form, None);
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert!(tokens.json()["id_token"].is_string(), "openid was asked");

    // A page of a Vite dev server may call the token endpoint (CORS).
    let headers = [
        ("Origin", "http://localhost:5173"),
        ("Access-Control-Request-Method", "POST"),
    ];
    let preflight = s.request("OPTIONS", "/o/token/", &headers, b"");
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("Access-Control-Allow-Origin"),
        Some("http://localhost:5173")
    );

    let (code, rest) = serving.terminate();
    assert_eq!(code, Some(0), "{rest}");
    assert!(throwaways(dir.path()).is_empty(), "removed when it stopped");
}

#[test]
fn with_db_the_file_stays_and_a_second_start_refuses_to_make_dev_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dev.sqlite3");
    let (mut serving, printed) = start(dir.path(), &["--db", path_str(&db)]);
    assert_eq!(printed.value("database:"), path_str(&db));
    let (code, _) = serving.terminate();
    assert_eq!(code, Some(0));
    let store = Store::open(&db, Durability::Full).unwrap();
    let dev = store
        .find_user_by_username("dev")
        .unwrap()
        .expect("the user");
    assert!(dev.is_admin);
    let apps = store.list_apps(Some(dev.id)).unwrap();
    let names: Vec<&str> = apps.iter().map(|a| a.fields.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "dev confidential",
            "dev public (PKCE)",
            "dev client credentials"
        ]
    );
    assert!(throwaways(dir.path()).is_empty(), "no throwaway with --db");

    let db_flag = ["--db", path_str(&db)];
    let args = [&db_flag[..], &["serve", "--dev", "--addr", "127.0.0.1:0"]].concat();
    let (code, out, err) = run_cli(&args, "");
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("already has users or applications"), "{err}");
    assert_eq!(store.list_apps(None).unwrap().len(), 3, "nothing more made");
}

/// docs/security.md rule 60: `--db` never adds a known administrator to a database that
/// is in use, even one without a `dev` user; nothing is made and nothing starts.
#[test]
fn a_database_with_users_or_applications_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let with_user = dir.path().join("users.sqlite3");
    let db_flag = ["--db", path_str(&with_user)];
    let add = [&db_flag[..], &["user", "add", "carol"]].concat();
    assert_eq!(run_cli(&add, "carol's pass 1\n").0, 0);
    let with_app = dir.path().join("apps.sqlite3");
    let app_flag = ["--db", path_str(&with_app)];
    let add = [
        &app_flag[..],
        &[
            "app",
            "add",
            "--name",
            "CLI",
            "--client-type",
            "confidential",
        ],
        &["--grant", "client-credentials"],
    ]
    .concat();
    let (code, _, err) = run_cli(&add, "");
    assert_eq!(code, 0, "{err}");
    for db in [&with_user, &with_app] {
        let before = std::fs::read(db).unwrap();
        let args = [
            &["--db", path_str(db)][..],
            &["serve", "--dev", "--addr", "127.0.0.1:0"],
        ]
        .concat();
        let (code, out, err) = run_cli(&args, "");
        assert_eq!(code, 1, "{out}");
        assert!(!out.contains("listening"), "nothing started: {out}");
        assert!(
            err.contains(
                "already has users or applications; serve --dev needs a new or empty database"
            ),
            "{err}"
        );
        assert_eq!(std::fs::read(db).unwrap(), before, "not a byte changed");
        let key_file = format!("{}.keys", db.display());
        assert!(!Path::new(&key_file).exists(), "no key file made beside it");
        let store = Store::open(db, Durability::Full).unwrap();
        assert!(store.find_user_by_username("dev").unwrap().is_none());
        assert!(
            store.list_apps(None).unwrap().len() <= 1,
            "no client was made"
        );
    }
}

/// A stray oauthd.toml's `signing_key_file` (a production key, perhaps) is never used: the
/// key file is the throwaway database's own.
#[test]
fn a_configured_signing_key_file_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("oauthd.toml"),
        "signing_key_file = \"production.keys\"\n",
    )
    .unwrap();
    let (serving, _) = start(dir.path(), &[]);
    let jwks = serving.request("GET", "/o/.well-known/jwks.json", &[], b"");
    assert_eq!(jwks.status, 200, "{}", jwks.body);
    assert!(
        !dir.path().join("production.keys").exists(),
        "not made there"
    );
    let throwaway = dir.path().join(&throwaways(dir.path())[0]);
    assert!(
        throwaway.join("oauthd.sqlite3.keys").exists(),
        "in the throwaway directory"
    );
}

#[test]
fn an_address_that_is_no_ip_address_is_refused_before_anything_starts() {
    let (code, out, err) = run_cli(&["serve", "--dev", "--addr", "localhost:0"], "");
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("--addr: \"localhost:0\" is not an IP address"),
        "{err}"
    );
    let (code, out, _) = run_cli(&["serve", "--help"], "");
    assert_eq!(code, 0);
    assert!(
        out.contains("[--dev]") && out.contains("--dev: a development provider"),
        "{out}"
    );
}

#[test]
fn a_configured_https_public_url_gives_way_to_the_address_it_listens_on() {
    let dir = tempfile::tempdir().unwrap();
    let toml = "public_url = \"https://id.example.org\"\ntrusted_proxies = [\"127.0.0.1\"]\n";
    std::fs::write(dir.path().join("oauthd.toml"), toml).unwrap();
    let (serving, printed) = start(dir.path(), &[]);
    assert_eq!(printed.value("issuer:"), serving.base);
    let login = serving.request(
        "GET",
        "/accounts/login/",
        &[("X-Forwarded-Proto", "https")],
        b"",
    );
    assert_eq!(login.status, 200);
    let cookie = login.header("Set-Cookie").unwrap();
    assert!(
        cookie.starts_with("oauthd_") && !cookie.contains("Secure"),
        "a cookie that works over http: {cookie}"
    );
}
