//! Helpers shared by Palisade's fuzz targets.

pub mod frames;

use palisade_capture::{open_file, open_reader, ByteWindow, CaptureError, FileReader, PacketSource, StreamWindow};
use std::io::Cursor;

/// What a reader yielded: every packet (time, link type number, bytes,
/// original length) and how it ended.
type Outcome = (Vec<(i64, u32, Vec<u8>, u32)>, Option<String>);

fn drain(reader: Result<FileReader, CaptureError>) -> Outcome {
    let mut reader = match reader {
        Ok(r) => r,
        Err(e) => return (Vec::new(), Some(e.to_string())),
    };
    let mut packets = Vec::new();
    let mut end = None;
    while let Some(next) = reader.next_packet() {
        match next {
            Ok(p) => {
                assert!(p.data.len() <= p.orig_len as usize, "captured more than the original length");
                packets.push((p.ts.0, p.link_type.number(), p.data.to_vec(), p.orig_len));
            }
            Err(e) => {
                end = Some(e.to_string());
                break;
            }
        }
    }
    assert!(reader.next_packet().is_none(), "a finished reader stays finished");
    (packets, end)
}

/// Reads every packet of an in-memory capture twice, through the stream
/// path (standard input, gzip) and through a memory-mapped file, and checks
/// that both see the same packets and end the same way.
pub fn read_capture(file: &[u8]) {
    let window = ByteWindow::Stream(StreamWindow::plain(Cursor::new(file.to_vec()), None));
    let streamed = drain(open_reader(window, "fuzz".into()));
    // A RAM-backed directory when there is one: a file write per run is the cost.
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
    let path = dir.join(format!("palisade-fuzz-{}.cap", std::process::id()));
    if std::fs::write(&path, file).is_err() {
        return;
    }
    let (packets, end) = drain(open_file(&path));
    let name = path.display().to_string();
    let mapped = (packets, end.map(|e| e.replace(&name, "fuzz")));
    assert_eq!(streamed, mapped, "stream and mapped readers disagree");
}
