//! `serve --dev`: a development provider in one command. A throwaway database (or `--db`), a
//! user with a random password, three clients with loopback redirect URIs (confidential code,
//! public code with PKCE, client credentials), on a loopback address unless `--addr` says
//! otherwise, and everything needed to try it printed ready to paste (docs/security.md rule 60).

use super::apps::{blank_form, register};
use super::users::make_user;
use super::{CliError, DEFAULT_ADDR, failed, open, serve_until_stopped, start_server, usage};
use crate::http::paths;
use crate::oauth::pkce;
use crate::oauth::registration::AppForm;
use crate::secret::{self, Secret};
use crate::settings::Settings;
use crate::store::Store;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// The user `serve --dev` makes, an administrator (so that the admin page can be tried too).
const USERNAME: &str = "dev";
/// The length of its random password.
const PASSWORD_CHARS: usize = 20;
/// The redirect URIs of the code-flow clients: loopback, so that any port matches (RFC 8252
/// §7.3).
const REDIRECT_URIS: &str = "http://127.0.0.1/cb http://[::1]/cb";
/// The origins of the usual development servers (Vite's, and Node frameworks'), whose pages
/// may call the token endpoint and the API as the public client (CORS).
const DEV_ORIGINS: &str =
    "http://localhost:5173 http://127.0.0.1:5173 http://localhost:3000 http://127.0.0.1:3000";
/// The redirect URI the printed link and curl commands use (nothing needs to listen there:
/// the code shows in the browser's address bar).
const EXAMPLE_REDIRECT: &str = "http://127.0.0.1:5000/cb";

/// A directory of its own under the system's temporary directory, removed when dropped (at
/// the end of `serve --dev`, or when it fails to start).
struct Throwaway(PathBuf);

impl Throwaway {
    /// Makes `$TMPDIR/oauthd-dev-<random>`, readable by its owner only.
    fn new() -> Result<Throwaway, CliError> {
        let name = format!("oauthd-dev-{}", secret::random_secret(16)?.expose());
        let dir = std::env::temp_dir().join(name);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| failed(format!("cannot make {}: {e}", dir.display())))?;
        Ok(Throwaway(dir))
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            eprintln!("oauthd: could not remove {}: {e}", self.0.display());
        }
    }
}

/// What `serve --dev` made: the user's password, the clients, and a PKCE pair.
struct DevWorld {
    password: Secret,
    confidential: (String, Option<Secret>),
    public: String,
    client_credentials: (String, Option<Secret>),
    verifier: Secret,
}

/// The address to listen on: loopback unless `--addr` names another, which is then said to be
/// reachable from the network; the bool says whether it is loopback.
fn address(given: Option<&str>) -> Result<(String, bool), CliError> {
    let Some(text) = given else {
        return Ok((DEFAULT_ADDR.into(), true));
    };
    let addr: SocketAddr = text.parse().map_err(|_| {
        usage(format!(
            "--addr: {text:?} is not an IP address and port; with --dev, use e.g. {DEFAULT_ADDR}"
        ))
    })?;
    Ok((text.into(), addr.ip().is_loopback()))
}

/// `serve --dev [--addr A] [--threads N]`, on `db` if `--db` was given.
pub(crate) fn serve(
    addr: Option<&str>,
    threads: usize,
    db: Option<&Path>,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let (addr, loopback) = address(addr)?;
    let settings = &dev_settings(settings);
    let (db, throwaway) = match db {
        Some(db) => (db.to_path_buf(), None),
        None => {
            let dir = Throwaway::new()?;
            (dir.0.join("oauthd.sqlite3"), Some(dir))
        }
    };
    refuse_used(&open(&db, settings)?, &db)?;
    let server = start_server(addr, threads, &db, settings)?;
    let world = match open(&db, settings).and_then(|store| make_world(&store, settings, &db)) {
        Ok(world) => world,
        Err(e) => {
            server.shutdown();
            return Err(e);
        }
    };
    writeln!(
        out,
        "oauthd listening on http://{} with {threads} workers: a DEVELOPMENT provider (serve --dev)",
        server.addr()
    )?;
    print_world(
        out,
        &world,
        server.issuer(),
        loopback,
        &db,
        throwaway.is_some(),
    )?;
    serve_until_stopped(server, out)
}

