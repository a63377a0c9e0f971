//! `POST /o/introspect/` (RFC 7662): token metadata for resource servers and clients.

use crate::http::App;
use crate::http::bearer;
use crate::http::handlers::{authenticate_client, oauth_params};
use crate::http::request::{BearerHeader, Req};
use crate::http::response::{HttpError, Resp};
use crate::model::ClientType;
use crate::oauth::error::OAuthError;
use crate::oauth::resource::Resources;
use crate::oauth::scope::Requirement;
use crate::secret;
use serde::Serialize;

/// The scope a bearer token needs to introspect any token (DOT's convention).
pub(crate) const INTROSPECTION_SCOPE: &str = "introspection";

/// Why a user's token may not introspect even with the scope: a token that any user could
/// ask for would otherwise read every client's tokens (RFC 7662 §4).
const RESOURCE_SERVERS_ONLY: &str =
    "Only a resource server's own token (from client_credentials) may introspect.";

/// RFC 7662 §2.2 response; an inactive token shows `active: false` and nothing else.
#[derive(Serialize, Default)]
struct Introspection {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<Audience>,
}

/// RFC 7662 §2.2 `aud` (as RFC 7519 §4.1.3 has it): one resource as a string, several as an
/// array.
#[derive(Serialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Several(Vec<String>),
}

impl Audience {
    /// The audience of a token for `resources`; `None` when it names none.
    fn of(resources: &Resources) -> Option<Audience> {
        match resources.as_slice() {
            [] => None,
            [one] => Some(Audience::One(one.clone())),
            several => Some(Audience::Several(several.to_vec())),
        }
    }
}

/// The introspection endpoint. A resource server may inspect any token: with a bearer token
/// from client_credentials holding the `introspection` scope, or (RFC 7662 §2.1's usual way)
/// with its own client credentials, when it is a confidential client explicitly allowed that
/// scope. Any other confidential client authenticated with its secret sees only tokens issued
/// to itself, anyone else's reads as inactive. Public clients cannot introspect: their
/// client_id is no secret.
pub(crate) fn introspect(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let now = app.clock.now();
    let params = oauth_params(app, req)?;
    let only_client = match req.bearer_token() {
        BearerHeader::Token(_) | BearerHeader::Malformed => {
            let requirement = Requirement::HasScope(vec![INTROSPECTION_SCOPE.into()]);
            let caller = bearer::authorize(app, req, &requirement, now)?;
            if caller.grant.user_id.is_some() {
                return Err(HttpError::Api(403, RESOURCE_SERVERS_ONLY.into()));
            }
            None
        }
        BearerHeader::Absent => {
            let client = authenticate_client(app, req, &params)?;
            if client.fields.client_type != ClientType::Confidential {
                return Err(OAuthError::UnauthorizedClient(
                    "A public client cannot introspect tokens.".into(),
                )
                .into());
            }
            // Only an explicit allowance counts: an app allowed "every scope" (no list) was
            // not made a resource server by anyone.
            let resource_server = client
                .fields
                .allowed_scopes
                .as_ref()
                .is_some_and(|scopes| scopes.contains(INTROSPECTION_SCOPE));
            (!resource_server).then_some(client.id)
        }
    };
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::missing("token"))?;
    let visible = |application_id: i64| only_client.is_none_or(|id| id == application_id);
    let digest = secret::digest(token);
    let answer = if let Some(access) = app.store.find_access_token(&digest)? {
        match access.is_active(now) && visible(access.grant.application_id) {
            true => Introspection {
                active: true,
                scope: Some(access.scope.to_string()),
                client_id: Some(access.client_id),
                username: access.username,
                token_type: Some("Bearer"),
                exp: Some(access.expires),
                iat: Some(access.created),
                aud: Audience::of(&access.resources),
            },
            false => Introspection::default(),
        }
    } else if let Some(refresh) = app.store.find_refresh_token(&digest)? {
        let lifetime = app.settings.refresh_token_expire_seconds;
        match refresh.is_active(now, lifetime) && visible(refresh.grant.application_id) {
            true => Introspection {
                active: true,
                scope: Some(refresh.grant.scope.to_string()),
                token_type: Some("refresh_token"),
                exp: refresh.expires(lifetime),
                client_id: Some(refresh.client_id),
                iat: Some(refresh.created),
                username: refresh.username,
                aud: Audience::of(&refresh.grant.resources),
            },
            false => Introspection::default(),
        }
    } else {
        Introspection::default()
    };
    Ok(Resp::json_no_store(200, &answer))
}
