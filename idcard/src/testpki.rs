//! Test PKI for the software card: a test CSCA and a test document signer (ECDSA P-256),
//! generated in code from a seed (deterministic, so a CSCA file written once stays valid),
//! and the EF.SOD signer. These keys are for tests and demos only and must never be put in a
//! production trust store.

use crate::pa::{DataGroupHash, ID_LDS_SECURITY_OBJECT, LdsSecurityObject, TrustStore};
use crate::tlv;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::{rfc5280, rfc5911, rfc5912};
use der::asn1::{BitString, OctetString, SetOfVec, UtcTime};
use der::{Any, DateTime, Encode, EncodePem, Tag};
use p256::ecdsa::{DerSignature, SigningKey, signature::Signer};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::collections::BTreeMap;
use std::str::FromStr;
use thiserror::Error;
use x509_cert::attr::Attribute;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

#[derive(Debug, Error)]
#[error("test PKI: {0}")]
pub struct PkiError(String);

fn e<E: std::fmt::Display>(x: E) -> PkiError {
    PkiError(x.to_string())
}

fn key_from_seed(seed: &str, label: &str) -> Result<SigningKey, PkiError> {
    let mut h = Sha256::digest(format!("{seed}/{label}").as_bytes());
    for _ in 0..16 {
        if let Ok(k) = SigningKey::from_bytes(&h) {
            return Ok(k);
        }
        h = Sha256::digest(h);
    }
    Err(PkiError("no valid key from seed".into()))
}

fn alg(oid: const_oid::ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

fn utc(y: u16) -> Result<Time, PkiError> {
    Ok(Time::UtcTime(
        UtcTime::from_date_time(DateTime::new(y, 1, 1, 0, 0, 0).map_err(e)?).map_err(e)?,
    ))
}

fn certificate(
    serial: u8,
    issuer: &Name,
    subject: &Name,
    key: &SigningKey,
    signer: &SigningKey,
    ca: bool,
    years: (u16, u16),
) -> Result<Certificate, PkiError> {
    let spki = SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).map_err(e)?;
    let mut extensions = Vec::new();
    if ca {
        let bc = BasicConstraints {
            ca: true,
            path_len_constraint: Some(0),
        };
        extensions.push(Extension {
            extn_id: rfc5280::ID_CE_BASIC_CONSTRAINTS,
            critical: true,
            extn_value: OctetString::new(bc.to_der().map_err(e)?).map_err(e)?,
        });
    }
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&[serial]).map_err(e)?,
        signature: alg(rfc5912::ECDSA_WITH_SHA_256),
        issuer: issuer.clone(),
        validity: Validity {
            not_before: utc(years.0)?,
            not_after: utc(years.1)?,
        },
        subject: subject.clone(),
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: if extensions.is_empty() {
            None
        } else {
            Some(extensions)
        },
    };
    let sig: DerSignature = signer.sign(&tbs.to_der().map_err(e)?);
    Ok(Certificate {
        tbs_certificate: tbs,
        signature_algorithm: alg(rfc5912::ECDSA_WITH_SHA_256),
        signature: BitString::from_bytes(sig.as_bytes()).map_err(e)?,
    })
}

/// A test CSCA and document signer.
pub struct TestPki {
    pub csca: Certificate,
    pub ds: Certificate,
    ds_key: SigningKey,
    csca_key: SigningKey,
}

impl TestPki {
    /// The project's default test PKI (seed "xaso-test-csca").
    pub fn default_test() -> Result<TestPki, PkiError> {
        TestPki::generate("xaso-test-csca")
    }

    pub fn generate(seed: &str) -> Result<TestPki, PkiError> {
        let csca_key = key_from_seed(seed, "csca")?;
        let ds_key = key_from_seed(seed, "ds")?;
        let csca_name =
            Name::from_str(&format!("CN=Xa So TEST CSCA {seed},O=Xa So test only,C=VN"))
                .map_err(e)?;
        let ds_name = Name::from_str(&format!(
            "CN=Xa So TEST Document Signer {seed},O=Xa So test only,C=VN"
        ))
        .map_err(e)?;
        let csca = certificate(
            1,
            &csca_name,
            &csca_name,
            &csca_key,
            &csca_key,
            true,
            (2024, 2045),
        )?;
        let ds = certificate(
            2,
            &csca_name,
            &ds_name,
            &ds_key,
            &csca_key,
            false,
            (2024, 2040),
        )?;
        Ok(TestPki {
            csca,
            ds,
            ds_key,
            csca_key,
        })
    }

