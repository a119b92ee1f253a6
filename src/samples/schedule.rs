//! The league schedule: real team tricodes and divisions, 82-game regular seasons with
//! back-to-backs and an All-Star break, then Play-In and Playoffs seeded from simulated
//! standings.
//!
//! Steps per season: 1. the 1230 matchups from the NBA formula (division 4 games,
//! conference 3 or 4, other conference 2; 41 home games each); 2. a greedy day-by-day
//! placement that favours the teams with the most games left, so every team finishes on
//! time; 3. standings from team strengths; 4. Play-In and best-of-7 series; 5. a
//! preseason in the two weeks before opening night.
//!
//! The table has the columns of production's `nba_reference.nba_schedule` view: NBA.com
//! game ids (`0022400123`; player_game_summary uses `20241022_NYK_BOS` instead), tricodes
//! and names, `game_status` (3 final, 1 scheduled: the rest of the season after the end
//! date), the `is_*` flags and `game_type`. Like the raw table behind the view, it holds
//! about 1% of games twice: a stale "scheduled" row beside the final one.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Date32Array, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::{chunks, fnv1a, normal, rng_for};
use crate::model::{date_to_days, schedule_schema};

/// Real divisions; index `d * 5 + i` is a team's id. Divisions 0..3 are the East.
pub const DIVISIONS: [[&str; 5]; 6] = [
    ["BOS", "BKN", "NYK", "PHI", "TOR"],
    ["CHI", "CLE", "DET", "IND", "MIL"],
    ["ATL", "CHA", "MIA", "ORL", "WAS"],
    ["DEN", "MIN", "OKC", "POR", "UTA"],
    ["GSW", "LAC", "LAL", "PHX", "SAC"],
    ["DAL", "HOU", "MEM", "NOP", "SAS"],
];
/// Team names, in the order of [`DIVISIONS`].
const TEAM_NAMES: [&str; 30] = [
    "Celtics",
    "Nets",
    "Knicks",
    "76ers",
    "Raptors",
    "Bulls",
    "Cavaliers",
    "Pistons",
    "Pacers",
    "Bucks",
    "Hawks",
    "Hornets",
    "Heat",
    "Magic",
    "Wizards",
    "Nuggets",
    "Timberwolves",
    "Thunder",
    "Trail Blazers",
    "Jazz",
    "Warriors",
    "Clippers",
    "Lakers",
    "Suns",
    "Kings",
    "Mavericks",
    "Rockets",
    "Grizzlies",
    "Pelicans",
    "Spurs",
];
pub const NUM_TEAMS: usize = 30;
/// Pseudo-teams of the All-Star game (never in player_game_summary).
const ALL_STAR_TEAMS: (&str, &str) = ("EST", "WST");

pub fn team_abbr(team: usize) -> &'static str {
    DIVISIONS[team / 5][team % 5]
}

