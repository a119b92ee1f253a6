-- The newest game_date with at least one struct (the spot check's default date).
SELECT max(game_date) AS game_date
FROM features
WHERE historical_completeness IS NOT NULL
