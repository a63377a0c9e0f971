//! Every setting with its DOT name and default, read from oauthd.toml and validated once at startup.

use crate::http::access_log::LogFormat;
use crate::http::proxy::TrustedProxies;
use crate::model::GrantType;
use crate::oauth::scope::is_scope_token;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// When the approval page is shown (DOT's REQUEST_APPROVAL_PROMPT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ApprovalPrompt {
    /// Always ask.
    Force,
    /// Skip when the user already holds a valid token covering the request.
    Auto,
}

/// How hard SQLite works to keep a commit across a power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// `synchronous=FULL`: every commit is fsynced before it is acknowledged.
    Full,
    /// `synchronous=NORMAL`: the last commits may roll back after a power loss.
    Normal,
}

/// Which clients must use PKCE (RFC 9700 §2.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PkceRequired {
    /// Public clients must send an S256 challenge.
    Public,
    /// Every client must send an S256 challenge.
    All,
    /// PKCE is optional for everyone.
    None,
}

/// Whether clients may register themselves (RFC 7591 dynamic client registration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RegistrationMode {
    /// No registration endpoint: it answers 404 and the metadata does not name it.
    Off,
    /// Anyone may register a client (within the request budgets, per address and overall).
    Open,
    /// A registration needs an initial access token (`oauthd registration-token add`).
    Token,
}

/// `default_scopes`: a list of scope names, or `"__all__"` for every configured scope.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
enum DefaultScopes {
    One(String),
    List(Vec<String>),
}

/// The raw file: DOT's names, every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    scopes: Option<BTreeMap<String, String>>,
    default_scopes: Option<DefaultScopes>,
    read_scope: Option<String>,
    write_scope: Option<String>,
    access_token_expire_seconds: Option<i64>,
    authorization_code_expire_seconds: Option<i64>,
    refresh_token_expire_seconds: Option<i64>,
    rotate_refresh_token: Option<bool>,
    refresh_token_grace_period_seconds: Option<i64>,
    request_approval_prompt: Option<ApprovalPrompt>,
    allowed_redirect_uri_schemes: Option<Vec<String>>,
    client_secret_length: Option<usize>,
    accept_json_bodies: Option<bool>,
    durability: Option<Durability>,
    session_expire_seconds: Option<i64>,
    public_url: Option<String>,
    pkce_required: Option<PkceRequired>,
    site_name: Option<String>,
    custom_css: Option<PathBuf>,
    admin_scopes: Option<Vec<String>>,
    self_service_grants: Option<Vec<String>>,
    header_timeout_seconds: Option<u64>,
    body_timeout_seconds: Option<u64>,
    idle_timeout_seconds: Option<u64>,
    max_connections: Option<usize>,
    trusted_proxies: Option<Vec<String>>,
    log_format: Option<LogFormat>,
    access_log: Option<bool>,
    metrics: Option<bool>,
    signing_key_file: Option<PathBuf>,
    id_token_expire_seconds: Option<i64>,
    sweep_interval_seconds: Option<u64>,
    registration: Option<RegistrationMode>,
    device_code_expire_seconds: Option<i64>,
    device_flow_interval: Option<i64>,
}

