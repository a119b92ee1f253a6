-- BigQuery dialect of ../../daily_summary.sql: per game_date in [start, end], the
-- feature records that carry a struct. The tool fills in the validated table names.
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
FROM {features}
WHERE game_date BETWEEN @start AND @end
  AND historical_completeness IS NOT NULL
GROUP BY game_date
ORDER BY game_date DESC
