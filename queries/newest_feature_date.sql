-- The newest game_date in [$since, $until] with a feature record (where the checks'
-- default window ends: the data, not today). The bound keeps the query legal on a
-- table that requires a partition filter.
SELECT max(game_date) AS game_date
FROM features
WHERE game_date BETWEEN $since AND $until
