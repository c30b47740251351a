//! The wire frame of sync messages.
//!
//! A frame is: magic `XS`, protocol version, message kind, flags (bit 0:
//! zstd), a big-endian `u32` payload length, then the payload — the message
//! in `postcard`, zstd-compressed when larger than a few bytes and when that
//! makes it smaller. Decoding checks every field before it allocates: a
//! compressed payload may declare at most [`MAX_PAYLOAD`] bytes.

use serde::{Serialize, de::DeserializeOwned};

use crate::Error;
use crate::error::{DecodeError, EncodeError};
use crate::protocol::{MAX_PAYLOAD, PROTOCOL_VERSION};

const HEADER_LEN: usize = 9;
const COMPRESS_ABOVE: usize = 64;
const ZSTD_LEVEL: i32 = 9;
const FLAG_ZSTD: u8 = 1;

thread_local! {
    // zstd contexts are large (hundreds of KiB) and costly to set up: one
    // pair per thread, reused for every frame.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

fn compress(payload: &[u8]) -> Result<Vec<u8>, EncodeError> {
    COMPRESSOR.with(|cell| {
        // Borrowed only here, never across a call that could re-enter.
        let mut slot = cell.borrow_mut();
        let compressor = match slot.as_mut() {
            Some(c) => c,
            None => {
                slot.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL).map_err(EncodeError::Compress)?)
            }
        };
        compressor.compress(payload).map_err(EncodeError::Compress)
    })
}

/// Decompress a frame body into exactly the size its zstd header declares
/// (at most [`MAX_PAYLOAD`]).
fn decompress(body: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let declared = zstd::zstd_safe::get_frame_content_size(body).ok().flatten();
    let capacity = match declared {
        Some(n) => match usize::try_from(n) {
            Ok(n) if n <= MAX_PAYLOAD => n,
            _ => return Err(DecodeError::TooLarge { declared: n }),
        },
        None => MAX_PAYLOAD,
    };
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let decompressor = match slot.as_mut() {
            Some(d) => d,
            None => slot.insert(zstd::bulk::Decompressor::new().map_err(DecodeError::Decompress)?),
        };
        decompressor
            .decompress(body, capacity)
            .map_err(DecodeError::Decompress)
    })
}

/// Encode a message as a frame of `kind`.
pub fn encode_frame<T: Serialize>(kind: u8, message: &T) -> Result<Vec<u8>, Error> {
    let payload = postcard::to_allocvec(message).map_err(EncodeError::Serialize)?;
    let (flags, body) = if payload.len() > COMPRESS_ABOVE {
        let compressed = compress(&payload)?;
        if compressed.len() < payload.len() {
            (FLAG_ZSTD, compressed)
        } else {
            (0u8, payload)
        }
    } else {
        (0u8, payload)
    };
    let len = u32::try_from(body.len()).map_err(|_| EncodeError::TooLarge)?;
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(b"XS");
    out.push(PROTOCOL_VERSION);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decode a frame of the expected `kind`.
pub fn decode_frame<T: DeserializeOwned>(kind: u8, bytes: &[u8]) -> Result<T, Error> {
    let Some((header, body)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(DecodeError::NotAFrame.into());
    };
    let [m1, m2, version, found, flags, l0, l1, l2, l3] = *header;
    if [m1, m2] != *b"XS" {
        return Err(DecodeError::NotAFrame.into());
    }
    if version != PROTOCOL_VERSION {
        return Err(Error::UnsupportedVersion(version));
    }
    if found != kind {
        return Err(DecodeError::WrongKind {
            expected: kind,
            found,
        }
        .into());
    }
    let declared = u32::from_be_bytes([l0, l1, l2, l3]) as usize;
    if body.len() != declared {
        return Err(DecodeError::Length {
            declared,
            actual: body.len(),
        }
        .into());
    }
    let message = match flags {
        0 => postcard::from_bytes(body),
        FLAG_ZSTD => postcard::from_bytes(&decompress(body)?),
        other => return Err(DecodeError::Flags(other).into()),
    };
    message.map_err(|e| DecodeError::Message(e).into())
}
