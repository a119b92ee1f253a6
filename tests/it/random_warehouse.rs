//! Seeded random warehouses that hit the edges of semantics.md, written as local Delta
//! tables (then seeded into the emulator from them): the data of the pushdown's parity
//! test (`pushdown::seeded_random_warehouses_agree_with_the_local_kernel`).
//!
//! A port of the generator the pushdown SQL was first proven with
//! (`tests/emulators/pushdown_probe.py`): a few teams' schedules over three seasons,
//! players with absences and now and then two rows on a date, and targeted players with
//! rows exactly at D−60 / D−61 and D−365 / D−366, leap days at and inside the windows,
//! exactly 9, 10 and 11 rows, c60 = 0 with c365 > 0, a first game, records around two
//! season starts (one from the schedule, one from the fallback table) and NULL upstream
//! keys. Stored structs are NULL, right, wrong in one field, or have a NULL field.
//! [`Edges`] counts what a range actually hits, so the test can require every edge.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Int64Array, ListBuilder, RecordBatch, StringArray,
    StructArray, TimestampMicrosecondArray,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, Schema};
use chrono::{Datelike, Duration, NaiveDate};
use completeness::model::dates::{DateRange, SeasonCalendar, season_year};
use completeness::model::{HistoricalCompleteness, completeness_fields, date_to_days};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::oracle::{GameRow, oracle};
use crate::support::d;

/// A player_game_summary row: player (NULL allowed), date (NULL allowed), game id.
#[derive(Debug, Clone)]
pub struct Game {
    pub player: Option<String>,
    pub date: Option<NaiveDate>,
    pub game_id: String,
}

/// A stored struct, field by field (any field may be NULL, as production has seen).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stored {
    pub found: Option<i64>,
    pub expected: Option<i64>,
    pub complete: Option<bool>,
    pub bootstrap: Option<bool>,
    pub dates: Option<Vec<NaiveDate>>,
}

/// A feature record: its stored struct (None: NULL) and updated_at (µs).
#[derive(Debug, Clone)]
pub struct Feature {
    pub stored: Option<Stored>,
    pub updated_at: Option<i64>,
}

/// One schedule row: game id, date, season, status, regular season.
pub type ScheduleRow = (String, NaiveDate, i32, i64, bool);

/// A generated warehouse.
pub struct Random {
    pub games: Vec<Game>,
    pub schedule: Vec<ScheduleRow>,
    pub features: BTreeMap<(String, NaiveDate), Feature>,
}

/// The ranges the parity test backfills, and whether each covers bootstrap dates: a
/// season whose start comes from the fallback table (2023, absent from the schedule)
/// across Feb 29 2024, and one whose start comes from the schedule (2024), twice.
pub fn runs() -> [(DateRange, bool); 3] {
    let r1 = DateRange::new(d("2023-10-01"), d("2024-05-31")).unwrap();
    let r2 = DateRange::new(d("2024-10-01"), d("2025-03-15")).unwrap();
    [(r1, false), (r2, false), (r2, true)]
}

const TEAMS: [&str; 6] = ["ATL", "BOS", "CHI", "DEN", "LAL", "MIA"];
/// Seasons played: first day, last day (playoffs included).
const SEASONS: [(&str, &str); 3] = [
    ("2022-10-18", "2023-06-12"),
    ("2023-10-24", "2024-06-17"),
    ("2024-10-24", "2025-06-20"),
];

