//! Parsing and limits: what a handler gets from the edge (path, query, headers, a size-capped
//! body) and the parsers for form and JSON bodies, Basic and Bearer credentials.

use crate::oauth::resource::RESOURCE;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode;
use std::fmt;
use std::net::IpAddr;

/// The largest request body read: bigger ones are refused by Content-Length before reading.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why a body or a credential header could not be used; each endpoint renders it in its own format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RequestError {
    /// The body is over [`MAX_BODY_BYTES`] (413).
    TooLarge,
    /// The content type is not one this endpoint reads (415).
    UnsupportedMediaType,
    /// The body or a header is malformed (400); the text says how.
    Malformed(String),
}

impl RequestError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            RequestError::TooLarge => 413,
            RequestError::UnsupportedMediaType => 415,
            RequestError::Malformed(_) => 400,
        }
    }

    /// A description for the client; never echoes a credential.
    pub fn description(&self) -> String {
        match self {
            RequestError::TooLarge => {
                format!("The request body is larger than {MAX_BODY_BYTES} bytes.")
            }
            RequestError::UnsupportedMediaType => {
                "The request body has an unsupported content type.".into()
            }
            RequestError::Malformed(why) => why.clone(),
        }
    }
}

/// A request as handlers see it. `Debug` shows no credential and no body.
pub struct Req {
    /// The method, as sent (upper-case for the methods we serve).
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// The Content-Type header, if any.
    pub content_type: Option<String>,
    /// The Authorization header, if any (never logged).
    pub authorization: Option<String>,
    /// The Cookie header, if any (holds the session id: never logged).
    pub cookie: Option<String>,
    /// The Accept header names `text/html`: a browser, which gets error pages, not JSON.
    pub prefers_html: bool,
    /// The Origin header, if any: a browser's cross-origin request (CORS).
    pub origin: Option<String>,
    /// An OPTIONS request with Origin and Access-Control-Request-Method: a CORS preflight.
    pub preflight: bool,
    /// The body, or why it was not read.
    pub(crate) body: Result<Vec<u8>, RequestError>,
    /// The client's address: the peer's, or the one a trusted proxy forwarded.
    pub remote: Option<IpAddr>,
    /// The client reached a trusted proxy over https (X-Forwarded-Proto).
    pub forwarded_https: bool,
}

impl fmt::Debug for Req {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Req")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("content_type", &self.content_type)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "[redacted]"),
            )
            .field("cookie", &self.cookie.as_ref().map(|_| "[redacted]"))
            .field("prefers_html", &self.prefers_html)
            .field("origin", &self.origin)
            .field("preflight", &self.preflight)
            .field(
                "body",
                &self.body.as_ref().map(|b| format!("[{} bytes]", b.len())),
            )
            .field("remote", &self.remote)
            .field("forwarded_https", &self.forwarded_https)
            .finish()
    }
}

/// Whether an Accept header (RFC 9110 §12.5.1) names `text/html` with a quality above zero,
/// as browsers' do; `*/*` alone does not count, so API clients keep their JSON.
pub(crate) fn prefers_html(accept: Option<&str>) -> bool {
    accept.unwrap_or_default().split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let is_html = parts
            .next()
            .is_some_and(|media| media.eq_ignore_ascii_case("text/html"));
        let refused = parts.any(|param| {
            param.split_once('=').is_some_and(|(name, q)| {
                name.trim().eq_ignore_ascii_case("q")
                    && q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
            })
        });
        is_html && !refused
    })
}

/// What the Authorization header says about a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BearerHeader<'a> {
    /// No Bearer credentials were sent.
    Absent,
    /// A well-formed token.
    Token(&'a str),
    /// The Bearer scheme with no well-formed token.
    Malformed,
}

/// Parameters of a form or JSON body, each name at most once (RFC 6749 §3.1).
/// `Debug` shows the names only: values include passwords, secrets and tokens.
#[derive(Default, Clone, PartialEq, Eq)]
pub(crate) struct Params(Vec<(String, String)>);

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

impl Params {
    /// The value of `name`, if present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every non-empty value of `name`, in order: a page form's list field (checkboxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Refuses a name sent twice, except the `lists` a page form may repeat.
    fn from_pairs(pairs: Vec<(String, String)>, lists: &[&str]) -> Result<Params, RequestError> {
        let mut seen = std::collections::HashSet::new();
        if let Some((name, _)) = pairs
            .iter()
            .find(|(name, _)| !lists.contains(&name.as_str()) && !seen.insert(name.as_str()))
        {
            return Err(RequestError::Malformed(format!(
                "The parameter {name:?} was sent more than once."
            )));
        }
        Ok(Params(pairs))
    }
}

impl Req {
    /// The body as parameters: form-encoded always; JSON (an object of strings) only when
    /// `accept_json` is set. An empty body with no content type is an empty form. Only
    /// `resource` may repeat (RFC 8707 §2).
    pub(crate) fn params(&self, accept_json: bool) -> Result<Params, RequestError> {
        self.body_params(accept_json, &[RESOURCE])
    }

