-- player_game_summary rows per game_date in [$first, $last], and the players among
-- them: what a run's structs were computed from, compared between its export and the
-- table before its merge (a plan whose games changed since is stale).
SELECT game_date, COUNT(*) AS game_rows, COUNT(DISTINCT player_lookup) AS players
FROM games
WHERE game_date BETWEEN $first AND $last
  AND player_lookup IS NOT NULL
GROUP BY game_date
