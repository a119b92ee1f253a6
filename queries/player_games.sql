-- One player's player_game_summary rows in [$since, $before), newest first: what a spot
-- check recomputes the struct from, row by row.
SELECT game_date, game_id, team_abbr, processed_at
FROM games
WHERE player_lookup = $player
  AND game_date >= $since
  AND game_date < $before
ORDER BY game_date DESC, game_id
