//! What gap detection reads: player_game_summary rows as (player, date, team), which of
//! each team's games list their whole roster, and the schedule's team games, from either
//! warehouse (or from batches with those columns).
//!
//! The rows are kept grouped by player, sorted, with teams as ids: half a million rows
//! are read from their Arrow columns in place (a `String` per row and a hash per row and
//! rule made the reasons of a scale-10 dry run cost more than its compute).

use arrow::array::{Array, RecordBatch};
use chrono::NaiveDate;

use super::TeamGames;
use crate::error::{Error, Result};
use crate::io::columns::{bools, date_arrays, string_arrays};
use crate::model::{GAMEBOOK, days_to_date};
use crate::pipeline::FastMap;
use crate::queries::{Param, Query};
use crate::warehouse::Source;

/// A team of the rows, by id; ids follow the names' order, so rows sort as by name.
pub type TeamId = u32;

/// Rows and team games over a date range.
#[derive(Debug, Clone, Default)]
pub struct GapInputs {
    /// Each player's rows `(date, team)`, sorted; a repeated row is kept.
    players: FastMap<Box<str>, Vec<(NaiveDate, TeamId)>>,
    /// Team names by id.
    team_names: Vec<Box<str>>,
    /// Every `(team, date)` with rows: whether the game lists the team's whole roster.
    /// The gamebook does (DNP and inactive players included); box-score sources write
    /// the players who played only.
    team_days: FastMap<(TeamId, NaiveDate), bool>,
    pub teams: TeamGames,
}

impl GapInputs {
    /// Rows whose games all list their rosters (as gamebook games do).
    pub fn new(rows: Vec<(String, NaiveDate, String)>, teams: TeamGames) -> GapInputs {
        let flags = vec![true; rows.len()];
        GapInputs::with_flags(rows, flags, teams)
    }

    /// Rows, each with whether its game lists the team's whole roster.
    pub fn with_flags(
        rows: Vec<(String, NaiveDate, String)>,
        lists_roster: Vec<bool>,
        teams: TeamGames,
    ) -> GapInputs {
        let mut builder = Builder::default();
        for ((p, d, t), flag) in rows.iter().zip(lists_roster) {
            builder.push(p, *d, t, flag);
        }
        builder.finish(teams)
    }

    /// From batches with player_game_summary's and the schedule view's column names.
    /// The schedule batches are team games: the rows of `queries/team_games.sql` (final
    /// regular-season and postseason games), not the whole view. The games need
    /// `player_lookup, game_date, team_abbr` and either `lists_roster` (from
    /// `queries/gap_rows.sql`) or the columns it is made of (`primary_source_used`,
    /// `is_active`, `is_dnp`); without those every game counts as listing its roster.
    pub fn from_batches(games: &[RecordBatch], schedule: &[RecordBatch]) -> Result<GapInputs> {
        let listed = lists_roster(games)?;
        let players = string_arrays(games, "player_lookup")?;
        let teams = string_arrays(games, "team_abbr")?;
        let days = date_arrays(games, "game_date")?;
        let mut builder = Builder::default();
        let mut row = 0;
        for ((p, t), d) in players.iter().zip(&teams).zip(&days) {
            for i in 0..p.len() {
                let flag = listed.as_ref().is_none_or(|f| f[row + i]);
                if p.is_valid(i) && t.is_valid(i) && d.is_valid(i) {
                    builder.push(p.value(i), days_to_date(d.value(i)), t.value(i), flag);
                }
            }
            row += p.len();
        }
        Ok(builder.finish(TeamGames::from_batches(schedule)?))
    }

    /// Every player with rows, with them (date, team), sorted.
    pub fn players(&self) -> impl Iterator<Item = (&str, &[(NaiveDate, TeamId)])> {
        self.players.iter().map(|(p, rows)| (&**p, rows.as_slice()))
    }

    /// One player's rows (date, team), sorted; none for a player without rows.
    pub fn rows_of(&self, player: &str) -> &[(NaiveDate, TeamId)] {
        self.players.get(player).map_or(&[], Vec::as_slice)
    }

    /// The team's name.
    pub fn team(&self, id: TeamId) -> &str {
        &self.team_names[id as usize]
    }

    /// Whether the team's game on `date` lists its whole roster: it has a row of a
    /// player who did not play, or no rows at all (a game lost whole lists nobody, and
    /// every player of it is missing).
    pub fn lists_roster(&self, team: &str, date: NaiveDate) -> bool {
        // Team ids are positions in the sorted names; a team without rows has no id.
        match self.team_names.binary_search_by(|t| (**t).cmp(team)) {
            Ok(id) => self.team_lists_roster(id as TeamId, date),
            Err(_) => true,
        }
    }

    /// [`GapInputs::lists_roster`] by the team's id.
    pub(crate) fn team_lists_roster(&self, team: TeamId, date: NaiveDate) -> bool {
        self.team_days
            .get(&(team, date))
            .is_none_or(|listed| *listed)
    }
}

/// Collects rows by player and team name, borrowing the names until `finish`.
#[derive(Default)]
struct Builder<'a> {
    players: FastMap<&'a str, usize>,
    rows: Vec<Vec<(NaiveDate, TeamId)>>,
    names: Vec<&'a str>,
    /// The last player pushed (rows often come grouped by player): no hash for a repeat.
    last: Option<(&'a str, usize)>,
    teams: FastMap<&'a str, TeamId>,
    team_days: FastMap<(TeamId, NaiveDate), bool>,
}

impl<'a> Builder<'a> {
    fn push(&mut self, player: &'a str, date: NaiveDate, team: &'a str, lists_roster: bool) {
        let next = self.teams.len() as TeamId;
        let team = *self.teams.entry(team).or_insert(next);
        *self.team_days.entry((team, date)).or_default() |= lists_roster;
        let p = match self.last {
            Some((last, p)) if last == player => p,
            _ => {
                let next = self.rows.len();
                let p = *self.players.entry(player).or_insert(next);
                if p == next {
                    self.rows.push(Vec::new());
                    self.names.push(player);
                }
                self.last = Some((player, p));
                p
            }
        };
        self.rows[p].push((date, team));
    }

    /// Team ids renumbered in name order, each player's rows sorted.
    fn finish(self, teams: TeamGames) -> GapInputs {
        let mut by_name: Vec<(&str, TeamId)> = self.teams.into_iter().collect();
        by_name.sort_unstable();
        let mut rank = vec![0; by_name.len()];
        for (r, (_, id)) in by_name.iter().enumerate() {
            rank[*id as usize] = r as TeamId;
        }
        let players = self
            .names
            .into_iter()
            .zip(self.rows)
            .map(|(name, mut rows)| {
                for (_, team) in rows.iter_mut() {
                    *team = rank[*team as usize];
                }
                rows.sort_unstable();
                (Box::from(name), rows)
            })
            .collect();
        let team_days = self
            .team_days
            .into_iter()
            .map(|((team, date), listed)| ((rank[team as usize], date), listed))
            .collect();
        GapInputs {
            players,
            team_names: by_name.into_iter().map(|(name, _)| name.into()).collect(),
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
        true => string_arrays(games, "primary_source_used")?
            .iter()
            .flat_map(|a| (0..a.len()).map(|i| a.is_valid(i) && a.value(i) == GAMEBOOK))
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
