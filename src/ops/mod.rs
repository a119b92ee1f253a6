//! The operator tools: questions about the stored structs ([`check`], [`what_if`],
//! [`spot_check`], [`as_of`]), the [`daily`] report's data, where their default windows
//! end ([`data_end`]), the runs made ([`runs`], [`prune`]), the set-up ([`doctor`]) and
//! the BigQuery views ([`views`]).

pub mod as_of;
pub mod check;
pub mod daily;
pub mod data_end;
pub mod doctor;
pub mod prune;
pub mod runs;
pub mod spot_check;
pub mod views;
pub mod what_if;
