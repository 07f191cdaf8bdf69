//! Live capture through a veth pair whose far end sits in a private network
//! namespace. Needs root, `ip` and `python3`; skips with a message otherwise.
//! Traffic never leaves the veth pair.
#![cfg(target_os = "linux")]

use palisade_capture::live::{LiveOptions, LiveSource};
use palisade_capture::{CaptureError, LinkType, PacketSource};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const MARKER: &[u8] = b"PALISADE-LIVE-TEST";
const FRAMES: usize = 20;

/// Runs a command, failing the test with its stderr if it fails.
fn run(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"));
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Whether `program` can be started.
fn have(program: &str, arg: &str) -> bool {
    Command::new(program).arg(arg).stdout(Stdio::null()).stderr(Stdio::null()).status().map(|s| s.success()).unwrap_or(false)
}

/// A namespace with one end of a veth pair, the other end on the host;
/// removed on drop, also when the test fails.
struct VethPair {
    netns: String,
    host: String,
    peer: String,
}

impl VethPair {
    fn create() -> Self {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let id = (std::process::id() ^ nanos) & 0xff_ffff;
        let pair = VethPair { netns: format!("palisade-test-{id:06x}"), host: format!("pl{id:06x}h"), peer: format!("pl{id:06x}p") };
        run(&["ip", "netns", "add", &pair.netns]);
        run(&["ip", "link", "add", &pair.host, "type", "veth", "peer", "name", &pair.peer]);
        run(&["ip", "link", "set", &pair.peer, "netns", &pair.netns]);
        run(&["ip", "link", "set", &pair.host, "up"]);
        run(&["ip", "netns", "exec", &pair.netns, "ip", "link", "set", &pair.peer, "up"]);
        pair
    }
}

impl Drop for VethPair {
    fn drop(&mut self) {
        for args in [vec!["netns", "del", self.netns.as_str()], vec!["link", "del", self.host.as_str()]] {
            let _ = Command::new("ip").args(args).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
    }
}

/// Test frame `i`: made-up locally administered MACs, the local
/// experimental EtherType 0x88b5, the marker and the index. Odd frames carry
/// an 802.1Q tag (VLAN 42), which the kernel strips on receipt and the
/// capture must put back.
fn frame(i: usize) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02];
    if i % 2 == 1 {
        f.extend_from_slice(&[0x81, 0x00, 0x00, 42]);
    }
    f.extend_from_slice(&[0x88, 0xb5]);
    f.extend_from_slice(MARKER);
    f.push(u8::try_from(i).unwrap_or(u8::MAX));
    f.resize(64, 0xa5);
    f
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ns() -> i64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

#[test]
fn captures_frames_from_a_veth_pair() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIP live_veth: needs root (creates a network namespace and a veth pair)");
        return;
    }
    if !have("ip", "-V") || !have("python3", "--version") {
        eprintln!("SKIP live_veth: needs the `ip` tool and python3");
        return;
    }
    let pair = VethPair::create();

    let stop = Arc::new(AtomicBool::new(false));
    let opts = LiveOptions { block_size: 64 * 1024, block_count: 8, poll_timeout_ms: 20, ..LiveOptions::default() };
    let mut source = LiveSource::open(&pair.host, &opts, Arc::clone(&stop)).unwrap_or_else(|e| panic!("open {}: {e}", pair.host));
    assert_eq!(source.name(), pair.host);
    assert_eq!(source.total_size(), None);

    // Ends the capture if the frames never come, so the test cannot hang.
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (stop, done) = (Arc::clone(&stop), Arc::clone(&done));
        std::thread::spawn(move || {
            for _ in 0..150 {
                if done.load(Ordering::Acquire) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            stop.store(true, Ordering::Release);
        })
    };

    let frames: Vec<Vec<u8>> = (0..FRAMES).map(frame).collect();
    let script = "import socket, sys, time\n\
                  s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n\
                  s.bind((sys.argv[1], 0))\n\
                  for f in sys.argv[2:]:\n    s.send(bytes.fromhex(f))\n    time.sleep(0.002)\n";
    let before = now_ns();
    let mut args = vec![
        "ip".to_string(),
        "netns".into(),
        "exec".into(),
        pair.netns.clone(),
        "python3".into(),
        "-c".into(),
        script.into(),
        pair.peer.clone(),
    ];
    args.extend(frames.iter().map(|f| hex(f)));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args);

    let mut seen = [false; FRAMES];
    let mut last_ts = i64::MIN;
    while seen.iter().any(|s| !s) {
        let packet = match source.next_packet() {
            Some(Ok(p)) => p,
            Some(Err(e)) => panic!("capture error: {e}"),
            None => break,
        };
        assert_eq!(packet.link_type, LinkType::Ethernet);
        let Some(at) = packet.data.windows(MARKER.len()).position(|w| w == MARKER) else {
            continue; // other traffic on the link (e.g. IPv6 neighbour discovery)
        };
        let index = usize::from(packet.data[at + MARKER.len()]);
        assert!(index < FRAMES, "bad index {index}");
        assert_eq!(packet.data, frames[index].as_slice(), "frame {index} differs");
        assert_eq!(packet.orig_len as usize, frames[index].len());
        let ts = packet.ts.nanos();
        assert!(ts >= before - 1_000_000_000 && ts <= now_ns() + 1_000_000_000, "implausible timestamp {ts} for frame {index}");
        assert!(ts >= last_ts, "timestamps go backwards at frame {index}");
        last_ts = ts;
        assert!(!seen[index], "frame {index} seen twice");
        seen[index] = true;
    }
    done.store(true, Ordering::Release);
    let _ = watchdog.join();
    let missing: Vec<usize> = (0..FRAMES).filter(|&i| !seen[i]).collect();
    assert!(missing.is_empty(), "frames never captured: {missing:?}");
    assert!(source.position() >= 64 * FRAMES as u64);
    assert_eq!(source.kernel_drops(), 0);

    // Setting `stop` while next_packet waits for traffic ends the capture.
    let stopper = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            stop.store(true, Ordering::Release);
        })
    };
    let waiting = Instant::now();
    while let Some(packet) = source.next_packet() {
        if let Err(e) = packet {
            panic!("capture error: {e}");
        }
    }
    assert!(waiting.elapsed() < Duration::from_secs(5), "stop took too long");
    let _ = stopper.join();
    assert!(source.next_packet().is_none());
    drop(source);
    drop(pair);
}

#[test]
fn unknown_interface_is_a_clear_error() {
    let stop = Arc::new(AtomicBool::new(false));
    match LiveSource::open("palisade-nope0", &LiveOptions::default(), stop) {
        Err(CaptureError::Live { name, what }) => {
            assert_eq!(name, "palisade-nope0");
            assert!(what.contains("no such interface"), "{what}");
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("opened a nonexistent interface"),
    }
}

#[test]
fn bad_ring_options_are_rejected() {
    let stop = Arc::new(AtomicBool::new(false));
    let opts = LiveOptions { block_size: 1000, ..LiveOptions::default() };
    match LiveSource::open("lo", &opts, stop) {
        Err(CaptureError::Live { what, .. }) => assert!(what.contains("page size"), "{what}"),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("accepted a block size that is not a page multiple"),
    }
}
