-- Team games played in [$first, $last]: the games each team was expected to have rows
-- for. The schedule is production's nba_reference.nba_schedule view: final games
-- (game_status 3) of the regular season and the postseason; the All-Star game is no
-- team's game, preseason games have no rows. The raw table behind the view can hold a
-- game twice; the caller keeps one row per game.
SELECT game_date, game_id, home_team_tricode, away_team_tricode
FROM schedule
WHERE game_date BETWEEN $first AND $last
  AND game_status = 3
  AND (is_regular_season OR is_playoffs)
  AND NOT COALESCE(is_all_star, FALSE)
