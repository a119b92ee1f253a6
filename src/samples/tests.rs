//! Checks of the generated warehouse, read back from the Arrow batches the way a
//! consumer would see them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use arrow::array::{
    Array, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, ListArray,
    StringArray, StructArray, TimestampMicrosecondArray,
};
use arrow::record_batch::RecordBatch;
use chrono::{Duration, NaiveDate, Timelike};

use super::features::{FEATURE_NAMES, data_hash, idx};
use super::schedule::{self, DIVISIONS, Season};
use super::{SampleData, SampleOptions, generate};
use crate::model::{
    HistoricalCompleteness, days_to_date, features_schema, games_schema, schedule_schema,
};

fn default_data() -> &'static SampleData {
    static DATA: OnceLock<SampleData> = OnceLock::new();
    DATA.get_or_init(|| generate(&SampleOptions::default()))
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A short range: the schedule still starts a season before, but leagues stay small.
fn short_options(seed: u64, scale: u32) -> SampleOptions {
    SampleOptions {
        seed,
        scale,
        start: ymd(2025, 11, 1),
        end: ymd(2025, 12, 15),
    }
}

fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> &'a T {
    b.column_by_name(name)
        .unwrap_or_else(|| panic!("column {name}"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("type of {name}"))
}

#[derive(Debug, Clone)]
struct GameView {
    lookup: String,
    date: NaiveDate,
    game_id: String,
    team: String,
    season: i64,
    active: bool,
    dnp: bool,
    status: String,
    minutes: Option<f64>,
    source: String,
    created_us: i64,
}

fn game_rows(data: &SampleData) -> Vec<GameView> {
    let mut out = Vec::new();
    for b in &data.games {
        let lookup = col::<StringArray>(b, "player_lookup");
        let date = col::<Date32Array>(b, "game_date");
        let id = col::<StringArray>(b, "game_id");
        let team = col::<StringArray>(b, "team_abbr");
        let season = col::<Int64Array>(b, "season_year");
        let active = col::<BooleanArray>(b, "is_active");
        let dnp = col::<BooleanArray>(b, "is_dnp");
        let status = col::<StringArray>(b, "player_status");
        let minutes = col::<Decimal128Array>(b, "minutes_played");
        let source = col::<StringArray>(b, "primary_source_used");
        let created = col::<TimestampMicrosecondArray>(b, "created_at");
        for i in 0..b.num_rows() {
            out.push(GameView {
                lookup: lookup.value(i).to_string(),
                date: days_to_date(date.value(i)),
                game_id: id.value(i).to_string(),
                team: team.value(i).to_string(),
                season: season.value(i),
                active: active.value(i),
                dnp: dnp.value(i),
                status: status.value(i).to_string(),
                minutes: minutes.is_valid(i).then(|| minutes.value(i) as f64 / 10.0),
                source: source.value(i).to_string(),
                created_us: created.value(i),
            });
        }
    }
    out
}

#[derive(Debug, Clone)]
struct ScheduleView {
    game_id: String,
    date: NaiveDate,
    season: i64,
    /// The view's `game_type`: regular, preseason, all_star, play_in, first_round, …
    kind: String,
    home: String,
    away: String,
    status: i64,
    regular: bool,
    playoffs: bool,
    all_star: bool,
}

impl ScheduleView {
    fn is_final(&self) -> bool {
        self.status == 3
    }
}

fn schedule_rows(data: &SampleData) -> Vec<ScheduleView> {
    let mut out = Vec::new();
    for b in &data.schedule {
        let id = col::<StringArray>(b, "game_id");
        let date = col::<Date32Array>(b, "game_date");
        let season = col::<Int64Array>(b, "season_year");
        let kind = col::<StringArray>(b, "game_type");
        let home = col::<StringArray>(b, "home_team_tricode");
        let away = col::<StringArray>(b, "away_team_tricode");
        let status = col::<Int64Array>(b, "game_status");
        let regular = col::<BooleanArray>(b, "is_regular_season");
        let playoffs = col::<BooleanArray>(b, "is_playoffs");
        let all_star = col::<BooleanArray>(b, "is_all_star");
        for i in 0..b.num_rows() {
            out.push(ScheduleView {
                game_id: id.value(i).to_string(),
                date: days_to_date(date.value(i)),
                season: season.value(i),
                kind: kind.value(i).to_string(),
                home: home.value(i).to_string(),
                away: away.value(i).to_string(),
                status: status.value(i),
                regular: regular.value(i),
                playoffs: playoffs.value(i),
                all_star: all_star.value(i),
            });
        }
    }
    out
}

