//! Capture readers against captures built byte by byte: classic pcap in both
//! byte orders and timestamp precisions, pcapng with several interfaces,
//! resolutions, block kinds and sections, gzip, directories, every error
//! case, and the real captures of `../shared/testdata/pcaps`.

use flate2::write::GzEncoder;
use flate2::Compression;
use palisade_capture::write::PcapWriter;
use palisade_capture::{open_input, CaptureError, Input, LinkType, PacketSource};
use palisade_model::Timestamp;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One packet as read back: time, link type, bytes, original length.
#[derive(Debug, PartialEq, Eq)]
struct Read {
    ts: i64,
    link: LinkType,
    data: Vec<u8>,
    orig_len: u32,
}

/// Reads every packet of `path`, and the error that ended it, if any.
fn read_all(path: &Path) -> (Vec<Read>, Option<CaptureError>) {
    let mut source = open_input(&Input::Path(path.to_path_buf())).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut out = Vec::new();
    let mut error = None;
    while let Some(next) = source.next_packet() {
        match next {
            Ok(p) => out.push(Read { ts: p.ts.0, link: p.link_type, data: p.data.to_vec(), orig_len: p.orig_len }),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    // A finished source stays finished.
    assert!(source.next_packet().is_none(), "{}: packets after the end", path.display());
    (out, error)
}

/// Reads `path` and expects no error.
fn read_ok(path: &Path) -> Vec<Read> {
    let (packets, error) = read_all(path);
    assert!(error.is_none(), "{}: unexpected error {error:?}", path.display());
    packets
}

/// The error opening `path` (the file header is refused).
fn open_error(path: &Path) -> CaptureError {
    match open_input(&Input::Path(path.to_path_buf())) {
        Ok(_) => panic!("{} opened, expected an error", path.display()),
        Err(e) => e,
    }
}

fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create dir");
    }
    std::fs::write(path, bytes).expect("write capture");
    path.to_path_buf()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// A frame whose bytes say which packet it is.
fn frame(tag: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| tag.wrapping_add(i as u8)).collect()
}

/// Byte-order aware appends.
struct Bytes {
    be: bool,
    buf: Vec<u8>,
}

impl Bytes {
    fn new(be: bool) -> Self {
        Bytes { be, buf: Vec::new() }
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&if self.be { v.to_be_bytes() } else { v.to_le_bytes() });
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&if self.be { v.to_be_bytes() } else { v.to_le_bytes() });
        self
    }
    fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }
}

/// A classic pcap: `records` are (seconds, fraction, captured bytes, original length).
fn pcap(be: bool, nanos: bool, link: u32, records: &[(u32, u32, &[u8], u32)]) -> Vec<u8> {
    let mut b = Bytes::new(be);
    b.u32(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(link);
    for (secs, frac, data, orig) in records {
        b.u32(*secs).u32(*frac).u32(data.len() as u32).u32(*orig).raw(data);
    }
    b.buf
}

/// Builds pcapng sections block by block.
struct Ng {
    out: Vec<u8>,
    be: bool,
}

/// pcapng option: code and value.
type Opt<'a> = (u16, &'a [u8]);

impl Ng {
    fn new() -> Self {
        Ng { out: Vec::new(), be: false }
    }

    /// Appends a block of `kind` with `body`, padded to 32 bits.
    fn block(&mut self, kind: u32, body: &[u8]) -> &mut Self {
        let mut padded = body.to_vec();
        padded.resize(body.len().div_ceil(4) * 4, 0);
        let len = 12 + padded.len() as u32;
        let mut b = Bytes::new(self.be);
        b.u32(kind).u32(len).raw(&padded).u32(len);
        self.out.extend_from_slice(&b.buf);
        self
    }

