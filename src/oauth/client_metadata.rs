//! RFC 7591 client metadata: a registration request's JSON read into the same form the pages
//! fill in, checked by the same rules ([`registration::validate`], as a user who is not an
//! administrator), plus what only a client registering itself is refused (docs/security.md
//! rule 68); and the §3.2.1 response that echoes what was registered.

use crate::model::{AppFields, ClientType, FieldErrors, GrantType};
use crate::oauth::client::AuthMethod;
use crate::oauth::error::OAuthError;
use crate::oauth::redirect::is_plain_http_off_loopback;
use crate::oauth::registration::{self, AppForm, Rules};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::fmt;

/// The grants a client may register for, by wire name. `refresh_token` is accepted besides
/// them: it comes with both and is not stored as a grant of its own.
const REGISTRABLE_GRANTS: &[GrantType] = &[GrantType::AuthorizationCode, GrantType::DeviceCode];
/// The wire name of the refresh grant (RFC 6749 §6).
const REFRESH_TOKEN: &str = "refresh_token";
/// The only response type a registered client may use (RFC 6749 §4.1).
const CODE: &str = "code";
/// The name of a client that sent no `client_name`.
const DEFAULT_NAME: &str = "Unnamed registered client";
/// The most redirect (or post-logout redirect) URIs one registration may list.
const MAX_URIS: usize = 20;
/// The longest redirect URI accepted.
const MAX_URI_CHARS: usize = 2000;

/// A registration request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Registration {
    /// What is stored (no owner; never skips consent).
    pub fields: AppFields,
    /// How it will authenticate at the token endpoint.
    pub auth_method: AuthMethod,
}

/// Parses a registration request's body: JSON whose top-level object names each field once.
/// serde_json keeps the last of a repeated key silently, so a second `redirect_uris` would
/// replace the first unseen; like a form parameter sent twice, it is refused instead.
pub(crate) fn parse(body: &[u8]) -> Result<Value, OAuthError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| invalid("The body is not valid JSON."))?;
    if value.is_object() {
        // Valid JSON, so the only error left is a repeated key.
        if let Ok(RepeatedKey(Some(key))) = serde_json::from_slice(body) {
            return Err(invalid(&format!(
                "The field {key:?} was sent more than once."
            )));
        }
    }
    Ok(value)
}

/// The first key a JSON object repeats, if any.
struct RepeatedKey(Option<String>);

impl<'de> Deserialize<'de> for RepeatedKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RepeatedKeyVisitor)
    }
}

/// Reads an object's keys, skipping its values.
struct RepeatedKeyVisitor;

impl<'de> Visitor<'de> for RepeatedKeyVisitor {
    type Value = RepeatedKey;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RepeatedKey, A::Error> {
        let mut seen = HashSet::new();
        let mut repeated = None;
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            if seen.contains(&key) {
                repeated.get_or_insert(key);
            } else {
                seen.insert(key);
            }
        }
        Ok(RepeatedKey(repeated))
    }
}

/// Reads a registration request (RFC 7591 §2, §3.1). Unknown fields are ignored (§2); a
/// field of the wrong JSON type, a value not offered here or a field the pages' rules refuse
/// is `invalid_client_metadata`, a bad redirect URI `invalid_redirect_uri` (§3.2.2).
pub(crate) fn read(body: &Value, rules: &Rules<'_>) -> Result<Registration, OAuthError> {
    let Some(object) = body.as_object() else {
        return Err(invalid(
            "The body must be a JSON object of client metadata.",
        ));
    };
    let auth_method = match string(object, "token_endpoint_auth_method")? {
        None => AuthMethod::ClientSecretBasic,
        Some(name) => AuthMethod::parse(name).ok_or_else(|| {
            invalid(&format!(
                "token_endpoint_auth_method {name:?} is not supported; use none, \
                 client_secret_basic or client_secret_post."
            ))
        })?,
    };
    let client_type = match auth_method {
        AuthMethod::None => ClientType::Public,
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => ClientType::Confidential,
    };
    let grants = grant_types(object)?;
    let code_flow = grants.contains(&GrantType::AuthorizationCode);
    // RFC 7591 §2.1: the response types that go with the grants, unless said otherwise.
    let implied = if code_flow { vec![CODE] } else { Vec::new() };
    let response_types = strings(object, "response_types")?.unwrap_or(implied);
    if let Some(other) = response_types.iter().find(|r| **r != CODE) {
        return Err(invalid(&format!(
            "response_type {other:?} is not supported; use code."
        )));
    }
    if response_types.contains(&CODE) != code_flow {
        return Err(invalid(
            "response_types code goes with the authorization_code grant, and only with it.",
        ));
    }
    // Required for the code flow only: the pages' rules say so (`invalid_redirect_uri`).
    let redirect_uris = uris(object, "redirect_uris")?;
    let post_logout_redirect_uris = uris(object, "post_logout_redirect_uris")?;
    let scope_names: Vec<&str> = match string(object, "scope")? {
        Some(scope) => scope.split(' ').filter(|s| !s.is_empty()).collect(),
        None => rules
            .scopes
            .keys()
            .map(String::as_str)
            .filter(|s| !rules.admin_scopes.iter().any(|a| a == s))
            .collect(),
    };
    let form = AppForm {
        name: string(object, "client_name")?.unwrap_or(DEFAULT_NAME),
        client_type: client_type.as_str(),
        grant_types: grants.iter().map(|g| g.cli_name()).collect(),
        redirect_uris: &redirect_uris.join("\n"),
        post_logout_redirect_uris: &post_logout_redirect_uris.join("\n"),
        // RFC 7591 has no metadata for CORS origins: an administrator adds them.
        allowed_origins: "",
        // Any resource: an MCP client names its server's URL, unknown to an administrator.
        allowed_resources: "",
        allowed_scopes: Some(scope_names),
        skip_authorization: false,
        enabled: true,
    };
    let fields = registration::validate(&form, rules).map_err(refusal)?;
    Ok(Registration {
        fields,
        auth_method,
    })
}

