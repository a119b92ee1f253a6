//! Schemas (Arrow) of the three warehouse tables and the `HistoricalCompleteness` value.
//!
//! The field names and types follow `reference/semantics.md`. List items are named
//! `element`, as Delta Lake names them, so a batch built here round-trips through a
//! Delta table with an identical schema.

pub mod changes;
pub mod completeness_column;
pub mod count;
pub mod coverage;
pub mod dates;
pub mod extended_column;
pub mod identifiers;
pub mod job_cost;
pub mod reasons;

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
/// `primary_source_used` of player_game_summary rows read from the gamebook, which lists
/// the whole roster (DNP and inactive players included).
pub const GAMEBOOK: &str = "nbac_gamebook";

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

/// NUMERIC(p, s) as Arrow decimals, as BigQuery exports them.
fn numeric(precision: u8, scale: i8) -> DataType {
    DataType::Decimal128(precision, scale)
}

/// A column with a description (Delta keeps it as the field's `comment`; BigQuery as
/// `OPTIONS(description=…)`).
fn described(name: &str, kind: DataType, description: &str) -> Field {
    Field::new(name, kind, true).with_metadata(std::collections::HashMap::from([(
        "comment".to_string(),
        description.to_string(),
    )]))
}

/// The upstream sources a feature record tracks (four `source_*` columns each).
pub const FEATURE_SOURCES: [&str; 4] = ["daily_cache", "composite", "shot_zones", "team_defense"];
/// Features whose per-feature quality and source columns the sample carries.
pub const TRACKED_FEATURES: usize = 8;

/// `ml_feature_store_v2` in the production shape (`reference/production-schemas.md`): the
/// keys, the feature arrays, NUMERIC scores, sixteen `source_*` tracking columns,
/// early-season and circuit-breaker flags, quality columns with descriptions,
/// JSON-in-STRING columns, the struct, `created_at` and a nullable `updated_at`. Only the
/// struct and `updated_at` are ever written; the rest must come through unchanged.
pub fn features_schema() -> SchemaRef {
    let mut fields = vec![
        Field::new(PLAYER_LOOKUP, DataType::Utf8, false),
        Field::new("universal_player_id", DataType::Utf8, true),
        Field::new(GAME_DATE, DataType::Date32, false),
        Field::new("game_id", DataType::Utf8, false),
        Field::new("features", list_of(DataType::Float64, true), true),
        Field::new("feature_names", list_of(DataType::Utf8, true), true),
        Field::new("feature_count", DataType::Int64, false),
        Field::new("feature_version", DataType::Utf8, false),
        Field::new("feature_generation_time_ms", DataType::Int64, true),
        Field::new("feature_quality_score", numeric(5, 2), true),
        Field::new("opponent_team_abbr", DataType::Utf8, true),
        Field::new("is_home", DataType::Boolean, true),
        Field::new("days_rest", DataType::Int64, true),
        Field::new(DATA_SOURCE, DataType::Utf8, false),
    ];
    for source in FEATURE_SOURCES {
        fields.extend([
            Field::new(format!("source_{source}_last_updated"), utc_micros(), true),
            Field::new(format!("source_{source}_rows_found"), DataType::Int64, true),
            Field::new(
                format!("source_{source}_completeness_pct"),
                numeric(5, 2),
                true,
            ),
            Field::new(format!("source_{source}_hash"), DataType::Utf8, true),
        ]);
    }
    fields.extend([
        Field::new("early_season_flag", DataType::Boolean, true),
        Field::new("insufficient_data_reason", DataType::Utf8, true),
        Field::new("expected_games_count", DataType::Int64, true),
        Field::new("actual_games_count", DataType::Int64, true),
        Field::new("completeness_percentage", DataType::Float64, true),
        Field::new("is_production_ready", DataType::Boolean, true),
        Field::new("data_quality_issues", list_of(DataType::Utf8, true), true),
        Field::new("reprocess_attempt_count", DataType::Int64, true),
        Field::new("circuit_breaker_active", DataType::Boolean, true),
        Field::new("circuit_breaker_until", utc_micros(), true),
        Field::new("processing_decision_reason", DataType::Utf8, true),
        Field::new("data_hash", DataType::Utf8, true),
        Field::new(HISTORICAL_COMPLETENESS, completeness_type(), true),
        Field::new("created_at", utc_micros(), false),
        Field::new(UPDATED_AT, utc_micros(), true),
        described(
            "quality_tier",
            DataType::Utf8,
            "Overall tier: gold (>95), silver (85-95), bronze (70-85), poor (50-70), critical (<50).",
        ),
        described(
            "quality_alerts",
            list_of(DataType::Utf8, true),
            "Alerts triggered, e.g. all_matchup_features_defaulted.",
        ),
        described(
            "default_feature_indices",
            list_of(DataType::Int64, true),
            "Indices of features using default values (empty = all real data).",
        ),
        described(
            "is_training_ready",
            DataType::Boolean,
            "TRUE if the record meets the training quality bar.",
        ),
        described(
            "matchup_quality_pct",
            numeric(5, 2),
            "Quality % of the matchup features. 0 = all defaults.",
        ),
        described(
            "feature_sources_json",
            DataType::Utf8,
            "JSON object: feature index -> source (phase4, phase3, calculated, default).",
        ),
        described(
            "quality_breakdown_json",
            DataType::Utf8,
            "JSON object: quality % per feature category.",
        ),
    ]);
    for i in 0..TRACKED_FEATURES {
        fields.push(described(
            &format!("feature_{i}_quality"),
            DataType::Float64,
            &format!("Quality 0-100 of feature {i}"),
        ));
        fields.push(described(
            &format!("feature_{i}_source"),
            DataType::Utf8,
            &format!("Source of feature {i}: phase4, phase3, calculated, default"),
        ));
    }
    Arc::new(Schema::new(fields))
}

