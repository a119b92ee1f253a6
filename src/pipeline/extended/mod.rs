//! `historical_completeness_ext`: an opt-in second struct (`backfill --extended`) that
//! says what the five fields cannot: which games are missing (by the schedule, see
//! [`crate::ops::gaps`]), how old and how spread the window is, which teams it covers, and
//! why a record is not complete. The five-field struct is never touched by it.

mod column;
mod files;
mod rule;
mod schema_change;

pub use column::{ExtendedBuilder, ExtendedColumn, extended_type};
pub use files::{by_key, team_games, team_games_params, write};
pub use rule::{STALE_SPAN_DAYS, extended, incomplete_reasons};
pub use schema_change::add_column;

use chrono::NaiveDate;
use serde::Serialize;

/// The column's name in the feature table.
pub const EXTENDED_COLUMN: &str = "historical_completeness_ext";

/// One record's extended completeness.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExtendedCompleteness {
    /// Rows present over rows expected in the 60-day window, in percent (one decimal);
    /// NULL when the player has neither.
    pub completeness_pct: Option<f64>,
    /// Games in the 60-day window the player has no row for (newest first), known
    /// before the record's date.
    pub missing_game_dates: Vec<NaiveDate>,
    /// Days from the oldest of the (up to ten) window games to the record's date.
    pub window_span_days: Option<i64>,
    pub oldest_game_date: Option<NaiveDate>,
    pub newest_game_date: Option<NaiveDate>,
    /// Teams of the window games, newest first, each once.
    pub teams_in_window: Vec<String>,
    /// missing_games, new_player, early_season, no_data or stale_window; NULL when
    /// nothing is amiss.
    pub incompleteness_reason: Option<String>,
}

/// The BigQuery DDL that adds the column (`table` already quoted).
pub fn bigquery_ddl(table: &str) -> String {
    format!(
        "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {EXTENDED_COLUMN} STRUCT<\n  \
         completeness_pct FLOAT64,\n  missing_game_dates ARRAY<DATE>,\n  \
         window_span_days INT64,\n  oldest_game_date DATE,\n  newest_game_date DATE,\n  \
         teams_in_window ARRAY<STRING>,\n  incompleteness_reason STRING\n>;\n"
    )
}
