//! The naive, row-at-a-time implementation of semantics.md: the oracle for the fast path.
//!
//! Written straight from the definitions, with no shared code: for a record (p, D),
//! filter p's rows to [D-60, D), sort descending, keep 10; count [D-365, D), looked up
//! only when the 60-day window holds a row (semantics.md step 5).

use chrono::{Duration, NaiveDate};
use completeness::model::HistoricalCompleteness;

/// One player_game_summary row's keys (either may be NULL).
pub type GameRow = (Option<String>, Option<NaiveDate>);

pub fn oracle(player: &str, d: NaiveDate, games: &[GameRow]) -> HistoricalCompleteness {
    let rows = |from: NaiveDate| -> Vec<NaiveDate> {
        games
            .iter()
            .filter(|(p, _)| p.as_deref() == Some(player))
            .filter_map(|(_, g)| *g)
            .filter(|g| from <= *g && *g < d)
            .collect()
    };
    let mut window = rows(d - Duration::days(60));
    window.sort_by(|a, b| b.cmp(a));
    window.truncate(10);
    let c365 = rows(d - Duration::days(365)).len() as i64;
    let games_found = window.len() as i64;
    let games_expected = if window.is_empty() { 0 } else { c365.min(10) };
    HistoricalCompleteness {
        games_found,
        games_expected,
        is_complete: games_found >= games_expected,
        is_bootstrap: games_expected < 10,
        contributing_game_dates: window,
    }
}
