-- Records after $backfill_date (up to $until) whose 60-day window [game_date - 60,
-- game_date) contains $backfill_date, with or without a game on it. When the date has no
-- upstream rows, cascade.sql finds nothing; this is the upper bound of what a backfill
-- of that date could change.
SELECT
  count(*) AS records,
  count(DISTINCT game_date) AS dates,
  count(DISTINCT player_lookup) AS players
FROM features
WHERE game_date > $backfill_date
  AND game_date <= $until
  AND $backfill_date >= game_date - INTERVAL '60' DAY
