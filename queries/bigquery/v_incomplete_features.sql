-- BigQuery view: production's "data gaps" of the last 30 days (records neither complete
-- nor bootstrap, whatever the reason), kept exactly; same meaning as
-- ../incomplete_records.sql.
CREATE OR REPLACE VIEW `{dataset}.v_incomplete_features` AS
SELECT
    game_date,
    player_lookup,
    historical_completeness.games_found,
    historical_completeness.games_expected,
    historical_completeness.games_expected - historical_completeness.games_found as games_missing,
    historical_completeness.contributing_game_dates
FROM `{features_table}`
WHERE NOT historical_completeness.is_complete
  AND NOT historical_completeness.is_bootstrap
  AND game_date >= DATE_SUB(CURRENT_DATE(), INTERVAL 30 DAY)
ORDER BY game_date DESC, games_missing DESC
