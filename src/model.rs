//! Plain records shared by the store (which loads them) and the protocol core (which judges them).

use crate::oauth::pkce::Challenge;
use crate::oauth::resource::Resources;
use crate::oauth::scope::Scopes;
use crate::secret::Digest32;
use std::fmt;

/// RFC 6749 §2.1 client types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    /// Can keep a secret: authenticates with one.
    Confidential,
    /// Cannot keep a secret: identifies itself by client_id alone.
    Public,
}

impl ClientType {
    /// The stored and command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::Confidential => "confidential",
            ClientType::Public => "public",
        }
    }

    /// Parses the stored and command-line name.
    pub fn parse(text: &str) -> Option<ClientType> {
        match text {
            "confidential" => Some(ClientType::Confidential),
            "public" => Some(ClientType::Public),
            _ => None,
        }
    }
}

/// The grant types an application may be registered for (DOT's authorization_grant_type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GrantType {
    /// RFC 6749 §4.1.
    AuthorizationCode,
    /// RFC 6749 §4.2.
    Implicit,
    /// RFC 6749 §4.3, resource owner password credentials.
    Password,
    /// RFC 6749 §4.4.
    ClientCredentials,
    /// RFC 8628: a device without a browser polls while its user approves elsewhere.
    DeviceCode,
}

impl GrantType {
    /// Every grant type, in display order.
    pub const ALL: [GrantType; 5] = [
        GrantType::AuthorizationCode,
        GrantType::Implicit,
        GrantType::Password,
        GrantType::ClientCredentials,
        GrantType::DeviceCode,
    ];

    /// The name used on the command line, in forms and in the database (DOT's choice values).
    pub(crate) fn cli_name(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization-code",
            GrantType::Implicit => "implicit",
            GrantType::Password => "password",
            GrantType::ClientCredentials => "client-credentials",
            GrantType::DeviceCode => "device-code",
        }
    }

    /// The name on the wire: the token request's `grant_type` and the metadata's
    /// `grant_types_supported` (RFC 6749 §4, RFC 7591 §2).
    pub(crate) fn wire_name(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::Implicit => "implicit",
            GrantType::Password => "password",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
        }
    }

    /// Parses the command-line and database name.
    pub(crate) fn from_cli_name(text: &str) -> Option<GrantType> {
        GrantType::ALL.into_iter().find(|g| g.cli_name() == text)
    }

    /// Parses the wire name.
    pub(crate) fn from_wire_name(text: &str) -> Option<GrantType> {
        GrantType::ALL.into_iter().find(|g| g.wire_name() == text)
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cli_name())
    }
}

/// A registered client application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Row id.
    pub id: i64,
    /// The random id the pages name it by; never reused (unlike the row id).
    pub public_id: String,
    /// Public identifier.
    pub client_id: String,
    /// SHA-256 of the client secret; `None` for public clients.
    pub secret_digest: Option<Digest32>,
    /// What its registration set (and its owner may change).
    pub fields: AppFields,
    /// An administrator disabled it: only an administrator can enable it again.
    pub disabled_by_admin: bool,
    /// DOT's is_usable: its owner's switch is on, no administrator disabled it, and its owner
    /// (if any) is active. An unusable app cannot authenticate, be authorized or use its tokens.
    pub usable: bool,
    /// Owning user, if any.
    pub owner_id: Option<i64>,
    /// A client registered it itself at the registration endpoint (RFC 7591); it has no owner.
    pub dynamically_registered: bool,
}

/// What a registration form (or `app add`) sets and an owner may change later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppFields {
    /// Display name.
    pub name: String,
    /// Confidential or public.
    pub client_type: ClientType,
    /// Grant types it may use.
    pub grant_types: Vec<GrantType>,
    /// Registered redirect URIs, compared exactly.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser afterwards (OpenID Connect RP-Initiated
    /// Logout 1.0 §3.1), compared exactly; may be empty.
    pub post_logout_redirect_uris: Vec<String>,
    /// The web origins whose pages may read the answers of the token, revocation,
    /// introspection, userinfo and resource endpoints (CORS), as browsers send them.
    pub allowed_origins: Vec<String>,
    /// The resources (RFC 8707 indicators) it may request, compared exactly; empty: any.
    pub allowed_resources: Vec<String>,
    /// Scopes it may request; `None`: every configured scope.
    pub allowed_scopes: Option<Scopes>,
    /// Skip the consent page (DOT's skip_authorization; set by administrators only).
    pub skip_authorization: bool,
    /// The owner's switch (see [`Application::usable`] for what else decides).
    pub enabled: bool,
}

