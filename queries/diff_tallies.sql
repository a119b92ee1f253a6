-- Diff tallies per game date, independently of the diff's own counting: how the
-- recomputed structs in `results` compare with the stored ones in `current` (keys
-- present in both). The diff checks its report against these counts.
SELECT
  r.game_date,
  count(*) AS compared,
  count(*) FILTER (WHERE c.historical_completeness IS NULL) AS added,
  count(*) FILTER (WHERE c.historical_completeness IS NOT NULL
                     AND c.historical_completeness <> r.historical_completeness) AS changed,
  count(*) FILTER (WHERE c.historical_completeness = r.historical_completeness) AS unchanged
FROM results r
JOIN current c
  ON c.player_lookup = r.player_lookup AND c.game_date = r.game_date
GROUP BY r.game_date
ORDER BY r.game_date
