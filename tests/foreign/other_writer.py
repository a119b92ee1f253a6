#!/usr/bin/env python3
"""Another writer's commit to a feature table, between the tool's dry run and its merge.

    python other_writer.py ACTION --table TABLE

ACTION (each one commit by the Python deltalake writer):

- update:   rewrites one record the way the daily processor does (a new
            `processing_decision_reason` and `updated_at`);
- delete:   deletes one record;
- append:   appends a record of a new player on the table's first date;
- optimize: compacts the files of every date (OPTIMIZE);
- zorder:   rewrites every date's files ordered by player_lookup (Z-ORDER).

The record update and delete touch is the first, by date and player, whose
`historical_completeness` is NULL (so any backfill plans to write it). Prints one JSON
line: {action, key: [player_lookup, game_date] or null, version}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder, write_deltalake

NEW_PLAYER = "zz_other_writer_rookie"


def first_unfilled(table: DeltaTable) -> tuple[str, str]:
    rows = pa.table(
        QueryBuilder()
        .register("t", table)
        .execute(
            "SELECT player_lookup, CAST(game_date AS VARCHAR) AS game_date FROM t "
            "WHERE historical_completeness IS NULL ORDER BY game_date, player_lookup LIMIT 1"
        )
        .read_all()
    ).to_pylist()
    if not rows:
        sys.exit("other_writer.py: no record without a struct")
    return rows[0]["player_lookup"], rows[0]["game_date"]


def where(key: tuple[str, str]) -> str:
    return f"player_lookup = '{key[0]}' AND game_date = '{key[1]}'"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["update", "delete", "append", "optimize", "zorder"])
    parser.add_argument("--table", type=Path, required=True)
    args = parser.parse_args()
    table = DeltaTable(str(args.table))
    key = None
    if args.action == "update":
        key = first_unfilled(table)
        table.update(
            predicate=where(key),
            updates={
                "processing_decision_reason": "'rewritten by another writer'",
                "updated_at": "now()",
            },
        )
    elif args.action == "delete":
        key = first_unfilled(table)
        table.delete(where(key))
    elif args.action == "append":
        rows = pa.table(
            QueryBuilder().register("t", table).execute("SELECT * FROM t ORDER BY game_date, player_lookup LIMIT 1").read_all()
        )
        rows = rows.set_column(rows.schema.get_field_index("player_lookup"), "player_lookup", pa.array([NEW_PLAYER]))
        schema = table.schema().to_arrow()
        rows = pa.Table.from_arrays(
            [rows.column(f.name).cast(f.type) for f in pa.schema(schema)], schema=pa.schema(schema)
        )
        write_deltalake(str(args.table), rows, mode="append")
        key = (NEW_PLAYER, str(rows.column("game_date")[0]))
    elif args.action == "optimize":
        table.optimize.compact()
    elif args.action == "zorder":
        table.optimize.z_order(["player_lookup"])
    version = DeltaTable(str(args.table)).version()
    print(json.dumps({"action": args.action, "key": list(key) if key else None, "version": version}))
    return 0


if __name__ == "__main__":
    code = main()
    # Skip the interpreter's teardown: deltalake's native threads sometimes abort it.
    sys.stdout.flush()
    os._exit(code)
