//! Opening inputs: files (format sniffed from the first bytes), gzip,
//! directories and standard input.

use crate::bytes::StreamWindow;
use crate::pcap::{hex_prefix, is_pcap};
use crate::pcapng::is_pcapng;
use crate::{ByteWindow, CaptureError, MappedFile, MergedSource, Packet, PacketSource, PcapReader, PcapngReader};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One input named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A capture file or a directory of them.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Input {
    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Stdin => "-".into(),
        }
    }
}

/// Turns command-line arguments into inputs (`-` is standard input).
pub fn expand_inputs<S: AsRef<str>>(args: &[S]) -> Vec<Input> {
    args.iter().map(|a| if a.as_ref() == "-" { Input::Stdin } else { Input::Path(PathBuf::from(a.as_ref())) }).collect()
}

/// A reader for one capture file, whatever its format.
pub enum FileReader {
    /// Classic pcap.
    Pcap(PcapReader),
    /// pcapng.
    Pcapng(PcapngReader),
}

impl FileReader {
    /// The packet returned last, again.
    pub fn current(&self) -> Option<Packet<'_>> {
        match self {
            FileReader::Pcap(r) => r.current(),
            FileReader::Pcapng(r) => r.current(),
        }
    }

    fn inner(&mut self) -> &mut dyn PacketSource {
        match self {
            FileReader::Pcap(r) => r,
            FileReader::Pcapng(r) => r,
        }
    }

    fn inner_ref(&self) -> &dyn PacketSource {
        match self {
            FileReader::Pcap(r) => r,
            FileReader::Pcapng(r) => r,
        }
    }
}

impl PacketSource for FileReader {
    fn next_packet(&mut self) -> Option<Result<Packet<'_>, CaptureError>> {
        self.inner().next_packet()
    }
    fn name(&self) -> &str {
        self.inner_ref().name()
    }
    fn position(&self) -> u64 {
        self.inner_ref().position()
    }
    fn total_size(&self) -> Option<u64> {
        self.inner_ref().total_size()
    }
    fn mapping(&self) -> Option<Arc<MappedFile>> {
        self.inner_ref().mapping()
    }
}

/// Opens a reader on `window`, choosing the format from its first bytes.
pub fn open_reader(mut window: ByteWindow, name: String) -> Result<FileReader, CaptureError> {
    let head = window.fill(4).map_err(|source| CaptureError::Io { name: name.clone(), source })?;
    if is_pcap(head) {
        PcapReader::new(window, name).map(FileReader::Pcap)
    } else if is_pcapng(head) {
        PcapngReader::new(window, name).map(FileReader::Pcapng)
    } else {
        Err(CaptureError::NotACapture { magic: hex_prefix(head), name })
    }
}

/// Opens a stream, decompressing it when it starts with the gzip magic.
fn open_stream<R: Read + Send + 'static>(reader: R, name: String, total: Option<u64>) -> Result<FileReader, CaptureError> {
    let mut buffered = BufReader::with_capacity(1 << 16, reader);
    let head = buffered.fill_buf().map_err(|source| CaptureError::Io { name: name.clone(), source })?;
    let window = if head.starts_with(&[0x1f, 0x8b]) { StreamWindow::gzip(buffered, total) } else { StreamWindow::plain(buffered, total) };
    open_reader(ByteWindow::Stream(window), name)
}

/// Opens one capture file: memory-mapped, or streamed through gzip.
pub fn open_file(path: &Path) -> Result<FileReader, CaptureError> {
    let name = path.display().to_string();
    let io_err = |source| CaptureError::Io { name: name.clone(), source };
    let mut file = File::open(path).map_err(io_err)?;
    let total = file.metadata().map_err(io_err)?.len();
    let mut magic = [0u8; 2];
    let got = file.read(&mut magic).map_err(io_err)?;
    if got == 2 && magic == [0x1f, 0x8b] {
        let file = File::open(path).map_err(io_err)?;
        return open_stream(file, name, Some(total));
    }
    let mapped = MappedFile::open(path).map_err(io_err)?;
    open_reader(ByteWindow::mapped(Arc::new(mapped)), name)
}

/// Lists the regular files below `dir`, recursively, sorted by path.
fn files_below(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            files_below(&path, out)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

/// Opens an input. A directory becomes one source that merges all the
/// captures below it in time order; files in it that cannot be read are
/// reported through [`PacketSource::take_errors`] and the rest go on.
pub fn open_input(input: &Input) -> Result<Box<dyn PacketSource>, CaptureError> {
    match input {
        Input::Stdin => Ok(Box::new(open_stream(std::io::stdin(), "-".into(), None)?)),
        Input::Path(path) if path.is_dir() => {
            let name = path.display().to_string();
            let mut files = Vec::new();
            files_below(path, &mut files).map_err(|source| CaptureError::Io { name: name.clone(), source })?;
            let mut readers = Vec::new();
            let mut errors = Vec::new();
            for file in files {
                match open_file(&file) {
                    Ok(r) => readers.push(r),
                    Err(e) => errors.push(e),
                }
            }
            Ok(Box::new(MergedSource::new(name, readers, errors)))
        }
        Input::Path(path) => Ok(Box::new(open_file(path)?)),
    }
}
