-- The pushdown's MERGE: the records of the staging table {plan} (pushdown/plan.sql)
-- whose struct changes (status added or changed) applied to {features}, in one job:
-- - only historical_completeness and updated_at are set (updated_at to the run's
--   timestamp), only on rows whose updated_at is still the one the plan read (equal,
--   or both NULL): a row rewritten since the plan is left alone (a conflict);
-- - within the run's dates (t.game_date bound: the partition filter);
-- - never more than one source row per key (ERROR otherwise), never an insert;
-- - refusing a stale plan by itself: player_game_summary is counted and fingerprinted
--   per date over [games_start, end] again, exactly as plan.sql did; any date whose
--   rows, players or fingerprint differ fails the statement (ERROR naming the first
--   such date and how many), unless allow_stale; parameters other than the plan's
--   fail it too. The check is a conjunct of the join condition of every source row,
--   and every record of the plan (unchanged ones too) is a source row, so the check is
--   evaluated whenever one of the plan's feature rows still exists in range: a stale
--   plan fails even with nothing to write, and no row is ever written from one.
-- Parameters: start, end, games_start (DATE; the plan's), updated_at (TIMESTAMP),
-- allow_stale (BOOL).
MERGE {features} AS t
USING (
  WITH plan_run AS (
    SELECT COUNT(*) AS plans,
           LOGICAL_AND(run.start_date = @start AND run.end_date = @end
                       AND run.games_start = @games_start) AS same_range
    FROM {plan}
    WHERE row_kind = 'run'
  ),
  planned_games AS (
    SELECT game_date, game_rows, game_players, games_fingerprint
    FROM {plan}
    WHERE row_kind = 'games'
  ),
  current_games AS (
    SELECT game_date, COUNT(*) AS game_rows, COUNT(DISTINCT player_lookup) AS game_players,
           TO_HEX(SHA256(STRING_AGG(game_key, ',' ORDER BY game_key))) AS games_fingerprint
    FROM (
      SELECT player_lookup, game_date,
             CONCAT(player_lookup, '|', IFNULL(game_id, '')) AS game_key
      FROM {games}
      WHERE game_date BETWEEN @games_start AND @end
        AND player_lookup IS NOT NULL
    )
    GROUP BY game_date
  ),
  changed_dates AS (
    SELECT IFNULL(p.game_date, c.game_date) AS game_date,
           IFNULL(p.game_rows, 0) AS rows_then, IFNULL(p.game_players, 0) AS players_then,
           IFNULL(c.game_rows, 0) AS rows_now, IFNULL(c.game_players, 0) AS players_now
    FROM planned_games AS p
    FULL OUTER JOIN current_games AS c ON c.game_date = p.game_date
    WHERE IFNULL(p.games_fingerprint, '') != IFNULL(c.games_fingerprint, '')
  ),
  staleness AS (
    SELECT COUNT(*) AS dates, MIN(game_date) AS first_date
    FROM changed_dates
  ),
  verdict AS (
    SELECT CASE
             WHEN r.plans != 1 THEN ERROR(CONCAT(
               'the staging table holds ', CAST(r.plans AS STRING),
               ' run rows instead of 1: not a plan of pushdown/plan.sql'))
             WHEN NOT r.same_range THEN ERROR(
               'the parameters start, end, games_start of the MERGE differ from those of the plan')
             WHEN st.dates > 0 AND NOT @allow_stale THEN ERROR(CONCAT(
               'player_game_summary changed since the plan: ',
               CAST(f.game_date AS STRING), ': ',
               CAST(f.rows_then AS STRING), ' rows (',
               CAST(f.players_then AS STRING), ' players) at plan, ',
               CAST(f.rows_now AS STRING), ' (', CAST(f.players_now AS STRING), ') now',
               IF(f.rows_then = f.rows_now AND f.players_then = f.players_now,
                  ', other player_lookup or game_id values', ''),
               IF(st.dates > 1, CONCAT(' and ', CAST(st.dates - 1 AS STRING), ' more dates'), ''),
               '; nothing was written'))
             ELSE TRUE
           END AS fresh
    FROM plan_run AS r
    CROSS JOIN staleness AS st
    LEFT JOIN changed_dates AS f ON f.game_date = st.first_date
  ),
  records AS (
    SELECT player_lookup, game_date, status, after, updated_at,
           COUNT(*) OVER (PARTITION BY player_lookup, game_date) AS copies
    FROM {plan}
    WHERE row_kind = 'record'
  )
  SELECT c.player_lookup, c.game_date, c.status, c.after, c.updated_at AS planned_updated_at,
         IF(c.copies > 1,
            ERROR(CONCAT('the plan holds ', CAST(c.copies AS STRING),
                         ' rows for player_lookup ', c.player_lookup, ' on ',
                         CAST(c.game_date AS STRING))),
            v.fresh) AS ok
  FROM verdict AS v
  LEFT JOIN records AS c ON TRUE
) AS s
ON t.player_lookup = s.player_lookup AND t.game_date = s.game_date
AND t.game_date BETWEEN @start AND @end
AND s.ok
WHEN MATCHED AND s.status IN ('added', 'changed')
AND (t.updated_at = s.planned_updated_at
OR (t.updated_at IS NULL AND s.planned_updated_at IS NULL)) THEN
UPDATE SET historical_completeness = s.after, updated_at = @updated_at