impl Application {
    /// Whether the app is registered for `grant`.
    pub fn allows(&self, grant: GrantType) -> bool {
        self.fields.grant_types.contains(&grant)
    }
}

/// A resource owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Contact address, may be empty.
    pub email: String,
    /// An administrator or the CLI set `email` (OpenID Connect's `email_verified` claim).
    pub email_verified: bool,
    /// Display name (the `name` claim), empty when unknown.
    pub name: String,
    /// The OpenID Connect subject (`sub`): random, unique and never reassigned, unlike the
    /// username (which may change) and the row id (which SQLite may reuse).
    pub subject: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// May use the admin pages and create users.
    pub is_admin: bool,
    /// A disabled user cannot log in and their tokens stop working.
    pub is_active: bool,
}

/// A form's problems, each with the field it belongs to, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldErrors(pub Vec<(&'static str, String)>);

impl FieldErrors {
    /// Every message for `field`, joined, if it has any.
    pub fn get(&self, field: &str) -> Option<String> {
        let messages: Vec<&str> = self
            .0
            .iter()
            .filter(|(name, _)| *name == field)
            .map(|(_, message)| message.as_str())
            .collect();
        (!messages.is_empty()).then(|| messages.join(" "))
    }

    /// Records a problem with `field`.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    /// No problem was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A group of users (the DRF tutorial's `/groups/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Row id.
    pub id: i64,
    /// Unique name.
    pub name: String,
}

/// An original authorization; every token from it, across refreshes, belongs to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Row id.
    pub id: i64,
    /// The client it was granted to.
    pub application_id: i64,
    /// The resource owner; `None` for client_credentials.
    pub user_id: Option<i64>,
    /// The scope the resource owner granted.
    pub scope: Scopes,
    /// The resources it is for (RFC 8707): the authorization request's, or (without a code)
    /// the token request's; empty: not limited to any.
    pub resources: Resources,
    /// When the user authenticated to grant it (an interactive grant), for the `auth_time`
    /// of id_tokens issued on refresh.
    pub auth_time: Option<i64>,
}

/// An access token as loaded for validation, with what it was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// Row id.
    pub id: i64,
    /// The grant it was issued from.
    pub grant: Grant,
    /// Its scope (may be narrower than the grant's).
    pub scope: Scopes,
    /// Its audience (RFC 8707 §2.2): the grant's resources, or fewer.
    pub resources: Resources,
    /// Issued at, unix seconds.
    pub created: i64,
    /// Expires at, unix seconds.
    pub expires: i64,
    /// The client's public id.
    pub client_id: String,
    /// The client may be used (see [`Application::usable`]).
    pub app_usable: bool,
    /// The owner's username, when there is one.
    pub username: Option<String>,
    /// The owner is an admin.
    pub user_is_admin: bool,
    /// The owner is active (always true when there is no owner).
    pub user_is_active: bool,
}

impl AccessToken {
    /// RFC 6750 §3.1: usable now — not expired, its client enabled, its user active.
    pub fn is_active(&self, now: i64) -> bool {
        now < self.expires && self.app_usable && self.user_is_active
    }
}

