-- BigQuery view: data gaps (records neither complete nor bootstrap), same meaning as
-- ../incomplete_records.sql. Filled in by `completeness views`.
CREATE OR REPLACE VIEW `{dataset}.v_incomplete_features` AS
SELECT
  game_date,
  player_lookup,
  historical_completeness.games_found AS games_found,
  historical_completeness.games_expected AS games_expected,
  historical_completeness.games_expected - historical_completeness.games_found AS games_missing,
  historical_completeness.contributing_game_dates AS contributing_game_dates
FROM `{features_table}`
WHERE historical_completeness IS NOT NULL
  AND NOT historical_completeness.is_complete
  AND NOT historical_completeness.is_bootstrap
