//! `ml_feature_store_v2` records: one per player on a roster for each game day in the
//! feature range, made before tip-off from the player's earlier games.
//!
//! Steps: 1. per player, the log of earlier games (all rows, before any upstream loss:
//! the feature pipeline read them when they existed); 2. per game day and roster
//! player, 60 features quantised to one decimal (so Parquet compresses), a quality
//! score, a data source (placeholders in a season's first 14 days) and a hash;
//! 3. `historical_completeness` stays NULL except on ~0.4% of records, which carry what
//! the first, buggy processor (v1.5) wrote, both counts from the 60-day window: half on
//! the newest days (where it is mostly right), half on records the correct rule changes
//! (a player back from an absence: v1.5 says complete, the 365-day count says not);
//! 4. `updated_at` is NULL unless the processor re-merged the record, as in production.

use std::rc::Rc;

use chrono::{Duration, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::games::{GameRow, Status};
use super::league::League;
use super::schedule::{Schedule, season_of, team_abbr};
use super::{fnv1a, micros, normal, rng_for};
use crate::model::{HistoricalCompleteness, WINDOW_DAYS, WINDOW_GAMES};

pub const FEATURE_VERSION: &str = "v2_60features";

pub const FEATURE_NAMES: [&str; 60] = [
    // Player history
    "points_avg_last_5",
    "points_avg_last_10",
    "points_avg_season",
    "points_std_last_10",
    "minutes_avg_last_10",
    "minutes_avg_season",
    "games_played_last_10",
    "games_in_last_7_days",
    "points_trend",
    "minutes_trend",
    "games_vs_opponent",
    "points_avg_vs_opponent",
    "starter_flag",
    "data_completeness_pct",
    // Schedule context
    "days_rest",
    "back_to_back",
    "is_home",
    "opponent_days_rest",
    "rest_advantage",
    "fatigue_score",
    "travel_distance_100km",
    "altitude_flag",
    "season_progress_pct",
    "games_played_season",
    // Team and opponent
    "team_off_rating",
    "team_def_rating",
    "team_pace",
    "team_win_pct",
    "opponent_off_rating",
    "opponent_def_rating",
    "opponent_pace",
    "opponent_win_pct",
    "opponent_points_allowed_to_position",
    "opponent_rank_vs_position",
    "pace_score",
    "teammate_injury_boost",
    // Player skill
    "usage_rate_last_10",
    "true_shooting_pct_last_10",
    "fg_pct_last_10",
    "three_pt_pct_last_10",
    "ft_pct_last_10",
    "rebounds_avg_last_10",
    "assists_avg_last_10",
    "steals_avg_last_10",
    "blocks_avg_last_10",
    "turnovers_avg_last_10",
    "three_pa_avg_last_10",
    "fta_avg_last_10",
    "paint_pts_share",
    "midrange_pts_share",
    "three_pts_share",
    "shot_zone_mismatch_score",
    // Market and risk
    "usage_spike_score",
    "injury_risk_score",
    "vegas_points_line",
    "vegas_opening_line",
    "vegas_line_move",
    "has_vegas_line",
    "spread",
    "game_total",
];

/// Positions in [`FEATURE_NAMES`] that later features are derived from.
pub mod idx {
    pub const POINTS_LAST_10: usize = 1;
    pub const POINTS_SEASON: usize = 2;
    pub const MINUTES_LAST_10: usize = 4;
    pub const GAMES_LAST_7_DAYS: usize = 7;
    pub const POINTS_TREND: usize = 8;
    pub const DAYS_REST: usize = 14;
    pub const BACK_TO_BACK: usize = 15;
    pub const IS_HOME: usize = 16;
    pub const TEAM_PACE: usize = 26;
    pub const TEAM_WIN_PCT: usize = 27;
    pub const OPPONENT_PACE: usize = 30;
    pub const OPPONENT_WIN_PCT: usize = 31;
}

/// Values of early-season placeholder rows (league-average guesses).
const PLACEHOLDER: [f64; 60] = [
    10.0, 10.0, 10.0, 5.0, 20.0, 20.0, 0.0, 0.0, 0.0, 0.0, 0.0, 10.0, 0.0, 0.0, // history
    1.0, 0.0, 0.0, 1.0, 0.0, 50.0, 0.0, 0.0, 0.0, 0.0, // schedule
    112.0, 112.0, 99.0, 50.0, 112.0, 112.0, 99.0, 50.0, 22.0, 15.0, 0.0, 0.0, // teams
    20.0, 56.0, 46.0, 35.0, 78.0, 4.5, 2.5, 0.7, 0.5, 1.4, 3.0, 2.5, 40.0, 20.0, 30.0, 0.0, 0.0,
    0.0, 10.5, 10.5, 0.0, 0.0, 0.0, 226.0, // market
];

/// Days at the start of a season whose records may be placeholders.
const EARLY_SEASON_DAYS: i64 = 14;
/// Share of all records the first processor version already filled.
const PREFILLED_SHARE: f64 = 0.004;

#[derive(Debug, Clone)]
pub struct FeatureRecord {
    /// Index into `League::players`.
    pub player: usize,
    pub lookup: Rc<str>,
    pub universal_id: Rc<str>,
    pub date: NaiveDate,
    /// Index into `Schedule::games`.
    pub game: usize,
    pub opponent: usize,
    pub is_home: bool,
    pub days_rest: i64,
    pub source: &'static str,
    pub values: Vec<f64>,
    pub quality_score: f64,
    pub hash: String,
    pub completeness: Option<HistoricalCompleteness>,
    pub created_us: i64,
    /// None until a later write (the processor inserts with `updated_at = NULL`).
    pub updated_us: Option<i64>,
}

/// One earlier game of a player, as the feature pipeline saw it.
#[derive(Debug, Clone, Copy)]
struct LogEntry {
    date: NaiveDate,
    opponent: usize,
    played: bool,
    minutes: f64,
    points: f64,
}

/// What one league's records are made from.
pub struct LeagueCtx<'a> {
    pub league: &'a League,
    pub sched: &'a Schedule,
    /// Rows before upstream loss: the feature pipeline read them when they existed.
    pub all_rows: &'a [GameRow],
    /// Rows after upstream loss: what the first processor counted.
    pub kept_rows: &'a [GameRow],
}

