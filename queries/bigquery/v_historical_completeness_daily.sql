-- BigQuery view: production's daily summary of historical_completeness, kept exactly
-- (name, columns, 30-day window, unrounded averages) so that dashboards reading it keep
-- working. `completeness views` fills in the dataset and the feature table, both
-- validated identifiers.
CREATE OR REPLACE VIEW `{dataset}.v_historical_completeness_daily` AS
SELECT
    game_date,
    COUNT(*) as total_features,
    COUNTIF(historical_completeness.is_complete) as complete_count,
    COUNTIF(NOT historical_completeness.is_complete AND NOT historical_completeness.is_bootstrap) as incomplete_count,
    COUNTIF(historical_completeness.is_bootstrap) as bootstrap_count,
    ROUND(COUNTIF(historical_completeness.is_complete) / COUNT(*) * 100, 1) as complete_pct,
    ROUND(COUNTIF(NOT historical_completeness.is_complete AND NOT historical_completeness.is_bootstrap) / COUNT(*) * 100, 1) as incomplete_pct,
    AVG(historical_completeness.games_found) as avg_games_found,
    AVG(historical_completeness.games_expected) as avg_games_expected
FROM `{features_table}`
WHERE game_date >= DATE_SUB(CURRENT_DATE(), INTERVAL 30 DAY)
  AND historical_completeness IS NOT NULL
GROUP BY game_date
ORDER BY game_date DESC
