//! PACE with generic mapping (ICAO 9303-11 §4.4, BSI TR-03110): ECDH on NIST P-256 with
//! AES-128 secure messaging (id-PACE-ECDH-GM-AES-CBC-CMAC-128, standardized domain
//! parameter 12). Sans-IO: the reader and card sides are state machines over the
//! GENERAL AUTHENTICATE dynamic authentication data (tag 7C); randomness is passed in.

use crate::error::SmError;
use crate::sm::{self, SecureMessaging, SessionKeys};
use crate::tlv;
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::{AffinePoint, EncodedPoint, FieldBytes, ProjectivePoint, Scalar, U256};
use zeroize::Zeroize;

/// id-PACE-ECDH-GM-AES-CBC-CMAC-128 (0.4.0.127.0.7.2.2.4.2.2), OID content bytes.
pub const ECDH_GM_AES_128: [u8; 10] = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02];
pub const ECDH_GM_AES_128_DOTTED: &str = "0.4.0.127.0.7.2.2.4.2.2";
/// Standardized domain parameters 12: NIST P-256.
pub const PARAM_P256: u32 = 12;

/// MSE:Set AT data: protocol OID, password reference 1 (MRZ), domain parameter id.
pub fn mse_set_at_data() -> Vec<u8> {
    let mut v = tlv::encode(0x80, &ECDH_GM_AES_128);
    v.extend(tlv::encode(0x83, &[0x01]));
    v.extend(tlv::encode(0x84, &[PARAM_P256 as u8]));
    v
}

fn k_pi(password: &[u8]) -> Vec<u8> {
    sm::kdf_aes(password, 3, 16)
}

fn scalar(bytes: &[u8; 32]) -> Scalar {
    <Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(bytes))
}

fn point_bytes(p: &ProjectivePoint) -> Vec<u8> {
    p.to_affine().to_encoded_point(false).as_bytes().to_vec()
}

fn parse_point(b: &[u8]) -> Result<ProjectivePoint, SmError> {
    let ep = EncodedPoint::from_bytes(b).map_err(|_| SmError::Malformed("EC point"))?;
    let a: Option<AffinePoint> = AffinePoint::from_encoded_point(&ep).into();
    let p = ProjectivePoint::from(a.ok_or(SmError::Malformed("EC point not on curve"))?);
    if p == ProjectivePoint::IDENTITY {
        return Err(SmError::Malformed("EC point at infinity"));
    }
    Ok(p)
}

/// The value of tag `tag` inside dynamic authentication data `7C { … }`.
pub fn dyn_auth(data: &[u8], tag: u32) -> Result<Vec<u8>, SmError> {
    let (v, _) = tlv::expect(data, 0x7C).map_err(|_| SmError::Malformed("7C"))?;
    tlv::find(v, tag)
        .map_err(|_| SmError::Malformed("7C content"))?
        .map(<[u8]>::to_vec)
        .ok_or(SmError::MissingObject("dynamic authentication data"))
}

pub fn dyn_auth_data(tag: u32, value: &[u8]) -> Vec<u8> {
    tlv::encode(0x7C, &tlv::encode(tag, value))
}

/// Authentication token: CMAC over the public key data object `7F49 { 06 oid, 86 point }`.
fn token(k_mac: &[u8], point: &[u8]) -> [u8; 8] {
    let mut v = tlv::encode(0x06, &ECDH_GM_AES_128);
    v.extend(tlv::encode(0x86, point));
    sm::aes_cmac8(k_mac, &tlv::encode(0x7F49, &v))
}

fn mapped_generator(
    s: &[u8],
    sk_map: &Scalar,
    pk_map_other: &ProjectivePoint,
) -> Result<ProjectivePoint, SmError> {
    let mut sb = [0u8; 32];
    sb[32 - s.len().min(32)..].copy_from_slice(&s[..s.len().min(32)]);
    let s = scalar(&sb);
    sb.zeroize();
    let h = *pk_map_other * sk_map;
    let g = ProjectivePoint::GENERATOR * s + h;
    if g == ProjectivePoint::IDENTITY {
        return Err(SmError::Malformed("mapped generator"));
    }
    Ok(g)
}

