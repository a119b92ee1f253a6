-- The records of the staging table {plan} (pushdown/plan.sql) that its MERGE
-- (pushdown/merge.sql) was to write but left alone: rewritten since the plan, or
-- deleted. Run only when the MERGE wrote fewer rows than planned, to name them. The
-- feature rows are read within the run's dates (the partition filter).
-- Parameters: start, end (DATE), updated_at (TIMESTAMP: the MERGE's), limit (INT64).
SELECT p.player_lookup, p.game_date
FROM {plan} AS p
LEFT JOIN (SELECT player_lookup, game_date, updated_at FROM {features}
WHERE game_date BETWEEN @start AND @end) AS t
ON t.player_lookup = p.player_lookup AND t.game_date = p.game_date
WHERE p.row_kind = 'record' AND p.status IN ('added', 'changed')
AND (t.updated_at IS NULL OR t.updated_at != @updated_at)
ORDER BY p.game_date, p.player_lookup LIMIT @limit
