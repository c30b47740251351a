//! Session keys and secure messaging (ICAO 9303-11 §9.7–9.8), sans-IO: pure functions over
//! byte buffers, used by both the reader and the software card.
//!
//! 3DES (BAC): 2-key 3DES-CBC with zero IV, ISO 9797-1 MAC algorithm 3 ("retail MAC") built
//! from the `des` block cipher. AES (PACE): AES-CBC with IV = E(K_enc, SSC), AES-CMAC
//! truncated to 8 bytes. The send sequence counter is incremented before every command and
//! every response.

use crate::apdu::{Command, Response};
use crate::error::SmError;
use crate::tlv;
use cipher::block_padding::NoPadding;
use cipher::generic_array::GenericArray;
use cipher::{BlockDecrypt, BlockDecryptMut, BlockEncrypt, BlockEncryptMut, KeyInit, KeyIvInit};
use cmac::Mac;
use sha1::{Digest, Sha1};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// ISO 9797-1 padding method 2: 0x80 then zeros up to a multiple of `block`.
pub fn pad(data: &[u8], block: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(data.len() + block);
    v.extend_from_slice(data);
    v.push(0x80);
    while v.len() % block != 0 {
        v.push(0);
    }
    v
}

/// Remove ISO 9797-1 padding method 2.
pub fn unpad(data: &[u8]) -> Result<&[u8], SmError> {
    let end = data
        .iter()
        .rposition(|b| *b != 0)
        .ok_or(SmError::Malformed("padding"))?;
    if data[end] != 0x80 {
        return Err(SmError::Malformed("padding"));
    }
    Ok(&data[..end])
}

/// KDF of ICAO 9303-11 §9.7.1 for 3DES keys: SHA-1(seed || counter), first 16 bytes.
pub fn kdf_3des(seed: &[u8], counter: u32) -> [u8; 16] {
    let mut h = Sha1::new();
    h.update(seed);
    h.update(counter.to_be_bytes());
    let d = h.finalize();
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

/// KDF for AES keys: SHA-1 for 128-bit keys, SHA-256 for 192/256-bit keys.
pub fn kdf_aes(secret: &[u8], counter: u32, key_len: usize) -> Vec<u8> {
    if key_len == 16 {
        let mut h = Sha1::new();
        h.update(secret);
        h.update(counter.to_be_bytes());
        h.finalize()[..16].to_vec()
    } else {
        let mut h = sha2::Sha256::new();
        h.update(secret);
        h.update(counter.to_be_bytes());
        h.finalize()[..key_len.min(32)].to_vec()
    }
}

/// ISO 9797-1 MAC algorithm 3 with single DES and a 16-byte key, over already padded data.
pub fn retail_mac(key: &[u8; 16], padded: &[u8]) -> [u8; 8] {
    let k1 = des::Des::new(GenericArray::from_slice(&key[..8]));
    let k2 = des::Des::new(GenericArray::from_slice(&key[8..]));
    let mut h = GenericArray::from([0u8; 8]);
    for chunk in padded.chunks(8) {
        for (a, b) in h.iter_mut().zip(chunk) {
            *a ^= b;
        }
        k1.encrypt_block(&mut h);
    }
    k2.decrypt_block(&mut h);
    k1.encrypt_block(&mut h);
    h.into()
}

/// 2-key 3DES-CBC with zero IV over padded data.
pub fn tdes_encrypt(key: &[u8; 16], padded: &[u8]) -> Vec<u8> {
    cbc::Encryptor::<des::TdesEde2>::new(key.into(), &[0u8; 8].into())
        .encrypt_padded_vec_mut::<NoPadding>(padded)
}

pub fn tdes_decrypt(key: &[u8; 16], data: &[u8]) -> Result<Vec<u8>, SmError> {
    cbc::Decryptor::<des::TdesEde2>::new(key.into(), &[0u8; 8].into())
        .decrypt_padded_vec_mut::<NoPadding>(data)
        .map_err(|_| SmError::Malformed("cipher text length"))
}

/// Session keys of a secure messaging channel.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub enum SessionKeys {
    Tdes { enc: [u8; 16], mac: [u8; 16] },
    Aes { enc: Vec<u8>, mac: Vec<u8> },
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SessionKeys::Tdes { .. } => "SessionKeys::Tdes(..)",
            SessionKeys::Aes { .. } => "SessionKeys::Aes(..)",
        })
    }
}

