-- Feature records in [$first, $last] with when they were created: the moment an as-of
-- reconstruction recomputes each struct for.
SELECT player_lookup, game_date, created_at
FROM features
WHERE game_date BETWEEN $first AND $last
