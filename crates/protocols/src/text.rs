//! A short text kept on the stack: names, user names and banners that a
//! dissector copies out of packet bytes (UTF-16LE or single-byte text)
//! without allocating. Text that does not fit is cut at a character
//! boundary; control characters are dropped.

use std::fmt;

/// Up to `N` bytes of UTF-8 text.
#[derive(Clone, Copy)]
pub(crate) struct Text<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Default for Text<N> {
    fn default() -> Self {
        Text { buf: [0; N], len: 0 }
    }
}

impl<const N: usize> Text<N> {
    /// The text of UTF-16LE code units, up to the first NUL.
    pub(crate) fn utf16le(bytes: &[u8]) -> Self {
        let mut t = Text::default();
        t.push_utf16le(bytes);
        t
    }

    /// The text of single-byte characters (ASCII, others read as Latin-1),
    /// up to the first NUL.
    pub(crate) fn bytes(bytes: &[u8]) -> Self {
        let mut t = Text::default();
        for &b in bytes.iter().take_while(|&&b| b != 0) {
            t.push(char::from(b));
        }
        t
    }

    /// Formatted text.
    pub(crate) fn format(args: fmt::Arguments<'_>) -> Self {
        let mut t = Text::default();
        let _ = fmt::Write::write_fmt(&mut t, args);
        t
    }

    /// The text of UTF-16LE (`utf16`) or single-byte characters.
    pub(crate) fn decode(bytes: &[u8], utf16: bool) -> Self {
        if utf16 {
            Text::utf16le(bytes)
        } else {
            Text::bytes(bytes)
        }
    }

    /// Appends UTF-16LE code units up to the first NUL (a lone surrogate
    /// becomes U+FFFD).
    pub(crate) fn push_utf16le(&mut self, bytes: &[u8]) {
        let units = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)]));
        for c in char::decode_utf16(units.take_while(|&u| u != 0)) {
            self.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
        }
    }

    /// Appends a character unless it is a control character; returns false
    /// once the text is full.
    pub(crate) fn push(&mut self, c: char) -> bool {
        if c.is_control() {
            return true;
        }
        let mut encoded = [0u8; 4];
        let s = c.encode_utf8(&mut encoded);
        match self.buf.get_mut(self.len..self.len + s.len()) {
            Some(dst) => {
                dst.copy_from_slice(s.as_bytes());
                self.len += s.len();
                true
            }
            None => false,
        }
    }

    /// Removes the last character (a backspace typed by a user).
    pub(crate) fn pop(&mut self) {
        let Some(last) = self.as_str().chars().next_back() else { return };
        self.len -= last.len_utf8();
    }

    /// Empties the text.
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        self.buf.get(..self.len).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default()
    }

    /// The text without surrounding white space.
    pub(crate) fn trimmed(&self) -> &str {
        self.as_str().trim()
    }
}

impl<const N: usize> fmt::Write for Text<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if !self.push(c) {
                break;
            }
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Display for Text<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> PartialEq for Text<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<const N: usize> Eq for Text<N> {}

impl<const N: usize> fmt::Debug for Text<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn utf16_single_byte_and_bounds() {
        let name: Vec<u8> = "Wïlli\0rest".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(Text::<16>::utf16le(&name).as_str(), "Wïlli");
        assert_eq!(Text::<16>::utf16le(&[0x00, 0xd8, 0x41]).as_str(), "\u{fffd}");
        assert_eq!(Text::<16>::bytes(b"caf\xe9\r\n\0x").as_str(), "café");
        let mut t = Text::<5>::default();
        let _ = write!(t, "abcdé");
        assert_eq!(t.as_str(), "abcd");
        t.pop();
        assert_eq!(t.as_str(), "abc");
        t.clear();
        t.pop();
        assert_eq!(t.as_str(), "");
        assert_eq!(Text::<8>::bytes(b"  x  ").trimmed(), "x");
    }
}
