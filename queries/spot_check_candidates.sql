-- Players whose record on $game_date carries a struct: the population a spot check
-- samples from (the sample itself is drawn, seeded, by the tool).
SELECT player_lookup, historical_completeness, updated_at
FROM features
WHERE game_date = $game_date
  AND historical_completeness IS NOT NULL
ORDER BY player_lookup
