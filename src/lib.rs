//! `completeness`: backfill and audit `historical_completeness` in an ML feature store.
//!
//! The folders are the architecture, top layer first (each imports only the layers
//! below it; `tests/it/imports.rs` checks it):
//!
//! - [`cli`]: the command line (arguments, dispatch, output, signals);
//! - [`samples`]: the sample warehouse's generator;
//! - [`ops`]: the operator tools (checks, what-if, spot checks, as-of, the daily
//!   report's data, runs, doctor, views);
//! - [`config`]: the settings (file, flags, environment);
//! - [`pipeline`]: a run, export → compute → diff → merge ([`pipeline::backfill`]), with
//!   the exact semantics of the five fields in [`pipeline::compute`] and the gap rule in
//!   [`pipeline::gaps`];
//! - [`warehouse`]: the contract every backend meets, and the backends whole, local
//!   Delta ([`warehouse::delta`]) and BigQuery ([`warehouse::bigquery`]);
//! - [`run`]: a run directory and its manifest;
//! - [`io`]: DataFusion sessions, object stores, Parquet readers, durable writes;
//! - [`queries`]: the SQL of `queries/`;
//! - [`report`]: renders what the pipeline and the operations hand it (the run's diff
//!   report, the daily report) as text, Markdown and HTML; imports only [`model`];
//! - [`model`]: facts of the data: the tables' schemas, the struct columns,
//!   `changes.parquet`, dates and identifiers;
//! - [`error`] and [`failpoint`]: leaves every layer may use.

pub mod cli;
pub mod config;
pub mod error;
pub mod failpoint;
pub mod hint;
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
