//! What gap detection reads: player_game_summary rows as (player, date, team), which of
//! each team's games list their whole roster, and the schedule's team games, from either
//! warehouse (or from batches with those columns).

use std::collections::HashMap;

use arrow::array::RecordBatch;
use chrono::NaiveDate;

use super::TeamGames;
use crate::error::{Error, Result};
use crate::io::columns::{bools, dates, strings};
use crate::model::GAMEBOOK;
use crate::queries::{Param, Query};
use crate::warehouse::Source;

/// Rows and team games over a date range.
#[derive(Debug, Clone, Default)]
pub struct GapInputs {
    /// `(player_lookup, game_date, team_abbr)`, NULLs dropped.
    pub rows: Vec<(String, NaiveDate, String)>,
    /// Every `(team, date)` with rows: whether the game lists the team's whole roster.
    /// The gamebook does (DNP and inactive players included); box-score sources write
    /// the players who played only.
    pub team_days: HashMap<(String, NaiveDate), bool>,
    pub teams: TeamGames,
}

impl GapInputs {
    /// Rows whose games all list their rosters (as gamebook games do).
    pub fn new(rows: Vec<(String, NaiveDate, String)>, teams: TeamGames) -> GapInputs {
        let flags = vec![true; rows.len()];
        GapInputs::with_flags(rows, flags, teams)
    }

    /// From batches with player_game_summary's and the schedule view's column names.
    /// The schedule batches are team games: the rows of `queries/team_games.sql` (final
    /// regular-season and postseason games), not the whole view. The games need
    /// `player_lookup, game_date, team_abbr` and either `lists_roster` (from
    /// `queries/gap_rows.sql`) or the columns it is made of (`primary_source_used`,
    /// `is_active`, `is_dnp`); without those every game counts as listing its roster.
    pub fn from_batches(games: &[RecordBatch], schedule: &[RecordBatch]) -> Result<GapInputs> {
        let mut rows = Vec::new();
        let mut flags = Vec::new();
        let listed = lists_roster(games)?;
        for (i, ((p, d), t)) in strings(games, "player_lookup")?
            .into_iter()
            .zip(dates(games, "game_date")?)
            .zip(strings(games, "team_abbr")?)
            .enumerate()
        {
            if let (Some(p), Some(d), Some(t)) = (p, d, t) {
                rows.push((p, d, t));
                flags.push(listed.as_ref().is_none_or(|f| f[i]));
            }
        }
        let games = dates(schedule, "game_date")?
            .into_iter()
            .zip(strings(schedule, "game_id")?)
            .zip(strings(schedule, "home_team_tricode")?)
            .zip(strings(schedule, "away_team_tricode")?)
            .filter_map(|(((d, id), h), a)| Some((d?, id?, h?, a?)));
        Ok(GapInputs::with_flags(rows, flags, TeamGames::new(games)))
    }

    /// Whether the team's game on `date` lists its whole roster: it has a row of a
    /// player who did not play, or no rows at all (a game lost whole lists nobody, and
    /// every player of it is missing).
    pub fn lists_roster(&self, team: &str, date: NaiveDate) -> bool {
        self.team_days
            .get(&(team.to_string(), date))
            .is_none_or(|listed| *listed)
    }

    pub(crate) fn with_flags(
        rows: Vec<(String, NaiveDate, String)>,
        lists_roster: Vec<bool>,
        teams: TeamGames,
    ) -> GapInputs {
        let mut team_days: HashMap<(String, NaiveDate), bool> = HashMap::new();
        for ((_, d, t), flag) in rows.iter().zip(lists_roster) {
            *team_days.entry((t.clone(), *d)).or_default() |= flag;
        }
        GapInputs {
            rows,
            team_days,
            teams,
        }
    }
}

/// Per row, whether it shows its game lists the whole roster: the `lists_roster` column
/// of `queries/gap_rows.sql`, else a gamebook row or a row of a player who did not play
/// (`NOT is_active OR is_dnp`); None without those columns.
fn lists_roster(games: &[RecordBatch]) -> Result<Option<Vec<bool>>> {
    let has = |c: &str| games.first().is_some_and(|b| b.column_by_name(c).is_some());
    if has("lists_roster") {
        let flags = bools(games, "lists_roster")?;
        return Ok(Some(flags.into_iter().map(|f| f == Some(true)).collect()));
    }
    if !has("is_active") && !has("primary_source_used") {
        return Ok(None);
    }
    let rows: usize = games.iter().map(RecordBatch::num_rows).sum();
    let column = |c: &str| -> Result<Vec<Option<bool>>> {
        match has(c) {
            true => bools(games, c),
            false => Ok(vec![None; rows]),
        }
    };
    let gamebook: Vec<bool> = match has("primary_source_used") {
        true => strings(games, "primary_source_used")?
            .into_iter()
            .map(|s| s.as_deref() == Some(GAMEBOOK))
            .collect(),
        false => vec![false; rows],
    };
    let flags = column("is_active")?
        .into_iter()
        .zip(column("is_dnp")?)
        .zip(gamebook)
        .map(|((active, dnp), gamebook)| gamebook || active == Some(false) || dnp == Some(true))
        .collect();
    Ok(Some(flags))
}

/// The inputs for `[first, last]` from the warehouse behind `source`.
pub async fn load(source: &Source, first: NaiveDate, last: NaiveDate) -> Result<GapInputs> {
    if !source.has_schedule() {
        return Err(Error::input(
            "gap detection needs the schedule table (nba_reference/nba_schedule), and the warehouse has none",
        ));
    }
    let params = [Param::date("first", first), Param::date("last", last)];
    let games = source.run(Query::GapRows, &params).await?;
    let schedule = source.run(Query::TeamGames, &params).await?;
    GapInputs::from_batches(&games, &schedule)
}
