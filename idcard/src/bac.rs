//! Basic Access Control (ICAO 9303-11 §4.3), sans-IO. The reader and the software card both
//! use these functions; randomness is passed in.

use crate::error::{CardError, SmError};
use crate::sm::{self, SecureMessaging, SessionKeys};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// ICAO 9303-3 check digit (weights 7, 3, 1).
pub fn check_digit(s: &str) -> Option<char> {
    let mut sum = 0u32;
    for (i, c) in s.chars().enumerate() {
        let v = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            '<' => 0,
            _ => return None,
        };
        sum += v * [7, 3, 1][i % 3];
    }
    char::from_digit(sum % 10, 10)
}

/// The MRZ data that BAC and PACE keys derive from: document number, date of birth and
/// date of expiry (YYMMDD). For Vietnamese ID cards the document number is the last nine
/// digits of the 12-digit personal ID number.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct MrzKey {
    pub document_number: String,
    pub date_of_birth: String,
    pub date_of_expiry: String,
}

impl std::fmt::Debug for MrzKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MrzKey(..)")
    }
}

fn yymmdd(s: &str) -> Result<String, CardError> {
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    // Accept YYMMDD, YYYY-MM-DD / YYYYMMDD, DD/MM/YYYY / DDMMYYYY.
    let out = match (digits.len(), s.contains('/') || s.contains('.')) {
        (6, _) => digits,
        (8, false) if s.contains('-') || digits.starts_with("19") || digits.starts_with("20") => {
            digits[2..].to_string()
        }
        (8, _) => format!("{}{}{}", &digits[6..8], &digits[2..4], &digits[0..2]),
        _ => return Err(CardError::BadMrz("date")),
    };
    let mm: u32 = out[2..4].parse().map_err(|_| CardError::BadMrz("date"))?;
    let dd: u32 = out[4..6].parse().map_err(|_| CardError::BadMrz("date"))?;
    if !(1..=12).contains(&mm) || !(1..=31).contains(&dd) {
        return Err(CardError::BadMrz("date"));
    }
    Ok(out)
}

impl MrzKey {
    /// Build from a document number and two dates (YYMMDD, YYYY-MM-DD or DD/MM/YYYY).
    pub fn new(
        document_number: &str,
        date_of_birth: &str,
        date_of_expiry: &str,
    ) -> Result<Self, CardError> {
        let doc: String = document_number.trim().to_ascii_uppercase();
        if doc.is_empty()
            || doc.len() > 9
            || !doc.chars().all(|c| c.is_ascii_alphanumeric() || c == '<')
        {
            return Err(CardError::BadMrz("document number"));
        }
        Ok(MrzKey {
            document_number: doc,
            date_of_birth: yymmdd(date_of_birth)?,
            date_of_expiry: yymmdd(date_of_expiry)?,
        })
    }

    /// From a 12-digit Vietnamese personal ID number (the last 9 digits are the document
    /// number in the MRZ).
    pub fn from_id_number(
        id: &str,
        date_of_birth: &str,
        date_of_expiry: &str,
    ) -> Result<Self, CardError> {
        let id = id.trim();
        if id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(CardError::BadMrz("ID number must have 12 digits"));
        }
        MrzKey::new(&id[3..], date_of_birth, date_of_expiry)
    }

    /// The MRZ information used as key seed input.
    fn mrz_information(&self) -> String {
        let mut doc = self.document_number.clone();
        while doc.len() < 9 {
            doc.push('<');
        }
        let mut s = String::with_capacity(24);
        for part in [
            doc.as_str(),
            self.date_of_birth.as_str(),
            self.date_of_expiry.as_str(),
        ] {
            s.push_str(part);
            s.push(check_digit(part).unwrap_or('0'));
        }
        s
    }

    /// K_seed = first 16 bytes of SHA-1(MRZ information).
    pub fn key_seed(&self) -> [u8; 16] {
        let mut info = self.mrz_information();
        let d = Sha1::digest(info.as_bytes());
        info.zeroize();
        let mut k = [0u8; 16];
        k.copy_from_slice(&d[..16]);
        k
    }

    /// The PACE password π for MRZ: SHA-1(MRZ information), 20 bytes.
    pub fn pace_password(&self) -> Vec<u8> {
        let mut info = self.mrz_information();
        let d = Sha1::digest(info.as_bytes()).to_vec();
        info.zeroize();
        d
    }

    pub fn bac_keys(&self) -> BacKeys {
        let seed = self.key_seed();
        BacKeys {
            enc: sm::kdf_3des(&seed, 1),
            mac: sm::kdf_3des(&seed, 2),
        }
    }
}

/// The document basic access keys K_enc and K_mac.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct BacKeys {
    pub enc: [u8; 16],
    pub mac: [u8; 16],
}

/// Reader state between EXTERNAL AUTHENTICATE command and response.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct BacReader {
    keys: BacKeys,
    rnd_icc: [u8; 8],
    rnd_ifd: [u8; 8],
    k_ifd: [u8; 16],
}

fn session(
    k_ifd: &[u8; 16],
    k_icc: &[u8; 16],
    rnd_icc: &[u8; 8],
    rnd_ifd: &[u8; 8],
) -> SecureMessaging {
    let mut seed = [0u8; 16];
    for i in 0..16 {
        seed[i] = k_ifd[i] ^ k_icc[i];
    }
    let keys = SessionKeys::Tdes {
        enc: sm::kdf_3des(&seed, 1),
        mac: sm::kdf_3des(&seed, 2),
    };
    seed.zeroize();
    let mut ssc = [0u8; 16];
    ssc[8..12].copy_from_slice(&rnd_icc[4..]);
    ssc[12..].copy_from_slice(&rnd_ifd[4..]);
    SecureMessaging::new(keys, u128::from_be_bytes(ssc))
}