/// A refresh token as loaded for a refresh or a revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// Row id.
    pub id: i64,
    /// The grant it belongs to.
    pub grant: Grant,
    /// The access token it was issued with, if that still exists.
    pub access_token_id: Option<i64>,
    /// Issued at, unix seconds.
    pub created: i64,
    /// When it was rotated out or revoked; `None` while live.
    pub revoked: Option<i64>,
    /// The client's public id.
    pub client_id: String,
    /// The owner's username, when there is one.
    pub username: Option<String>,
    /// The client is enabled and the owner (if any) is active.
    pub holders_active: bool,
    /// The refresh token that replaced this one by rotation, while that one is still live
    /// (not refreshed, not revoked): what a retry within the grace period supersedes.
    pub live_successor: Option<i64>,
}

impl RefreshToken {
    /// When it expires under `lifetime` (refresh_token_expire_seconds); `None`: never.
    pub fn expires(&self, lifetime: Option<i64>) -> Option<i64> {
        lifetime.map(|life| self.created + life)
    }

    /// Usable now: not retired, not expired, its client enabled and its user active.
    pub fn is_active(&self, now: i64, lifetime: Option<i64>) -> bool {
        self.revoked.is_none() && self.is_unexpired_and_held(now, lifetime)
    }

    /// Not expired, its client enabled and its user active, whether retired or not.
    pub(crate) fn is_unexpired_and_held(&self, now: i64, lifetime: Option<i64>) -> bool {
        self.holders_active && self.expires(lifetime).is_none_or(|exp| now < exp)
    }
}

/// An authorization code as loaded for its exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// Row id.
    pub id: i64,
    /// The client it was issued to.
    pub application_id: i64,
    /// The user who approved.
    pub user_id: i64,
    /// The user is still active.
    pub user_active: bool,
    /// Where the code was sent.
    pub redirect_uri: String,
    /// The authorization request named the redirect URI, so the exchange must repeat it.
    pub redirect_uri_given: bool,
    /// The approved scope.
    pub scope: Scopes,
    /// The resources the authorization request named (RFC 8707).
    pub resources: Resources,
    /// The PKCE challenge it is bound to.
    pub challenge: Option<Challenge>,
    /// Expires at, unix seconds.
    pub expires: i64,
    /// When it was exchanged; `None` while unused.
    pub used: Option<i64>,
    /// The grant it was exchanged for.
    pub grant_id: Option<i64>,
    /// The request's `nonce`, for the id_token.
    pub nonce: Option<String>,
    /// When the user last authenticated before approving (`None` for codes from before
    /// OpenID Connect).
    pub auth_time: Option<i64>,
}

/// Where a device code stands (RFC 8628 §3.3–3.5): waiting for its user, or decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Nobody has approved or denied it yet.
    Pending,
    /// A user allowed it; the device's next poll gets the tokens.
    Approved,
    /// A user denied it.
    Denied,
}

impl DeviceStatus {
    /// The stored name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Pending => "pending",
            DeviceStatus::Approved => "approved",
            DeviceStatus::Denied => "denied",
        }
    }

    /// Parses the stored name.
    pub(crate) fn parse(text: &str) -> Option<DeviceStatus> {
        [
            DeviceStatus::Pending,
            DeviceStatus::Approved,
            DeviceStatus::Denied,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A device authorization (RFC 8628 §3.2) as loaded for a poll or for its user's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    /// Row id.
    pub id: i64,
    /// The client that asked for it.
    pub application_id: i64,
    /// The scope it asks for, then the one approved.
    pub scope: Scopes,
    /// The resources (RFC 8707) it asks for, shown on the consent page; none: not limited.
    pub resources: Resources,
    /// Seconds the device must wait between polls, as given to it; each `slow_down` grows
    /// it in memory only (`http::device_pacing`).
    pub interval: i64,
    /// Pending, approved or denied.
    pub status: DeviceStatus,
    /// The user who decided, once one did.
    pub user_id: Option<i64>,
    /// That user is still active (true while nobody decided).
    pub user_active: bool,
    /// When the deciding user last authenticated (the id_token's `auth_time`).
    pub auth_time: Option<i64>,
    /// Expires at, unix seconds.
    pub expires: i64,
    /// When the device exchanged it for tokens; `None` while unused.
    pub used: Option<i64>,
    /// The grant it was exchanged for (revoked if the code comes back).
    pub grant_id: Option<i64>,
}
