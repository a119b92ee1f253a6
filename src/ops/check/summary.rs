//! `check summary`: per game date, how the stored structs break down
//! (`v_historical_completeness_daily`), plus how many records still have none.

use crate::model::count::thousands;
use crate::ops::check::Source;
use chrono::NaiveDate;

use super::{Check, CheckOutput};
use crate::error::{Error, Result};
use crate::io::columns::{dates, i64s, scalar_i64};
use crate::model::dates::DateRange;
use crate::queries::{Param, Query};
use crate::report::daily::SummaryTotals;

/// The daily summary over `days` days ending on `end`.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub range: DateRange,
}

impl Summary {
    /// `days` days ending on `end` (inclusive).
    pub fn new(end: NaiveDate, days: u32) -> Result<Summary> {
        if days == 0 {
            return Err(Error::input("--days must be at least 1"));
        }
        let start = end
            .checked_sub_days(chrono::Days::new(u64::from(days) - 1))
            .ok_or_else(|| Error::input(format!("--days {days} before {end} is out of range")))?;
        Ok(Summary {
            range: DateRange::new(start, end)?,
        })
    }

    fn params(&self) -> Vec<Param> {
        Param::range(&self.range)
    }
}

impl Check for Summary {
    fn name(&self) -> &'static str {
        "summary"
    }

    fn queries(&self) -> Vec<(Query, Vec<Param>)> {
        vec![
            (Query::DailySummary, self.params()),
            (Query::MissingStructs, self.params()),
        ]
    }

    async fn run(&self, source: &Source) -> Result<CheckOutput> {
        let rows = source.run(Query::DailySummary, &self.params()).await?;
        let missing = source.run(Query::MissingStructs, &self.params()).await?;
        let sum = |name: &str| -> Result<u64> {
            Ok(i64s(&rows, name)?.into_iter().flatten().sum::<i64>() as u64)
        };
        let totals = SummaryTotals {
            dates: dates(&rows, "game_date")?.len() as u64,
            total_features: sum("total_features")?,
            complete: sum("complete")?,
            incomplete: sum("incomplete")?,
            bootstrap: sum("bootstrap")?,
            without_struct: scalar_i64(&missing, "records")? as u64,
            dates_without_struct: scalar_i64(&missing, "dates")? as u64,
        };
        let mut notes = vec![format!(
            "{} dates, {} records with a struct: {} complete, {} incomplete (data gaps), {} bootstrap",
            thousands(totals.dates),
            thousands(totals.total_features),
            thousands(totals.complete),
            thousands(totals.incomplete),
            thousands(totals.bootstrap)
        )];
        notes.push(progress_line(&totals, &self.range));
        Ok(CheckOutput::over_range(
            self.name(),
            &self.range,
            &totals,
            notes,
            rows,
        ))
    }
}

/// The backfill's progress: records in the window that still have no struct.
fn progress_line(totals: &SummaryTotals, range: &DateRange) -> String {
    if totals.total_features == 0 && totals.without_struct == 0 {
        return format!(
            "warning: no feature records between {} and {}: the window holds no data (check --end)",
            range.start, range.end
        );
    }
    if totals.without_struct == 0 {
        return "every record in the window has a struct".to_string();
    }
    format!(
        "{} records on {} dates still have no struct: run `completeness backfill --start {} --end {} --include-bootstrap` (without --include-bootstrap the first 14 days of a season are skipped)",
        thousands(totals.without_struct),
        thousands(totals.dates_without_struct),
        range.start,
        range.end
    )
}
