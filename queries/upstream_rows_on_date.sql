-- player_game_summary rows on $game_date (zero means the date is missing upstream).
SELECT count(*) AS game_rows, count(DISTINCT player_lookup) AS players
FROM games
WHERE game_date = $game_date
