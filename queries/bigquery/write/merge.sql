-- The run's MERGE: the staged changes applied to the feature table, guarded by the
-- updated_at each row had at export, within the run's dates; the struct and updated_at
-- only (and the extended struct in an extended run).
MERGE {target} AS t
USING {staging} AS s
ON t.player_lookup = s.player_lookup AND t.game_date = s.game_date
AND t.game_date BETWEEN @start AND @end
WHEN MATCHED AND (t.updated_at = s.exported_updated_at
OR (t.updated_at IS NULL AND s.exported_updated_at IS NULL)) THEN
UPDATE SET historical_completeness = s.historical_completeness, updated_at = @updated_at{set_extended}