/// The settings, served over plain http where it listens: no `public_url` (the issuer is
/// `http://<the address>`, so the printed URLs are where it listens, and the session cookie is
/// not `Secure`, which a browser would drop over http) and no trusted proxies (whose
/// `X-Forwarded-Proto: https` would make it `Secure` too), and no `signing_key_file`: the
/// key file is the database's own (in the throwaway directory without `--db`), never a
/// configured production key. Everything else is as configured.
fn dev_settings(settings: &Settings) -> Settings {
    let mut dev = settings.clone();
    dev.public_url = None;
    dev.issuer = None;
    dev.trusted_proxies = Default::default();
    dev.signing_key_file = None;
    dev
}

/// Refuses a database that already has users or applications: `--db` may name a production
/// database, which must never get a known administrator and printed secrets.
fn refuse_used(store: &Store, db: &Path) -> Result<(), CliError> {
    if store.has_users_or_apps()? {
        return Err(failed(format!(
            "{} already has users or applications; serve --dev needs a new or empty database",
            db.display()
        )));
    }
    Ok(())
}

/// Makes the user and the three clients in one IMMEDIATE transaction that first checks the
/// database is still unused, and draws a PKCE verifier.
fn make_world(store: &Store, settings: &Settings, db: &Path) -> Result<DevWorld, CliError> {
    let password = secret::random_secret(PASSWORD_CHARS)?;
    let verifier = secret::random_token()?;
    store.immediate(|store| {
        refuse_used(store, db)?;
        make_world_in(store, settings, password, verifier)
    })
}

/// The user and the three clients, inside the caller's transaction.
fn make_world_in(
    store: &Store,
    settings: &Settings,
    password: Secret,
    verifier: Secret,
) -> Result<DevWorld, CliError> {
    let owner = make_user(store, USERNAME, "", "Developer", password.expose(), true)?;
    let code_flow = |name, client_type, allowed_origins| AppForm {
        name,
        client_type,
        grant_types: vec!["authorization-code"],
        redirect_uris: REDIRECT_URIS,
        allowed_origins,
        ..blank_form()
    };
    let client_credentials = AppForm {
        name: "dev client credentials",
        client_type: "confidential",
        grant_types: vec!["client-credentials"],
        ..blank_form()
    };
    let register = |form: &AppForm<'_>| register(store, settings, form, Some(owner));
    let confidential = register(&code_flow("dev confidential", "confidential", ""))?;
    let (public, _) = register(&code_flow("dev public (PKCE)", "public", DEV_ORIGINS))?;
    let client_credentials = register(&client_credentials)?;
    Ok(DevWorld {
        password,
        confidential,
        public,
        client_credentials,
        verifier,
    })
}

