//! Schemas (Arrow) of the three warehouse tables and the `HistoricalCompleteness` value.
//!
//! The field names and types follow `reference/semantics.md`. List items are named
//! `element`, as Delta Lake names them, so a batch built here round-trips through a
//! Delta table with an identical schema.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Warehouse-relative paths of the three tables (local warehouse layout).
pub const FEATURES_TABLE: &str = "nba_predictions/ml_feature_store_v2";
pub const GAMES_TABLE: &str = "nba_analytics/player_game_summary";
pub const SCHEDULE_TABLE: &str = "nba_reference/nba_schedule";

pub const PLAYER_LOOKUP: &str = "player_lookup";
pub const GAME_DATE: &str = "game_date";
pub const HISTORICAL_COMPLETENESS: &str = "historical_completeness";
pub const UPDATED_AT: &str = "updated_at";
pub const DATA_SOURCE: &str = "data_source";

/// Length of the rolling window of kept games.
pub const WINDOW_GAMES: usize = 10;
/// Lookback of the found-games window, in calendar days.
pub const WINDOW_DAYS: i32 = 60;
/// Lookback of the expected-games window, in calendar days.
pub const LOOKBACK_DAYS: i32 = 365;

/// One record's completeness, exactly the five fields of semantics.md.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HistoricalCompleteness {
    pub games_found: i64,
    pub games_expected: i64,
    pub is_complete: bool,
    pub is_bootstrap: bool,
    /// Newest first; a date appears once per upstream row.
    pub contributing_game_dates: Vec<NaiveDate>,
}

impl HistoricalCompleteness {
    /// The label every report uses: COMPLETE, else BOOTSTRAP, else INCOMPLETE.
    pub fn label(&self) -> Label {
        Label::of(self.is_complete, self.is_bootstrap)
    }
}

/// Report label, with the precedence of semantics.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Label {
    Complete,
    Bootstrap,
    Incomplete,
}

impl Label {
    pub fn of(is_complete: bool, is_bootstrap: bool) -> Label {
        if is_complete {
            Label::Complete
        } else if is_bootstrap {
            Label::Bootstrap
        } else {
            Label::Incomplete
        }
    }
}

fn list_of(item: DataType, nullable_items: bool) -> DataType {
    DataType::List(Arc::new(Field::new("element", item, nullable_items)))
}

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The five fields of the struct, in order.
pub fn completeness_fields() -> Fields {
    Fields::from(vec![
        Field::new("games_found", DataType::Int64, true),
        Field::new("games_expected", DataType::Int64, true),
        Field::new("is_complete", DataType::Boolean, true),
        Field::new("is_bootstrap", DataType::Boolean, true),
        Field::new(
            "contributing_game_dates",
            list_of(DataType::Date32, true),
            true,
        ),
    ])
}

/// `Struct<games_found, games_expected, is_complete, is_bootstrap, contributing_game_dates>`.
pub fn completeness_type() -> DataType {
    DataType::Struct(completeness_fields())
}

/// `ml_feature_store_v2`: one row per player per game day.
pub fn features_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(PLAYER_LOOKUP, DataType::Utf8, false),
        Field::new("universal_player_id", DataType::Utf8, true),
        Field::new(GAME_DATE, DataType::Date32, false),
        Field::new("game_id", DataType::Utf8, false),
        Field::new("features", list_of(DataType::Float64, true), true),
        Field::new("feature_names", list_of(DataType::Utf8, true), true),
        Field::new("feature_count", DataType::Int64, true),
        Field::new("feature_version", DataType::Utf8, true),
        Field::new("feature_quality_score", DataType::Float64, true),
        Field::new("opponent_team_abbr", DataType::Utf8, true),
        Field::new("is_home", DataType::Boolean, true),
        Field::new("days_rest", DataType::Int64, true),
        Field::new(DATA_SOURCE, DataType::Utf8, false),
        Field::new("data_hash", DataType::Utf8, true),
        Field::new(HISTORICAL_COMPLETENESS, completeness_type(), true),
        Field::new("created_at", utc_micros(), false),
        Field::new(UPDATED_AT, utc_micros(), true),
    ]))
}

/// `player_game_summary`: one row per player per game on a roster, DNP and inactive included.
pub fn games_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(PLAYER_LOOKUP, DataType::Utf8, true),
        Field::new(GAME_DATE, DataType::Date32, true),
        Field::new("game_id", DataType::Utf8, true),
        Field::new("team_abbr", DataType::Utf8, true),
        Field::new("opponent_team_abbr", DataType::Utf8, true),
        Field::new("season_year", DataType::Int64, true),
        Field::new("is_active", DataType::Boolean, true),
        Field::new("is_dnp", DataType::Boolean, true),
        Field::new("player_status", DataType::Utf8, true),
        Field::new("points", DataType::Int64, true),
        Field::new("minutes_played", DataType::Float64, true),
        Field::new("created_at", utc_micros(), true),
        Field::new("processed_at", utc_micros(), true),
    ]))
}

/// `nba_schedule`: one row per scheduled game.
pub fn schedule_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("game_id", DataType::Utf8, false),
        Field::new(GAME_DATE, DataType::Date32, false),
        Field::new("season_year", DataType::Int64, false),
        // "Regular Season", "All-Star", "Play-In", "Playoffs"
        Field::new("season_type", DataType::Utf8, false),
        Field::new("home_team_abbr", DataType::Utf8, false),
        Field::new("away_team_abbr", DataType::Utf8, false),
    ]))
}

/// Days since the Unix epoch, the Arrow `Date32` representation.
pub fn date_to_days(d: NaiveDate) -> i32 {
    (d - epoch()).num_days() as i32
}

/// Inverse of [`date_to_days`].
pub fn days_to_date(days: i32) -> NaiveDate {
    epoch() + chrono::Duration::days(days as i64)
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_days_round_trip_across_leap_day() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(days_to_date(date_to_days(d)), d);
        assert_eq!(
            date_to_days(d) - date_to_days(NaiveDate::from_ymd_opt(2024, 2, 28).unwrap()),
            1
        );
        assert_eq!(date_to_days(epoch()), 0);
    }

    #[test]
    fn label_precedence_prefers_complete_then_bootstrap() {
        assert_eq!(Label::of(true, true), Label::Complete);
        assert_eq!(Label::of(false, true), Label::Bootstrap);
        assert_eq!(Label::of(false, false), Label::Incomplete);
    }
}
