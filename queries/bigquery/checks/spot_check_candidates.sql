-- BigQuery dialect of ../../spot_check_candidates.sql: players whose record on
-- game_date carries a struct.
SELECT player_lookup, historical_completeness, updated_at
FROM {features}
WHERE game_date = @game_date
  AND historical_completeness IS NOT NULL
ORDER BY player_lookup