    fn options(&self, opts: &[Opt<'_>]) -> Vec<u8> {
        let mut b = Bytes::new(self.be);
        for (code, value) in opts {
            b.u16(*code).u16(value.len() as u16).raw(value);
            b.buf.resize(b.buf.len().div_ceil(4) * 4, 0);
        }
        if !opts.is_empty() {
            b.u32(0);
        }
        b.buf
    }

    /// Starts a section in the given byte order.
    fn shb(&mut self, be: bool) -> &mut Self {
        self.be = be;
        let mut b = Bytes::new(be);
        b.u32(0x1a2b_3c4d).u16(1).u16(0).raw(&u64::MAX.to_le_bytes());
        let body = b.buf;
        self.block(0x0a0d_0d0a, &body)
    }

    fn idb(&mut self, link: u16, snaplen: u32, opts: &[Opt<'_>]) -> &mut Self {
        let mut b = Bytes::new(self.be);
        b.u16(link).u16(0).u32(snaplen);
        let opts = self.options(opts);
        b.raw(&opts);
        let body = b.buf;
        self.block(1, &body)
    }

    fn epb(&mut self, iface: u32, ticks: u64, data: &[u8], orig_len: u32) -> &mut Self {
        let mut b = Bytes::new(self.be);
        b.u32(iface).u32((ticks >> 32) as u32).u32(ticks as u32).u32(data.len() as u32).u32(orig_len).raw(data);
        b.buf.resize(b.buf.len().div_ceil(4) * 4, 0);
        // An epb_flags option after the data must not be read as packet bytes.
        let opts = self.options(&[(2, &[0, 0, 0, 0])]);
        b.raw(&opts);
        let body = b.buf;
        self.block(6, &body)
    }

    fn spb(&mut self, data: &[u8]) -> &mut Self {
        let mut b = Bytes::new(self.be);
        b.u32(data.len() as u32).raw(data);
        let body = b.buf;
        self.block(3, &body)
    }

    fn bytes(&self) -> Vec<u8> {
        self.out.clone()
    }
}

const T0: u32 = 1_700_000_000;
const NS: i64 = 1_000_000_000;

#[test]
fn pcap_little_endian_microseconds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, b) = (frame(1, 60), frame(2, 42));
    let file = pcap(false, false, 1, &[(T0, 123_456, &a, 60), (T0 + 1, 999_999, &b, 1500)]);
    let packets = read_ok(&write(&dir.path().join("le-us.pcap"), &file));
    assert_eq!(
        packets,
        vec![
            Read { ts: i64::from(T0) * NS + 123_456_000, link: LinkType::Ethernet, data: a, orig_len: 60 },
            Read { ts: i64::from(T0 + 1) * NS + 999_999_000, link: LinkType::Ethernet, data: b, orig_len: 1500 },
        ]
    );
}

#[test]
fn pcap_big_endian_both_precisions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = frame(3, 20);
    for (nanos, frac, expect_frac) in [(false, 7u32, 7_000i64), (true, 987_654_321, 987_654_321)] {
        let file = pcap(true, nanos, 101, &[(T0, frac, &a, 20)]);
        let packets = read_ok(&write(&dir.path().join(format!("be-{nanos}.pcap")), &file));
        assert_eq!(packets, vec![Read { ts: i64::from(T0) * NS + expect_frac, link: LinkType::RawIp, data: a.clone(), orig_len: 20 }]);
    }
}

#[test]
fn pcap_little_endian_nanoseconds_from_writer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("writer.pcap");
    let mut w = PcapWriter::new(std::fs::File::create(&path).expect("create"), LinkType::Ethernet, 64).expect("writer");
    let (a, long) = (frame(4, 60), frame(5, 100));
    w.write_packet(Timestamp(i64::from(T0) * NS + 1), &a).expect("write");
    w.write_packet(Timestamp(i64::from(T0) * NS + 999_999_999), &long).expect("write");
    w.finish().expect("finish");
    let packets = read_ok(&path);
    assert_eq!(packets.len(), 2);
    assert_eq!(packets[0], Read { ts: i64::from(T0) * NS + 1, link: LinkType::Ethernet, data: a, orig_len: 60 });
    // Cut at the snap length, original length kept.
    assert_eq!(
        packets[1],
        Read { ts: i64::from(T0) * NS + 999_999_999, link: LinkType::Ethernet, data: long[..64].to_vec(), orig_len: 100 }
    );
}

