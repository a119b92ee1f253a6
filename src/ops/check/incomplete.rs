//! `check incomplete`: the records that are neither complete nor bootstrap
//! (`v_incomplete_features`, what production calls data gaps), worst first on the
//! newest dates, each with the reason its window is short. Only `missing_games` is a
//! data gap: most incomplete records are early in a season or back from an absence.

use std::sync::Arc;

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field};
use serde::Serialize;

use super::summary::reasons_line;
use super::{Check, CheckOutput, Coverage};
use crate::error::Result;
use crate::hint::COMPLETENESS;
use crate::io::columns::record_keys;
use crate::io::columns::{distinct, i64s, insert_column};
use crate::model::count::plural;
use crate::model::dates::DateRange;
use crate::model::reasons::{Reason, ReasonCounts};
use crate::ops::check::Source;
use crate::queries::{Param, Query};

#[derive(Debug, Clone, Copy)]
pub struct Incomplete {
    pub range: DateRange,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IncompleteTotals {
    pub count: u64,
    pub unique_dates: u64,
    pub unique_players: u64,
    /// Sum of games_expected − games_found: how far the windows fall short of what the
    /// struct expects, not games missing upstream (those are `data_gaps`' games).
    pub total_games_missing: u64,
    /// Records whose window lacks a game of the player's team that has no row for him;
    /// None without a schedule.
    pub data_gaps: Option<u64>,
    /// Every record by reason; None without a schedule.
    pub by_reason: Option<ReasonCounts>,
}

impl Incomplete {
    fn params(&self) -> Vec<Param> {
        Param::range(&self.range)
    }
}

impl Check for Incomplete {
    fn name(&self) -> &'static str {
        "incomplete"
    }

    fn queries(&self) -> Vec<(Query, Vec<Param>)> {
        let mut queries = vec![
            Coverage::query(&self.range),
            (Query::IncompleteRecords, self.params()),
        ];
        queries.extend(crate::pipeline::gaps::reasons::queries(&self.range));
        queries
    }

    async fn run(&self, source: &Source) -> Result<CheckOutput> {
        let params = self.params();
        let (coverage, rows) = futures::try_join!(
            Coverage::of(source, &self.range),
            source.run(Query::IncompleteRecords, &params),
        )?;
        let keys = record_keys(&rows)?;
        let reasons = crate::pipeline::gaps::reasons::reasons(source, &self.range, &keys).await?;
        let counts: Option<ReasonCounts> = reasons.as_ref().map(|r| r.iter().copied().collect());
        let totals = IncompleteTotals {
            count: crate::io::columns::num_rows(&rows) as u64,
            unique_dates: distinct(&rows, "game_date")?,
            unique_players: distinct(&rows, "player_lookup")?,
            total_games_missing: i64s(&rows, "games_missing")?
                .into_iter()
                .flatten()
                .sum::<i64>() as u64,
            data_gaps: counts.map(|c| c.data_gaps()),
            by_reason: counts,
        };
        let mut notes = vec![format!(
            "{} on {} ({}), {} short of their games_expected in all",
            plural(totals.count, "incomplete record", "incomplete records"),
            plural(totals.unique_dates, "date", "dates"),
            plural(totals.unique_players, "player", "players"),
            plural(totals.total_games_missing, "game", "games"),
        )];
        if totals.count > 0 {
            notes.push(reasons_line(counts.as_ref(), None));
            if totals.data_gaps.is_some_and(|n| n > 0) {
                notes.push(format!(
                    "the games missing upstream, and the backfill to run once they are restored: \
                     `{COMPLETENESS} check gaps --start {} --end {}`",
                    self.range.start, self.range.end
                ));
            }
        }
        let rows = with_reasons(&rows, reasons.as_deref())?;
        let mut out = CheckOutput::over_range(self.name(), &self.range, &totals, notes, rows);
        out.coverage = Some(coverage);
        Ok(out)
    }
}

/// The rows with a `reason` column (NULL throughout when the reasons are unknown).
fn with_reasons(rows: &[RecordBatch], reasons: Option<&[Reason]>) -> Result<Vec<RecordBatch>> {
    // One reason per row (keys are never NULL in the feature table; if one were, no
    // row would get a reason rather than the wrong one).
    let reasons = reasons.filter(|r| r.len() == crate::io::columns::num_rows(rows));
    let mut next = 0;
    rows.iter()
        .map(|batch| {
            let n = batch.num_rows();
            let column: StringArray = (next..next + n)
                .map(|i| reasons.and_then(|r| r.get(i)).map(|r| r.code()))
                .collect();
            next += n;
            // After games_missing, before the (long) list of dates.
            let at = batch.num_columns().saturating_sub(1);
            let field = Field::new("reason", DataType::Utf8, true);
            insert_column(batch, at, field, Arc::new(column), "adding the reasons")
        })
        .collect()
}
