-- BigQuery dialect of ../../cascade.sql: records after backfill_date (up to until)
-- whose struct used backfill_date.
SELECT
  game_date,
  player_lookup,
  historical_completeness.games_found AS games_found,
  historical_completeness.games_expected AS games_expected,
  historical_completeness.is_complete AS is_complete,
  historical_completeness.is_bootstrap AS is_bootstrap
FROM {features}
WHERE game_date > @backfill_date
  AND game_date <= @until
  AND @backfill_date IN UNNEST(historical_completeness.contributing_game_dates)
ORDER BY game_date, player_lookup
