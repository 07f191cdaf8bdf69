//! Live capture from a network interface through a memory-mapped
//! `AF_PACKET` ring (`TPACKET_V3`), without libpcap.
//!
//! The kernel fills fixed-size blocks of the ring with frames and hands a
//! whole block to user space by setting its status to `TP_STATUS_USER`.
//! [`LiveSource`] walks the frames of that block in place (no copy) and gives
//! the block back (`TP_STATUS_KERNEL`) once it has moved past its last frame.
//! Every offset read from the ring is checked against the block before it is
//! used.
//!
//! Frames the interface sends (`PACKET_OUTGOING`) are kept: a SPAN or TAP
//! port only receives, and on a host interface the outgoing half of a
//! conversation is as interesting as the incoming one.
//!
//! VLAN tags that the kernel or the network card stripped from a frame are
//! put back, so the pipeline sees the frame as it was on the wire.

use crate::{CaptureError, LinkType, Packet, PacketSource};
use palisade_model::Timestamp;
use std::ffi::CString;
use std::io;
use std::mem::{offset_of, size_of};
use std::ops::Range;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

/// Options for a live capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveOptions {
    /// Put the interface into promiscuous mode for the life of the capture.
    pub promiscuous: bool,
    /// Size of one ring block in bytes (a multiple of the page size).
    pub block_size: u32,
    /// Number of blocks in the ring.
    pub block_count: u32,
    /// Bytes kept of each frame; longer frames are cut by the kernel.
    pub snaplen: u32,
    /// How long one wait for traffic lasts before the stop flag is checked
    /// again, in milliseconds.
    pub poll_timeout_ms: i32,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions { promiscuous: true, block_size: 1 << 20, block_count: 64, snaplen: 65535, poll_timeout_ms: 100 }
    }
}

/// A live capture on one interface.
pub struct LiveSource {
    /// Declared before `fd` so the ring is unmapped before the socket closes.
    ring: Ring,
    fd: OwnedFd,
    name: String,
    ifindex: libc::c_int,
    block_size: usize,
    block_count: usize,
    /// The block being read, or waited for.
    block: usize,
    /// Where we are in `block` while we own it.
    cursor: Option<Cursor>,
    stop: Arc<AtomicBool>,
    poll_timeout_ms: i32,
    packets: u64,
    bytes: u64,
    drops: AtomicU64,
    /// Holds a frame whose stripped VLAN tag was put back.
    scratch: Vec<u8>,
    finished: bool,
}

/// Milliseconds after which the kernel hands over a block that is not full,
/// so that quiet links still deliver their frames promptly.
const RETIRE_TIMEOUT_MS: u32 = 60;
/// Largest snap length accepted (the largest frame Linux can receive).
const MAX_SNAPLEN: u32 = 262_144;

// Kernel ABI (linux/if_packet.h), defined here so the code does not depend
// on which of these a given `libc` release exports.
const TPACKET_V3: libc::c_int = 2;
const PACKET_ADD_MEMBERSHIP: libc::c_int = 1;
const PACKET_RX_RING: libc::c_int = 5;
const PACKET_STATISTICS: libc::c_int = 6;
const PACKET_VERSION: libc::c_int = 10;
const PACKET_MR_PROMISC: u16 = 1;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;
const ETH_P_ALL: u16 = 0x0003;
const ETH_P_8021Q: u16 = 0x8100;
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;

/// `struct tpacket_req3`.
#[repr(C)]
struct TpacketReq3 {
    tp_block_size: u32,
    tp_block_nr: u32,
    tp_frame_size: u32,
    tp_frame_nr: u32,
    tp_retire_blk_tov: u32,
    tp_sizeof_priv: u32,
    tp_feature_req_word: u32,
}

/// `struct tpacket_stats_v3`.
#[repr(C)]
#[derive(Default)]
struct TpacketStatsV3 {
    tp_packets: u32,
    tp_drops: u32,
    tp_freeze_q_cnt: u32,
}

/// `struct packet_mreq`.
#[repr(C)]
struct PacketMreq {
    mr_ifindex: libc::c_int,
    mr_type: u16,
    mr_alen: u16,
    mr_address: [u8; 8],
}

