-- BigQuery dialect of ../../missing_structs.sql: the feature records in [start, end],
-- and those whose struct is still NULL, with their dates.
SELECT
  COUNTIF(historical_completeness IS NULL) AS records,
  COUNT(DISTINCT IF(historical_completeness IS NULL, game_date, NULL)) AS dates,
  MIN(IF(historical_completeness IS NULL, game_date, NULL)) AS first_date,
  MAX(IF(historical_completeness IS NULL, game_date, NULL)) AS last_date,
  COUNT(*) AS all_records
FROM {features}
WHERE game_date BETWEEN @start AND @end