/// Validated settings, shared read-only by every worker.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Known scopes with their descriptions (DOT's SCOPES).
    pub scopes: BTreeMap<String, String>,
    /// Scopes granted when a request names none (DOT's DEFAULT_SCOPES, expanded).
    pub default_scopes: Vec<String>,
    /// Scope needed for safe methods by the read/write permission (DOT's READ_SCOPE).
    pub read_scope: String,
    /// Scope needed for other methods by the read/write permission (DOT's WRITE_SCOPE).
    pub write_scope: String,
    /// Lifetime of an access token.
    pub access_token_expire_seconds: i64,
    /// Lifetime of an authorization code (at most 600, RFC 6749 §4.1.2).
    pub authorization_code_expire_seconds: i64,
    /// Lifetime of a refresh token; `None`: refresh tokens never expire.
    pub refresh_token_expire_seconds: Option<i64>,
    /// Issue a new refresh token on each refresh and retire the old one.
    pub rotate_refresh_token: bool,
    /// How long after a rotation the retired refresh token may be presented again as a retry
    /// (a lost response) instead of counting as a replay; 0: never.
    pub refresh_token_grace_period_seconds: i64,
    /// Default approval prompt behaviour.
    pub(crate) request_approval_prompt: ApprovalPrompt,
    /// Schemes a redirect URI may use.
    pub allowed_redirect_uri_schemes: Vec<String>,
    /// Length in characters of a generated client secret.
    pub client_secret_length: usize,
    /// Accept `application/json` bodies at the token endpoints (DOT's JSONOAuthLibCore).
    pub accept_json_bodies: bool,
    /// SQLite synchronous mode.
    pub durability: Durability,
    /// Lifetime of a browser session (two weeks, as Django's SESSION_COOKIE_AGE).
    pub session_expire_seconds: i64,
    /// The URL users reach oauthd at; when it is https, the session cookie is `Secure` and
    /// takes the `__Host-` prefix.
    pub public_url: Option<url::Url>,
    /// The OpenID issuer: `public_url` exactly as configured, less a trailing slash. `None`
    /// when unset: the server then uses `http://<its address>`.
    pub issuer: Option<String>,
    /// Which clients must send an S256 PKCE challenge.
    pub(crate) pkce_required: PkceRequired,
    /// The name the pages show (title and header), standing in for DOT's template overrides.
    pub site_name: String,
    /// Scopes only an administrator may allow an application: the self-service pages do not
    /// offer them to other users.
    pub admin_scopes: Vec<String>,
    /// The grants the application pages offer users who are not administrators; an
    /// administrator (and the CLI) may give any.
    pub self_service_grants: Vec<GrantType>,
    /// A deployment's stylesheet, read once at startup from the file `custom_css` names
    /// (relative to the config file's directory) and served after oauthd's own.
    pub custom_css: Option<String>,
    /// The whole request head must arrive within this many seconds (else 408).
    pub header_timeout_seconds: u64,
    /// The whole request body must arrive within this many seconds (else 408).
    pub body_timeout_seconds: u64,
    /// A kept-alive connection is closed after this many seconds without a request.
    pub idle_timeout_seconds: u64,
    /// Connections served at once; one more gets a quick 503.
    pub max_connections: usize,
    /// Peers whose X-Forwarded-For and X-Forwarded-Proto are believed.
    pub(crate) trusted_proxies: TrustedProxies,
    /// The access log's format.
    pub(crate) log_format: LogFormat,
    /// Whether the access log is written at all (off when a proxy in front keeps one).
    pub access_log: bool,
    /// Whether `GET /metrics` answers (Prometheus text); off, it is a 404.
    pub metrics: bool,
    /// The file holding the private halves of the id_token signing keys, resolved against the
    /// config file's directory; `None`: the database path with `.keys` appended.
    pub signing_key_file: Option<PathBuf>,
    /// Lifetime of an id_token; a retired signing key stays published this long after its
    /// retirement, so that every id_token it signed can still be checked until it expires.
    pub id_token_expire_seconds: i64,
    /// How often the server removes expired codes, tokens and sessions; 0: never (leave it
    /// to `oauthd cleartokens`).
    pub sweep_interval_seconds: u64,
    /// Dynamic client registration: off, open to anyone, or with an initial access token.
    pub(crate) registration: RegistrationMode,
    /// Lifetime of a device code and its user code (RFC 8628 §3.2 `expires_in`).
    pub device_code_expire_seconds: i64,
    /// Seconds a device waits between polls at first (RFC 8628 §3.2 `interval`; DOT 3's
    /// DEVICE_FLOW_INTERVAL).
    pub device_flow_interval: i64,
}

/// A settings file that could not be read or holds a bad value; the message names the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError(pub String);

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingsError {}

/// The OpenID Connect scopes (Core §5.4, §11), known without configuration, with the words the
/// consent page uses for them; a `scopes` entry of the same name replaces the words.
pub(crate) const OPENID_SCOPES: [(&str, &str); 4] = [
    ("openid", "Sign you in to it with your account here"),
    ("profile", "See your username and your name"),
    ("email", "See your email address"),
    (
        "offline_access",
        "Keep its access while you are away (it may renew it without asking you again)",
    ),
];

