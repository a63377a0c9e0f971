//! The HTTP/1.1 edge (RFC 9112): everything between a socket and a complete request.
//! `head` parses and checks request heads, `chunked` decodes chunked bodies, `conn` runs one
//! connection with its deadlines, `wire` writes answers. Workers never see a socket: they get
//! complete requests and give back a [`Resp`], and one slow or hostile client can hold at
//! most its own connection.

pub mod acceptor;
pub mod chunked;
pub mod conn;
pub mod head;
pub mod wire;

use crate::http::response::Resp;
use crate::settings::Settings;
use std::time::Duration;

/// The deadlines a connection keeps, from the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The whole request head must arrive within this (from its first byte, or from the
    /// connection's opening for its first request).
    pub header: Duration,
    /// The whole body must arrive within this once the head is in; an answer must be taken
    /// by the client within it too.
    pub body: Duration,
    /// How long a kept-alive connection may wait for its next request.
    pub idle: Duration,
}

impl Limits {
    /// The deadlines the settings name.
    pub(crate) fn from_settings(settings: &Settings) -> Limits {
        Limits {
            header: Duration::from_secs(settings.header_timeout_seconds),
            body: Duration::from_secs(settings.body_timeout_seconds),
            idle: Duration::from_secs(settings.idle_timeout_seconds),
        }
    }
}

/// Why the edge answers a request itself, before any handler sees it; the connection is
/// closed after each of these answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeError {
    /// Malformed request line, header or framing (400).
    BadRequest(&'static str),
    /// The head did not arrive in time, or the body did not (408).
    Timeout,
    /// The head is over its size or line cap (431).
    HeadTooLarge,
    /// A transfer coding other than chunked (501).
    NotImplemented(&'static str),
    /// Not HTTP/1.0 or HTTP/1.1 (505).
    VersionNotSupported,
    /// The server is at `max_connections` or cannot take the connection now (503).
    Unavailable,
}

impl EdgeError {
    /// The status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            EdgeError::BadRequest(_) => 400,
            EdgeError::Timeout => 408,
            EdgeError::HeadTooLarge => 431,
            EdgeError::NotImplemented(_) => 501,
            EdgeError::VersionNotSupported => 505,
            EdgeError::Unavailable => 503,
        }
    }

    /// A plain-text answer saying what was wrong.
    pub(crate) fn response(&self) -> Resp {
        let message = match self {
            EdgeError::BadRequest(why) | EdgeError::NotImplemented(why) => why,
            EdgeError::Timeout => "The request did not arrive in time.",
            EdgeError::HeadTooLarge => "The request head is too large.",
            EdgeError::VersionNotSupported => "Only HTTP/1.0 and HTTP/1.1 are served.",
            EdgeError::Unavailable => "The server is busy; try again shortly.",
        };
        let resp = Resp::text(self.status(), message);
        match self {
            EdgeError::Unavailable => resp.with_header("Retry-After", "1"),
            _ => resp,
        }
    }
}
