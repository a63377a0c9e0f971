//! Answers on the wire: status line, headers, framing (RFC 9112 §6). No header carries CR,
//! LF or NUL, whatever a handler put in it.

use crate::http::response::{COMMON_HEADERS, Resp};
use std::io::Write;
use std::time::SystemTime;

/// The interim answer to `Expect: 100-continue` (RFC 9110 §10.1.1).
pub(crate) const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// How the connection goes on after an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Persistence {
    /// HTTP/1.1's default: nothing to say.
    KeepAlive,
    /// An HTTP/1.0 client asked to keep the connection: say that it is kept.
    KeepAlive10,
    /// The server closes the connection after this answer.
    Close,
}

/// The bytes of `resp`; `head_only` (a HEAD request) sends the headers a GET would get.
pub(crate) fn encode(resp: &Resp, head_only: bool, persistence: Persistence) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + resp.body.len());
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "HTTP/1.1 {} {}\r\nDate: {}\r\n",
        resp.status,
        reason(resp.status),
        httpdate::fmt_http_date(SystemTime::now())
    );
    // A header the answer sets itself (a public document's Cache-Control) replaces the common one.
    let own = |name: &str| {
        resp.headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(name))
    };
    let headers = COMMON_HEADERS
        .iter()
        .copied()
        .filter(|(name, _)| !own(name))
        .chain(resp.headers.iter().map(|(k, v)| (*k, v.as_str())));
    for (name, value) in headers {
        if is_safe(name) && is_safe(value) {
            let _ = write!(out, "{name}: {value}\r\n");
        } else {
            eprintln!("oauthd: a {name:?} header with a control character was not sent");
        }
    }
    // RFC 9110 §8.6: 204 and 304 carry no Content-Length and no body.
    let bodiless = matches!(resp.status, 204 | 304);
    if !bodiless {
        let _ = write!(out, "Content-Length: {}\r\n", resp.body.len());
    }
    match persistence {
        Persistence::KeepAlive => {}
        Persistence::KeepAlive10 => out.extend_from_slice(b"Connection: keep-alive\r\n"),
        Persistence::Close => out.extend_from_slice(b"Connection: close\r\n"),
    }
    out.extend_from_slice(b"\r\n");
    if !head_only && !bodiless {
        out.extend_from_slice(&resp.body);
    }
    out
}

/// A header name or value may be written as is (RFC 9110 §5.5: no CR, LF or NUL).
fn is_safe(text: &str) -> bool {
    !text.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// The reason phrase of the statuses oauthd sends (RFC 9110 §15).
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(resp: &Resp, head_only: bool, persistence: Persistence) -> String {
        String::from_utf8(encode(resp, head_only, persistence)).unwrap()
    }

    #[test]
    fn an_answer_is_framed_by_its_length() {
        let out = text(&Resp::text(200, "hello"), false, Persistence::KeepAlive);
        assert!(out.starts_with("HTTP/1.1 200 OK\r\nDate: "), "{out}");
        assert!(out.contains("\r\nCache-Control: no-store\r\n"), "{out}");
        assert!(out.ends_with("\r\nContent-Length: 5\r\n\r\nhello"), "{out}");
        assert!(!out.contains("Connection"), "{out}");
    }

    #[test]
    fn an_answer_s_own_header_replaces_the_common_one() {
        let public = Resp::text(200, "{}").with_header("cache-control", "public, max-age=60");
        let out = text(&public, false, Persistence::KeepAlive);
        assert_eq!(
            out.to_ascii_lowercase().matches("cache-control").count(),
            1,
            "{out}"
        );
        assert!(
            out.contains("\r\ncache-control: public, max-age=60\r\n"),
            "{out}"
        );
        assert!(out.contains("\r\nX-Frame-Options: DENY\r\n"), "{out}");
    }

    #[test]
    fn head_answers_keep_the_length_and_drop_the_body() {
        let out = text(&Resp::text(200, "hello"), true, Persistence::Close);
        assert!(
            out.ends_with("\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"),
            "{out}"
        );
        let out = text(&Resp::empty(204), false, Persistence::KeepAlive10);
        assert!(out.ends_with("\r\nConnection: keep-alive\r\n\r\n"), "{out}");
        assert!(!out.contains("Content-Length"), "{out}");
    }

    #[test]
    fn no_header_carries_cr_lf_or_nul() {
        for bad in ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\0b"] {
            let resp = Resp::redirect(bad);
            let out = text(&resp, false, Persistence::KeepAlive);
            assert!(!out.contains("Location"), "{out}");
            assert!(!out.contains("Set-Cookie"), "{out}");
        }
        let out = text(&Resp::redirect("/fine?a=b"), false, Persistence::KeepAlive);
        assert!(out.contains("\r\nLocation: /fine?a=b\r\n"), "{out}");
    }
}
