-- Export of the run's columns of one table (the games read FOR SYSTEM_TIME AS OF the
-- feature export's start) in the run's dates, to Parquet files under the run's URI.
EXPORT DATA OPTIONS(uri='{uri}/*.parquet', format='PARQUET', overwrite=true) AS
SELECT {columns} FROM {table}
WHERE game_date BETWEEN @start AND @end
