-- Scheduled games in [$first, $last] (the All-Star game is no team's game): the games
-- each team was expected to have rows for.
SELECT game_date, game_id, home_team_abbr, away_team_abbr
FROM schedule
WHERE game_date BETWEEN $first AND $last
  AND season_type <> 'All-Star'
