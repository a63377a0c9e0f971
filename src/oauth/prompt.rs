//! OpenID Connect's `prompt` and `max_age` (Core §3.1.2.1): when the user must be asked again.

/// The `prompt` values understood: the metadata's `prompt_values_supported`.
pub(crate) const PROMPT_VALUES: [&str; 4] = ["none", "login", "consent", "select_account"];

/// What `prompt` asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: never show a page; fail with login_required or consent_required instead.
    pub none: bool,
    /// `login` (or `select_account`, which with one account per session means the same):
    /// show the login form even to a signed-in user.
    pub login: bool,
    /// `consent`: show the consent page even when it could be skipped.
    pub consent: bool,
}

impl Prompt {
    /// Parses a space-separated `prompt`. `none` with any other value, or a value Core does
    /// not define, is refused with the reason.
    pub fn parse(text: Option<&str>) -> Result<Prompt, &'static str> {
        let mut prompt = Prompt::default();
        for value in text.unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
            match value {
                "none" => prompt.none = true,
                "login" | "select_account" => prompt.login = true,
                "consent" => prompt.consent = true,
                _ => {
                    return Err(
                        "The prompt holds a value that is not none, login, consent or select_account.",
                    );
                }
            }
        }
        if prompt.none && (prompt.login || prompt.consent) {
            return Err("prompt=none cannot be combined with another value.");
        }
        Ok(prompt)
    }

    /// Whether the raw parameter asks for `none` at all: such a request never sees the login
    /// page, even when the rest of it is malformed.
    pub(crate) fn asks_none(text: Option<&str>) -> bool {
        text.is_some_and(|t| t.split(' ').any(|v| v == "none"))
    }
}

/// The longest `max_age` taken as given; a larger one means the same as no limit.
const MAX_AGE_LIMIT: i64 = 10 * 365 * 24 * 3600;

/// Parses `max_age`: a non-negative number of seconds in plain digits.
pub(crate) fn parse_max_age(text: Option<&str>) -> Result<Option<i64>, &'static str> {
    let Some(text) = text else {
        return Ok(None);
    };
    let digits = !text.is_empty() && text.len() <= 19 && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u64>() {
        Ok(seconds) if digits => Ok(Some(
            i64::try_from(seconds).map_or(MAX_AGE_LIMIT, |s| s.min(MAX_AGE_LIMIT)),
        )),
        _ => Err("The max_age is not a non-negative number of seconds."),
    }
}

/// Whether a user who authenticated at `auth_time` must do so again now (Core §3.1.2.1:
/// "the elapsed time is greater than" max_age; `max_age=0` means the same as
/// `prompt=login`, per the specification's errata).
pub(crate) fn too_old(auth_time: i64, max_age: Option<i64>, now: i64) -> bool {
    max_age.is_some_and(|max| max == 0 || now.saturating_sub(auth_time) > max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts() {
        let parsed = |text| Prompt::parse(Some(text));
        assert_eq!(Prompt::parse(None), Ok(Prompt::default()));
        assert_eq!(parsed(""), Ok(Prompt::default()));
        assert!(parsed("none").unwrap().none);
        let both = parsed("login consent").unwrap();
        assert!(both.login && both.consent && !both.none);
        assert!(parsed("select_account").unwrap().login);
        for bad in ["none login", "consent none", "magic", "NONE", "none\tlogin"] {
            assert!(parsed(bad).is_err(), "{bad:?}");
        }
        assert!(Prompt::asks_none(Some("none login")));
        assert!(!Prompt::asks_none(Some("nonesuch")));
    }

    #[test]
    fn max_ages() {
        assert_eq!(parse_max_age(None), Ok(None));
        assert_eq!(parse_max_age(Some("0")), Ok(Some(0)));
        assert_eq!(parse_max_age(Some("3600")), Ok(Some(3600)));
        assert_eq!(
            parse_max_age(Some("9999999999999999999")),
            Ok(Some(MAX_AGE_LIMIT))
        );
        for bad in ["-1", "+5", " 5", "5s", "", "1e3", "99999999999999999999"] {
            assert!(parse_max_age(Some(bad)).is_err(), "{bad:?}");
        }
        assert!(!too_old(100, Some(10), 110));
        assert!(too_old(100, Some(10), 111));
        assert!(too_old(100, Some(0), 101));
        assert!(too_old(100, Some(0), 100), "max_age=0 always asks");
        assert!(!too_old(100, None, 1_000_000));
    }
}