/// The final rows only (the raw table's stale duplicates and future games left out).
fn final_games(data: &SampleData) -> Vec<ScheduleView> {
    schedule_rows(data)
        .into_iter()
        .filter(ScheduleView::is_final)
        .collect()
}

#[derive(Debug, Clone)]
struct FeatureView {
    lookup: String,
    universal_id: String,
    date: NaiveDate,
    game_id: String,
    values: Vec<f64>,
    names: Vec<String>,
    source: String,
    hash: String,
    quality: f64,
    completeness: Option<HistoricalCompleteness>,
    created_us: i64,
    updated_us: Option<i64>,
}

fn completeness_at(s: &StructArray, i: usize) -> Option<HistoricalCompleteness> {
    if s.is_null(i) {
        return None;
    }
    let int = |name: &str| col_of::<Int64Array>(s, name).value(i);
    let flag = |name: &str| col_of::<BooleanArray>(s, name).value(i);
    let list = col_of::<ListArray>(s, "contributing_game_dates").value(i);
    let dates = list.as_any().downcast_ref::<Date32Array>().unwrap();
    Some(HistoricalCompleteness {
        games_found: int("games_found"),
        games_expected: int("games_expected"),
        is_complete: flag("is_complete"),
        is_bootstrap: flag("is_bootstrap"),
        contributing_game_dates: dates.values().iter().map(|d| days_to_date(*d)).collect(),
    })
}

