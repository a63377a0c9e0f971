//! The rules for a user account (Django's), one set for the admin page, the CLI, the password
//! change page and the `/users/` API.

use crate::model::FieldErrors;

/// The shortest password accepted (Django's MinimumLengthValidator).
pub(crate) const MIN_PASSWORD_CHARS: usize = 8;
/// The longest email address (RFC 5321 §4.5.3.1.3 path limit, as Django's EmailField).
const MAX_EMAIL_CHARS: usize = 254;
/// The longest display name (Django's name fields).
pub(crate) const MAX_NAME_CHARS: usize = 150;

/// Django's username rule: 1 to 150 letters, digits and `@.+-_`.
pub(crate) fn is_valid_username(name: &str) -> bool {
    let count = name.chars().count();
    (1..=150).contains(&count)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "@.+-_".contains(c))
}

/// An email address is optional; one that is given needs a local part, an `@` and a dotted
/// domain, and no whitespace (the shape Django's EmailValidator checks, without its regexes).
pub(crate) fn is_valid_email(email: &str) -> bool {
    email.is_empty()
        || (email.chars().count() <= MAX_EMAIL_CHARS
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            }))
}

/// A display name is optional; one that is given is at most [`MAX_NAME_CHARS`] characters,
/// none of them a control character (it becomes the id_token's `name` claim).
pub(crate) fn is_valid_name(name: &str) -> bool {
    name.chars().count() <= MAX_NAME_CHARS && !name.chars().any(char::is_control)
}

/// The username's, the email's and the display name's problems.
pub(crate) fn check_new_user(username: &str, email: &str, name: &str) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if !is_valid_username(username) {
        errors.add(
            "username",
            "Enter a valid username: 1-150 letters, digits and @/./+/-/_ only.",
        );
    }
    if !is_valid_email(email) {
        errors.add("email", "Enter a valid email address.");
    }
    if !is_valid_name(name) {
        errors.add(
            "name",
            format!(
                "Enter a name of at most {MAX_NAME_CHARS} characters, without control characters."
            ),
        );
    }
    errors
}

/// Why `password` is refused, if it is.
pub(crate) fn password_problem(password: &str) -> Option<String> {
    (password.chars().count() < MIN_PASSWORD_CHARS).then(|| {
        format!(
            "This password is too short. It must contain at least {MIN_PASSWORD_CHARS} characters."
        )
    })
}

/// Why a new password, typed twice, is refused, if it is: the account rules, then the two
/// typings must match.
pub(crate) fn new_password_problem(password: &str, again: &str) -> Option<String> {
    password_problem(password)
        .or_else(|| (password != again).then(|| "The two password fields didn't match.".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_django() {
        for ok in ["bob", "bob.e+i_ü@x-y", &"a".repeat(150)] {
            assert!(is_valid_username(ok), "{ok}");
        }
        for bad in ["", "a b", "bob\"e'i;--ü", "a/b", &"a".repeat(151)] {
            assert!(!is_valid_username(bad), "{bad}");
        }
    }

    #[test]
    fn emails_are_optional_but_plausible() {
        for ok in ["", "bob@example.com", "b.o+b@mail.example.org"] {
            assert!(is_valid_email(ok), "{ok}");
        }
        for bad in [
            "bob",
            "@x.org",
            "a b@x.org",
            "bob@x",
            "bob@.org",
            "bob@x.",
            "a@b@x.org",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn names_are_optional_and_bounded() {
        for ok in ["", "Bob \"e'i;--ü", &"ü".repeat(MAX_NAME_CHARS)] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["a\nb", "a\u{7}b", &"a".repeat(MAX_NAME_CHARS + 1)] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn each_problem_is_named_by_its_field() {
        assert!(check_new_user("bob", "bob@example.com", "Bob").is_empty());
        let errors = check_new_user("a b", "nope", "a\tb");
        assert!(
            errors.get("username").is_some()
                && errors.get("email").is_some()
                && errors.get("name").is_some()
        );
        assert_eq!(password_problem("long enough"), None);
        assert!(password_problem("short").unwrap().contains("at least 8"));
        assert_eq!(new_password_problem("long enough", "long enough"), None);
        assert!(
            new_password_problem("short", "short")
                .unwrap()
                .contains("at least 8")
        );
        assert!(
            new_password_problem("long enough", "long enougH")
                .unwrap()
                .contains("didn't match")
        );
    }
}
