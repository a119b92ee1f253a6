//! How the extended struct is derived, per record (player p, date D):
//!
//! - the window games are p's rows in `[D - 60, D)`, the newest ten of them spanning
//!   `D - oldest` days, with their teams;
//! - missing games are the schedule's games p has no row for (the rule of
//!   [`crate::pipeline::gaps`]) in `[D - 60, D)` whose closing row is before D;
//! - `completeness_pct` = rows / (rows + missing games) in the 60 days;
//! - the reason, first that applies: `no_data` (no row in a year and none missing),
//!   `missing_games`, `early_season` (under ten games and the season began less than 60
//!   days ago), `new_player` (under ten games in a year), `stale_window` (the ten games
//!   span over 21 days, or under ten games in 60 days after a long absence), else NULL.
//!
//! [`incomplete_reasons`] words the same rule for records whose five-field struct is
//! INCOMPLETE (every check, report and page uses it): `missing_games` (the only data
//! gap), `early_season`, then `stale_window` told apart into `dnp_inactive` (no row for
//! games that list only who played) and `absence`.

use chrono::{Days, NaiveDate};

use crate::model::dates::{SeasonCalendar, season_year};
use crate::model::extended_column::ExtendedCompleteness;
use crate::model::reasons::Reason;
use crate::model::{LOOKBACK_DAYS, WINDOW_DAYS, WINDOW_GAMES};
use crate::pipeline::gaps::{Detection, GapInputs, MissingGame, detect, detect_for};
use crate::pipeline::{FastMap, FastSet};

/// A ten-game window spanning more days than this is stale.
pub const STALE_SPAN_DAYS: i64 = 21;

/// One player's rows (newest first), missing games, and absences from games that list
/// only who played ("cannot tell").
#[derive(Default)]
struct Player<'a> {
    rows: Vec<(NaiveDate, &'a str)>,
    missing: Vec<&'a MissingGame>,
    unlisted: Vec<&'a MissingGame>,
}

/// The players of `records`, with what the gap rule found for them.
fn players<'a>(
    records: &'a [(String, NaiveDate)],
    inputs: &'a GapInputs,
    found: &'a Detection,
) -> FastMap<&'a str, Player<'a>> {
    let mut players: FastMap<&str, Player> = FastMap::default();
    for (p, _) in records {
        players.entry(p.as_str()).or_insert_with(|| Player {
            rows: (inputs.rows_of(p).iter().rev())
                .map(|(d, team)| (*d, inputs.team(*team)))
                .collect(),
            ..Player::default()
        });
    }
    for g in &found.missing {
        if let Some(p) = players.get_mut(g.player_lookup.as_str()) {
            p.missing.push(g);
        }
    }
    for g in &found.cannot_tell {
        if let Some(p) = players.get_mut(g.player_lookup.as_str()) {
            p.unlisted.push(g);
        }
    }
    for p in players.values_mut() {
        p.missing
            .sort_unstable_by_key(|g| std::cmp::Reverse(g.game_date));
    }
    players
}

/// The extended struct of every record, in order.
pub fn extended(
    records: &[(String, NaiveDate)],
    inputs: &GapInputs,
    calendar: &SeasonCalendar,
) -> Vec<ExtendedCompleteness> {
    let found = detect(inputs);
    let players = players(records, inputs, &found);
    let none = Player::default();
    records
        .iter()
        .map(|(p, d)| one(players.get(p.as_str()).unwrap_or(&none), *d, calendar))
        .collect()
}