fn conference(team: usize) -> usize {
    team / 15
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeasonType {
    Preseason,
    Regular,
    AllStar,
    PlayIn,
    Playoffs,
}

impl SeasonType {
    /// The type digit of an NBA.com game id (`00` + digit + season + sequence).
    fn id_digit(self) -> u32 {
        match self {
            SeasonType::Preseason => 1,
            SeasonType::Regular => 2,
            SeasonType::AllStar => 3,
            SeasonType::Playoffs => 4,
            SeasonType::PlayIn => 5,
        }
    }
}

/// One scheduled game. `home`/`away` are team ids; the All-Star game has none.
#[derive(Debug, Clone)]
pub struct Game {
    /// player_game_summary's game id, `YYYYMMDD_AWAY_HOME`.
    pub id: String,
    pub date: NaiveDate,
    pub season: i32,
    pub kind: SeasonType,
    pub home: Option<usize>,
    pub away: Option<usize>,
    /// `play_in`, `first_round`, … for postseason games.
    pub round: Option<&'static str>,
}

impl Game {
    fn new(date: NaiveDate, season: i32, kind: SeasonType, home: usize, away: usize) -> Game {
        let id = format!(
            "{}_{}_{}",
            date.format("%Y%m%d"),
            team_abbr(away),
            team_abbr(home)
        );
        Game {
            id,
            date,
            season,
            kind,
            home: Some(home),
            away: Some(away),
            round: (kind == SeasonType::PlayIn).then_some("play_in"),
        }
    }

    /// The two sides as (team, opponent, is_home), away first.
    pub fn sides(&self) -> Option<[(usize, usize, bool); 2]> {
        let (h, a) = (self.home?, self.away?);
        Some([(a, h, false), (h, a, true)])
    }
}

/// Key dates of one season (season year = the calendar year it starts in).
#[derive(Debug, Clone)]
pub struct Season {
    pub year: i32,
    pub start: NaiveDate,
    pub regular_end: NaiveDate,
    pub all_star: NaiveDate,
}

impl Season {
    pub fn new(year: i32) -> Season {
        let all_star = nth_weekday(year + 1, 2, Weekday::Sun, 3);
        Season {
            year,
            start: season_start(year),
            regular_end: nth_weekday(year + 1, 4, Weekday::Sun, 2),
            all_star,
        }
    }

    /// No regular games from the Friday before the All-Star game to the Wednesday after.
    pub fn in_all_star_break(&self, d: NaiveDate) -> bool {
        d >= self.all_star - Duration::days(2) && d <= self.all_star + Duration::days(3)
    }

    /// Roster contracts run from October 1 to June 30.
    pub fn roster_open(&self) -> NaiveDate {
        ymd(self.year, 10, 1)
    }

    pub fn roster_close(&self) -> NaiveDate {
        ymd(self.year + 1, 7, 1)
    }
}

/// Every season's games up to `end`, sorted by (date, id).
#[derive(Debug, Clone)]
pub struct Schedule {
    pub seasons: Vec<Season>,
    /// The games played by `end` (player_game_summary has rows for all but the All-Star
    /// game and the preseason's, which are in `preseason`).
    pub games: Vec<Game>,
    /// Preseason games played by `end`: in the schedule, never in player_game_summary.
    pub preseason: Vec<Game>,
    /// Regular-season games after `end`: scheduled, not played.
    pub upcoming: Vec<Game>,
    /// Per team, the dates it plays (all season types), ascending.
    pub team_dates: Vec<Vec<NaiveDate>>,
}

impl Schedule {
    pub fn season(&self, year: i32) -> Option<&Season> {
        self.seasons.iter().find(|s| s.year == year)
    }

    /// Days since the team's previous game (None for its first game).
    pub fn days_since_previous(&self, team: usize, date: NaiveDate) -> Option<i64> {
        let dates = &self.team_dates[team];
        let i = dates.partition_point(|d| *d < date);
        i.checked_sub(1).map(|p| (date - dates[p]).num_days())
    }
}

pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid calendar date")
}

/// `n`-th (1-based) `weekday` of a month.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n).expect("weekday exists")
}

/// Opening night: the real dates where known, else the Tuesday in October 18..=24.
pub fn season_start(year: i32) -> NaiveDate {
    match year {
        2021 => ymd(2021, 10, 19),
        2022 => ymd(2022, 10, 18),
        2023 => ymd(2023, 10, 24),
        2024 => ymd(2024, 10, 22),
        2025 => ymd(2025, 10, 21),
        _ => {
            let d = ymd(year, 10, 18);
            let ahead = (7 + 1 - d.weekday().num_days_from_monday() as i64) % 7;
            d + Duration::days(ahead)
        }
    }
}

/// Season year of a date: the season that started in October of that year or before.
pub fn season_of(d: NaiveDate) -> i32 {
    if d.month() >= 10 {
        d.year()
    } else {
        d.year() - 1
    }
}

