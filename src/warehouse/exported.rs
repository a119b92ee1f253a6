//! What every export writes, whichever the backend: the columns read from each table,
//! and the season starts (the bootstrap dates) read from the schedule.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use chrono::NaiveDate;

use crate::error::Result;
use crate::model::dates::DateRange;
use crate::model::{
    DATA_SOURCE, GAME_DATE, HISTORICAL_COMPLETENESS, LOOKBACK_DAYS, PLAYER_LOOKUP, UPDATED_AT,
    WINDOW_DAYS,
};
use crate::queries::Param;

/// Columns of the feature table the run reads.
pub const FEATURE_COLUMNS: [&str; 5] = [
    PLAYER_LOOKUP,
    GAME_DATE,
    DATA_SOURCE,
    UPDATED_AT,
    HISTORICAL_COMPLETENESS,
];
/// Columns of player_game_summary the run reads (the first two are required; the rest,
/// exported when present, feed gap detection for `--extended`).
pub const GAME_COLUMNS: [&str; 7] = [
    PLAYER_LOOKUP,
    GAME_DATE,
    "game_id",
    "team_abbr",
    "is_active",
    "is_dnp",
    "primary_source_used",
];

/// `$first`/`$last` of `queries/season_starts.sql` for `range`.
pub fn season_start_params(range: DateRange) -> Vec<Param> {
    let (first, last) = range.season_starts_window();
    vec![Param::date("first", first), Param::date("last", last)]
}

/// The schedule dates the extended structs of `range` need (`queries/team_games.sql`):
/// a year and 60 days back.
pub fn team_games_params(range: DateRange) -> Vec<Param> {
    let first = range.start - chrono::Days::new((LOOKBACK_DAYS + WINDOW_DAYS) as u64);
    vec![Param::date("first", first), Param::date("last", range.end)]
}

/// `season_year → first_day` from the rows of `queries/season_starts.sql`.
pub fn starts_from_rows(rows: &[RecordBatch]) -> Result<BTreeMap<i32, NaiveDate>> {
    let years = crate::io::columns::i64s(rows, "season_year")?;
    let days = crate::io::columns::dates(rows, "first_day")?;
    Ok(years
        .into_iter()
        .zip(days)
        .filter_map(|(y, d)| Some((i32::try_from(y?).ok()?, d?)))
        .collect())
}
