-- Rollback of a run: the rows still carrying the run's updated_at get back what they
-- had just before its MERGE. The time-travel point is an integer literal
-- (BigQuery takes no parameter there), from the manifest as an integer.
MERGE {target} AS t
USING (SELECT player_lookup, game_date, historical_completeness, updated_at{extended_column}
FROM {target} FOR SYSTEM_TIME AS OF TIMESTAMP_MILLIS({before_ms})
WHERE game_date BETWEEN @start AND @end) AS b
ON t.player_lookup = b.player_lookup AND t.game_date = b.game_date
AND t.game_date BETWEEN @start AND @end
WHEN MATCHED AND t.updated_at = @run_updated_at THEN
UPDATE SET historical_completeness = b.historical_completeness, updated_at = b.updated_at{set_extended}