/// Builds the schedule of every season from `first_season` through the one holding
/// `end`, dropping games after `end`.
pub fn build(seed: u64, first_season: i32, end: NaiveDate) -> Schedule {
    let mut seasons = Vec::new();
    let mut games = Vec::new();
    let mut preseason = Vec::new();
    for year in first_season..=season_of(end) {
        let season = Season::new(year);
        let mut rng = rng_for(seed, "schedule", year as u32);
        games.extend(season_games(&season, &mut rng));
        preseason.extend(preseason_games(
            &season,
            &mut rng_for(seed, "preseason", year as u32),
        ));
        seasons.push(season);
    }
    let by_key = |a: &Game, b: &Game| (a.date, &a.id).cmp(&(b.date, &b.id));
    let mut upcoming: Vec<Game> = games
        .iter()
        .filter(|g| g.date > end && g.kind == SeasonType::Regular)
        .cloned()
        .collect();
    upcoming.sort_by(by_key);
    games.retain(|g| g.date <= end);
    games.sort_by(by_key);
    preseason.retain(|g| g.date <= end);
    preseason.sort_by(by_key);
    let team_dates = team_dates(&games);
    Schedule {
        seasons,
        games,
        preseason,
        upcoming,
        team_dates,
    }
}

/// Five games a day on the twelve days before the last three before opening night:
/// about four a team.
fn preseason_games(season: &Season, rng: &mut ChaCha8Rng) -> Vec<Game> {
    let mut out = Vec::new();
    for back in 4..16 {
        let date = season.start - Duration::days(back);
        let mut teams: Vec<usize> = (0..NUM_TEAMS).collect();
        teams.shuffle(rng);
        for pair in teams.chunks(2).take(5) {
            out.push(Game::new(
                date,
                season.year,
                SeasonType::Preseason,
                pair[0],
                pair[1],
            ));
        }
    }
    out
}

fn team_dates(games: &[Game]) -> Vec<Vec<NaiveDate>> {
    let mut out = vec![Vec::new(); NUM_TEAMS];
    for g in games {
        for (team, _, _) in g.sides().into_iter().flatten() {
            out[team].push(g.date);
        }
    }
    out
}

fn season_games(season: &Season, rng: &mut ChaCha8Rng) -> Vec<Game> {
    let mut matchups = matchups();
    matchups.shuffle(rng);
    let mut games = place_regular(season, matchups, rng);
    let strength: Vec<f64> = (0..NUM_TEAMS).map(|_| normal(rng)).collect();
    let wins = simulate_wins(&games, &strength, rng);
    games.push(all_star_game(season));
    games.extend(postseason(season, &wins, &strength, rng));
    games
}

fn all_star_game(season: &Season) -> Game {
    let (home, away) = ALL_STAR_TEAMS;
    Game {
        id: format!("{}_{}_{}", season.all_star.format("%Y%m%d"), away, home),
        date: season.all_star,
        season: season.year,
        kind: SeasonType::AllStar,
        home: None,
        away: None,
        round: None,
    }
}

/// The 1230 (home, away) pairs of one regular season.
fn matchups() -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(1230);
    for a in 0..NUM_TEAMS {
        for b in 0..NUM_TEAMS {
            if a != b {
                for _ in 0..home_games(a, b) {
                    out.push((a, b));
                }
            }
        }
    }
    out
}

/// Home games of `a` against `b`. Between two divisions of one conference, team i of
/// the lower division plays teams i and i+1 of the other only three times, hosting the
/// third game against i and visiting i+1, so both sides keep 41 home games.
fn home_games(a: usize, b: usize) -> usize {
    let (da, db) = (a / 5, b / 5);
    if da == db {
        return 2;
    }
    if conference(a) != conference(b) {
        return 1;
    }
    let (lo, hi, a_is_lo) = if da < db { (a, b, true) } else { (b, a, false) };
    let (i, j) = (lo % 5, hi % 5);
    if j == i {
        if a_is_lo { 2 } else { 1 }
    } else if j == (i + 1) % 5 {
        if a_is_lo { 1 } else { 2 }
    } else {
        2
    }
}

