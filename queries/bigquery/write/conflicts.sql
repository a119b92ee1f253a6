-- Staged rows the MERGE left alone (rewritten or deleted since the export). The
-- feature rows are read within the run's dates, a bound BigQuery accepts as a
-- partition filter.
SELECT s.player_lookup, s.game_date FROM {staging} AS s
LEFT JOIN (SELECT player_lookup, game_date, updated_at FROM {target}
WHERE game_date BETWEEN @start AND @end) AS t
ON t.player_lookup = s.player_lookup AND t.game_date = s.game_date
WHERE t.updated_at IS NULL OR t.updated_at != @updated_at
ORDER BY s.game_date, s.player_lookup LIMIT @limit
