-- player_game_summary rows in [$first, $last] as (player, date, team), and whether the
-- row shows its game lists the team's whole roster: a gamebook row, or a row of a
-- player who did not play (only the gamebook writes those; box-score sources list the
-- players who played). Gap detection walks each player's rows with one team.
SELECT player_lookup, game_date, team_abbr,
       (COALESCE(primary_source_used = 'nbac_gamebook', FALSE)
        OR NOT is_active OR COALESCE(is_dnp, FALSE)) AS lists_roster
FROM games
WHERE game_date BETWEEN $first AND $last
  AND player_lookup IS NOT NULL
  AND team_abbr IS NOT NULL