/// Regular-season game days and how many games each should carry.
fn regular_days(season: &Season) -> Vec<(NaiveDate, usize)> {
    let thanksgiving = nth_weekday(season.year, 11, Weekday::Thu, 4);
    let christmas_eve = ymd(season.year, 12, 24);
    let mut days: Vec<(NaiveDate, f64)> = Vec::new();
    let mut d = season.start;
    while d <= season.regular_end {
        let off = d == thanksgiving || d == christmas_eve || season.in_all_star_break(d);
        if !off {
            days.push((d, day_weight(d)));
        }
        d += Duration::days(1);
    }
    apportion(&days, 1230)
}

/// Relative size of a game day: opening night and Christmas are small showcase slates,
/// Tuesdays/Thursdays/Sundays lighter than the rest.
fn day_weight(d: NaiveDate) -> f64 {
    if d.month() == 12 && d.day() == 25 {
        return 5.0;
    }
    match d.weekday() {
        Weekday::Mon => 8.0,
        Weekday::Tue => 6.5,
        Weekday::Wed => 10.0,
        Weekday::Thu => 5.5,
        Weekday::Fri => 9.0,
        Weekday::Sat => 8.5,
        Weekday::Sun => 6.5,
    }
}

/// Splits `total` games over the days in proportion to their weights (opening night 2).
fn apportion(days: &[(NaiveDate, f64)], total: usize) -> Vec<(NaiveDate, usize)> {
    let opening = 2usize;
    let weight: f64 = days.iter().skip(1).map(|d| d.1).sum();
    let k = (total - opening) as f64 / weight;
    let mut out = vec![(days[0].0, opening)];
    let mut cum = 0.0;
    let mut given = 0usize;
    for (date, w) in &days[1..] {
        cum += w * k;
        let now = cum.round() as usize;
        out.push((*date, now - given));
        given = now;
    }
    out
}

/// Back-to-backs per team and season to aim for.
const BACK_TO_BACKS: f64 = 14.0;

/// Rest state of every team while placing games.
struct Placement {
    left: [usize; NUM_TEAMS],
    last: [Option<NaiveDate>; NUM_TEAMS],
    before_last: [Option<NaiveDate>; NUM_TEAMS],
    back_to_backs: [usize; NUM_TEAMS],
    met: [[Option<NaiveDate>; NUM_TEAMS]; NUM_TEAMS],
}

impl Placement {
    fn played_on(&self, team: usize, d: NaiveDate) -> bool {
        self.last[team] == Some(d) || self.before_last[team] == Some(d)
    }

    /// A team may not play three days running.
    fn eligible(&self, team: usize, d: NaiveDate) -> bool {
        !(self.played_on(team, d - Duration::days(1))
            && self.played_on(team, d - Duration::days(2)))
    }

    /// Higher for teams further behind. A back-to-back costs nothing until the team is
    /// ahead of its share of them (14 a season, about the NBA's), so they spread evenly.
    fn score(&self, (h, a): (usize, usize), d: NaiveDate, days_left: f64) -> f64 {
        let mut s = (self.left[h] + self.left[a]) as f64 / days_left;
        let yesterday = d - Duration::days(1);
        for t in [h, a] {
            let allowed = (BACK_TO_BACKS * (82 - self.left[t]) as f64 / 82.0).ceil() as usize;
            if self.played_on(t, yesterday) && self.back_to_backs[t] >= allowed {
                s -= 0.3;
            }
        }
        if self.met[h][a].is_some_and(|m| (d - m).num_days() < 10) {
            s -= 0.3;
        }
        s
    }

    fn record(&mut self, (h, a): (usize, usize), d: NaiveDate) {
        for t in [h, a] {
            if self.played_on(t, d - Duration::days(1)) {
                self.back_to_backs[t] += 1;
            }
            self.left[t] -= 1;
            self.before_last[t] = self.last[t];
            self.last[t] = Some(d);
        }
        self.met[h][a] = Some(d);
        self.met[a][h] = Some(d);
    }
}

