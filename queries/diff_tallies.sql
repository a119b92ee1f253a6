-- Diff tallies per game date, independently of the diff's own counting: how the
-- recomputed structs in `results` compare with the stored ones in `current` (keys
-- present in both). The diff checks its report against these counts. A NULL field of a
-- stored struct reads as the diff reads it (0, false, no dates), so a stored
-- {NULL, 0, true, true, NULL} equals a computed {0, 0, true, true, []}.
SELECT
  game_date,
  count(*) AS compared,
  count(*) FILTER (WHERE stored_null) AS added,
  count(*) FILTER (WHERE NOT stored_null AND NOT same) AS changed,
  count(*) FILTER (WHERE NOT stored_null AND same) AS unchanged
FROM (
  SELECT
    r.game_date,
    c.historical_completeness IS NULL AS stored_null,
    coalesce(c.historical_completeness.games_found, 0) = r.historical_completeness.games_found
      AND coalesce(c.historical_completeness.games_expected, 0) = r.historical_completeness.games_expected
      AND coalesce(c.historical_completeness.is_complete, false) = r.historical_completeness.is_complete
      AND coalesce(c.historical_completeness.is_bootstrap, false) = r.historical_completeness.is_bootstrap
      AND CASE
            WHEN c.historical_completeness.contributing_game_dates IS NULL
              THEN cardinality(r.historical_completeness.contributing_game_dates) = 0
            ELSE c.historical_completeness.contributing_game_dates
                 = r.historical_completeness.contributing_game_dates
          END AS same
  FROM results r
  JOIN current c
    ON c.player_lookup = r.player_lookup AND c.game_date = r.game_date
) AS compared
GROUP BY game_date
ORDER BY game_date
