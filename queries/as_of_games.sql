-- player_game_summary rows in [$first, $last] with when they were written: a row
-- existed for a feature record if it was created (else processed) before the record.
SELECT player_lookup, game_date, created_at, processed_at
FROM games
WHERE game_date BETWEEN $first AND $last
  AND player_lookup IS NOT NULL
