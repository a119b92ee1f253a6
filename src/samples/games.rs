//! `player_game_summary` rows: one per player per game the player was on a roster for.
//!
//! Per team and game: 1. the roster feed of the day (long-injured players are absent);
//! 2. short injuries and rest days give `out` rows; 3. the rest are ranked by quality
//! into a rotation, where the deep bench is often `dnp` and anyone past the 13 active
//! spots is `inactive`; 4. minutes follow the rank and add up to 240 (265 with
//! overtime); points follow minutes and the player's scoring rate. Rows land in the
//! warehouse the morning after the game, a few days late for ~3% of games, and weeks
//! late for the games of one "late backfilled" day.

use std::rc::Rc;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use arrow::record_batch::RecordBatch;
use chrono::{Duration, NaiveDate};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::league::{InjuryKind, League};
use super::schedule::{Schedule, SeasonType, team_abbr};
use super::{chunks, micros, normal, rng_for};
use crate::model::{date_to_days, games_schema};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Played,
    Dnp,
    Out,
    Inactive,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Played => "active",
            Status::Dnp => "dnp",
            Status::Out => "out",
            Status::Inactive => "inactive",
        }
    }

    fn is_active(self) -> bool {
        matches!(self, Status::Played | Status::Dnp)
    }
}

#[derive(Debug, Clone)]
pub struct GameRow {
    pub player: usize,
    pub lookup: Rc<str>,
    /// Index into `Schedule::games`.
    pub game: usize,
    pub date: NaiveDate,
    pub team: usize,
    pub opponent: usize,
    pub status: Status,
    pub points: Option<i64>,
    pub minutes: Option<f64>,
    pub created_us: i64,
    pub processed_us: i64,
}

/// Planned minutes by rotation rank before normalising to the game's total.
const MINUTES_BY_RANK: [f64; 13] = [
    34.0, 33.0, 31.5, 30.0, 28.5, 25.0, 22.0, 19.0, 15.0, 11.0, 7.0, 4.0, 3.0,
];
/// Only 13 players may dress; the rest of the available roster is inactive.
const ACTIVE_SPOTS: usize = 13;

/// Generates every row of one league, in schedule order.
pub fn play(
    league: &League,
    sched: &Schedule,
    seed: u64,
    number: u32,
    late_day: Option<NaiveDate>,
) -> Vec<GameRow> {
    let mut rng = rng_for(seed, "games", number);
    let mut rows = Vec::new();
    for (gi, game) in sched.games.iter().enumerate() {
        let Some(sides) = game.sides() else { continue };
        let arrival = arrival_us(game.date, late_day == Some(game.date), &mut rng);
        let playoffs = game.kind == SeasonType::Playoffs;
        let total = if rng.random_bool(0.06) { 265.0 } else { 240.0 };
        for (team, opponent, _) in sides {
            let ctx = SideCtx {
                league,
                game: gi,
                date: game.date,
                team,
                opponent,
                playoffs,
                total,
                arrival,
            };
            rows.extend(ctx.rows(&mut rng));
        }
    }
    rows
}

/// When a game's rows were first written: 08:00–11:00 UTC the next morning, 2–5 days
/// late for ~3% of games, 2–4 weeks late on the late-backfilled day.
fn arrival_us(date: NaiveDate, late_backfill: bool, rng: &mut ChaCha8Rng) -> i64 {
    let delay_days = if late_backfill {
        rng.random_range(14..=28)
    } else if rng.random_bool(0.03) {
        rng.random_range(2..=5)
    } else {
        1
    };
    let secs = rng.random_range(8 * 3600..11 * 3600);
    micros(date + Duration::days(delay_days), secs)
}

struct SideCtx<'a> {
    league: &'a League,
    game: usize,
    date: NaiveDate,
    team: usize,
    opponent: usize,
    playoffs: bool,
    total: f64,
    arrival: i64,
}

