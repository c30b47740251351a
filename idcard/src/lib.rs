pub mod apdu;
pub mod bac;
pub mod error;
pub mod lds;
pub mod pa;
pub mod sm;
pub mod testpki;
pub mod tlv;
