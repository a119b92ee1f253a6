//! Computing `historical_completeness_ext` ([`crate::model::extended_column`]), the
//! opt-in second struct (`backfill --extended`) that says what the five fields cannot:
//! which games are missing (by the schedule, see [`super::gaps`]), how old and how
//! spread the window is, which teams it covers, and why a record is not complete. The
//! five-field struct is never touched by it.

mod files;
mod rule;

pub use files::{by_key, write};
pub use rule::{STALE_SPAN_DAYS, extended, incomplete_reasons};