/// The start of `struct tpacket_block_desc` with its `tpacket_hdr_v1`.
#[repr(C)]
#[derive(Clone, Copy)]
struct BlockDesc {
    _version: u32,
    _offset_to_priv: u32,
    block_status: u32,
    num_pkts: u32,
    offset_to_first_pkt: u32,
    _blk_len: u32,
}

/// The start of `struct tpacket3_hdr` (with `tpacket_hdr_variant1`).
#[repr(C)]
#[derive(Clone, Copy)]
struct FrameHeader {
    tp_next_offset: u32,
    tp_sec: u32,
    tp_nsec: u32,
    tp_snaplen: u32,
    tp_len: u32,
    tp_status: u32,
    tp_mac: u16,
    _tp_net: u16,
    _tp_rxhash: u32,
    tp_vlan_tci: u32,
    tp_vlan_tpid: u16,
    _tp_padding: u16,
}

const _: () = assert!(offset_of!(BlockDesc, block_status) == 8);
const _: () = assert!(offset_of!(BlockDesc, offset_to_first_pkt) == 16);
const _: () = assert!(offset_of!(FrameHeader, tp_mac) == 24);
const _: () = assert!(offset_of!(FrameHeader, tp_vlan_tpid) == 36);

/// Plain kernel structs: every bit pattern is a valid value.
///
/// # Safety
/// Implement only for `#[repr(C)]` structs made of integers.
unsafe trait Plain: Copy {}
// SAFETY: both are repr(C) structs of u32/u16 fields.
unsafe impl Plain for BlockDesc {}
// SAFETY: as above.
unsafe impl Plain for FrameHeader {}

/// Reads a `T` at `offset` in `bytes`, or `None` if it does not fit.
fn read_at<T: Plain>(bytes: &[u8], offset: usize) -> Option<T> {
    let end = offset.checked_add(size_of::<T>())?;
    let src = bytes.get(offset..end)?;
    // SAFETY: `src` holds exactly size_of::<T>() readable bytes, the read
    // is unaligned-tolerant, and `T: Plain` accepts any bit pattern.
    Some(unsafe { std::ptr::read_unaligned(src.as_ptr().cast::<T>()) })
}

/// Our position in the block we own.
#[derive(Clone, Copy, Debug)]
struct Cursor {
    /// Frames left to hand out.
    remaining: u32,
    /// Offset of the next frame header from the start of the block.
    offset: usize,
}

/// A validated frame: where its bytes are in the ring and what the kernel
/// said about it.
struct Frame {
    data: Range<usize>,
    ts: Timestamp,
    orig_len: u32,
    /// The 802.1Q tag (TPID and TCI, network order) the kernel stripped.
    vlan: Option<[u8; 4]>,
}

