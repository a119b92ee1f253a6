-- The pushdown's plan (issue 26): one CREATE TABLE … AS job computes, inside BigQuery,
-- the historical_completeness struct of every feature record with game_date in
-- [start, end] (semantics.md), classifies it against the stored struct as the local
-- diff does (src/pipeline/diff.rs; NULL fields of a stored struct read as 0/false/empty)
-- and writes the run's staging table {plan}, expiring after {expiration_hours} hours (an
-- integer from the configuration: DDL options take no parameters). CREATE TABLE … AS,
-- not a destinationTable: bqemulator ignores the latter. Rows, by row_kind:
--   'record' one per feature record in range: player_lookup, game_date, status
--            (skipped / added / changed / unchanged), fields_changed (in the report's
--            field order; empty unless changed), before (the stored struct, NULL when
--            NULL), after (NULL when skipped), updated_at (as read: the MERGE's guard);
--   'games'  one per game_date in [games_start, end] holding player_game_summary rows
--            with a player_lookup: game_rows, game_players and games_fingerprint (SHA-256
--            of the sorted "player_lookup|game_id" keys), what pushdown/merge.sql
--            recomputes to refuse a stale plan;
--   'run'    one row: run, the parameters the plan was computed with.
-- Windows: a RANGE frame over UNIX_DATE(game_date) per player, [D-60, D-1] and
-- [D-365, D-1], over the feature keys and the game rows in one stream. Season starts:
-- the schedule's first final regular-season game per season_year in
-- [schedule_first, end] (one row per game id, as checks/season_starts.sql), else
-- production's fallback table, else October 22. A NULL player_lookup or a duplicate key
-- among the feature records in range fails the job (ERROR), naming the key.
-- Parameters: start, end, games_start (= start - 365 days), schedule_first (July 1 of
-- the season of start) as DATE; include_bootstrap as BOOL. Every read of the three
-- production objects is bounded on game_date by parameters (require_partition_filter).
-- Written for bqemulator 1.4.0 too: COUNT(IF(…)) instead of COUNTIF in windows, typed
-- STRUCT constructors, named STRUCTs in arrays, CONCAT instead of FORMAT, no comments
-- in the text sent.
CREATE OR REPLACE TABLE {plan}
OPTIONS(expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL {expiration_hours} HOUR))
AS
WITH features AS (
  SELECT player_lookup, game_date, historical_completeness, updated_at,
         COUNT(*) OVER (PARTITION BY player_lookup, game_date) AS copies
  FROM {features}
  WHERE game_date BETWEEN @start AND @end
),
games AS (
  SELECT player_lookup, game_date, CONCAT(player_lookup, '|', IFNULL(game_id, '')) AS game_key
  FROM {games}
  WHERE game_date BETWEEN @games_start AND @end
    AND player_lookup IS NOT NULL
),
stream AS (
  SELECT DISTINCT player_lookup, game_date, FALSE AS is_game
  FROM features
  WHERE player_lookup IS NOT NULL
  UNION ALL
  SELECT player_lookup, game_date, TRUE AS is_game
  FROM games
),
windows AS (
  SELECT player_lookup, game_date, is_game,
         ARRAY_AGG(IF(is_game, game_date, NULL) IGNORE NULLS) OVER (
           PARTITION BY player_lookup ORDER BY UNIX_DATE(game_date)
           RANGE BETWEEN 60 PRECEDING AND 1 PRECEDING) AS dates_60,
         COUNT(IF(is_game, 1, NULL)) OVER (
           PARTITION BY player_lookup ORDER BY UNIX_DATE(game_date)
           RANGE BETWEEN 365 PRECEDING AND 1 PRECEDING) AS c365
  FROM stream
),
counted AS (
  SELECT player_lookup, game_date,
         IFNULL(ARRAY_LENGTH(dates_60), 0) AS c60,
         IFNULL(c365, 0) AS c365,
         ARRAY(SELECT d FROM UNNEST(dates_60) AS d ORDER BY d DESC LIMIT 10) AS newest
  FROM windows
  WHERE NOT is_game
),
computed AS (
  SELECT player_lookup, game_date, newest,
         LEAST(c60, 10) AS found,
         IF(c60 = 0, 0, LEAST(c365, 10)) AS expected
  FROM counted
),
schedule_games AS (
  SELECT season_year, game_date, game_status, is_regular_season,
         ROW_NUMBER() OVER (PARTITION BY game_id
                            ORDER BY game_status DESC, game_date DESC) AS row_in_game
  FROM {schedule}
  WHERE game_date BETWEEN @schedule_first AND @end
),
schedule_starts AS (
  SELECT season_year, MIN(game_date) AS first_day
  FROM schedule_games
  WHERE row_in_game = 1
    AND is_regular_season
    AND game_status = 3
  GROUP BY season_year
),
known_starts AS (
  SELECT season_year, first_day
  FROM UNNEST([
    STRUCT(2021 AS season_year, DATE '2021-10-19' AS first_day),
    STRUCT(2022 AS season_year, DATE '2022-10-18' AS first_day),
    STRUCT(2023 AS season_year, DATE '2023-10-24' AS first_day),
    STRUCT(2024 AS season_year, DATE '2024-10-22' AS first_day),
    STRUCT(2025 AS season_year, DATE '2025-10-21' AS first_day),
    STRUCT(2026 AS season_year, DATE '2026-10-21' AS first_day)
  ])
),
feature_dates AS (
  SELECT game_date,
         IF(EXTRACT(MONTH FROM game_date) >= 10, EXTRACT(YEAR FROM game_date),
            EXTRACT(YEAR FROM game_date) - 1) AS season
  FROM features
  GROUP BY game_date
),
bootstrap AS (
  SELECT d.game_date,
         DATE_DIFF(d.game_date,
                   COALESCE(s.first_day, k.first_day, DATE(d.season, 10, 22)),
                   DAY) BETWEEN 0 AND 13 AS is_bootstrap_date
  FROM feature_dates AS d
  LEFT JOIN schedule_starts AS s ON s.season_year = d.season
  LEFT JOIN known_starts AS k ON k.season_year = d.season
),
structs AS (
  SELECT f.player_lookup, f.game_date, f.copies, f.updated_at,
         f.historical_completeness AS before,
         b.is_bootstrap_date AND NOT @include_bootstrap AS skip,
         STRUCT<games_found INT64, games_expected INT64, is_complete BOOL, is_bootstrap BOOL,
                contributing_game_dates ARRAY<DATE>>(
           c.found, c.expected, c.found >= c.expected, c.expected < 10, c.newest) AS after
  FROM features AS f
  LEFT JOIN computed AS c ON c.player_lookup = f.player_lookup AND c.game_date = f.game_date
  LEFT JOIN bootstrap AS b ON b.game_date = f.game_date
),
compared AS (
  SELECT *,
         ARRAY_CONCAT(
           IF(IFNULL(before.games_found, 0) != after.games_found,
              ['games_found'], []),
           IF(IFNULL(before.games_expected, 0) != after.games_expected,
              ['games_expected'], []),
           IF(IFNULL(before.is_complete, FALSE) != after.is_complete,
              ['is_complete'], []),
           IF(IFNULL(before.is_bootstrap, FALSE) != after.is_bootstrap,
              ['is_bootstrap'], []),
           IF(TO_JSON_STRING(IFNULL(before.contributing_game_dates, ARRAY<DATE>[]))
                != TO_JSON_STRING(after.contributing_game_dates),
              ['contributing_game_dates'], [])) AS differs
  FROM structs
),
records AS (
  SELECT player_lookup, game_date, before, after, updated_at, differs, skip,
         CASE
           WHEN player_lookup IS NULL THEN ERROR(CONCAT(
             'NULL player_lookup in a feature record on ', CAST(game_date AS STRING),
             '; every feature record needs player_lookup and game_date'))
           WHEN copies > 1 THEN ERROR(CONCAT(
             'duplicate feature record for player_lookup ', player_lookup, ' on ',
             CAST(game_date AS STRING),
             '; the key (player_lookup, game_date) must be unique'))
           WHEN skip THEN 'skipped'
           WHEN before IS NULL THEN 'added'
           WHEN ARRAY_LENGTH(differs) = 0 THEN 'unchanged'
           ELSE 'changed'
         END AS status
  FROM compared
),
games_by_date AS (
  SELECT game_date, COUNT(*) AS game_rows, COUNT(DISTINCT player_lookup) AS game_players,
         TO_HEX(SHA256(STRING_AGG(game_key, ',' ORDER BY game_key))) AS games_fingerprint
  FROM games
  GROUP BY game_date
)
SELECT 'record' AS row_kind, player_lookup, game_date, status,
       IF(status = 'changed', differs, ARRAY<STRING>[]) AS fields_changed,
       before, IF(skip, NULL, after) AS after, updated_at,
       CAST(NULL AS INT64) AS game_rows, CAST(NULL AS INT64) AS game_players,
       CAST(NULL AS STRING) AS games_fingerprint,
       CAST(NULL AS STRUCT<start_date DATE, end_date DATE, games_start DATE,
                           schedule_first DATE, include_bootstrap BOOL>) AS run
FROM records
UNION ALL
SELECT 'games', NULL, game_date, NULL, NULL, NULL, NULL, NULL,
       game_rows, game_players, games_fingerprint, NULL
FROM games_by_date
UNION ALL
SELECT 'run', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       STRUCT<start_date DATE, end_date DATE, games_start DATE, schedule_first DATE,
              include_bootstrap BOOL>(@start, @end, @games_start, @schedule_first,
                                      @include_bootstrap)