impl LeagueCtx<'_> {
    /// The league's records for game days in `[start, end]`, ordered by
    /// (date, player_lookup).
    pub fn build(
        &self,
        range: (NaiveDate, NaiveDate),
        seed: u64,
        number: u32,
    ) -> Vec<FeatureRecord> {
        let mut rng = rng_for(seed, "features", number);
        let logs = player_logs(self.league, self.all_rows);
        let mut out = Vec::new();
        for (gi, game) in self.sched.games.iter().enumerate() {
            if game.date < range.0 || game.date > range.1 {
                continue;
            }
            for (team, opponent, is_home) in game.sides().into_iter().flatten() {
                let side = Side {
                    sched: self.sched,
                    game: gi,
                    date: game.date,
                    team,
                    opponent,
                    is_home,
                };
                for p in self.league.roster(team, game.date) {
                    out.push(side.record(self.league, p, &logs[p], &mut rng));
                }
            }
        }
        out.sort_by(|a, b| (a.date, &a.lookup).cmp(&(b.date, &b.lookup)));
        prefill(&mut out, self.league, self.kept_rows, &mut rng);
        out
    }
}

fn player_logs(league: &League, rows: &[GameRow]) -> Vec<Vec<LogEntry>> {
    let mut logs = vec![Vec::new(); league.players.len()];
    for r in rows {
        logs[r.player].push(LogEntry {
            date: r.date,
            opponent: r.opponent,
            played: r.status == Status::Played,
            minutes: r.minutes.unwrap_or(0.0),
            points: r.points.unwrap_or(0) as f64,
        });
    }
    for log in &mut logs {
        log.sort_by_key(|e| e.date);
    }
    logs
}

