-- Incomplete records in [$start, $end]: neither complete nor bootstrap
-- (v_incomplete_features; production calls them data gaps, though most are early in a
-- season or back from an absence: `check incomplete` adds each one's reason). The
-- most games short of the newest dates come first.
SELECT
  game_date,
  player_lookup,
  historical_completeness.games_found AS games_found,
  historical_completeness.games_expected AS games_expected,
  historical_completeness.games_expected - historical_completeness.games_found
    AS games_missing,
  historical_completeness.contributing_game_dates AS contributing_game_dates
FROM features
WHERE game_date BETWEEN $start AND $end
  AND NOT historical_completeness.is_complete
  AND NOT historical_completeness.is_bootstrap
ORDER BY game_date DESC, games_missing DESC, player_lookup
