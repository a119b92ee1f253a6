//! Why a record is incomplete: the words every check, report and page uses
//! (semantics.md, "Why a record is incomplete").
//!
//! The struct says *that* a window is short: INCOMPLETE is fewer than ten games in the
//! 60 days before the record with at least ten in the year. Production calls all of
//! them data gaps; most are not. The reason says why, and only a game missing upstream
//! is a data gap. The struct's fields are not touched by any of this.

use serde::{Deserialize, Serialize};

use super::count::thousands;

/// Why an INCOMPLETE record's window is short, the first that applies in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Today's rows no longer make the record INCOMPLETE: the stored struct is older than
    /// they are (only a check of stored structs meets this; a backfill fixes it).
    OutOfDate,
    /// A scheduled, final game of the player's team in the window has no
    /// player_game_summary row for him (the gap rule of `check gaps`): a data gap.
    MissingGames,
    /// The season began less than 60 days before the record: the window reaches into
    /// the off-season.
    EarlySeason,
    /// He has no row for games of his team whose source lists only the players who
    /// played (box scores): he did not play (DNP or inactive), nothing is missing.
    DnpInactive,
    /// He missed more than three of his team's games in a row (an injury, a trade, a
    /// call-up): back from an absence.
    Absence,
}

impl Reason {
    pub const ALL: [Reason; 5] = [
        Reason::MissingGames,
        Reason::EarlySeason,
        Reason::DnpInactive,
        Reason::Absence,
        Reason::OutOfDate,
    ];

    /// The key scripts see.
    pub fn code(self) -> &'static str {
        match self {
            Reason::OutOfDate => "out_of_date",
            Reason::MissingGames => "missing_games",
            Reason::EarlySeason => "early_season",
            Reason::DnpInactive => "dnp_inactive",
            Reason::Absence => "absence",
        }
    }

    /// A few words for a table cell or a card.
    pub fn label(self) -> &'static str {
        match self {
            Reason::OutOfDate => "struct out of date",
            Reason::MissingGames => "data gap",
            Reason::EarlySeason => "early season",
            Reason::DnpInactive => "DNP/inactive",
            Reason::Absence => "back from an absence",
        }
    }

    /// What the reason means, in a sentence's worth.
    pub fn meaning(self) -> &'static str {
        match self {
            Reason::OutOfDate => {
                "today's rows fill the window: the stored struct is older than they are (a backfill fixes it)"
            }
            Reason::MissingGames => {
                "a scheduled game of his team in the window has no player_game_summary row for him"
            }
            Reason::EarlySeason => {
                "the season began less than 60 days before: the window reaches into the off-season"
            }
            Reason::DnpInactive => {
                "he did not play in games whose box-score source lists only who played"
            }
            Reason::Absence => {
                "he missed more than three of his team's games in a row (injury, trade, call-up)"
            }
        }
    }

    /// Only a game missing upstream is a data gap.
    pub fn is_data_gap(self) -> bool {
        self == Reason::MissingGames
    }
}

/// INCOMPLETE records per reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCounts {
    /// Data gaps: a game of the player's team has no row for him.
    pub missing_games: u64,
    pub early_season: u64,
    pub dnp_inactive: u64,
    pub absence: u64,
    /// Stored structs that today's rows no longer make INCOMPLETE (checks only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub out_of_date: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ReasonCounts {
    pub fn add(&mut self, reason: Reason) {
        *self.slot(reason) += 1;
    }

    pub fn get(&self, reason: Reason) -> u64 {
        match reason {
            Reason::OutOfDate => self.out_of_date,
            Reason::MissingGames => self.missing_games,
            Reason::EarlySeason => self.early_season,
            Reason::DnpInactive => self.dnp_inactive,
            Reason::Absence => self.absence,
        }
    }

    fn slot(&mut self, reason: Reason) -> &mut u64 {
        match reason {
            Reason::OutOfDate => &mut self.out_of_date,
            Reason::MissingGames => &mut self.missing_games,
            Reason::EarlySeason => &mut self.early_season,
            Reason::DnpInactive => &mut self.dnp_inactive,
            Reason::Absence => &mut self.absence,
        }
    }

    /// The records counted: every INCOMPLETE record.
    pub fn total(&self) -> u64 {
        Reason::ALL.iter().map(|r| self.get(*r)).sum()
    }

    /// The records that are data gaps.
    pub fn data_gaps(&self) -> u64 {
        self.missing_games
    }

    /// The reasons with records, in the order of [`Reason::ALL`].
    pub fn present(&self) -> Vec<(Reason, u64)> {
        Reason::ALL
            .iter()
            .map(|r| (*r, self.get(*r)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// "12 data gaps, 2,100 early season, …": the reasons with records, or "none".
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .present()
            .into_iter()
            .map(|(r, n)| match r {
                Reason::MissingGames => {
                    format!(
                        "{} {}",
                        thousands(n),
                        if n == 1 { "data gap" } else { "data gaps" }
                    )
                }
                _ => format!("{} {}", thousands(n), r.label()),
            })
            .collect();
        match parts.is_empty() {
            true => "none".to_string(),
            false => parts.join(", "),
        }
    }
}

impl FromIterator<Reason> for ReasonCounts {
    fn from_iter<I: IntoIterator<Item = Reason>>(iter: I) -> Self {
        let mut counts = ReasonCounts::default();
        iter.into_iter().for_each(|r| counts.add(r));
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_only_missing_games_are_data_gaps() {
        let counts: ReasonCounts = [
            Reason::EarlySeason,
            Reason::EarlySeason,
            Reason::MissingGames,
            Reason::Absence,
        ]
        .into_iter()
        .collect();
        assert_eq!(counts.total(), 4);
        assert_eq!(counts.data_gaps(), 1);
        assert_eq!(
            counts.summary(),
            "1 data gap, 2 early season, 1 back from an absence"
        );
        assert!(Reason::ALL.iter().filter(|r| r.is_data_gap()).count() == 1);
        let json = serde_json::to_value(counts).unwrap();
        assert_eq!(json["early_season"], 2);
        assert!(json.get("out_of_date").is_none(), "{json}");
        assert_eq!(ReasonCounts::default().summary(), "none");
    }
}
