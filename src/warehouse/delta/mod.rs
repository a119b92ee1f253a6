//! The Delta Lake backend's own machinery: its log (history, the runs' transactions)
//! and the verified rewrite that every write of the tool goes through.

pub mod commit_rows;
pub mod export;
pub mod local;
pub mod log;
pub mod merge;
pub mod paths;
pub mod rewrite;
pub mod rollback;
pub mod rules;
pub mod run;
pub mod schema_change;
pub mod splice;
pub mod writable;