impl Random {
    pub fn generate(seed: u64) -> Random {
        let mut g = Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            next_id: 0,
            games: Vec::new(),
        };
        let team_days = g.team_days();
        let players = g.league_players(&team_days);
        let targeted = g.targeted_players();
        g.null_keys(&team_days["ATL"]);
        let schedule = schedule(&team_days["BOS"]);
        let features = g.features(&players, &targeted);
        Random {
            games: g.games,
            schedule,
            features,
        }
    }

    /// Write the three Delta tables under `dir/warehouse`; the warehouse root.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let root = dir.join("warehouse");
        let w =
            completeness::warehouse::LocalWarehouse::create(&root.display().to_string()).unwrap();
        crate::support::runtime().block_on(async {
            use completeness::model::{FEATURES_TABLE, GAMES_TABLE, SCHEDULE_TABLE};
            // Partitioned by game_date, as the local merge requires.
            w.create_table(FEATURES_TABLE, vec![self.features_batch()], &["game_date"])
                .await
                .unwrap();
            w.create_table(GAMES_TABLE, vec![self.games_batch()], &[])
                .await
                .unwrap();
            w.create_table(SCHEDULE_TABLE, vec![self.schedule_batch()], &[])
                .await
                .unwrap();
        });
        root
    }

    /// The game rows as the oracle takes them.
    pub fn game_rows(&self) -> Vec<GameRow> {
        self.games
            .iter()
            .map(|g| (g.player.clone(), g.date))
            .collect()
    }

    fn games_batch(&self) -> RecordBatch {
        let n = self.games.len();
        let text = |v: Vec<Option<String>>| Arc::new(StringArray::from(v)) as ArrayRef;
        let players = text(self.games.iter().map(|g| g.player.clone()).collect());
        let ids = text(self.games.iter().map(|g| Some(g.game_id.clone())).collect());
        let dates: Vec<Option<i32>> = self
            .games
            .iter()
            .map(|g| g.date.map(date_to_days))
            .collect();
        let seasons: Vec<i64> = self
            .games
            .iter()
            .map(|g| g.date.map_or(2024, |d| season_year(d) as i64))
            .collect();
        let yes = Arc::new(BooleanArray::from(vec![true; n])) as ArrayRef;
        batch(vec![
            ("player_lookup", players),
            ("game_id", ids),
            ("game_date", Arc::new(Date32Array::from(dates))),
            ("team_abbr", text(vec![Some("ATL".into()); n])),
            ("opponent_team_abbr", text(vec![Some("OPP".into()); n])),
            ("season_year", Arc::new(Int64Array::from(seasons))),
            ("starter_flag", yes.clone()),
            ("win_flag", yes.clone()),
            ("is_active", yes),
        ])
    }

    fn schedule_batch(&self) -> RecordBatch {
        let n = self.schedule.len();
        let text = |v: Vec<&str>| Arc::new(StringArray::from(v)) as ArrayRef;
        let s = &self.schedule;
        batch(vec![
            ("game_id", text(s.iter().map(|r| r.0.as_str()).collect())),
            (
                "game_date",
                Arc::new(Date32Array::from_iter_values(
                    s.iter().map(|r| date_to_days(r.1)),
                )),
            ),
            (
                "season_year",
                Arc::new(Int64Array::from_iter_values(s.iter().map(|r| r.2 as i64))),
            ),
            ("home_team_tricode", text(vec!["BOS"; n])),
            ("away_team_tricode", text(vec!["ATL"; n])),
            ("home_team_name", text(vec!["Boston"; n])),
            ("away_team_name", text(vec!["Atlanta"; n])),
            (
                "game_status",
                Arc::new(Int64Array::from_iter_values(s.iter().map(|r| r.3))),
            ),
            ("is_playoffs", Arc::new(BooleanArray::from(vec![false; n]))),
            (
                "is_regular_season",
                Arc::new(BooleanArray::from_iter(s.iter().map(|r| Some(r.4)))),
            ),
            ("is_all_star", Arc::new(BooleanArray::from(vec![false; n]))),
        ])
    }

    fn features_batch(&self) -> RecordBatch {
        let keys: Vec<&(String, NaiveDate)> = self.features.keys().collect();
        let rows: Vec<&Feature> = self.features.values().collect();
        let n = keys.len();
        let text = |v: Vec<String>| Arc::new(StringArray::from(v)) as ArrayRef;
        let micros = |v: Vec<Option<i64>>| {
            Arc::new(TimestampMicrosecondArray::from(v).with_timezone("UTC")) as ArrayRef
        };
        batch(vec![
            (
                "player_lookup",
                text(keys.iter().map(|k| k.0.clone()).collect()),
            ),
            (
                "game_date",
                Arc::new(Date32Array::from_iter_values(
                    keys.iter().map(|k| date_to_days(k.1)),
                )),
            ),
            (
                "game_id",
                text(
                    keys.iter()
                        .map(|k| format!("{}_F", k.1.format("%Y%m%d")))
                        .collect(),
                ),
            ),
            ("feature_count", Arc::new(Int64Array::from(vec![3; n]))),
            ("feature_version", text(vec!["v2_test".into(); n])),
            ("data_source", text(vec!["phase4".into(); n])),
            ("historical_completeness", stored_structs(&rows)),
            ("created_at", micros(vec![Some(1_767_225_600_000_000); n])),
            (
                "updated_at",
                micros(rows.iter().map(|f| f.updated_at).collect()),
            ),
        ])
    }
}

