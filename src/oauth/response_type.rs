//! What an authorization request asks to get back (RFC 6749 §3.1.1, OIDC Core §3) and where
//! the answer goes on the redirect URI (OAuth 2.0 Multiple Response Type Encoding Practices).

use crate::model::GrantType;

/// The response types oauthd answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseType {
    /// `code`: the authorization code flow (with `openid`, OIDC's code flow).
    Code,
    /// `token`: the implicit flow.
    Token,
    /// `id_token`: OIDC's implicit flow, an id_token alone.
    IdToken,
    /// `id_token token`: OIDC's implicit flow, an id_token and an access token.
    IdTokenToken,
}

impl ResponseType {
    /// Every response type, as `response_types_supported` lists them.
    pub const ALL: [ResponseType; 4] = [
        ResponseType::Code,
        ResponseType::Token,
        ResponseType::IdToken,
        ResponseType::IdTokenToken,
    ];

    /// The wire name (its values in this order).
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Code => "code",
            ResponseType::Token => "token",
            ResponseType::IdToken => "id_token",
            ResponseType::IdTokenToken => "id_token token",
        }
    }

    /// Parses the wire name: space-separated values in any order (RFC 6749 §3.1.1).
    pub fn parse(text: &str) -> Option<ResponseType> {
        let mut values: Vec<&str> = text.split(' ').collect();
        values.sort_unstable();
        ResponseType::ALL.into_iter().find(|rt| {
            let mut known: Vec<&str> = rt.as_str().split(' ').collect();
            known.sort_unstable();
            known == values
        })
    }

    /// The grant an application must be registered for to use it.
    pub fn grant(self) -> GrantType {
        match self {
            ResponseType::Code => GrantType::AuthorizationCode,
            _ => GrantType::Implicit,
        }
    }

    /// An access token comes straight back in the redirect.
    pub(crate) fn issues_access_token(self) -> bool {
        matches!(self, ResponseType::Token | ResponseType::IdTokenToken)
    }

    /// An id_token comes straight back in the redirect.
    pub(crate) fn issues_id_token(self) -> bool {
        matches!(self, ResponseType::IdToken | ResponseType::IdTokenToken)
    }

    /// Where its answer goes by default (Multiple Response Type Encoding Practices §2.1, §3):
    /// a code in the query; anything with a token in the fragment, which never reaches a
    /// server log or a Referer (RFC 6749 §4.2.2).
    pub(crate) fn default_mode(self) -> ResponseMode {
        match self {
            ResponseType::Code => ResponseMode::Query,
            _ => ResponseMode::Fragment,
        }
    }

    /// The `response_mode` a request may ask for with this response type: tokens never go
    /// in the query (Multiple Response Type Encoding Practices §2.1).
    pub(crate) fn allows_mode(self, mode: ResponseMode) -> bool {
        mode == ResponseMode::Fragment || self == ResponseType::Code
    }
}

/// Where an authorization response's parameters go on the redirect URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseMode {
    /// In the query string.
    Query,
    /// In the fragment.
    Fragment,
}

impl ResponseMode {
    /// Every mode, as `response_modes_supported` lists them.
    pub const ALL: [ResponseMode; 2] = [ResponseMode::Query, ResponseMode::Fragment];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::Fragment => "fragment",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<ResponseMode> {
        ResponseMode::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_types_parse_in_any_order_and_nothing_else() {
        for rt in ResponseType::ALL {
            assert_eq!(ResponseType::parse(rt.as_str()), Some(rt));
        }
        assert_eq!(
            ResponseType::parse("token id_token"),
            Some(ResponseType::IdTokenToken)
        );
        for bad in [
            "",
            "code ",
            "code  token",
            "id_token id_token",
            "code id_token",
            "CODE",
            "none",
            "token\tid_token",
        ] {
            assert_eq!(ResponseType::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tokens_never_go_in_the_query() {
        for rt in ResponseType::ALL {
            assert!(rt.allows_mode(ResponseMode::Fragment));
            assert_eq!(
                rt.allows_mode(ResponseMode::Query),
                rt == ResponseType::Code
            );
            assert!(rt.allows_mode(rt.default_mode()));
            assert_eq!(
                rt.issues_access_token() || rt.issues_id_token(),
                rt.default_mode() == ResponseMode::Fragment
            );
        }
        assert_eq!(ResponseMode::parse("form_post"), None);
    }
}
