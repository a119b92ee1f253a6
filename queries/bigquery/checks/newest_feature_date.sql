-- BigQuery dialect of ../../newest_feature_date.sql: the newest game_date in
-- [since, until] with a feature record.
SELECT MAX(game_date) AS game_date
FROM {features}
WHERE game_date BETWEEN @since AND @until