/// Places the matchups on days, greedily taking the most urgent eligible game. Games a
/// day could not take roll over to the next; leftovers after the last day (never seen
/// with real calendars) go on following days.
fn place_regular(
    season: &Season,
    mut pool: Vec<(usize, usize)>,
    rng: &mut ChaCha8Rng,
) -> Vec<Game> {
    let mut st = Placement {
        left: [82; NUM_TEAMS],
        last: [None; NUM_TEAMS],
        before_last: [None; NUM_TEAMS],
        back_to_backs: [0; NUM_TEAMS],
        met: [[None; NUM_TEAMS]; NUM_TEAMS],
    };
    let mut days = regular_days(season);
    let mut games = Vec::with_capacity(pool.len());
    let mut carry = 0usize;
    let mut i = 0;
    while !pool.is_empty() {
        if i == days.len() {
            let next = days[i - 1].0 + Duration::days(1);
            days.push((next, NUM_TEAMS / 2));
        }
        let (date, target) = days[i];
        let days_left = (days.len() - i) as f64;
        // The final day takes whatever is left, rest rules waived.
        let want = if i + 1 >= days.len() {
            pool.len()
        } else {
            target + carry
        };
        let placed = place_day(&mut st, &mut pool, date, want, days_left, rng);
        carry = (target + carry).saturating_sub(placed.len());
        games.extend(
            placed
                .into_iter()
                .map(|(h, a)| Game::new(date, season.year, SeasonType::Regular, h, a)),
        );
        i += 1;
    }
    games
}

/// Takes the day's games in score order, skipping teams already playing. Scores only
/// change for teams that play, so one scoring pass per day is exact.
fn place_day(
    st: &mut Placement,
    pool: &mut Vec<(usize, usize)>,
    date: NaiveDate,
    want: usize,
    days_left: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<(usize, usize)> {
    let final_day = days_left <= 1.0;
    let mut ranked: Vec<(usize, f64)> = pool
        .iter()
        .enumerate()
        .filter(|(_, (h, a))| final_day || (st.eligible(*h, date) && st.eligible(*a, date)))
        .map(|(k, m)| {
            (
                k,
                st.score(*m, date, days_left) + rng.random::<f64>() * 0.05,
            )
        })
        .collect();
    ranked.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    let mut busy = [false; NUM_TEAMS];
    let mut taken = Vec::new();
    for (k, _) in ranked {
        if taken.len() == want.min(NUM_TEAMS / 2) {
            break;
        }
        let (h, a) = pool[k];
        if !busy[h] && !busy[a] {
            busy[h] = true;
            busy[a] = true;
            taken.push(k);
        }
    }
    let out: Vec<(usize, usize)> = taken.iter().map(|&k| pool[k]).collect();
    for m in &out {
        st.record(*m, date);
    }
    taken.sort_unstable_by(|a, b| b.cmp(a));
    for k in taken {
        pool.swap_remove(k);
    }
    out
}

/// Regular-season wins from a logistic model with home advantage.
fn simulate_wins(games: &[Game], strength: &[f64], rng: &mut ChaCha8Rng) -> Vec<u32> {
    let mut wins = vec![0u32; NUM_TEAMS];
    for g in games {
        let (h, a) = (g.home.expect("team"), g.away.expect("team"));
        let winner = if home_wins(strength[h], strength[a], rng) {
            h
        } else {
            a
        };
        wins[winner] += 1;
    }
    wins
}

fn home_wins(home: f64, away: f64, rng: &mut ChaCha8Rng) -> bool {
    let p = 1.0 / (1.0 + (-(0.9 * (home - away) + 0.25)).exp());
    rng.random_bool(p)
}

/// Conference seeds 1..=15 (index 0 = first seed) by wins, strength breaking ties.
fn seeds(conf: usize, wins: &[u32], strength: &[f64]) -> Vec<usize> {
    let mut teams: Vec<usize> = (conf * 15..conf * 15 + 15).collect();
    teams.sort_by(|a, b| {
        wins[*b]
            .cmp(&wins[*a])
            .then(strength[*b].total_cmp(&strength[*a]))
    });
    teams
}

/// A playoff team: its conference seed (0 = first) and team id.
type Seeded = (usize, usize);

/// Play-In (Tue: East, Wed: West, Fri: both deciders) then four playoff rounds.
fn postseason(season: &Season, wins: &[u32], strength: &[f64], rng: &mut ChaCha8Rng) -> Vec<Game> {
    let mut games = Vec::new();
    let tuesday = season.regular_end + Duration::days(2);
    let mut brackets = Vec::new();
    for conf in 0..2 {
        let s = seeds(conf, wins, strength);
        let day1 = tuesday + Duration::days(conf as i64);
        let friday = tuesday + Duration::days(3);
        let mut play = |home: usize, away: usize, date: NaiveDate| {
            games.push(Game::new(date, season.year, SeasonType::PlayIn, home, away));
            if home_wins(strength[home], strength[away], rng) {
                (home, away)
            } else {
                (away, home)
            }
        };
        let (seventh, loser78) = play(s[6], s[7], day1);
        let (winner910, _) = play(s[8], s[9], day1);
        let (eighth, _) = play(loser78, winner910, friday);
        let order = [(0, s[0]), (7, eighth), (3, s[3]), (4, s[4])];
        let rest = [(2, s[2]), (5, s[5]), (1, s[1]), (6, seventh)];
        brackets.push(order.into_iter().chain(rest).collect());
    }
    let first_round = season.regular_end + Duration::days(6);
    let ctx = SeriesCtx {
        year: season.year,
        strength,
    };
    games.extend(playoffs(&ctx, brackets, wins, first_round, rng));
    games
}

struct SeriesCtx<'a> {
    year: i32,
    strength: &'a [f64],
}

