//! `check summary`: per game date, how the stored structs break down
//! (`v_historical_completeness_daily`), how many records still have none, and why the
//! incomplete ones fall short: only a game missing upstream is a data gap.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field};
use chrono::NaiveDate;

use super::{Check, CheckOutput, Coverage};
use crate::error::{Error, Result};
use crate::hint::COMPLETENESS;
use crate::io::columns::{dates, i64s, insert_column};
use crate::model::count::{plural, thousands};
use crate::model::dates::DateRange;
use crate::model::reasons::{Reason, ReasonCounts};
use crate::ops::check::Source;
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
        let mut queries = vec![
            (Query::DailySummary, self.params()),
            Coverage::query(&self.range),
            (Query::IncompleteRecords, self.params()),
        ];
        queries.extend(crate::pipeline::gaps::reasons::queries(&self.range));
        queries
    }

    async fn run(&self, source: &Source) -> Result<CheckOutput> {
        let params = self.params();
        let (rows, coverage, incomplete) = futures::try_join!(
            source.run(Query::DailySummary, &params),
            Coverage::of(source, &self.range),
            source.run(Query::IncompleteRecords, &params),
        )?;
        let keys = crate::io::columns::record_keys(&incomplete)?;
        let reasons = crate::pipeline::gaps::reasons::reasons(source, &self.range, &keys).await?;
        let by_date = reasons.as_ref().map(|r| gaps_by_date(&keys, r));
        let sum = |name: &str| -> Result<u64> {
            Ok(i64s(&rows, name)?.into_iter().flatten().sum::<i64>() as u64)
        };
        let with_struct = i64s(&rows, "total_features")?;
        let counts: Option<ReasonCounts> = reasons.map(|r| r.into_iter().collect());
        let totals = SummaryTotals {
            dates: with_struct.iter().filter(|n| n.unwrap_or(0) > 0).count() as u64,
            total_features: sum("total_features")?,
            complete: sum("complete")?,
            incomplete: sum("incomplete")?,
            bootstrap: sum("bootstrap")?,
            without_struct: coverage.without_struct,
            dates_without_struct: coverage.dates_without_struct,
            data_gaps: counts.map(|c| c.data_gaps()),
            incomplete_by_reason: counts,
        };
        let mut notes = vec![format!(
            "{} with a struct on {}: {} complete, {} incomplete, {} bootstrap \
             (complete and bootstrap overlap)",
            plural(totals.total_features, "record", "records"),
            plural(totals.dates, "date", "dates"),
            thousands(totals.complete),
            thousands(totals.incomplete),
            thousands(totals.bootstrap)
        )];
        if totals.incomplete > 0 {
            let more = format!(
                "`{COMPLETENESS} check incomplete --start {} --end {}` gives each record its reason",
                self.range.start, self.range.end
            );
            notes.push(reasons_line(counts.as_ref(), Some(more)));
        }
        let rows = with_data_gaps(&rows, by_date.as_ref())?;
        let mut out = CheckOutput::over_range(self.name(), &self.range, &totals, notes, rows);
        out.coverage = Some(coverage);
        // The shares follow from the counts beside them.
        out.droppable = vec!["incomplete_pct", "complete_pct"];
        Ok(out)
    }
}

/// Why the incomplete records fall short; `more` says where to read on.
pub fn reasons_line(counts: Option<&ReasonCounts>, more: Option<String>) -> String {
    let Some(counts) = counts else {
        return "the incomplete records' reasons are unknown: the warehouse has no schedule \
                table, without which no missing game can be found (so none can be called a \
                data gap, nor ruled one out)"
            .to_string();
    };
    let more = more.map(|m| format!(" ({m})")).unwrap_or_default();
    format!(
        "incomplete, by reason: {}; only a data gap is a game missing upstream{more}",
        counts.summary()
    )
}

/// Data gaps per date.
fn gaps_by_date(keys: &[(String, NaiveDate)], reasons: &[Reason]) -> BTreeMap<NaiveDate, i64> {
    let mut out = BTreeMap::new();
    for ((_, day), reason) in keys.iter().zip(reasons) {
        *out.entry(*day).or_insert(0) += i64::from(reason.is_data_gap());
    }
    out
}

/// The summary rows with a `data_gaps` column after `incomplete` (NULL throughout
/// when the reasons are unknown).
fn with_data_gaps(
    rows: &[RecordBatch],
    by_date: Option<&BTreeMap<NaiveDate, i64>>,
) -> Result<Vec<RecordBatch>> {
    rows.iter()
        .map(|batch| {
            let days = dates(std::slice::from_ref(batch), "game_date")?;
            let gaps: Int64Array = days
                .iter()
                .map(|d| by_date.map(|m| d.and_then(|d| m.get(&d)).copied().unwrap_or(0)))
                .collect();
            let at = batch
                .schema()
                .index_of("incomplete")
                .map_err(Error::arrow("the daily summary has no incomplete column"))?
                + 1;
            let field = Field::new("data_gaps", DataType::Int64, true);
            let what = "adding data_gaps to the daily summary";
            insert_column(batch, at, field, Arc::new(gaps), what)
        })
        .collect()
}
