//! The operator tools: questions about the stored structs ([`check`], [`gaps`],
//! [`spot_check`], [`as_of`]), the runs made ([`runs`]), the set-up ([`doctor`]) and the
//! BigQuery views ([`views`]).

pub mod as_of;
pub mod check;
pub mod doctor;
pub mod gaps;
pub mod runs;
pub mod spot_check;
pub mod views;
