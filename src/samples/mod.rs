//! Deterministic generator of a realistic NBA-like sample warehouse.
//!
//! Steps: 1. one schedule shared by every league (30 real teams, 82-game seasons from
//! the season holding `start − 365 days` through `end`, preseason, All-Star break,
//! Play-In, Playoffs); 2. the injected upstream faults, shared too: one whole
//! regular-season day missing from player_game_summary and one day whose rows arrived
//! weeks late; 3. per league (`scale` of them, independent people over the same games):
//! rosters and their changes, player_game_summary rows (box-score-sourced games without
//! DNP rows), ~20 dropped single rows, and the feature records of `[start, end]`, ~0.4%
//! with the first processor's buggy struct.
//!
//! The tables have the production shapes of `reference/production-schemas.md`: the
//! schedule view's columns, player_game_summary's key, status and source columns, and
//! the feature table's NUMERIC, JSON-in-STRING, array and described columns.
//!
//! Same options, same batches: every random choice comes from a ChaCha8 stream seeded
//! from (seed, purpose, league).

mod feature_batches;
mod features;
mod games;
pub mod inputs;
mod league;
mod names;
mod schedule;
#[cfg(test)]
mod tests;
mod warehouse;

use std::collections::BTreeMap;

use arrow::record_batch::RecordBatch;
use chrono::{Datelike, Duration, NaiveDate};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::{LOOKBACK_DAYS, date_to_days};
use games::GameRow;
use schedule::{Schedule, SeasonType};
pub use warehouse::{SampleMetrics, write_samples};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleOptions {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of independent leagues (player sets) over the one schedule; 0 counts as 1.
    pub scale: u32,
    /// First game day of the feature records.
    pub start: NaiveDate,
    /// Last game day of the feature records and of the upstream tables.
    pub end: NaiveDate,
}

impl Default for SampleOptions {
    /// Seed 42, one league, 2024-11-06 ..= 2026-01-22 (the production backfill range).
    fn default() -> Self {
        SampleOptions {
            seed: 42,
            scale: 1,
            start: NaiveDate::from_ymd_opt(2024, 11, 6).expect("valid date"),
            end: NaiveDate::from_ymd_opt(2026, 1, 22).expect("valid date"),
        }
    }
}

/// The three tables, as batches with exactly the schemas of [`crate::model`].
#[derive(Debug, Clone)]
pub struct SampleData {
    /// `ml_feature_store_v2`, ordered by (game_date, player_lookup).
    pub features: Vec<RecordBatch>,
    /// `player_game_summary`, ordered by (game_date, game_id, player_lookup).
    pub games: Vec<RecordBatch>,
    /// `nba_schedule`, ordered by (game_date, game_id).
    pub schedule: Vec<RecordBatch>,
    /// The upstream faults put in on purpose.
    pub injected: InjectedGaps,
}

/// Upstream data deliberately missing from `player_game_summary` (the schedule keeps
/// the games).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InjectedGaps {
    /// Days whose games have no rows at all.
    pub missing_days: Vec<NaiveDate>,
    /// Single rows (player_lookup, game_date, game_id) of players who played, dropped.
    pub missing_rows: Vec<(String, NaiveDate, String)>,
    /// The rows the missing days would have had (player_lookup, game_date, game_id).
    pub missing_day_rows: Vec<(String, NaiveDate, String)>,
    /// Days whose rows were written 2–4 weeks after the games (not missing, late).
    pub late_days: Vec<NaiveDate>,
}

/// Rows per batch at most.
const BATCH_ROWS: usize = 65_536;
/// Single rows dropped per league.
const DROPPED_ROWS: usize = 20;

/// Generates the sample warehouse for `opts`.
pub fn generate(opts: &SampleOptions) -> SampleData {
    let lookback = Duration::days(i64::from(LOOKBACK_DAYS));
    let first_season = schedule::season_of(opts.start - lookback);
    let sched = schedule::build(opts.seed, first_season, opts.end);
    let faults = Faults::pick(&sched, opts);
    let mut tables = Tables::default();
    for number in 0..opts.scale.max(1) {
        tables.add_league(opts, number, &sched, &faults);
    }
    tables
        .game_rows
        .sort_by(|a, b| (a.game, &a.lookup).cmp(&(b.game, &b.lookup)));
    tables
        .records
        .sort_by(|a, b| (a.date, &a.lookup).cmp(&(b.date, &b.lookup)));
    for list in [&mut tables.missing_rows, &mut tables.missing_day_rows] {
        list.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    }
    SampleData {
        features: feature_batches::to_batches(&tables.records, &sched),
        games: games::to_batches(&tables.game_rows, &sched),
        schedule: schedule::to_batches(&sched),
        injected: InjectedGaps {
            missing_days: faults.missing_day.into_iter().collect(),
            missing_rows: tables.missing_rows,
            missing_day_rows: tables.missing_day_rows,
            late_days: faults.late_day.into_iter().collect(),
        },
    }
}

/// One league's tables (see [`generate_leagues`]).
pub struct LeagueBatches {
    pub features: Vec<RecordBatch>,
    pub games: Vec<RecordBatch>,
}

/// Generates the leagues of `opts` one at a time, handing each league's feature and
/// game batches to `sink`: the same rows as [`generate`], without ever holding more than
/// one league (a whole warehouse at scale 300 would need ~47 GB).
pub fn generate_leagues<E>(
    opts: &SampleOptions,
    mut sink: impl FnMut(LeagueBatches) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let lookback = Duration::days(i64::from(LOOKBACK_DAYS));
    let first_season = schedule::season_of(opts.start - lookback);
    let sched = schedule::build(opts.seed, first_season, opts.end);
    let faults = Faults::pick(&sched, opts);
    for number in 0..opts.scale.max(1) {
        let mut tables = Tables::default();
        tables.add_league(opts, number, &sched, &faults);
        sink(LeagueBatches {
            features: feature_batches::to_batches(&tables.records, &sched),
            games: games::to_batches(&tables.game_rows, &sched),
        })?;
    }
    Ok(())
}

