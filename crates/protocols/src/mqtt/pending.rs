//! Requests waiting for their answers, each with the text of its target
//! (a topic, a URI path), for dissectors whose targets are strings that
//! must outlive the packet they came in (MQTT, CoAP). All texts share one
//! buffer that keeps its capacity, so a steady flow allocates nothing.

use std::fmt::{self, Write};

/// Most requests kept waiting; room for another pushes the oldest out.
const MAX_ENTRIES: usize = 32;
/// Most bytes of one target (a longer one is cut at a character boundary).
const MAX_TARGET: usize = 256;
/// Size the shared text buffer never exceeds.
const MAX_TEXT: usize = MAX_ENTRIES * MAX_TARGET;

/// Requests (described by `K`) with their target texts, oldest first.
#[derive(Debug)]
pub(crate) struct Waiting<K> {
    /// Each request with the start and end of its text in `text`.
    entries: Vec<(K, usize, usize)>,
    /// The texts, in the order of `entries` (with holes left by answered ones).
    text: Vec<u8>,
}

impl<K> Default for Waiting<K> {
    fn default() -> Self {
        Waiting { entries: Vec::new(), text: Vec::new() }
    }
}

impl<K: Copy> Waiting<K> {
    /// True when a request must be pushed out before another is added.
    pub(crate) fn is_full(&self) -> bool {
        self.entries.len() >= MAX_ENTRIES
    }

    /// Adds a request whose target is `target`, formatted now. Call
    /// [`Waiting::take_oldest`] first while [`Waiting::is_full`].
    pub(crate) fn push(&mut self, key: K, target: fmt::Arguments<'_>) {
        if self.entries.is_empty() {
            self.text.clear();
        } else if self.text.len() + MAX_TARGET > MAX_TEXT {
            self.compact();
        }
        let start = self.text.len();
        let mut writer = Capped { buf: &mut self.text, room: MAX_TARGET };
        let _ = writer.write_fmt(target);
        self.entries.push((key, start, self.text.len()));
    }

    /// Removes the oldest request that `matches` accepts and returns it with its target.
    pub(crate) fn take(&mut self, mut matches: impl FnMut(&K) -> bool) -> Option<(K, &str)> {
        let i = self.entries.iter().position(|(k, _, _)| matches(k))?;
        let (key, start, end) = self.entries.remove(i);
        Some((key, self.text_at(start, end)))
    }

    /// Removes the oldest request and returns it with its target.
    pub(crate) fn take_oldest(&mut self) -> Option<(K, &str)> {
        self.take(|_| true)
    }

    fn text_at(&self, start: usize, end: usize) -> &str {
        self.text.get(start..end).and_then(|t| std::str::from_utf8(t).ok()).unwrap_or_default()
    }

    /// Moves the texts of the waiting requests to the front of the buffer.
    fn compact(&mut self) {
        let mut to = 0;
        for (_, start, end) in &mut self.entries {
            let len = *end - *start;
            self.text.copy_within(*start..*end, to);
            (*start, *end) = (to, to + len);
            to += len;
        }
        self.text.truncate(to);
    }
}

/// Appends to a buffer, at most `room` more bytes, cutting at a character boundary.
struct Capped<'a> {
    buf: &'a mut Vec<u8>,
    room: usize,
}

impl Write for Capped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut cut = s.len().min(self.room);
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        let part = s.get(..cut).unwrap_or_default();
        self.buf.extend_from_slice(part.as_bytes());
        self.room -= part.len();
        if part.len() < s.len() {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

/// Shows bytes that should be UTF-8 text, with U+FFFD for invalid sequences.
pub(crate) struct Lossy<'a>(pub &'a [u8]);

impl fmt::Display for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_char(char::REPLACEMENT_CHARACTER)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_in_order_and_by_key() {
        let mut w = Waiting::default();
        w.push(1u16, format_args!("a/{}", "b"));
        w.push(2, format_args!("{}", Lossy(b"c\xffd")));
        w.push(1, format_args!("e"));
        assert_eq!(w.take(|k| *k == 1), Some((1, "a/b")));
        assert_eq!(w.take(|k| *k == 2), Some((2, "c\u{fffd}d")));
        assert_eq!(w.take(|k| *k == 2), None);
        assert_eq!(w.take_oldest(), Some((1, "e")));
        assert_eq!(w.take_oldest(), None);
    }

    #[test]
    fn long_targets_are_cut_and_the_buffer_stays_bounded() {
        let mut w = Waiting::default();
        let long = "é".repeat(200);
        w.push(0u32, format_args!("{long}"));
        let (_, text) = w.take_oldest().unwrap();
        assert_eq!(text.len(), 256);
        // A request that is never answered while thousands come and go.
        w.push(0, format_args!("stuck"));
        for i in 1..5000u32 {
            w.push(i, format_args!("{long}"));
            assert!(w.take(|k| *k == i).is_some());
            assert!(w.text.len() <= MAX_TEXT);
        }
        assert_eq!(w.take_oldest(), Some((0, "stuck")));
        for i in 0..MAX_ENTRIES as u32 {
            assert!(!w.is_full());
            w.push(i, format_args!("{i}"));
        }
        assert!(w.is_full());
    }
}