/// A little-endian section with three interfaces (Ethernet µs, raw IPv4 ns,
/// raw IP in 2^-10 s), EPBs and an SPB, a skipped block, then a big-endian
/// section whose single interface replaces them.
fn multi_section() -> (Vec<u8>, Vec<Read>) {
    let (e1, v4, bin, simple, after) = (frame(10, 60), frame(20, 28), frame(30, 21), frame(40, 61), frame(50, 33));
    let mut ng = Ng::new();
    ng.shb(false)
        .idb(1, 0, &[])
        .idb(228, 65535, &[(9, &[9]), (2, b"eth1")])
        .idb(101, 0, &[(9, &[0x80 | 10])])
        .epb(0, u64::from(T0) * 1_000_000 + 250_000, &e1, 60)
        .block(5, &[0; 8]) // interface statistics: skipped
        .epb(1, u64::from(T0) * 1_000_000_000 + 123_456_789, &v4, 28)
        .epb(2, (u64::from(T0) << 10) | 512, &bin, 21)
        .spb(&simple)
        .shb(true)
        .idb(228, 0, &[])
        .epb(0, u64::from(T0 + 5) * 1_000_000 + 1, &after, 40);
    let t = i64::from(T0) * NS;
    let expect = vec![
        Read { ts: t + 250_000_000, link: LinkType::Ethernet, data: e1, orig_len: 60 },
        Read { ts: t + 123_456_789, link: LinkType::Ipv4, data: v4, orig_len: 28 },
        Read { ts: t + 500_000_000, link: LinkType::RawIp, data: bin, orig_len: 21 },
        // SPB: interface 0's link type, the previous packet's time.
        Read { ts: t + 500_000_000, link: LinkType::Ethernet, data: simple, orig_len: 61 },
        Read { ts: t + 5 * NS + 1_000, link: LinkType::Ipv4, data: after, orig_len: 40 },
    ];
    (ng.bytes(), expect)
}

#[test]
fn pcapng_interfaces_resolutions_blocks_and_sections() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (file, expect) = multi_section();
    assert_eq!(read_ok(&write(&dir.path().join("multi.pcapng"), &file)), expect);
}

#[test]
fn pcapng_big_endian_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = frame(60, 14);
    let mut ng = Ng::new();
    ng.shb(true).idb(113, 0, &[(9, &[3])]).epb(0, u64::from(T0) * 1000 + 7, &a, 14);
    let packets = read_ok(&write(&dir.path().join("be.pcapng"), &ng.bytes()));
    assert_eq!(packets, vec![Read { ts: i64::from(T0) * NS + 7_000_000, link: LinkType::LinuxSll, data: a, orig_len: 14 }]);
}

#[test]
fn pcapng_new_section_forgets_interfaces() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ng = Ng::new();
    ng.shb(false).idb(1, 0, &[]).idb(1, 0, &[]).epb(1, 1, &frame(1, 14), 14).shb(false).idb(1, 0, &[]).epb(1, 2, &frame(2, 14), 14);
    let path = write(&dir.path().join("reset.pcapng"), &ng.bytes());
    let (packets, error) = read_all(&path);
    assert_eq!(packets.len(), 1);
    match error {
        Some(CaptureError::Corrupt { packet: 1, ref what, .. }) => assert!(what.contains("interface 1"), "{what}"),
        other => panic!("expected Corrupt about interface 1, got {other:?}"),
    }
}

#[test]
fn pcapng_spb_before_any_packet_has_time_zero_and_honours_snaplen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ng = Ng::new();
    ng.shb(false).idb(1, 16, &[]).spb(&frame(1, 40));
    let packets = read_ok(&write(&dir.path().join("spb.pcapng"), &ng.bytes()));
    assert_eq!(packets, vec![Read { ts: 0, link: LinkType::Ethernet, data: frame(1, 16), orig_len: 40 }]);
}

#[test]
fn gzip_pcap_and_pcapng() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = frame(7, 60);
    let plain = pcap(false, true, 1, &[(T0, 5, &a, 60)]);
    let packets = read_ok(&write(&dir.path().join("a.pcap.gz"), &gzip(&plain)));
    assert_eq!(packets, vec![Read { ts: i64::from(T0) * NS + 5, link: LinkType::Ethernet, data: a, orig_len: 60 }]);
    let (ng, expect) = multi_section();
    assert_eq!(read_ok(&write(&dir.path().join("b.pcapng.gz"), &gzip(&ng))), expect);
}

#[test]
fn gzip_stream_grows_its_buffer_for_large_blocks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let big = frame(9, 3 << 20);
    let mut ng = Ng::new();
    ng.shb(false).idb(1, 0, &[]).epb(0, 1, &frame(1, 60), 60).epb(0, 2, &big, big.len() as u32).epb(0, 3, &frame(3, 60), 60);
    let packets = read_ok(&write(&dir.path().join("big.pcapng.gz"), &gzip(&ng.bytes())));
    assert_eq!(packets.len(), 3);
    assert_eq!(packets[1].data, big);
    assert_eq!(packets[2].data, frame(3, 60));
}

