//! `check cascade`: which records used a date, i.e. what to recompute after that date's
//! upstream rows are backfilled or corrected.
//!
//! A date with no upstream rows is in nobody's contributing list, so the list comes back
//! empty exactly when the date matters most (the weakness semantics.md names). The check
//! says so and counts the records whose 60-day window spans the date instead.

use crate::check::Source;
use chrono::NaiveDate;
use serde::Serialize;

use super::{Check, CheckOutput};
use crate::columns::{distinct, scalar_i64};
use crate::error::{Error, Result};
use crate::queries::{Param, Query};

#[derive(Debug, Clone, Copy)]
pub struct Cascade {
    pub backfill_date: NaiveDate,
    pub forward_days: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CascadeTotals {
    pub count: u64,
    pub unique_dates: u64,
    pub unique_players: u64,
    /// player_game_summary rows on the backfill date.
    pub upstream_rows_on_date: u64,
    /// Records in the forward window whose 60-day window contains the date.
    pub records_window_spans_date: u64,
}

impl Cascade {
    pub fn new(backfill_date: NaiveDate, forward_days: u32) -> Result<Cascade> {
        if !(1..=365).contains(&forward_days) {
            return Err(Error::input(format!(
                "--forward-days {forward_days}: must be between 1 and 365"
            )));
        }
        if backfill_date
            .checked_add_days(chrono::Days::new(u64::from(forward_days)))
            .is_none()
        {
            return Err(Error::input(format!(
                "--backfill-date {backfill_date} plus {forward_days} days is out of range"
            )));
        }
        Ok(Cascade {
            backfill_date,
            forward_days,
        })
    }

    fn until(&self) -> NaiveDate {
        self.backfill_date + chrono::Days::new(u64::from(self.forward_days))
    }

    fn params(&self) -> Vec<Param> {
        vec![
            Param::date("backfill_date", self.backfill_date),
            Param::date("until", self.until()),
        ]
    }
}

impl Check for Cascade {
    fn name(&self) -> &'static str {
        "cascade"
    }

    fn queries(&self) -> Vec<(Query, Vec<Param>)> {
        vec![
            (Query::Cascade, self.params()),
            (
                Query::UpstreamRowsOnDate,
                vec![Param::date("game_date", self.backfill_date)],
            ),
            (Query::CascadeWindowSpans, self.params()),
        ]
    }

    async fn run(&self, source: &Source) -> Result<CheckOutput> {
        let rows = source.run(Query::Cascade, &self.params()).await?;
        let upstream = source
            .run(
                Query::UpstreamRowsOnDate,
                &[Param::date("game_date", self.backfill_date)],
            )
            .await?;
        let spans = source
            .run(Query::CascadeWindowSpans, &self.params())
            .await?;
        let totals = CascadeTotals {
            count: crate::columns::num_rows(&rows) as u64,
            unique_dates: distinct(&rows, "game_date")?,
            unique_players: distinct(&rows, "player_lookup")?,
            upstream_rows_on_date: scalar_i64(&upstream, "game_rows")? as u64,
            records_window_spans_date: scalar_i64(&spans, "records")? as u64,
        };
        let notes = vec![format!(
            "{} records on {} dates ({} players) used {} (looking {} days ahead, to {})",
            totals.count,
            totals.unique_dates,
            totals.unique_players,
            self.backfill_date,
            self.forward_days,
            self.until()
        )];
        Ok(CheckOutput {
            check: self.name(),
            params: serde_json::json!({
                "backfill_date": self.backfill_date.to_string(),
                "forward_days": self.forward_days,
                "until": self.until().to_string(),
            }),
            totals: serde_json::to_value(&totals).expect("serializes"),
            notes,
            warnings: self.warnings(&totals),
            rows,
        })
    }
}

impl Cascade {
    fn warnings(&self, totals: &CascadeTotals) -> Vec<String> {
        if totals.upstream_rows_on_date > 0 {
            return Vec::new();
        }
        vec![format!(
            "{d} has no rows in player_game_summary, so it is in no record's contributing_game_dates \
             and a backfill of {d} cannot be detected from them: {n} records up to {until} have a \
             60-day window that spans {d} and may change once its rows exist; recompute them with \
             `completeness backfill --start {next} --end {until}` after backfilling {d}",
            d = self.backfill_date,
            n = totals.records_window_spans_date,
            until = self.until(),
            next = self.backfill_date + chrono::Days::new(1),
        )]
    }
}
