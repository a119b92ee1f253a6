-- The feature records in [$first, $last]: whose windows an upstream gap falls in.
SELECT player_lookup, game_date
FROM features
WHERE game_date BETWEEN $first AND $last
