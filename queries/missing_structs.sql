-- Backfill progress: the feature records in [$start, $end], and those whose struct is
-- still NULL (never counted as complete, nor as anything else), with their dates.
SELECT
  count(*) FILTER (WHERE historical_completeness IS NULL) AS records,
  count(DISTINCT CASE WHEN historical_completeness IS NULL THEN game_date END) AS dates,
  min(CASE WHEN historical_completeness IS NULL THEN game_date END) AS first_date,
  max(CASE WHEN historical_completeness IS NULL THEN game_date END) AS last_date,
  count(*) AS all_records
FROM features
WHERE game_date BETWEEN $start AND $end