#[test]
fn directory_merged_in_time_order_recursively() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a1, a3, a5) = (frame(1, 20), frame(3, 20), frame(5, 20));
    let first = pcap(false, false, 1, &[(T0 + 1, 0, &a1, 20), (T0 + 3, 0, &a3, 20), (T0 + 5, 0, &a5, 20)]);
    write(&dir.path().join("z-first.pcap"), &first);
    let mut ng = Ng::new();
    ng.shb(false).idb(228, 0, &[]);
    for s in [2u32, 4, 6] {
        ng.epb(0, u64::from(T0 + s) * 1_000_000, &frame(s as u8, 20), 20);
    }
    write(&dir.path().join("sub/deeper/a-second.pcapng.gz"), &gzip(&ng.bytes()));
    let mut source = open_input(&Input::Path(dir.path().to_path_buf())).expect("open directory");
    let mut order = Vec::new();
    while let Some(next) = source.next_packet() {
        let p = next.expect("packet");
        order.push((p.ts.secs() - i64::from(T0), p.data[0], p.link_type));
    }
    assert_eq!(
        order,
        vec![
            (1, 1, LinkType::Ethernet),
            (2, 2, LinkType::Ipv4),
            (3, 3, LinkType::Ethernet),
            (4, 4, LinkType::Ipv4),
            (5, 5, LinkType::Ethernet),
            (6, 6, LinkType::Ipv4),
        ]
    );
    assert!(source.take_errors().is_empty());
}

#[test]
fn directory_reports_bad_files_and_reads_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(&dir.path().join("good.pcap"), &pcap(false, false, 1, &[(T0, 0, &frame(1, 20), 20)]));
    write(&dir.path().join("notes.txt"), b"not a capture\n");
    let mut truncated = pcap(false, false, 1, &[(T0 + 1, 0, &frame(2, 20), 20)]);
    truncated.extend_from_slice(&[1, 2, 3]);
    write(&dir.path().join("sub/cut.pcap"), &truncated);
    let mut source = open_input(&Input::Path(dir.path().to_path_buf())).expect("open directory");
    let mut n = 0;
    while let Some(next) = source.next_packet() {
        next.expect("merged sources yield packets only");
        n += 1;
    }
    assert_eq!(n, 2);
    let errors: Vec<String> = source.take_errors().iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("notes.txt") && e.contains("not a pcap")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("cut.pcap") && e.contains("truncated after packet 1")), "{errors:?}");
}

/// Two good packets of 20 bytes; the next record starts at byte 24 + 2 * 36.
fn two_good() -> Vec<u8> {
    pcap(false, false, 1, &[(T0, 0, &frame(1, 20), 20), (T0, 1, &frame(2, 20), 20)])
}

const THIRD_RECORD: u64 = 24 + 2 * 36;

#[test]
fn truncated_record_header() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut file = two_good();
    file.extend_from_slice(&[0; 10]);
    for (name, bytes) in [("cut-header.pcap", file.clone()), ("cut-header.pcap.gz", gzip(&file))] {
        let path = write(&dir.path().join(name), &bytes);
        let (packets, error) = read_all(&path);
        assert_eq!(packets.len(), 2, "the packets before the cut are returned");
        let error = error.expect("an error");
        let message = error.to_string();
        match error {
            CaptureError::Truncated { packet, offset, what, .. } => {
                assert_eq!((packet, offset), (2, THIRD_RECORD));
                assert!(what.contains("10 of 16"), "{what}");
            }
            other => panic!("expected Truncated, got {other:?}"),
        }
        assert!(
            message.contains(&path.display().to_string())
                && message.contains("packet 2")
                && message.contains(&format!("byte offset {THIRD_RECORD}")),
            "{message}"
        );
    }
}

#[test]
fn truncated_packet_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut file = two_good();
    let mut record = Bytes::new(false);
    record.u32(T0).u32(2).u32(60).u32(60).raw(&frame(3, 30));
    file.extend_from_slice(&record.buf);
    for (name, bytes) in [("cut-data.pcap", file.clone()), ("cut-data.pcap.gz", gzip(&file))] {
        let path = write(&dir.path().join(name), &bytes);
        let (packets, error) = read_all(&path);
        assert_eq!(packets.iter().map(|p| p.data[0]).collect::<Vec<_>>(), vec![1, 2]);
        let error = error.expect("an error");
        let message = error.to_string();
        assert!(matches!(error, CaptureError::Truncated { packet: 2, offset: THIRD_RECORD, .. }), "{error:?}");
        assert!(message.contains(&path.display().to_string()) && message.contains("packet 2") && message.contains("30 of 60"), "{message}");
    }
}

