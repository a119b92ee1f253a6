-- BigQuery dialect of ../../feature_keys.sql: the feature records in [first, last].
SELECT player_lookup, game_date
FROM {features}
WHERE game_date BETWEEN @first AND @last