    /// A per-card active authentication public key (SubjectPublicKeyInfo DER), for DG15.
    pub fn aa_public_key_der(&self, card: &str) -> Result<Vec<u8>, PkiError> {
        let k = key_from_seed(card, "aa")?;
        let spki = SubjectPublicKeyInfoOwned::from_key(*k.verifying_key()).map_err(e)?;
        spki.to_der().map_err(e)
    }

    pub fn trust_store(&self) -> TrustStore {
        TrustStore::from_certificates(vec![self.csca.clone()])
    }

    pub fn csca_pem(&self) -> Result<String, PkiError> {
        self.csca.to_pem(der::pem::LineEnding::LF).map_err(e)
    }

    /// Build EF.SOD (tag 77) over the given data groups with SHA-256 and ECDSA P-256.
    pub fn sign_sod(&self, data_groups: &BTreeMap<u8, Vec<u8>>) -> Result<Vec<u8>, PkiError> {
        let hashes = data_groups
            .iter()
            .map(|(n, b)| {
                Ok(DataGroupHash {
                    data_group_number: *n,
                    data_group_hash_value: OctetString::new(Sha256::digest(b).to_vec())
                        .map_err(e)?,
                })
            })
            .collect::<Result<Vec<_>, PkiError>>()?;
        let lds = LdsSecurityObject {
            version: 0,
            hash_algorithm: alg(rfc5912::ID_SHA_256),
            data_group_hash_values: hashes,
            lds_version_info: None,
        };
        let econtent = lds.to_der().map_err(e)?;
        let ci = sign_cms(ID_LDS_SECURITY_OBJECT, econtent, &self.ds, &self.ds_key)?;
        Ok(tlv::encode(0x77, &ci))
    }

    /// An ICAO CSCA master list (CMS SignedData, id-icao-cscaMasterList) holding the test
    /// CSCA, signed with the CSCA key.
    pub fn master_list(&self) -> Result<Vec<u8>, PkiError> {
        let mut list = tlv::encode(0x02, &[0]);
        list.extend(tlv::encode(0x31, &self.csca.to_der().map_err(e)?));
        let content = tlv::encode(0x30, &list);
        sign_cms(
            crate::pa::ID_CSCA_MASTER_LIST,
            content,
            &self.csca,
            &self.csca_key,
        )
    }
}

