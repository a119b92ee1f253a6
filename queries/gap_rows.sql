-- player_game_summary rows in [$first, $last] as (player, date, team): what gap
-- detection walks (each player's consecutive rows with the same team).
SELECT player_lookup, game_date, team_abbr
FROM games
WHERE game_date BETWEEN $first AND $last
  AND player_lookup IS NOT NULL
  AND team_abbr IS NOT NULL