fn session_keys(shared: &ProjectivePoint) -> (Vec<u8>, Vec<u8>) {
    let enc = shared.to_affine().to_encoded_point(false);
    let x = enc.x().map(|x| x.to_vec()).unwrap_or_default();
    (sm::kdf_aes(&x, 1, 16), sm::kdf_aes(&x, 2, 16))
}

/// Reader side of PACE.
pub struct PaceReader {
    k_pi: Vec<u8>,
    s: Vec<u8>,
    sk: Scalar,
    g: ProjectivePoint,
    pk_own: Vec<u8>,
    pk_card: Vec<u8>,
    k_enc: Vec<u8>,
    k_mac: Vec<u8>,
}

impl Drop for PaceReader {
    fn drop(&mut self) {
        self.k_pi.zeroize();
        self.s.zeroize();
        self.k_enc.zeroize();
        self.k_mac.zeroize();
    }
}

impl PaceReader {
    pub fn new(password: &[u8]) -> Self {
        PaceReader {
            k_pi: k_pi(password),
            s: vec![],
            sk: Scalar::ZERO,
            g: ProjectivePoint::GENERATOR,
            pk_own: vec![],
            pk_card: vec![],
            k_enc: vec![],
            k_mac: vec![],
        }
    }

    /// Step 1 answer (encrypted nonce) → step 2 command data (mapping public key).
    pub fn on_nonce(&mut self, resp: &[u8], sk_map: &[u8; 32]) -> Result<Vec<u8>, SmError> {
        let z = dyn_auth(resp, 0x80)?;
        self.s = sm::aes_cbc(&self.k_pi, &[0; 16], &z, false)?;
        self.sk = scalar(sk_map);
        Ok(dyn_auth_data(
            0x81,
            &point_bytes(&(ProjectivePoint::GENERATOR * self.sk)),
        ))
    }

    /// Step 2 answer (card's mapping key) → step 3 command data (ephemeral public key).
    pub fn on_map(&mut self, resp: &[u8], sk_eph: &[u8; 32]) -> Result<Vec<u8>, SmError> {
        let pk_map_card = parse_point(&dyn_auth(resp, 0x82)?)?;
        self.g = mapped_generator(&self.s, &self.sk, &pk_map_card)?;
        self.sk = scalar(sk_eph);
        self.pk_own = point_bytes(&(self.g * self.sk));
        Ok(dyn_auth_data(0x83, &self.pk_own))
    }

    /// Step 3 answer (card's ephemeral key) → step 4 command data (reader's token).
    pub fn on_key(&mut self, resp: &[u8]) -> Result<Vec<u8>, SmError> {
        self.pk_card = dyn_auth(resp, 0x84)?;
        if self.pk_card == self.pk_own {
            return Err(SmError::Malformed("card echoed the reader's key"));
        }
        let pk = parse_point(&self.pk_card)?;
        let (enc, mac) = session_keys(&(pk * self.sk));
        self.k_enc = enc;
        self.k_mac = mac;
        Ok(dyn_auth_data(0x85, &token(&self.k_mac, &self.pk_card)))
    }

    /// Step 4 answer (card's token) → secure messaging (AES, SSC 0).
    pub fn finish(self, resp: &[u8]) -> Result<SecureMessaging, SmError> {
        let t = dyn_auth(resp, 0x86)?;
        if t != token(&self.k_mac, &self.pk_own) {
            return Err(SmError::BadMac);
        }
        Ok(SecureMessaging::new(
            SessionKeys::Aes {
                enc: self.k_enc.clone(),
                mac: self.k_mac.clone(),
            },
            0,
        ))
    }
}

/// Card side of PACE.
pub struct PaceCard {
    k_pi: Vec<u8>,
    s: Vec<u8>,
    sk: Scalar,
    g: ProjectivePoint,
    pk_own: Vec<u8>,
    pk_reader: Vec<u8>,
    k_enc: Vec<u8>,
    k_mac: Vec<u8>,
    step: u8,
}

impl Drop for PaceCard {
    fn drop(&mut self) {
        self.k_pi.zeroize();
        self.s.zeroize();
        self.k_enc.zeroize();
        self.k_mac.zeroize();
    }
}

/// What the card answers to one GENERAL AUTHENTICATE.
pub enum CardStep {
    Continue(Vec<u8>),
    Done(Vec<u8>, SecureMessaging),
}

