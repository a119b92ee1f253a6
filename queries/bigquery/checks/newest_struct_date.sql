-- BigQuery dialect of ../../newest_struct_date.sql: the newest game_date with a struct.
SELECT MAX(game_date) AS game_date
FROM {features}
WHERE historical_completeness IS NOT NULL
