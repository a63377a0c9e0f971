//! Web origins an application lets read oauthd's answers from a browser (CORS; DOT 3's
//! `allowed_origins`): `scheme://host[:port]` and nothing else, stored the way browsers send
//! the `Origin` header (RFC 6454 §6.1), so that a lookup is an exact comparison.

use url::Url;

/// The origin `text` names, serialized as a browser sends it (lower-case host, punycode, no
/// default port); the error says what is wrong with it. Only http and https, and only the
/// origin: no userinfo, path (not even `/`), query or fragment.
pub(crate) fn normalize_origin(text: &str) -> Result<String, String> {
    let not_origin = || format!("{text:?} is not an origin: use scheme://host[:port].");
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(not_origin());
    }
    let url = Url::parse(text).map_err(|_| not_origin())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{text:?} uses the scheme {:?}; an origin is http or https.",
            url.scheme()
        ));
    }
    // The text after "scheme://" must be only the authority: the url crate would repair or
    // drop what else there is, so it is looked at as typed.
    let authority = text
        .get(url.scheme().len()..)
        .and_then(|rest| rest.strip_prefix("://"))
        .ok_or_else(not_origin)?;
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', '\\']) {
        return Err(not_origin());
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_stored_as_browsers_send_them() {
        for (typed, stored) in [
            ("https://app.example", "https://app.example"),
            ("https://App.Example:443", "https://app.example"),
            ("http://127.0.0.1:5173", "http://127.0.0.1:5173"),
            ("http://localhost:80", "http://localhost"),
            ("https://app.example:8443", "https://app.example:8443"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
        ] {
            assert_eq!(normalize_origin(typed).as_deref(), Ok(stored), "{typed}");
        }
    }

    #[test]
    fn anything_but_an_origin_is_refused() {
        for bad in [
            "",
            "app.example",
            "https://app.example/",
            "https://app.example/cb",
            "https://app.example?x=1",
            "https://app.example#top",
            "https://user@app.example",
            "https://user:pw@app.example",
            "ftp://app.example",
            "javascript:alert(1)",
            "null",
            "*",
            "https://",
            "https:app.example",
            "https://app.example:99999",
            " https://app.example",
            "https://app .example",
            "https://app.example\\x",
            "file:///etc/passwd",
        ] {
            assert!(normalize_origin(bad).is_err(), "{bad:?}");
        }
    }
}
