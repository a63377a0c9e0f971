//! Scopes: parsing, defaults, what an application may ask for, and DOT's permission rules.

use crate::oauth::error::OAuthError;
use crate::settings::Settings;
use std::collections::BTreeSet;
use std::fmt;

/// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
pub(crate) fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// A set of scope names, kept sorted so that its wire form is stable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(BTreeSet<String>);

impl Scopes {
    /// Parses a space-separated list (RFC 6749 §3.3); `None` when a name is not a scope-token.
    pub fn parse(text: &str) -> Option<Scopes> {
        let names: BTreeSet<String> = text
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        names
            .iter()
            .all(|n| is_scope_token(n))
            .then_some(Scopes(names))
    }

    /// Builds a set from names already known to be valid.
    pub(crate) fn from_names<I: IntoIterator<Item = S>, S: Into<String>>(names: I) -> Scopes {
        Scopes(names.into_iter().map(Into::into).collect())
    }

    /// Whether the set holds `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// Whether every scope here is also in `other`.
    pub(crate) fn is_subset(&self, other: &Scopes) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The scopes in both sets.
    pub(crate) fn intersection(&self, other: &Scopes) -> Scopes {
        Scopes(self.0.intersection(&other.0).cloned().collect())
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for name in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(name)?;
            first = false;
        }
        Ok(())
    }
}

/// The scopes an application may request: its own list, or every configured scope.
pub(crate) fn allowed_for_app(settings: &Settings, app_scopes: Option<&Scopes>) -> Scopes {
    let configured = Scopes::from_names(settings.scopes.keys().cloned());
    match app_scopes {
        Some(own) => own.intersection(&configured),
        None => configured,
    }
}

/// The scopes a new grant receives (RFC 6749 §3.3): the requested ones, each known and
/// allowed to this application; or, when none are asked, the defaults this application may have.
pub(crate) fn resolve_requested(
    requested: Option<&str>,
    allowed: &Scopes,
    defaults: &[String],
) -> Result<Scopes, OAuthError> {
    match requested.map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => {
            let asked = Scopes::parse(text)
                .ok_or_else(|| OAuthError::InvalidScope("The scope is malformed.".into()))?;
            if let Some(name) = asked.iter().find(|s| !allowed.contains(s)) {
                return Err(OAuthError::InvalidScope(format!(
                    "The scope {name:?} is unknown or not allowed for this application."
                )));
            }
            Ok(asked)
        }
        None => {
            let granted = Scopes::from_names(defaults.iter().cloned()).intersection(allowed);
            if granted.is_empty() {
                Err(OAuthError::InvalidScope(
                    "No default scope is allowed for this application.".into(),
                ))
            } else {
                Ok(granted)
            }
        }
    }
}

/// RFC 6749 §6: a refresh may narrow the originally granted scope, never widen it;
/// no scope asked means the original one.
pub(crate) fn resolve_refresh(
    requested: Option<&str>,
    granted: &Scopes,
) -> Result<Scopes, OAuthError> {
    match requested.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(granted.clone()),
        Some(text) => match Scopes::parse(text) {
            Some(asked) if asked.is_subset(granted) => Ok(asked),
            _ => Err(OAuthError::InvalidScope(
                "The requested scope exceeds the scope originally granted.".into(),
            )),
        },
    }
}

/// A resource's scope requirement, mirroring DOT's permission classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Requirement {
    /// Any valid token.
    Authenticated,
    /// TokenHasScope: every one of these scopes.
    HasScope(Vec<String>),
    /// TokenHasReadWriteScope: read_scope for safe methods, else write_scope; plus these.
    ReadWrite(Vec<String>),
}

/// Whether a method only reads (RFC 9110 §9.2.1 safe methods), as DOT's SAFE_HTTP_METHODS.
pub(crate) fn is_safe_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

