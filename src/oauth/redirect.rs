//! Redirect URIs: at registration (RFC 6749 §3.1.2: absolute, an allowed scheme, no fragment)
//! and at the authorization endpoint (exact match, RFC 9700 §4.1.3; any port for a loopback
//! URI, RFC 8252 §7.3).

use url::Url;

/// Schemes refused whatever the settings say: they run code instead of going somewhere.
const NEVER_ALLOWED: [&str; 3] = ["javascript", "data", "vbscript"];

/// Checks one redirect URI for registration; the error says what is wrong with it.
pub(crate) fn validate_redirect_uri(uri: &str, allowed_schemes: &[String]) -> Result<(), String> {
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

/// Whether `uri` is plain `http` to anywhere but this machine (`127.0.0.1` and the rest of
/// 127/8, `[::1]`, `localhost`): refused to clients that register themselves, since anyone on
/// the path could read the code (RFC 9700 §4.1.1; RFC 8252 §7.3 allows loopback).
pub(crate) fn is_plain_http_off_loopback(uri: &str) -> bool {
    let Ok(parsed) = Url::parse(uri) else {
        return false;
    };
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    parsed.scheme() == "http" && !loopback
}

/// The redirect URI an authorization request will use: the one sent, when it equals a
/// registered one exactly (or a registered `http://127.0.0.1` / `http://[::1]` URI on another
/// port); or, when none was sent, the only registered one. `None`: show an error page, never
/// redirect (RFC 6749 §4.1.2.1).
pub(crate) fn resolve_redirect_uri(
    registered: &[String],
    requested: Option<&str>,
) -> Option<String> {
    match (requested, registered) {
        (None, [only]) => Some(only.clone()),
        (None, _) => None,
        (Some(uri), _) => registered
            .iter()
            .any(|r| r == uri || loopback_port_variant(r, uri))
            .then(|| uri.to_owned()),
    }
}

/// RFC 8252 §7.3: a registered loopback URI matches on any port. Everything but the port must
/// be the same, to the character: the registered URI with the requested port, serialized,
/// must equal what was sent.
fn loopback_port_variant(registered: &str, requested: &str) -> bool {
    let (Ok(registered), Ok(parsed)) = (Url::parse(registered), Url::parse(requested)) else {
        return false;
    };
    let loopback = matches!(registered.host_str(), Some("127.0.0.1" | "[::1]"));
    if registered.scheme() != "http" || !loopback {
        return false;
    }
    let mut expected = registered;
    expected.set_port(parsed.port()).is_ok() && expected.as_str() == requested
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

    #[test]
    fn plain_http_is_for_loopback_only() {
        for off in [
            "http://app.example/cb",
            "http://10.0.0.1/cb",
            "http://localhost.example/",
        ] {
            assert!(is_plain_http_off_loopback(off), "{off}");
        }
        for fine in [
            "http://127.0.0.1/cb",
            "http://127.1.2.3:9/cb",
            "http://[::1]:8080/cb",
            "http://localhost:3000/callback",
            "https://app.example/cb",
            "com.example.app:/cb",
            "not a uri",
        ] {
            assert!(!is_plain_http_off_loopback(fine), "{fine}");
        }
    }

    #[test]
    fn redirect_uris_match_exactly_or_by_loopback_port() {
        let registered = vec![
            "https://app.example/cb".to_string(),
            "http://127.0.0.1/cb".to_string(),
        ];
        let resolve = |uri| resolve_redirect_uri(&registered, Some(uri));
        assert_eq!(
            resolve("https://app.example/cb"),
            Some("https://app.example/cb".into())
        );
        assert_eq!(
            resolve("http://127.0.0.1:51234/cb"),
            Some("http://127.0.0.1:51234/cb".into())
        );
        assert_eq!(
            resolve("http://127.0.0.1/cb"),
            Some("http://127.0.0.1/cb".into())
        );
        for mutant in [
            "https://app.example/cb/",
            "https://APP.example/cb",
            "https://app.example/cb?x=1",
            "https://app.example/cb/../cb",
            "https://app.example@evil.example/cb",
            "https://app.example/cb%2F",
            "https://app.example/cb#frag",
            "https://app.example:443/cb",
            "http://app.example/cb",
            "http://127.0.0.1:51234/cb/",
            "http://127.0.0.1:51234/cb/../cb",
            "http://localhost:51234/cb",
            "http://127.0.0.1:51234/cb?x=1",
        ] {
            assert_eq!(resolve(mutant), None, "{mutant}");
        }
        assert_eq!(
            resolve_redirect_uri(&registered, None),
            None,
            "two registered: must say which"
        );
        let one = vec!["https://app.example/cb".to_string()];
        assert_eq!(
            resolve_redirect_uri(&one, None),
            Some("https://app.example/cb".into())
        );
        let with_port = vec!["http://127.0.0.1:8000/cb".to_string()];
        let other_port = resolve_redirect_uri(&with_port, Some("http://127.0.0.1:5000/cb"));
        assert_eq!(other_port, Some("http://127.0.0.1:5000/cb".into()));
        let v6 = vec!["http://[::1]/cb".to_string()];
        assert_eq!(
            resolve_redirect_uri(&v6, Some("http://[::1]:8080/cb")),
            Some("http://[::1]:8080/cb".into())
        );
    }
}
