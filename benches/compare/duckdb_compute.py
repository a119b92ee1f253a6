"""The baseline: the straightforward SQL an engineer would write, in DuckDB.

usage: duckdb_compute.py FEATURES.parquet GAMES.parquet OUT.parquet [THREADS]

A range join on player with game_date in [D-365, D), counts filtered to the last 60
days, and the newest ten dates as a sliced ordered list. With no game in 60 days the
expected count is 0 (semantics.md step 5). Output columns match
`completeness compute`, flattened: player_lookup, game_date, games_found,
games_expected, is_complete, is_bootstrap, contributing_game_dates.
"""

import sys

import duckdb

SQL = """
COPY (
  WITH f AS (
    SELECT DISTINCT player_lookup, game_date FROM read_parquet($features)
  ),
  g AS (
    SELECT player_lookup, game_date FROM read_parquet($games)
    WHERE player_lookup IS NOT NULL AND game_date IS NOT NULL
  ),
  w AS (
    SELECT
      f.player_lookup,
      f.game_date,
      count(g.game_date) FILTER (WHERE g.game_date >= f.game_date - 60) AS c60,
      count(g.game_date) AS c365,
      list(g.game_date ORDER BY g.game_date DESC)
        FILTER (WHERE g.game_date >= f.game_date - 60) AS recent
    FROM f
    LEFT JOIN g
      ON g.player_lookup = f.player_lookup
     AND g.game_date >= f.game_date - 365
     AND g.game_date < f.game_date
    GROUP BY f.player_lookup, f.game_date
  )
  SELECT
    player_lookup,
    game_date,
    least(c60, 10) AS games_found,
    expected AS games_expected,
    least(c60, 10) >= expected AS is_complete,
    expected < 10 AS is_bootstrap,
    coalesce(recent[1:10], []::DATE[]) AS contributing_game_dates
  FROM (SELECT *, CASE WHEN c60 = 0 THEN 0 ELSE least(c365, 10) END AS expected FROM w)
  ORDER BY game_date, player_lookup
) TO '{out}' (FORMAT PARQUET)
"""


def main() -> None:
    features, games, out = sys.argv[1:4]
    con = duckdb.connect()
    if len(sys.argv) > 4:
        con.execute(f"SET threads = {int(sys.argv[4])}")
    con.execute(SQL.format(out=out.replace("'", "''")), {"features": features, "games": games})


if __name__ == "__main__":
    main()
