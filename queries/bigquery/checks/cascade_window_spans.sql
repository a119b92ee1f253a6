-- BigQuery dialect of ../../cascade_window_spans.sql: records after backfill_date (up
-- to until) whose 60-day window contains backfill_date.
SELECT
  COUNT(*) AS records,
  COUNT(DISTINCT game_date) AS dates,
  COUNT(DISTINCT player_lookup) AS players
FROM {features}
WHERE game_date > @backfill_date
  AND game_date <= @until
  AND @backfill_date >= DATE_SUB(game_date, INTERVAL 60 DAY)