/// The memory-mapped ring, unmapped on drop.
struct Ring {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is owned by exactly one `Ring` and only accessed
// through it; moving it to another thread is fine.
unsafe impl Send for Ring {}

impl Ring {
    /// Bytes `range` of the ring, or `None` if outside it.
    ///
    /// Only call this for bytes of a block that user space owns (status
    /// `TP_STATUS_USER`): the kernel does not write to such a block until it
    /// is given back, which happens only through `&mut LiveSource`, after the
    /// returned borrow has ended.
    fn bytes(&self, range: Range<usize>) -> Option<&[u8]> {
        if range.start > range.end || range.end > self.len {
            return None;
        }
        // SAFETY: `range` lies inside the live mapping (checked above) and,
        // per the contract, the kernel does not write there while borrowed.
        Some(unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(range.start), range.end - range.start) })
    }

    /// The status word of the block starting at `block_start`, shared with
    /// the kernel.
    fn status(&self, block_start: usize) -> Option<&AtomicU32> {
        let offset = block_start.checked_add(offset_of!(BlockDesc, block_status))?;
        if offset.checked_add(size_of::<u32>())? > self.len || offset & 3 != 0 {
            return None;
        }
        // SAFETY: in bounds and 4-byte aligned (the mapping is page aligned);
        // the kernel and we only access this word atomically.
        Some(unsafe { AtomicU32::from_ptr(self.ptr.as_ptr().add(offset).cast::<u32>()) })
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` describe a mapping made by `mmap` and not yet
        // unmapped; no borrow of it outlives `self`.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// The size of `T` as a `socklen_t`.
fn socklen_of<T>() -> libc::socklen_t {
    // The kernel structs used here are a few dozen bytes.
    libc::socklen_t::try_from(size_of::<T>()).unwrap_or(libc::socklen_t::MAX)
}

/// `setsockopt(fd, level, option, value)`.
fn set_option<T>(fd: &OwnedFd, level: libc::c_int, option: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` of the length passed.
    let rc = unsafe { libc::setsockopt(fd.as_raw_fd(), level, option, (value as *const T).cast(), socklen_of::<T>()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl LiveSource {
    /// Opens `iface`; `stop` ends the capture cleanly (next_packet returns None) when set.
    pub fn open(iface: &str, opts: &LiveOptions, stop: Arc<AtomicBool>) -> Result<Self, CaptureError> {
        let fail = |what: String| CaptureError::Live { name: iface.to_string(), what };
        let (block_size, block_count, ring_len) = ring_geometry(opts).map_err(fail)?;

        let c_name = CString::new(iface).map_err(|_| fail("interface name contains a NUL byte".into()))?;
        // SAFETY: `c_name` is a valid NUL-terminated string.
        let ifindex = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
        let ifindex = libc::c_int::try_from(ifindex).unwrap_or(0);
        if ifindex == 0 {
            return Err(fail("no such interface (list them with `ip link`)".into()));
        }

        // Protocol 0: the socket sees nothing until it is bound to the
        // interface, so no frame from another interface lands in the ring.
        // SAFETY: plain system call.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            let err = io::Error::last_os_error();
            return Err(fail(match err.raw_os_error() {
                Some(libc::EPERM) | Some(libc::EACCES) => "opening a packet socket needs root or the CAP_NET_RAW capability \
                     (run as root, or `setcap cap_net_raw,cap_net_admin=eip` on the binary)"
                    .into(),
                Some(libc::EAFNOSUPPORT) => "this kernel has no AF_PACKET support".into(),
                _ => format!("cannot open a packet socket: {err}"),
            }));
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        set_option(&fd, libc::SOL_PACKET, PACKET_VERSION, &TPACKET_V3)
            .map_err(|e| fail(format!("the kernel does not support TPACKET_V3 rings (Linux 3.2 or later needed): {e}")))?;

        // A one-instruction classic BPF program, "accept snaplen bytes",
        // makes the kernel cut long frames before they take ring space.
        let program = [libc::sock_filter { code: 0x06, jt: 0, jf: 0, k: opts.snaplen }]; // BPF_RET | BPF_K
        let fprog = libc::sock_fprog { len: 1, filter: program.as_ptr().cast_mut() };
        set_option(&fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)
            .map_err(|e| fail(format!("cannot set the snap length filter: {e}")))?;

        let req = TpacketReq3 {
            tp_block_size: opts.block_size,
            tp_block_nr: opts.block_count,
            // One frame slot per block: with TPACKET_V3 frames are packed
            // into blocks at their own size, the slot only caps frame size.
            tp_frame_size: opts.block_size,
            tp_frame_nr: opts.block_count,
            tp_retire_blk_tov: RETIRE_TIMEOUT_MS,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        set_option(&fd, libc::SOL_PACKET, PACKET_RX_RING, &req).map_err(|e| {
            fail(match e.raw_os_error() {
                Some(libc::ENOMEM) => format!("the kernel could not allocate a {} MiB ring; use smaller or fewer blocks", ring_len >> 20),
                _ => format!("the kernel rejected a ring of {block_count} blocks of {block_size} bytes: {e}"),
            })
        })?;

        // SAFETY: maps the ring just configured on `fd`; the result is checked.
        let ptr =
            unsafe { libc::mmap(std::ptr::null_mut(), ring_len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd.as_raw_fd(), 0) };
        if ptr == libc::MAP_FAILED {
            let err = io::Error::last_os_error();
            return Err(fail(format!("cannot map the {} MiB capture ring: {err}", ring_len >> 20)));
        }
        let ring = match NonNull::new(ptr.cast::<u8>()) {
            Some(ptr) => Ring { ptr, len: ring_len },
            None => return Err(fail("cannot map the capture ring: got a null address".into())),
        };

        bind_to(&fd, ifindex).map_err(|e| fail(format!("cannot bind to the interface: {e}")))?;
        let hatype = hardware_type(&fd).map_err(|e| fail(format!("cannot read the interface type: {e}")))?;
        if hatype != ARPHRD_ETHER && hatype != ARPHRD_LOOPBACK {
            return Err(fail(format!("not an Ethernet interface (ARPHRD type {hatype}); only Ethernet interfaces can be captured")));
        }

        if opts.promiscuous {
            let mreq = PacketMreq { mr_ifindex: ifindex, mr_type: PACKET_MR_PROMISC, mr_alen: 0, mr_address: [0; 8] };
            // The kernel leaves promiscuous mode when the socket closes.
            set_option(&fd, libc::SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq)
                .map_err(|e| fail(format!("cannot enable promiscuous mode: {e}")))?;
        }

        Ok(LiveSource {
            ring,
            fd,
            name: iface.to_string(),
            ifindex,
            block_size,
            block_count,
            block: 0,
            cursor: None,
            stop,
            poll_timeout_ms: opts.poll_timeout_ms,
            packets: 0,
            bytes: 0,
            drops: AtomicU64::new(0),
            scratch: Vec::new(),
            finished: false,
        })
    }

    /// Packets the kernel dropped so far (from PACKET_STATISTICS).
    pub fn kernel_drops(&self) -> u64 {
        let mut stats = TpacketStatsV3::default();
        let mut len = socklen_of::<TpacketStatsV3>();
        // SAFETY: `stats` is a writable buffer of `len` bytes.
        let rc = unsafe {
            libc::getsockopt(self.fd.as_raw_fd(), libc::SOL_PACKET, PACKET_STATISTICS, (&mut stats as *mut TpacketStatsV3).cast(), &mut len)
        };
        // Reading the statistics resets the kernel's counters: add them up.
        let new = if rc == 0 { u64::from(stats.tp_drops) } else { 0 };
        self.drops.fetch_add(new, Ordering::Relaxed).saturating_add(new)
    }

    fn live_error(&self, what: String) -> CaptureError {
        CaptureError::Live { name: self.name.clone(), what }
    }

    fn corrupt(&self, what: &str) -> CaptureError {
        CaptureError::Corrupt {
            name: self.name.clone(),
            packet: self.packets,
            offset: self.bytes,
            what: format!("ring block {}: {what}", self.block),
        }
    }

    fn block_start(&self) -> usize {
        // Cannot overflow: block < block_count and the product is the ring length.
        self.block.saturating_mul(self.block_size)
    }

    /// The next validated frame, `None` once `stop` is set.
    fn advance(&mut self) -> Result<Option<Frame>, CaptureError> {
        loop {
            if self.stop.load(Ordering::Acquire) {
                return Ok(None);
            }
            match self.cursor {
                Some(cursor) if cursor.remaining > 0 => return self.take_frame(cursor).map(Some),
                Some(_) => self.release_block()?,
                None => {
                    if !self.claim_block()? {
                        self.wait()?;
                    }
                }
            }
        }
    }

    /// Takes the current block if the kernel has handed it over.
    fn claim_block(&mut self) -> Result<bool, CaptureError> {
        let start = self.block_start();
        let status = self.ring.status(start).ok_or_else(|| self.corrupt("block outside the ring"))?;
        if status.load(Ordering::Acquire) & TP_STATUS_USER == 0 {
            return Ok(false);
        }
        let block = self.ring.bytes(start..start.saturating_add(self.block_size)).ok_or_else(|| self.corrupt("block outside the ring"))?;
        let desc: BlockDesc = read_at(block, 0).ok_or_else(|| self.corrupt("block smaller than its header"))?;
        let first = usize::try_from(desc.offset_to_first_pkt).unwrap_or(usize::MAX);
        if desc.num_pkts > 0 && (first < size_of::<BlockDesc>() || first >= self.block_size) {
            return Err(self.corrupt("first frame offset outside the block"));
        }
        self.cursor = Some(Cursor { remaining: desc.num_pkts, offset: first });
        Ok(true)
    }

    /// Gives the current block back to the kernel and moves to the next one.
    fn release_block(&mut self) -> Result<(), CaptureError> {
        let status = self.ring.status(self.block_start()).ok_or_else(|| self.corrupt("block outside the ring"))?;
        status.store(TP_STATUS_KERNEL, Ordering::Release);
        self.cursor = None;
        self.block = (self.block + 1) % self.block_count;
        Ok(())
    }

    /// Validates the frame at `cursor` and moves the cursor past it.
    fn take_frame(&mut self, cursor: Cursor) -> Result<Frame, CaptureError> {
        let start = self.block_start();
        let block = self.ring.bytes(start..start.saturating_add(self.block_size)).ok_or_else(|| self.corrupt("block outside the ring"))?;
        let hdr: FrameHeader = read_at(block, cursor.offset).ok_or_else(|| self.corrupt("frame header past the end of the block"))?;
        let data_start = cursor.offset.checked_add(usize::from(hdr.tp_mac));
        let data_end = data_start.and_then(|s| s.checked_add(usize::try_from(hdr.tp_snaplen).ok()?));
        let (data_start, data_end) = match (data_start, data_end) {
            (Some(s), Some(e)) if usize::from(hdr.tp_mac) >= size_of::<FrameHeader>() && e <= self.block_size => (s, e),
            _ => return Err(self.corrupt("frame data outside the block")),
        };
        let remaining = cursor.remaining - 1;
        let next = if remaining == 0 {
            0
        } else {
            let step = usize::try_from(hdr.tp_next_offset).unwrap_or(0);
            match cursor.offset.checked_add(step) {
                Some(next) if step > 0 && next < self.block_size => next,
                _ => return Err(self.corrupt("next frame offset outside the block")),
            }
        };
        self.cursor = Some(Cursor { remaining, offset: next });

        let vlan = (hdr.tp_status & TP_STATUS_VLAN_VALID != 0).then(|| {
            let tpid = if hdr.tp_status & TP_STATUS_VLAN_TPID_VALID != 0 { hdr.tp_vlan_tpid } else { ETH_P_8021Q };
            // The TCI is 16 bits; the kernel field is wider.
            let tci = (hdr.tp_vlan_tci & 0xffff) as u16;
            let [a, b] = tpid.to_be_bytes();
            let [c, d] = tci.to_be_bytes();
            [a, b, c, d]
        });
        self.packets += 1;
        let tag_len = if vlan.is_some() { 4 } else { 0 };
        self.bytes = self.bytes.saturating_add(u64::from(hdr.tp_len) + tag_len);
        Ok(Frame {
            data: start + data_start..start + data_end,
            ts: Timestamp::from_parts(i64::from(hdr.tp_sec), hdr.tp_nsec),
            orig_len: hdr.tp_len,
            vlan,
        })
    }

    /// Waits until the kernel signals data (or the poll timeout passes).
    fn wait(&mut self) -> Result<(), CaptureError> {
        let mut pfd = libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN | libc::POLLERR, revents: 0 };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, self.poll_timeout_ms) };
        if rc < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                return Ok(());
            }
            return Err(CaptureError::Io { name: self.name.clone(), source: err });
        }
        if pfd.revents & libc::POLLERR != 0 {
            self.check_socket_error()?;
        }
        Ok(())
    }

    /// Reads (and clears) the socket's pending error. The kernel reports
    /// ENETDOWN when the interface goes down; capture resumes by itself when
    /// it comes back up, unless the interface was removed.
    fn check_socket_error(&mut self) -> Result<(), CaptureError> {
        let mut err: libc::c_int = 0;
        let mut len = socklen_of::<libc::c_int>();
        // SAFETY: `err` is a writable int of `len` bytes.
        let rc = unsafe {
            libc::getsockopt(self.fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_ERROR, (&mut err as *mut libc::c_int).cast(), &mut len)
        };
        if rc != 0 || err == 0 {
            return Ok(());
        }
        let c_name = CString::new(self.name.as_str()).unwrap_or_default();
        // SAFETY: valid NUL-terminated string.
        let index_now = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
        if libc::c_int::try_from(index_now).ok() != Some(self.ifindex) {
            return Err(self.live_error("the interface disappeared".into()));
        }
        let cause = io::Error::from_raw_os_error(err);
        tracing::warn!(interface = %self.name, "capture interrupted: {cause}; waiting for the interface to come back");
        // Without this pause a downed interface would make poll() spin.
        let pause = self.poll_timeout_ms.clamp(1, 1000).unsigned_abs();
        std::thread::sleep(std::time::Duration::from_millis(u64::from(pause)));
        Ok(())
    }
}

