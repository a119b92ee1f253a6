-- BigQuery dialect of ../../team_games.sql: final regular-season and postseason games
-- in [first, last] (the All-Star game and the preseason excluded).
SELECT game_date, game_id, home_team_tricode, away_team_tricode
FROM {schedule}
WHERE game_date BETWEEN @first AND @last
  AND game_status = 3
  AND (is_regular_season OR is_playoffs)
  AND NOT COALESCE(is_all_star, FALSE)
