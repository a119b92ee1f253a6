-- BigQuery dialect of ../../games_per_date.sql: player_game_summary rows and players
-- per game_date in [first, last].
SELECT game_date, COUNT(*) AS game_rows, COUNT(DISTINCT player_lookup) AS players
FROM {games}
WHERE game_date BETWEEN @first AND @last
  AND player_lookup IS NOT NULL
GROUP BY game_date
