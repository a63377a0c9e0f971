//! The request head: parsed by httparse, checked against RFC 9112's framing rules, and reduced
//! to what the connection and the handlers need. Pure: bytes in, a verdict out.

use crate::http::edge::EdgeError;

/// The largest request head (request line and header lines) read: more is a 431.
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most header lines a request may carry: more is a 431.
pub(crate) const MAX_HEADERS: usize = 100;

/// How the body of a request is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed request head: the request line and the header fields oauthd reads. Fields that
/// came on several lines are combined as RFC 9110 §5.3 says (a comma between values; a
/// semicolon between cookies), so a duplicated credential header is invalid for its purpose
/// and its endpoint answers it in its own format.
#[derive(Clone, PartialEq, Eq)]
pub struct Head {
    /// The method, as sent.
    pub method: String,
    /// The path and query, in origin form (absolute-form targets are reduced to it).
    pub target: String,
    /// HTTP/1.0 rather than HTTP/1.1.
    pub http10: bool,
    /// How the body is delimited.
    pub framing: Framing,
    /// The client wants the connection kept open after the answer.
    pub keep_alive: bool,
    /// `Expect: 100-continue` (HTTP/1.1 only).
    pub expect_continue: bool,
    /// Content-Type.
    pub content_type: Option<String>,
    /// Authorization (never logged).
    pub authorization: Option<String>,
    /// Cookie (never logged).
    pub cookie: Option<String>,
    /// Accept: whether the client is a browser wanting a page.
    pub accept: Option<String>,
    /// Origin: the web page's origin a browser sends with a cross-origin request (CORS).
    pub origin: Option<String>,
    /// Access-Control-Request-Method: present only on a CORS preflight.
    pub access_control_request_method: Option<String>,
    /// X-Forwarded-For, believed only from a trusted proxy.
    pub forwarded_for: Option<String>,
    /// X-Forwarded-Proto, believed only from a trusted proxy.
    pub forwarded_proto: Option<String>,
}

impl std::fmt::Debug for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Head")
            .field("method", &self.method)
            .field("framing", &self.framing)
            .field("keep_alive", &self.keep_alive)
            .finish_non_exhaustive()
    }
}

/// What the bytes read so far amount to.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// The head is not complete yet.
    Partial,
    /// A complete head of this many bytes.
    Complete(Box<Head>, usize),
    /// The head is invalid: answer with this error and close.
    Invalid(EdgeError),
}

/// Parses the request head at the start of `buf`.
pub fn parse(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(buf) {
        // The cap is on the head, however its bytes were read: a whole head that arrived in
        // one read is held to it as one that trickled in.
        Ok(httparse::Status::Complete(len)) if len > MAX_HEAD_BYTES => {
            Parsed::Invalid(EdgeError::HeadTooLarge)
        }
        Ok(httparse::Status::Complete(len)) if has_bare_lf(buf.get(..len).unwrap_or_default()) => {
            Parsed::Invalid(EdgeError::BadRequest(
                "Each line of the request head must end in CRLF.",
            ))
        }
        Ok(httparse::Status::Complete(len)) => match Head::from_parsed(&request) {
            Ok(head) => Parsed::Complete(Box::new(head), len),
            Err(e) => Parsed::Invalid(e),
        },
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => {
            Parsed::Invalid(EdgeError::HeadTooLarge)
        }
        Ok(httparse::Status::Partial) => Parsed::Partial,
        Err(httparse::Error::TooManyHeaders) => Parsed::Invalid(EdgeError::HeadTooLarge),
        Err(httparse::Error::Version) => Parsed::Invalid(EdgeError::VersionNotSupported),
        Err(_) => Parsed::Invalid(EdgeError::BadRequest("The request head is malformed.")),
    }
}

/// RFC 9112 §2.2 lets a recipient take a bare LF as a line end, and httparse does; oauthd
/// does not, since a proxy in front that splits lines only at CRLF would read such a head
/// differently (a hidden Content-Length, say).
fn has_bare_lf(head: &[u8]) -> bool {
    head.iter()
        .enumerate()
        .any(|(at, &b)| b == b'\n' && (at == 0 || head.get(at - 1) != Some(&b'\r')))
}

/// The field lines of one name, combined.
#[derive(Default)]
struct Field {
    lines: usize,
    value: String,
}