/// Why each record falls short, for records whose struct is INCOMPLETE (fewer than ten
/// games in 60 days, at least ten in a year): the rule's reason, with its
/// `stale_window` told apart into games that list only who played (DNP/inactive) and an
/// absence (DNP/inactive when rows for those games would fill the window). A record
/// today's rows do not make INCOMPLETE is out of date.
pub fn incomplete_reasons(
    records: &[(String, NaiveDate)],
    inputs: &GapInputs,
    calendar: &SeasonCalendar,
) -> Vec<Reason> {
    let wanted: FastSet<&str> = records.iter().map(|(p, _)| p.as_str()).collect();
    let found = detect_for(inputs, |p| wanted.contains(p));
    let players = players(records, inputs, &found);
    let none = Player::default();
    records
        .iter()
        .map(|(p, day)| {
            let player = players.get(p.as_str()).unwrap_or(&none);
            let w = Window::of(player, *day, calendar);
            // Games he has no row for because their source lists only who played; if
            // rows for them would fill the window, that is why it is short.
            let unlisted = || {
                let n = player
                    .unlisted
                    .iter()
                    .filter(|g| w.holds(g.game_date) && g.next_row < *day)
                    .count();
                n > 0 && w.in60.len() + n >= WINDOW_GAMES
            };
            if w.in60.is_empty() || w.in60.len() >= WINDOW_GAMES || w.c365 < WINDOW_GAMES {
                Reason::OutOfDate
            } else if !w.missing.is_empty() {
                Reason::MissingGames
            } else if w.early_season() {
                Reason::EarlySeason
            } else if unlisted() {
                Reason::DnpInactive
            } else {
                Reason::Absence
            }
        })
        .collect()
}

/// What the rule reads of one player's rows for a record on `day`.
struct Window<'a> {
    day: NaiveDate,
    from60: NaiveDate,
    /// Rows in `[day - 60, day)`, newest first.
    in60: Vec<(NaiveDate, &'a str)>,
    c365: usize,
    /// Missing games in the 60 days, closed by a row before `day`.
    missing: Vec<NaiveDate>,
    season_start: NaiveDate,
}

