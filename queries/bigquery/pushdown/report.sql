-- The dry-run report of a pushdown run, from its staging table {plan}
-- (pushdown/plan.sql) in one query: one row whose columns are the keys of report.json
-- that the local diff (src/pipeline/diff.rs) fills, with the same meaning:
--   records         in_range, computed, skipped_bootstrap, added, changed, unchanged;
--   fields_changed  among changed records, how many differ in each field;
--   after           labels of the computed records, COMPLETE if is_complete, else
--                   BOOTSTRAP if is_bootstrap, else INCOMPLETE;
--   games_found_histogram  computed records by games_found, index 0..10;
--   by_date         per game_date, newest first: total (skipped included), added,
--                   changed, skipped, complete, incomplete, bootstrap;
--   examples        the first 10 records in (game_date, player_lookup) order that are
--                   changed, or added and among the first 3 added: kind, fields, and
--                   before/after with NULL fields read as 0/false/empty, as locally.
-- No parameters; reads only the staging table (no partition filter needed). Per-date
-- counts are COUNT(IF(…)): bqemulator 1.4.0 types a COUNTIF column NUMERIC.
WITH records AS (
  SELECT player_lookup, game_date, status, fields_changed,
         before AS before_struct, after AS after_struct,
         CASE
           WHEN after.is_complete THEN 'complete'
           WHEN after.is_bootstrap THEN 'bootstrap'
           ELSE 'incomplete'
         END AS label
  FROM {plan}
  WHERE row_kind = 'record'
),
totals AS (
  SELECT
    STRUCT<in_range INT64, computed INT64, skipped_bootstrap INT64, added INT64,
           changed INT64, unchanged INT64>(
      COUNT(*), COUNTIF(status != 'skipped'), COUNTIF(status = 'skipped'),
      COUNTIF(status = 'added'), COUNTIF(status = 'changed'),
      COUNTIF(status = 'unchanged')) AS records,
    STRUCT<games_found INT64, games_expected INT64, is_complete INT64, is_bootstrap INT64,
           contributing_game_dates INT64>(
      COUNTIF('games_found' IN UNNEST(fields_changed)),
      COUNTIF('games_expected' IN UNNEST(fields_changed)),
      COUNTIF('is_complete' IN UNNEST(fields_changed)),
      COUNTIF('is_bootstrap' IN UNNEST(fields_changed)),
      COUNTIF('contributing_game_dates' IN UNNEST(fields_changed))) AS fields_changed,
    STRUCT<complete INT64, incomplete INT64, bootstrap INT64>(
      COUNTIF(status != 'skipped' AND label = 'complete'),
      COUNTIF(status != 'skipped' AND label = 'incomplete'),
      COUNTIF(status != 'skipped' AND label = 'bootstrap')) AS after,
    ARRAY<INT64>[
      COUNTIF(status != 'skipped' AND after_struct.games_found = 0),
      COUNTIF(status != 'skipped' AND after_struct.games_found = 1),
      COUNTIF(status != 'skipped' AND after_struct.games_found = 2),
      COUNTIF(status != 'skipped' AND after_struct.games_found = 3),
      COUNTIF(status != 'skipped' AND after_struct.games_found = 4),
      COUNTIF(status != 'skipped' AND after_struct.games_found = 5),
      COUNTIF(status != 'skipped' AND after_struct.games_found = 6),
      COUNTIF(status != 'skipped' AND after_struct.games_found = 7),
      COUNTIF(status != 'skipped' AND after_struct.games_found = 8),
      COUNTIF(status != 'skipped' AND after_struct.games_found = 9),
      COUNTIF(status != 'skipped' AND after_struct.games_found >= 10)] AS games_found_histogram
  FROM records
),
dates AS (
  SELECT game_date,
         COUNT(*) AS total,
         COUNT(IF(status = 'added', 1, NULL)) AS added,
         COUNT(IF(status = 'changed', 1, NULL)) AS changed,
         COUNT(IF(status = 'skipped', 1, NULL)) AS skipped,
         COUNT(IF(status != 'skipped' AND label = 'complete', 1, NULL)) AS complete,
         COUNT(IF(status != 'skipped' AND label = 'incomplete', 1, NULL)) AS incomplete,
         COUNT(IF(status != 'skipped' AND label = 'bootstrap', 1, NULL)) AS bootstrap
  FROM records
  GROUP BY game_date
),
candidates AS (
  SELECT player_lookup, game_date, status, fields_changed, before_struct, after_struct,
         ROW_NUMBER() OVER (PARTITION BY status ORDER BY game_date, player_lookup) AS nth
  FROM records
  WHERE status IN ('added', 'changed')
),
examples AS (
  SELECT player_lookup, game_date, status AS kind, fields_changed AS fields,
         IF(before_struct IS NULL, NULL,
            STRUCT<games_found INT64, games_expected INT64, is_complete BOOL,
                   is_bootstrap BOOL, contributing_game_dates ARRAY<DATE>>(
              IFNULL(before_struct.games_found, 0), IFNULL(before_struct.games_expected, 0),
              IFNULL(before_struct.is_complete, FALSE), IFNULL(before_struct.is_bootstrap, FALSE),
              IFNULL(before_struct.contributing_game_dates, ARRAY<DATE>[]))) AS before,
         after_struct AS after
  FROM candidates
  WHERE status = 'changed' OR nth <= 3
)
SELECT totals.records, totals.fields_changed, totals.after, totals.games_found_histogram,
       ARRAY(SELECT AS STRUCT game_date, total, added, changed, skipped, complete,
                              incomplete, bootstrap
             FROM dates ORDER BY game_date DESC) AS by_date,
       ARRAY(SELECT AS STRUCT player_lookup, game_date, kind, fields, before, after
             FROM examples ORDER BY game_date, player_lookup LIMIT 10) AS examples
FROM totals