/// The shortest client secret accepted: 27 URL-safe characters carry 162 bits.
const MIN_CLIENT_SECRET_LENGTH: usize = 27;
/// The longest device code lifetime: a user who has not typed the code within half an hour
/// is not coming (RFC 8628 §3.2's example is 1800).
const MAX_DEVICE_CODE_LIFETIME: i64 = 1800;
/// The longest first polling interval: beyond a minute a device seems stuck to its user.
const MAX_DEVICE_FLOW_INTERVAL: i64 = 60;
/// The longest code lifetime RFC 6749 §4.1.2 recommends.
const MAX_CODE_LIFETIME: i64 = 600;
/// `admin_scopes` when not set (those of them that are configured).
const DEFAULT_ADMIN_SCOPES: [&str; 1] = ["introspection"];
/// The longest site name shown.
const MAX_SITE_NAME_CHARS: usize = 100;
/// The longest connection deadline accepted, in seconds.
const MAX_TIMEOUT_SECONDS: u64 = 3600;
/// The most connections `max_connections` may allow (each holds a thread and a descriptor).
const MAX_CONNECTIONS: usize = 65_536;
/// The largest custom stylesheet read.
const MAX_CUSTOM_CSS_BYTES: u64 = 256 * 1024;
/// The longest id_token lifetime accepted: a day (a retired signing key is published this long).
const MAX_ID_TOKEN_LIFETIME: i64 = 86_400;
/// The longest `refresh_token_grace_period_seconds`: a retry comes within moments, and every
/// second of grace is a second in which a stolen retired token still works.
const MAX_REFRESH_GRACE_PERIOD: i64 = 3600;
/// The longest time between two sweeps accepted: a week.
const MAX_SWEEP_INTERVAL: u64 = 604_800;

impl Settings {
    /// Whether users reach oauthd over https (cookies are then `Secure`).
    pub(crate) fn is_https(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https")
    }

    /// Parses and validates the text of an oauthd.toml; files it names are relative to the
    /// current directory.
    pub fn from_toml(text: &str) -> Result<Settings, SettingsError> {
        Settings::from_toml_in(text, Path::new("."))
    }

    fn from_toml_in(text: &str, base: &Path) -> Result<Settings, SettingsError> {
        let raw: RawSettings = toml::from_str(text).map_err(|e| SettingsError(e.to_string()))?;
        Settings::from_raw(raw, base)
    }

