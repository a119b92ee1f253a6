-- BigQuery dialect of ../../incomplete_records.sql: records in [start, end] that are
-- neither complete nor bootstrap, the worst gaps of the newest dates first.
SELECT
  game_date,
  player_lookup,
  historical_completeness.games_found AS games_found,
  historical_completeness.games_expected AS games_expected,
  historical_completeness.games_expected - historical_completeness.games_found
    AS games_missing,
  historical_completeness.contributing_game_dates AS contributing_game_dates
FROM {features}
WHERE game_date BETWEEN @start AND @end
  AND NOT historical_completeness.is_complete
  AND NOT historical_completeness.is_bootstrap
ORDER BY game_date DESC, games_missing DESC, player_lookup
