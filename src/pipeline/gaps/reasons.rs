//! Why the INCOMPLETE records of a window fall short, asked of the warehouse: the rows
//! and team games the gap rule reads and the season starts, over exactly the dates a
//! backfill of the window exports, so a check and a run word the same record alike.

use chrono::{Days, NaiveDate};

use super::GapInputs;
use crate::error::Result;
use crate::model::dates::{DateRange, SeasonCalendar};
use crate::model::reasons::Reason;
use crate::model::{LOOKBACK_DAYS, WINDOW_DAYS};
use crate::queries::{Param, Query};
use crate::warehouse::Source;

/// The queries [`reasons`] runs for records in `range`, with their parameters.
pub fn queries(range: &DateRange) -> Vec<(Query, Vec<Param>)> {
    // The games a backfill exports (a year before the range), the team games its
    // extended column reads (60 days more), the season starts of its export.
    let rows = [
        Param::date("first", range.lookback_start()),
        Param::date("last", range.end),
    ];
    let first_team_game = range.start - Days::new((LOOKBACK_DAYS + WINDOW_DAYS) as u64);
    let teams = [
        Param::date("first", first_team_game),
        Param::date("last", range.end),
    ];
    vec![
        (Query::GapRows, rows.to_vec()),
        (Query::TeamGames, teams.to_vec()),
        (
            Query::SeasonStarts,
            crate::warehouse::exported::season_start_params(*range),
        ),
    ]
}

/// The reason of each record (INCOMPLETE, in `range`), in order; None when the
/// warehouse has no schedule, without which no missing game can be found.
pub async fn reasons(
    source: &Source,
    range: &DateRange,
    records: &[(String, NaiveDate)],
) -> Result<Option<Vec<Reason>>> {
    if !source.has_schedule() {
        return Ok(None);
    }
    if records.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let queries = queries(range);
    let run = |i: usize| source.run(queries[i].0, &queries[i].1);
    let (rows, teams, starts) = futures::try_join!(run(0), run(1), run(2))?;
    let inputs = GapInputs::from_batches(&rows, &teams)?;
    let calendar =
        SeasonCalendar::from_schedule(crate::warehouse::exported::starts_from_rows(&starts)?);
    Ok(Some(crate::pipeline::extended::incomplete_reasons(
        records, &inputs, &calendar,
    )))
}
