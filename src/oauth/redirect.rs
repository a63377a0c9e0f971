//! Redirect URIs at registration (RFC 6749 §3.1.2): absolute, an allowed scheme, no fragment.

use url::Url;

/// Schemes refused whatever the settings say: they run code instead of going somewhere.
const NEVER_ALLOWED: [&str; 3] = ["javascript", "data", "vbscript"];

/// Checks one redirect URI for registration; the error says what is wrong with it.
pub fn validate_redirect_uri(uri: &str, allowed_schemes: &[String]) -> Result<(), String> {
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{uri:?} contains whitespace."));
    }
    if uri.contains('#') {
        return Err(format!(
            "{uri:?} has a fragment; redirect URIs must not (RFC 6749 §3.1.2)."
        ));
    }
    let parsed = Url::parse(uri).map_err(|_| format!("{uri:?} is not an absolute URI."))?;
    let scheme = parsed.scheme();
    if NEVER_ALLOWED.contains(&scheme) || !allowed_schemes.iter().any(|s| s == scheme) {
        return Err(format!(
            "{uri:?} uses the scheme {scheme:?}, which is not allowed."
        ));
    }
    // The url crate repairs "http:///cb" to "http://cb/"; the text itself must name a host.
    let authority = uri
        .get(scheme.len() + 1..)
        .and_then(|rest| rest.strip_prefix("//"));
    let names_host = authority.is_some_and(|a| !a.starts_with('/'))
        && parsed.host_str().is_some_and(|h| !h.is_empty());
    if matches!(scheme, "http" | "https") && !names_host {
        return Err(format!("{uri:?} has no host."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_rules() {
        let schemes = [
            "http".to_string(),
            "https".to_string(),
            "com.example.app".to_string(),
        ];
        for ok in [
            "https://app.example/cb",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb?x=1",
            "com.example.app:/cb",
        ] {
            assert_eq!(validate_redirect_uri(ok, &schemes), Ok(()), "{ok}");
        }
        for bad in [
            "/relative/cb",
            "https://app.example/cb#frag",
            "javascript:alert(1)",
            "data:text/html,hi",
            "ftp://app.example/cb",
            "https://app.example/c b",
            "http:///cb",
            "",
        ] {
            assert!(validate_redirect_uri(bad, &schemes).is_err(), "{bad}");
        }
        let with_js = ["javascript".to_string()];
        assert!(validate_redirect_uri("javascript:alert(1)", &with_js).is_err());
    }
}
