//! `completeness`: backfill and audit `historical_completeness` in an ML feature store.
//!
//! The folders are the architecture:
//!
//! - [`pipeline`]: a run, export → compute → diff → merge ([`pipeline::backfill`]), with
//!   the exact semantics of the five fields in [`pipeline::compute`];
//! - [`warehouse`]: the contract every backend meets, and the backends whole, local
//!   Delta ([`warehouse::delta`]) and BigQuery ([`warehouse::bigquery`]);
//! - [`ops`]: the operator tools (checks, gaps, spot checks, as-of, runs, doctor, views);
//! - [`report`]: the run's diff report and the daily report, as text, Markdown and HTML;
//! - [`run`]: a run directory and its manifest;
//! - [`io`]: DataFusion sessions, object stores, Parquet readers, durable writes;
//! - [`model`]: the tables' schemas, the struct column, dates and identifiers;
//! - [`cli`]: the command line (arguments, dispatch, output, signals, configuration);
//! - [`queries`]: the SQL of `queries/`; [`samples`]: the sample warehouse's generator.

pub mod cli;
pub mod config;
pub mod error;
pub mod failpoint;
pub mod io;
pub mod model;
pub mod ops;
pub mod pipeline;
pub mod queries;
pub mod report;
pub mod run;
pub mod samples;
pub mod warehouse;

pub use error::{Error, Result};
