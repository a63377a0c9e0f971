//! Resource indicators (RFC 8707): which protected resources a grant and its access tokens are
//! meant for. Each indicator is checked on its own, then against the application's list, and a
//! token request may narrow the grant's set but never add to it.

use crate::oauth::error::OAuthError;
use url::Url;

/// The parameter's name on the authorization and token requests (RFC 8707 §2), which may be
/// repeated.
pub(crate) const RESOURCE: &str = "resource";

/// The longest indicator accepted: it is stored with every token of the grant.
pub(crate) const MAX_RESOURCE_CHARS: usize = 2048;

/// The most indicators one request may name.
pub(crate) const MAX_RESOURCES: usize = 16;

/// A set of resource indicators, each checked by [`check_indicator`], sorted and without
/// repeats. Empty: none named, so not limited to any resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources(Vec<String>);

impl Resources {
    /// The indicators a request named; `invalid_target` for one that is not an absolute URI
    /// without a fragment (RFC 8707 §2), or for too many.
    pub(crate) fn parse(values: &[&str]) -> Result<Resources, OAuthError> {
        if values.len() > MAX_RESOURCES {
            return Err(OAuthError::InvalidTarget(format!(
                "Name at most {MAX_RESOURCES} resources."
            )));
        }
        for value in values {
            check_indicator(value).map_err(|why| OAuthError::InvalidTarget(why.into()))?;
        }
        Ok(Resources::of(values.iter().copied()))
    }

    /// The set as stored: space-separated (an indicator holds no whitespace), checked when it
    /// was stored.
    pub(crate) fn from_stored(text: Option<&str>) -> Resources {
        Resources::of(
            text.unwrap_or_default()
                .split(' ')
                .filter(|r| !r.is_empty()),
        )
    }

    /// The set to store: `None` when empty.
    pub(crate) fn stored(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| self.0.join(" "))
    }

    fn of<'a>(values: impl Iterator<Item = &'a str>) -> Resources {
        let mut list: Vec<String> = values.map(str::to_owned).collect();
        list.sort();
        list.dedup();
        Resources(list)
    }

    /// No indicator was named.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The indicators, sorted.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    fn is_subset(&self, of: &Resources) -> bool {
        self.0.iter().all(|r| of.0.contains(r))
    }
}

/// Why `uri` cannot be a resource indicator (RFC 8707 §2: an absolute URI, RFC 3986 §4.3, with
/// no fragment; a query is allowed though discouraged), if it cannot. No whitespace or control
/// characters either: the parser would quietly drop them, and the value is kept as sent.
pub(crate) fn check_indicator(uri: &str) -> Result<(), &'static str> {
    if uri.is_empty() || uri.chars().count() > MAX_RESOURCE_CHARS {
        return Err("A resource must be an absolute URI of at most 2048 characters.");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("A resource must not contain spaces or control characters.");
    }
    if uri.contains('#') {
        return Err("A resource must not contain a fragment (RFC 8707 section 2).");
    }
    match Url::parse(uri) {
        Ok(_) => Ok(()),
        Err(_) => Err("A resource must be an absolute URI (RFC 8707 section 2)."),
    }
}

/// Each of `requested` must be in the application's `allowed` list, unless that list is empty
/// (any resource).
pub(crate) fn check_allowed(requested: &Resources, allowed: &[String]) -> Result<(), OAuthError> {
    match requested
        .0
        .iter()
        .find(|r| !allowed.is_empty() && !allowed.contains(r))
    {
        Some(_) => Err(OAuthError::InvalidTarget(
            "This client may not request that resource.".into(),
        )),
        None => Ok(()),
    }
}

/// The resources of an access token issued from a grant for `granted` when the token request
/// names `requested` (RFC 8707 §2.2): none named is the grant's whole set; otherwise they must
/// lie within it (a grant that named none is limited to no resource, so any set narrows it).
fn narrow(requested: Resources, granted: &Resources) -> Result<Resources, OAuthError> {
    match (requested.is_empty(), granted.is_empty()) {
        (true, _) => Ok(granted.clone()),
        (false, true) => Ok(requested),
        (false, false) if requested.is_subset(granted) => Ok(requested),
        (false, false) => Err(OAuthError::InvalidTarget(
            "A resource was not part of the authorization.".into(),
        )),
    }
}

