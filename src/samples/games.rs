//! `player_game_summary` rows: one per player per game the player was on a roster for.
//!
//! Per team and game: 1. the roster feed of the day (long-injured players are absent);
//! 2. short injuries and rest days give `out` rows; 3. the rest are ranked by quality
//! into a rotation, where the deep bench is often `dnp` and anyone past the 13 active
//! spots is `inactive`; 4. minutes follow the rank and add up to 240 (265 with
//! overtime); points follow minutes and the player's scoring rate. Rows land in the
//! warehouse the morning after the game, a few days late for ~3% of games, and weeks
//! late for the games of one "late backfilled" day.
//!
//! As in production, ~12% of games come from a box-score source (`bdl_boxscores`,
//! `nbac_bdl_combined`) that lists only the players who played: those games have no
//! DNP, out or inactive rows. The rest come from the gamebook (`nbac_gamebook`).

use std::rc::Rc;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use arrow::record_batch::RecordBatch;
use chrono::{Duration, NaiveDate};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::league::{InjuryKind, League};
use super::schedule::{Schedule, SeasonType, team_abbr};
use super::{chunks, fnv1a, micros, normal, rng_for};
use crate::model::GAMEBOOK;
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

/// Box-score sources: active players only.
const BOX_SCORES: [&str; 2] = ["bdl_boxscores", "nbac_bdl_combined"];

#[derive(Debug, Clone)]
pub struct GameRow {
    pub player: usize,
    pub lookup: Rc<str>,
    pub universal_id: Rc<str>,
    /// Index into `Schedule::games`.
    pub game: usize,
    pub date: NaiveDate,
    pub team: usize,
    pub opponent: usize,
    pub status: Status,
    pub points: Option<i64>,
    pub minutes: Option<f64>,
    /// Assists, offensive and defensive rebounds (None unless played).
    pub boxscore: Option<[i64; 3]>,
    pub starter: bool,
    pub won: bool,
    /// `primary_source_used` of the whole game.
    pub source: &'static str,
    pub created_us: i64,
    pub processed_us: i64,
}

/// Planned minutes by rotation rank before normalising to the game's total.
const MINUTES_BY_RANK: [f64; 13] = [
    34.0, 33.0, 31.5, 30.0, 28.5, 25.0, 22.0, 19.0, 15.0, 11.0, 7.0, 4.0, 3.0,
];
/// Only 13 players may dress; the rest of the available roster is inactive.
const ACTIVE_SPOTS: usize = 13;

/// The days the sample's upstream faults hit: their games' rows are late, or come from
/// the gamebook (the lost day's games, so their rows can be restored exactly).
#[derive(Debug, Clone, Copy, Default)]
pub struct FaultDays {
    pub late: Option<NaiveDate>,
    pub gamebook: Option<NaiveDate>,
}

/// Generates every row of one league, in schedule order.
pub fn play(
    league: &League,
    sched: &Schedule,
    seed: u64,
    number: u32,
    days: FaultDays,
) -> Vec<GameRow> {
    let mut rng = rng_for(seed, "games", number);
    // The source and result of a game are the same in every league.
    let mut shared = rng_for(seed, "game-sources", 0);
    let mut rows = Vec::new();
    for (gi, game) in sched.games.iter().enumerate() {
        let Some(sides) = game.sides() else { continue };
        let source = game_source(&mut shared, days.gamebook == Some(game.date));
        let home_won = shared.random_bool(0.58);
        let arrival = arrival_us(game.date, days.late == Some(game.date), &mut rng);
        let playoffs = game.kind == SeasonType::Playoffs;
        let total = if rng.random_bool(0.06) { 265.0 } else { 240.0 };
        for (team, opponent, is_home) in sides {
            let ctx = SideCtx {
                league,
                game: gi,
                date: game.date,
                team,
                opponent,
                playoffs,
                total,
                arrival,
                won: is_home == home_won,
                source,
            };
            let side = ctx.rows(&mut rng);
            // Box scores list only the players who played.
            rows.extend(
                side.into_iter()
                    .filter(|r| source == GAMEBOOK || r.status == Status::Played),
            );
        }
    }
    rows
}