/// The stored structs, NULL fields and all.
fn stored_structs(rows: &[&Feature]) -> ArrayRef {
    let fields = completeness_fields();
    let item = match fields[4].data_type() {
        DataType::List(f) => f.clone(),
        _ => unreachable!("a list"),
    };
    let s = |f: &Feature| f.stored.clone().unwrap_or_default();
    let mut dates = ListBuilder::new(arrow::array::Date32Builder::new()).with_field(item);
    for f in rows {
        match s(f).dates {
            Some(list) => {
                dates
                    .values()
                    .extend(list.iter().map(|d| Some(date_to_days(*d))));
                dates.append(true);
            }
            None => dates.append(false),
        }
    }
    let children: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter(rows.iter().map(|f| s(f).found))),
        Arc::new(Int64Array::from_iter(rows.iter().map(|f| s(f).expected))),
        Arc::new(BooleanArray::from_iter(rows.iter().map(|f| s(f).complete))),
        Arc::new(BooleanArray::from_iter(rows.iter().map(|f| s(f).bootstrap))),
        Arc::new(dates.finish()),
    ];
    let valid = NullBuffer::from_iter(rows.iter().map(|f| f.stored.is_some()));
    Arc::new(StructArray::new(fields, children, Some(valid)))
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, a)| {
            let nullable = !matches!(*name, "game_id" | "feature_count");
            Field::new(*name, a.data_type().clone(), nullable)
        })
        .collect();
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

struct Generator {
    rng: ChaCha8Rng,
    next_id: u64,
    games: Vec<Game>,
}

impl Generator {
    fn game(&mut self, player: Option<&str>, date: Option<NaiveDate>, suffix: &str) {
        self.next_id += 1;
        let day = date.unwrap_or(d("2000-01-01")).format("%Y%m%d");
        self.games.push(Game {
            player: player.map(str::to_string),
            date,
            game_id: format!("{day}_ATL_{:06}{suffix}", self.next_id),
        });
    }