/// The audience of an access token issued from a grant for `granted` (empty for a new grant
/// without a code) when the token request names `requested`: [`narrow`]ed, then within the
/// application's `allowed` list as it is now.
pub(crate) fn audience(
    requested: Resources,
    granted: &Resources,
    allowed: &[String],
) -> Result<Resources, OAuthError> {
    let audience = narrow(requested, granted)?;
    check_allowed(&audience, allowed)?;
    Ok(audience)
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str = "https://api.example/";
    const MCP: &str = "https://mcp.example/mcp";

    fn set(values: &[&str]) -> Resources {
        Resources::parse(values).unwrap()
    }

    #[test]
    fn indicators_are_absolute_uris_without_fragment() {
        for good in [
            API,
            MCP,
            "https://api.example/v1?tenant=1",
            "http://127.0.0.1:8080/",
            "urn:example:resource",
        ] {
            assert_eq!(check_indicator(good), Ok(()), "{good}");
        }
        let long = format!("https://api.example/{}", "a".repeat(MAX_RESOURCE_CHARS));
        for bad in [
            "",
            "/relative/path",
            "api.example",
            "https://api.example/#frag",
            "https://api.example/#",
            "https://api example/",
            " https://api.example/",
            "https://api.example/\n",
            "bob\"e'i;--ü",
            long.as_str(),
        ] {
            assert!(check_indicator(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_request_parses_to_a_sorted_set() {
        let parsed = set(&[MCP, API, MCP]);
        assert_eq!(parsed.as_slice(), [API, MCP]);
        assert_eq!(
            parsed.stored().as_deref(),
            Some("https://api.example/ https://mcp.example/mcp")
        );
        assert_eq!(Resources::from_stored(parsed.stored().as_deref()), parsed);
        assert_eq!(set(&[]).stored(), None);
        assert_eq!(Resources::from_stored(None), set(&[]));
        let error = Resources::parse(&[API, "/x"]).unwrap_err();
        assert_eq!(error.code(), "invalid_target");
        let many = vec![API; MAX_RESOURCES + 1];
        assert_eq!(
            Resources::parse(&many).unwrap_err().code(),
            "invalid_target"
        );
    }

    #[test]
    fn the_apps_list_limits_what_may_be_requested() {
        let listed = vec![API.to_owned()];
        let table: [(&[&str], &[String], bool); 5] = [
            (&[API], &listed, true),
            (&[], &listed, true),
            (&[API, MCP], &listed, false),
            (&[MCP], &listed, false),
            (&[MCP, API], &[], true),
        ];
        for (requested, allowed, ok) in table {
            assert_eq!(
                check_allowed(&set(requested), allowed).is_ok(),
                ok,
                "{requested:?} within {allowed:?}"
            );
        }
    }

    #[test]
    fn a_token_request_narrows_and_never_adds() {
        /// Requested, granted, and the token's set (`None`: invalid_target).
        type Case = (
            &'static [&'static str],
            &'static [&'static str],
            Option<&'static [&'static str]>,
        );
        let table: [Case; 6] = [
            (&[], &[API, MCP], Some(&[API, MCP])),
            (&[MCP], &[API, MCP], Some(&[MCP])),
            (&[API, MCP], &[API, MCP], Some(&[API, MCP])),
            (&[API, "https://other.example/"], &[API, MCP], None),
            (&[MCP], &[], Some(&[MCP])),
            (&[], &[], Some(&[])),
        ];
        for (requested, granted, expected) in table {
            let got = narrow(set(requested), &set(granted));
            match expected {
                Some(expected) => {
                    assert_eq!(got, Ok(set(expected)), "{requested:?} of {granted:?}")
                }
                None => assert_eq!(got.unwrap_err().code(), "invalid_target"),
            }
        }
        let listed = [API.to_owned()];
        let none = Resources::default();
        assert_eq!(audience(set(&[API]), &none, &listed), Ok(set(&[API])));
        assert!(audience(set(&[MCP]), &none, &listed).is_err());
        assert!(
            audience(set(&[]), &set(&[API, MCP]), &listed).is_err(),
            "the list shrank since the grant"
        );
    }
}
