-- How many records in [$start, $end] found 0, 1, … 10 games (for the report's histogram).
SELECT
  historical_completeness.games_found AS games_found,
  count(*) AS records
FROM features
WHERE game_date BETWEEN $start AND $end
  AND historical_completeness IS NOT NULL
GROUP BY historical_completeness.games_found
ORDER BY games_found