/// One team's side of one game day.
struct Side<'a> {
    sched: &'a Schedule,
    game: usize,
    date: NaiveDate,
    team: usize,
    opponent: usize,
    is_home: bool,
}

impl Side<'_> {
    fn record(
        &self,
        league: &League,
        p: usize,
        log: &[LogEntry],
        rng: &mut ChaCha8Rng,
    ) -> FeatureRecord {
        let player = &league.players[p];
        // A year of history is all any feature looks at.
        let year_ago = self.date - Duration::days(365);
        let before = &log[log.partition_point(|e| e.date < year_ago)
            ..log.partition_point(|e| e.date < self.date)];
        let days_rest = self.rest(self.team);
        let season_start = self
            .sched
            .season(season_of(self.date))
            .map_or(self.date, |s| s.start);
        let early = (self.date - season_start).num_days() < EARLY_SEASON_DAYS;
        let source = data_source(early, rng);
        let ctx = ValueCtx {
            side: self,
            before,
            season_start,
            days_rest,
            player_hash: fnv1a(player.lookup.bytes()),
            quality: player.quality,
        };
        let values = if source == "early_season" {
            ctx.placeholder()
        } else {
            ctx.values(rng)
        };
        let created_us = micros(self.date, 15 * 3600 + rng.random_range(0..2400));
        let updated_us = rng
            .random_bool(0.12)
            .then(|| created_us + rng.random_range(3600..5 * 3600) * 1_000_000);
        FeatureRecord {
            player: p,
            lookup: player.lookup.clone(),
            universal_id: player.universal_id.clone(),
            date: self.date,
            game: self.game,
            opponent: self.opponent,
            is_home: self.is_home,
            days_rest,
            source,
            hash: data_hash(&values),
            values,
            quality_score: quality_score(source, rng),
            completeness: None,
            created_us,
            updated_us,
        }
    }

    /// Full days off before this game (0 on a back-to-back), capped at a week.
    fn rest(&self, team: usize) -> i64 {
        self.sched
            .days_since_previous(team, self.date)
            .map_or(7, |d| (d - 1).clamp(0, 7))
    }
}

fn data_source(early: bool, rng: &mut ChaCha8Rng) -> &'static str {
    if early && rng.random_bool(0.4) {
        return "early_season";
    }
    match rng.random::<f64>() {
        x if x < 0.85 => "phase4",
        x if x < 0.95 => "phase3",
        _ => "mixed",
    }
}

fn quality_score(source: &str, rng: &mut ChaCha8Rng) -> f64 {
    let (lo, hi) = match source {
        "phase4" => (85.0, 99.0),
        "phase3" => (75.0, 90.0),
        "mixed" => (70.0, 88.0),
        _ => (60.0, 70.0),
    };
    q(rng.random_range(lo..hi))
}