/// The §3.2.1 response: the credentials (the secret, shown this once, for a confidential
/// client only; it never expires) and the metadata as registered (`fields`, authenticating
/// by `auth_method`).
pub(crate) fn response(
    fields: &AppFields,
    auth_method: AuthMethod,
    client_id: &str,
    client_secret: Option<&str>,
    issued_at: i64,
) -> Value {
    let mut grant_types: Vec<&str> = fields.grant_types.iter().map(|g| g.wire_name()).collect();
    // Both registrable grants come with refresh tokens.
    grant_types.push(REFRESH_TOKEN);
    let response_types: &[&str] = if fields.grant_types.contains(&GrantType::AuthorizationCode) {
        &[CODE]
    } else {
        &[]
    };
    let scope = fields
        .allowed_scopes
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut answer = json!({
        "client_id": client_id,
        "client_id_issued_at": issued_at,
        "client_name": fields.name,
        "token_endpoint_auth_method": auth_method.as_str(),
        "grant_types": grant_types,
        "response_types": response_types,
        "redirect_uris": fields.redirect_uris,
        "scope": scope,
    });
    if let Some(object) = answer.as_object_mut() {
        if !fields.post_logout_redirect_uris.is_empty() {
            object.insert(
                "post_logout_redirect_uris".into(),
                json!(fields.post_logout_redirect_uris),
            );
        }
        if let Some(secret) = client_secret {
            object.insert("client_secret".into(), json!(secret));
            object.insert("client_secret_expires_at".into(), json!(0));
        }
    }
    answer
}

/// The grants asked for (default: authorization_code), each one this endpoint offers.
fn grant_types(object: &Map<String, Value>) -> Result<Vec<GrantType>, OAuthError> {
    let names = strings(object, "grant_types")?.unwrap_or_else(|| vec!["authorization_code"]);
    let mut grants = Vec::new();
    for name in names.into_iter().filter(|n| *n != REFRESH_TOKEN) {
        let grant = REGISTRABLE_GRANTS
            .iter()
            .find(|g| g.wire_name() == name)
            .ok_or_else(|| {
                invalid(&format!(
                    "grant_type {name:?} cannot be registered here; use authorization_code \
                     (with refresh_token) or urn:ietf:params:oauth:grant-type:device_code."
                ))
            })?;
        grants.push(*grant);
    }
    if grants.is_empty() {
        return Err(invalid(
            "grant_types names no grant this client could start.",
        ));
    }
    Ok(grants)
}

/// A list of redirect URIs: at most [`MAX_URIS`], each at most [`MAX_URI_CHARS`], without
/// whitespace (the form separates URIs by it), never plain http off this machine.
fn uris<'a>(object: &'a Map<String, Value>, name: &str) -> Result<Vec<&'a str>, OAuthError> {
    let list = strings(object, name)?.unwrap_or_default();
    if list.len() > MAX_URIS {
        return Err(invalid(&format!("{name} lists more than {MAX_URIS} URIs.")));
    }
    for uri in &list {
        if uri.chars().count() > MAX_URI_CHARS {
            return Err(OAuthError::InvalidRedirectUri(format!(
                "A URI of {name} is longer than {MAX_URI_CHARS} characters."
            )));
        }
        if uri.is_empty() || uri.chars().any(char::is_whitespace) {
            return Err(OAuthError::InvalidRedirectUri(format!(
                "{uri:?} is empty or contains whitespace."
            )));
        }
        if is_plain_http_off_loopback(uri) {
            return Err(OAuthError::InvalidRedirectUri(format!(
                "{uri:?} is plain http to another machine; use https, or http on loopback."
            )));
        }
    }
    Ok(list)
}

