-- BigQuery dialect of ../../newest_struct_date.sql: the newest game_date in
-- [since, until] with a struct.
SELECT MAX(game_date) AS game_date
FROM {features}
WHERE game_date BETWEEN @since AND @until
  AND historical_completeness IS NOT NULL
