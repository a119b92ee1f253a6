-- Invariants of one merge commit: `before` is the feature table at the version just
-- before the commit, `after` at the commit. Row counts must be equal, and no column but
-- historical_completeness and updated_at may differ on any record: the second count is
-- the records of `after` whose other columns match no record of `before`.
SELECT
  (SELECT count(*) FROM before) AS rows_before,
  (SELECT count(*) FROM after) AS rows_after,
  (SELECT count(*) FROM (
     SELECT * EXCEPT (historical_completeness, updated_at) FROM after
     WHERE game_date BETWEEN $start AND $end
     EXCEPT ALL
     SELECT * EXCEPT (historical_completeness, updated_at) FROM before
     WHERE game_date BETWEEN $start AND $end
   )) AS rows_with_other_changes
