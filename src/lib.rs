//! `completeness`: backfill and audit `historical_completeness` in an ML feature store.
//!
//! The pipeline is export → compute → diff → merge ([`backfill`]); each step is also a
//! small operation of its own. The exact semantics of the five fields are in
//! [`compute`]; the schemas in [`model`].

pub mod as_of;
pub mod backfill;
pub mod check;
pub mod cli;
pub mod columns;
pub mod commands;
pub mod commit_rows;
pub mod completeness_column;
pub mod compute;
pub mod config;
pub mod dates;
pub mod diff;
pub mod doctor;
pub mod durable;
pub mod engine;
pub mod error;
pub mod export;
pub mod extended;
pub mod failpoint;
pub mod gaps;
pub mod identifiers;
pub mod local_parquet;
pub mod manifest;
pub mod merge;
pub mod model;
pub mod queries;
pub mod remote_parquet;
pub mod report;
pub mod rollback;
pub mod run_dir;
pub mod runs;
pub mod samples;
pub mod signals;
pub mod spot_check;
pub mod staleness;
pub mod storage;
pub mod tally_check;
pub mod views;
pub mod warehouse;

pub use error::{Error, Result};
