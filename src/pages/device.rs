//! The device page (RFC 8628 §3.3): the form a signed-in user types a user code into, and
//! the page that sends them back to their device.

use super::{Frame, layout};
use crate::http::paths;
use maud::{Markup, html};

/// What the user code form shows.
pub(crate) struct DeviceEntry<'a> {
    /// The code it starts with (from `verification_uri_complete`), shown as `XXXX-XXXX`; the
    /// user still submits it (§5.4).
    pub user_code: &'a str,
    /// Why the last code was refused.
    pub error: Option<&'a str>,
}

/// The user code form.
pub(crate) fn device_entry(frame: &Frame<'_>, form: &DeviceEntry<'_>) -> Markup {
    layout(
        frame,
        "Connect a device",
        html! {
            div.card.narrow {
                h1 { "Connect a device" }
                p { "Enter the code your device shows. Continue only if you started the sign-in "
                    "on that device yourself." }
                @if let Some(error) = form.error {
                    p.error role="alert" { (error) }
                }
                form method="post" action=(paths::DEVICE) {
                    (frame.csrf_field())
                    label for=(paths::USER_CODE) { "Code" }
                    input id=(paths::USER_CODE) type="text" name=(paths::USER_CODE)
                        value=(form.user_code) placeholder="XXXX-XXXX" autocomplete="off"
                        autocapitalize="characters" spellcheck="false" maxlength="32" required
                        autofocus;
                    div.actions { button type="submit" { "Continue" } }
                }
            }
        },
    )
}

/// After Allow or Deny: back to the device.
pub(crate) fn device_decided(frame: &Frame<'_>, app_name: &str, approved: bool) -> Markup {
    let title = if approved {
        "Device connected"
    } else {
        "Request denied"
    };
    layout(
        frame,
        title,
        html! {
            div.card.narrow {
                h1 { (title) }
                @if approved {
                    p { (app_name) " may now use your account. Return to your device: it "
                        "continues on its own." }
                } @else {
                    p { (app_name) " gets no access. You can close this page." }
                }
            }
        },
    )
}