    /// A page's form body (form-encoded only), where the names in `lists` may repeat
    /// (a group of checkboxes); every other name at most once.
    pub(crate) fn page_form(&self, lists: &[&str]) -> Result<Params, RequestError> {
        self.body_params(false, lists)
    }

    fn body_params(&self, accept_json: bool, lists: &[&str]) -> Result<Params, RequestError> {
        let body = self.body.as_ref().map_err(Clone::clone)?;
        match self.media_type().as_deref() {
            None if body.is_empty() => Ok(Params::default()),
            Some("application/x-www-form-urlencoded") => parse_form(body, lists),
            Some("application/json") if accept_json => parse_json(body),
            _ => Err(RequestError::UnsupportedMediaType),
        }
    }

    /// The body of a JSON request (`Content-Type: application/json`), unparsed: for the
    /// endpoints whose JSON is more than an object of strings (RFC 7591 client metadata).
    pub(crate) fn json_body(&self) -> Result<&[u8], RequestError> {
        let body = self.body.as_ref().map_err(Clone::clone)?;
        match self.media_type().as_deref() {
            Some("application/json") => Ok(body),
            _ => Err(RequestError::UnsupportedMediaType),
        }
    }

    /// The Content-Type's media type, lower-case, without parameters.
    fn media_type(&self) -> Option<String> {
        self.content_type.as_deref().map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }

    /// The query string's parameters (each name at most once, but `resource`, RFC 8707 §2).
    pub(crate) fn query_params(&self) -> Result<Params, RequestError> {
        parse_form(self.query.as_bytes(), &[RESOURCE])
    }

    /// The value of cookie `name`, if the request carries it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookie
            .as_deref()?
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }

    /// RFC 6749 §2.3.1 HTTP Basic client credentials: `None` without a Basic header; both parts
    /// are form-urldecoded after base64.
    pub(crate) fn basic_credentials(&self) -> Result<Option<(String, String)>, RequestError> {
        let Some(encoded) = self
            .authorization
            .as_deref()
            .and_then(|h| strip_scheme(h, "Basic"))
        else {
            return Ok(None);
        };
        let malformed = || {
            RequestError::Malformed(
                "The Authorization header is not valid Basic credentials.".into(),
            )
        };
        let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
        let text = String::from_utf8(decoded).map_err(|_| malformed())?;
        let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
        let id = form_decode(id.as_bytes()).ok_or_else(malformed)?;
        let secret = form_decode(secret.as_bytes()).ok_or_else(malformed)?;
        Ok(Some((id, secret)))
    }

    /// RFC 6750 §2.1: the token of an `Authorization: Bearer` header.
    pub(crate) fn bearer_token(&self) -> BearerHeader<'_> {
        match self
            .authorization
            .as_deref()
            .and_then(|h| strip_scheme(h, "Bearer"))
        {
            None => BearerHeader::Absent,
            Some(token) if is_b64token(token.trim()) => BearerHeader::Token(token.trim()),
            Some(_) => BearerHeader::Malformed,
        }
    }
}

/// `Scheme credentials` with a case-insensitive scheme (RFC 9110 §11.1); the scheme alone
/// (the parser trims a trailing space) gives empty credentials.
fn strip_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = header.split_once(' ').unwrap_or((header, ""));
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

/// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Percent- and plus-decodes a form component, refusing invalid UTF-8.
fn form_decode(raw: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// Parses a form body with serde_urlencoded, which would replace invalid UTF-8 silently;
/// so the whole body is first checked to decode strictly (separators are ASCII, so the whole
/// decodes as UTF-8 exactly when every name and value does).
fn parse_form(body: &[u8], lists: &[&str]) -> Result<Params, RequestError> {
    let invalid = || RequestError::Malformed("The form body is not valid UTF-8.".into());
    form_decode(body).ok_or_else(invalid)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| invalid())?;
    Params::from_pairs(pairs, lists)
}

fn parse_json(body: &[u8]) -> Result<Params, RequestError> {
    let malformed =
        || RequestError::Malformed("The JSON body must be an object of string values.".into());
    let JsonPairs(pairs) = serde_json::from_slice(body).map_err(|_| malformed())?;
    Params::from_pairs(pairs, &[])
}

/// A JSON object of strings read as ordered pairs, so that a repeated name is seen rather than
/// silently overwritten.
struct JsonPairs(Vec<(String, String)>);

