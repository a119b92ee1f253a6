//! One run on disk: its directory ([`dir`]) and its manifest ([`manifest`]), which
//! records what it pinned and which phases are done.

pub mod dir;
pub mod manifest;
