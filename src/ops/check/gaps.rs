//! `check gaps`: the upstream gaps themselves, per game and team: the players with no
//! row (by the rule of [`crate::pipeline::gaps`]), ranked by how many feature records in the range
//! have the game in their 60-day window, each with the backfill to run once the rows are
//! restored upstream. Absences from games that list only the players who played
//! (box-score sources) are "cannot tell": counted, and listed under `details.cannot_tell`
//! in JSON, never flagged.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Array, Int64Array, ListArray, ListBuilder, RecordBatch, StringArray,
    StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema};
use chrono::{Days, NaiveDate};
use serde::Serialize;

use super::{Check, CheckOutput, Coverage, Source};
use crate::error::Result;
use crate::hint::COMPLETENESS;
use crate::io::columns::{dates, strings};
use crate::model::count::plural;
use crate::model::dates::DateRange;
use crate::model::{LOOKBACK_DAYS, WINDOW_DAYS, date_to_days};
use crate::pipeline::gaps::MissingGame;
use crate::queries::{Param, Query};

#[derive(Debug, Clone, Copy)]
pub struct Gaps {
    /// The feature records whose windows count.
    pub range: DateRange,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GapsTotals {
    /// Games of a team with at least one missing row.
    pub team_games: u64,
    pub days: u64,
    pub missing_rows: u64,
    /// Distinct feature records in the range with a missing game in their window.
    pub records_affected: u64,
    /// Team games without a DNP or inactive row that players with rows around them
    /// have no row for: their absence proves nothing.
    pub cannot_tell_team_games: u64,
    pub cannot_tell_rows: u64,
}

/// A team game that lists only the players who played, and who is absent from it.
#[derive(Debug, Clone, Serialize)]
struct CannotTell {
    game_date: NaiveDate,
    team_abbr: String,
    game_id: String,
    players_absent: Vec<String>,
}

/// One team's game with missing rows.
struct GapLine {
    date: NaiveDate,
    team: String,
    game_id: String,
    players: Vec<String>,
    records: u64,
}

impl Gaps {
    /// Gap dates that fall in some record's window: `[start - 60, end)`.
    fn gap_dates(&self) -> (NaiveDate, NaiveDate) {
        (
            self.range.start - Days::new(WINDOW_DAYS as u64),
            self.range.end,
        )
    }

    /// Rows read: a year before the first gap date (the row before a gap can be a
    /// season back) to half a year after the range (the row after it, likewise).
    fn row_range(&self) -> (NaiveDate, NaiveDate) {
        let first = self.range.start - Days::new((WINDOW_DAYS + LOOKBACK_DAYS) as u64);
        (first, self.range.end + Days::new(180))
    }

    fn row_params(&self) -> Vec<Param> {
        let (first, last) = self.row_range();
        vec![Param::date("first", first), Param::date("last", last)]
    }

    fn record_params(&self) -> Vec<Param> {
        vec![
            Param::date("first", self.range.start),
            Param::date("last", self.range.end),
        ]
    }

    fn rerun(&self, date: NaiveDate) -> String {
        let last = (date + Days::new(WINDOW_DAYS as u64)).min(self.range.end);
        format!(
            "{COMPLETENESS} backfill --start {} --end {last}",
            date + Days::new(1)
        )
    }
}

impl Check for Gaps {
    fn name(&self) -> &'static str {
        "gaps"
    }

    fn queries(&self) -> Vec<(Query, Vec<Param>)> {
        vec![
            (Query::GapRows, self.row_params()),
            (Query::TeamGames, self.row_params()),
            (Query::FeatureKeys, self.record_params()),
            Coverage::query(&self.range),
        ]
    }

    async fn run(&self, source: &Source) -> Result<CheckOutput> {
        let (first, last) = self.row_range();
        let inputs = crate::pipeline::gaps::load(source, first, last).await?;
        let (from, to) = self.gap_dates();
        let in_window = |g: &MissingGame| g.game_date >= from && g.game_date < to;
        let found = crate::pipeline::gaps::detect(&inputs);
        let missing: Vec<MissingGame> = found.missing.into_iter().filter(in_window).collect();
        let unsure: Vec<MissingGame> = found.cannot_tell.into_iter().filter(in_window).collect();
        let cannot_tell = cannot_tell(&unsure);
        let keys = source
            .run(Query::FeatureKeys, &self.record_params())
            .await?;
        let records = records_by_player(&keys)?;
        let (lines, affected) = lines(&missing, &records);
        let totals = GapsTotals {
            team_games: lines.len() as u64,
            days: lines.iter().map(|l| l.date).collect::<BTreeSet<_>>().len() as u64,
            missing_rows: missing.len() as u64,
            records_affected: affected,
            cannot_tell_team_games: cannot_tell.len() as u64,
            cannot_tell_rows: unsure.len() as u64,
        };
        let mut notes = vec![format!(
            "{} missing in {} on {}; {} in {} – {} have one in their 60-day window. \
             Restore a game's rows upstream, then run its `rerun` command.",
            plural(totals.missing_rows, "row", "rows"),
            plural(totals.team_games, "team game", "team games"),
            plural(totals.days, "day", "days"),
            plural(totals.records_affected, "feature record", "feature records"),
            self.range.start,
            self.range.end
        )];
        if !cannot_tell.is_empty() {
            notes.push(format!(
                "cannot tell: {} list only the players who played (a box-score source: no gamebook row, no DNP or inactive row), \
                 so the {} from them are not counted as missing (--json lists them under details.cannot_tell)",
                plural(totals.cannot_tell_team_games, "team game", "team games"),
                plural(totals.cannot_tell_rows, "absence", "absences")
            ));
        }
        let mut out = CheckOutput::over_range(
            self.name(),
            &self.range,
            &totals,
            notes,
            vec![self.batch(&lines)],
        );
        out.details = serde_json::json!({ "cannot_tell": cannot_tell });
        out.coverage = Some(Coverage::of(source, &self.range).await?);
        Ok(out)
    }
}

