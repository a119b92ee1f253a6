-- BigQuery dialect of ../../as_of_games.sql: player_game_summary rows in [first, last]
-- with their created_at and processed_at.
SELECT player_lookup, game_date, created_at, processed_at
FROM {games}
WHERE game_date BETWEEN @first AND @last
  AND player_lookup IS NOT NULL
