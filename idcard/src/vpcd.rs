//! Thin shell connecting the software card to vsmartcard-vpcd (the virtual reader driver of
//! pcscd) over TCP: every message is a 2-byte big-endian length and a payload; a 1-byte
//! payload is a control code (0 power off, 1 power on, 2 reset, 4 send the ATR), anything
//! longer a command APDU to answer.

use crate::softcard::SoftCard;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// vpcd's first reader ("Virtual PCD 00 00").
pub const DEFAULT_ADDR: &str = "127.0.0.1:35963";

/// Options of [`serve`].
#[derive(Debug, Clone)]
pub struct VpcdOptions {
    pub addr: String,
    /// Give up connecting after this long.
    pub connect_timeout: Duration,
    /// Disconnect (the card is "removed") after this many APDUs since power-on; for tests.
    pub remove_after_apdus: Option<usize>,
}

impl Default for VpcdOptions {
    fn default() -> Self {
        VpcdOptions {
            addr: DEFAULT_ADDR.into(),
            connect_timeout: Duration::from_secs(10),
            remove_after_apdus: None,
        }
    }
}

/// Why [`serve`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeEnd {
    Stopped,
    VpcdClosed,
    Removed,
}

fn read_full(s: &mut TcpStream, buf: &mut [u8], stop: &AtomicBool) -> std::io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        if stop.load(Ordering::Relaxed) {
            return Ok(false);
        }
        match s.read(&mut buf[got..]) {
            Ok(0) => return Err(std::io::Error::new(ErrorKind::UnexpectedEof, "vpcd closed")),
            Ok(n) => {
                got += n;
                quick_ack(s);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// vpcd writes the length and the payload of a message separately; with Nagle on its side
/// and delayed ACKs on ours every APDU would stall ~40 ms. Acknowledge at once instead.
fn quick_ack(s: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(e) = socket2::SockRef::from(s).set_tcp_quickack(true) {
        tracing::debug!("TCP_QUICKACK: {e}");
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = s;
}

fn send(s: &mut TcpStream, payload: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(payload.len())
        .map_err(|_| std::io::Error::new(ErrorKind::InvalidData, "response too long"))?;
    let mut m = len.to_be_bytes().to_vec();
    m.extend_from_slice(payload);
    s.write_all(&m)
}

/// Connect to vpcd (retrying until `connect_timeout`).
pub fn connect(opts: &VpcdOptions) -> std::io::Result<TcpStream> {
    let start = Instant::now();
    loop {
        match TcpStream::connect(&opts.addr) {
            Ok(s) => return Ok(s),
            Err(e) if start.elapsed() < opts.connect_timeout => {
                tracing::debug!("vpcd not ready: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Insert the card into vpcd and answer it until `stop` is set, vpcd closes the
/// connection, or the card is "removed" (see [`VpcdOptions::remove_after_apdus`]).
pub fn serve(
    card: &mut SoftCard,
    opts: &VpcdOptions,
    stop: &AtomicBool,
) -> std::io::Result<ServeEnd> {
    let mut s = connect(opts)?;
    serve_stream(card, &mut s, opts, stop)
}

/// As [`serve`], on an already connected stream.
pub fn serve_stream(
    card: &mut SoftCard,
    s: &mut TcpStream,
    opts: &VpcdOptions,
    stop: &AtomicBool,
) -> std::io::Result<ServeEnd> {
    s.set_read_timeout(Some(Duration::from_millis(100)))?;
    s.set_nodelay(true)?;
    let mut len = [0u8; 2];
    loop {
        match read_full(s, &mut len, stop) {
            Ok(true) => {}
            Ok(false) => return Ok(ServeEnd::Stopped),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(ServeEnd::VpcdClosed),
            Err(e) => return Err(e),
        }
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        match read_full(s, &mut msg, stop) {
            Ok(true) => {}
            Ok(false) => return Ok(ServeEnd::Stopped),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(ServeEnd::VpcdClosed),
            Err(e) => return Err(e),
        }
        match msg.as_slice() {
            [0] | [1] | [2] => card.reset(),
            [4] => send(s, card.atr())?,
            [_] => tracing::debug!("unknown vpcd control code"),
            apdu => {
                if opts.remove_after_apdus.is_some_and(|n| card.apdus >= n) {
                    let _ = s.shutdown(std::net::Shutdown::Both);
                    return Ok(ServeEnd::Removed);
                }
                let r = card.process(apdu);
                send(s, &r)?;
            }
        }
    }
}