impl SeriesCtx<'_> {
    /// A best-of-7 series from `start`, `top` hosting games 1, 2, 5 and 7, with the
    /// given day gaps between games (cycled). Returns the games and the winner.
    fn series(
        &self,
        (top, low): (usize, usize),
        start: NaiveDate,
        gaps: &[i64],
        rng: &mut ChaCha8Rng,
    ) -> (Vec<Game>, usize) {
        let (mut w_top, mut w_low) = (0, 0);
        let mut games = Vec::new();
        let mut date = start;
        for n in 0..7 {
            let (home, away) = if matches!(n, 0 | 1 | 4 | 6) {
                (top, low)
            } else {
                (low, top)
            };
            games.push(Game::new(date, self.year, SeasonType::Playoffs, home, away));
            let home_won = home_wins(self.strength[home], self.strength[away], rng);
            if home_won == (home == top) {
                w_top += 1;
            } else {
                w_low += 1;
            }
            if w_top == 4 || w_low == 4 {
                break;
            }
            date += Duration::days(gaps[n % gaps.len()]);
        }
        (games, if w_top == 4 { top } else { low })
    }
}

/// Conference rounds pair bracket neighbours, the better seed hosting; all series of a
/// round play every other day from two days after the previous round ends (in the
/// first round the West a day after the East, so there are games every night). The
/// Finals start four days after both conference finals end, every two or three days,
/// the team with more regular-season wins hosting.
fn playoffs(
    ctx: &SeriesCtx,
    mut brackets: Vec<Vec<Seeded>>,
    wins: &[u32],
    mut start: NaiveDate,
    rng: &mut ChaCha8Rng,
) -> Vec<Game> {
    let mut games = Vec::new();
    while brackets[0].len() > 1 {
        let mut last = start;
        let first_round = brackets[0].len() == 8;
        let round = match brackets[0].len() {
            8 => "first_round",
            4 => "conf_semifinals",
            _ => "conf_finals",
        };
        for (conf, bracket) in brackets.iter_mut().enumerate() {
            let mut next = Vec::new();
            let day = start + Duration::days(if first_round { conf as i64 } else { 0 });
            for pair in bracket.chunks(2) {
                let (top, low) = if pair[0].0 < pair[1].0 {
                    (pair[0], pair[1])
                } else {
                    (pair[1], pair[0])
                };
                let (g, w) = ctx.series((top.1, low.1), day, &[2], rng);
                last = last.max(g.last().expect("a series has games").date);
                games.extend(g.into_iter().map(|g| Game {
                    round: Some(round),
                    ..g
                }));
                next.push(if w == top.1 { top } else { low });
            }
            *bracket = next;
        }
        start = last + Duration::days(2);
    }
    let (east, west) = (brackets[0][0].1, brackets[1][0].1);
    let pair = if wins[east] >= wins[west] {
        (east, west)
    } else {
        (west, east)
    };
    let finals_start = start + Duration::days(2);
    let (g, _) = ctx.series(pair, finals_start, &[3, 3, 2], rng);
    games.extend(g.into_iter().map(|g| Game {
        round: Some("finals"),
        ..g
    }));
    games
}

