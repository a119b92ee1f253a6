-- BigQuery dialect of ../../as_of_features.sql: feature records in [first, last] with
-- their created_at.
SELECT player_lookup, game_date, created_at
FROM {features}
WHERE game_date BETWEEN @first AND @last
