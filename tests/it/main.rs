//! Integration tests, one binary (see the modules for what each covers).

mod as_of;
mod backfill;
mod bad_input;
mod bigquery;
mod browser;
mod cli_output;
mod compat;
mod concurrent;
mod corpus;
// Kill points and fault injection exist only in a `test-hooks` build (scripts/test).
#[cfg(feature = "test-hooks")]
mod crash;
mod extended;
mod features;
mod foreign;
mod fuzz;
mod gaps;
mod hints;
mod imports;
mod operator;
mod oracle;
mod parity;
mod partition_filter;
mod prune;
mod pushdown;
mod queries_slt;
mod random_warehouse;
mod release;
mod run_report;
mod safety;
mod support;
