//! Upstream gaps the five-field struct cannot see, found from the schedule.
//!
//! **The rule.** A player's consecutive player_game_summary rows, on dates `T1 < T2`,
//! both for team X, say they were on X's roster across `(T1, T2)`. Every game X played
//! strictly between them (from the schedule, the All-Star game excluded) is a game the
//! player should have a row for, since the table holds a row for every rostered player,
//! DNP and inactive included. When at most [`MAX_SKIPPED_GAMES`] such games lie between
//! the two rows, each is a **missing game**. A longer absence is read as the player being
//! off the roster feed (a long injury, a G League assignment), not as missing data.
//!
//! **Only where the roster is listed.** Only gamebook-sourced games carry DNP and
//! inactive rows; box-score sources write the players who played. A skipped game whose
//! team has rows, none from the gamebook and none of a player who did not play, is
//! therefore "cannot tell": the absent player may simply not have played. Such games are
//! counted and listed, never flagged, and do not count towards an absence. A skipped
//! game with no rows at all is lost whatever its source: missing.
//!
//! **Limits.** A game before a player's first row with a team, or after their last one,
//! is never flagged (a call-up, a trade or a release looks exactly like that), so a gap
//! on a player's first or last game with a team goes unseen. Two-way players shuttling
//! to the G League for one to three games, and a pipeline outage of more than three of a
//! team's games in a row, are misread (the first as a gap, the second as an absence).
//! For a feature record on D, only gaps whose closing row `T2` is before D are known
//! when it is computed.

mod detect;
mod inputs;

pub mod reasons;

pub use detect::{Detection, MAX_SKIPPED_GAMES, MissingGame, TeamGames, detect, detect_for};
pub use inputs::{GapInputs, TeamId, load};
