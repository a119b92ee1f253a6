//! The gap rule over plain rows: each player's consecutive rows with one team, and the
//! team's scheduled games between them. A skipped game whose team has rows but none of
//! a player who did not play (a box-score-sourced game) lists only who played, so the
//! absence says nothing: "cannot tell", not missing, and it does not count towards the
//! games that make an absence either.

use arrow::array::RecordBatch;
use chrono::NaiveDate;
use serde::Serialize;

use super::TeamId;
use crate::error::Result;
use crate::io::columns::{dates, strings};
use crate::pipeline::FastMap;

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
    games: FastMap<String, Vec<(NaiveDate, String)>>,
}

impl TeamGames {
    /// From `(date, game_id, home, away)` schedule rows.
    pub fn new(rows: impl IntoIterator<Item = (NaiveDate, String, String, String)>) -> Self {
        let mut games: FastMap<String, Vec<(NaiveDate, String)>> = FastMap::default();
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

    /// From the rows of `queries/team_games.sql` (`game_date, game_id,
    /// home_team_tricode, away_team_tricode`); rows with a NULL are left out.
    pub fn from_batches(schedule: &[RecordBatch]) -> Result<Self> {
        let games = dates(schedule, "game_date")?
            .into_iter()
            .zip(strings(schedule, "game_id")?)
            .zip(strings(schedule, "home_team_tricode")?)
            .zip(strings(schedule, "away_team_tricode")?)
            .filter_map(|(((d, id), h), a)| Some((d?, id?, h?, a?)));
        Ok(TeamGames::new(games))
    }

    /// Whether there are no games.
    pub fn is_empty(&self) -> bool {
        self.games.is_empty()
    }

    /// The team's games strictly between `after` and `before`.
    pub fn between(
        &self,
        team: &str,
        after: NaiveDate,
        before: NaiveDate,
    ) -> &[(NaiveDate, String)] {
        let Some(list) = self.games.get(team) else {
            return &[];
        };
        let from = list.partition_point(|(d, _)| *d <= after);
        let to = list.partition_point(|(d, _)| *d < before);
        &list[from..to.max(from)]
    }
}

/// What the rule finds, each list sorted by date, team, player.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Detection {
    /// Games a player should have a row for and has none.
    pub missing: Vec<MissingGame>,
    /// Absences from games that list only the players who played: no evidence either way.
    pub cannot_tell: Vec<MissingGame>,
}

/// Every missing game of the inputs' rows (any order).
pub fn detect(inputs: &super::GapInputs) -> Detection {
    detect_for(inputs, |_| true)
}

