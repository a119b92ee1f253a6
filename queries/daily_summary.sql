-- Daily summary: per game_date in [$start, $end], the feature records. The counts and
-- shares are over the records that carry a struct, as the operators' view counts
-- (v_historical_completeness_daily: complete and bootstrap overlap, a bootstrap record
-- can be complete; incomplete = neither, whatever the reason); without_struct counts
-- the records still NULL, which are none of these. A date whose records all lack a
-- struct has a row too (total_features 0, shares and averages NULL).
SELECT
  game_date,
  count(*) FILTER (WHERE historical_completeness IS NOT NULL) AS total_features,
  count(*) FILTER (WHERE historical_completeness.is_complete) AS complete,
  count(*) FILTER (WHERE NOT historical_completeness.is_complete
                     AND NOT historical_completeness.is_bootstrap) AS incomplete,
  count(*) FILTER (WHERE historical_completeness.is_bootstrap) AS bootstrap,
  round(100.0 * count(*) FILTER (WHERE historical_completeness.is_complete)
        / NULLIF(count(*) FILTER (WHERE historical_completeness IS NOT NULL), 0), 1)
    AS complete_pct,
  round(100.0 * count(*) FILTER (WHERE NOT historical_completeness.is_complete
                                   AND NOT historical_completeness.is_bootstrap)
        / NULLIF(count(*) FILTER (WHERE historical_completeness IS NOT NULL), 0), 1)
    AS incomplete_pct,
  round(avg(historical_completeness.games_found), 2) AS avg_games_found,
  round(avg(historical_completeness.games_expected), 2) AS avg_games_expected,
  count(*) FILTER (WHERE historical_completeness IS NULL) AS without_struct
FROM features
WHERE game_date BETWEEN $start AND $end
GROUP BY game_date
ORDER BY game_date DESC