    /// Each team's game days: every 1 to 4 days through each season.
    fn team_days(&mut self) -> BTreeMap<&'static str, Vec<NaiveDate>> {
        let mut out = BTreeMap::new();
        for team in TEAMS {
            let mut days = Vec::new();
            for (first, last) in SEASONS {
                let mut day = d(first) + Duration::days(self.rng.random_range(0..2));
                while day <= d(last) {
                    days.push(day);
                    day += Duration::days([1, 2, 2, 2, 3, 4][self.rng.random_range(0..6)]);
                }
            }
            out.insert(team, days);
        }
        out
    }

    /// League players on teams, with absences, late arrivals and second game ids.
    fn league_players(&mut self, team_days: &BTreeMap<&str, Vec<NaiveDate>>) -> Vec<String> {
        let players: Vec<String> = (0..self.rng.random_range(10..14))
            .map(|i| format!("player{i:02}"))
            .collect();
        for (i, p) in players.iter().enumerate() {
            let days = &team_days[TEAMS[i % TEAMS.len()]];
            let mut absences = Vec::new();
            for _ in 0..self.rng.random_range(0..3) {
                let a = days[self.rng.random_range(0..days.len())];
                absences.push((a, a + Duration::days(self.rng.random_range(5..95))));
            }
            let joined = match i % 5 {
                0 => days[self.rng.random_range(days.len() / 3..days.len() * 2 / 3)],
                _ => d("2022-10-01"),
            };
            for &day in days {
                let absent = absences.iter().any(|(a, b)| *a <= day && day <= *b);
                if day < joined || absent || self.rng.random_bool(0.06) {
                    continue;
                }
                self.game(Some(p), Some(day), "");
                if self.rng.random_bool(0.015) {
                    self.game(Some(p), Some(day), "_B");
                }
            }
        }
        players
    }

    /// Players built to hit one edge each; their feature dates.
    fn targeted_players(&mut self) -> Vec<(String, Vec<NaiveDate>)> {
        let mut out = Vec::new();
        // Rows exactly at D-1, D-60, D-61, D-365, D-366 (and D itself, outside).
        let random_day =
            ["2024-04-29", "2024-03-01", "2025-02-28", "2025-01-15"][self.rng.random_range(0..4)];
        let edges = [
            "2024-04-29",
            "2024-03-01",
            "2025-02-28",
            "2024-02-29",
            "2025-01-15",
        ];
        for (k, day) in edges.iter().chain([&random_day]).enumerate() {
            let (p, day) = (format!("edge{k}"), d(day));
            for off in [1, 60, 61, 365, 366] {
                self.game(Some(&p), Some(day - Duration::days(off)), "");
            }
            for _ in 0..self.rng.random_range(0..13) {
                let off = self.rng.random_range(2..60);
                self.game(Some(&p), Some(day - Duration::days(off)), "");
            }
            for _ in 0..self.rng.random_range(0..7) {
                let off = self.rng.random_range(62..365);
                self.game(Some(&p), Some(day - Duration::days(off)), "");
            }
            self.game(Some(&p), Some(day), "");
            out.push((
                p,
                vec![day - Duration::days(1), day, day + Duration::days(1)],
            ));
        }
        // Back from a long absence: c60 = 0, c365 > 0.
        for (k, day) in ["2024-03-20", "2025-01-10"].iter().enumerate() {
            let (p, day) = (format!("returning{k}"), d(day));
            for off in [61, 62, 90, 200, 365] {
                self.game(Some(&p), Some(day - Duration::days(off)), "");
            }
            self.game(Some(&p), Some(day), "");
            out.push((p, vec![day, day + Duration::days(2)]));
        }
        // A first game; then two game ids on one date.
        for (k, day) in ["2024-01-05", "2024-12-02"].iter().enumerate() {
            let (p, day) = (format!("rookie{k}"), d(day));
            self.game(Some(&p), Some(day), "");
            self.game(Some(&p), Some(day + Duration::days(2)), "");
            self.game(Some(&p), Some(day + Duration::days(2)), "_B");
            let feature_days = [0, 2, 5].map(|o| day + Duration::days(o));
            out.push((p, feature_days.to_vec()));
        }
        // Exactly (c60, c365): 10 of 12, 11 of 11, 9 of 9, 9 of 30, 3 of 15, 3 of 5.
        for (k, (n60, n365)) in [(10, 12), (11, 11), (9, 9), (9, 30), (3, 15), (3, 5)]
            .into_iter()
            .enumerate()
        {
            let (p, day) = (
                format!("count{k}"),
                d("2025-01-20") + Duration::days(k as i64),
            );
            for j in 0..n60 {
                let off = 1 + (j * 59) / (n60 - 1).max(1);
                self.game(Some(&p), Some(day - Duration::days(off)), "");
            }
            for j in 0..(n365 - n60) {
                let off = 61 + (j * 300) / (n365 - n60).max(1);
                self.game(Some(&p), Some(day - Duration::days(off)), "");
            }
            out.push((p, vec![day]));
        }
        // Records on both sides of two season starts: 2023 from the fallback table,
        // 2024 from the schedule (Oct 24, where the fallback says Oct 22).
        for (k, first) in ["2023-10-24", "2024-10-24"].iter().enumerate() {
            let (p, first) = (format!("calendar{k}"), d(first));
            for off in (-60..0).step_by(3) {
                self.game(Some(&p), Some(first + Duration::days(off)), "");
            }
            let days = [-3, -2, -1, 0, 1, 12, 13, 14, 15, 16].map(|o| first + Duration::days(o));
            out.push((p, days.to_vec()));
        }
        out
    }

    /// Rows with a NULL player_lookup, and rows of known players with a NULL game_date:
    /// they match nothing.
    fn null_keys(&mut self, days: &[NaiveDate]) {
        for _ in 0..8 {
            let day = days[self.rng.random_range(0..days.len())];
            self.game(None, Some(day), "");
        }
        for p in ["player01", "edge0", "count0"] {
            self.game(Some(p), None, "");
        }
    }

    /// Feature records: most game days of the players in the feature spans, the
    /// targeted dates, a few days without a game; stored structs of every kind.
    fn features(
        &mut self,
        players: &[String],
        targeted: &[(String, Vec<NaiveDate>)],
    ) -> BTreeMap<(String, NaiveDate), Feature> {
        let spans = [
            (d("2023-07-01"), d("2024-06-30")),
            (d("2024-07-01"), d("2025-06-30")),
        ];
        let mut keys = std::collections::BTreeSet::new();
        for g in &self.games {
            let (Some(p), Some(day)) = (&g.player, g.date) else {
                continue;
            };
            let in_span = spans.iter().any(|(a, b)| *a <= day && day <= *b);
            if in_span && !(p.starts_with("player") && self.rng.random_bool(0.4)) {
                keys.insert((p.clone(), day));
            }
        }
        for (p, days) in targeted {
            keys.extend(days.iter().map(|day| (p.clone(), *day)));
        }
        for p in &players[..3] {
            for _ in 0..5 {
                let (a, b) = spans[self.rng.random_range(0..2)];
                let day = a + Duration::days(self.rng.random_range(0..=(b - a).num_days()));
                keys.insert((p.clone(), day));
            }
        }
        let rows: Vec<GameRow> = self
            .games
            .iter()
            .map(|g| (g.player.clone(), g.date))
            .collect();
        let mut out = BTreeMap::new();
        for (p, day) in keys {
            let truth = oracle(&p, day, &rows);
            let stored = self.stored(truth);
            let updated_at = self
                .rng
                .random_bool(0.5)
                .then(|| 1_748_736_000_000_000 + self.rng.random_range(0..10_000_000_000_000));
            out.insert((p, day), Feature { stored, updated_at });
        }
        out
    }

    /// NULL (55%), right (20%), wrong in one field (18%) or with a NULL field (7%).
    fn stored(&mut self, truth: HistoricalCompleteness) -> Option<Stored> {
        let right = Stored {
            found: Some(truth.games_found),
            expected: Some(truth.games_expected),
            complete: Some(truth.is_complete),
            bootstrap: Some(truth.is_bootstrap),
            dates: Some(truth.contributing_game_dates.clone()),
        };
        let roll: f64 = self.rng.random();
        Some(match roll {
            r if r < 0.55 => return None,
            r if r < 0.75 => right,
            r if r < 0.93 => self.perturbed(right),
            _ if truth.games_found == 0 || self.rng.random_bool(0.5) => Stored {
                found: None,
                ..right
            },
            _ => Stored {
                bootstrap: None,
                ..right
            },
        })
    }

    fn perturbed(&mut self, mut s: Stored) -> Stored {
        let dates = s.dates.clone().unwrap_or_default();
        match self.rng.random_range(0..6) {
            0 => s.found = s.found.map(|n| n + 1),
            1 => s.expected = s.expected.map(|n| (n - 1).max(0)),
            2 => s.complete = s.complete.map(|b| !b),
            3 => s.bootstrap = s.bootstrap.map(|b| !b),
            4 if dates.len() > 1 => s.dates = Some(dates.into_iter().rev().collect()),
            _ => s.dates = Some(dates.into_iter().skip(1).collect()),
        }
        s
    }
}

