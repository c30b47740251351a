//! # Xã Số sync test tooling
//!
//! Used only by tests and benchmarks (a dev-dependency everywhere; nothing
//! that ships links it):
//!
//! - [`link`]: a userspace TCP relay that emulates slow, lossy links and cuts
//!   connections at chosen byte offsets (the kernel here has no `tc netem`);
//! - [`sample`]: synthetic dossiers and page images, about the size of real
//!   ones, with no real personal data.

pub mod link;
pub mod sample;
