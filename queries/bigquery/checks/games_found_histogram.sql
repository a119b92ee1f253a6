-- BigQuery dialect of ../../games_found_histogram.sql: how many records in
-- [start, end] found 0, 1, … 10 games.
SELECT
  historical_completeness.games_found AS games_found,
  COUNT(*) AS records
FROM {features}
WHERE game_date BETWEEN @start AND @end
  AND historical_completeness IS NOT NULL
GROUP BY games_found
ORDER BY games_found