/// The schedule: 2022 and 2024 seasons (2023 is absent: its start comes from the
/// fallback table), with rows that must not count for a season start (preseason, not
/// final, one game id on two dates).
fn schedule(bos_days: &[NaiveDate]) -> Vec<ScheduleRow> {
    let mut out: Vec<ScheduleRow> = [
        ("s22_first", "2022-10-20", 2022, 3, true),
        ("s22_pre", "2022-10-05", 2022, 3, false),
        ("s24_pre", "2024-10-12", 2024, 3, false),
        ("s24_sched", "2024-10-20", 2024, 1, true),
        ("s24_moved", "2024-10-23", 2024, 3, true),
        ("s24_moved", "2024-10-25", 2024, 3, true),
        ("s24_first", "2024-10-24", 2024, 3, true),
    ]
    .into_iter()
    .map(|(id, day, season, status, regular)| (id.to_string(), d(day), season, status, regular))
    .collect();
    for &day in bos_days {
        let season = (d("2022-10-21") <= day && day <= d("2023-04-09"))
            || (d("2024-10-26") <= day && day <= d("2025-04-13"));
        if season {
            let id = format!("s_{}", day.format("%Y%m%d"));
            out.push((id, day, season_year(day), 3, true));
        }
    }
    out
}

/// What a range of a generated warehouse hits, by edge.
#[derive(Debug, Default)]
pub struct Edges(pub BTreeMap<&'static str, usize>);

impl Edges {
    /// Count the edges the records of `range` hit (season starts as the schedule says).
    pub fn count(&mut self, w: &Random, range: DateRange, include_bootstrap: bool) {
        let games = w.game_rows();
        let starts = BTreeMap::from([(2022, d("2022-10-20")), (2024, d("2024-10-24"))]);
        let calendar = SeasonCalendar::from_schedule(starts.clone());
        let fallback = SeasonCalendar::default();
        let mut by_player: BTreeMap<&str, Vec<NaiveDate>> = BTreeMap::new();
        for g in &w.games {
            if let (Some(p), Some(day)) = (&g.player, g.date) {
                by_player.entry(p).or_default().push(day);
            }
        }
        if games.iter().any(|(p, day)| p.is_none() || day.is_none()) {
            self.hit("NULL upstream keys");
        }
        for ((p, day), f) in &w.features {
            if *day < range.start || *day > range.end {
                continue;
            }
            let rows = by_player.get(p.as_str()).cloned().unwrap_or_default();
            self.windows(&rows, *day);
            let season = season_year(*day);
            if starts.contains_key(&season) {
                self.hit("season start from the schedule");
            } else {
                self.hit("season start from the fallback table");
            }
            let boot = calendar.is_bootstrap_date(*day);
            if boot != fallback.is_bootstrap_date(*day) {
                self.hit("bootstrap decided by the schedule");
            }
            if boot && !include_bootstrap {
                self.hit("bootstrap date skipped");
                continue;
            }
            if boot {
                self.hit("bootstrap date computed (--include-bootstrap)");
            }
            let after = oracle(p, *day, &games);
            let c60 = rows
                .iter()
                .filter(|g| **g < *day && **g >= *day - Duration::days(60))
                .count();
            let c365 = rows
                .iter()
                .filter(|g| **g < *day && **g >= *day - Duration::days(365))
                .count();
            if c60 > 10 {
                self.hit("more than 10 games in 60 days");
            }
            if c60 == 0 && c365 > 0 {
                self.hit("c60 = 0 with c365 > 0");
            }
            if rows.contains(day) && rows.iter().all(|g| g >= day) {
                self.hit("a player's first game");
            }
            let mut listed = after.contributing_game_dates.clone();
            listed.dedup();
            if listed.len() < after.contributing_game_dates.len() {
                self.hit("a date listed twice");
            }
            if f.stored
                .as_ref()
                .is_some_and(|s| s.found.is_none() || s.bootstrap.is_none())
            {
                self.hit("a stored struct with a NULL field");
            }
        }
    }

    fn windows(&mut self, rows: &[NaiveDate], day: NaiveDate) {
        for (off, name) in [
            (60, "a row at exactly D-60"),
            (61, "a row at exactly D-61"),
            (365, "a row at exactly D-365"),
            (366, "a row at exactly D-366"),
        ] {
            if rows.contains(&(day - Duration::days(off))) {
                self.hit(name);
            }
        }
        let leap = |g: &NaiveDate| g.month() == 2 && g.day() == 29;
        let year = day - Duration::days(365);
        if rows.iter().any(|g| leap(g) && *g >= year && *g < day) {
            self.hit("Feb 29 inside a window");
        }
        if [60, 365, 1]
            .iter()
            .any(|o| leap(&(day - Duration::days(*o))))
        {
            self.hit("Feb 29 exactly at a window edge");
        }
    }

    fn hit(&mut self, edge: &'static str) {
        *self.0.entry(edge).or_default() += 1;
    }

    /// The edges the parity test requires.
    pub const REQUIRED: [&'static str; 17] = [
        "NULL upstream keys",
        "season start from the schedule",
        "season start from the fallback table",
        "bootstrap decided by the schedule",
        "bootstrap date skipped",
        "bootstrap date computed (--include-bootstrap)",
        "more than 10 games in 60 days",
        "c60 = 0 with c365 > 0",
        "a player's first game",
        "a date listed twice",
        "a stored struct with a NULL field",
        "a row at exactly D-60",
        "a row at exactly D-61",
        "a row at exactly D-365",
        "a row at exactly D-366",
        "Feb 29 inside a window",
        "Feb 29 exactly at a window edge",
    ];
}