/// CMS SignedData (ContentInfo DER) over `econtent`, SHA-256 and ECDSA P-256, with signed
/// attributes and the signer's certificate.
fn sign_cms(
    content_type: const_oid::ObjectIdentifier,
    econtent: Vec<u8>,
    signer: &Certificate,
    key: &SigningKey,
) -> Result<Vec<u8>, PkiError> {
    let attrs: SetOfVec<Attribute> = SetOfVec::try_from(vec![
        Attribute {
            oid: rfc5911::ID_CONTENT_TYPE,
            values: SetOfVec::try_from(vec![Any::encode_from(&content_type).map_err(e)?])
                .map_err(e)?,
        },
        Attribute {
            oid: rfc5911::ID_MESSAGE_DIGEST,
            values: SetOfVec::try_from(vec![
                Any::new(Tag::OctetString, Sha256::digest(&econtent).to_vec()).map_err(e)?,
            ])
            .map_err(e)?,
        },
    ])
    .map_err(e)?;
    let sig: DerSignature = key.sign(&attrs.to_der().map_err(e)?);
    let si = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer.tbs_certificate.issuer.clone(),
            serial_number: signer.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: alg(rfc5912::ID_SHA_256),
        signed_attrs: Some(attrs),
        signature_algorithm: alg(rfc5912::ECDSA_WITH_SHA_256),
        signature: OctetString::new(sig.as_bytes()).map_err(e)?,
        unsigned_attrs: None,
    };
    let sd = SignedData {
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![alg(rfc5912::ID_SHA_256)]).map_err(e)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: content_type,
            econtent: Some(Any::new(Tag::OctetString, econtent).map_err(e)?),
        },
        certificates: Some(CertificateSet(
            SetOfVec::try_from(vec![CertificateChoices::Certificate(signer.clone())]).map_err(e)?,
        )),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![si]).map_err(e)?),
    };
    let ci = ContentInfo {
        content_type: rfc5911::ID_SIGNED_DATA,
        content: Any::encode_from(&sd).map_err(e)?,
    };
    ci.to_der().map_err(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pa::{PaFailure, verify};

    #[test]
    fn sod_verifies_and_detects_tampering() {
        let pki = TestPki::default_test().unwrap();
        let mut dgs = BTreeMap::new();
        dgs.insert(1u8, vec![0x61, 1, 2]);
        dgs.insert(13u8, vec![0x6D, 3, 4, 5]);
        let sod = pki.sign_sod(&dgs).unwrap();
        let pa = verify(&sod, &dgs, &pki.trust_store());
        assert!(pa.verified, "{pa:?}");
        assert_eq!(pa.data_groups_ok, vec![1, 13]);

        let mut bad = dgs.clone();
        bad.insert(13, vec![0x6D, 3, 4, 6]);
        let pa = verify(&sod, &bad, &pki.trust_store());
        assert!(!pa.verified);
        assert_eq!(pa.failures, vec![PaFailure::DataGroupHashMismatch(13)]);

        let other = TestPki::generate("another-country").unwrap();
        let pa = verify(&sod, &dgs, &other.trust_store());
        assert!(
            matches!(pa.failures.as_slice(), [PaFailure::UnknownCsca(_)]),
            "{pa:?}"
        );

        let mut ml = TrustStore::new();
        assert_eq!(ml.add_bytes(&pki.master_list().unwrap()).unwrap(), 1);
        assert!(verify(&sod, &dgs, &ml).verified);
        let mut der_store = TrustStore::new();
        assert_eq!(der_store.add_bytes(&pki.csca.to_der().unwrap()).unwrap(), 1);
        assert!(verify(&sod, &dgs, &der_store).verified);
        assert!(TrustStore::new().add_bytes(b"not a certificate").is_err());

        let mut store = TrustStore::new();
        assert_eq!(
            store.add_bytes(pki.csca_pem().unwrap().as_bytes()).unwrap(),
            1
        );
        assert!(verify(&sod, &dgs, &store).verified);
    }

    /// Some issuers put the signed attributes in non-DER order; the signature is over the
    /// bytes as encoded, which the verifier must use (not a re-encoding).
    #[test]
    fn sod_with_unsorted_signed_attributes_verifies() {
        let pki = TestPki::default_test().unwrap();
        let mut dgs = BTreeMap::new();
        dgs.insert(1u8, vec![0x61, 1, 2]);
        let lds = LdsSecurityObject {
            version: 0,
            hash_algorithm: alg(rfc5912::ID_SHA_256),
            data_group_hash_values: vec![DataGroupHash {
                data_group_number: 1,
                data_group_hash_value: OctetString::new(Sha256::digest([0x61, 1, 2]).to_vec())
                    .unwrap(),
            }],
            lds_version_info: None,
        };
        let econtent = lds.to_der().unwrap();
        let oid = |o: const_oid::ObjectIdentifier| o.to_der().unwrap();
        let attr_ct = tlv::encode(
            0x30,
            &[
                oid(rfc5911::ID_CONTENT_TYPE),
                tlv::encode(0x31, &oid(ID_LDS_SECURITY_OBJECT)),
            ]
            .concat(),
        );
        let attr_md = tlv::encode(
            0x30,
            &[
                oid(rfc5911::ID_MESSAGE_DIGEST),
                tlv::encode(0x31, &tlv::encode(0x04, &Sha256::digest(&econtent))),
            ]
            .concat(),
        );
        let attrs = [attr_md, attr_ct].concat(); // messageDigest first: not DER order
        let sig: DerSignature = pki.ds_key.sign(&tlv::encode(0x31, &attrs));
        let sha256 = tlv::encode(0x30, &oid(rfc5912::ID_SHA_256));
        let sid = tlv::encode(
            0x30,
            &[
                pki.ds.tbs_certificate.issuer.to_der().unwrap(),
                pki.ds.tbs_certificate.serial_number.to_der().unwrap(),
            ]
            .concat(),
        );
        let si = tlv::encode(
            0x30,
            &[
                tlv::encode(0x02, &[1]),
                sid,
                sha256.clone(),
                tlv::encode(0xA0, &attrs),
                tlv::encode(0x30, &oid(rfc5912::ECDSA_WITH_SHA_256)),
                tlv::encode(0x04, sig.as_bytes()),
            ]
            .concat(),
        );
        let sd = tlv::encode(
            0x30,
            &[
                tlv::encode(0x02, &[3]),
                tlv::encode(0x31, &sha256),
                tlv::encode(
                    0x30,
                    &[
                        oid(ID_LDS_SECURITY_OBJECT),
                        tlv::encode(0xA0, &tlv::encode(0x04, &econtent)),
                    ]
                    .concat(),
                ),
                tlv::encode(0xA0, &pki.ds.to_der().unwrap()),
                tlv::encode(0x31, &si),
            ]
            .concat(),
        );
        let ci = tlv::encode(
            0x30,
            &[oid(rfc5911::ID_SIGNED_DATA), tlv::encode(0xA0, &sd)].concat(),
        );
        let sod = tlv::encode(0x77, &ci);
        let pa = verify(&sod, &dgs, &pki.trust_store());
        assert!(pa.verified, "{pa:?}");
    }
}