/// Checks the ring options: (block size, block count, ring length in bytes).
fn ring_geometry(opts: &LiveOptions) -> Result<(usize, usize, usize), String> {
    // SAFETY: plain libc call.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let page = u32::try_from(page).ok().filter(|&p| p > 0).unwrap_or(4096);
    if opts.block_size == 0 || opts.block_size.checked_rem(page) != Some(0) || opts.block_size > i32::MAX as u32 {
        return Err(format!("block size {} is not a positive multiple of the page size ({page} bytes)", opts.block_size));
    }
    if opts.block_count == 0 {
        return Err("the ring needs at least one block".into());
    }
    if opts.snaplen == 0 || opts.snaplen > MAX_SNAPLEN {
        return Err(format!("snap length {} is not between 1 and {MAX_SNAPLEN}", opts.snaplen));
    }
    let block_size = usize::try_from(opts.block_size).map_err(|e| e.to_string())?;
    let block_count = usize::try_from(opts.block_count).map_err(|e| e.to_string())?;
    let ring_len = block_size
        .checked_mul(block_count)
        .filter(|&len| len <= isize::MAX as usize)
        .ok_or_else(|| format!("a ring of {block_count} blocks of {block_size} bytes is too large"))?;
    Ok((block_size, block_count, ring_len))
}