/// Rounds to one decimal, as the store does.
fn q(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// 16 hex chars of FNV-1a over the feature values' bytes.
pub fn data_hash(values: &[f64]) -> String {
    format!(
        "{:016x}",
        fnv1a(values.iter().flat_map(|v| v.to_le_bytes()))
    )
}

/// A stable number in [-1, 1) from a hash and a salt (team ratings, player profile).
fn unit(h: u64, salt: u64) -> f64 {
    let mut x = h ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

struct ValueCtx<'a> {
    side: &'a Side<'a>,
    before: &'a [LogEntry],
    season_start: NaiveDate,
    days_rest: i64,
    player_hash: u64,
    quality: f64,
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (n, s) = xs.fold((0usize, 0.0), |(n, s), x| (n + 1, s + x));
    if n == 0 { 0.0 } else { s / n as f64 }
}

fn std_dev(xs: &[f64]) -> f64 {
    let m = mean(xs.iter().copied());
    mean(xs.iter().map(|x| (x - m).powi(2))).sqrt()
}

impl ValueCtx<'_> {
    fn placeholder(&self) -> Vec<f64> {
        let mut v = PLACEHOLDER.to_vec();
        v[idx::DAYS_REST] = self.days_rest as f64;
        v[idx::BACK_TO_BACK] = f64::from(u8::from(self.days_rest == 0));
        v[idx::IS_HOME] = f64::from(u8::from(self.side.is_home));
        v
    }

    fn values(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let mut v = Vec::with_capacity(60);
        self.history(&mut v);
        self.schedule_context(&mut v);
        self.teams(&mut v, rng);
        self.skill(&mut v, rng);
        self.market(&mut v, rng);
        debug_assert_eq!(v.len(), FEATURE_NAMES.len());
        v.into_iter().map(q).collect()
    }

    fn played_last(&self, n: usize) -> Vec<&LogEntry> {
        self.before
            .iter()
            .rev()
            .filter(|e| e.played)
            .take(n)
            .collect()
    }

    fn history(&self, v: &mut Vec<f64>) {
        let last5 = self.played_last(5);
        let last10 = self.played_last(10);
        let last3 = self.played_last(3);
        let season: Vec<&LogEntry> = self
            .before
            .iter()
            .filter(|e| e.played && e.date >= self.season_start)
            .collect();
        let pts10: Vec<f64> = last10.iter().map(|e| e.points).collect();
        let min10 = mean(last10.iter().map(|e| e.minutes));
        let week = self.side.date - Duration::days(7);
        let recent10 = &self.before[self.before.len().saturating_sub(10)..];
        let vs_opp: Vec<&LogEntry> = self
            .before
            .iter()
            .filter(|e| e.played && e.opponent == self.side.opponent)
            .collect();
        v.extend([
            mean(last5.iter().map(|e| e.points)),
            mean(pts10.iter().copied()),
            mean(season.iter().map(|e| e.points)),
            std_dev(&pts10),
            min10,
            mean(season.iter().map(|e| e.minutes)),
            recent10.iter().filter(|e| e.played).count() as f64,
            self.before
                .iter()
                .filter(|e| e.played && e.date >= week)
                .count() as f64,
            mean(last3.iter().map(|e| e.points)) - mean(pts10.iter().copied()),
            mean(last3.iter().map(|e| e.minutes)) - min10,
            vs_opp.len() as f64,
            mean(vs_opp.iter().map(|e| e.points)),
            f64::from(u8::from(min10 >= 26.0)),
            recent10.len() as f64 * 10.0,
        ]);
    }

    fn schedule_context(&self, v: &mut Vec<f64>) {
        let opp_rest = self.side.rest(self.side.opponent) as f64;
        let rest = self.days_rest as f64;
        let games_7 = v[idx::GAMES_LAST_7_DAYS];
        let away = !self.side.is_home;
        let altitude = away && matches!(team_abbr(self.side.opponent), "DEN" | "UTA");
        let travel = if away {
            8.0 + 17.0 * (1.0 + unit(self.pair_hash(), 1))
        } else {
            0.0
        };
        let progress = (self.side.date - self.season_start).num_days() as f64 / 175.0 * 100.0;
        v.extend([
            rest,
            f64::from(u8::from(self.days_rest == 0)),
            f64::from(u8::from(self.side.is_home)),
            opp_rest,
            rest - opp_rest,
            (games_7 * 12.0 + v[idx::MINUTES_LAST_10] * 0.8 - rest * 6.0).clamp(0.0, 100.0),
            travel,
            f64::from(u8::from(altitude)),
            progress.min(100.0),
            self.before
                .iter()
                .filter(|e| e.played && e.date >= self.season_start)
                .count() as f64,
        ]);
    }

    fn pair_hash(&self) -> u64 {
        let (a, b) = (
            self.side.team.min(self.side.opponent),
            self.side.team.max(self.side.opponent),
        );
        fnv1a([a as u8, b as u8])
    }

    /// Ratings are stable per team and season.
    fn rating(&self, team: usize, salt: u64) -> f64 {
        let year = season_of(self.side.date);
        unit(fnv1a([team as u8, year as u8, (year >> 8) as u8]), salt)
    }

    fn teams(&self, v: &mut Vec<f64>, rng: &mut ChaCha8Rng) {
        let (t, o) = (self.side.team, self.side.opponent);
        let team_pace = 99.0 + 3.0 * self.rating(t, 3);
        let opp_pace = 99.0 + 3.0 * self.rating(o, 3);
        v.extend([
            113.0 + 6.0 * self.rating(t, 1),
            113.0 + 6.0 * self.rating(t, 2),
            team_pace,
            50.0 + 22.0 * self.rating(t, 4),
            113.0 + 6.0 * self.rating(o, 1),
            113.0 + 6.0 * self.rating(o, 2),
            opp_pace,
            50.0 + 22.0 * self.rating(o, 4),
            22.0 + 3.0 * self.rating(o, 5) + unit(self.player_hash, 6),
            (15.5 + 14.5 * self.rating(o, 5)).round(),
            (team_pace + opp_pace) / 2.0 - 99.0,
            (rng.random::<f64>() * 3.0 * rng.random::<f64>()).max(0.0),
        ]);
    }

    fn skill(&self, v: &mut Vec<f64>, rng: &mut ChaCha8Rng) {
        let h = self.player_hash;
        let min10 = v[idx::MINUTES_LAST_10].max(1.0);
        let per36 = min10 / 36.0;
        let mut noise = |scale: f64| scale * normal(rng);
        let three_share = 30.0 + 15.0 * unit(h, 7);
        let paint_share = 40.0 - 0.6 * (three_share - 30.0) + 8.0 * unit(h, 8);
        v.extend([
            (14.0 + 16.0 * self.quality + noise(1.5)).max(5.0),
            (56.0 + 6.0 * self.quality + noise(2.0)).clamp(40.0, 72.0),
            (45.0 + 5.0 * self.quality + 4.0 * unit(h, 9) + noise(2.0)).clamp(30.0, 65.0),
            (35.0 + 4.0 * unit(h, 10) + noise(2.5)).clamp(20.0, 48.0),
            (77.0 + 8.0 * unit(h, 11) + noise(3.0)).clamp(50.0, 95.0),
            (per36 * (7.0 + 4.0 * unit(h, 12)) + noise(0.6)).max(0.0),
            (per36 * (3.5 + 2.5 * unit(h, 13)) * (0.6 + self.quality) + noise(0.4)).max(0.0),
            (per36 * (1.0 + 0.3 * unit(h, 14)) + noise(0.15)).max(0.0),
            (per36 * (0.6 + 0.5 * unit(h, 15)) + noise(0.15)).max(0.0),
            (per36 * (1.5 + 0.8 * self.quality) + noise(0.2)).max(0.0),
            (per36 * three_share / 5.0 + noise(0.5)).max(0.0),
            (per36 * (2.0 + 5.0 * self.quality) + noise(0.4)).max(0.0),
            paint_share,
            100.0 - paint_share - three_share - 15.0,
            three_share,
            noise(2.0).clamp(-6.0, 6.0),
        ]);
    }

    fn market(&self, v: &mut Vec<f64>, rng: &mut ChaCha8Rng) {
        let line =
            ((0.8 * v[idx::POINTS_LAST_10] + 0.2 * v[idx::POINTS_SEASON]) * 2.0).round() / 2.0;
        let has_line = v[idx::MINUTES_LAST_10] >= 14.0;
        let opening = if has_line {
            line + 0.5 * (rng.random_range(-2..=2) as f64)
        } else {
            0.0
        };
        let line = if has_line { line } else { 0.0 };
        let strength = v[idx::TEAM_WIN_PCT] - v[idx::OPPONENT_WIN_PCT];
        let home = if self.side.is_home { 1.0 } else { -1.0 };
        let spread = (-(strength / 3.0) - 2.5 * home + 2.0 * normal(rng))
            .round()
            .clamp(-16.0, 16.0);
        v.extend([
            (v[idx::POINTS_TREND] / 3.0 + 0.5 * normal(rng)).clamp(-4.0, 4.0),
            (2.0 + 6.0 * rng.random::<f64>().powi(3) + 0.1 * self.before.len().min(10) as f64)
                .min(10.0),
            line,
            opening,
            line - opening,
            f64::from(u8::from(has_line)),
            spread,
            (v[idx::TEAM_PACE] + v[idx::OPPONENT_PACE] + 26.0 + 4.0 * normal(rng)).round(),
        ]);
    }
}

