//! BER-TLV access on top of `asn1-rs` (which handles multi-byte tags such as `5F1F` and
//! `7F61`, and BER length forms). Tags are given as on the wire, e.g. `0x7F61`.

use crate::error::ParseError;
use asn1_rs::{Any, Class, FromBer};

/// One decoded TLV: its on-the-wire tag, whether it is constructed, and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u32,
    pub constructed: bool,
    pub value: &'a [u8],
}

fn wire_tag(class: Class, constructed: bool, number: u32) -> u32 {
    let first = ((class as u32) << 6) | if constructed { 0x20 } else { 0 };
    if number < 31 {
        return first | number;
    }
    let mut tag = first | 0x1F;
    let mut groups = Vec::with_capacity(4);
    let mut n = number;
    loop {
        groups.push((n & 0x7F) as u8);
        n >>= 7;
        if n == 0 {
            break;
        }
    }
    for (i, g) in groups.iter().rev().enumerate() {
        let more = if i + 1 < groups.len() { 0x80 } else { 0 };
        tag = (tag << 8) | u32::from(g | more);
    }
    tag
}

/// Parse one TLV at the start of `input`; returns it and the rest.
pub fn parse(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), ParseError> {
    if input.is_empty() {
        return Err(ParseError::Truncated("TLV"));
    }
    let (rest, any) = Any::from_ber(input).map_err(|e| ParseError::Ber(e.to_string()))?;
    let h = &any.header;
    let number = h.tag().0;
    if number > 0x1F_FFFF {
        return Err(ParseError::Ber("tag number too large".into()));
    }
    let tlv = Tlv {
        tag: wire_tag(h.class(), h.is_constructed(), number),
        constructed: h.is_constructed(),
        value: any.data,
    };
    Ok((tlv, rest))
}

/// Parse one TLV that must have tag `tag`; returns its value and the rest.
pub fn expect(input: &[u8], tag: u32) -> Result<(&[u8], &[u8]), ParseError> {
    let (tlv, rest) = parse(input)?;
    if tlv.tag != tag {
        return Err(ParseError::UnexpectedTag {
            expected: tag,
            found: tlv.tag,
        });
    }
    Ok((tlv.value, rest))
}

/// All TLVs in a concatenation.
pub fn parse_all(mut input: &[u8]) -> Result<Vec<Tlv<'_>>, ParseError> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (t, rest) = parse(input)?;
        out.push(t);
        input = rest;
    }
    Ok(out)
}

/// Find the first child with `tag` among the TLVs in `input`.
pub fn find(input: &[u8], tag: u32) -> Result<Option<&[u8]>, ParseError> {
    Ok(parse_all(input)?
        .into_iter()
        .find(|t| t.tag == tag)
        .map(|t| t.value))
}

/// Total length (header + value) of the TLV starting at `input`, from its header only.
/// Used to know a file's size after its first bytes have been read.
pub fn total_len_from_header(input: &[u8]) -> Result<usize, ParseError> {
    let mut i = 0usize;
    let first = *input.first().ok_or(ParseError::Truncated("tag"))?;
    i += 1;
    if first & 0x1F == 0x1F {
        loop {
            let b = *input.get(i).ok_or(ParseError::Truncated("tag"))?;
            i += 1;
            if b & 0x80 == 0 {
                break;
            }
            if i > 4 {
                return Err(ParseError::Ber("tag too long".into()));
            }
        }
    }
    let l0 = *input.get(i).ok_or(ParseError::Truncated("length"))?;
    i += 1;
    let len = if l0 < 0x80 {
        usize::from(l0)
    } else {
        let n = usize::from(l0 & 0x7F);
        if n == 0 || n > 3 {
            return Err(ParseError::Ber("unsupported length form".into()));
        }
        let mut len = 0usize;
        for _ in 0..n {
            len = (len << 8) | usize::from(*input.get(i).ok_or(ParseError::Truncated("length"))?);
            i += 1;
        }
        len
    };
    Ok(i + len)
}

/// Encode a tag (as on the wire) followed by a DER length and the value.
pub fn encode(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 8);
    let tb = tag.to_be_bytes();
    let skip = tb.iter().take_while(|b| **b == 0).count().min(3);
    out.extend_from_slice(&tb[skip..]);
    encode_len(&mut out, value.len());
    out.extend_from_slice(value);
    out
}

pub fn encode_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else if len < 0x10000 {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    } else {
        out.extend_from_slice(&[0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_byte_tags_roundtrip() {
        for tag in [
            0x61u32, 0x5F1F, 0x7F61, 0x7F2E, 0x5F2E, 0x30, 0x02, 0x87, 0x8E, 0xA1,
        ] {
            let enc = encode(tag, &[1, 2, 3]);
            let (t, rest) = parse(&enc).unwrap();
            assert_eq!(t.tag, tag);
            assert_eq!(t.value, &[1, 2, 3]);
            assert!(rest.is_empty());
            assert_eq!(total_len_from_header(&enc).unwrap(), enc.len());
        }
        let big = encode(0x75, &vec![0u8; 70000]);
        assert_eq!(total_len_from_header(&big).unwrap(), big.len());
        assert_eq!(parse(&big).unwrap().0.value.len(), 70000);
    }
}
