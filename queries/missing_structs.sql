-- Backfill progress: feature records in [$start, $end] whose struct is still NULL.
SELECT
  count(*) AS records,
  count(DISTINCT game_date) AS dates,
  min(game_date) AS first_date,
  max(game_date) AS last_date
FROM features
WHERE game_date BETWEEN $start AND $end
  AND historical_completeness IS NULL
