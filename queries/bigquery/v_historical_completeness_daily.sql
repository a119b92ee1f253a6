-- BigQuery view: the daily summary of historical_completeness (same meaning as
-- ../daily_summary.sql). `completeness views` fills in the dataset and the feature
-- table, both validated identifiers. Last 90 days, as the operators' view.
CREATE OR REPLACE VIEW `{dataset}.v_historical_completeness_daily` AS
SELECT
  game_date,
  COUNT(*) AS total_features,
  COUNTIF(historical_completeness.is_complete) AS complete,
  COUNTIF(NOT historical_completeness.is_complete
          AND NOT historical_completeness.is_bootstrap) AS incomplete,
  COUNTIF(historical_completeness.is_bootstrap) AS bootstrap,
  ROUND(100 * COUNTIF(historical_completeness.is_complete) / COUNT(*), 1) AS complete_pct,
  ROUND(100 * COUNTIF(NOT historical_completeness.is_complete
                      AND NOT historical_completeness.is_bootstrap) / COUNT(*), 1)
    AS incomplete_pct,
  ROUND(AVG(historical_completeness.games_found), 2) AS avg_games_found,
  ROUND(AVG(historical_completeness.games_expected), 2) AS avg_games_expected
FROM `{features_table}`
WHERE historical_completeness IS NOT NULL
  AND game_date >= DATE_SUB(CURRENT_DATE(), INTERVAL 90 DAY)
GROUP BY game_date
