#!/usr/bin/env python3
"""Check a feature table after the tool wrote to it, independently of the tool.

Reads with the Python `deltalake` package only (its DataFusion reader through
QueryBuilder, and `to_pyarrow_table`), never with the Rust crate the tool uses.

    python check_table.py --after TABLE [--before COPY] [--expect-changed N]

Checks, printed as one JSON verdict on stdout (exit 0 when every check passes, 1
naming each failure, 2 on bad usage):

- the table still reads: deltalake loads it and reads every row (DataFusion), and
  `to_pyarrow_table` reads it whenever it read the table before;
- with --before: the same columns and the same number of rows; the keys
  (player_lookup, game_date) unique and the same; every column other than the
  written ones (--written, default historical_completeness and updated_at) equal row
  by row; updated_at changed exactly where the struct changed;
- every CHECK constraint (`delta.constraints.*`) and every legacy invariant
  (`delta.invariants` in the schema) holds on every row, evaluated as deltalake's
  writer enforces them: a row breaks one unless the expression is TRUE (NULL breaks it);
- every generated column (`delta.generationExpression`) equals its expression
  (NULL equals NULL);
- with --expect-changed N: exactly N rows differ from --before in the written columns.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder

KEY = ["player_lookup", "game_date"]
STRUCT = "historical_completeness"
UPDATED_AT = "updated_at"
MAX_EXAMPLES = 5


class Table:
    """A table as deltalake Python reads it."""

    def __init__(self, path: Path):
        self.path = path
        self.delta = DeltaTable(str(path))
        self.version = self.delta.version()
        self.schema = json.loads(self.delta.schema().to_json())
        self.configuration = dict(self.delta.metadata().configuration)

    def query(self, sql: str) -> pa.Table:
        return pa.table(QueryBuilder().register("t", self.delta).execute(sql).read_all())

    def rows(self) -> pa.Table:
        order = ", ".join(KEY)
        return self.query(f"SELECT * FROM t ORDER BY {order}")

    def pyarrow_reads(self) -> str | None:
        """None when to_pyarrow_table reads the table, else its error."""
        try:
            self.delta.to_pyarrow_table()
            return None
        except Exception as e:  # noqa: BLE001 - any failure is the answer
            return f"{type(e).__name__}: {e}"

    def rules(self) -> list[dict]:
        """CHECK constraints and invariants: {kind, name, expression}."""
        rules = [
            {"kind": "constraint", "name": key.removeprefix("delta.constraints."), "expression": value}
            for key, value in sorted(self.configuration.items())
            if key.startswith("delta.constraints.")
        ]
        for path, field in walk(self.schema):
            raw = field.get("metadata", {}).get("delta.invariants")
            if raw is None:
                continue
            parsed = json.loads(raw) if isinstance(raw, str) else raw
            rules.append({"kind": "invariant", "name": path, "expression": parsed["expression"]["expression"]})
        return rules

    def generated(self) -> list[dict]:
        return [
            {"column": path, "expression": field["metadata"]["delta.generationExpression"]}
            for path, field in walk(self.schema)
            if "delta.generationExpression" in field.get("metadata", {})
        ]

    def breaking(self, expression: str) -> tuple[int, list[list]]:
        """Rows where `expression` is not TRUE: their count and the first keys."""
        return self.count_where(f"({expression}) IS NOT TRUE")

    def count_where(self, predicate: str) -> tuple[int, list[list]]:
        keys = ", ".join(KEY)
        hits = self.query(f"SELECT {keys} FROM t WHERE {predicate} ORDER BY {keys}")
        examples = [[str(v) for v in row.values()] for row in hits.slice(0, MAX_EXAMPLES).to_pylist()]
        return hits.num_rows, examples


def walk(schema: dict, prefix: str = ""):
    """(dotted path, field) of every field, nested struct fields included."""
    for field in schema.get("fields", []):
        path = f"{prefix}{field['name']}"
        yield path, field
        typ = field["type"]
        if isinstance(typ, dict) and typ.get("type") == "struct":
            yield from walk(typ, path + ".")


def same(a, b) -> bool:
    """Value equality where NaN equals NaN, recursively."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def differing_rows(before: pa.ChunkedArray, after: pa.ChunkedArray) -> list[int]:
    if before.type == after.type and before.equals(after):
        return []
    b, a = before.to_pylist(), after.to_pylist()
    return [i for i, (x, y) in enumerate(zip(b, a)) if not same(x, y)]


def key_list(rows: pa.Table) -> list[tuple]:
    return list(zip(*(rows.column(k).to_pylist() for k in KEY)))


class Verdict:
    def __init__(self):
        self.failures: list[str] = []
        self.report: dict = {}

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def emit(self) -> int:
        self.report["ok"] = not self.failures
        self.report["failures"] = self.failures
        print(json.dumps(self.report, indent=2, default=str))
        for f in self.failures:
            print(f"check_table.py: FAIL {f}", file=sys.stderr)
        return 0 if not self.failures else 1


def read(path: Path, label: str, verdict: Verdict) -> tuple[Table, pa.Table] | None:
    try:
        table = Table(path)
        rows = table.rows()
    except Exception as e:  # noqa: BLE001
        verdict.fail(f"{label} table {path} does not read: {type(e).__name__}: {e}")
        return None
    verdict.report[label] = {
        "path": str(path),
        "version": table.version,
        "rows": rows.num_rows,
        "to_pyarrow_table": table.pyarrow_reads() or "reads",
    }
    return table, rows


