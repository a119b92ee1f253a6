-- Daily summary: per game_date in [$start, $end], the feature records that carry a
-- struct. complete and bootstrap overlap (a bootstrap record can be complete); that is
-- the operators' definition (v_historical_completeness_daily). incomplete = data gaps.
SELECT
  game_date,
  count(*) AS total_features,
  count(*) FILTER (WHERE historical_completeness.is_complete) AS complete,
  count(*) FILTER (WHERE NOT historical_completeness.is_complete
                     AND NOT historical_completeness.is_bootstrap) AS incomplete,
  count(*) FILTER (WHERE historical_completeness.is_bootstrap) AS bootstrap,
  round(100.0 * count(*) FILTER (WHERE historical_completeness.is_complete) / count(*), 1)
    AS complete_pct,
  round(100.0 * count(*) FILTER (WHERE NOT historical_completeness.is_complete
                                   AND NOT historical_completeness.is_bootstrap) / count(*), 1)
    AS incomplete_pct,
  round(avg(historical_completeness.games_found), 2) AS avg_games_found,
  round(avg(historical_completeness.games_expected), 2) AS avg_games_expected
FROM features
WHERE game_date BETWEEN $start AND $end
  AND historical_completeness IS NOT NULL
GROUP BY game_date
ORDER BY game_date DESC