/// `player_game_summary` in the production shape: one row per player per game. Games
/// read from the gamebook carry DNP and inactive rows (`primary_source_used =
/// 'nbac_gamebook'`); box-score sources write active players only.
pub fn games_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(PLAYER_LOOKUP, DataType::Utf8, false),
        Field::new("universal_player_id", DataType::Utf8, true),
        Field::new("game_id", DataType::Utf8, false),
        Field::new(GAME_DATE, DataType::Date32, false),
        Field::new("team_abbr", DataType::Utf8, false),
        Field::new("opponent_team_abbr", DataType::Utf8, false),
        Field::new("season_year", DataType::Int64, false),
        Field::new("points", DataType::Int64, true),
        Field::new("minutes_played", numeric(5, 1), true),
        Field::new("assists", DataType::Int64, true),
        Field::new("offensive_rebounds", DataType::Int64, true),
        Field::new("defensive_rebounds", DataType::Int64, true),
        Field::new("usage_rate", numeric(6, 2), true),
        Field::new("starter_flag", DataType::Boolean, false),
        Field::new("win_flag", DataType::Boolean, false),
        Field::new("is_active", DataType::Boolean, false),
        Field::new("player_status", DataType::Utf8, true),
        Field::new("is_dnp", DataType::Boolean, true),
        Field::new("dnp_reason", DataType::Utf8, true),
        Field::new("primary_source_used", DataType::Utf8, true),
        Field::new("data_quality_tier", DataType::Utf8, true),
        Field::new("data_hash", DataType::Utf8, true),
        Field::new("created_at", utc_micros(), true),
        Field::new("processed_at", utc_micros(), true),
    ]))
}

/// `nba_reference.nba_schedule`: exactly the columns of the production view over
/// `nba_raw.nbac_schedule` (one row per scheduled game; the raw table may hold a game
/// twice). `game_status` 3 is final; the All-Star game and preseason are flagged.
pub fn schedule_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("game_id", DataType::Utf8, false),
        Field::new(GAME_DATE, DataType::Date32, false),
        Field::new("season_year", DataType::Int64, false),
        Field::new("home_team_tricode", DataType::Utf8, false),
        Field::new("away_team_tricode", DataType::Utf8, false),
        Field::new("home_team_name", DataType::Utf8, false),
        Field::new("away_team_name", DataType::Utf8, false),
        Field::new("game_status", DataType::Int64, true),
        Field::new("is_playoffs", DataType::Boolean, true),
        Field::new("is_regular_season", DataType::Boolean, true),
        Field::new("is_all_star", DataType::Boolean, true),
        Field::new("playoff_round", DataType::Utf8, true),
        Field::new("game_type", DataType::Utf8, true),
    ]))
}

/// Days since the Unix epoch, the Arrow `Date32` representation.
pub fn date_to_days(d: NaiveDate) -> i32 {
    (d - epoch()).num_days() as i32
}

/// Inverse of [`date_to_days`]. Inputs are checked against the supported dates before
/// they get here; a day beyond chrono's range is shown as its nearest end, never a panic.
pub fn days_to_date(days: i32) -> NaiveDate {
    epoch()
        .checked_add_signed(chrono::Duration::days(days as i64))
        .unwrap_or(if days < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
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
