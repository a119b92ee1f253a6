-- Cascade: records whose struct used $backfill_date (it is in contributing_game_dates)
-- on the days after it, up to $until. These are the records to recompute after the
-- upstream rows of $backfill_date are backfilled or corrected.
SELECT
  game_date,
  player_lookup,
  historical_completeness.games_found AS games_found,
  historical_completeness.games_expected AS games_expected,
  historical_completeness.is_complete AS is_complete,
  historical_completeness.is_bootstrap AS is_bootstrap
FROM features
WHERE game_date > $backfill_date
  AND game_date <= $until
  AND array_has(historical_completeness.contributing_game_dates, $backfill_date)
ORDER BY game_date, player_lookup