impl Requirement {
    /// The scopes a request with `method` needs under this requirement.
    pub(crate) fn scopes_needed(&self, method: &str, settings: &Settings) -> Vec<String> {
        let safe = is_safe_method(method);
        match self {
            Requirement::Authenticated => Vec::new(),
            Requirement::HasScope(required) => required.clone(),
            Requirement::ReadWrite(required) => {
                let base = if safe {
                    &settings.read_scope
                } else {
                    &settings.write_scope
                };
                std::iter::once(base.clone())
                    .chain(required.iter().cloned())
                    .collect()
            }
        }
    }

    /// `Ok` when `token` carries every needed scope; otherwise the needed scopes, for the
    /// 403 insufficient_scope answer (RFC 6750 §3.1).
    pub fn check(
        &self,
        method: &str,
        token: &Scopes,
        settings: &Settings,
    ) -> Result<(), Vec<String>> {
        let needed = self.scopes_needed(method, settings);
        if needed.iter().all(|s| token.contains(s)) {
            Ok(())
        } else {
            Err(needed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::from_toml("scopes = { read = \"R\", write = \"W\", groups = \"G\" }\ndefault_scopes = [\"read\", \"write\"]")
            .unwrap()
    }

    fn scopes(text: &str) -> Scopes {
        Scopes::parse(text).unwrap()
    }

    #[test]
    fn parse_sorts_and_dedupes() {
        assert_eq!(scopes("write read  read").to_string(), "read write");
        assert_eq!(Scopes::parse("read \"x"), None);
    }

    #[test]
    fn requested_scopes_must_be_allowed() {
        let s = settings();
        let all = allowed_for_app(&s, None);
        let only_read = allowed_for_app(&s, Some(&scopes("read")));
        let table: [(Option<&str>, &Scopes, Result<&str, &str>); 7] = [
            (None, &all, Ok("read write")),
            (Some(""), &all, Ok("read write")),
            (Some("groups"), &all, Ok("groups")),
            (Some("read admin"), &all, Err("invalid_scope")),
            (Some("write"), &only_read, Err("invalid_scope")),
            (None, &only_read, Ok("read")),
            (Some("read"), &only_read, Ok("read")),
        ];
        for (requested, allowed, expected) in table {
            let got = resolve_requested(requested, allowed, &s.default_scopes);
            let got = got.as_ref().map(|g| g.to_string()).map_err(|e| e.code());
            assert_eq!(
                got.as_ref().map(String::as_str).map_err(|e| *e),
                expected,
                "{requested:?}"
            );
        }
    }

    #[test]
    fn no_allowed_default_is_invalid_scope() {
        let s = settings();
        let only_groups = allowed_for_app(&s, Some(&scopes("groups")));
        assert_eq!(
            resolve_requested(None, &only_groups, &s.default_scopes)
                .unwrap_err()
                .code(),
            "invalid_scope"
        );
    }

    #[test]
    fn app_scopes_no_longer_configured_are_dropped() {
        assert_eq!(
            allowed_for_app(&settings(), Some(&scopes("read gone"))),
            scopes("read")
        );
    }

    #[test]
    fn refresh_narrows_never_widens() {
        let granted = scopes("read write");
        assert_eq!(resolve_refresh(None, &granted).unwrap(), granted);
        assert_eq!(
            resolve_refresh(Some("read"), &granted).unwrap(),
            scopes("read")
        );
        assert_eq!(
            resolve_refresh(Some("read groups"), &granted)
                .unwrap_err()
                .code(),
            "invalid_scope"
        );
    }

    #[test]
    fn permission_classes() {
        let s = settings();
        let rw = Requirement::ReadWrite(vec![]);
        assert_eq!(rw.check("GET", &scopes("read"), &s), Ok(()));
        assert_eq!(
            rw.check("POST", &scopes("read"), &s),
            Err(vec!["write".to_string()])
        );
        assert_eq!(rw.check("POST", &scopes("write"), &s), Ok(()));
        let has = Requirement::HasScope(vec!["groups".into()]);
        assert_eq!(
            has.check("GET", &scopes("read write"), &s),
            Err(vec!["groups".to_string()])
        );
        assert_eq!(has.check("DELETE", &scopes("groups"), &s), Ok(()));
        assert_eq!(
            Requirement::Authenticated.check("POST", &Scopes::default(), &s),
            Ok(())
        );
    }
}
