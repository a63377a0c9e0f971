//! The provider's metadata (OIDC Discovery 1.0 §3, RFC 8414 §2): one document, served at
//! `/.well-known/openid-configuration`, DOT's `/o/.well-known/openid-configuration/` and
//! `/.well-known/oauth-authorization-server`. Every list comes from the enums the code itself
//! uses, so the document cannot promise what the server does not do.

use crate::http::App;
use crate::http::handlers::client_registration;
use crate::http::paths;
use crate::http::response::{HttpError, Resp};
use crate::oauth::client::AuthMethod;
use crate::oauth::id_token::CLAIMS_SUPPORTED;
use crate::oauth::pkce::Method;
use crate::oauth::prompt::PROMPT_VALUES;
use crate::oauth::response_type::{ResponseMode, ResponseType};
use crate::oauth::token::grant_types_supported;
use crate::settings::PkceRequired;
use serde_json::{Value, json};

/// How long relying parties may cache the metadata.
const METADATA_MAX_AGE: u32 = 3600;

/// How long relying parties may cache the JWKS: short, so that a rotated key is fetched soon
/// (most libraries also fetch again when they meet an unknown `kid`).
const JWKS_MAX_AGE: u32 = 300;

/// The public signing keys (RFC 7517 §5), DOT's `/o/.well-known/jwks.json`: the current key
/// and the retired ones whose id_tokens may still be valid.
pub(crate) fn jwks(app: &App) -> Result<Resp, HttpError> {
    let keys = app.signing_keys.jwks(&app.store, app.clock.now())?;
    Ok(public_document(&keys, JWKS_MAX_AGE))
}

/// The metadata document.
pub(crate) fn metadata(app: &App) -> Resp {
    public_document(&document(app), METADATA_MAX_AGE)
}

fn document(app: &App) -> Value {
    let mut document = fixed_document(app);
    // RFC 8414 §2: named only when clients may register.
    if let (true, Some(object)) = (client_registration::is_on(app), document.as_object_mut()) {
        let endpoint = format!("{}{}", app.issuer, paths::CLIENT_REGISTRATION);
        object.insert("registration_endpoint".into(), endpoint.into());
    }
    document
}

/// The document's members that do not depend on what is switched on.
fn fixed_document(app: &App) -> Value {
    let issuer = app.issuer.as_str();
    let at = |path: &str| format!("{issuer}{path}");
    let auth_methods: Vec<_> = AuthMethod::ALL.map(AuthMethod::as_str).to_vec();
    // A public client cannot introspect: it would learn about tokens with nothing to prove.
    let introspection_methods: Vec<_> = auth_methods
        .iter()
        .copied()
        .filter(|m| *m != AuthMethod::None.as_str())
        .collect();
    // plain is only accepted where S256 is not required of every client.
    let challenge_methods: Vec<_> = Method::ALL
        .into_iter()
        .filter(|m| *m == Method::S256 || app.settings.pkce_required != PkceRequired::All)
        .map(Method::as_str)
        .collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": at(paths::AUTHORIZE),
        "token_endpoint": at(paths::TOKEN),
        "userinfo_endpoint": at(paths::USERINFO),
        "jwks_uri": at(paths::JWKS),
        "revocation_endpoint": at(paths::REVOKE_TOKEN),
        "introspection_endpoint": at(paths::INTROSPECT),
        "end_session_endpoint": at(paths::RP_INITIATED_LOGOUT),
        "device_authorization_endpoint": at(paths::DEVICE_AUTHORIZATION),
        "scopes_supported": app.settings.scopes.keys().collect::<Vec<_>>(),
        "response_types_supported": ResponseType::ALL.map(ResponseType::as_str),
        "response_modes_supported": ResponseMode::ALL.map(ResponseMode::as_str),
        "grant_types_supported": grant_types_supported(),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": introspection_methods,
        "code_challenge_methods_supported": challenge_methods,
        "claims_supported": CLAIMS_SUPPORTED,
        "prompt_values_supported": PROMPT_VALUES,
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    })
}

/// A document anyone may read and cache; `crate::http::cors` lets any origin read it
/// (docs/security.md rule 44: `*` only for public documents, never with credentials).
pub(crate) fn public_document(value: &Value, max_age: u32) -> Resp {
    Resp::json(200, value).with_header("Cache-Control", format!("public, max-age={max_age}"))
}