macro_rules! aes_cbc {
    ($key:expr, $iv:expr, $data:expr, $enc:expr) => {{
        let iv = GenericArray::from_slice($iv);
        match $key.len() {
            16 => aes_cbc!(@one aes::Aes128, $key, iv, $data, $enc),
            24 => aes_cbc!(@one aes::Aes192, $key, iv, $data, $enc),
            _ => aes_cbc!(@one aes::Aes256, $key, iv, $data, $enc),
        }
    }};
    (@one $c:ty, $key:expr, $iv:expr, $data:expr, $enc:expr) => {{
        let key = GenericArray::from_slice($key);
        if $enc {
            Ok(cbc::Encryptor::<$c>::new(key, $iv).encrypt_padded_vec_mut::<NoPadding>($data))
        } else {
            cbc::Decryptor::<$c>::new(key, $iv)
                .decrypt_padded_vec_mut::<NoPadding>($data)
                .map_err(|_| SmError::Malformed("cipher text length"))
        }
    }};
}

/// AES-CBC (key length selects AES-128/192/256) over block-aligned data.
pub fn aes_cbc(key: &[u8], iv: &[u8; 16], data: &[u8], encrypt: bool) -> Result<Vec<u8>, SmError> {
    if data.is_empty() || !data.len().is_multiple_of(16) {
        return Err(SmError::Malformed("cipher text length"));
    }
    aes_cbc!(key, iv, data, encrypt)
}

fn aes_ecb_block(key: &[u8], block: &[u8]) -> Vec<u8> {
    let mut b = GenericArray::clone_from_slice(block);
    match key.len() {
        16 => aes::Aes128::new(GenericArray::from_slice(key)).encrypt_block(&mut b),
        24 => aes::Aes192::new(GenericArray::from_slice(key)).encrypt_block(&mut b),
        _ => aes::Aes256::new(GenericArray::from_slice(key)).encrypt_block(&mut b),
    }
    b.to_vec()
}

/// AES-CMAC truncated to 8 bytes.
pub fn aes_cmac8(key: &[u8], data: &[u8]) -> [u8; 8] {
    fn run<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> [u8; 8] {
        let mut out = [0u8; 8];
        if let Ok(mut m) = <M as Mac>::new_from_slice(key) {
            m.update(data);
            out.copy_from_slice(&m.finalize().into_bytes()[..8]);
        }
        out
    }
    match key.len() {
        16 => run::<cmac::Cmac<aes::Aes128>>(key, data),
        24 => run::<cmac::Cmac<aes::Aes192>>(key, data),
        _ => run::<cmac::Cmac<aes::Aes256>>(key, data),
    }
}

impl SessionKeys {
    pub fn block_size(&self) -> usize {
        match self {
            SessionKeys::Tdes { .. } => 8,
            SessionKeys::Aes { .. } => 16,
        }
    }

    fn ssc_bytes(&self, ssc: u128) -> Vec<u8> {
        let b = ssc.to_be_bytes();
        b[16 - self.block_size()..].to_vec()
    }

    /// Encrypt padded data for message number `ssc`.
    pub fn encrypt(&self, ssc: u128, padded: &[u8]) -> Vec<u8> {
        match self {
            SessionKeys::Tdes { enc, .. } => tdes_encrypt(enc, padded),
            SessionKeys::Aes { enc, .. } => {
                let iv = aes_ecb_block(enc, &self.ssc_bytes(ssc));
                aes_cbc!(enc.as_slice(), &iv, padded, true).unwrap_or_default()
            }
        }
    }

    pub fn decrypt(&self, ssc: u128, data: &[u8]) -> Result<Vec<u8>, SmError> {
        if data.is_empty() || !data.len().is_multiple_of(self.block_size()) {
            return Err(SmError::Malformed("cipher text length"));
        }
        match self {
            SessionKeys::Tdes { enc, .. } => tdes_decrypt(enc, data),
            SessionKeys::Aes { enc, .. } => {
                let iv = aes_ecb_block(enc, &self.ssc_bytes(ssc));
                aes_cbc!(enc.as_slice(), &iv, data, false)
            }
        }
    }

    /// MAC over `pad(SSC || data)`.
    pub fn mac(&self, ssc: u128, data: &[u8]) -> [u8; 8] {
        let mut n = self.ssc_bytes(ssc);
        n.extend_from_slice(data);
        let n = pad(&n, self.block_size());
        match self {
            SessionKeys::Tdes { mac, .. } => retail_mac(mac, &n),
            SessionKeys::Aes { mac, .. } => aes_cmac8(mac, &n),
        }
    }
}

/// A secure messaging channel: keys plus send sequence counter.
#[derive(Debug, Clone)]
pub struct SecureMessaging {
    keys: SessionKeys,
    ssc: u128,
}