/// The missing games of the players `wanted` picks (a player's gaps depend on his own
/// rows and on which games list their rosters, never on other players' gaps).
pub fn detect_for(inputs: &super::GapInputs, wanted: impl Fn(&str) -> bool) -> Detection {
    let mut out = Detection::default();
    for (player, rows) in inputs.players().filter(|(p, _)| wanted(p)) {
        // Consecutive distinct rows (a repeated row adds nothing).
        let mut previous: Option<(NaiveDate, TeamId)> = None;
        for &(t2, next_team) in rows {
            let Some((t1, team)) = previous.replace((t2, next_team)) else {
                continue;
            };
            if (t1, team) == (t2, next_team) || team != next_team {
                continue;
            }
            let name = inputs.team(team);
            let skipped = inputs.teams.between(name, t1, t2);
            // Only a game that lists its roster (or is lost whole) says the player
            // was not there; those decide between a gap and an absence.
            let (listed, unlisted): (Vec<_>, Vec<_>) = skipped
                .iter()
                .partition(|(date, _)| inputs.team_lists_roster(team, *date));
            if listed.len() > MAX_SKIPPED_GAMES {
                continue;
            }
            let gap = |(date, id): &&(NaiveDate, String)| MissingGame {
                game_date: *date,
                team_abbr: name.to_string(),
                game_id: id.clone(),
                player_lookup: player.to_string(),
                next_row: t2,
            };
            out.missing.extend(listed.iter().map(gap));
            out.cannot_tell.extend(unlisted.iter().map(gap));
        }
    }
    out.missing.sort();
    out.cannot_tell.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::gaps::GapInputs;

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

    /// The rule over rows of gamebook games (every game lists its roster).
    fn missing(rows: Vec<(String, NaiveDate, String)>) -> Vec<MissingGame> {
        let found = detect(&GapInputs::new(rows, teams()));
        assert!(found.cannot_tell.is_empty());
        found.missing
    }

    #[test]
    fn a_skipped_game_between_two_rows_of_one_team_is_missing() {
        let found = missing(rows("ann", "LAL", &[1, 3, 7, 9]));
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
        let three = missing(rows("ann", "LAL", &[1, 9]));
        assert_eq!(three.len(), 3);
        assert!(missing(rows("ann", "LAL", &[1, 11])).is_empty());
    }

    #[test]
    fn no_gap_across_a_trade_before_the_first_row_or_after_the_last() {
        let mut r = rows("bob", "LAL", &[5, 7]);
        r.extend(rows("bob", "BOS", &[12, 14]));
        assert!(missing(r.clone()).is_empty(), "the trade between 7 and 12");
        // Same-team rows around the trade's other side would still count.
        r.extend(rows("bob", "BOS", &[18]));
        let found = missing(r);
        assert_eq!(
            found.iter().map(|g| g.game_date).collect::<Vec<_>>(),
            [d(16)]
        );
    }

    #[test]
    fn two_rows_on_one_date_and_unknown_teams_add_nothing() {
        let mut r = rows("cat", "LAL", &[1, 3, 3]);
        r.extend(rows("cat", "NOP", &[20, 28]));
        assert!(missing(r).is_empty());
    }

    /// A box-score game lists only who played: an absent bench player there is no
    /// evidence of a missing row. A game with no rows at all still is.
    #[test]
    fn a_game_without_dnp_rows_cannot_tell_and_a_lost_game_is_missing() {
        // dan plays the 1st, 5th and 9th; he has no row on the 3rd or the 7th. On the
        // 3rd only eve (who played) has a row; on the 7th eve and a DNP row of fay.
        let mut r = rows("dan", "LAL", &[1, 5, 9]);
        r.extend(rows("eve", "LAL", &[1, 3, 5, 7, 9]));
        r.extend(rows("fay", "LAL", &[7]));
        let mut flags = vec![false; r.len()];
        *flags.last_mut().unwrap() = true;
        let found = detect(&GapInputs::with_flags(r, flags, teams()));
        let days = |gaps: &[MissingGame]| {
            gaps.iter()
                .map(|g| (g.player_lookup.clone(), g.game_date))
                .collect::<Vec<_>>()
        };
        assert_eq!(days(&found.missing), [("dan".to_string(), d(7))]);
        assert_eq!(days(&found.cannot_tell), [("dan".to_string(), d(3))]);
        // The 11th and 13th have no rows at all: lost games, missing for everyone.
        let lost = detect(&GapInputs::with_flags(
            rows("dan", "LAL", &[9, 15]),
            vec![false; 2],
            teams(),
        ));
        assert_eq!(lost.missing.len(), 2);
        assert!(lost.cannot_tell.is_empty());
    }

    /// Four games lie between dan's rows, which would make an absence; two of them
    /// list only who played, so only two say he was not there: a gap, not an absence.
    #[test]
    fn games_that_list_only_who_played_do_not_make_an_absence() {
        let mut r = rows("dan", "LAL", &[1, 11]);
        r.extend(rows("eve", "LAL", &[3, 5, 7, 9]));
        r.extend(rows("fay", "LAL", &[7, 9]));
        let flags: Vec<bool> = r.iter().map(|(p, _, _)| p == "fay").collect();
        let found = detect(&GapInputs::with_flags(r, flags, teams()));
        let days = |gaps: &[MissingGame]| gaps.iter().map(|g| g.game_date).collect::<Vec<_>>();
        assert_eq!(days(&found.missing), [d(7), d(9)]);
        assert_eq!(days(&found.cannot_tell), [d(3), d(5)]);
        // With a DNP row in all four games, it is a four-game absence: nothing flagged.
        let mut r = rows("dan", "LAL", &[1, 11]);
        r.extend(rows("fay", "LAL", &[3, 5, 7, 9]));
        let flags: Vec<bool> = r.iter().map(|(p, _, _)| p == "fay").collect();
        let found = detect(&GapInputs::with_flags(r, flags, teams()));
        assert!(found.missing.is_empty() && found.cannot_tell.is_empty());
    }

    /// The rule as first written, over a plain list of rows: each player's rows sorted
    /// and deduplicated, then every consecutive pair of one team.
    fn naive(rows: &[(String, NaiveDate, String)], flags: &[bool], teams: &TeamGames) -> Detection {
        let mut listed: std::collections::HashMap<(&str, NaiveDate), bool> = Default::default();
        for ((_, d, t), f) in rows.iter().zip(flags) {
            *listed.entry((t.as_str(), *d)).or_default() |= *f;
        }
        let mut by_player: std::collections::BTreeMap<&str, Vec<(NaiveDate, &str)>> =
            Default::default();
        for (p, d, t) in rows {
            by_player.entry(p).or_default().push((*d, t));
        }
        let mut out = Detection::default();
        for (player, mut seen) in by_player {
            seen.sort_unstable();
            seen.dedup();
            for pair in seen.windows(2) {
                let ((t1, team), (t2, next)) = (pair[0], pair[1]);
                if team != next {
                    continue;
                }
                let skipped = teams.between(team, t1, t2);
                let (on, off): (Vec<_>, Vec<_>) = skipped
                    .iter()
                    .partition(|(d, _)| listed.get(&(team, *d)).is_none_or(|l| *l));
                if on.len() > MAX_SKIPPED_GAMES {
                    continue;
                }
                let gap = |(d, id): &&(NaiveDate, String)| MissingGame {
                    game_date: *d,
                    team_abbr: team.to_string(),
                    game_id: id.clone(),
                    player_lookup: player.to_string(),
                    next_row: t2,
                };
                out.missing.extend(on.iter().map(gap));
                out.cannot_tell.extend(off.iter().map(gap));
            }
        }
        out.missing.sort();
        out.cannot_tell.sort();
        out
    }

    proptest::proptest! {
        /// The grouped, interned rows find what the plain rule finds: trades on one
        /// date, repeated rows, unlisted games and teams without a schedule included.
        #[test]
        fn grouped_rows_find_what_the_plain_rule_finds(
            rows in proptest::collection::vec((0..5u8, 1..29u32, 0..3u8, proptest::bool::weighted(0.8)), 0..60),
        ) {
            let team = |t: u8| ["LAL", "BOS", "NOP"][t as usize].to_string();
            let plain: Vec<(String, NaiveDate, String)> =
                rows.iter().map(|(p, x, t, _)| (format!("p{p}"), d(*x), team(*t))).collect();
            let flags: Vec<bool> = rows.iter().map(|r| r.3).collect();
            let want = naive(&plain, &flags, &teams());
            let got = detect(&GapInputs::with_flags(plain, flags, teams()));
            proptest::prop_assert_eq!(got, want);
        }
    }
}
