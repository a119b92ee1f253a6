-- BigQuery dialect of ../../daily_summary.sql: per game_date in [start, end], the
-- feature records: counts and shares over those with a struct, and how many have none.
-- The tool fills in the validated table names.
SELECT
  game_date,
  COUNTIF(historical_completeness IS NOT NULL) AS total_features,
  COUNTIF(historical_completeness.is_complete) AS complete,
  COUNTIF(NOT historical_completeness.is_complete
          AND NOT historical_completeness.is_bootstrap) AS incomplete,
  COUNTIF(historical_completeness.is_bootstrap) AS bootstrap,
  ROUND(100 * COUNTIF(historical_completeness.is_complete)
        / NULLIF(COUNTIF(historical_completeness IS NOT NULL), 0), 1) AS complete_pct,
  ROUND(100 * COUNTIF(NOT historical_completeness.is_complete
                      AND NOT historical_completeness.is_bootstrap)
        / NULLIF(COUNTIF(historical_completeness IS NOT NULL), 0), 1) AS incomplete_pct,
  ROUND(AVG(historical_completeness.games_found), 2) AS avg_games_found,
  ROUND(AVG(historical_completeness.games_expected), 2) AS avg_games_expected,
  COUNTIF(historical_completeness IS NULL) AS without_struct
FROM {features}
WHERE game_date BETWEEN @start AND @end
GROUP BY game_date
ORDER BY game_date DESC
