//! The chunked transfer coding (RFC 9112 §7.1), decoded incrementally as bytes arrive:
//! chunk sizes by httparse, the data copied out, trailers read and dropped. Bounded: the
//! decoded body by the body cap, the encoded bytes (sizes, extensions, trailers) by a
//! little more, so that a flood of empty chunks or endless extensions is refused too.

use crate::http::edge::head::MAX_HEAD_BYTES;

/// Where the decoder is within the coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data, with this many bytes still to come.
    Data(u64),
    /// Expecting the CRLF that ends a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one.
    Trailers,
}

/// Why a chunked body cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkedError {
    /// The decoded body would exceed the cap.
    TooLarge,
    /// The coding is malformed.
    Malformed,
}

/// An incremental decoder over a buffer that only grows between calls.
#[derive(Debug)]
pub(crate) struct Decoder {
    state: State,
    /// How far into the buffer the coding has been consumed.
    read: usize,
    /// Coding bytes consumed and already removed from the buffer by [`Decoder::compact`].
    compacted: usize,
    body: Vec<u8>,
    cap: usize,
}

impl Decoder {
    /// A decoder whose body may hold at most `cap` bytes.
    pub fn new(cap: usize) -> Decoder {
        Decoder {
            state: State::Size,
            read: 0,
            compacted: 0,
            body: Vec::new(),
            cap,
        }
    }

    /// Removes the coding bytes consumed so far from the front of `buf`, so that a slow body
    /// is held once (decoded), not twice.
    pub fn compact(&mut self, buf: &mut Vec<u8>) {
        buf.drain(..self.read.min(buf.len()));
        self.compacted += self.read;
        self.read = 0;
    }

    /// Consumes what it can of `buf` (the same buffer as before, perhaps longer). `Ok(Some)`
    /// with the body and the coding's length once the last chunk and trailers are in;
    /// `Ok(None)` when more bytes are needed.
    pub fn advance(&mut self, buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, ChunkedError> {
        loop {
            let rest = buf.get(self.read..).unwrap_or_default();
            if self.compacted + self.read > self.cap + MAX_HEAD_BYTES {
                return Err(ChunkedError::TooLarge);
            }
            match self.state {
                State::Size => match strict_size_line(rest).and_then(|()| {
                    httparse::parse_chunk_size(rest).map_err(|_| ChunkedError::Malformed)
                }) {
                    Ok(httparse::Status::Complete((len, 0))) => {
                        self.read += len;
                        self.state = State::Trailers;
                    }
                    Ok(httparse::Status::Complete((len, size))) => {
                        if size > (self.cap - self.body.len()) as u64 {
                            return Err(ChunkedError::TooLarge);
                        }
                        self.read += len;
                        self.state = State::Data(size);
                    }
                    Ok(httparse::Status::Partial) => return partial_line(rest),
                    Err(e) => return Err(e),
                },
                State::Data(left) => {
                    let take = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    if take == 0 {
                        return Ok(None);
                    }
                    self.body
                        .extend_from_slice(rest.get(..take).unwrap_or_default());
                    self.read += take;
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                }
                State::DataEnd => match rest {
                    [b'\r', b'\n', ..] => {
                        self.read += line_length(rest);
                        self.state = State::Size;
                    }
                    [] | [b'\r'] => return Ok(None),
                    _ => return Err(ChunkedError::Malformed),
                },
                State::Trailers => match line_end(rest)? {
                    // An empty line ends the trailer section.
                    Some(0) => {
                        self.read += line_length(rest);
                        return Ok(Some((std::mem::take(&mut self.body), self.read)));
                    }
                    Some(_) => self.read += line_length(rest),
                    None => return partial_line(rest),
                },
            }
        }
    }
}

/// More bytes are needed to finish a size or trailer line; one longer than a whole request
/// head is refused.
fn partial_line(rest: &[u8]) -> Result<Option<(Vec<u8>, usize)>, ChunkedError> {
    if rest.len() > MAX_HEAD_BYTES {
        Err(ChunkedError::TooLarge)
    } else {
        Ok(None)
    }
}

/// Where the first line of `rest` ends: `Some(content length)` with the line complete,
/// `None` when its end has not arrived. Every line ends in CRLF and holds no other control
/// byte than a tab.
fn line_end(rest: &[u8]) -> Result<Option<usize>, ChunkedError> {
    let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    let line = rest.get(..lf).unwrap_or_default();
    let content = line.strip_suffix(b"\r").ok_or(ChunkedError::Malformed)?;
    if content
        .iter()
        .any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)
    {
        return Err(ChunkedError::Malformed);
    }
    Ok(Some(content.len()))
}

