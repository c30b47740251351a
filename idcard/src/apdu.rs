//! Command and response APDUs (ISO/IEC 7816-4), short and extended length.

use thiserror::Error;

/// Status words used by the reader and the software card.
pub mod sw {
    pub const OK: u16 = 0x9000;
    pub const END_OF_FILE: u16 = 0x6282;
    pub const AUTH_FAILED: u16 = 0x6300;
    pub const WRONG_LENGTH: u16 = 0x6700;
    pub const SECURITY_NOT_SATISFIED: u16 = 0x6982;
    pub const SM_OBJECTS_MISSING: u16 = 0x6987;
    pub const SM_OBJECTS_INCORRECT: u16 = 0x6988;
    pub const CONDITIONS_NOT_SATISFIED: u16 = 0x6985;
    pub const WRONG_DATA: u16 = 0x6A80;
    pub const FILE_NOT_FOUND: u16 = 0x6A82;
    pub const WRONG_P1P2: u16 = 0x6A86;
    pub const OFFSET_OUTSIDE: u16 = 0x6B00;
    pub const INS_NOT_SUPPORTED: u16 = 0x6D00;
    pub const CLA_NOT_SUPPORTED: u16 = 0x6E00;
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApduError {
    #[error("APDU too short")]
    TooShort,
    #[error("APDU length fields do not match its size")]
    BadLength,
    #[error("APDU data too long")]
    TooLong,
}

/// A command APDU. `le` is the expected response length Ne (1..=65536), `None` for none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Vec<u8>,
    pub le: Option<usize>,
}

impl Command {
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8, data: Vec<u8>, le: Option<usize>) -> Self {
        Command {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        }
    }

    /// True if the command needs the extended-length encoding.
    pub fn is_extended(&self) -> bool {
        self.data.len() > 255 || self.le.is_some_and(|le| le > 256)
    }

    /// Encode, choosing short or extended length as needed.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ApduError> {
        if self.data.len() > 65535 || self.le.is_some_and(|le| le == 0 || le > 65536) {
            return Err(ApduError::TooLong);
        }
        let mut out = Vec::with_capacity(self.data.len() + 9);
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        let ext = self.is_extended();
        if !self.data.is_empty() {
            if ext {
                out.push(0);
                out.extend_from_slice(&(self.data.len() as u16).to_be_bytes());
            } else {
                out.push(self.data.len() as u8);
            }
            out.extend_from_slice(&self.data);
        }
        if let Some(le) = self.le {
            if ext {
                if self.data.is_empty() {
                    out.push(0);
                }
                out.extend_from_slice(&((le % 65536) as u16).to_be_bytes());
            } else {
                out.push((le % 256) as u8);
            }
        }
        Ok(out)
    }

    /// Decode a command APDU (all seven ISO 7816-4 cases).
    pub fn parse(b: &[u8]) -> Result<Command, ApduError> {
        let (cla, ins, p1, p2) = match b {
            [cla, ins, p1, p2, ..] => (*cla, *ins, *p1, *p2),
            _ => return Err(ApduError::TooShort),
        };
        let body = &b[4..];
        let mut cmd = Command::new(cla, ins, p1, p2, Vec::new(), None);
        match body.len() {
            0 => {}
            1 => cmd.le = Some(if body[0] == 0 { 256 } else { body[0] as usize }),
            _ if body[0] != 0 => {
                let lc = body[0] as usize;
                let rest = &body[1..];
                if rest.len() == lc {
                    cmd.data = rest.to_vec();
                } else if rest.len() == lc + 1 {
                    cmd.data = rest[..lc].to_vec();
                    let le = rest[lc];
                    cmd.le = Some(if le == 0 { 256 } else { le as usize });
                } else {
                    return Err(ApduError::BadLength);
                }
            }
            3 => {
                let le = u16::from_be_bytes([body[1], body[2]]) as usize;
                cmd.le = Some(if le == 0 { 65536 } else { le });
            }
            n if n > 3 => {
                let lc = u16::from_be_bytes([body[1], body[2]]) as usize;
                let rest = &body[3..];
                if lc == 0 {
                    return Err(ApduError::BadLength);
                }
                if rest.len() == lc {
                    cmd.data = rest.to_vec();
                } else if rest.len() == lc + 2 {
                    cmd.data = rest[..lc].to_vec();
                    let le = u16::from_be_bytes([rest[lc], rest[lc + 1]]) as usize;
                    cmd.le = Some(if le == 0 { 65536 } else { le });
                } else {
                    return Err(ApduError::BadLength);
                }
            }
            _ => return Err(ApduError::BadLength),
        }
        Ok(cmd)
    }
}

/// A response APDU: data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub sw: u16,
}

impl Response {
    pub fn parse(b: &[u8]) -> Result<Response, ApduError> {
        if b.len() < 2 {
            return Err(ApduError::TooShort);
        }
        let (data, swb) = b.split_at(b.len() - 2);
        Ok(Response {
            data: data.to_vec(),
            sw: u16::from_be_bytes([swb[0], swb[1]]),
        })
    }

    pub fn status(sw: u16) -> Vec<u8> {
        sw.to_be_bytes().to_vec()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = self.data.clone();
        v.extend_from_slice(&self.sw.to_be_bytes());
        v
    }

    pub fn is_ok(&self) -> bool {
        self.sw == sw::OK || self.sw == sw::END_OF_FILE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_cases() {
        let cases = [
            Command::new(0, 0x84, 0, 0, vec![], Some(8)),
            Command::new(0, 0xA4, 4, 0x0C, vec![1, 2, 3], None),
            Command::new(0, 0x82, 0, 0, vec![9; 40], Some(40)),
            Command::new(0, 0xB0, 0, 0, vec![], Some(256)),
            Command::new(0, 0xB0, 0, 0, vec![], Some(65536)),
            Command::new(0, 0xB0, 0, 0, vec![], Some(1000)),
            Command::new(0x0C, 0xB0, 0, 0, vec![7; 300], Some(65536)),
            Command::new(0, 0x22, 0xC1, 0xA4, vec![7; 300], None),
        ];
        for c in cases {
            let b = c.to_bytes().unwrap();
            assert_eq!(Command::parse(&b).unwrap(), c, "{b:02x?}");
        }
    }
}
