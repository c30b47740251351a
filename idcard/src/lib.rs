pub mod apdu;
pub mod bac;
pub mod error;
pub mod lds;
pub mod sm;
pub mod tlv;
