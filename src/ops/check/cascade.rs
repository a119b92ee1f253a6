//! `check cascade`: which records used a date, i.e. what to recompute after that date's
//! upstream rows are backfilled or corrected.
//!
//! A date with no upstream rows is in nobody's contributing list, so the list comes back
//! empty exactly when the date matters most (the weakness semantics.md names). So the
//! check also answers the what-if: the date's missing rows, found from the schedule
//! ([`crate::pipeline::gaps`]), and the records whose struct would change if they were backfilled.

use crate::model::count::thousands;
use crate::ops::check::Source;
use chrono::{Days, NaiveDate};
use serde::Serialize;

use super::{Check, CheckOutput, Coverage};
use crate::error::{Error, Result};
use crate::hint::COMPLETENESS;
use crate::io::columns::{distinct, scalar_i64};
use crate::model::dates::DateRange;
use crate::model::{LOOKBACK_DAYS, WINDOW_DAYS};
use crate::ops::what_if::WhatIf;
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
    /// Rows missing on the date (players with rows for their team before and after it).
    pub missing_rows_on_date: u64,
    /// Records in the forward window whose struct would change if they were backfilled.
    pub records_would_change: u64,
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

    /// Rows the what-if reads: a year before the date (the windows), and half a year
    /// after the forward window (the rows that close a gap may come after a break).
    fn gap_rows_range(&self) -> (NaiveDate, NaiveDate) {
        let first = self.backfill_date - Days::new(LOOKBACK_DAYS as u64);
        (first, self.until() + Days::new(AFTER_DAYS))
    }

    fn gap_params(&self) -> Vec<Param> {
        let (first, last) = self.gap_rows_range();
        vec![Param::date("first", first), Param::date("last", last)]
    }

    /// The forward window: the records that could have used the date.
    fn forward(&self) -> DateRange {
        DateRange {
            start: self.backfill_date + Days::new(1),
            end: self.until(),
        }
    }

    fn record_params(&self) -> Vec<Param> {
        let first = self.backfill_date + Days::new(1);
        vec![
            Param::date("first", first),
            Param::date("last", self.until()),
        ]
    }

    async fn what_if(&self, source: &Source) -> Result<WhatIf> {
        let (first, last) = self.gap_rows_range();
        let inputs = crate::pipeline::gaps::load(source, first, last).await?;
        let keys = source
            .run(Query::FeatureKeys, &self.record_params())
            .await?;
        let records = crate::io::columns::record_keys(&keys)?;
        Ok(crate::ops::what_if::what_if(
            &inputs,
            &records,
            self.backfill_date,
        ))
    }
}

/// Days after the forward window searched for the row that closes a gap.
const AFTER_DAYS: u64 = 180;

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
            (Query::GapRows, self.gap_params()),
            (Query::TeamGames, self.gap_params()),
            (Query::FeatureKeys, self.record_params()),
            Coverage::query(&self.forward()),
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
        let what_if = self.what_if(source).await?;
        let coverage = Coverage::of(source, &self.forward()).await?;
        let totals = CascadeTotals {
            count: crate::io::columns::num_rows(&rows) as u64,
            unique_dates: distinct(&rows, "game_date")?,
            unique_players: distinct(&rows, "player_lookup")?,
            upstream_rows_on_date: scalar_i64(&upstream, "game_rows")? as u64,
            records_window_spans_date: scalar_i64(&spans, "records")? as u64,
            missing_rows_on_date: what_if.missing.len() as u64,
            records_would_change: what_if.would_change.len() as u64,
        };
        let mut notes = vec![format!(
            "{} records on {} dates ({} players) used {} (looking {} days ahead, to {})",
            thousands(totals.count),
            thousands(totals.unique_dates),
            thousands(totals.unique_players),
            self.backfill_date,
            self.forward_days,
            self.until()
        )];
        notes.push(self.what_if_line(&totals));
        // A date without rows may simply lie after the data: say so, not "backfill it".
        let newest = match totals.upstream_rows_on_date {
            0 => {
                let today = chrono::Utc::now().date_naive();
                crate::ops::data_end::newest_feature_date(source, today.max(self.backfill_date))
                    .await?
                    .newest()
            }
            _ => None,
        };
        Ok(CheckOutput {
            check: self.name(),
            params: serde_json::json!({
                "backfill_date": self.backfill_date.to_string(),
                "forward_days": self.forward_days,
                "until": self.until().to_string(),
            }),
            coverage: Some(coverage),
            totals: serde_json::to_value(&totals).expect("serializes"),
            notes,
            warnings: self.warnings(&totals, newest),
            details: serde_json::json!({"what_if": what_if}),
            droppable: Vec::new(),
            rows,
        })
    }
}

impl Cascade {
    fn what_if_line(&self, totals: &CascadeTotals) -> String {
        if totals.missing_rows_on_date == 0 {
            return format!(
                "no rows found missing on {} (by the schedule and each player's rows before and after it)",
                self.backfill_date
            );
        }
        format!(
            "what if: {} rows are missing on {}; backfilling them would change {} records up to {}",
            thousands(totals.missing_rows_on_date),
            self.backfill_date,
            thousands(totals.records_would_change),
            self.until()
        )
    }

    /// `newest`: the newest game_date of the feature table, asked when the date has no
    /// rows (None when the table has none).
    fn warnings(&self, totals: &CascadeTotals, newest: Option<NaiveDate>) -> Vec<String> {
        if totals.upstream_rows_on_date > 0 {
            return Vec::new();
        }
        if newest.is_none_or(|n| self.backfill_date > n) {
            let data = newest.map_or("the feature table has no records".to_string(), |n| {
                format!("the newest game_date in the feature table is {n}")
            });
            return vec![format!(
                "{} is after the data ({data}): no record can have used it yet, and there is \
                 nothing to backfill",
                self.backfill_date
            )];
        }
        vec![format!(
            "{d} has no rows in player_game_summary, so it is in no record's contributing_game_dates \
             and a backfill of {d} cannot be detected from them: by the schedule {m} rows are missing \
             and {c} records up to {until} would change once they exist ({n} have a 60-day window \
             that spans {d}); after backfilling {d}, recompute every record whose 60-day window \
             can hold it with `{COMPLETENESS} backfill --start {next} --end {last}`",
            d = self.backfill_date,
            m = thousands(totals.missing_rows_on_date),
            c = thousands(totals.records_would_change),
            n = thousands(totals.records_window_spans_date),
            until = self.until(),
            next = self.backfill_date + chrono::Days::new(1),
            last = self.backfill_date + chrono::Days::new(WINDOW_DAYS as u64),
        )]
    }
}