/// The pages' field errors as the registration endpoint's error: `invalid_redirect_uri` when a
/// URI list is at fault, else `invalid_client_metadata`, each message naming its field.
fn refusal(errors: FieldErrors) -> OAuthError {
    let uri_fault = errors
        .0
        .iter()
        .any(|(field, _)| field.ends_with("redirect_uris"));
    let text = errors
        .0
        .iter()
        .map(|(field, message)| format!("{}: {message}", metadata_name(field)))
        .collect::<Vec<_>>()
        .join(" ");
    if uri_fault {
        OAuthError::InvalidRedirectUri(text)
    } else {
        OAuthError::InvalidClientMetadata(text)
    }
}

/// The metadata field a form field stands for.
fn metadata_name(field: &str) -> &str {
    match field {
        "name" => "client_name",
        "allowed_scopes" => "scope",
        "client_type" => "token_endpoint_auth_method",
        other => other,
    }
}

fn invalid(description: &str) -> OAuthError {
    OAuthError::InvalidClientMetadata(description.into())
}

/// A string field, if present (`null` counts as absent).
fn string<'a>(object: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, OAuthError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(invalid(&format!("{name} must be a string."))),
    }
}

/// An array-of-strings field, if present (`null` counts as absent).
fn strings<'a>(
    object: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<Vec<&'a str>>, OAuthError> {
    let must = || invalid(&format!("{name} must be an array of strings."));
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().ok_or_else(must))
            .collect::<Result<_, _>>()
            .map(Some),
        Some(_) => Err(must()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    fn settings() -> Settings {
        Settings::from_toml(
            "scopes = { read = \"R\", write = \"W\", introspection = \"I\" }\n\
             default_scopes = [\"read\"]",
        )
        .unwrap()
    }

    fn valid_request() -> Value {
        json!({
            "client_name": "bob\"e'i;--ü MCP",
            "redirect_uris": ["http://127.0.0.1:33418/callback"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "software_id": "ignored",
        })
    }

    fn with(change: impl FnOnce(&mut Map<String, Value>)) -> Value {
        let mut request = valid_request();
        if let Some(object) = request.as_object_mut() {
            change(object);
        }
        request
    }

    fn read_with(request: &Value) -> Result<Registration, OAuthError> {
        let settings = settings();
        read(request, &Rules::for_client(&settings))
    }

    #[test]
    fn a_field_sent_twice_is_refused_whatever_its_values() {
        let twice = br#"{"redirect_uris": ["http://127.0.0.1/cb"], "scope": "read",
            "redirect_uris": ["https://evil.example/cb"]}"#;
        assert_eq!(
            parse(twice),
            Err(invalid(
                "The field \"redirect_uris\" was sent more than once."
            ))
        );
        let nested = br#"{"client_name": "x", "jwks": {"a": 1, "a": 2}}"#;
        assert!(parse(nested).is_ok(), "only the top level names fields");
        assert_eq!(parse(b"[1, 1]"), Ok(json!([1, 1])), "read() refuses it");
        assert_eq!(parse(b"{"), Err(invalid("The body is not valid JSON.")));
    }

    #[test]
    fn a_public_client_gets_every_scope_but_the_admins() {
        let registered = read_with(&valid_request()).unwrap();
        assert_eq!(registered.auth_method, AuthMethod::None);
        let fields = &registered.fields;
        assert_eq!(fields.client_type, ClientType::Public);
        assert_eq!(fields.grant_types, [GrantType::AuthorizationCode]);
        assert_eq!(fields.name, "bob\"e'i;--ü MCP");
        let scopes = fields.allowed_scopes.as_ref().unwrap();
        assert!(
            scopes.contains("read") && scopes.contains("write"),
            "{scopes}"
        );
        assert!(
            !scopes.contains("introspection"),
            "an admin scope: {scopes}"
        );
        assert!(!fields.skip_authorization && fields.enabled);
        let answer = response(&registered.fields, registered.auth_method, "id", None, 9);
        assert_eq!(
            answer["grant_types"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(answer["client_id_issued_at"], 9);
        assert!(answer.get("client_secret").is_none());
    }

    #[test]
    fn the_default_is_a_confidential_code_client() {
        let request = with(|o| {
            o.remove("token_endpoint_auth_method");
            o.remove("grant_types");
            o.remove("response_types");
            o.remove("client_name");
            o.insert("scope".into(), json!("write"));
        });
        let registered = read_with(&request).unwrap();
        assert_eq!(registered.auth_method, AuthMethod::ClientSecretBasic);
        assert_eq!(registered.fields.client_type, ClientType::Confidential);
        assert_eq!(registered.fields.name, DEFAULT_NAME);
        let answer = response(
            &registered.fields,
            registered.auth_method,
            "id",
            Some("s"),
            9,
        );
        assert_eq!(answer["client_secret"], "s");
        assert_eq!(answer["client_secret_expires_at"], 0);
        assert_eq!(answer["scope"], "write");
    }

    #[test]
    fn a_device_client_needs_no_redirect_uri_and_has_no_response_type() {
        let device = GrantType::DeviceCode.wire_name();
        let request = json!({"grant_types": [device], "token_endpoint_auth_method": "none"});
        let registered = read_with(&request).unwrap();
        assert_eq!(registered.fields.grant_types, [GrantType::DeviceCode]);
        assert!(registered.fields.redirect_uris.is_empty());
        let answer = response(&registered.fields, registered.auth_method, "id", None, 9);
        assert_eq!(answer["grant_types"], json!([device, "refresh_token"]));
        assert_eq!(answer["response_types"], json!([]));
        let both = json!({"grant_types": ["authorization_code", device],
                          "redirect_uris": ["https://app.example/cb"]});
        let answer = response(
            &read_with(&both).unwrap().fields,
            AuthMethod::ClientSecretBasic,
            "id",
            None,
            9,
        );
        assert_eq!(answer["response_types"], json!(["code"]));
        for refused in [
            json!({"grant_types": [device], "response_types": ["code"]}),
            json!({"grant_types": ["authorization_code", device], "response_types": []}),
        ] {
            let error = read_with(&refused).unwrap_err();
            assert_eq!(error.code(), "invalid_client_metadata", "{refused}");
        }
    }

    #[test]
    fn every_refusal_has_its_code() {
        let uri = |value: Value| with(|o| _ = o.insert("redirect_uris".into(), value));
        let field = |name: &str, value: Value| with(|o| _ = o.insert(name.into(), value));
        let too_many: Vec<String> = (0..=MAX_URIS)
            .map(|i| format!("http://127.0.0.1/{i}"))
            .collect();
        let too_long = format!("https://app.example/{}", "a".repeat(MAX_URI_CHARS));
        for (request, code) in [
            (json!(["not an object"]), "invalid_client_metadata"),
            (uri(json!(["javascript:alert(1)"])), "invalid_redirect_uri"),
            (
                uri(json!(["http://app.example/cb"])),
                "invalid_redirect_uri",
            ),
            (
                uri(json!(["https://app.example/cb#f"])),
                "invalid_redirect_uri",
            ),
            (uri(json!(["/relative"])), "invalid_redirect_uri"),
            (
                uri(json!(["https://a.example/ https://b.example/"])),
                "invalid_redirect_uri",
            ),
            (uri(json!([too_long])), "invalid_redirect_uri"),
            (uri(json!(too_many)), "invalid_client_metadata"),
            (uri(json!([])), "invalid_redirect_uri"),
            (
                uri(json!("https://app.example/cb")),
                "invalid_client_metadata",
            ),
            (uri(json!([7])), "invalid_client_metadata"),
            (
                field("grant_types", json!(["password"])),
                "invalid_client_metadata",
            ),
            (
                field("grant_types", json!(["client_credentials"])),
                "invalid_client_metadata",
            ),
            (
                field("grant_types", json!(["implicit"])),
                "invalid_client_metadata",
            ),
            (
                field("grant_types", json!(["refresh_token"])),
                "invalid_client_metadata",
            ),
            (
                field("response_types", json!(["token"])),
                "invalid_client_metadata",
            ),
            (
                field("response_types", json!([])),
                "invalid_client_metadata",
            ),
            (
                field("token_endpoint_auth_method", json!("private_key_jwt")),
                "invalid_client_metadata",
            ),
            (
                field("scope", json!("read admin")),
                "invalid_client_metadata",
            ),
            (
                field("scope", json!("introspection")),
                "invalid_client_metadata",
            ),
            (field("scope", json!(["read"])), "invalid_client_metadata"),
            (
                field("client_name", json!("x".repeat(256))),
                "invalid_client_metadata",
            ),
            (
                field("client_name", json!("a\nb")),
                "invalid_client_metadata",
            ),
            (field("client_name", json!(5)), "invalid_client_metadata"),
        ] {
            let refused = read_with(&request).unwrap_err();
            assert_eq!(refused.code(), code, "{request}: {refused}");
            assert_eq!(refused.status(), 400);
        }
    }
}
