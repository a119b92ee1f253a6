-- The newest game_date in [$since, $until] with at least one struct (the spot check's
-- default date). The bound keeps the query legal on a table that requires a partition
-- filter.
SELECT max(game_date) AS game_date
FROM features
WHERE game_date BETWEEN $since AND $until
  AND historical_completeness IS NOT NULL
