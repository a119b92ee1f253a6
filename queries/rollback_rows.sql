-- The rows a run's commit changed, for a rollback: `before` is the feature table at the
-- version before the commit, `after` at the commit, `current` the latest version.
-- restore_* is what to write back; unchanged_since says nobody rewrote the row after
-- the run (its struct and updated_at are still the run's), so restoring loses nothing.
SELECT
  a.player_lookup,
  a.game_date,
  b.historical_completeness AS restore_completeness,
  b.updated_at AS restore_updated_at,
  a.updated_at AS run_updated_at,
  (c.player_lookup IS NOT NULL)
    AND (c.updated_at IS NOT DISTINCT FROM a.updated_at)
    AND (c.historical_completeness IS NOT DISTINCT FROM a.historical_completeness)
    AS unchanged_since
FROM after a
JOIN before b
  ON b.player_lookup = a.player_lookup AND b.game_date = a.game_date
LEFT JOIN current c
  ON c.player_lookup = a.player_lookup AND c.game_date = a.game_date
WHERE (a.updated_at IS DISTINCT FROM b.updated_at)
   OR (a.historical_completeness IS DISTINCT FROM b.historical_completeness)
ORDER BY a.game_date, a.player_lookup