#[test]
fn corrupt_record_length() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut file = two_good();
    let mut record = Bytes::new(false);
    record.u32(T0).u32(0).u32(0x7fff_0000).u32(0x7fff_0000).raw(&[0; 64]);
    file.extend_from_slice(&record.buf);
    let (packets, error) = read_all(&write(&dir.path().join("corrupt.pcap"), &file));
    assert_eq!(packets.len(), 2);
    assert!(matches!(error, Some(CaptureError::Corrupt { packet: 2, offset: THIRD_RECORD, .. })), "{error:?}");
    // A microsecond fraction of a second or more is corrupt too.
    let bad_frac = pcap(false, false, 1, &[(T0, 1_000_000, &frame(1, 20), 20)]);
    let (packets, error) = read_all(&write(&dir.path().join("frac.pcap"), &bad_frac));
    assert!(packets.is_empty());
    assert!(matches!(error, Some(CaptureError::Corrupt { packet: 0, offset: 24, .. })), "{error:?}");
}

#[test]
fn huge_snaplen_does_not_allow_huge_records() {
    // A header snap length of 4 GiB must not make a 4 GiB record plausible:
    // through a stream (gzip) that would be a 4 GiB allocation.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut file = pcap(false, false, 1, &[]);
    file[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut record = Bytes::new(false);
    record.u32(T0).u32(0).u32(0xffff_fff0).u32(0xffff_fff0).raw(&[0; 16]);
    file.extend_from_slice(&record.buf);
    let (packets, error) = read_all(&write(&dir.path().join("huge.pcap.gz"), &gzip(&file)));
    assert!(packets.is_empty());
    assert!(matches!(error, Some(CaptureError::Corrupt { packet: 0, offset: 24, .. })), "{error:?}");
}

#[test]
fn not_a_capture_and_empty_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = write(&dir.path().join("readme.txt"), b"hello, world\n");
    let error = open_error(&text);
    let message = error.to_string();
    assert!(matches!(error, CaptureError::NotACapture { .. }), "{error:?}");
    assert!(message.contains("readme.txt") && message.contains("68 65 6c 6c 6f 2c 20 77"), "{message}");

    let empty = write(&dir.path().join("empty.pcap"), b"");
    let error = open_error(&empty);
    let message = error.to_string();
    assert!(matches!(error, CaptureError::NotACapture { .. }), "{error:?}");
    assert!(message.contains("empty.pcap") && message.contains("empty"), "{message}");

    // A gzip file whose content is not a capture.
    let error = open_error(&write(&dir.path().join("text.gz"), &gzip(b"plain text")));
    assert!(matches!(error, CaptureError::NotACapture { .. }), "{error:?}");

    // A pcap magic with no room for the header.
    let error = open_error(&write(&dir.path().join("short.pcap"), &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]));
    assert!(matches!(error, CaptureError::Truncated { packet: 0, offset: 0, .. }), "{error:?}");

    let error = open_error(&dir.path().join("missing.pcap"));
    assert!(matches!(error, CaptureError::Io { .. }) && error.to_string().contains("missing.pcap"), "{error:?}");
}

#[test]
fn unsupported_link_type() {
    let dir = tempfile::tempdir().expect("temp dir");
    for be in [false, true] {
        let file = pcap(be, false, 147, &[(T0, 0, &frame(1, 20), 20)]);
        let error = open_error(&write(&dir.path().join(format!("user0-{be}.pcap")), &file));
        assert!(matches!(error, CaptureError::UnsupportedLinkType { link_type: 147, .. }), "{error:?}");
        assert!(error.to_string().contains("147"));
    }
    // pcapng: packets of an unsupported interface are skipped; a file with
    // nothing else is reported.
    let mut ng = Ng::new();
    ng.shb(false).idb(147, 0, &[]).epb(0, 1, &frame(1, 20), 20);
    let (packets, error) = read_all(&write(&dir.path().join("user0.pcapng"), &ng.bytes()));
    assert!(packets.is_empty());
    assert!(matches!(error, Some(CaptureError::UnsupportedLinkType { link_type: 147, .. })), "{error:?}");
    let mut ng = Ng::new();
    ng.shb(false).idb(147, 0, &[]).idb(1, 0, &[]).epb(0, 1, &frame(1, 20), 20).epb(1, 2, &frame(2, 20), 20);
    let packets = read_ok(&write(&dir.path().join("mixed.pcapng"), &ng.bytes()));
    assert_eq!(packets.iter().map(|p| p.data[0]).collect::<Vec<_>>(), vec![2]);
}