    /// Reads `path` if given; without a path, the defaults.
    pub fn load(path: Option<&Path>) -> Result<Settings, SettingsError> {
        match path {
            None => Settings::from_raw(RawSettings::default(), Path::new(".")),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| SettingsError(format!("{}: {e}", path.display())))?;
                let base = path.parent().unwrap_or(Path::new("."));
                Settings::from_toml_in(&text, base)
                    .map_err(|e| SettingsError(format!("{}: {}", path.display(), e.0)))
            }
        }
    }

    fn from_raw(raw: RawSettings, base: &Path) -> Result<Settings, SettingsError> {
        let mut scopes = raw.scopes.unwrap_or_else(|| {
            BTreeMap::from([
                ("read".to_string(), "Reading scope".to_string()),
                ("write".to_string(), "Writing scope".to_string()),
            ])
        });
        if let Some(bad) = scopes.keys().find(|s| !is_scope_token(s)) {
            return Err(bad_value(
                "scopes",
                &format!("{bad:?} is not a valid scope name"),
            ));
        }
        // "__all__" and the default are the configured scopes: OpenID's are only ever granted
        // when a client asks for them (or `default_scopes` names them).
        let all_configured: Vec<String> = scopes.keys().cloned().collect();
        for (name, description) in OPENID_SCOPES {
            scopes
                .entry(name.to_owned())
                .or_insert_with(|| description.to_owned());
        }
        let default_scopes = match raw.default_scopes {
            None => all_configured,
            Some(DefaultScopes::One(s)) if s == "__all__" => all_configured,
            Some(DefaultScopes::One(s)) => {
                return Err(bad_value(
                    "default_scopes",
                    &format!("expected a list or \"__all__\", got {s:?}"),
                ));
            }
            Some(DefaultScopes::List(list)) if list == ["__all__"] => all_configured,
            Some(DefaultScopes::List(list)) => {
                known_scopes("default_scopes", &scopes, &list)?;
                list
            }
        };
        // An explicitly named read or write scope must exist; the defaults need not.
        for (key, name) in [
            ("read_scope", &raw.read_scope),
            ("write_scope", &raw.write_scope),
        ] {
            known_scopes(key, &scopes, name.as_slice())?;
        }
        let read_scope = raw.read_scope.unwrap_or_else(|| "read".into());
        let write_scope = raw.write_scope.unwrap_or_else(|| "write".into());
        let code_lifetime = positive(
            "authorization_code_expire_seconds",
            raw.authorization_code_expire_seconds,
            60,
        )?;
        if code_lifetime > MAX_CODE_LIFETIME {
            return Err(bad_value(
                "authorization_code_expire_seconds",
                "must be at most 600",
            ));
        }
        let refresh_token_expire_seconds = match raw.refresh_token_expire_seconds {
            None => None,
            Some(s) => Some(positive("refresh_token_expire_seconds", Some(s), 0)?),
        };
        let schemes = raw
            .allowed_redirect_uri_schemes
            .unwrap_or_else(|| vec!["http".into(), "https".into()]);
        if schemes.is_empty() || schemes.iter().any(|s| !is_uri_scheme(s)) {
            return Err(bad_value(
                "allowed_redirect_uri_schemes",
                "expected a non-empty list of URI schemes",
            ));
        }
        let client_secret_length = raw.client_secret_length.unwrap_or(128);
        if !(MIN_CLIENT_SECRET_LENGTH..=255).contains(&client_secret_length) {
            return Err(bad_value(
                "client_secret_length",
                "must be between 27 and 255",
            ));
        }
        let admin_scopes = match raw.admin_scopes {
            Some(list) => {
                known_scopes("admin_scopes", &scopes, &list)?;
                list
            }
            // The resource servers' scope: whoever holds it may introspect any token.
            None => DEFAULT_ADMIN_SCOPES
                .iter()
                .filter(|s| scopes.contains_key(**s))
                .map(|s| (*s).to_owned())
                .collect(),
        };
        Ok(Settings {
            scopes,
            default_scopes,
            read_scope,
            write_scope,
            access_token_expire_seconds: positive(
                "access_token_expire_seconds",
                raw.access_token_expire_seconds,
                36000,
            )?,
            authorization_code_expire_seconds: code_lifetime,
            refresh_token_expire_seconds,
            rotate_refresh_token: raw.rotate_refresh_token.unwrap_or(true),
            refresh_token_grace_period_seconds: match raw
                .refresh_token_grace_period_seconds
                .unwrap_or(0)
            {
                n @ 0..=MAX_REFRESH_GRACE_PERIOD => n,
                _ => {
                    return Err(bad_value(
                        "refresh_token_grace_period_seconds",
                        "must be between 0 and 3600 seconds",
                    ));
                }
            },
            request_approval_prompt: raw.request_approval_prompt.unwrap_or(ApprovalPrompt::Force),
            allowed_redirect_uri_schemes: schemes
                .into_iter()
                .map(|s| s.to_ascii_lowercase())
                .collect(),
            client_secret_length,
            accept_json_bodies: raw.accept_json_bodies.unwrap_or(false),
            durability: raw.durability.unwrap_or(Durability::Full),
            session_expire_seconds: positive(
                "session_expire_seconds",
                raw.session_expire_seconds,
                14 * 24 * 3600,
            )?,
            public_url: raw
                .public_url
                .as_deref()
                .map(parse_public_url)
                .transpose()?,
            issuer: raw
                .public_url
                .as_deref()
                .map(|url| url.trim_end_matches('/').to_owned()),
            pkce_required: raw.pkce_required.unwrap_or(PkceRequired::Public),
            admin_scopes,
            self_service_grants: self_service_grants(raw.self_service_grants)?,
            site_name: site_name(raw.site_name)?,
            custom_css: raw
                .custom_css
                .map(|file| read_custom_css(&base.join(file)))
                .transpose()?,
            header_timeout_seconds: timeout(
                "header_timeout_seconds",
                raw.header_timeout_seconds,
                10,
            )?,
            body_timeout_seconds: timeout("body_timeout_seconds", raw.body_timeout_seconds, 20)?,
            idle_timeout_seconds: timeout("idle_timeout_seconds", raw.idle_timeout_seconds, 30)?,
            max_connections: match raw.max_connections.unwrap_or(1024) {
                n @ 1..=MAX_CONNECTIONS => n,
                _ => return Err(bad_value("max_connections", "must be between 1 and 65536")),
            },
            trusted_proxies: TrustedProxies::parse(&raw.trusted_proxies.unwrap_or_default())
                .map_err(|why| bad_value("trusted_proxies", &why))?,
            log_format: raw.log_format.unwrap_or(LogFormat::Text),
            access_log: raw.access_log.unwrap_or(true),
            metrics: raw.metrics.unwrap_or(false),
            signing_key_file: raw.signing_key_file.map(|file| base.join(file)),
            id_token_expire_seconds: match raw.id_token_expire_seconds.unwrap_or(3600) {
                n @ 1..=MAX_ID_TOKEN_LIFETIME => n,
                _ => {
                    return Err(bad_value(
                        "id_token_expire_seconds",
                        "must be between 1 and 86400 seconds",
                    ));
                }
            },
            sweep_interval_seconds: sweep_interval(raw.sweep_interval_seconds)?,
            registration: raw.registration.unwrap_or(RegistrationMode::Off),
            device_code_expire_seconds: seconds_between(
                "device_code_expire_seconds",
                raw.device_code_expire_seconds,
                600,
                MAX_DEVICE_CODE_LIFETIME,
            )?,
            device_flow_interval: seconds_between(
                "device_flow_interval",
                raw.device_flow_interval,
                5,
                MAX_DEVICE_FLOW_INTERVAL,
            )?,
        })
    }
}