def compare(before: pa.Table, after: pa.Table, written: list[str], verdict: Verdict) -> int | None:
    """Row-by-row comparison; returns the number of rows whose written columns changed."""
    if before.num_rows != after.num_rows:
        verdict.fail(f"row count changed: {before.num_rows} before, {after.num_rows} after")
    missing = [c for c in before.column_names if c not in after.column_names]
    added = [c for c in after.column_names if c not in before.column_names]
    if missing:
        verdict.fail(f"columns lost: {missing}")
    if added:
        verdict.fail(f"columns added: {added}")
    bkeys, akeys = key_list(before), key_list(after)
    for label, keys in [("before", bkeys), ("after", akeys)]:
        if len(set(keys)) != len(keys):
            dupes = sorted({k for k in keys if keys.count(k) > 1})[:MAX_EXAMPLES]
            verdict.fail(f"duplicate keys {label}: e.g. {[list(map(str, k)) for k in dupes]}")
    if bkeys != akeys:
        gone = sorted(set(bkeys) - set(akeys))[:MAX_EXAMPLES]
        new = sorted(set(akeys) - set(bkeys))[:MAX_EXAMPLES]
        verdict.fail(f"keys differ: gone {[list(map(str, k)) for k in gone]}, new {[list(map(str, k)) for k in new]}")
        return None
    changed_columns = {}
    for name in before.column_names:
        if name not in after.column_names or name in written:
            continue
        rows = differing_rows(before.column(name), after.column(name))
        if rows:
            changed_columns[name] = len(rows)
            examples = [list(map(str, bkeys[i])) for i in rows[:MAX_EXAMPLES]]
            verdict.fail(f"column {name} changed in {len(rows)} rows (not a written column), e.g. {examples}")
    verdict.report["other_columns_changed"] = changed_columns
    changed = set()
    per_column = {}
    for name in written:
        if name in before.column_names and name in after.column_names:
            rows = set(differing_rows(before.column(name), after.column(name)))
            per_column[name] = rows
            changed |= rows
    verdict.report["written_columns_changed"] = {k: len(v) for k, v in per_column.items()}
    if STRUCT in per_column and UPDATED_AT in per_column:
        stamp_only = sorted(per_column[UPDATED_AT] - per_column[STRUCT])
        struct_only = sorted(per_column[STRUCT] - per_column[UPDATED_AT])
        for what, rows in [("updated_at changed without the struct", stamp_only), ("the struct changed without updated_at", struct_only)]:
            if rows:
                examples = [list(map(str, bkeys[i])) for i in rows[:MAX_EXAMPLES]]
                verdict.fail(f"{what} in {len(rows)} rows, e.g. {examples}")
    return len(changed)


def check_rules(label: str, table: Table, verdict: Verdict) -> None:
    results = []
    for rule in table.rules():
        try:
            count, examples = table.breaking(rule["expression"])
        except Exception as e:  # noqa: BLE001
            verdict.fail(f"{label}: cannot evaluate {rule['kind']} {rule['name']} ({rule['expression']}): {e}")
            continue
        results.append(dict(rule, rows_breaking=count, examples=examples))
        if count:
            verdict.fail(
                f"{label}: {rule['kind']} {rule['name']} ({rule['expression']}) broken by {count} rows, e.g. {examples}"
            )
    for gen in table.generated():
        predicate = f"{gen['column']} IS DISTINCT FROM ({gen['expression']})"
        try:
            count, examples = table.count_where(predicate)
        except Exception as e:  # noqa: BLE001
            verdict.fail(f"{label}: cannot evaluate generated column {gen['column']} ({gen['expression']}): {e}")
            continue
        results.append(dict(kind="generated column", name=gen["column"], expression=gen["expression"], rows_breaking=count, examples=examples))
        if count:
            verdict.fail(
                f"{label}: generated column {gen['column']} differs from {gen['expression']} in {count} rows, e.g. {examples}"
            )
    verdict.report.setdefault("rules", {})[label] = results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--after", type=Path, required=True, help="the table as the tool left it")
    parser.add_argument("--before", type=Path, help="a copy of the table taken before the tool ran")
    parser.add_argument("--expect-changed", type=int, help="rows whose written columns must differ from --before")
    parser.add_argument(
        "--written",
        default=f"{STRUCT},{UPDATED_AT}",
        help="comma-separated columns the tool may write (default: %(default)s)",
    )
    args = parser.parse_args()
    if args.expect_changed is not None and args.before is None:
        parser.error("--expect-changed needs --before")
    written = args.written.split(",")
    verdict = Verdict()
    after = read(args.after, "after", verdict)
    before = read(args.before, "before", verdict) if args.before else None
    if after:
        check_rules("after", after[0], verdict)
    if before:
        check_rules("before", before[0], verdict)
    if after and before:
        pyarrow_before = verdict.report["before"]["to_pyarrow_table"]
        pyarrow_after = verdict.report["after"]["to_pyarrow_table"]
        if pyarrow_before == "reads" and pyarrow_after != "reads":
            verdict.fail(f"to_pyarrow_table read the table before, not after: {pyarrow_after}")
        changed = compare(before[1], after[1], written, verdict)
        verdict.report["changed_rows"] = changed
        if args.expect_changed is not None and changed is not None and changed != args.expect_changed:
            verdict.fail(f"{changed} rows changed in {written}, expected {args.expect_changed}")
    elif args.before and not before:
        pass  # already a failure
    return verdict.emit()


def exit_now(code: int) -> None:
    """Exit without the interpreter's teardown: deltalake's and pyarrow's native
    threads sometimes abort it ("terminate called without an active exception",
    exit 134) after all the work is done."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