fn game_source(rng: &mut ChaCha8Rng, gamebook: bool) -> &'static str {
    let x: f64 = rng.random();
    if gamebook || x < 0.88 {
        GAMEBOOK
    } else if x < 0.97 {
        BOX_SCORES[0]
    } else {
        BOX_SCORES[1]
    }
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
    won: bool,
    source: &'static str,
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
        for (rank, (((p, _), status), plan)) in
            available.iter().zip(&statuses).zip(&planned).enumerate()
        {
            let minutes = (plan * scale).min(46.0);
            let row = match status {
                Status::Played => GameRow {
                    starter: rank < 5,
                    ..self.played(*p, minutes, rng)
                },
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
        let per = |rate: f64, rng: &mut ChaCha8Rng| {
            let mean = minutes * rate;
            (mean + mean.sqrt() * normal(rng)).round().max(0.0) as i64
        };
        row.boxscore = Some([
            per(0.06 + 0.08 * player.quality, rng),
            per(0.03, rng),
            per(0.12, rng),
        ]);
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
            universal_id: self.league.players[p].universal_id.clone(),
            game: self.game,
            date: self.date,
            team: self.team,
            opponent: self.opponent,
            status,
            points,
            minutes,
            boxscore: None,
            starter: false,
            won: self.won,
            source: self.source,
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

/// Removes `count` random rows of players who played in a gamebook game on a date in
/// `[start, end]` (not the missing day) and returns them.
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
                && r.source == GAMEBOOK
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
    let ts = |f: fn(&GameRow) -> i64| -> ArrayRef {
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.iter().map(f)).with_timezone("UTC"),
        )
    };
    let text = |f: &dyn Fn(&GameRow) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from_iter(rows.iter().map(f)))
    };
    let int = |f: &dyn Fn(&GameRow) -> Option<i64>| -> ArrayRef {
        Arc::new(Int64Array::from_iter(rows.iter().map(f)))
    };
    let flag = |f: &dyn Fn(&GameRow) -> Option<bool>| -> ArrayRef {
        Arc::new(BooleanArray::from_iter(rows.iter().map(f)))
    };
    let decimal = |values: Vec<Option<i128>>, precision: u8, scale: i8| -> ArrayRef {
        Arc::new(
            Decimal128Array::from(values)
                .with_precision_and_scale(precision, scale)
                .expect("valid decimal type"),
        )
    };
    let boxed = |k: usize| move |r: &GameRow| r.boxscore.map(|b| b[k]);
    let columns: Vec<ArrayRef> = vec![
        text(&|r| Some(r.lookup.to_string())),
        text(&|r| Some(r.universal_id.to_string())),
        text(&|r| Some(sched.games[r.game].id.clone())),
        Arc::new(Date32Array::from_iter_values(
            rows.iter().map(|r| date_to_days(r.date)),
        )),
        text(&|r| Some(team_abbr(r.team).into())),
        text(&|r| Some(team_abbr(r.opponent).into())),
        int(&|r| Some(i64::from(sched.games[r.game].season))),
        int(&|r| r.points),
        decimal(
            rows.iter()
                .map(|r| r.minutes.map(|m| (m * 10.0).round() as i128))
                .collect(),
            5,
            1,
        ),
        int(&boxed(0)),
        int(&boxed(1)),
        int(&boxed(2)),
        decimal(
            rows.iter()
                .map(|r| {
                    r.minutes
                        .map(|m| (usage_rate(r, m) * 100.0).round() as i128)
                })
                .collect(),
            6,
            2,
        ),
        flag(&|r| Some(r.starter)),
        flag(&|r| Some(r.won)),
        flag(&|r| Some(r.status.is_active())),
        text(&|r| Some(r.status.label().into())),
        flag(&|r| Some(r.status == Status::Dnp)),
        text(&|r| (r.status == Status::Dnp).then(|| "Coach's Decision".into())),
        text(&|r| Some(r.source.into())),
        text(&|r| {
            Some(
                if r.source == GAMEBOOK {
                    "high"
                } else {
                    "medium"
                }
                .into(),
            )
        }),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| {
            let key = format!("{}|{}|{:?}", r.lookup, sched.games[r.game].id, r.points);
            format!("{:016x}", fnv1a(key.bytes()))
        }))),
        ts(|r| r.created_us),
        ts(|r| r.processed_us),
    ];
    RecordBatch::try_new(games_schema(), columns).expect("game columns match the schema")
}

/// A plausible usage rate for a row with `minutes` on the floor.
fn usage_rate(r: &GameRow, minutes: f64) -> f64 {
    let points = r.points.unwrap_or(0) as f64;
    if minutes <= 0.0 {
        0.0
    } else {
        (points / minutes * 48.0 * 0.55).min(60.0)
    }
}