fn encrypt_and_mac(keys: &BacKeys, s: &[u8; 32]) -> Vec<u8> {
    let mut e = sm::tdes_encrypt(&keys.enc, s);
    let m = sm::retail_mac(&keys.mac, &sm::pad(&e, 8));
    e.extend_from_slice(&m);
    e
}

fn check_and_decrypt(keys: &BacKeys, data: &[u8]) -> Result<[u8; 32], SmError> {
    if data.len() != 40 {
        return Err(SmError::Malformed("authentication data length"));
    }
    let (e, m) = data.split_at(32);
    if sm::retail_mac(&keys.mac, &sm::pad(e, 8)).as_slice() != m {
        return Err(SmError::BadMac);
    }
    let mut p = sm::tdes_decrypt(&keys.enc, e)?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&p);
    p.zeroize();
    Ok(out)
}

impl BacReader {
    /// Build the EXTERNAL AUTHENTICATE data from the card's challenge and fresh randomness.
    pub fn start(
        keys: BacKeys,
        rnd_icc: [u8; 8],
        rnd_ifd: [u8; 8],
        k_ifd: [u8; 16],
    ) -> (Self, Vec<u8>) {
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&rnd_ifd);
        s[8..16].copy_from_slice(&rnd_icc);
        s[16..].copy_from_slice(&k_ifd);
        let data = encrypt_and_mac(&keys, &s);
        s.zeroize();
        (
            BacReader {
                keys,
                rnd_icc,
                rnd_ifd,
                k_ifd,
            },
            data,
        )
    }

    /// Check the card's answer and derive the secure messaging session.
    pub fn finish(self, resp: &[u8]) -> Result<SecureMessaging, SmError> {
        let mut r = check_and_decrypt(&self.keys, resp)?;
        if r[..8] != self.rnd_icc || r[8..16] != self.rnd_ifd {
            r.zeroize();
            return Err(SmError::Malformed("card nonce mismatch"));
        }
        let mut k_icc = [0u8; 16];
        k_icc.copy_from_slice(&r[16..]);
        r.zeroize();
        let sm = session(&self.k_ifd, &k_icc, &self.rnd_icc, &self.rnd_ifd);
        k_icc.zeroize();
        Ok(sm)
    }
}

/// Card side: answer EXTERNAL AUTHENTICATE. `rnd_icc` is the challenge the card sent.
pub fn card_authenticate(
    keys: &BacKeys,
    rnd_icc: &[u8; 8],
    cmd_data: &[u8],
    k_icc: [u8; 16],
) -> Result<(Vec<u8>, SecureMessaging), SmError> {
    let mut s = check_and_decrypt(keys, cmd_data)?;
    if s[8..16] != rnd_icc[..] {
        s.zeroize();
        return Err(SmError::Malformed("challenge mismatch"));
    }
    let mut rnd_ifd = [0u8; 8];
    rnd_ifd.copy_from_slice(&s[..8]);
    let mut k_ifd = [0u8; 16];
    k_ifd.copy_from_slice(&s[16..]);
    s.zeroize();
    let mut r = [0u8; 32];
    r[..8].copy_from_slice(rnd_icc);
    r[8..16].copy_from_slice(&rnd_ifd);
    r[16..].copy_from_slice(&k_icc);
    let resp = encrypt_and_mac(keys, &r);
    r.zeroize();
    let sm = session(&k_ifd, &k_icc, rnd_icc, &rnd_ifd);
    k_ifd.zeroize();
    Ok((resp, sm))
}

#[cfg(test)]
mod tests {
    use super::*;

    // ICAO 9303-11 Appendix D.2 worked example.
    #[test]
    fn icao_key_seed_example() {
        let k = MrzKey::new("L898902C<", "690806", "940623").unwrap();
        assert_eq!(k.mrz_information(), "L898902C<369080619406236");
        assert_eq!(
            hex::encode_upper(k.key_seed()),
            "239AB9CB282DAF66231DC5A4DF6BFBAE"
        );
        assert_eq!(
            hex::encode_upper(k.bac_keys().enc),
            "AB94FCEDF2664EDFB9B291F85D7F77F2"
        );
        assert_eq!(
            hex::encode_upper(k.bac_keys().mac),
            "7862D9ECE03C1BCD4D77089DCF131442"
        );
    }

    #[test]
    fn dates_in_several_forms() {
        let a = MrzKey::from_id_number("079203001234", "1990-05-17", "17/05/2030").unwrap();
        assert_eq!(a.document_number, "203001234");
        assert_eq!(a.date_of_birth, "900517");
        assert_eq!(a.date_of_expiry, "300517");
        assert!(MrzKey::from_id_number("07920300123", "900517", "300517").is_err());
        assert!(MrzKey::new("123", "901317", "300517").is_err());
    }

    #[test]
    fn handshake_both_sides() {
        let keys = MrzKey::new("203001234", "900517", "300517")
            .unwrap()
            .bac_keys();
        let (reader, data) = BacReader::start(keys.clone(), [1; 8], [2; 8], [3; 16]);
        let (resp, mut card_sm) = card_authenticate(&keys, &[1; 8], &data, [4; 16]).unwrap();
        let mut sm = reader.finish(&resp).unwrap();
        let cmd = crate::apdu::Command::new(0, 0xB0, 0, 0, vec![], Some(4));
        assert_eq!(
            card_sm.unwrap_command(&sm.wrap(&cmd).unwrap()).unwrap(),
            cmd
        );
        let wrong = MrzKey::new("203001235", "900517", "300517")
            .unwrap()
            .bac_keys();
        assert_eq!(
            card_authenticate(&wrong, &[1; 8], &data, [4; 16]).err(),
            Some(SmError::BadMac)
        );
    }
}