impl<'a> Window<'a> {
    fn of(player: &Player<'a>, day: NaiveDate, calendar: &SeasonCalendar) -> Window<'a> {
        let from60 = day - Days::new(WINDOW_DAYS as u64);
        let from365 = day - Days::new(LOOKBACK_DAYS as u64);
        let in60: Vec<(NaiveDate, &str)> = player
            .rows
            .iter()
            .copied()
            .filter(|(d, _)| *d < day && *d >= from60)
            .collect();
        let c365 = player
            .rows
            .iter()
            .filter(|(d, _)| *d < day && *d >= from365)
            .count();
        let missing: Vec<NaiveDate> = player
            .missing
            .iter()
            .filter(|g| g.game_date >= from60 && g.game_date < day && g.next_row < day)
            .map(|g| g.game_date)
            .collect();
        Window {
            day,
            from60,
            in60,
            c365,
            missing,
            season_start: calendar.season_start(season_year(day)),
        }
    }

    /// Whether `date` is in the 60 days before the record.
    fn holds(&self, date: NaiveDate) -> bool {
        date >= self.from60 && date < self.day
    }

    /// Under ten games, and the season began less than 60 days ago.
    fn early_season(&self) -> bool {
        self.in60.len() < WINDOW_GAMES
            && self.season_start > self.from60
            && self.season_start <= self.day
    }
}

fn one(player: &Player, day: NaiveDate, calendar: &SeasonCalendar) -> ExtendedCompleteness {
    let w = Window::of(player, day, calendar);
    let (in60, c365, missing) = (&w.in60, w.c365, w.missing.clone());
    let window = &in60[..in60.len().min(WINDOW_GAMES)];
    let oldest = window.last().map(|r| r.0);
    let span = oldest.map(|o| (day - o).num_days());
    let mut teams: Vec<String> = Vec::new();
    for (_, team) in window {
        if !teams.iter().any(|t| t == team) {
            teams.push(team.to_string());
        }
    }
    let (c60, m) = (in60.len(), missing.len());
    let reason = if c365 == 0 && m == 0 {
        Some("no_data")
    } else if m > 0 {
        Some("missing_games")
    } else if w.early_season() {
        Some("early_season")
    } else if c365 < WINDOW_GAMES {
        Some("new_player")
    } else if c60 < WINDOW_GAMES || span.is_some_and(|s| s > STALE_SPAN_DAYS) {
        Some("stale_window")
    } else {
        None
    };
    ExtendedCompleteness {
        completeness_pct: (c60 + m > 0)
            .then(|| (1000.0 * c60 as f64 / (c60 + m) as f64).round() / 10.0),
        missing_game_dates: missing,
        window_span_days: span,
        oldest_game_date: oldest,
        newest_game_date: window.first().map(|r| r.0),
        teams_in_window: teams,
        incompleteness_reason: reason.map(String::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::gaps::TeamGames;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, day).unwrap()
    }

    /// LAL plays every other day of Jan–Feb 2025; the season began on 2024-12-01.
    fn inputs(rows: Vec<(&str, NaiveDate, &str)>) -> GapInputs {
        let games = (0..30).map(|i| {
            let day = d(1, 1) + Days::new(2 * i);
            (day, format!("g{i}"), "LAL".to_string(), "BOS".to_string())
        });
        GapInputs::new(
            rows.into_iter()
                .map(|(p, d, t)| (p.to_string(), d, t.to_string()))
                .collect(),
            TeamGames::new(games),
        )
    }

    fn lal_games(
        player: &'static str,
        skip: &[u32],
    ) -> Vec<(&'static str, NaiveDate, &'static str)> {
        (0..30)
            .filter(|i| !skip.contains(i))
            .map(|i| (player, d(1, 1) + Days::new(2 * u64::from(i)), "LAL"))
            .collect()
    }

    fn calendar() -> SeasonCalendar {
        SeasonCalendar::from_schedule([(2024, d(1, 1) - Days::new(31))].into())
    }

    #[test]
    fn a_missing_game_is_named_and_lowers_the_share() {
        let day = d(2, 1);
        let rows = lal_games("ann", &[12]); // no row on Jan 25
        let ext = extended(&[("ann".into(), day)], &inputs(rows), &calendar());
        let e = &ext[0];
        assert_eq!(e.missing_game_dates, [d(1, 25)]);
        assert_eq!(e.incompleteness_reason.as_deref(), Some("missing_games"));
        // 15 rows in the 60 days (Jan 1..=Jan 31 every other day, less one), 16 expected.
        assert_eq!(e.completeness_pct, Some(93.8));
        assert_eq!(e.newest_game_date, Some(d(1, 31)));
        // Ten newest rows: Jan 31 back to Jan 11 (the 25th missing) → 21 days.
        assert_eq!(e.oldest_game_date, Some(d(1, 11)));
        assert_eq!(e.window_span_days, Some(21));
        assert_eq!(e.teams_in_window, ["LAL"]);
    }

    #[test]
    fn a_gap_closed_only_on_the_record_date_is_not_known_yet() {
        // ann's row after the missing Jan 29 is on Jan 31, the record's own date.
        let rows = lal_games("ann", &[14]);
        let ext = extended(&[("ann".into(), d(1, 31))], &inputs(rows), &calendar());
        assert!(ext[0].missing_game_dates.is_empty());
    }

    /// Issue 25 item 3: each INCOMPLETE record gets the reason that explains it, and
    /// only a game missing upstream is a data gap.
    #[test]
    fn incomplete_records_are_told_apart_by_reason() {
        let game = |i: u64| d(1, 1) + Days::new(2 * i);
        let mut rows: Vec<(&str, NaiveDate, &str)> = Vec::new();
        let mut flags: Vec<bool> = Vec::new();
        let mut push = |p, day, team, listed| {
            rows.push((p, day, team));
            flags.push(listed);
        };
        // Each player has ten rows last season (another team), so c365 >= 10.
        for p in ["gap", "early", "bench", "hurt", "vet", "idle"] {
            for i in 0..10 {
                push(p, d(3, 1) - Days::new(300 + i), "OLD", true);
            }
        }
        // gap: the newest nine LAL games but one, the skipped game between two rows.
        for i in (20..30).filter(|i| *i != 25) {
            push("gap", game(i), "LAL", true);
        }
        // early: the first five LAL games; the record is on Jan 10.
        for i in 0..5 {
            push("early", game(i), "LAL", true);
        }
        // bench: BOS games 20..29 but 23 and 24, which only a box score lists (eve).
        for i in (20..30).filter(|i| ![23, 24].contains(i)) {
            push("bench", game(i), "BOS", true);
        }
        for i in [23, 24] {
            push("eve", game(i), "BOS", false);
        }
        // hurt: the first five LAL games, then none until the last four.
        for i in (0..5).chain(26..30) {
            push("hurt", game(i), "LAL", true);
        }
        // idle: BOS games 22 and 25 only, around the two only eve is listed in: rows
        // for those would not fill the window, which is short by an absence.
        for i in [22, 25] {
            push("idle", game(i), "BOS", true);
        }
        // vet: every game: not INCOMPLETE by today's rows.
        for i in 0..30 {
            push("vet", game(i), "LAL", true);
        }
        let teams = TeamGames::new((0..30).map(|i| {
            (
                game(i),
                format!("g{i}"),
                "LAL".to_string(),
                "BOS".to_string(),
            )
        }));
        let rows = rows
            .into_iter()
            .map(|(p, d, t)| (p.to_string(), d, t.to_string()))
            .collect();
        let inputs = GapInputs::with_flags(rows, flags, teams);
        let records: Vec<(String, NaiveDate)> = [
            ("gap", d(3, 1)),
            ("early", d(1, 10)),
            ("bench", d(3, 1)),
            ("hurt", d(3, 1)),
            ("vet", d(3, 1)),
            ("idle", d(3, 1)),
        ]
        .iter()
        .map(|(p, d)| (p.to_string(), *d))
        .collect();
        let reasons = incomplete_reasons(&records, &inputs, &calendar());
        assert_eq!(
            reasons,
            [
                Reason::MissingGames,
                Reason::EarlySeason,
                Reason::DnpInactive,
                Reason::Absence,
                Reason::OutOfDate,
                Reason::Absence,
            ]
        );
        // The extended column's reasons for the same records agree where they overlap.
        let ext = extended(&records, &inputs, &calendar());
        let codes: Vec<Option<&str>> = ext
            .iter()
            .map(|e| e.incompleteness_reason.as_deref())
            .collect();
        assert_eq!(
            codes[..4],
            [
                Some("missing_games"),
                Some("early_season"),
                Some("stale_window"),
                Some("stale_window")
            ]
        );
    }

    #[test]
    fn reasons_for_the_other_cases() {
        let mut rows = lal_games("vet", &[]);
        rows.extend(lal_games("rook", &(0..25).collect::<Vec<_>>()));
        rows.push(("hurt", d(1, 1) - Days::new(200), "LAL"));
        rows.extend((10..=20).map(|x| ("hurt", d(1, 1) - Days::new(100 + x), "LAL")));
        rows.push(("hurt", d(2, 20), "LAL"));
        let records: Vec<(String, NaiveDate)> = [
            ("vet", d(2, 28)),
            ("rook", d(2, 28)),
            ("nobody", d(2, 28)),
            ("hurt", d(2, 28)),
            ("vet", d(1, 5)),
        ]
        .iter()
        .map(|(p, d)| (p.to_string(), *d))
        .collect();
        let ext = extended(&records, &inputs(rows), &calendar());
        let reasons: Vec<Option<&str>> = ext
            .iter()
            .map(|e| e.incompleteness_reason.as_deref())
            .collect();
        assert_eq!(
            reasons,
            [
                None,
                Some("new_player"),
                Some("no_data"),
                Some("stale_window"),
                Some("early_season")
            ]
        );
        assert_eq!(ext[2].completeness_pct, None);
        assert_eq!(ext[0].completeness_pct, Some(100.0));
    }
}
