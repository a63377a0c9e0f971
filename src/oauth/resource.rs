//! Resource indicators (RFC 8707): which protected resources a grant and its access tokens are
//! meant for. Each indicator is checked on its own, then against the application's list (none
//! named: the whole list), and a token request may narrow the grant's set but never add to it.

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
    /// without a fragment (RFC 8707 §2), or for more than [`MAX_RESOURCES`] different ones.
    pub(crate) fn parse(values: &[&str]) -> Result<Resources, OAuthError> {
        for value in values {
            check_indicator(value).map_err(|why| OAuthError::InvalidTarget(why.into()))?;
        }
        let set = Resources::of(values.iter().copied());
        if set.0.len() > MAX_RESOURCES {
            return Err(OAuthError::InvalidTarget(format!(
                "Name at most {MAX_RESOURCES} resources."
            )));
        }
        Ok(set)
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
/// no fragment; a query is allowed though discouraged), if it cannot. Only RFC 3986's
/// characters (§2): the parser would quietly drop or encode others, and the value is kept as
/// sent.
fn check_indicator(uri: &str) -> Result<(), &'static str> {
    if uri.len() > MAX_RESOURCE_CHARS {
        return Err("A resource must be an absolute URI of at most 2048 characters.");
    }
    if uri.contains('#') {
        return Err("A resource must not contain a fragment (RFC 8707 section 2).");
    }
    if !rfc3986_characters(uri) {
        return Err("A resource must use only the characters of a URI (RFC 3986 section 2).");
    }
    match Url::parse(uri) {
        Ok(_) => Ok(()),
        Err(_) => Err("A resource must be an absolute URI (RFC 8707 section 2)."),
    }
}

/// Whether `uri` holds only RFC 3986 §2 characters: unreserved, reserved, and `%` followed by
/// two hex digits.
fn rfc3986_characters(uri: &str) -> bool {
    let bytes = uri.as_bytes();
    bytes.iter().enumerate().all(|(at, &b)| match b {
        b'%' => bytes
            .get(at + 1..at + 3)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
        _ => b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b),
    })
}

/// Each of `set` must be in the application's `allowed` list, unless that list is empty (any
/// resource); none named is the whole list (RFC 8707 §2 lets the server choose a default), so
/// a limited application never gets a token without an audience.
fn within(set: Resources, allowed: &[String]) -> Result<Resources, OAuthError> {
    if set.is_empty() {
        return Ok(Resources::of(allowed.iter().map(String::as_str)));
    }
    if !allowed.is_empty() && !set.0.iter().all(|r| allowed.contains(r)) {
        return Err(OAuthError::InvalidTarget(
            "This client may not request that resource.".into(),
        ));
    }
    Ok(set)
}

/// The resources of a new grant (an authorization request, a password or client_credentials
/// token request) that names `requested`: those, within the application's `allowed` list, or
/// by default the whole list.
pub(crate) fn for_new_grant(
    requested: &[&str],
    allowed: &[String],
) -> Result<Resources, OAuthError> {
    within(Resources::parse(requested)?, allowed)
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

/// What a token request from an existing grant or a code gets (RFC 8707 §2.2).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// The grant's set from now on: the one authorized; when that was none, the set this
    /// request named (a code's exchange binds its grant to it), or still none.
    pub(crate) granted: Resources,
    /// The access token's audience.
    pub(crate) audience: Resources,
}

/// The [`Target`] of a token request naming `requested` from a grant (or a code) for
/// `granted`: the audience is [`narrow`]ed, then [`within`] the application's `allowed` list
/// as it is now.
pub(crate) fn target(
    requested: &[&str],
    granted: &Resources,
    allowed: &[String],
) -> Result<Target, OAuthError> {
    let requested = Resources::parse(requested)?;
    let named = !requested.is_empty();
    let audience = within(narrow(requested, granted)?, allowed)?;
    let granted = match granted.is_empty() && named {
        true => audience.clone(),
        false => granted.clone(),
    };
    Ok(Target { granted, audience })
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
            "https://api.example/o'brien;x=%C3%BC",
            "https://[::1]:8443/a",
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
            "https://api.example/ü",
            "https://api.example/a\"b",
            "https://api.example/{x}",
            "https://api.example/%zz",
            "https://api.example/%4",
            "https://api.example/a\\b",
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
        let many: Vec<String> = (0..=MAX_RESOURCES)
            .map(|n| format!("https://api.example/{n}"))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            Resources::parse(&many).unwrap_err().code(),
            "invalid_target"
        );
        let repeated = vec![API; MAX_RESOURCES + 1];
        assert_eq!(Resources::parse(&repeated), Ok(set(&[API])));
    }

    #[test]
    fn the_apps_list_limits_what_may_be_requested_and_is_the_default() {
        let listed = vec![API.to_owned(), MCP.to_owned()];
        /// Requested, the app's list, and the new grant's set (`None`: invalid_target).
        type Case<'a> = (&'a [&'a str], &'a [String], Option<&'a [&'a str]>);
        let table: [Case; 6] = [
            (&[API], &listed, Some(&[API])),
            (&[], &listed, Some(&[API, MCP])),
            (&[API, "https://other.example/"], &listed, None),
            (&["https://other.example/"], &listed, None),
            (&[MCP, API], &[], Some(&[API, MCP])),
            (&[], &[], Some(&[])),
        ];
        for (requested, allowed, expected) in table {
            let got = for_new_grant(requested, allowed);
            match expected {
                Some(expected) => assert_eq!(got, Ok(set(expected)), "{requested:?}"),
                None => assert_eq!(got.unwrap_err().code(), "invalid_target"),
            }
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
        let target_of = |requested: &[&str], granted: &Resources| {
            target(requested, granted, &listed).map(|t| (t.granted, t.audience))
        };
        assert_eq!(target_of(&[API], &none), Ok((set(&[API]), set(&[API]))));
        assert_eq!(target_of(&[], &none), Ok((none.clone(), set(&[API]))));
        assert_eq!(target_of(&[], &set(&[API])), Ok((set(&[API]), set(&[API]))));
        assert!(target_of(&[MCP], &none).is_err());
        assert!(
            target_of(&[], &set(&[API, MCP])).is_err(),
            "the list shrank since the grant"
        );
    }
}