/// Prints what a developer pastes: the issuer, the user, the clients, a link and the curls.
fn print_world(
    out: &mut dyn Write,
    world: &DevWorld,
    issuer: &str,
    loopback: bool,
    db: &Path,
    throwaway: bool,
) -> Result<(), CliError> {
    let secret_of = |client: &(String, Option<Secret>)| {
        client
            .1
            .as_ref()
            .map_or(String::new(), |s| s.expose().to_owned())
    };
    let (confidential_id, confidential_secret) =
        (&world.confidential.0, secret_of(&world.confidential));
    let (cc_id, cc_secret) = (
        &world.client_credentials.0,
        secret_of(&world.client_credentials),
    );
    let verifier = world.verifier.expose();
    let challenge = pkce::s256(verifier);
    let token = format!("{issuer}{}", paths::TOKEN);
    let link = authorization_link(issuer, &world.public, &challenge);
    let kept = if throwaway {
        " (throwaway: removed when it stops)"
    } else {
        ""
    };
    writeln!(
        out,
        "  FOR DEVELOPMENT ONLY: known passwords and secrets are printed below; never put real users or data here."
    )?;
    if !loopback {
        writeln!(
            out,
            "  WARNING: not a loopback address: anyone who can reach it can sign in with what is printed."
        )?;
    }
    writeln!(out, "  database: {}{kept}", db.display())?;
    writeln!(out)?;
    writeln!(out, "issuer:    {issuer}")?;
    writeln!(out, "discovery: {issuer}/.well-known/openid-configuration")?;
    writeln!(out, "username:  {USERNAME}")?;
    writeln!(out, "password:  {}", world.password.expose())?;
    writeln!(out)?;
    writeln!(
        out,
        "confidential client (authorization code), redirect URIs {REDIRECT_URIS} on any port:"
    )?;
    writeln!(out, "  client_id:     {confidential_id}")?;
    writeln!(out, "  client_secret: {confidential_secret}")?;
    writeln!(
        out,
        "public client (authorization code, PKCE S256), the same redirect URIs, for pages at {DEV_ORIGINS} too (CORS):"
    )?;
    writeln!(out, "  client_id:     {}", world.public)?;
    writeln!(out, "client-credentials client:")?;
    writeln!(out, "  client_id:     {cc_id}")?;
    writeln!(out, "  client_secret: {cc_secret}")?;
    writeln!(out)?;
    writeln!(out, "PKCE code_verifier:  {verifier}")?;
    writeln!(out, "PKCE code_challenge: {challenge}")?;
    writeln!(out)?;
    writeln!(
        out,
        "Sign in as {USERNAME} and allow; the code shows in the address bar at {EXAMPLE_REDIRECT}:"
    )?;
    writeln!(out, "  {link}")?;
    writeln!(out, "Exchange the code (public client, with the verifier):")?;
    writeln!(
        out,
        "  curl -d grant_type=authorization_code -d code=CODE -d redirect_uri={EXAMPLE_REDIRECT} -d client_id={} -d code_verifier={verifier} {token}",
        world.public
    )?;
    writeln!(
        out,
        "Or with the confidential client (its client_id in the link; PKCE optional):"
    )?;
    writeln!(
        out,
        "  curl -u {confidential_id}:{confidential_secret} -d grant_type=authorization_code -d code=CODE -d redirect_uri={EXAMPLE_REDIRECT} {token}"
    )?;
    writeln!(out, "A token for the client-credentials client:")?;
    writeln!(
        out,
        "  curl -u {cc_id}:{cc_secret} -d grant_type=client_credentials {token}"
    )?;
    writeln!(out, "Ctrl-C stops it.")?;
    Ok(())
}

/// The authorization link of the public client, with PKCE.
fn authorization_link(issuer: &str, client_id: &str, challenge: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", EXAMPLE_REDIRECT),
        ("scope", "openid read write"),
        ("state", "dev"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ])
    .unwrap_or_default();
    format!("{issuer}{}?{query}", paths::AUTHORIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_unless_addr_names_another() {
        assert_eq!(address(None).unwrap(), (DEFAULT_ADDR.into(), true));
        for given in ["127.0.0.1:0", "[::1]:8000", "127.0.0.2:9000"] {
            assert_eq!(address(Some(given)).unwrap(), (given.into(), true));
        }
        for given in ["0.0.0.0:8000", "[::]:8000", "192.0.2.1:8000"] {
            assert_eq!(address(Some(given)).unwrap(), (given.into(), false));
        }
        for bad in ["localhost:8000", "example.org:80", "127.0.0.1", ""] {
            assert!(
                matches!(address(Some(bad)), Err(CliError::Usage(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_warning_is_printed_only_for_an_address_that_is_not_loopback() {
        let secret = || secret::random_secret(8).unwrap();
        let world = DevWorld {
            password: secret(),
            confidential: ("conf".into(), Some(secret())),
            public: "pub".into(),
            client_credentials: ("cc".into(), Some(secret())),
            verifier: secret(),
        };
        let printed = |issuer: &str, loopback: bool| {
            let mut out = Vec::new();
            print_world(&mut out, &world, issuer, loopback, Path::new("x"), true).unwrap();
            String::from_utf8(out).unwrap()
        };
        let warning = "WARNING: not a loopback address: anyone who can reach it can sign in";
        for (given, warned) in [
            ("127.0.0.1:8000", false),
            ("[::1]:8000", false),
            ("0.0.0.0:8000", true),
            ("192.0.2.1:8000", true),
        ] {
            let (addr, loopback) = address(Some(given)).unwrap();
            let text = printed(&format!("http://{addr}"), loopback);
            assert_eq!(text.contains(warning), warned, "{given}: {text}");
            assert!(text.starts_with("  FOR DEVELOPMENT ONLY"), "{text}");
        }
    }

    #[test]
    fn the_link_asks_for_a_code_with_s256() {
        let link = authorization_link("http://127.0.0.1:8000", "abc", "xyz");
        assert_eq!(
            link,
            "http://127.0.0.1:8000/o/authorize/?response_type=code&client_id=abc\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcb&scope=openid+read+write\
             &state=dev&code_challenge=xyz&code_challenge_method=S256"
        );
    }
}