/// Fills ~0.4% of records the way the first processor version did (found = expected =
/// min(c60, 10) from the 60-day window alone, always complete): half of them on the
/// newest game days (newest first; the oldest of those days only in part), half picked
/// among the records where that differs from the correct struct.
fn prefill(records: &mut [FeatureRecord], league: &League, kept: &[GameRow], rng: &mut ChaCha8Rng) {
    let target = ((records.len() as f64) * PREFILLED_SHARE).round() as usize;
    let mut dates = vec![Vec::new(); league.players.len()];
    for r in kept {
        dates[r.player].push(r.date);
    }
    let mut chosen = Vec::new();
    let mut newest = target / 2;
    let mut end = records.len();
    while newest > 0 && end > 0 {
        let day = records[end - 1].date;
        let begin = records[..end].partition_point(|r| r.date < day);
        chosen.extend(pick(begin..end, newest, rng));
        newest = newest.saturating_sub(end - begin);
        end = begin;
    }
    let wrong: Vec<usize> = (0..end)
        .filter(|&i| v15_is_wrong(&dates[records[i].player], records[i].date))
        .collect();
    let picked = pick(0..wrong.len(), target - chosen.len(), rng);
    chosen.extend(picked.into_iter().map(|k| wrong[k]));
    for i in chosen {
        let r = &mut records[i];
        r.completeness = Some(buggy_completeness(&dates[r.player], r.date));
        r.updated_us = Some(r.created_us + rng.random_range(600..7200) * 1_000_000);
    }
}

