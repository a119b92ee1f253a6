-- BigQuery dialect of ../../team_games.sql: scheduled games in [first, last], the
-- All-Star game excluded.
SELECT game_date, game_id, home_team_abbr, away_team_abbr
FROM {schedule}
WHERE game_date BETWEEN @first AND @last
  AND season_type <> 'All-Star'