struct SmObjects<'a> {
    crypto: Option<&'a [u8]>, // full DO87/DO85 TLV
    crypto_tag: u32,
    le_or_sw: Option<&'a [u8]>, // full DO97/DO99 TLV
    le_or_sw_value: &'a [u8],
    mac: Option<&'a [u8]>,
}

fn split_objects(data: &[u8], second: u32) -> Result<SmObjects<'_>, SmError> {
    let mut o = SmObjects {
        crypto: None,
        crypto_tag: 0,
        le_or_sw: None,
        le_or_sw_value: &[],
        mac: None,
    };
    let mut rest = data;
    while !rest.is_empty() {
        let (t, r) = tlv::parse(rest).map_err(|_| SmError::Malformed("data objects"))?;
        let full = &rest[..rest.len() - r.len()];
        match t.tag {
            0x87 | 0x85 if o.crypto.is_none() => {
                o.crypto = Some(full);
                o.crypto_tag = t.tag;
            }
            x if x == second && o.le_or_sw.is_none() => {
                o.le_or_sw = Some(full);
                o.le_or_sw_value = t.value;
            }
            0x8E if o.mac.is_none() => o.mac = Some(t.value),
            _ => return Err(SmError::Malformed("unexpected data object")),
        }
        rest = r;
    }
    Ok(o)
}

impl SecureMessaging {
    pub fn new(keys: SessionKeys, ssc: u128) -> Self {
        SecureMessaging { keys, ssc }
    }

    pub fn keys(&self) -> &SessionKeys {
        &self.keys
    }

    fn crypto_value(&self, crypto: &[u8], tag: u32) -> Result<Vec<u8>, SmError> {
        let (t, _) = tlv::parse(crypto).map_err(|_| SmError::Malformed("DO87"))?;
        let v = if tag == 0x87 {
            match t.value.split_first() {
                Some((0x01, c)) => c,
                _ => return Err(SmError::Malformed("DO87 padding indicator")),
            }
        } else {
            t.value
        };
        let plain = Zeroizing::new(self.keys.decrypt(self.ssc, v)?);
        Ok(unpad(&plain)?.to_vec())
    }

    /// Reader side: protect a command.
    pub fn wrap(&mut self, cmd: &Command) -> Result<Command, SmError> {
        self.ssc = self.ssc.wrapping_add(1);
        let bs = self.keys.block_size();
        let cla = cmd.cla | 0x0C;
        let mut m = pad(&[cla, cmd.ins, cmd.p1, cmd.p2], bs);
        let mut body = Vec::new();
        if !cmd.data.is_empty() {
            let enc = self.keys.encrypt(self.ssc, &pad(&cmd.data, bs));
            let do8x = if cmd.ins & 1 == 1 {
                tlv::encode(0x85, &enc)
            } else {
                let mut v = vec![0x01];
                v.extend_from_slice(&enc);
                tlv::encode(0x87, &v)
            };
            body.extend_from_slice(&do8x);
        }
        let mut extended = false;
        if let Some(le) = cmd.le {
            let v: Vec<u8> = if le > 256 {
                extended = true;
                ((le % 65536) as u16).to_be_bytes().to_vec()
            } else {
                vec![(le % 256) as u8]
            };
            body.extend_from_slice(&tlv::encode(0x97, &v));
        }
        m.extend_from_slice(&body);
        let mac = self.keys.mac(self.ssc, &m);
        body.extend_from_slice(&tlv::encode(0x8E, &mac));
        let le = if extended || body.len() > 255 {
            65536
        } else {
            256
        };
        Ok(Command::new(cla, cmd.ins, cmd.p1, cmd.p2, body, Some(le)))
    }

    /// Reader side: check and decrypt a response.
    pub fn unwrap(&mut self, resp: &Response) -> Result<Response, SmError> {
        self.ssc = self.ssc.wrapping_add(1);
        if resp.data.is_empty() {
            return Err(SmError::SessionEnded(resp.sw));
        }
        let o = split_objects(&resp.data, 0x99)?;
        let mac = o.mac.ok_or(SmError::MissingObject("DO8E"))?;
        let do99 = o.le_or_sw.ok_or(SmError::MissingObject("DO99"))?;
        let mut n = Vec::new();
        n.extend_from_slice(o.crypto.unwrap_or_default());
        n.extend_from_slice(do99);
        if self.keys.mac(self.ssc, &n).as_slice() != mac {
            return Err(SmError::BadMac);
        }
        let sw = match o.le_or_sw_value {
            [a, b] => u16::from_be_bytes([*a, *b]),
            _ => return Err(SmError::Malformed("DO99")),
        };
        let data = match o.crypto {
            Some(c) => self.crypto_value(c, o.crypto_tag)?,
            None => Vec::new(),
        };
        Ok(Response { data, sw })
    }

