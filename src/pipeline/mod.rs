//! A run: export → compute → diff → merge ([`backfill`]), each phase an operation of
//! its own, with the checks that guard it ([`tally_check`], [`staleness`]), and what
//! `--extended` adds ([`extended`], from the upstream [`gaps`] the schedule reveals).

pub mod backfill;
pub mod compute;
pub mod diff;
pub mod extended;
pub mod gaps;
pub mod staleness;
pub mod tally_check;