impl<'de> serde::Deserialize<'de> for JsonPairs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = JsonPairs;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonPairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                Ok(JsonPairs(pairs))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(content_type: Option<&str>, body: &[u8], authorization: Option<&str>) -> Req {
        Req {
            method: "POST".into(),
            path: crate::http::paths::TOKEN.into(),
            query: String::new(),
            cookie: None,
            prefers_html: false,
            origin: None,
            preflight: false,
            remote: None,
            forwarded_https: false,
            content_type: content_type.map(Into::into),
            authorization: authorization.map(Into::into),
            body: Ok(body.to_vec()),
        }
    }

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded; charset=UTF-8");

    #[test]
    fn browsers_prefer_html_and_api_clients_do_not() {
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        for (accept, html) in [
            (Some(firefox), true),
            (Some("TEXT/HTML"), true),
            (Some("application/json, text/html ; q=0.5"), true),
            (Some("text/html;q=0"), false),
            (Some("text/html; q=0.000"), false),
            (Some("*/*"), false),
            (Some("application/json"), false),
            (Some("text/htmlx"), false),
            (Some(""), false),
            (None, false),
        ] {
            assert_eq!(prefers_html(accept), html, "{accept:?}");
        }
    }

    #[test]
    fn forms_decode_plus_and_percent() {
        let p = req(FORM, b"a=b+c&d=%C3%BC%26&e=", None)
            .params(false)
            .unwrap();
        assert_eq!(
            (p.get("a"), p.get("d"), p.get("e"), p.get("x")),
            (Some("b c"), Some("ü&"), None, None)
        );
    }

    #[test]
    fn only_resource_may_repeat_in_a_request() {
        let body = b"resource=https%3A%2F%2Fa.example%2F&scope=read&resource=urn%3Ab";
        let p = req(FORM, body, None).params(false).unwrap();
        assert_eq!(p.all("resource"), ["https://a.example/", "urn:b"]);
        let query = Req {
            query: String::from_utf8(body.to_vec()).unwrap(),
            ..req(None, b"", None)
        };
        assert_eq!(query.query_params().unwrap().all("resource").len(), 2);
        let twice = req(FORM, b"scope=a&resource=x&scope=b", None);
        assert_eq!(twice.params(false).unwrap_err().status(), 400);
    }

    #[test]
    fn bad_bodies_are_refused() {
        let err = |ct, body: &[u8], json| req(ct, body, None).params(json).unwrap_err().status();
        assert_eq!(err(FORM, b"a=1&a=2", false), 400);
        assert_eq!(err(FORM, b"a=%FF", false), 400);
        assert_eq!(err(FORM, b"a=%C3&b=%BC", false), 400);
        assert_eq!(err(Some("application/json"), b"{\"a\":\"b\"}", false), 415);
        assert_eq!(err(Some("text/plain"), b"a=b", false), 415);
        assert_eq!(err(None, b"a=b", false), 415);
        assert_eq!(err(Some("application/json"), b"{\"a\":1}", true), 400);
        assert_eq!(err(Some("application/json"), b"{\"a\":", true), 400);
        assert_eq!(
            err(Some("application/json"), b"{\"a\":\"1\",\"a\":\"2\"}", true),
            400
        );
        let too_large = Req {
            body: Err(RequestError::TooLarge),
            ..req(FORM, b"", None)
        };
        assert_eq!(too_large.params(false).unwrap_err().status(), 413);
    }

    #[test]
    fn json_objects_of_strings_are_read_when_enabled() {
        let p = req(
            Some("application/json"),
            br#"{"grant_type":"password"}"#,
            None,
        )
        .params(true)
        .unwrap();
        assert_eq!(p.get("grant_type"), Some("password"));
        assert_eq!(
            req(None, b"", None).params(false).unwrap(),
            Params::default()
        );
    }

    #[test]
    fn basic_credentials_are_form_urldecoded() {
        // "a%3Ab:p%40ss+w" base64-encoded.
        let header = format!("basic {}", STANDARD.encode("a%3Ab:p%40ss+w"));
        let creds = req(FORM, b"", Some(&header)).basic_credentials().unwrap();
        assert_eq!(creds, Some(("a:b".to_string(), "p@ss w".to_string())));
        assert_eq!(req(FORM, b"", None).basic_credentials().unwrap(), None);
        for bad in ["Basic !!!", "Basic bm9jb2xvbg==", "Basic /w=="] {
            assert_eq!(
                req(FORM, b"", Some(bad))
                    .basic_credentials()
                    .unwrap_err()
                    .status(),
                400,
                "{bad}"
            );
        }
    }

    #[test]
    fn bearer_tokens() {
        let bearer = |header| format!("{:?}", req(None, b"", Some(header)).bearer_token());
        assert_eq!(
            bearer("Bearer abc-_.~+/="),
            format!("{:?}", BearerHeader::Token("abc-_.~+/="))
        );
        assert_eq!(
            bearer("bearer abc"),
            format!("{:?}", BearerHeader::Token("abc"))
        );
        assert_eq!(
            bearer("Bearer a b"),
            format!("{:?}", BearerHeader::Malformed)
        );
        assert_eq!(bearer("Bearer "), format!("{:?}", BearerHeader::Malformed));
        assert_eq!(bearer("Bearer"), format!("{:?}", BearerHeader::Malformed));
        assert_eq!(bearer("Basic abc"), format!("{:?}", BearerHeader::Absent));
    }
}
