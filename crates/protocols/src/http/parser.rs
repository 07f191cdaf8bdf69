//! HTTP/1.x message heads: start lines and header fields, zero-copy. Also
//! used by SSDP, which is HTTP over UDP.

/// The longest head (start line plus header fields) that is read.
pub(crate) const MAX_HEAD: usize = 8192;

/// The end of the head at the start of `data`: the offset just past the
/// empty line, if one is present within [`MAX_HEAD`] bytes.
pub(crate) fn head_end(data: &[u8]) -> Option<usize> {
    let window = data.get(..data.len().min(MAX_HEAD))?;
    window.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// The first line of `head` (without its line end) and the header lines after it.
pub(crate) fn split_head(head: &[u8]) -> (&[u8], Headers<'_>) {
    let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = head.get(..end).unwrap_or_default();
    let rest = head.get(end.saturating_add(1)..).unwrap_or_default();
    (trim(line), Headers { rest })
}

/// Header fields of a head, as (name, value) pairs with spaces trimmed.
pub(crate) struct Headers<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let end = self.rest.iter().position(|&b| b == b'\n').unwrap_or(self.rest.len());
            let line = trim(self.rest.get(..end).unwrap_or_default());
            self.rest = self.rest.get(end.saturating_add(1)..).unwrap_or_default();
            if line.is_empty() {
                return None;
            }
            if let Some(colon) = line.iter().position(|&b| b == b':') {
                let name = trim(line.get(..colon).unwrap_or_default());
                let value = trim(line.get(colon + 1..).unwrap_or_default());
                return Some((name, value));
            }
        }
    }
}

/// `bytes` without leading and trailing ASCII white space.
pub(crate) fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// True if `haystack` contains `needle`, ignoring ASCII case.
pub(crate) fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// A request method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    /// GET.
    Get,
    /// HEAD.
    Head,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// DELETE.
    Delete,
    /// PATCH.
    Patch,
    /// OPTIONS.
    Options,
    /// CONNECT.
    Connect,
}

impl Method {
    const ALL: [(&'static [u8], Method); 8] = [
        (b"GET", Method::Get),
        (b"HEAD", Method::Head),
        (b"POST", Method::Post),
        (b"PUT", Method::Put),
        (b"DELETE", Method::Delete),
        (b"PATCH", Method::Patch),
        (b"OPTIONS", Method::Options),
        (b"CONNECT", Method::Connect),
    ];

    /// The method named `name`.
    fn from_name(name: &[u8]) -> Option<Method> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|&(_, m)| m)
    }

    /// A small number for the method (its operation code).
    pub(crate) fn code(self) -> u32 {
        self as u32 + 1
    }
}

/// A start line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StartLine<'a> {
    /// A request: method and target.
    Request(Method, &'a [u8]),
    /// A response: status code.
    Response(u16),
}

/// Reads a request line ("GET /path HTTP/1.1") or a status line
/// ("HTTP/1.1 200 OK").
pub(crate) fn start_line(line: &[u8]) -> Option<StartLine<'_>> {
    let mut parts = line.splitn(3, |&b| b == b' ');
    let first = parts.next()?;
    let second = parts.next()?;
    if first.starts_with(b"HTTP/1.") && first.len() == 8 {
        let code = std::str::from_utf8(second).ok().filter(|s| s.len() == 3)?.parse::<u16>().ok()?;
        return (100..600).contains(&code).then_some(StartLine::Response(code));
    }
    let version = parts.next()?;
    if !version.starts_with(b"HTTP/1.") || second.is_empty() {
        return None;
    }
    Method::from_name(first).map(|m| StartLine::Request(m, second))
}

/// True if `payload` starts like an HTTP/1.x request or response.
pub(crate) fn looks_like_start(payload: &[u8]) -> bool {
    const STARTS: [&[u8]; 9] = [b"GET /", b"POST /", b"HEAD /", b"PUT /", b"OPTIONS ", b"DELETE /", b"CONNECT ", b"PATCH /", b"HTTP/1."];
    STARTS.iter().any(|s| payload.starts_with(s))
        && (!payload.starts_with(b"HTTP/1.") || (payload.get(7).is_some_and(|b| matches!(b, b'0' | b'1')) && payload.get(8) == Some(&b' ')))
}

/// A decimal number (a Content-Length value).
pub(crate) fn decimal(value: &[u8]) -> Option<u64> {
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// Decodes standard base64 into `out`, returning the decoded bytes (or
/// `None` on a bad character or when `out` is too small).
pub(crate) fn base64<'o>(text: &[u8], out: &'o mut [u8]) -> Option<&'o [u8]> {
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut n = 0;
    for &c in text.iter().take_while(|&&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
        }
    }
    out.get(..n)
}

/// The text between `<tag>` and `</tag>` in an XML body, if present.
pub(crate) fn xml_element<'a>(body: &'a [u8], tag: &str) -> Option<&'a [u8]> {
    let open = body
        .windows(tag.len() + 2)
        .position(|w| w.first() == Some(&b'<') && w.last() == Some(&b'>') && w.get(1..w.len() - 1) == Some(tag.as_bytes()))?;
    let start = open + tag.len() + 2;
    let rest = body.get(start..)?;
    let end = rest.iter().position(|&b| b == b'<')?;
    Some(trim(rest.get(..end)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_start_lines() {
        assert_eq!(start_line(b"GET /a?b HTTP/1.1"), Some(StartLine::Request(Method::Get, b"/a?b")));
        assert_eq!(start_line(b"HTTP/1.0 404 Not Found"), Some(StartLine::Response(404)));
        assert_eq!(start_line(b"HTTP/1.1 99 x"), None);
        assert_eq!(start_line(b"FOO / HTTP/1.1"), None);
        assert_eq!(start_line(b"GET / SIP/2.0"), None);
    }

    #[test]
    fn reads_headers() {
        let head = b"GET / HTTP/1.1\r\nHost: a.b\r\nUser-Agent:  x y \r\nbad line\r\n\r\nbody";
        let end = head_end(head).unwrap();
        let (line, headers) = split_head(&head[..end]);
        assert_eq!(line, b"GET / HTTP/1.1");
        let all: Vec<_> = headers.collect();
        assert_eq!(all, vec![(&b"Host"[..], &b"a.b"[..]), (&b"User-Agent"[..], &b"x y"[..])]);
    }

    #[test]
    fn decodes_base64() {
        let mut out = [0u8; 32];
        assert_eq!(base64(b"dXNlcjpwYXNz", &mut out), Some(&b"user:pass"[..]));
        assert_eq!(base64(b"YQ==", &mut out), Some(&b"a"[..]));
        assert_eq!(base64(b"!!", &mut out), None);
        assert_eq!(base64(b"AAAAAAAA", &mut [0u8; 2]), None);
    }

    #[test]
    fn finds_xml_elements() {
        let body = b"<root><device><modelName> RT-N16 </modelName><x/></device></root>";
        assert_eq!(xml_element(body, "modelName"), Some(&b"RT-N16"[..]));
        assert_eq!(xml_element(body, "serialNumber"), None);
    }

    #[test]
    fn probes_start() {
        assert!(looks_like_start(b"GET / HTTP/1.1\r\n"));
        assert!(looks_like_start(b"HTTP/1.1 200 OK\r\n"));
        assert!(!looks_like_start(b"HTTP/1.2 200 OK"));
        assert!(!looks_like_start(b"GETX"));
    }
}