    /// Card side: check and decrypt a protected command.
    pub fn unwrap_command(&mut self, cmd: &Command) -> Result<Command, SmError> {
        self.ssc = self.ssc.wrapping_add(1);
        if cmd.cla & 0x0C != 0x0C {
            return Err(SmError::MissingObject("SM class byte"));
        }
        let o = split_objects(&cmd.data, 0x97)?;
        let mac = o.mac.ok_or(SmError::MissingObject("DO8E"))?;
        let mut m = pad(&[cmd.cla, cmd.ins, cmd.p1, cmd.p2], self.keys.block_size());
        m.extend_from_slice(o.crypto.unwrap_or_default());
        m.extend_from_slice(o.le_or_sw.unwrap_or_default());
        if self.keys.mac(self.ssc, &m).as_slice() != mac {
            return Err(SmError::BadMac);
        }
        let data = match o.crypto {
            Some(c) => self.crypto_value(c, o.crypto_tag)?,
            None => Vec::new(),
        };
        let le = match (o.le_or_sw, o.le_or_sw_value) {
            (None, _) => None,
            (Some(_), [0]) => Some(256),
            (Some(_), [x]) => Some(usize::from(*x)),
            (Some(_), [0, 0]) => Some(65536),
            (Some(_), [a, b]) => Some(usize::from(u16::from_be_bytes([*a, *b]))),
            _ => return Err(SmError::Malformed("DO97")),
        };
        Ok(Command::new(
            cmd.cla & !0x0C,
            cmd.ins,
            cmd.p1,
            cmd.p2,
            data,
            le,
        ))
    }

    /// Card side: protect a response.
    pub fn wrap_response(&mut self, resp: &Response) -> Response {
        self.ssc = self.ssc.wrapping_add(1);
        let mut body = Vec::new();
        if !resp.data.is_empty() {
            let mut v = vec![0x01];
            v.extend_from_slice(
                &self
                    .keys
                    .encrypt(self.ssc, &pad(&resp.data, self.keys.block_size())),
            );
            body.extend_from_slice(&tlv::encode(0x87, &v));
        }
        body.extend_from_slice(&tlv::encode(0x99, &resp.sw.to_be_bytes()));
        let mac = self.keys.mac(self.ssc, &body);
        body.extend_from_slice(&tlv::encode(0x8E, &mac));
        Response {
            data: body,
            sw: resp.sw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ICAO 9303-11 Appendix D.4 worked example (BAC secure messaging).
    #[test]
    fn icao_worked_example_select_ef_com() {
        let enc: [u8; 16] = hex::decode("979EC13B1CBFE9DCD01AB0FED307EAE5")
            .unwrap()
            .try_into()
            .unwrap();
        let mac: [u8; 16] = hex::decode("F1CB1F1FB5ADF208806B89DC579DC1F8")
            .unwrap()
            .try_into()
            .unwrap();
        let mut sm = SecureMessaging::new(SessionKeys::Tdes { enc, mac }, 0x887022120C06C226);
        let cmd = Command::new(0, 0xA4, 0x02, 0x0C, vec![0x01, 0x1E], None);
        let w = sm.wrap(&cmd).unwrap();
        assert_eq!(
            hex::encode_upper(w.to_bytes().unwrap()),
            "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"
        );
        let r = sm
            .unwrap(
                &Response::parse(&hex::decode("990290008E08FA855A5D4C50A8ED9000").unwrap())
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(r.sw, 0x9000);
    }

    #[test]
    fn card_and_reader_agree_aes_and_tdes() {
        for keys in [
            SessionKeys::Tdes {
                enc: [1; 16],
                mac: [2; 16],
            },
            SessionKeys::Aes {
                enc: vec![3; 16],
                mac: vec![4; 16],
            },
            SessionKeys::Aes {
                enc: vec![5; 32],
                mac: vec![6; 32],
            },
        ] {
            let mut reader = SecureMessaging::new(keys.clone(), 77);
            let mut card = SecureMessaging::new(keys, 77);
            let cmd = Command::new(0, 0xB0, 0, 5, vec![], Some(65536));
            let got = card.unwrap_command(&reader.wrap(&cmd).unwrap()).unwrap();
            assert_eq!(got, cmd);
            let resp = Response {
                data: vec![9; 1000],
                sw: 0x9000,
            };
            assert_eq!(reader.unwrap(&card.wrap_response(&resp)).unwrap(), resp);
        }
    }
}