impl Field {
    fn add(&mut self, value: &[u8], separator: &str) {
        if self.lines > 0 {
            self.value.push_str(separator);
        }
        // obs-text (RFC 9110 §5.5) is legal in a value but no field oauthd reads uses it: a
        // lossy decode keeps the request answerable and makes such a value invalid for its use.
        self.value.push_str(&String::from_utf8_lossy(value));
        self.lines += 1;
    }

    fn get(self) -> Option<String> {
        (self.lines > 0).then_some(self.value)
    }
}

/// The fields of a head that oauthd reads.
#[derive(Default)]
struct Fields {
    host: Field,
    content_length: Field,
    transfer_encoding: Field,
    connection: Field,
    expect: Field,
    content_type: Field,
    authorization: Field,
    cookie: Field,
    accept: Field,
    origin: Field,
    access_control_request_method: Field,
    forwarded_for: Field,
    forwarded_proto: Field,
}

impl Fields {
    fn collect(headers: &[httparse::Header<'_>]) -> Fields {
        let mut fields = Fields::default();
        for header in headers {
            let name = header.name;
            let (field, separator) = match () {
                _ if name.eq_ignore_ascii_case("host") => (&mut fields.host, ","),
                _ if name.eq_ignore_ascii_case("content-length") => {
                    (&mut fields.content_length, ",")
                }
                _ if name.eq_ignore_ascii_case("transfer-encoding") => {
                    (&mut fields.transfer_encoding, ",")
                }
                _ if name.eq_ignore_ascii_case("connection") => (&mut fields.connection, ","),
                _ if name.eq_ignore_ascii_case("expect") => (&mut fields.expect, ","),
                _ if name.eq_ignore_ascii_case("content-type") => (&mut fields.content_type, ", "),
                _ if name.eq_ignore_ascii_case("authorization") => {
                    (&mut fields.authorization, ", ")
                }
                _ if name.eq_ignore_ascii_case("cookie") => (&mut fields.cookie, "; "),
                _ if name.eq_ignore_ascii_case("accept") => (&mut fields.accept, ", "),
                // Repeated, the value is no origin and matches none.
                _ if name.eq_ignore_ascii_case("origin") => (&mut fields.origin, ", "),
                _ if name.eq_ignore_ascii_case("access-control-request-method") => {
                    (&mut fields.access_control_request_method, ", ")
                }
                _ if name.eq_ignore_ascii_case("x-forwarded-for") => {
                    (&mut fields.forwarded_for, ",")
                }
                _ if name.eq_ignore_ascii_case("x-forwarded-proto") => {
                    (&mut fields.forwarded_proto, ",")
                }
                _ => continue,
            };
            field.add(header.value, separator);
        }
        fields
    }
}

impl Head {
    fn from_parsed(request: &httparse::Request<'_, '_>) -> Result<Head, EdgeError> {
        let bad = EdgeError::BadRequest;
        let (Some(method), Some(path), Some(version)) =
            (request.method, request.path, request.version)
        else {
            return Err(bad("The request line is incomplete."));
        };
        let http10 = version == 0;
        let fields = Fields::collect(request.headers);
        // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host.
        if !http10 && fields.host.lines != 1 {
            return Err(bad("An HTTP/1.1 request needs exactly one Host header."));
        }
        let framing = framing(&fields, http10)?;
        let tokens = |field: &Field, token: &str| {
            field
                .value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        };
        let keep_alive = if http10 {
            tokens(&fields.connection, "keep-alive")
        } else {
            !tokens(&fields.connection, "close")
        };
        // RFC 9110 §10.1.1: a 1.0 client's Expect is ignored.
        let expect_continue = !http10 && tokens(&fields.expect, "100-continue");
        Ok(Head {
            method: method.to_owned(),
            target: origin_form(path)?,
            http10,
            framing,
            keep_alive,
            expect_continue,
            content_type: fields.content_type.get(),
            authorization: fields.authorization.get(),
            cookie: fields.cookie.get(),
            accept: fields.accept.get(),
            origin: fields.origin.get(),
            access_control_request_method: fields.access_control_request_method.get(),
            forwarded_for: fields.forwarded_for.get(),
            forwarded_proto: fields.forwarded_proto.get(),
        })
    }
}

/// RFC 9112 §6.1 and §6.3: `chunked` as the only transfer coding, or a Content-Length of
/// digits (repeated only with the same value), never both: anything else could be read
/// differently by a proxy in front of us, which is how requests are smuggled.
fn framing(fields: &Fields, http10: bool) -> Result<Framing, EdgeError> {
    let bad = EdgeError::BadRequest;
    if fields.transfer_encoding.lines > 0 {
        if fields.content_length.lines > 0 {
            return Err(bad("Transfer-Encoding and Content-Length together."));
        }
        if http10 {
            return Err(bad("Transfer-Encoding in an HTTP/1.0 request."));
        }
        if !fields
            .transfer_encoding
            .value
            .trim()
            .eq_ignore_ascii_case("chunked")
        {
            return Err(EdgeError::NotImplemented(
                "The only transfer coding served is chunked.",
            ));
        }
        return Ok(Framing::Chunked);
    }
    if fields.content_length.lines == 0 {
        return Ok(Framing::Empty);
    }
    let mut values = fields.content_length.value.split(',').map(str::trim);
    let first = values.next().unwrap_or("");
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("Content-Length is not a number."));
    }
    if values.any(|v| v != first) {
        return Err(bad("Content-Length is sent with different values."));
    }
    // Digits that overflow u64 are a claim larger than any cap.
    Ok(Framing::Length(first.parse().unwrap_or(u64::MAX)))
}