/// One row of the schedule view.
struct ScheduleRow<'a> {
    game: &'a Game,
    nba_id: String,
    status: i64,
}

/// The schedule as `nba_schedule` batches: played games final (status 3), the stale
/// duplicates and the rest of the season scheduled (status 1), by date and id.
pub fn to_batches(sched: &Schedule) -> Vec<RecordBatch> {
    let mut sequence: std::collections::HashMap<(i32, u32), u32> = Default::default();
    let mut nba_id = |g: &Game| {
        let n = sequence.entry((g.season, g.kind.id_digit())).or_default();
        *n += 1;
        format!("00{}{:02}{:05}", g.kind.id_digit(), g.season % 100, n)
    };
    let mut played: Vec<&Game> = sched.games.iter().chain(&sched.preseason).collect();
    played.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    let mut rows = Vec::new();
    for game in played {
        let nba_id = nba_id(game);
        // About 1% of games also keep the row scraped before tip-off.
        if fnv1a(game.id.bytes()) % 100 == 0 {
            rows.push(ScheduleRow {
                game,
                nba_id: nba_id.clone(),
                status: 1,
            });
        }
        rows.push(ScheduleRow {
            game,
            nba_id,
            status: 3,
        });
    }
    for game in &sched.upcoming {
        let nba_id = nba_id(game);
        rows.push(ScheduleRow {
            game,
            nba_id,
            status: 1,
        });
    }
    chunks(&rows).map(schedule_batch).collect()
}

fn schedule_batch(rows: &[ScheduleRow]) -> RecordBatch {
    let tricode = |t: Option<usize>, fallback: &'static str| t.map_or(fallback, team_abbr);
    let name = |t: Option<usize>, fallback: &'static str| t.map_or(fallback, |t| TEAM_NAMES[t]);
    let flag = |f: fn(SeasonType) -> bool| -> ArrayRef {
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(f(r.game.kind))),
        ))
    };
    let text = |f: &dyn Fn(&ScheduleRow) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from_iter(rows.iter().map(f)))
    };
    let columns: Vec<ArrayRef> = vec![
        text(&|r| Some(r.nba_id.clone())),
        Arc::new(Date32Array::from_iter_values(
            rows.iter().map(|r| date_to_days(r.game.date)),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| i64::from(r.game.season)),
        )),
        text(&|r| Some(tricode(r.game.home, ALL_STAR_TEAMS.0).into())),
        text(&|r| Some(tricode(r.game.away, ALL_STAR_TEAMS.1).into())),
        text(&|r| Some(name(r.game.home, "Team East").into())),
        text(&|r| Some(name(r.game.away, "Team West").into())),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.status))),
        flag(|k| matches!(k, SeasonType::PlayIn | SeasonType::Playoffs)),
        flag(|k| k == SeasonType::Regular),
        flag(|k| k == SeasonType::AllStar),
        text(&|r| r.game.round.map(str::to_string)),
        text(&|r| Some(game_type(r.game).into())),
    ];
    RecordBatch::try_new(schedule_schema(), columns).expect("schedule columns match the schema")
}

/// The view's `game_type`: the round for postseason games, else the season type.
fn game_type(g: &Game) -> &'static str {
    match g.kind {
        SeasonType::PlayIn | SeasonType::Playoffs => g.round.unwrap_or("playoffs"),
        SeasonType::AllStar => "all_star",
        SeasonType::Regular => "regular",
        SeasonType::Preseason => "preseason",
    }
}
