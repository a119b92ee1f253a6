//! The Delta Lake backend's own machinery: its log (history, the runs' transactions)
//! and the verified rewrite that every write of the tool goes through.

pub mod log;
pub mod rewrite;
pub mod splice;
