//! Byte windows: the two ways capture bytes reach the readers. A mapped file
//! exposes the whole file at once (zero copy); a stream (gzip, standard
//! input) keeps a reusable buffer that is refilled as the reader moves on.

use memmap2::{Advice, Mmap};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A read-only memory map of a whole capture file, shared with the workers
/// that read packets out of it.
pub struct MappedFile {
    map: Option<Mmap>,
}

impl MappedFile {
    /// Maps `path` read-only.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        if len == 0 {
            return Ok(MappedFile { map: None });
        }
        // SAFETY: the map is read-only; a capture file truncated underneath us
        // by another process would raise SIGBUS, the documented risk of mmap.
        let map = unsafe { Mmap::map(&file)? };
        let _ = map.advise(Advice::Sequential);
        Ok(MappedFile { map: Some(map) })
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// Tells the kernel that bytes before `offset` are no longer needed, so
    /// they stop counting against this process's resident memory.
    pub fn release_before(&self, from: u64, offset: u64) {
        let Some(map) = &self.map else { return };
        const PAGE: u64 = 4096;
        let start = from.div_ceil(PAGE) * PAGE;
        let end = (offset / PAGE) * PAGE;
        if end > start && end <= map.len() as u64 {
            // SAFETY: the range lies inside the mapping; the mapping is
            // private and read-only, so dropping the pages only means they
            // are read again from the file if touched.
            let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start as usize, (end - start) as usize) };
        }
    }
}

/// Counts the bytes read through it, for progress on compressed inputs.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A refillable buffer over a stream.
pub struct StreamWindow {
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    consumed: u64,
    raw_position: Arc<AtomicU64>,
    total: Option<u64>,
}

impl StreamWindow {
    /// Wraps `reader`; `raw_position` counts the underlying input's bytes.
    fn new(reader: Box<dyn Read + Send>, raw_position: Arc<AtomicU64>, total: Option<u64>) -> Self {
        StreamWindow { reader, buf: vec![0; 1 << 20], start: 0, end: 0, eof: false, consumed: 0, raw_position, total }
    }

    /// A plain stream (standard input, a pipe) whose bytes are read as they are.
    pub fn plain<R: Read + Send + 'static>(reader: R, total: Option<u64>) -> Self {
        let count = Arc::new(AtomicU64::new(0));
        let counting = CountingReader { inner: reader, count: count.clone() };
        StreamWindow::new(Box::new(counting), count, total)
    }

    /// A gzip-compressed stream (members concatenated are read as one).
    pub fn gzip<R: Read + Send + 'static>(reader: R, total: Option<u64>) -> Self {
        let count = Arc::new(AtomicU64::new(0));
        let counting = CountingReader { inner: reader, count: count.clone() };
        let decoder = flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(1 << 16, counting));
        StreamWindow::new(Box::new(decoder), count, total)
    }

    fn fill(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.end - self.start < n && !self.eof {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() < n {
                self.buf.resize(n.next_power_of_two(), 0);
            }
            while self.end < n {
                let got = match self.reader.read(&mut self.buf[self.end..]) {
                    Ok(got) => got,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if got == 0 {
                    self.eof = true;
                    break;
                }
                self.end += got;
            }
        }
        Ok(&self.buf[self.start..self.end])
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.consumed += n as u64;
    }
}

/// Where a reader's bytes come from.
pub enum ByteWindow {
    /// A memory-mapped file and the reader's cursor in it.
    Mapped {
        /// The mapping.
        file: Arc<MappedFile>,
        /// Cursor.
        pos: usize,
    },
    /// A refillable stream buffer.
    Stream(StreamWindow),
}

impl ByteWindow {
    /// Maps a file.
    pub fn mapped(file: Arc<MappedFile>) -> Self {
        ByteWindow::Mapped { file, pos: 0 }
    }

    /// Makes at least `n` bytes available at the cursor, fewer only at the
    /// end of the input, and returns all that is available.
    pub fn fill(&mut self, n: usize) -> io::Result<&[u8]> {
        match self {
            ByteWindow::Mapped { file, pos } => Ok(file.bytes().get(*pos..).unwrap_or(&[])),
            ByteWindow::Stream(s) => s.fill(n),
        }
    }

    /// The bytes available at the cursor without reading more.
    pub fn peek(&self) -> &[u8] {
        match self {
            ByteWindow::Mapped { file, pos } => file.bytes().get(*pos..).unwrap_or(&[]),
            ByteWindow::Stream(s) => &s.buf[s.start..s.end],
        }
    }

    /// Moves the cursor `n` bytes on.
    pub fn consume(&mut self, n: usize) {
        match self {
            ByteWindow::Mapped { file, pos } => *pos = (*pos + n).min(file.bytes().len()),
            ByteWindow::Stream(s) => s.consume(n),
        }
    }

    /// Offset of the cursor in the (decompressed) input.
    pub fn offset(&self) -> u64 {
        match self {
            ByteWindow::Mapped { pos, .. } => *pos as u64,
            ByteWindow::Stream(s) => s.consumed,
        }
    }

    /// Bytes of the underlying input consumed so far, for progress.
    pub fn position(&self) -> u64 {
        match self {
            ByteWindow::Mapped { pos, .. } => *pos as u64,
            ByteWindow::Stream(s) => s.raw_position.load(Ordering::Relaxed),
        }
    }

    /// Size of the underlying input, when known.
    pub fn total_size(&self) -> Option<u64> {
        match self {
            ByteWindow::Mapped { file, .. } => Some(file.bytes().len() as u64),
            ByteWindow::Stream(s) => s.total,
        }
    }

    /// The mapping, for mapped files.
    pub fn mapping(&self) -> Option<Arc<MappedFile>> {
        match self {
            ByteWindow::Mapped { file, .. } => Some(file.clone()),
            ByteWindow::Stream(_) => None,
        }
    }
}
