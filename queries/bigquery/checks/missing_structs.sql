-- BigQuery dialect of ../../missing_structs.sql: feature records in [start, end]
-- whose struct is still NULL.
SELECT
  COUNT(*) AS records,
  COUNT(DISTINCT game_date) AS dates,
  MIN(game_date) AS first_date,
  MAX(game_date) AS last_date
FROM {features}
WHERE game_date BETWEEN @start AND @end
  AND historical_completeness IS NULL
