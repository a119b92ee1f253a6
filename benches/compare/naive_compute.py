"""Row at a time, in the style of the original Python processor: for each game date,
for each player on it, look up that player's games and count.

usage: naive_compute.py FEATURES.parquet GAMES.parquet OUT.parquet

Reads and writes Parquet through DuckDB (no pyarrow needed); all the work is in Python.
"""

import datetime as dt
import sys
from collections import defaultdict

import duckdb


def main() -> None:
    features, games, out = sys.argv[1:4]
    con = duckdb.connect()
    keys = con.execute(
        "SELECT DISTINCT player_lookup, game_date FROM read_parquet(?) ORDER BY game_date, player_lookup",
        [features],
    ).fetchall()
    by_player = defaultdict(list)
    for player, day in con.execute(
        "SELECT player_lookup, game_date FROM read_parquet(?) "
        "WHERE player_lookup IS NOT NULL AND game_date IS NOT NULL",
        [games],
    ).fetchall():
        by_player[player].append(day)
    rows = []
    for player, day in keys:
        lookback = day - dt.timedelta(days=365)
        window = day - dt.timedelta(days=60)
        history = sorted((g for g in by_player.get(player, []) if lookback <= g < day), reverse=True)
        recent = [g for g in history if g >= window]
        found = min(len(recent), 10)
        # semantics.md step 5: the year's count is looked up only with a game in 60 days.
        expected = min(len(history), 10) if recent else 0
        rows.append((player, day, found, expected, found >= expected, expected < 10, recent[:10]))
    con.execute(
        "CREATE TABLE r (player_lookup VARCHAR, game_date DATE, games_found BIGINT, "
        "games_expected BIGINT, is_complete BOOLEAN, is_bootstrap BOOLEAN, "
        "contributing_game_dates DATE[])"
    )
    con.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute(f"COPY r TO '{out.replace(chr(39), chr(39) * 2)}' (FORMAT PARQUET)")


if __name__ == "__main__":
    main()