/// Binds the packet socket to one interface, all protocols.
fn bind_to(fd: &OwnedFd, ifindex: libc::c_int) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as libc::sa_family_t;
    addr.sll_protocol = ETH_P_ALL.to_be();
    addr.sll_ifindex = ifindex;
    // SAFETY: `addr` is a valid sockaddr_ll of the length passed.
    let rc = unsafe { libc::bind(fd.as_raw_fd(), (&addr as *const libc::sockaddr_ll).cast(), socklen_of::<libc::sockaddr_ll>()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The ARPHRD type of the interface a bound packet socket listens on.
fn hardware_type(fd: &OwnedFd) -> io::Result<u16> {
    // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    let mut len = socklen_of::<libc::sockaddr_ll>();
    // SAFETY: `addr` is a writable buffer of `len` bytes.
    let rc = unsafe { libc::getsockname(fd.as_raw_fd(), (&mut addr as *mut libc::sockaddr_ll).cast(), &mut len) };
    if rc == 0 {
        Ok(addr.sll_hatype)
    } else {
        Err(io::Error::last_os_error())
    }
}

impl PacketSource for LiveSource {
    fn next_packet(&mut self) -> Option<Result<Packet<'_>, CaptureError>> {
        if self.finished {
            return None;
        }
        let frame = match self.advance() {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                self.finished = true;
                return None;
            }
            Err(e) => {
                self.finished = true;
                return Some(Err(e));
            }
        };
        let Some(data) = self.ring.bytes(frame.data) else {
            self.finished = true;
            return Some(Err(self.corrupt("frame outside the ring")));
        };
        let (data, orig_len) = match (frame.vlan, data.get(..12), data.get(12..)) {
            (Some(tag), Some(macs), Some(rest)) => {
                self.scratch.clear();
                self.scratch.extend_from_slice(macs);
                self.scratch.extend_from_slice(&tag);
                self.scratch.extend_from_slice(rest);
                (self.scratch.as_slice(), frame.orig_len.saturating_add(4))
            }
            _ => (data, frame.orig_len),
        };
        Some(Ok(Packet { ts: frame.ts, link_type: LinkType::Ethernet, data, orig_len }))
    }

    fn name(&self) -> &str {
        &self.name
    }

    /// Bytes received on the wire so far (frame lengths before the snap
    /// length cut).
    fn position(&self) -> u64 {
        self.bytes
    }

    fn total_size(&self) -> Option<u64> {
        None
    }
}