fn col_of<'a, T: 'static>(s: &'a StructArray, name: &str) -> &'a T {
    s.column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<T>()
        .unwrap()
}

fn f64_list(l: &ListArray, i: usize) -> Vec<f64> {
    let v = l.value(i);
    v.as_any()
        .downcast_ref::<Float64Array>()
        .unwrap()
        .values()
        .to_vec()
}

fn string_list(l: &ListArray, i: usize) -> Vec<String> {
    let v = l.value(i);
    let a = v.as_any().downcast_ref::<StringArray>().unwrap();
    a.iter().map(|s| s.unwrap().to_string()).collect()
}

fn feature_rows(data: &SampleData) -> Vec<FeatureView> {
    let mut out = Vec::new();
    for b in &data.features {
        let lookup = col::<StringArray>(b, "player_lookup");
        let upid = col::<StringArray>(b, "universal_player_id");
        let date = col::<Date32Array>(b, "game_date");
        let id = col::<StringArray>(b, "game_id");
        let values = col::<ListArray>(b, "features");
        let names = col::<ListArray>(b, "feature_names");
        let source = col::<StringArray>(b, "data_source");
        let hash = col::<StringArray>(b, "data_hash");
        let quality = col::<Decimal128Array>(b, "feature_quality_score");
        let hc = col::<StructArray>(b, "historical_completeness");
        let created = col::<TimestampMicrosecondArray>(b, "created_at");
        let updated = col::<TimestampMicrosecondArray>(b, "updated_at");
        for i in 0..b.num_rows() {
            out.push(FeatureView {
                lookup: lookup.value(i).to_string(),
                universal_id: upid.value(i).to_string(),
                date: days_to_date(date.value(i)),
                game_id: id.value(i).to_string(),
                values: f64_list(values, i),
                names: string_list(names, i),
                source: source.value(i).to_string(),
                hash: hash.value(i).to_string(),
                quality: quality.value(i) as f64 / 100.0,
                completeness: completeness_at(hc, i),
                created_us: created.value(i),
                updated_us: updated.is_valid(i).then(|| updated.value(i)),
            });
        }
    }
    out
}

fn total_rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

fn regular(rows: &[ScheduleView], season: i64) -> Vec<&ScheduleView> {
    rows.iter()
        .filter(|g| g.season == season && g.regular && g.is_final())
        .collect()
}

fn micros_to_datetime(us: i64) -> chrono::NaiveDateTime {
    chrono::DateTime::from_timestamp_micros(us)
        .unwrap()
        .naive_utc()
}

#[test]
fn same_options_give_identical_batches_and_another_seed_differs() {
    let again = generate(&SampleOptions::default());
    let first = default_data();
    assert_eq!(first.features, again.features);
    assert_eq!(first.games, again.games);
    assert_eq!(first.schedule, again.schedule);
    assert_eq!(first.injected, again.injected);
    let other = generate(&SampleOptions {
        seed: 43,
        ..SampleOptions::default()
    });
    assert_ne!(first.features, other.features);
    assert_ne!(first.games, other.games);
    assert_ne!(first.schedule, other.schedule);
}

#[test]
fn batches_have_exactly_the_model_schemas() {
    let data = default_data();
    let tables = [
        (&data.features, features_schema()),
        (&data.games, games_schema()),
        (&data.schedule, schedule_schema()),
    ];
    for (batches, schema) in tables {
        assert!(!batches.is_empty());
        for b in batches {
            assert_eq!(*b.schema(), *schema);
            assert!(b.num_rows() <= 65_536);
        }
    }
}

#[test]
fn default_totals_match_the_production_table() {
    let data = default_data();
    let features = feature_rows(data);
    let days: HashSet<NaiveDate> = features.iter().map(|f| f.date).collect();
    assert!(
        (270..=285).contains(&days.len()),
        "{} feature days",
        days.len()
    );
    assert!(
        (40_000..=48_000).contains(&features.len()),
        "{} records",
        features.len()
    );
    let per_day = features.len() as f64 / days.len() as f64;
    assert!(
        (150.0..=180.0).contains(&per_day),
        "{per_day} records per day"
    );
    let games = total_rows(&data.games);
    assert!((78_000..=100_000).contains(&games), "{games} game rows");
    let prefilled = features.iter().filter(|f| f.completeness.is_some()).count();
    assert!((150..=200).contains(&prefilled), "{prefilled} prefilled");
    let first = features.first().unwrap().date;
    let last = features.last().unwrap().date;
    assert!(first >= ymd(2024, 11, 6) && last <= ymd(2026, 1, 22));
}

#[test]
fn thirty_teams_play_82_regular_games_41_at_home() {
    let rows = final_games(default_data());
    let all: Vec<&str> = DIVISIONS.iter().flatten().copied().collect();
    for season in [2023, 2024] {
        let games = regular(&rows, season);
        assert_eq!(games.len(), 1230);
        let mut total: HashMap<&str, usize> = HashMap::new();
        let mut home: HashMap<&str, usize> = HashMap::new();
        for g in games {
            *total.entry(&g.home).or_default() += 1;
            *total.entry(&g.away).or_default() += 1;
            *home.entry(&g.home).or_default() += 1;
            // NBA.com ids: 00, type 2 (regular season), the season's two digits, a number.
            assert!(
                g.game_id.starts_with(&format!("002{}", season % 100)) && g.game_id.len() == 10,
                "{}",
                g.game_id
            );
        }
        assert_eq!(total.len(), 30);
        for team in &all {
            assert_eq!(total[team], 82, "{team} in {season}");
            assert_eq!(home[team], 41, "{team} at home in {season}");
        }
    }
}

#[test]
fn schedule_has_back_to_backs_and_realistic_daily_slates() {
    let rows = final_games(default_data());
    for season in [2023, 2024] {
        let games = regular(&rows, season);
        let mut by_team: HashMap<&str, Vec<NaiveDate>> = HashMap::new();
        let mut by_day: BTreeMap<NaiveDate, usize> = BTreeMap::new();
        for g in &games {
            by_team.entry(&g.home).or_default().push(g.date);
            by_team.entry(&g.away).or_default().push(g.date);
            *by_day.entry(g.date).or_default() += 1;
        }
        for (team, dates) in &mut by_team {
            dates.sort();
            let gaps: Vec<i64> = dates.windows(2).map(|w| (w[1] - w[0]).num_days()).collect();
            assert!(!gaps.contains(&0), "{team} plays twice a day");
            let b2b = gaps.iter().filter(|g| **g == 1).count();
            assert!(
                (10..=20).contains(&b2b),
                "{team}: {b2b} back-to-backs in {season}"
            );
            let three_in_three = gaps.windows(2).any(|w| w == [1, 1]);
            assert!(!three_in_three, "{team} plays three days running");
        }
        let mean = 1230.0 / by_day.len() as f64;
        assert!((6.5..=8.5).contains(&mean), "{mean} games a day");
        assert!(by_day.values().all(|n| (2..=15).contains(n)));
        let ordinary = by_day.values().filter(|n| (4..=12).contains(*n)).count();
        assert!(ordinary as f64 >= 0.9 * by_day.len() as f64);
        let season_dates = Season::new(season as i32);
        assert_eq!(*by_day.keys().next().unwrap(), season_dates.start);
        assert_eq!(*by_day.keys().last().unwrap(), season_dates.regular_end);
    }
}

#[test]
fn regular_seasons_finish_on_time_for_other_seeds() {
    for seed in 0..4 {
        let sched = schedule::build(seed, 2023, ymd(2025, 7, 1));
        for season in &sched.seasons {
            let last = sched
                .games
                .iter()
                .filter(|g| g.season == season.year && g.kind == schedule::SeasonType::Regular)
                .map(|g| g.date)
                .max()
                .unwrap();
            assert_eq!(
                last, season.regular_end,
                "seed {seed}, season {}",
                season.year
            );
        }
    }
}

#[test]
fn no_regular_games_during_the_all_star_break() {
    let data = default_data();
    let rows = final_games(data);
    let row_dates: HashSet<NaiveDate> = game_rows(data).into_iter().map(|g| g.date).collect();
    for season in [2023, 2024] {
        let s = Season::new(season);
        for g in regular(&rows, i64::from(season)) {
            assert!(!s.in_all_star_break(g.date), "{} in the break", g.game_id);
        }
        let break_days: HashSet<NaiveDate> = rows
            .iter()
            .filter(|g| {
                g.date >= s.all_star - Duration::days(2) && g.date <= s.all_star + Duration::days(3)
            })
            .map(|g| g.date)
            .collect();
        assert_eq!(break_days, HashSet::from([s.all_star]));
        let asg: Vec<_> = rows
            .iter()
            .filter(|g| g.all_star && g.season == i64::from(season))
            .collect();
        assert_eq!(asg.len(), 1);
        assert_eq!(asg[0].kind, "all_star");
        assert!(!asg[0].regular && !asg[0].playoffs);
        assert!(
            !row_dates.contains(&asg[0].date),
            "the All-Star game has no player rows"
        );
    }
}

#[test]
fn postseason_has_fewer_teams_and_ends_in_june() {
    let all = schedule_rows(default_data());
    let rows = final_games(default_data());
    for season in [2023, 2024] {
        let teams = |round: &str| -> HashSet<&str> {
            rows.iter()
                .filter(|g| g.season == season && g.kind == round)
                .flat_map(|g| [g.home.as_str(), g.away.as_str()])
                .collect()
        };
        assert_eq!(teams("play_in").len(), 8);
        assert_eq!(teams("first_round").len(), 16);
        assert_eq!(teams("conf_semifinals").len(), 8);
        assert_eq!(teams("conf_finals").len(), 4);
        assert_eq!(teams("finals").len(), 2);
        assert!(
            rows.iter()
                .filter(|g| g.season == season && g.playoffs)
                .all(|g| !g.regular
                    && g.game_id
                        .starts_with(if g.kind == "play_in" { "005" } else { "004" }))
        );
        let last = rows
            .iter()
            .filter(|g| g.season == season)
            .map(|g| g.date)
            .max()
            .unwrap();
        assert_eq!(
            last.format("%m").to_string(),
            "06",
            "season {season} ends {last}"
        );
        let playoff_games = rows
            .iter()
            .filter(|g| g.season == season && g.playoffs && g.kind != "play_in")
            .count();
        assert!((60..=105).contains(&playoff_games));
    }
    let end = ymd(2026, 1, 22);
    let kinds = |after_end: bool, status: i64| -> HashSet<&str> {
        all.iter()
            .filter(|g| g.season == 2025 && g.status == status && (g.date > end) == after_end)
            .map(|g| g.kind.as_str())
            .collect()
    };
    assert_eq!(
        kinds(false, 3),
        HashSet::from(["preseason", "regular"]),
        "2025-26 is played up to the end date"
    );
    assert!(
        kinds(true, 3).is_empty(),
        "nothing after the end date is final"
    );
    assert_eq!(
        kinds(true, 1),
        HashSet::from(["regular"]),
        "the rest is scheduled"
    );
    let upcoming = all.iter().filter(|g| g.date > end).count();
    assert!(
        (500..=700).contains(&upcoming),
        "{upcoming} games after the end"
    );
}

#[test]
fn the_raw_schedule_holds_some_games_twice_and_a_preseason() {
    let data = default_data();
    let rows = schedule_rows(data);
    let mut per_id: HashMap<&str, Vec<i64>> = HashMap::new();
    for g in &rows {
        per_id.entry(&g.game_id).or_default().push(g.status);
    }
    let twice = per_id.values().filter(|s| s.len() == 2).count();
    assert!((20..=120).contains(&twice), "{twice} games twice");
    assert!(
        per_id
            .values()
            .all(|s| s.len() <= 2 && (s.len() == 1 || s.contains(&3)))
    );
    let row_dates: HashSet<NaiveDate> = game_rows(data).into_iter().map(|g| g.date).collect();
    for season in [2024, 2025] {
        let pre: Vec<&ScheduleView> = rows
            .iter()
            .filter(|g| g.season == season && g.kind == "preseason")
            .collect();
        assert!(pre.len() >= 50, "{} preseason games", pre.len());
        let opening = Season::new(season as i32).start;
        for g in pre {
            assert!(g.date < opening && !g.regular && !g.playoffs);
            assert!(g.game_id.starts_with("001"));
            assert!(!row_dates.contains(&g.date), "no rows for preseason games");
        }
        // Production's season start: the first final regular-season game.
        let first = rows
            .iter()
            .filter(|g| g.season == season && g.regular && g.is_final())
            .map(|g| g.date)
            .min();
        assert_eq!(first, Some(opening));
    }
}

#[test]
fn box_score_games_have_only_active_rows() {
    let rows = game_rows(default_data());
    let mut per_game: HashMap<&str, (&str, usize, usize)> = HashMap::new();
    for r in &rows {
        let e = per_game.entry(&r.game_id).or_insert((&r.source, 0, 0));
        assert_eq!(e.0, r.source, "one source per game");
        e.1 += 1;
        e.2 += usize::from(r.status != "active");
    }
    let box_scores: Vec<_> = per_game
        .values()
        .filter(|(s, _, _)| *s != "nbac_gamebook")
        .collect();
    let share = box_scores.len() as f64 / per_game.len() as f64;
    assert!((0.08..=0.16).contains(&share), "{share} box-score games");
    assert!(box_scores.iter().all(|(_, _, inactive)| *inactive == 0));
    let gamebook_with_dnp = per_game
        .values()
        .filter(|(s, _, inactive)| *s == "nbac_gamebook" && *inactive > 0)
        .count();
    assert!(gamebook_with_dnp as f64 >= 0.99 * (per_game.len() - box_scores.len()) as f64);
}

#[test]
fn feature_keys_are_unique_and_ordered() {
    let features = feature_rows(default_data());
    let mut seen = HashSet::new();
    for f in &features {
        assert!(
            seen.insert((f.lookup.clone(), f.date)),
            "duplicate {} {}",
            f.lookup,
            f.date
        );
    }
    let keys: Vec<(NaiveDate, &str)> = features
        .iter()
        .map(|f| (f.date, f.lookup.as_str()))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn game_rows_are_unique_per_player_and_game() {
    let rows = game_rows(default_data());
    let mut seen = HashSet::new();
    for r in &rows {
        assert!(
            seen.insert((r.lookup.clone(), r.game_id.clone())),
            "{} {}",
            r.lookup,
            r.game_id
        );
        assert!(
            r.lookup.bytes().all(|c| c.is_ascii_lowercase()),
            "{}",
            r.lookup
        );
    }
}

#[test]
fn missing_days_have_scheduled_games_but_no_rows() {
    let data = default_data();
    assert_eq!(data.injected.missing_days.len(), 1);
    let rows = game_rows(data);
    let sched = final_games(data);
    for day in &data.injected.missing_days {
        assert!((ymd(2024, 11, 6)..=ymd(2026, 1, 22)).contains(day));
        let scheduled = sched.iter().filter(|g| g.date == *day && g.regular).count();
        assert!(scheduled >= 5, "{scheduled} games on {day}");
        assert!(!rows.iter().any(|r| r.date == *day), "rows on {day}");
        let features = feature_rows(data)
            .into_iter()
            .filter(|f| f.date == *day)
            .count();
        assert!(features > 100, "feature records still exist on {day}");
    }
}

#[test]
fn missing_rows_are_absent_but_their_games_exist() {
    let data = default_data();
    let rows = game_rows(data);
    let keys: HashSet<(&str, &str)> = rows
        .iter()
        .map(|r| (r.lookup.as_str(), r.game_id.as_str()))
        .collect();
    let games: HashSet<&str> = rows.iter().map(|r| r.game_id.as_str()).collect();
    // player_game_summary's ids name the date and teams: `YYYYMMDD_AWAY_HOME`.
    let scheduled: HashSet<String> = final_games(data)
        .into_iter()
        .map(|g| format!("{}_{}_{}", g.date.format("%Y%m%d"), g.away, g.home))
        .collect();
    let missing = &data.injected.missing_rows;
    assert_eq!(missing.len(), 20);
    for (player, date, game_id) in missing {
        assert!(!keys.contains(&(player.as_str(), game_id.as_str())));
        assert!(games.contains(game_id.as_str()), "{game_id} has other rows");
        assert!(scheduled.contains(game_id));
        assert!(game_id.starts_with(&date.format("%Y%m%d").to_string()));
        assert!(
            rows.iter().any(|r| &r.lookup == player),
            "{player} has other games"
        );
    }
}

#[test]
fn prefilled_structs_follow_the_buggy_60_day_rule() {
    let data = default_data();
    let mut dates: HashMap<&str, Vec<NaiveDate>> = HashMap::new();
    let rows = game_rows(data);
    for r in &rows {
        dates.entry(&r.lookup).or_default().push(r.date);
    }
    let features = feature_rows(data);
    let newest = features.last().unwrap().date;
    let (mut checked, mut newest_day, mut wrong) = (0, 0, 0);
    for f in &features {
        let Some(hc) = &f.completeness else { continue };
        let count = |days: i64| -> Vec<NaiveDate> {
            let mut w: Vec<NaiveDate> = dates
                .get(f.lookup.as_str())
                .into_iter()
                .flatten()
                .copied()
                .filter(|d| *d >= f.date - Duration::days(days) && *d < f.date)
                .collect();
            w.sort_by(|a, b| b.cmp(a));
            w
        };
        let mut window = count(60);
        let c60 = window.len() as i64;
        window.truncate(10);
        let expected = HistoricalCompleteness {
            games_found: c60.min(10),
            games_expected: c60.min(10),
            is_complete: true,
            is_bootstrap: c60 < 10,
            contributing_game_dates: window,
        };
        assert_eq!(hc, &expected, "{} {}", f.lookup, f.date);
        assert!(f.updated_us.is_some(), "a written struct has an updated_at");
        // The correct games_expected counts the year (semantics.md).
        let c365 = count(365).len() as i64;
        wrong += usize::from(c60 > 0 && c60 < 10 && c365 > c60);
        newest_day += usize::from(f.date == newest);
        checked += 1;
    }
    assert!(checked as f64 >= 0.003 * features.len() as f64);
    assert!(
        newest_day * 4 >= checked,
        "{newest_day} of {checked} on the newest day"
    );
    assert!(
        wrong * 3 >= checked,
        "{wrong} of {checked} change under the correct rule"
    );
}

#[test]
fn scale_two_adds_a_second_league_with_disjoint_ids() {
    let one = generate(&short_options(42, 1));
    let two = generate(&short_options(42, 2));
    assert_eq!(one.schedule, two.schedule);
    let players = |d: &SampleData| -> HashSet<String> {
        game_rows(d).into_iter().map(|r| r.lookup).collect()
    };
    let (p1, p2) = (players(&one), players(&two));
    assert!(p1.is_subset(&p2));
    let extra: HashSet<&String> = p2.difference(&p1).collect();
    assert!(
        extra.iter().all(|p| p.ends_with("xone")),
        "league 1 ids are suffixed"
    );
    let ratio = extra.len() as f64 / p1.len() as f64;
    assert!((0.85..=1.15).contains(&ratio), "{ratio}");
    let ids = |d: &SampleData| -> HashSet<String> {
        feature_rows(d)
            .into_iter()
            .map(|f| f.universal_id)
            .collect()
    };
    let (u1, u2) = (ids(&one), ids(&two));
    assert_eq!(u2.len() - u1.len(), u2.difference(&u1).count());
    let ratio = total_rows(&two.features) as f64 / total_rows(&one.features) as f64;
    assert!((1.85..=2.15).contains(&ratio), "{ratio}");
    assert_eq!(two.injected.missing_rows.len(), 40);
}

#[test]
fn dnp_and_inactive_rows_are_consistent() {
    let rows = game_rows(default_data());
    let count = |s: &str| rows.iter().filter(|r| r.status == s).count();
    for status in ["active", "dnp", "out", "inactive"] {
        assert!(count(status) > 500, "{status}: {}", count(status));
    }
    for r in &rows {
        match r.status.as_str() {
            "dnp" => assert!(r.active && r.dnp && r.minutes == Some(0.0)),
            "active" => assert!(r.active && !r.dnp && r.minutes.unwrap() > 0.0),
            _ => assert!(!r.active && !r.dnp && r.minutes.is_none()),
        }
    }
    let share = count("active") as f64 / rows.len() as f64;
    assert!((0.75..=0.92).contains(&share), "{share}");
}

#[test]
fn minutes_add_up_per_team_game() {
    let rows = game_rows(default_data());
    let mut per_side: HashMap<(&str, &str), f64> = HashMap::new();
    for r in &rows {
        *per_side.entry((&r.game_id, &r.team)).or_default() += r.minutes.unwrap_or(0.0);
    }
    let odd = per_side
        .values()
        .filter(|m| !(225.0..=275.0).contains(*m))
        .count();
    assert!(
        odd * 200 < per_side.len(),
        "{odd} sides with odd minute totals"
    );
}

#[test]
fn players_are_traded_called_up_and_hurt() {
    let rows = game_rows(default_data());
    let mut teams: HashMap<(&str, i64), HashSet<&str>> = HashMap::new();
    let mut dates: HashMap<&str, Vec<NaiveDate>> = HashMap::new();
    for r in &rows {
        teams
            .entry((&r.lookup, r.season))
            .or_default()
            .insert(&r.team);
        dates.entry(&r.lookup).or_default().push(r.date);
    }
    let traded = teams.values().filter(|t| t.len() == 2).count();
    assert!(traded >= 3, "{traded} traded players");
    let late_starters = dates
        .values()
        .filter(|d| d[0] >= ymd(2023, 11, 20) && d[0].format("%m").to_string() != "10")
        .count();
    assert!(
        late_starters >= 5,
        "{late_starters} players called up mid-season"
    );
    // A long absence: a month or more without any row inside a regular season.
    let long_gaps = dates
        .values()
        .filter(|d| {
            d.windows(2)
                .any(|w| (w[1] - w[0]).num_days() >= 28 && w[1].format("%m").to_string() != "10")
        })
        .count();
    assert!(long_gaps >= 10, "{long_gaps} long absences");
}

#[test]
fn rows_arrive_the_next_morning_some_late() {
    let rows = game_rows(default_data());
    let next_morning = rows
        .iter()
        .filter(|r| {
            let t = micros_to_datetime(r.created_us);
            t.date() == r.date + Duration::days(1) && (8..=11).contains(&t.hour())
        })
        .count();
    let share = next_morning as f64 / rows.len() as f64;
    assert!((0.92..0.99).contains(&share), "{share} next morning");
    let weeks_late: HashSet<NaiveDate> = rows
        .iter()
        .filter(|r| micros_to_datetime(r.created_us).date() >= r.date + Duration::days(14))
        .map(|r| r.date)
        .collect();
    assert_eq!(weeks_late.len(), 1, "one late-backfilled day");
}

#[test]
fn feature_records_look_like_the_store() {
    let data = default_data();
    let features = feature_rows(data);
    let names: Vec<String> = FEATURE_NAMES.iter().map(|s| s.to_string()).collect();
    let mut sources: HashMap<&str, usize> = HashMap::new();
    for f in &features {
        assert_eq!(f.values.len(), 60);
        assert_eq!(f.names, names);
        assert!(
            f.values
                .iter()
                .all(|v| ((v * 10.0).round() - v * 10.0).abs() < 1e-6)
        );
        assert_eq!(f.hash, data_hash(&f.values));
        assert!((60.0..=100.0).contains(&f.quality));
        assert_eq!(f.universal_id, format!("{}_001", f.lookup));
        assert!(f.game_id.starts_with(&f.date.format("%Y%m%d").to_string()));
        let created = micros_to_datetime(f.created_us);
        assert_eq!((created.date(), created.hour()), (f.date, 15));
        assert!(f.updated_us.is_none_or(|u| u > f.created_us));
        *sources.entry(&f.source).or_default() += 1;
    }
    let phase4 = sources["phase4"] as f64 / features.len() as f64;
    assert!(phase4 > 0.75, "{phase4}");
    assert!(sources["phase3"] > 0 && sources["mixed"] > 0);
    // As in production, most records were inserted once and never re-merged.
    let never_updated = features.iter().filter(|f| f.updated_us.is_none()).count();
    let share = never_updated as f64 / features.len() as f64;
    assert!(
        (0.8..0.95).contains(&share),
        "{share} with a NULL updated_at"
    );
}

#[test]
fn placeholders_only_in_a_seasons_first_two_weeks() {
    let features = feature_rows(default_data());
    let opening = Season::new(2025).start;
    let early: Vec<&FeatureView> = features
        .iter()
        .filter(|f| f.source == "early_season")
        .collect();
    assert!(early.len() > 300, "{} placeholders", early.len());
    for f in &early {
        assert!(
            f.date >= opening && f.date < opening + Duration::days(14),
            "{}",
            f.date
        );
    }
}

#[test]
fn every_player_of_a_game_has_a_feature_record_unless_long_absent() {
    let data = default_data();
    let features: HashSet<(String, NaiveDate)> = feature_rows(data)
        .into_iter()
        .map(|f| (f.lookup, f.date))
        .collect();
    let rows = game_rows(data);
    let in_range = rows
        .iter()
        .filter(|r| r.date >= ymd(2024, 11, 6))
        .filter(|r| !features.contains(&(r.lookup.clone(), r.date)))
        .count();
    assert_eq!(in_range, 0, "rows without a feature record");
}

#[test]
fn players_leave_between_seasons_and_new_ones_arrive() {
    let rows = game_rows(default_data());
    let in_season = |season: i64| -> HashSet<&str> {
        rows.iter()
            .filter(|r| r.season == season)
            .map(|r| r.lookup.as_str())
            .collect()
    };
    let (old, new) = (in_season(2023), in_season(2025));
    let gone = old.difference(&new).count();
    let arrived = new.difference(&old).count();
    assert!((30..=200).contains(&gone), "{gone} players left");
    assert!((30..=200).contains(&arrived), "{arrived} players arrived");
}

#[test]
fn derived_feature_positions_name_the_right_features() {
    let named = [
        (idx::POINTS_LAST_10, "points_avg_last_10"),
        (idx::POINTS_SEASON, "points_avg_season"),
        (idx::MINUTES_LAST_10, "minutes_avg_last_10"),
        (idx::GAMES_LAST_7_DAYS, "games_in_last_7_days"),
        (idx::POINTS_TREND, "points_trend"),
        (idx::DAYS_REST, "days_rest"),
        (idx::BACK_TO_BACK, "back_to_back"),
        (idx::IS_HOME, "is_home"),
        (idx::TEAM_PACE, "team_pace"),
        (idx::TEAM_WIN_PCT, "team_win_pct"),
        (idx::OPPONENT_PACE, "opponent_pace"),
        (idx::OPPONENT_WIN_PCT, "opponent_win_pct"),
    ];
    for (i, name) in named {
        assert_eq!(FEATURE_NAMES[i], name);
    }
    let unique: HashSet<&str> = FEATURE_NAMES.iter().copied().collect();
    assert_eq!(unique.len(), 60);
}

#[test]
fn league_by_league_generation_gives_the_same_rows() {
    let opts = short_options(7, 2);
    let whole = generate(&opts);
    let mut features = Vec::new();
    let mut games = Vec::new();
    super::generate_leagues(&opts, |league| -> Result<(), ()> {
        features.extend(league.features);
        games.extend(league.games);
        Ok(())
    })
    .unwrap();
    let sorted_rows = |batches: &[RecordBatch]| {
        use arrow::util::display::{ArrayFormatter, FormatOptions};
        let mut rows: Vec<String> = Vec::new();
        for b in batches {
            let options = FormatOptions::default();
            let columns: Vec<_> = b
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
                .collect();
            for i in 0..b.num_rows() {
                let cells: Vec<String> = columns.iter().map(|c| c.value(i).to_string()).collect();
                rows.push(cells.join("|"));
            }
        }
        rows.sort();
        rows
    };
    assert_eq!(total_rows(&games), total_rows(&whole.games));
    // Compared without printing: the tables are large.
    assert!(
        sorted_rows(&games) == sorted_rows(&whole.games),
        "game rows differ"
    );
    assert!(
        sorted_rows(&features) == sorted_rows(&whole.features),
        "feature rows differ"
    );
}
