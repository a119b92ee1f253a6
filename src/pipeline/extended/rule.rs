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

use std::collections::HashMap;

use chrono::{Days, NaiveDate};

use crate::model::dates::{SeasonCalendar, season_year};
use crate::model::extended_column::ExtendedCompleteness;
use crate::model::{LOOKBACK_DAYS, WINDOW_DAYS, WINDOW_GAMES};
use crate::pipeline::gaps::{GapInputs, MissingGame, detect};

/// A ten-game window spanning more days than this is stale.
pub const STALE_SPAN_DAYS: i64 = 21;

/// One player's rows (newest first) and missing games.
#[derive(Default)]
struct Player<'a> {
    rows: Vec<(NaiveDate, &'a str)>,
    missing: Vec<&'a MissingGame>,
}

/// The extended struct of every record, in order.
pub fn extended(
    records: &[(String, NaiveDate)],
    inputs: &GapInputs,
    calendar: &SeasonCalendar,
) -> Vec<ExtendedCompleteness> {
    let missing = detect(inputs).missing;
    let mut players: HashMap<&str, Player> = HashMap::new();
    for (p, d, team) in &inputs.rows {
        players.entry(p).or_default().rows.push((*d, team));
    }
    for g in &missing {
        players.entry(&g.player_lookup).or_default().missing.push(g);
    }
    for p in players.values_mut() {
        p.rows.sort_unstable_by(|a, b| b.cmp(a));
        p.missing
            .sort_unstable_by_key(|g| std::cmp::Reverse(g.game_date));
    }
    let none = Player::default();
    records
        .iter()
        .map(|(p, d)| one(players.get(p.as_str()).unwrap_or(&none), *d, calendar))
        .collect()
}

fn one(player: &Player, day: NaiveDate, calendar: &SeasonCalendar) -> ExtendedCompleteness {
    let from60 = day - Days::new(WINDOW_DAYS as u64);
    let from365 = day - Days::new(LOOKBACK_DAYS as u64);
    let before = |d: &NaiveDate| *d < day;
    let in60: Vec<(NaiveDate, &str)> = player
        .rows
        .iter()
        .copied()
        .filter(|(d, _)| before(d) && *d >= from60)
        .collect();
    let c365 = player
        .rows
        .iter()
        .filter(|(d, _)| before(d) && *d >= from365)
        .count();
    let missing: Vec<NaiveDate> = player
        .missing
        .iter()
        .filter(|g| g.game_date >= from60 && before(&g.game_date) && g.next_row < day)
        .map(|g| g.game_date)
        .collect();
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
    let season_start = calendar.season_start(season_year(day));
    let reason = if c365 == 0 && m == 0 {
        Some("no_data")
    } else if m > 0 {
        Some("missing_games")
    } else if c60 < WINDOW_GAMES && season_start > from60 && season_start <= day {
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