fn site_name(name: Option<String>) -> Result<String, SettingsError> {
    let Some(name) = name else {
        return Ok("oauthd".into());
    };
    let name = name.trim();
    let count = name.chars().count();
    if count == 0 || count > MAX_SITE_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(bad_value(
            "site_name",
            "expected 1 to 100 characters, none of them control characters",
        ));
    }
    Ok(name.to_owned())
}

fn read_custom_css(path: &Path) -> Result<String, SettingsError> {
    let failed = |why: String| bad_value("custom_css", &format!("{}: {why}", path.display()));
    let size = std::fs::metadata(path)
        .map_err(|e| failed(e.to_string()))?
        .len();
    if size > MAX_CUSTOM_CSS_BYTES {
        return Err(failed("larger than 256 KiB".into()));
    }
    std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))
}

/// `public_url` is also the OpenID issuer, which relying parties compare character for
/// character (Discovery §3, RFC 8414 §2): an http(s) origin, written as the URL parser would
/// write it, with no user, path, query or fragment — oauthd answers at the root of its address.
fn parse_public_url(text: &str) -> Result<url::Url, SettingsError> {
    let url = url::Url::parse(text)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
        .ok_or_else(|| bad_value("public_url", "expected an absolute http or https URL"))?;
    let plain = url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    if !plain {
        return Err(bad_value(
            "public_url",
            "expected scheme, host and port only (no user, path, query or fragment): oauthd answers at the root of its address",
        ));
    }
    if text.trim_end_matches('/') != url.as_str().trim_end_matches('/') {
        return Err(bad_value(
            "public_url",
            &format!(
                "it is the OpenID issuer, compared exactly: write it as {:?}",
                url.as_str().trim_end_matches('/')
            ),
        ));
    }
    Ok(url)
}

fn bad_value(key: &str, why: &str) -> SettingsError {
    SettingsError(format!("{key}: {why}"))
}

fn positive(key: &str, value: Option<i64>, default: i64) -> Result<i64, SettingsError> {
    match value.unwrap_or(default) {
        v if v > 0 => Ok(v),
        _ => Err(bad_value(key, "must be a positive number of seconds")),
    }
}

/// `sweep_interval_seconds`: 0 (never) up to a week, an hour when not set.
fn sweep_interval(value: Option<u64>) -> Result<u64, SettingsError> {
    let seconds = value.unwrap_or(3600);
    if seconds > MAX_SWEEP_INTERVAL {
        let why = "must be between 0 (never) and 604800 seconds (a week)";
        return Err(bad_value("sweep_interval_seconds", why));
    }
    Ok(seconds)
}

