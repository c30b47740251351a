//! Read and verify Vietnamese chip ID cards (CCCD / Căn cước, ICAO 9303 eMRTD) over PC/SC.
//!
//! # High-level use (kiosk)
//!
//! ```no_run
//! use xaso_idcard::{AccessKey, MrzKey, TrustStore, read_card};
//! use xaso_idcard::transport::{CardWatcher, PcscTransport};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // CSCA certificates: an ICAO master list, PEM bundle or DER certificate.
//! let mut trust = TrustStore::new();
//! trust.add_file(std::path::Path::new("/etc/xaso/csca-masterlist.ml"))?;
//! // The key: typed MRZ data, or from the card's QR code (see `qr`).
//! let key = AccessKey::Mrz(MrzKey::from_id_number("079303001234", "2003-05-17", "2028-05-17")?);
//! // Wait for a card (cancellable from another thread with `watcher.canceller()`; an
//! // async variant is `wait_for_card_async`).
//! let watcher = CardWatcher::new()?;
//! let reader = watcher.wait_for_card(None, None)?;
//! let mut card = PcscTransport::connect(&reader)?;
//! let read = read_card(&mut card, &key, &trust)?;
//! let name = read.get(xaso_services::CardField::FullName);
//! if !read.passive_auth.verified {
//!     // usable, but show it as "not verified" with read.passive_auth.summary()
//! }
//! # let _ = name; Ok(()) }
//! ```
//!
//! Without pcscd (kiosk fallback, demos), the software card can be read in process:
//! `transport::InProcess { card: SoftCard::new(CardFiles::build(&identity, &TestPki::default_test()?)?) }`.
//!
//! # Structure
//! Protocol logic is sans-IO: [`bac`] (handshake), [`sm`] (secure messaging), [`softcard`]
//! (`fn process(apdu) -> response`), parsers in [`tlv`], [`lds`], [`pa`], [`qr`]. The reader
//! logic in [`reader`] is generic over [`transport::Transport`]; the PC/SC transport and the
//! vpcd socket shell ([`vpcd`]) are thin.
//!
//! # Privacy
//! Personal data types ([`lds::PersonalData`], [`lds::Mrz`], [`lds::FaceImage`],
//! [`qr::QrData`], raw file buffers) are zeroised on drop and print nothing personal with
//! `Debug`; nothing is written to disk and nothing personal is logged.
//!
//! # Access control
//! PACE-GM with ECDH on NIST P-256 and AES-128 secure messaging is used when EF.CardAccess
//! offers it; otherwise (or if PACE fails for a reason other than a wrong key) BAC with
//! 3DES secure messaging.
//!
//! # Not implemented
//! Other PACE variants (brainpool curves, integrated mapping, DH, AES-192/256), chip and
//! active authentication (DG14 / DG15 are read, hashed and parsed, not used), brainpool
//! document signer keys, the signature of an ICAO master list file itself, certificate
//! validity dates and revocation lists.

pub mod apdu;
pub mod bac;
pub mod error;
pub mod lds;
pub mod pa;
pub mod pace;
pub mod pcscd;
pub mod qr;
pub mod reader;
pub mod sm;
pub mod softcard;
pub mod testpki;
pub mod tlv;
pub mod transport;
pub mod vpcd;

pub use bac::MrzKey;
pub use error::CardError;
pub use lds::PersonalData;
pub use pa::{PassiveAuth, TrustStore};
pub use reader::{AccessKey, CardRead, ReadOptions, read_card, read_card_trying, read_card_with};
