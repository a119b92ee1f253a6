-- BigQuery dialect of ../../gap_rows.sql: player_game_summary rows in [first, last] as
-- (player, date, team, lists_roster).
SELECT player_lookup, game_date, team_abbr,
       (COALESCE(primary_source_used = 'nbac_gamebook', FALSE)
        OR NOT is_active OR COALESCE(is_dnp, FALSE)) AS lists_roster
FROM {games}
WHERE game_date BETWEEN @first AND @last
  AND player_lookup IS NOT NULL
  AND team_abbr IS NOT NULL