/// Upstream faults shared by every league (they hit whole days of games).
struct Faults {
    /// No player_game_summary rows at all.
    missing_day: Option<NaiveDate>,
    /// Rows written 2–4 weeks after the games.
    late_day: Option<NaiveDate>,
}

impl Faults {
    fn pick(sched: &Schedule, opts: &SampleOptions) -> Faults {
        let range = (opts.start, opts.end);
        let mut rng = rng_for(opts.seed, "gaps", 0);
        let missing_day = pick_missing_day(sched, range, &mut rng);
        let late_day = pick_late_day(sched, range, missing_day, &mut rng);
        Faults {
            missing_day,
            late_day,
        }
    }
}

/// Rows of every league so far.
#[derive(Default)]
struct Tables {
    game_rows: Vec<GameRow>,
    records: Vec<features::FeatureRecord>,
    missing_rows: Vec<(String, NaiveDate, String)>,
    missing_day_rows: Vec<(String, NaiveDate, String)>,
}

impl Tables {
    /// League `number`: its people, its game rows minus the faults, its features.
    fn add_league(&mut self, opts: &SampleOptions, number: u32, sched: &Schedule, faults: &Faults) {
        let range = (opts.start, opts.end);
        let league = league::build(opts.seed, number, sched);
        let days = games::FaultDays {
            late: faults.late_day,
            gamebook: faults.missing_day,
        };
        let all = games::play(&league, sched, opts.seed, number, days);
        let (mut kept, missed): (Vec<GameRow>, Vec<GameRow>) = all
            .iter()
            .cloned()
            .partition(|r| Some(r.date) != faults.missing_day);
        let key = |r: &GameRow| (r.lookup.to_string(), r.date, sched.games[r.game].id.clone());
        self.missing_day_rows.extend(missed.iter().map(key));
        let mut rng = rng_for(opts.seed, "dropped", number);
        let dropped =
            games::drop_random_rows(&mut kept, range, faults.missing_day, DROPPED_ROWS, &mut rng);
        self.missing_rows.extend(dropped.iter().map(key));
        let ctx = features::LeagueCtx {
            league: &league,
            sched,
            all_rows: &all,
            kept_rows: &kept,
        };
        self.records.extend(ctx.build(range, opts.seed, number));
        self.game_rows.extend(kept);
    }
}

/// Regular-season days in `range` with at least five games.
fn busy_regular_days(sched: &Schedule, range: (NaiveDate, NaiveDate)) -> Vec<NaiveDate> {
    let mut per_day: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    for g in &sched.games {
        if g.kind == SeasonType::Regular && g.date >= range.0 && g.date <= range.1 {
            *per_day.entry(g.date).or_default() += 1;
        }
    }
    per_day
        .into_iter()
        .filter(|(_, n)| *n >= 5)
        .map(|(d, _)| d)
        .collect()
}

/// A busy day of the first January in range (the production incident was in January
/// 2025), else any busy regular-season day in range.
fn pick_missing_day(
    sched: &Schedule,
    range: (NaiveDate, NaiveDate),
    rng: &mut ChaCha8Rng,
) -> Option<NaiveDate> {
    let days = busy_regular_days(sched, range);
    let january: Vec<NaiveDate> = days.iter().copied().filter(|d| d.month() == 1).collect();
    let first_year = january.first().map(|d| d.year());
    let pool: Vec<NaiveDate> = january
        .into_iter()
        .filter(|d| Some(d.year()) == first_year)
        .collect();
    let pool = if pool.is_empty() { days } else { pool };
    pool.choose(rng).copied()
}

/// A day (March if possible) whose rows arrived 2–4 weeks late, at least four weeks
/// before `end` so the late rows are in, and away from the missing day.
fn pick_late_day(
    sched: &Schedule,
    range: (NaiveDate, NaiveDate),
    missing: Option<NaiveDate>,
    rng: &mut ChaCha8Rng,
) -> Option<NaiveDate> {
    let far_from_missing = |d: &NaiveDate| missing.is_none_or(|m| (*d - m).num_days().abs() > 7);
    let days: Vec<NaiveDate> = busy_regular_days(sched, range)
        .into_iter()
        .filter(|d| *d + Duration::days(28) <= range.1 && far_from_missing(d))
        .collect();
    let march: Vec<NaiveDate> = days.iter().copied().filter(|d| d.month() == 3).collect();
    let pool = if march.is_empty() { days } else { march };
    pool.choose(rng).copied()
}

/// A ChaCha8 stream for one purpose of one league.
fn rng_for(seed: u64, purpose: &str, league: u32) -> ChaCha8Rng {
    let bytes = seed
        .to_le_bytes()
        .into_iter()
        .chain(purpose.bytes())
        .chain(league.to_le_bytes());
    ChaCha8Rng::seed_from_u64(fnv1a(bytes))
}

/// 64-bit FNV-1a.
fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A standard normal draw (Box–Muller; `rand_distr` is not a dependency).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Microseconds since the epoch of `date` at `secs` seconds past midnight UTC.
fn micros(date: NaiveDate, secs: i64) -> i64 {
    (i64::from(date_to_days(date)) * 86_400 + secs) * 1_000_000
}

/// Batch-sized slices; an empty table still gets one (empty) batch.
fn chunks<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let empty = rows.is_empty().then_some(rows);
    rows.chunks(BATCH_ROWS).chain(empty)
}
