//! EtherCAT frames (ethertype 0x88A4): pure, zero-copy parsing of the
//! frame header and the chain of datagrams.

/// Frame type of EtherCAT command datagrams.
pub const TYPE_COMMANDS: u8 = 1;
/// Bytes before a datagram's data (command, index, address, length, IRQ).
const DATAGRAM_HEADER: usize = 10;
/// The highest defined command (FRMW).
pub const LAST_COMMAND: u8 = 14;

/// EtherCAT commands used here.
pub mod command {
    /// Broadcast read.
    pub const BRD: u8 = 7;
    /// Broadcast write.
    pub const BWR: u8 = 8;
}

/// Why an EtherCAT frame could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EcatError {
    /// Shorter than the 2-byte frame header.
    Truncated,
    /// The frame header's length runs past the frame.
    Length,
    /// A datagram runs past the frame's length.
    Datagram,
    /// A datagram with an undefined command.
    Command(u8),
}

/// An EtherCAT frame: its type and datagram bytes.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// Frame type (1 = commands).
    pub kind: u8,
    /// The frame's payload (datagrams for type 1), Ethernet padding removed.
    pub payload: &'a [u8],
}

impl<'a> Frame<'a> {
    /// The datagrams of a command frame.
    pub fn datagrams(&self) -> Datagrams<'a> {
        Datagrams { rest: self.payload, done: self.kind != TYPE_COMMANDS }
    }
}

/// Reads the frame header: 11 bits length, 1 reserved bit, 4 bits type.
pub fn frame(data: &[u8]) -> Result<Frame<'_>, EcatError> {
    let header = u16::from_le_bytes(data.get(..2).and_then(|b| b.try_into().ok()).ok_or(EcatError::Truncated)?);
    let len = usize::from(header & 0x07ff);
    let payload = data.get(2..2 + len).ok_or(EcatError::Length)?;
    Ok(Frame { kind: (header >> 12) as u8, payload })
}

/// One EtherCAT datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// Command.
    pub command: u8,
    /// Position or configured address (ADP), or the broadcast counter.
    pub adp: u16,
    /// Register offset in the slave controller (ADO).
    pub ado: u16,
    /// The datagram's data.
    pub data: &'a [u8],
    /// Working counter.
    pub wkc: u16,
}

/// Iterator over a frame's datagrams, following the "more follows" bit;
/// yields an error (then stops) on a malformed datagram.
pub struct Datagrams<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Iterator for Datagrams<'a> {
    type Item = Result<Datagram<'a>, EcatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.done = true;
        let Some(&[command, _index, a0, a1, o0, o1, l0, l1, _, _]) = self.rest.get(..DATAGRAM_HEADER) else {
            return Some(Err(EcatError::Datagram));
        };
        if command > LAST_COMMAND {
            return Some(Err(EcatError::Command(command)));
        }
        let flags = u16::from_le_bytes([l0, l1]);
        let len = usize::from(flags & 0x07ff);
        let end = DATAGRAM_HEADER + len;
        let (Some(data), Some(&[w0, w1])) = (self.rest.get(DATAGRAM_HEADER..end), self.rest.get(end..end + 2)) else {
            return Some(Err(EcatError::Datagram));
        };
        self.rest = self.rest.get(end + 2..).unwrap_or_default();
        self.done = flags & 0x8000 == 0;
        Some(Ok(Datagram {
            command,
            adp: u16::from_le_bytes([a0, a1]),
            ado: u16::from_le_bytes([o0, o1]),
            data,
            wkc: u16::from_le_bytes([w0, w1]),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two chained FPRD datagrams and Ethernet padding (frame 34 of the TwinCAT run capture).
    const TWO_FPRD: &[u8] = &[
        0x28, 0x10, // length 40, type 1
        0x04, 0xde, 0xe9, 0x03, 0x00, 0x03, 0x08, 0x80, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, // FPRD, more follows
        0x04, 0x00, 0xea, 0x03, 0x00, 0x03, 0x08, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, // FPRD, last
        0, 0, 0, 0, // padding
    ];

    #[test]
    fn walks_datagram_chain() {
        let f = frame(TWO_FPRD).unwrap();
        assert_eq!(f.kind, TYPE_COMMANDS);
        let all: Vec<_> = f.datagrams().collect::<Result<_, _>>().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].command, all[0].adp, all[0].ado, all[0].data.len(), all[0].wkc), (4, 0x03e9, 0x0300, 8, 1));
        assert_eq!((all[1].adp, all[1].wkc), (0x03ea, 1));
    }

    #[test]
    fn reports_bad_frames() {
        assert_eq!(frame(&[0x28]).err(), Some(EcatError::Truncated));
        assert_eq!(frame(&[0x28, 0x10, 0]).err(), Some(EcatError::Length));
        let f = frame(&[0x0c, 0x10, 0x07, 0, 0, 0, 0, 0, 0x01, 0x80, 0, 0, 0, 0]).unwrap();
        assert_eq!(f.datagrams().collect::<Vec<_>>(), vec![Err(EcatError::Datagram)]);
        let f = frame(&[0x0c, 0x10, 0x1f, 0, 0, 0, 0, 0, 0x00, 0x00, 0, 0, 0, 0]).unwrap();
        assert_eq!(f.datagrams().collect::<Vec<_>>(), vec![Err(EcatError::Command(0x1f))]);
        // Other frame types carry no datagrams.
        assert_eq!(frame(&[0x00, 0x50]).unwrap().datagrams().count(), 0);
    }
}