/// RFC 9112 §3.2: visible ASCII only; origin form as is; absolute form reduced to its path and query; `*` kept
/// (it names no resource here, so it is a 404). Authority form is for CONNECT, not served.
fn origin_form(target: &str) -> Result<String, EdgeError> {
    // RFC 3986 §2: a URI is visible ASCII; httparse lets other bytes through for lenience.
    if !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(EdgeError::BadRequest("The request target is not ASCII."));
    }
    if target.starts_with('/') || target == "*" {
        return Ok(target.to_owned());
    }
    match url::Url::parse(target) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }),
        _ => Err(EdgeError::BadRequest("The request target is not a path.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(bytes: impl AsRef<[u8]>) -> Head {
        let bytes = bytes.as_ref();
        match parse(bytes) {
            Parsed::Complete(head, len) => {
                assert_eq!(len, bytes.len());
                *head
            }
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bytes)),
        }
    }

    fn invalid(bytes: &[u8]) -> u16 {
        match parse(bytes) {
            Parsed::Invalid(e) => e.status(),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bytes)),
        }
    }

    const GET: &str = "GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n";

    #[test]
    fn a_plain_get() {
        let h = head(GET);
        assert_eq!((h.method.as_str(), h.target.as_str()), ("GET", "/a?b=c"));
        assert_eq!(h.framing, Framing::Empty);
        assert!(h.keep_alive && !h.http10 && !h.expect_continue);
    }

    #[test]
    fn partial_heads_wait_for_more() {
        for cut in 0..GET.len() {
            assert_eq!(parse(&GET.as_bytes()[..cut]), Parsed::Partial, "{cut}");
        }
    }

    #[test]
    fn fields_are_combined() {
        let h = head(
            b"POST /t HTTP/1.1\r\nhost: x\r\nCOOKIE: a=1\r\ncookie: b=2\r\n\
             Authorization: Basic a\r\nauthorization: Basic b\r\nContent-Length: 3\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\
             X-Forwarded-For: 1.1.1.1\r\nx-forwarded-for: 2.2.2.2, 3.3.3.3\r\n\
             X-Forwarded-Proto: https\r\nX-Ignored: \xff\xfe\r\n\r\n",
        );
        assert_eq!(h.cookie.as_deref(), Some("a=1; b=2"));
        assert_eq!(h.authorization.as_deref(), Some("Basic a, Basic b"));
        assert_eq!(h.forwarded_for.as_deref(), Some("1.1.1.1,2.2.2.2, 3.3.3.3"));
        assert_eq!(h.forwarded_proto.as_deref(), Some("https"));
        assert_eq!(h.framing, Framing::Length(3));
    }

    #[test]
    fn obs_text_in_a_value_is_accepted() {
        let h = head(b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xe9t\xe9\r\n\r\n");
        assert_eq!(h.authorization.as_deref(), Some("Bearer \u{fffd}t\u{fffd}"));
    }

    #[test]
    fn connection_semantics_follow_the_version() {
        assert!(!head("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n").keep_alive);
        assert!(!head("GET / HTTP/1.0\r\n\r\n").keep_alive);
        let h = head("GET / HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n\r\n");
        assert!(h.keep_alive && h.http10 && !h.expect_continue);
        assert!(head("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n\r\n").expect_continue);
    }

    #[test]
    fn targets_are_reduced_to_origin_form() {
        let h = head("GET http://example.com/o/token/?a=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(h.target, "/o/token/?a=1");
        assert_eq!(head("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").target, "*");
        assert_eq!(
            invalid(b"CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n"),
            400
        );
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let with = |fields: &str| format!("POST / HTTP/1.1\r\nHost: x\r\n{fields}\r\n");
        let framing = |fields: &str| head(with(fields)).framing;
        assert_eq!(framing("Transfer-Encoding: Chunked\r\n"), Framing::Chunked);
        assert_eq!(
            framing("Content-Length: 5\r\nContent-Length: 5\r\n"),
            Framing::Length(5)
        );
        assert_eq!(framing("Content-Length: 7, 7\r\n"), Framing::Length(7));
        assert_eq!(
            framing("Content-Length: 99999999999999999999999\r\n"),
            Framing::Length(u64::MAX)
        );
        for (fields, status) in [
            ("Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n", 400),
            ("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400),
            ("Transfer-Encoding: xchunked\r\n", 501),
            ("Transfer-Encoding: identity\r\n", 501),
            ("Transfer-Encoding: chunked, identity\r\n", 501),
            (
                "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
                501,
            ),
            (
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                501,
            ),
            ("Content-Length: 5\r\nContent-Length: 6\r\n", 400),
            ("Content-Length: +5\r\n", 400),
            ("Content-Length: 0x5\r\n", 400),
            ("Content-Length: \r\n", 400),
            ("Content-Length: 5 5\r\n", 400),
        ] {
            assert_eq!(invalid(with(fields).as_bytes()), status, "{fields:?}");
        }
        assert_eq!(
            invalid(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            400
        );
    }

    #[test]
    fn bad_heads_get_their_status() {
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: y\r\n")).collect();
        let long = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX: {}",
            "y".repeat(MAX_HEAD_BYTES)
        );
        for (bytes, status) in [
            (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n".to_vec(), 505),
            (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(), 505),
            (b"GET / HTTP/1.2\r\nHost: x\r\n\r\n".to_vec(), 505),
            (b"GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400),
            (b"G\xc3T / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400),
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nA: b\0c\r\n\r\n".to_vec(),
                400,
            ),
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n".to_vec(),
                400,
            ),
            (b"GET / HTTP/1.1\r\nHost: x\r\nA : b\r\n\r\n".to_vec(), 400),
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n folded\r\n\r\n".to_vec(),
                400,
            ),
            (b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400),
            (b"GET / HTTP/1.1\r\n\r\n".to_vec(), 400),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".to_vec(),
                400,
            ),
            (
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(),
                400,
            ),
            (
                format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n").into_bytes(),
                431,
            ),
            (long.into_bytes(), 431),
        ] {
            assert_eq!(
                invalid(&bytes),
                status,
                "{:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    #[test]
    fn a_whole_head_over_the_cap_is_431_and_one_at_the_cap_is_read() {
        let head_of = |len: usize| {
            let start = "GET / HTTP/1.1\r\nHost: x\r\nX: ";
            let pad = len - start.len() - 4;
            format!("{start}{}\r\n\r\n", "y".repeat(pad))
        };
        assert_eq!(head(head_of(MAX_HEAD_BYTES)).target, "/");
        assert_eq!(invalid(head_of(MAX_HEAD_BYTES + 1).as_bytes()), 431);
        assert_eq!(invalid(head_of(3 * MAX_HEAD_BYTES).as_bytes()), 431);
    }

    #[test]
    fn bare_lf_line_endings_are_refused() {
        assert_eq!(invalid(b"GET /x HTTP/1.1\nHost: y\n\n"), 400);
        assert_eq!(
            invalid(b"POST /x HTTP/1.1\r\nHost: y\r\nX: a\nContent-Length: 4\r\n\r\n"),
            400
        );
        assert_eq!(head("\r\nGET /x HTTP/1.1\r\nHost: y\r\n\r\n").target, "/x");
    }
}
