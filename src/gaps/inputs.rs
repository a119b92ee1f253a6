//! What gap detection reads: player_game_summary rows as (player, date, team) and the
//! schedule's team games, from either warehouse (or from batches with those columns).

use arrow::array::RecordBatch;
use chrono::NaiveDate;

use super::TeamGames;
use crate::check::Source;
use crate::columns::{dates, strings};
use crate::error::{Error, Result};
use crate::queries::{Param, Query};

/// Rows and team games over a date range.
#[derive(Debug, Clone, Default)]
pub struct GapInputs {
    /// `(player_lookup, game_date, team_abbr)`, NULLs dropped.
    pub rows: Vec<(String, NaiveDate, String)>,
    pub teams: TeamGames,
}

impl GapInputs {
    /// From batches with player_game_summary's and nba_schedule's column names.
    pub fn from_batches(games: &[RecordBatch], schedule: &[RecordBatch]) -> Result<GapInputs> {
        let rows = strings(games, "player_lookup")?
            .into_iter()
            .zip(dates(games, "game_date")?)
            .zip(strings(games, "team_abbr")?)
            .filter_map(|((p, d), t)| Some((p?, d?, t?)))
            .collect();
        let games = dates(schedule, "game_date")?
            .into_iter()
            .zip(strings(schedule, "game_id")?)
            .zip(strings(schedule, "home_team_abbr")?)
            .zip(strings(schedule, "away_team_abbr")?)
            .filter_map(|(((d, id), h), a)| Some((d?, id?, h?, a?)));
        Ok(GapInputs {
            rows,
            teams: TeamGames::new(games),
        })
    }
}

/// The inputs for `[first, last]` from the warehouse behind `source`.
pub async fn load(source: &Source, first: NaiveDate, last: NaiveDate) -> Result<GapInputs> {
    if let Source::Local(ctx) = source
        && !ctx.table_exist("schedule").unwrap_or(false)
    {
        return Err(Error::input(
            "gap detection needs the schedule table (nba_reference/nba_schedule), and the warehouse has none",
        ));
    }
    let params = [Param::date("first", first), Param::date("last", last)];
    let games = source.run(Query::GapRows, &params).await?;
    let schedule = source.run(Query::TeamGames, &params).await?;
    GapInputs::from_batches(&games, &schedule)
}
