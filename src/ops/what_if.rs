//! What-if cascade: which records would change if a date's missing rows were backfilled.
//! The windows of the affected players' later records are recomputed, from the
//! definition, with and without one row on the date per missing game, and compared.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use serde::Serialize;

use crate::model::LOOKBACK_DAYS;
use crate::ops::spot_check::recompute_from_dates;
use crate::pipeline::gaps::{GapInputs, MissingGame, detect};

/// The answer for one date.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WhatIf {
    /// The date's missing games (one per player and game).
    pub missing: Vec<MissingGame>,
    /// `(player_lookup, game_date)` of the records whose struct would change, by date.
    pub would_change: Vec<(String, NaiveDate)>,
}

/// The missing games on `date`, and which of `records` (feature keys after `date`) a
/// backfill of them would change.
pub fn what_if(inputs: &GapInputs, records: &[(String, NaiveDate)], date: NaiveDate) -> WhatIf {
    let missing: Vec<MissingGame> = detect(inputs)
        .missing
        .into_iter()
        .filter(|g| g.game_date == date)
        .collect();
    let mut added: HashMap<&str, usize> = HashMap::new();
    for g in &missing {
        *added.entry(g.player_lookup.as_str()).or_default() += 1;
    }
    let history: HashMap<&str, Vec<NaiveDate>> = (added.keys())
        .map(|&p| (p, inputs.rows_of(p).iter().map(|(d, _)| *d).collect()))
        .collect();
    let mut would_change: Vec<(String, NaiveDate)> = records
        .iter()
        .filter(|(player, day)| {
            *day > date
                && added.get(player.as_str()).is_some_and(|&n| {
                    let games = history.get(player.as_str()).map(Vec::as_slice);
                    changes(games.unwrap_or_default(), *day, date, n)
                })
        })
        .cloned()
        .collect();
    would_change.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    WhatIf {
        missing,
        would_change,
    }
}

/// Whether the struct on `day` differs once `extra` rows on `date` join `games`.
fn changes(games: &[NaiveDate], day: NaiveDate, date: NaiveDate, extra: usize) -> bool {
    let start = day - Days::new(LOOKBACK_DAYS as u64);
    let mut now: Vec<NaiveDate> = games
        .iter()
        .copied()
        .filter(|d| *d >= start && *d < day)
        .collect();
    now.sort_unstable_by(|a, b| b.cmp(a));
    let before = recompute_from_dates(&now, day);
    now.extend(std::iter::repeat_n(date, extra));
    now.sort_unstable_by(|a, b| b.cmp(a));
    recompute_from_dates(&now, day) != before
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::gaps::TeamGames;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, day).unwrap()
    }

    /// LAL plays every day of January; ann has rows on all but the 10th, bob (few games
    /// behind him) is missing on the 10th too, cat is missing on the 9th.
    fn inputs() -> GapInputs {
        let teams = TeamGames::new(
            (1..=31).map(|x| (d(1, x), format!("g{x}"), "LAL".into(), "BOS".into())),
        );
        let mut rows = Vec::new();
        for x in (1..=31).filter(|x| *x != 10) {
            rows.push(("ann".to_string(), d(1, x), "LAL".to_string()));
        }
        for x in [8, 9, 11] {
            rows.push(("bob".to_string(), d(1, x), "LAL".to_string()));
        }
        for x in (1..=31).filter(|x| *x != 9) {
            rows.push(("cat".to_string(), d(1, x), "LAL".to_string()));
        }
        GapInputs::new(rows, teams)
    }

    #[test]
    fn records_whose_window_gains_the_row_change() {
        let records: Vec<(String, NaiveDate)> = ["ann", "bob", "cat"]
            .iter()
            .flat_map(|p| (9..=31).map(move |x| (p.to_string(), d(1, x))))
            .collect();
        let w = what_if(&inputs(), &records, d(1, 10));
        let players: Vec<&str> = w.missing.iter().map(|g| g.player_lookup.as_str()).collect();
        assert_eq!(players, ["ann", "bob"]);
        // ann: the 10th joins her newest ten games up to the 20th; from the 21st on, the
        // ten games 11..=20 come first and games_expected is 10 either way.
        let ann: Vec<u32> = w
            .would_change
            .iter()
            .filter(|(p, _)| p == "ann")
            .map(|(_, day)| chrono::Datelike::day(day))
            .collect();
        assert_eq!(ann, (11..=20).collect::<Vec<_>>());
        // bob has three games: every later record would count the extra one.
        let bob = w.would_change.iter().filter(|(p, _)| p == "bob").count();
        assert_eq!(bob, 21);
        assert!(w.would_change.iter().all(|(p, _)| p != "cat"));
    }
}