#[test]
fn pcapng_block_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ng = Ng::new();
    ng.shb(false).idb(1, 0, &[]).epb(0, 1, &frame(1, 20), 20);
    let good = ng.bytes();
    let good_len = good.len() as u64;

    // Trailing length differs from the leading one.
    let mut mismatch = good.clone();
    ng.epb(0, 2, &frame(2, 20), 20);
    let mut second = ng.bytes()[good.len()..].to_vec();
    let last = second.len() - 4;
    second[last] ^= 4;
    mismatch.extend_from_slice(&second);
    let (packets, error) = read_all(&write(&dir.path().join("mismatch.pcapng"), &mismatch));
    assert_eq!(packets.len(), 1);
    match error {
        Some(CaptureError::Corrupt { packet: 1, offset, ref what, .. }) => {
            assert_eq!(offset, good_len);
            assert!(what.contains("mismatched"), "{what}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }

    // Block length not a multiple of 4, and below the minimum.
    for bad_len in [13u32, 8] {
        let mut bad = good.clone();
        let mut b = Bytes::new(false);
        b.u32(6).u32(bad_len).raw(&[0; 24]);
        bad.extend_from_slice(&b.buf);
        let (packets, error) = read_all(&write(&dir.path().join(format!("len{bad_len}.pcapng")), &bad));
        assert_eq!(packets.len(), 1);
        assert!(matches!(error, Some(CaptureError::Corrupt { packet: 1, .. })), "{error:?}");
    }

    // The file ends inside a block, and inside a block header.
    for cut in [good.len() - 3, good.len() - 40] {
        let (packets, error) = read_all(&write(&dir.path().join(format!("cut{cut}.pcapng")), &good[..cut]));
        assert!(packets.is_empty());
        assert!(matches!(error, Some(CaptureError::Truncated { packet: 0, .. })), "{cut}: {error:?}");
    }
    let mut short_header = good.clone();
    short_header.extend_from_slice(&[6, 0, 0, 0, 32]);
    let (packets, error) = read_all(&write(&dir.path().join("short-header.pcapng"), &short_header));
    assert_eq!(packets.len(), 1);
    assert!(matches!(error, Some(CaptureError::Truncated { packet: 1, offset, .. }) if offset == good_len), "{error:?}");

    // A packet claiming more bytes than its block holds.
    let mut overlong = Ng::new();
    overlong.shb(false).idb(1, 0, &[]);
    let mut b = Bytes::new(false);
    b.u32(0).u32(0).u32(0).u32(1000).u32(1000).raw(&[0; 8]);
    overlong.block(6, &b.buf);
    let (_, error) = read_all(&write(&dir.path().join("overlong.pcapng"), &overlong.bytes()));
    assert!(matches!(error, Some(CaptureError::Corrupt { packet: 0, .. })), "{error:?}");

    // A bad byte-order magic in the section header.
    let mut bad_magic = good.clone();
    bad_magic[8..12].copy_from_slice(&[1, 2, 3, 4]);
    let (_, error) = read_all(&write(&dir.path().join("bad-magic.pcapng"), &bad_magic));
    assert!(matches!(error, Some(CaptureError::Corrupt { packet: 0, offset: 0, .. })), "{error:?}");
}

fn shared_pcaps() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps");
    if dir.join("MANIFEST.tsv").exists() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/testdata/pcaps not present (real-capture packet counts not checked)");
        None
    }
}

#[test]
fn every_shared_capture_reads_with_its_packet_count() {
    let Some(dir) = shared_pcaps() else { return };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("read MANIFEST.tsv");
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name} column"));
    let (file_col, packets_col) = (column("file"), column("packets"));
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(file), Some(expected)) = (cols.get(file_col), cols.get(packets_col).and_then(|p| p.parse::<usize>().ok())) else {
            failures.push(format!("bad manifest line: {line}"));
            continue;
        };
        let (packets, error) = read_all(&dir.join(file));
        if let Some(e) = error {
            failures.push(format!("{file}: {e}"));
        } else if packets.len() != expected {
            failures.push(format!("{file}: {} packets, manifest says {expected}", packets.len()));
        }
        checked += 1;
    }
    assert!(checked > 0, "no captures listed");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
