-- The three production objects in their real shapes, for the emulator tests: our own
-- DDL, written from ../../shared/reference/production-schemas.md (the platform's
-- schemas/bigquery/… files), not copied from it. The sample warehouse's columns are a
-- subset of these; the rest stay NULL when a test seeds the tables.
-- Placeholders: {project}, {predictions}, {analytics}, {raw}, {reference}.
-- One statement per job: statements are separated by lines holding only ";".

CREATE TABLE `{project}.{predictions}.ml_feature_store_v2` (
  player_lookup STRING NOT NULL OPTIONS(description="Normalized player key, e.g. 'lebronjames'"),
  universal_player_id STRING,
  game_date DATE NOT NULL OPTIONS(description="Partition key"),
  game_id STRING NOT NULL OPTIONS(description="e.g. 20250120_BKN_MIL"),
  features ARRAY<FLOAT64> OPTIONS(description="Feature values, aligned with feature_names"),
  feature_names ARRAY<STRING>,
  feature_count INT64 NOT NULL,
  feature_version STRING NOT NULL,
  feature_generation_time_ms INT64,
  feature_quality_score NUMERIC(5,2) OPTIONS(description="0-100 quality score"),
  opponent_team_abbr STRING,
  is_home BOOL,
  days_rest INT64,
  data_source STRING NOT NULL OPTIONS(description="phase4, phase3, mixed, early_season"),
  source_daily_cache_last_updated TIMESTAMP,
  source_daily_cache_rows_found INT64,
  source_daily_cache_completeness_pct NUMERIC(5,2),
  source_daily_cache_hash STRING,
  source_composite_last_updated TIMESTAMP,
  source_composite_rows_found INT64,
  source_composite_completeness_pct NUMERIC(5,2),
  source_composite_hash STRING,
  source_shot_zones_last_updated TIMESTAMP,
  source_shot_zones_rows_found INT64,
  source_shot_zones_completeness_pct NUMERIC(5,2),
  source_shot_zones_hash STRING,
  source_team_defense_last_updated TIMESTAMP,
  source_team_defense_rows_found INT64,
  source_team_defense_completeness_pct NUMERIC(5,2),
  source_team_defense_hash STRING,
  early_season_flag BOOL,
  insufficient_data_reason STRING,
  expected_games_count INT64,
  actual_games_count INT64,
  completeness_percentage FLOAT64,
  missing_games_count INT64,
  is_production_ready BOOL,
  data_quality_issues ARRAY<STRING>,
  last_reprocess_attempt_at TIMESTAMP,
  reprocess_attempt_count INT64,
  circuit_breaker_active BOOL,
  circuit_breaker_until TIMESTAMP,
  manual_override_required BOOL,
  season_boundary_detected BOOL,
  backfill_bootstrap_mode BOOL,
  processing_decision_reason STRING,
  data_hash STRING OPTIONS(description="Hash of the feature values; does not cover historical_completeness"),
  historical_completeness STRUCT<
    games_found INT64,
    games_expected INT64,
    is_complete BOOL,
    is_bootstrap BOOL,
    contributing_game_dates ARRAY<DATE>
  >,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP(),
  updated_at TIMESTAMP,
  quality_tier STRING OPTIONS(description="gold, silver, bronze, poor, critical"),
  quality_alert_level STRING OPTIONS(description="green, yellow, red"),
  quality_alerts ARRAY<STRING> OPTIONS(description="Alerts triggered"),
  default_feature_count INT64,
  default_feature_indices ARRAY<INT64> OPTIONS(description="Indices of features using defaults"),
  is_training_ready BOOL OPTIONS(description="Meets the training quality bar"),
  matchup_quality_pct NUMERIC(5,2) OPTIONS(description="Quality % of the matchup features"),
  vegas_points_line NUMERIC,
  feature_sources_json STRING OPTIONS(description="JSON object: feature index -> source"),
  quality_breakdown_json STRING OPTIONS(description="JSON object: quality % per category"),
  feature_0_quality FLOAT64 OPTIONS(description="Quality 0-100 of feature 0"),
  feature_0_source STRING OPTIONS(description="Source of feature 0"),
  feature_1_quality FLOAT64,
  feature_1_source STRING,
  feature_2_quality FLOAT64,
  feature_2_source STRING,
  feature_3_quality FLOAT64,
  feature_3_source STRING,
  feature_4_quality FLOAT64,
  feature_4_source STRING,
  feature_5_quality FLOAT64,
  feature_5_source STRING,
  feature_6_quality FLOAT64,
  feature_6_source STRING,
  feature_7_quality FLOAT64,
  feature_7_source STRING,
  processor_run_id STRING
)
PARTITION BY game_date
CLUSTER BY player_lookup, feature_version, game_date
OPTIONS(
  require_partition_filter = TRUE,
  description = "ML feature store v2 (test fixture in production's shape)"
)
;
CREATE TABLE `{project}.{analytics}.player_game_summary` (
  player_lookup STRING NOT NULL,
  universal_player_id STRING,
  player_full_name STRING,
  game_id STRING NOT NULL OPTIONS(description="e.g. 20250120_BKN_MIL"),
  game_date DATE NOT NULL,
  team_abbr STRING NOT NULL,
  opponent_team_abbr STRING NOT NULL,
  season_year INT64 NOT NULL,
  points INT64,
  minutes_played NUMERIC(5,1),
  assists INT64,
  offensive_rebounds INT64,
  defensive_rebounds INT64,
  steals INT64,
  blocks INT64,
  turnovers INT64,
  fg_attempts INT64,
  fg_makes INT64,
  plus_minus INT64,
  usage_rate NUMERIC(6,2),
  ts_pct NUMERIC(5,3),
  starter_flag BOOL NOT NULL,
  win_flag BOOL NOT NULL,
  is_active BOOL NOT NULL,
  player_status STRING OPTIONS(description="active, inactive, dnp, out"),
  is_dnp BOOL,
  dnp_reason STRING,
  primary_source_used STRING OPTIONS(description="nbac_gamebook, bdl_boxscores, nbac_bdl_combined"),
  data_quality_tier STRING,
  data_hash STRING,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP(),
  processed_at TIMESTAMP
)
PARTITION BY game_date
CLUSTER BY universal_player_id, player_lookup, team_abbr, game_date
OPTIONS(require_partition_filter = TRUE)
;
CREATE TABLE `{project}.{raw}.nbac_schedule` (
  game_id STRING NOT NULL,
  game_code STRING,
  season STRING,
  season_year INT64 NOT NULL,
  game_date DATE NOT NULL,
  game_date_est TIMESTAMP,
  game_status INT64 OPTIONS(description="1 scheduled, 2 in progress, 3 final"),
  game_status_text STRING,
  home_team_id INT64,
  home_team_tricode STRING NOT NULL,
  home_team_name STRING NOT NULL,
  away_team_id INT64,
  away_team_tricode STRING NOT NULL,
  away_team_name STRING NOT NULL,
  arena_name STRING,
  is_regular_season BOOL,
  is_playoffs BOOL,
  is_all_star BOOL,
  is_emirates_cup BOOL,
  playoff_round STRING,
  data_source STRING,
  source_file_path STRING,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP(),
  processed_at TIMESTAMP
)
PARTITION BY game_date
CLUSTER BY game_date, home_team_tricode, away_team_tricode, season_year
OPTIONS(require_partition_filter = TRUE)
;
CREATE VIEW `{project}.{reference}.nba_schedule` AS
SELECT
  game_id, game_date, season_year,
  home_team_tricode, away_team_tricode,
  home_team_name, away_team_name,
  game_status, is_playoffs, is_regular_season, is_all_star, playoff_round,
  CASE
    WHEN is_playoffs THEN COALESCE(playoff_round, 'playoffs')
    WHEN is_all_star THEN 'all_star'
    WHEN is_regular_season THEN 'regular'
    ELSE 'preseason'
  END AS game_type
FROM `{project}.{raw}.nbac_schedule`