/// A number of seconds from 1 to `max`, `default` when not set.
fn seconds_between(
    key: &str,
    value: Option<i64>,
    default: i64,
    max: i64,
) -> Result<i64, SettingsError> {
    match value.unwrap_or(default) {
        v if (1..=max).contains(&v) => Ok(v),
        _ => Err(bad_value(
            key,
            &format!("must be between 1 and {max} seconds"),
        )),
    }
}

fn timeout(key: &str, value: Option<u64>, default: u64) -> Result<u64, SettingsError> {
    match value.unwrap_or(default) {
        v @ 1..=MAX_TIMEOUT_SECONDS => Ok(v),
        _ => Err(bad_value(key, "must be between 1 and 3600 seconds")),
    }
}

fn known_scopes(
    key: &str,
    scopes: &BTreeMap<String, String>,
    names: &[String],
) -> Result<(), SettingsError> {
    match names.iter().find(|n| !scopes.contains_key(*n)) {
        Some(unknown) => Err(bad_value(key, &format!("{unknown:?} is not in scopes"))),
        None => Ok(()),
    }
}

/// `self_service_grants`: known grant names; by default every grant but implicit (RFC 9700
/// §2.1.2 discourages it) and password (§2.4 forbids it), which remain for administrators
/// migrating DOT apps.
fn self_service_grants(names: Option<Vec<String>>) -> Result<Vec<GrantType>, SettingsError> {
    let Some(names) = names else {
        let legacy = [GrantType::Implicit, GrantType::Password];
        return Ok(GrantType::ALL
            .into_iter()
            .filter(|g| !legacy.contains(g))
            .collect());
    };
    names
        .iter()
        .map(|name| {
            GrantType::from_cli_name(name).ok_or_else(|| {
                bad_value(
                    "self_service_grants",
                    &format!("{name:?} is not a grant type"),
                )
            })
        })
        .collect()
}

/// RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
fn is_uri_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Settings::from_toml(text)
            .err()
            .map(|e| e.0)
            .unwrap_or_default()
    }

    #[test]
    fn public_url_is_the_issuer_less_its_trailing_slash() {
        for text in ["https://id.example", "https://id.example/"] {
            let s = Settings::from_toml(&format!("public_url = {text:?}")).unwrap();
            assert_eq!(s.issuer.as_deref(), Some("https://id.example"));
            assert!(s.is_https());
        }
        let port = Settings::from_toml("public_url = \"http://127.0.0.1:8000\"").unwrap();
        assert_eq!(port.issuer.as_deref(), Some("http://127.0.0.1:8000"));
        assert_eq!(Settings::from_toml("").unwrap().issuer, None);
    }

    #[test]
    fn the_openid_scopes_are_built_in_and_never_granted_unasked() {
        let s = Settings::from_toml(
            "scopes = { read = \"R\", email = \"Your mail\" }\ndefault_scopes = \"__all__\"",
        )
        .unwrap();
        assert_eq!(s.scopes["email"], "Your mail", "configured words win");
        assert_eq!(s.scopes["openid"], OPENID_SCOPES[0].1);
        assert_eq!(s.default_scopes, ["email", "read"]);
        let asked = Settings::from_toml("default_scopes = [\"openid\", \"read\"]").unwrap();
        assert_eq!(asked.default_scopes, ["openid", "read"]);
    }

    #[test]
    fn defaults_follow_dot() {
        let s = Settings::from_toml("").unwrap();
        assert_eq!(
            s.scopes.keys().collect::<Vec<_>>(),
            [
                "email",
                "offline_access",
                "openid",
                "profile",
                "read",
                "write"
            ]
        );
        assert_eq!(s.default_scopes, ["read", "write"]);
        assert_eq!(s.access_token_expire_seconds, 36000);
        assert_eq!(s.authorization_code_expire_seconds, 60);
        assert_eq!(s.refresh_token_expire_seconds, None);
        assert!(s.rotate_refresh_token);
        assert_eq!(s.refresh_token_grace_period_seconds, 0);
        assert_eq!(s.request_approval_prompt, ApprovalPrompt::Force);
        assert_eq!(s.client_secret_length, 128);
        assert!(!s.accept_json_bodies);
        assert_eq!(s.durability, Durability::Full);
        assert_eq!(s.session_expire_seconds, 1_209_600);
        assert_eq!(s.sweep_interval_seconds, 3600);
        assert_eq!(
            (s.device_code_expire_seconds, s.device_flow_interval),
            (600, 5)
        );
        assert_eq!(s.public_url, None);
        assert_eq!(s.pkce_required, PkceRequired::Public);
        assert_eq!((s.site_name.as_str(), s.custom_css), ("oauthd", None));
        assert_eq!(
            (
                s.header_timeout_seconds,
                s.body_timeout_seconds,
                s.idle_timeout_seconds
            ),
            (10, 20, 30)
        );
        assert_eq!(s.max_connections, 1024);
        assert_eq!(s.trusted_proxies, TrustedProxies::default());
        assert_eq!(s.log_format, LogFormat::Text);
        assert!(s.access_log);
        assert!(!s.metrics);
        assert_eq!(s.registration, RegistrationMode::Off);
        assert_eq!(
            (s.signing_key_file, s.id_token_expire_seconds),
            (None, 3600)
        );
        assert!(s.admin_scopes.is_empty(), "introspection is not configured");
        let every_but_legacy = GrantType::ALL
            .into_iter()
            .filter(|g| !matches!(g, GrantType::Implicit | GrantType::Password));
        assert_eq!(s.self_service_grants, every_but_legacy.collect::<Vec<_>>());
        assert!(
            s.self_service_grants
                .contains(&GrantType::AuthorizationCode)
        );
        let legacy = Settings::from_toml("self_service_grants = [\"implicit\"]").unwrap();
        assert_eq!(legacy.self_service_grants, [GrantType::Implicit]);
        let with = Settings::from_toml("scopes = { read = \"R\", introspection = \"I\" }").unwrap();
        assert_eq!(with.admin_scopes, ["introspection"]);
    }

    #[test]
    fn custom_css_is_read_relative_to_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("brand.css"), "body { color: teal }").unwrap();
        let config = dir.path().join("oauthd.toml");
        std::fs::write(
            &config,
            "site_name = \" Acme <ID> \"\ncustom_css = \"brand.css\"",
        )
        .unwrap();
        let s = Settings::load(Some(&config)).unwrap();
        assert_eq!(s.site_name, "Acme <ID>");
        assert_eq!(s.custom_css.as_deref(), Some("body { color: teal }"));
    }

    #[test]
    fn signing_key_file_is_relative_to_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("oauthd.toml");
        std::fs::write(&config, "signing_key_file = \"keys/id.jwks\"").unwrap();
        let s = Settings::load(Some(&config)).unwrap();
        assert_eq!(s.signing_key_file, Some(dir.path().join("keys/id.jwks")));
        let absolute = Settings::from_toml("signing_key_file = \"/etc/oauthd/keys\"").unwrap();
        assert_eq!(
            absolute.signing_key_file,
            Some(PathBuf::from("/etc/oauthd/keys"))
        );
    }

    #[test]
    fn a_full_file_is_read() {
        let s = Settings::from_toml(
            r#"
            scopes = { read = "Read", write = "Write", groups = "Groups" }
            default_scopes = ["read"]
            refresh_token_expire_seconds = 3600
            refresh_token_grace_period_seconds = 5
            durability = "normal"
            request_approval_prompt = "auto"
            header_timeout_seconds = 2
            max_connections = 8
            trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]
            log_format = "json"
            id_token_expire_seconds = 600
            sweep_interval_seconds = 0
            "#,
        )
        .unwrap();
        assert_eq!(s.default_scopes, ["read"]);
        assert_eq!(s.refresh_token_expire_seconds, Some(3600));
        assert_eq!(s.refresh_token_grace_period_seconds, 5);
        assert_eq!(s.durability, Durability::Normal);
        assert_eq!(s.request_approval_prompt, ApprovalPrompt::Auto);
        assert_eq!((s.header_timeout_seconds, s.max_connections), (2, 8));
        assert_eq!(
            s.trusted_proxies,
            TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap()
        );
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.id_token_expire_seconds, 600);
        assert_eq!(s.sweep_interval_seconds, 0, "never");
    }

    #[test]
    fn all_expands_to_every_scope() {
        let s =
            Settings::from_toml("scopes = { a = \"A\", b = \"B\" }\ndefault_scopes = \"__all__\"")
                .unwrap();
        assert_eq!(s.default_scopes, ["a", "b"]);
    }

    #[test]
    fn bad_settings_name_their_key() {
        for (text, key) in [
            ("rotate_refresh_tokens = true", "rotate_refresh_tokens"),
            (
                "access_token_expire_seconds = -1",
                "access_token_expire_seconds",
            ),
            (
                "access_token_expire_seconds = \"ten\"",
                "access_token_expire_seconds",
            ),
            (
                "authorization_code_expire_seconds = 601",
                "authorization_code_expire_seconds",
            ),
            ("default_scopes = [\"admin\"]", "default_scopes"),
            ("default_scopes = \"everything\"", "default_scopes"),
            ("durability = \"sometimes\"", "durability"),
            ("client_secret_length = 8", "client_secret_length"),
            ("session_expire_seconds = 0", "session_expire_seconds"),
            ("pkce_required = \"some\"", "pkce_required"),
            ("registration = \"closed\"", "registration"),
            ("public_url = \"example.com\"", "public_url"),
            ("public_url = \"https://id.example/auth\"", "public_url"),
            ("public_url = \"https://id.example/?x=1\"", "public_url"),
            ("public_url = \"https://id.example/#f\"", "public_url"),
            ("public_url = \"https://u@id.example\"", "public_url"),
            ("public_url = \"https://ID.example\"", "public_url"),
            ("public_url = \" https://id.example\"", "public_url"),
            ("public_url = \"https://id.example:443\"", "public_url"),
            ("read_scope = \"look\"", "read_scope"),
            (
                "allowed_redirect_uri_schemes = [\"ht tp\"]",
                "allowed_redirect_uri_schemes",
            ),
            ("scopes = { \"a b\" = \"x\" }", "scopes"),
            ("site_name = \"  \"", "site_name"),
            ("admin_scopes = [\"root\"]", "admin_scopes"),
            ("self_service_grants = [\"magic\"]", "self_service_grants"),
            ("self_service_grants = \"implicit\"", "self_service_grants"),
            ("site_name = \"a\\nb\"", "site_name"),
            ("custom_css = \"/nonexistent/brand.css\"", "custom_css"),
            ("header_timeout_seconds = 0", "header_timeout_seconds"),
            ("body_timeout_seconds = 3601", "body_timeout_seconds"),
            ("idle_timeout_seconds = -1", "idle_timeout_seconds"),
            ("max_connections = 0", "max_connections"),
            ("trusted_proxies = [\"10.0.0.0/33\"]", "trusted_proxies"),
            ("trusted_proxies = \"10.0.0.1\"", "trusted_proxies"),
            ("log_format = \"xml\"", "log_format"),
            ("access_log = \"yes\"", "access_log"),
            ("id_token_expire_seconds = 0", "id_token_expire_seconds"),
            ("id_token_expire_seconds = 86401", "id_token_expire_seconds"),
            ("signing_key_file = 7", "signing_key_file"),
            (
                "refresh_token_grace_period_seconds = -1",
                "refresh_token_grace_period_seconds",
            ),
            (
                "refresh_token_grace_period_seconds = 3601",
                "refresh_token_grace_period_seconds",
            ),
            ("sweep_interval_seconds = 604801", "sweep_interval_seconds"),
            ("sweep_interval_seconds = -1", "sweep_interval_seconds"),
            (
                "device_code_expire_seconds = 0",
                "device_code_expire_seconds",
            ),
            (
                "device_code_expire_seconds = 1801",
                "device_code_expire_seconds",
            ),
            ("device_flow_interval = 0", "device_flow_interval"),
            ("device_flow_interval = 61", "device_flow_interval"),
        ] {
            let message = err(text);
            assert!(message.contains(key), "{text:?} gave {message:?}");
        }
    }
}