/// Whether v1.5's struct differs from the correct one: fewer than ten games in 60 days
/// but more in the year (the correct `games_expected` is larger).
fn v15_is_wrong(dates: &[NaiveDate], day: NaiveDate) -> bool {
    let count = |days: i64| {
        let from = day - Duration::days(days);
        dates.iter().filter(|d| **d >= from && **d < day).count()
    };
    let c60 = count(i64::from(WINDOW_DAYS));
    c60 > 0 && c60 < WINDOW_GAMES && count(365) > c60
}

/// All of `range` if it fits in `n`, else `n` random members of it.
fn pick(range: std::ops::Range<usize>, n: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let all: Vec<usize> = range.collect();
    if all.len() <= n {
        return all;
    }
    rand::seq::index::sample(rng, all.len(), n)
        .into_iter()
        .map(|k| all[k])
        .collect()
}

/// The first processor's struct: everything from the 60-day window.
fn buggy_completeness(dates: &[NaiveDate], day: NaiveDate) -> HistoricalCompleteness {
    let from = day - Duration::days(i64::from(WINDOW_DAYS));
    let mut window: Vec<NaiveDate> = dates
        .iter()
        .copied()
        .filter(|d| *d >= from && *d < day)
        .collect();
    window.sort_unstable_by(|a, b| b.cmp(a));
    window.truncate(WINDOW_GAMES);
    let n = window.len() as i64;
    HistoricalCompleteness {
        games_found: n,
        games_expected: n,
        is_complete: true,
        is_bootstrap: n < WINDOW_GAMES as i64,
        contributing_game_dates: window,
    }
}