/// httparse reads chunk sizes leniently (an empty size, control bytes in an extension, a
/// bare LF); a size line here is 1 to 16 hex digits, then perhaps `;` and an extension,
/// then CRLF, so that no proxy in front can frame the body differently. Checked once its
/// line is complete; httparse then reads the size.
fn strict_size_line(rest: &[u8]) -> Result<(), ChunkedError> {
    let Some(len) = line_end(rest)? else {
        return Ok(());
    };
    let line = rest.get(..len).unwrap_or_default();
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let after = line.get(digits..).unwrap_or_default();
    let extension_or_nothing = after.is_empty() || after.starts_with(b";");
    if (1..=16).contains(&digits) && extension_or_nothing {
        Ok(())
    } else {
        Err(ChunkedError::Malformed)
    }
}

/// The length of the first line of `rest` with its LF (only called once it is complete).
fn line_length(rest: &[u8]) -> usize {
    rest.iter().position(|&b| b == b'\n').map_or(0, |lf| lf + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(encoded: &[u8], cap: usize) -> Result<Option<(Vec<u8>, usize)>, ChunkedError> {
        Decoder::new(cap).advance(encoded)
    }

    const ENCODED: &[u8] = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT";

    #[test]
    fn a_whole_body() {
        let (body, len) = decode(ENCODED, 64).unwrap().unwrap();
        assert_eq!(
            (body.as_slice(), len),
            (&b"Wikipedia"[..], ENCODED.len() - 4)
        );
    }

    #[test]
    fn byte_by_byte_gives_the_same_body() {
        let mut decoder = Decoder::new(64);
        for end in 0..ENCODED.len() - 4 {
            assert_eq!(decoder.advance(&ENCODED[..end]), Ok(None), "{end}");
        }
        let (body, len) = decoder.advance(ENCODED).unwrap().unwrap();
        assert_eq!(
            (body.as_slice(), len),
            (&b"Wikipedia"[..], ENCODED.len() - 4)
        );
    }

    #[test]
    fn a_chunk_size_line_ends_in_crlf() {
        // Framing is read strictly: a lenient decoder is how bodies get smuggled.
        assert_eq!(
            decode(b"3\nabc\r\n0\r\n\r\n", 64),
            Err(ChunkedError::Malformed)
        );
    }

    #[test]
    fn compacting_as_bytes_arrive_gives_the_same_body_and_a_short_buffer() {
        let mut decoder = Decoder::new(64);
        let mut buf = Vec::new();
        for &byte in ENCODED {
            buf.push(byte);
            if let Some((body, len)) = decoder.advance(&buf).unwrap() {
                assert_eq!(body, b"Wikipedia");
                assert_eq!(&buf[len..], b"");
                return;
            }
            decoder.compact(&mut buf);
            assert!(buf.len() <= 16, "{}", buf.len());
        }
        panic!("never complete");
    }

    #[test]
    fn bodies_over_the_cap_are_refused() {
        assert_eq!(decode(b"41\r\n", 64), Err(ChunkedError::TooLarge));
        assert_eq!(decode(b"20\r\n", 64), Ok(None));
        let two = b"20\r\n................................\r\n21\r\n";
        assert_eq!(decode(two, 64), Err(ChunkedError::TooLarge));
        assert_eq!(
            decode(b"ffffffffffffffff\r\n", 64),
            Err(ChunkedError::TooLarge)
        );
        let endless_extension = format!("1;{}", "x".repeat(MAX_HEAD_BYTES));
        assert_eq!(
            decode(endless_extension.as_bytes(), 64),
            Err(ChunkedError::TooLarge)
        );
    }

    #[test]
    fn endless_trailers_are_refused() {
        let mut coding = b"0\r\n".to_vec();
        coding.extend(b"T: x\r\n".repeat(MAX_HEAD_BYTES));
        assert_eq!(decode(&coding, 64), Err(ChunkedError::TooLarge));
    }

    #[test]
    fn malformed_codings_are_refused() {
        for bad in [
            &b"x\r\n"[..],
            b"3\r\nabcX\r\n",
            b"3\r\nabc\r\n0\r\nT: a\rb\r\n\r\n",
            b"-1\r\n",
            b"3\r\nabc\rX",
        ] {
            assert_eq!(
                decode(bad, 64),
                Err(ChunkedError::Malformed),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
