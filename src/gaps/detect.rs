//! The gap rule over plain rows: each player's consecutive rows with one team, and the
//! team's scheduled games between them.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

/// Absences of at most this many of a team's games in a row are missing data; longer
/// ones are read as the player being off the roster feed.
pub const MAX_SKIPPED_GAMES: usize = 3;

/// A game a player should have a row for and has none.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct MissingGame {
    pub game_date: NaiveDate,
    pub team_abbr: String,
    pub game_id: String,
    pub player_lookup: String,
    /// The player's row for the team after the gap, which shows they stayed.
    pub next_row: NaiveDate,
}

/// Each team's scheduled games, by date.
#[derive(Debug, Clone, Default)]
pub struct TeamGames {
    games: HashMap<String, Vec<(NaiveDate, String)>>,
}

impl TeamGames {
    /// From `(date, game_id, home, away)` schedule rows.
    pub fn new(rows: impl IntoIterator<Item = (NaiveDate, String, String, String)>) -> Self {
        let mut games: HashMap<String, Vec<(NaiveDate, String)>> = HashMap::new();
        for (date, id, home, away) in rows {
            games.entry(home).or_default().push((date, id.clone()));
            games.entry(away).or_default().push((date, id));
        }
        for list in games.values_mut() {
            list.sort();
            list.dedup();
        }
        TeamGames { games }
    }

    /// The team's games strictly between `after` and `before`.
    fn between(&self, team: &str, after: NaiveDate, before: NaiveDate) -> &[(NaiveDate, String)] {
        let Some(list) = self.games.get(team) else {
            return &[];
        };
        let from = list.partition_point(|(d, _)| *d <= after);
        let to = list.partition_point(|(d, _)| *d < before);
        &list[from..to.max(from)]
    }
}

/// Every missing game in `rows` (`(player, date, team)`, any order), sorted by date,
/// team, player.
pub fn detect(rows: &[(String, NaiveDate, String)], teams: &TeamGames) -> Vec<MissingGame> {
    let mut by_player: HashMap<&str, Vec<(NaiveDate, &str)>> = HashMap::new();
    for (player, date, team) in rows {
        by_player.entry(player).or_default().push((*date, team));
    }
    let mut out = Vec::new();
    for (player, mut seen) in by_player {
        seen.sort_unstable();
        seen.dedup();
        for pair in seen.windows(2) {
            let ((t1, team), (t2, next_team)) = (pair[0], pair[1]);
            if team != next_team {
                continue;
            }
            let skipped = teams.between(team, t1, t2);
            if skipped.len() > MAX_SKIPPED_GAMES {
                continue;
            }
            out.extend(skipped.iter().map(|(date, id)| MissingGame {
                game_date: *date,
                team_abbr: team.to_string(),
                game_id: id.clone(),
                player_lookup: player.to_string(),
                next_row: t2,
            }));
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, day).unwrap()
    }

    /// LAL plays every other day from the 1st to the 29th; BOS on the even days.
    fn teams() -> TeamGames {
        let lal = (1..30)
            .step_by(2)
            .map(|x| (d(x), format!("g{x}"), "LAL".into(), "X".into()));
        let bos = (2..30)
            .step_by(2)
            .map(|x| (d(x), format!("b{x}"), "BOS".into(), "Y".into()));
        TeamGames::new(lal.chain(bos))
    }

    fn rows(player: &str, team: &str, days: &[u32]) -> Vec<(String, NaiveDate, String)> {
        days.iter()
            .map(|&x| (player.into(), d(x), team.into()))
            .collect()
    }

    #[test]
    fn a_skipped_game_between_two_rows_of_one_team_is_missing() {
        let found = detect(&rows("ann", "LAL", &[1, 3, 7, 9]), &teams());
        assert_eq!(
            found,
            [MissingGame {
                game_date: d(5),
                team_abbr: "LAL".into(),
                game_id: "g5".into(),
                player_lookup: "ann".into(),
                next_row: d(7),
            }]
        );
    }

    #[test]
    fn three_skipped_games_are_gaps_four_are_an_absence() {
        let three = detect(&rows("ann", "LAL", &[1, 9]), &teams());
        assert_eq!(three.len(), 3);
        assert!(detect(&rows("ann", "LAL", &[1, 11]), &teams()).is_empty());
    }

    #[test]
    fn no_gap_across_a_trade_before_the_first_row_or_after_the_last() {
        let mut r = rows("bob", "LAL", &[5, 7]);
        r.extend(rows("bob", "BOS", &[12, 14]));
        assert!(
            detect(&r, &teams()).is_empty(),
            "the trade between 7 and 12"
        );
        // Same-team rows around the trade's other side would still count.
        r.extend(rows("bob", "BOS", &[18]));
        let found = detect(&r, &teams());
        assert_eq!(
            found.iter().map(|g| g.game_date).collect::<Vec<_>>(),
            [d(16)]
        );
    }

    #[test]
    fn two_rows_on_one_date_and_unknown_teams_add_nothing() {
        let mut r = rows("cat", "LAL", &[1, 3, 3]);
        r.extend(rows("cat", "NOP", &[20, 28]));
        assert!(detect(&r, &teams()).is_empty());
    }
}