impl SideCtx<'_> {
    fn rows(&self, rng: &mut ChaCha8Rng) -> Vec<GameRow> {
        let players = &self.league.players;
        let mut out = Vec::new();
        let mut available = Vec::new();
        for p in self.league.roster(self.team, self.date) {
            let injured = self.league.injury(p, self.date) == Some(InjuryKind::Short);
            // Stars sit out the odd regular-season game for rest.
            let rest = !self.playoffs && players[p].quality > 0.7 && rng.random_bool(0.03);
            if injured || rest {
                out.push(self.row(p, Status::Out, None, rng));
            } else {
                available.push((p, players[p].quality + 0.08 * normal(rng)));
            }
        }
        available.sort_by(|a, b| b.1.total_cmp(&a.1));
        let statuses: Vec<Status> = (0..available.len()).map(|r| self.status(r, rng)).collect();
        let planned: Vec<f64> = statuses
            .iter()
            .enumerate()
            .map(|(r, s)| planned_minutes(r, *s, rng))
            .collect();
        let scale = self.total / planned.iter().sum::<f64>().max(1.0);
        for (((p, _), status), plan) in available.iter().zip(&statuses).zip(&planned) {
            let minutes = (plan * scale).min(46.0);
            let row = match status {
                Status::Played => self.played(*p, minutes, rng),
                s => self.row(*p, *s, None, rng),
            };
            out.push(row);
        }
        out
    }

    /// Status of the available player at rotation rank `rank`.
    fn status(&self, rank: usize, rng: &mut ChaCha8Rng) -> Status {
        // Past the 13 active spots, or sent to the G League / scratched for the night.
        if rank >= ACTIVE_SPOTS || (rank >= 10 && rng.random_bool(0.08)) {
            return Status::Inactive;
        }
        let mut p_dnp: f64 = match rank {
            0..=8 => 0.01,
            9 => 0.15,
            10 => 0.35,
            11 => 0.55,
            _ => 0.7,
        };
        if self.playoffs && rank >= 8 {
            p_dnp += 0.25;
        }
        if rng.random_bool(p_dnp.min(0.95)) {
            Status::Dnp
        } else {
            Status::Played
        }
    }

    fn played(&self, p: usize, minutes: f64, rng: &mut ChaCha8Rng) -> GameRow {
        let player = &self.league.players[p];
        let form = (1.0 + 0.15 * normal(rng)).max(0.5);
        let mean = minutes * player.scoring * form;
        let points = (mean + mean.sqrt() * 1.1 * normal(rng)).round().max(0.0) as i64;
        let minutes = (minutes * 10.0).round() / 10.0;
        let mut row = self.row(p, Status::Played, Some(points), rng);
        row.minutes = Some(minutes.max(0.1));
        row
    }

    /// A row with the side's keys and timestamps; DNP rows carry 0 points and minutes,
    /// inactive ones nulls.
    fn row(&self, p: usize, status: Status, points: Option<i64>, rng: &mut ChaCha8Rng) -> GameRow {
        let created_us = self.arrival + rng.random_range(0..90) * 1_000_000;
        let (points, minutes) = match status {
            Status::Dnp => (Some(0), Some(0.0)),
            _ => (points, None),
        };
        GameRow {
            player: p,
            lookup: self.league.players[p].lookup.clone(),
            game: self.game,
            date: self.date,
            team: self.team,
            opponent: self.opponent,
            status,
            points,
            minutes,
            created_us,
            processed_us: created_us + rng.random_range(5..600) * 1_000_000,
        }
    }
}

fn planned_minutes(rank: usize, status: Status, rng: &mut ChaCha8Rng) -> f64 {
    if status != Status::Played {
        return 0.0;
    }
    let base = MINUTES_BY_RANK[rank.min(MINUTES_BY_RANK.len() - 1)];
    (base * (1.0 + 0.12 * normal(rng))).max(1.0)
}

/// Removes `count` random rows of players who played on a date in `[start, end]` (not
/// the missing day) and returns them.
pub fn drop_random_rows(
    rows: &mut Vec<GameRow>,
    range: (NaiveDate, NaiveDate),
    missing_day: Option<NaiveDate>,
    count: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<GameRow> {
    let mut candidates: Vec<usize> = (0..rows.len())
        .filter(|&i| {
            let r = &rows[i];
            r.status == Status::Played
                && r.date >= range.0
                && r.date <= range.1
                && Some(r.date) != missing_day
        })
        .collect();
    candidates.shuffle(rng);
    candidates.truncate(count);
    candidates.sort_unstable();
    let dropped = candidates.iter().map(|&i| rows[i].clone()).collect();
    let mut k = 0;
    let mut index = 0;
    rows.retain(|_| {
        let drop = candidates.get(k) == Some(&index);
        k += usize::from(drop);
        index += 1;
        !drop
    });
    dropped
}

/// The rows as `player_game_summary` batches.
pub fn to_batches(rows: &[GameRow], sched: &Schedule) -> Vec<RecordBatch> {
    chunks(rows).map(|c| game_batch(c, sched)).collect()
}

fn game_batch(rows: &[GameRow], sched: &Schedule) -> RecordBatch {
    let ts = |f: fn(&GameRow) -> i64| {
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.iter().map(f)).with_timezone("UTC"),
        )
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| &*r.lookup),
        )),
        Arc::new(Date32Array::from_iter_values(
            rows.iter().map(|r| date_to_days(r.date)),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| sched.games[r.game].id.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| team_abbr(r.team)),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| team_abbr(r.opponent)),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| i64::from(sched.games[r.game].season)),
        )),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.status.is_active())),
        )),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.status == Status::Dnp)),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.status.label()),
        )),
        Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.points))),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.minutes))),
        ts(|r| r.created_us),
        ts(|r| r.processed_us),
    ];
    RecordBatch::try_new(games_schema(), columns).expect("game columns match the schema")
}
