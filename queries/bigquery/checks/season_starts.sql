-- BigQuery dialect of ../../season_starts.sql: the first final regular-season game
-- date of each season in [first, last], one row per game id.
SELECT season_year, MIN(game_date) AS first_day
FROM (
  SELECT season_year, game_date, game_status, is_regular_season,
         ROW_NUMBER() OVER (PARTITION BY game_id
                            ORDER BY game_status DESC, game_date DESC) AS row_in_game
  FROM {schedule}
  WHERE game_date BETWEEN @first AND @last
) AS games
WHERE row_in_game = 1
  AND is_regular_season
  AND game_status = 3
GROUP BY season_year