impl PaceCard {
    pub fn new(password: &[u8]) -> Self {
        PaceCard {
            k_pi: k_pi(password),
            s: vec![],
            sk: Scalar::ZERO,
            g: ProjectivePoint::GENERATOR,
            pk_own: vec![],
            pk_reader: vec![],
            k_enc: vec![],
            k_mac: vec![],
            step: 0,
        }
    }

    /// Handle one GENERAL AUTHENTICATE; `rnd` supplies fresh randomness (nonce / keys).
    pub fn step(&mut self, data: &[u8], rnd: &[u8; 32]) -> Result<CardStep, SmError> {
        self.step += 1;
        match self.step {
            1 => {
                let (v, _) = tlv::expect(data, 0x7C).map_err(|_| SmError::Malformed("7C"))?;
                if !v.is_empty() {
                    return Err(SmError::Malformed("step 1 data"));
                }
                self.s = rnd[..16].to_vec();
                let z = sm::aes_cbc(&self.k_pi, &[0; 16], &self.s, true)?;
                Ok(CardStep::Continue(dyn_auth_data(0x80, &z)))
            }
            2 => {
                let pk_map_reader = parse_point(&dyn_auth(data, 0x81)?)?;
                let sk_map = scalar(rnd);
                self.g = mapped_generator(&self.s, &sk_map, &pk_map_reader)?;
                Ok(CardStep::Continue(dyn_auth_data(
                    0x82,
                    &point_bytes(&(ProjectivePoint::GENERATOR * sk_map)),
                )))
            }
            3 => {
                self.pk_reader = dyn_auth(data, 0x83)?;
                let pk = parse_point(&self.pk_reader)?;
                self.sk = scalar(rnd);
                self.pk_own = point_bytes(&(self.g * self.sk));
                if self.pk_own == self.pk_reader {
                    return Err(SmError::Malformed("reader echoed the card's key"));
                }
                let (enc, mac) = session_keys(&(pk * self.sk));
                self.k_enc = enc;
                self.k_mac = mac;
                Ok(CardStep::Continue(dyn_auth_data(0x84, &self.pk_own)))
            }
            4 => {
                let t = dyn_auth(data, 0x85)?;
                if t != token(&self.k_mac, &self.pk_own) {
                    return Err(SmError::BadMac);
                }
                let resp = dyn_auth_data(0x86, &token(&self.k_mac, &self.pk_reader));
                let sm = SecureMessaging::new(
                    SessionKeys::Aes {
                        enc: self.k_enc.clone(),
                        mac: self.k_mac.clone(),
                    },
                    0,
                );
                Ok(CardStep::Done(resp, sm))
            }
            _ => Err(SmError::Malformed("PACE already done")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::Command;

    fn run(
        card_pw: &[u8],
        reader_pw: &[u8],
    ) -> Result<(SecureMessaging, SecureMessaging), SmError> {
        let mut card = PaceCard::new(card_pw);
        let mut reader = PaceReader::new(reader_pw);
        let CardStep::Continue(r1) = card.step(&tlv::encode(0x7C, &[]), &[5; 32])? else {
            panic!()
        };
        let c2 = reader.on_nonce(&r1, &[6; 32])?;
        let CardStep::Continue(r2) = card.step(&c2, &[7; 32])? else {
            panic!()
        };
        let c3 = reader.on_map(&r2, &[8; 32])?;
        let CardStep::Continue(r3) = card.step(&c3, &[9; 32])? else {
            panic!()
        };
        let c4 = reader.on_key(&r3)?;
        let CardStep::Done(r4, card_sm) = card.step(&c4, &[0; 32])? else {
            panic!()
        };
        Ok((reader.finish(&r4)?, card_sm))
    }

    #[test]
    fn pace_both_sides_agree() {
        let (mut r, mut c) = run(b"password", b"password").unwrap();
        let cmd = Command::new(0, 0xA4, 4, 0x0C, vec![1, 2, 3], None);
        assert_eq!(c.unwrap_command(&r.wrap(&cmd).unwrap()).unwrap(), cmd);
        assert_eq!(run(b"password", b"passw0rd").err(), Some(SmError::BadMac));
    }
}