impl Gaps {
    fn batch(&self, lines: &[GapLine]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("game_date", DataType::Date32, false),
            Field::new("team_abbr", DataType::Utf8, false),
            Field::new("game_id", DataType::Utf8, false),
            Field::new("players_missing", DataType::Int64, false),
            Field::new("records_affected", DataType::Int64, false),
            Field::new(
                "players",
                DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
                false,
            ),
            Field::new("rerun", DataType::Utf8, false),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Date32Array::from_iter_values(
                lines.iter().map(|l| date_to_days(l.date)),
            )),
            Arc::new(StringArray::from_iter_values(lines.iter().map(|l| &l.team))),
            Arc::new(StringArray::from_iter_values(
                lines.iter().map(|l| &l.game_id),
            )),
            Arc::new(Int64Array::from_iter_values(
                lines.iter().map(|l| l.players.len() as i64),
            )),
            Arc::new(Int64Array::from_iter_values(
                lines.iter().map(|l| l.records as i64),
            )),
            Arc::new(players(lines)),
            Arc::new(StringArray::from_iter_values(
                lines.iter().map(|l| self.rerun(l.date)),
            )),
        ];
        RecordBatch::try_new(schema, columns).expect("gap columns match")
    }
}

/// The players of each line, as a list (scripts get a JSON array of names).
fn players(lines: &[GapLine]) -> ListArray {
    let mut list = ListBuilder::new(StringBuilder::new());
    for line in lines {
        for p in &line.players {
            list.values().append_value(p);
        }
        list.append(true);
    }
    list.finish()
}

/// The "cannot tell" absences grouped by team game, in date order.
fn cannot_tell(unsure: &[MissingGame]) -> Vec<CannotTell> {
    let mut by_game: BTreeMap<(NaiveDate, &str, &str), Vec<String>> = BTreeMap::new();
    for g in unsure {
        by_game
            .entry((g.game_date, &g.team_abbr, &g.game_id))
            .or_default()
            .push(g.player_lookup.clone());
    }
    by_game
        .into_iter()
        .map(|((game_date, team, id), players_absent)| CannotTell {
            game_date,
            team_abbr: team.to_string(),
            game_id: id.to_string(),
            players_absent,
        })
        .collect()
}

/// Each player's feature record dates, ascending.
fn records_by_player(keys: &[RecordBatch]) -> Result<HashMap<String, Vec<NaiveDate>>> {
    let mut out: HashMap<String, Vec<NaiveDate>> = HashMap::new();
    for (p, d) in strings(keys, "player_lookup")?
        .into_iter()
        .zip(dates(keys, "game_date")?)
    {
        if let (Some(p), Some(d)) = (p, d) {
            out.entry(p).or_default().push(d);
        }
    }
    out.values_mut().for_each(|v| v.sort_unstable());
    Ok(out)
}

/// One line per team game, worst first, and the distinct records affected overall.
fn lines(
    missing: &[MissingGame],
    records: &HashMap<String, Vec<NaiveDate>>,
) -> (Vec<GapLine>, u64) {
    let mut by_game: BTreeMap<(NaiveDate, &str, &str), GapLine> = BTreeMap::new();
    let mut affected: BTreeSet<(&str, NaiveDate)> = BTreeSet::new();
    for g in missing {
        let windows = window_records(records, g);
        affected.extend(windows.iter().map(|d| (g.player_lookup.as_str(), *d)));
        let line = by_game
            .entry((g.game_date, &g.team_abbr, &g.game_id))
            .or_insert_with(|| GapLine {
                date: g.game_date,
                team: g.team_abbr.clone(),
                game_id: g.game_id.clone(),
                players: Vec::new(),
                records: 0,
            });
        line.players.push(g.player_lookup.clone());
        line.records += windows.len() as u64;
    }
    let mut lines: Vec<GapLine> = by_game.into_values().collect();
    lines.sort_by(|a, b| (b.records, a.date, &a.team).cmp(&(a.records, b.date, &b.team)));
    (lines, affected.len() as u64)
}

/// The player's records whose 60-day window `[D - 60, D)` holds the game.
fn window_records<'a>(
    records: &'a HashMap<String, Vec<NaiveDate>>,
    g: &MissingGame,
) -> &'a [NaiveDate] {
    let Some(days) = records.get(&g.player_lookup) else {
        return &[];
    };
    let last = g.game_date + Days::new(WINDOW_DAYS as u64);
    let from = days.partition_point(|d| *d <= g.game_date);
    let to = days.partition_point(|d| *d <= last);
    &days[from..to.max(from)]
}
