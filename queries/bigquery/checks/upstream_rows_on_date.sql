-- BigQuery dialect of ../../upstream_rows_on_date.sql: player_game_summary rows on
-- game_date.
SELECT COUNT(*) AS game_rows, COUNT(DISTINCT player_lookup) AS players
FROM {games}
WHERE game_date = @game_date
