-- Export of the run's feature records with the first regular-season day of each
-- record's season (NULL where the schedule lacks the season: the built-in calendar
-- applies), so no query job of its own reads the season starts. {season_starts} is
-- queries/bigquery/checks/season_starts.sql; its dates are parameters too.
EXPORT DATA OPTIONS(uri='{uri}/*.parquet', format='PARQUET', overwrite=true) AS
WITH season_starts AS (
{season_starts}
)
SELECT {columns}, season_starts.first_day AS season_start
FROM {table} AS features
LEFT JOIN season_starts
  ON season_starts.season_year = IF(EXTRACT(MONTH FROM features.game_date) >= 10,
                                    EXTRACT(YEAR FROM features.game_date),
                                    EXTRACT(YEAR FROM features.game_date) - 1)
WHERE features.game_date BETWEEN @start AND @end
