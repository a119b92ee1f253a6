#!/usr/bin/env python3
"""Build one foreign feature table: a Delta table this tool did not write.

Each case takes the feature records of a few game dates from the committed sample
table and writes them the way another writer would: with the Python `deltalake`
writer, with pyarrow plus a `_delta_log` written here by hand (where no writer
produces the case), or both. Never with the Rust crate the tool itself uses.

    python make_table.py CASE --source SAMPLE_FEATURES_TABLE --out TABLE_DIR [--dates D,D,...]
    python make_table.py --list

The table is written to --out (which must not exist yet). Cases whose log names
files by absolute URIs record --out's absolute path: build them where the tool will
read them. `shallow-clone` also writes the clone's source table to --external
(default: beside --out, named `<out>-clone-source`).

Requires pyarrow and deltalake (the emulator venv: tests/emulators/requirements.txt).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import struct
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import DeltaTable, Field, Schema, write_deltalake

DEFAULT_DATES = ["2026-01-20", "2026-01-21", "2026-01-22"]
# The January dates whose backfill yields 0/0 structs (a player back after 60 days
# without a game): the only records in the sample's January that break
# `games_expected >= 1`.
ZERO_OF_ZERO_DATES = ["2026-01-15", "2026-01-16"]
STRUCT = "historical_completeness"
UPDATED_AT = "updated_at"
CREATED_AT = "created_at"
KEY = ["player_lookup", "game_date"]
# A moment after every sample record's updated_at and before any merge by the tool.
CUTOFF = "2026-01-23"


# --------------------------------------------------------------------------------
# The source rows
# --------------------------------------------------------------------------------


@dataclass
class Source:
    rows: pa.Table  # the records of the chosen dates, sorted by date and player
    schema: dict  # the sample's Delta schema (JSON), field metadata and nullability kept
    dates: list[str]


def load_source(path: Path, dates: list[str]) -> Source:
    table = DeltaTable(str(path))
    rows = table.to_pyarrow_table(filters=[("game_date", "in", dates)])
    rows = rows.sort_by([("game_date", "ascending"), ("player_lookup", "ascending")])
    found = sorted({str(d) for d in rows.column("game_date").to_pylist()})
    missing = sorted(set(dates) - set(found))
    if missing:
        sys.exit(f"make_table.py: no records on {', '.join(missing)} in {path}")
    # Keep the sample's schema as its log has it (arrow loses nothing we need, but the
    # JSON is what a hand-written log must carry).
    schema = json.loads(table.schema().to_json())
    return Source(rows=rows, schema=schema, dates=dates)


def rows_of(rows: pa.Table, date: str) -> pa.Table:
    return rows.filter(pc.equal(rows.column("game_date"), pa.scalar(dt.date.fromisoformat(date))))


def with_column(rows: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    i = rows.schema.get_field_index(name)
    return rows.set_column(i, rows.schema.field(i).with_type(values.type), values)


def updated_at_filled(rows: pa.Table) -> pa.Table:
    """Every record with an updated_at (its created_at where the processor left NULL)."""
    filled = pc.coalesce(rows.column(UPDATED_AT), rows.column(CREATED_AT))
    return with_column(rows, UPDATED_AT, filled)


def schema_field(schema: dict, name: str) -> dict:
    return next(f for f in schema["fields"] if f["name"] == name)


# --------------------------------------------------------------------------------
# Writing data files and a log by hand
# --------------------------------------------------------------------------------


def now_ms() -> int:
    return int(time.time() * 1000)


def commit(table: Path, version: int, actions: list[dict], operation: str = "WRITE") -> None:
    """Write `_delta_log/<version>.json`: commitInfo first, then `actions`."""
    log = table / "_delta_log"
    log.mkdir(parents=True, exist_ok=True)
    info = {
        "commitInfo": {
            "timestamp": now_ms(),
            "operation": operation,
            "operationParameters": {},
            "engineInfo": "completeness tests/foreign/make_table.py (hand-written log)",
            "isBlindAppend": operation == "WRITE",
        }
    }
    if actions and "commitInfo" in actions[0]:
        info, actions = actions[0], actions[1:]
    path = log / f"{version:020d}.json"
    assert not path.exists(), f"{path} exists"
    with open(path, "w") as f:
        for action in [info, *actions]:
            f.write(json.dumps(action, separators=(",", ":")) + "\n")


def protocol(reader: int, writer: int, reader_features=(), writer_features=()) -> dict:
    p: dict = {"minReaderVersion": reader, "minWriterVersion": writer}
    if reader >= 3:
        p["readerFeatures"] = sorted(reader_features)
    if writer >= 7:
        p["writerFeatures"] = sorted(writer_features)
    return {"protocol": p}


def metadata(schema: dict, configuration: dict | None = None, partitioned: bool = True) -> dict:
    return {
        "metaData": {
            "id": str(uuid.uuid4()),
            "name": None,
            "description": None,
            "format": {"provider": "parquet", "options": {}},
            "schemaString": json.dumps(schema, separators=(",", ":")),
            "partitionColumns": ["game_date"] if partitioned else [],
            "configuration": configuration or {},
            "createdTime": now_ms(),
        }
    }


def stats_of(rows: pa.Table) -> str:
    """Statistics of a few top-level columns (a subset is legal Delta)."""
    mins, maxs, nulls = {}, {}, {}
    for name in ["player_lookup", "game_id", "feature_count"]:
        col = rows.column(name)
        mm = pc.min_max(col)
        mins[name], maxs[name] = mm["min"].as_py(), mm["max"].as_py()
        nulls[name] = col.null_count
    for name in [UPDATED_AT, CREATED_AT]:
        nulls[name] = rows.column(name).null_count
    return json.dumps(
        {"numRecords": rows.num_rows, "minValues": mins, "maxValues": maxs, "nullCount": nulls},
        separators=(",", ":"),
    )


@dataclass
class FileSpec:
    """How the data files of a hand-written table are laid out and encoded."""

    parquet: dict  # keyword arguments of pyarrow.parquet.write_table
    codec: str = "snappy"
    partitioned: bool = True  # game_date in the directory and partitionValues, not the file
    # The file's relative path on disk for (date, index) -> str
    name: Callable[[str, int, str], str] | None = None
    # The path the log records for a file: given its path relative to the table root
    # (as on disk) and its absolute path.
    log_path: Callable[[str, Path], str] | None = None
    stats: bool = True
    # Applied to each date's rows just before writing (e.g. renaming, reordering).
    shape: Callable[[pa.Table, str], pa.Table] | None = None
    files_per_date: int = 1


def default_name(date: str, i: int, codec: str) -> str:
    return f"game_date={date}/part-{i:05d}-{uuid.uuid4()}-c000.{codec}.parquet"


def file_uri(path: Path) -> str:
    """An absolute file:// URI as Spark writes them (`=` left as is)."""
    return "file://" + urllib.parse.quote(str(path.resolve()), safe="/=")


def uri_path(relative: str, absolute: Path) -> str:
    """The canonical form: a relative URI, percent-encoded where needed."""
    return urllib.parse.quote(relative, safe="/=")


def write_files(root: Path, rows: pa.Table, dates: list[str], spec: FileSpec) -> list[dict]:
    """`files_per_date` Parquet files per date under `root`; their add actions."""
    adds = []
    pieces = []
    for date in dates:
        whole = rows_of(rows, date)
        size = -(-whole.num_rows // spec.files_per_date)
        pieces += [(date, whole.slice(k * size, size)) for k in range(spec.files_per_date)]
    for i, (date, part) in enumerate(pieces):
        stats = stats_of(part) if spec.stats else None
        if spec.partitioned:
            part = part.drop_columns(["game_date"])
        if spec.shape:
            part = spec.shape(part, date)
        relative = (spec.name or default_name)(date, i, spec.codec)
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(part, path, compression=spec.codec, **spec.parquet)
        add = {
            "path": (spec.log_path or uri_path)(relative, path.resolve()),
            "partitionValues": {"game_date": date} if spec.partitioned else {},
            "size": path.stat().st_size,
            "modificationTime": now_ms(),
            "dataChange": True,
        }
        if stats:
            add["stats"] = stats
        adds.append({"add": add})
    return adds


def hand_table(
    out: Path,
    src: Source,
    spec: FileSpec | None = None,
    *,
    rows: pa.Table | None = None,
    schema: dict | None = None,
    proto: dict | None = None,
    configuration: dict | None = None,
    extra: list[dict] = (),
    files_root: Path | None = None,
) -> list[dict]:
    """pyarrow data files and a one-commit log written here; returns the adds."""
    spec = spec or FileSpec(parquet={})
    adds = write_files(files_root or out, rows if rows is not None else src.rows, src.dates, spec)
    commit(
        out,
        0,
        [
            proto or protocol(1, 2),
            metadata(schema or src.schema, configuration, spec.partitioned),
            *extra,
            *adds,
        ],
    )
    return adds


def deltalake_table(out: Path, src: Source, rows: pa.Table | None = None, **kwargs) -> None:
    """The records written by the Python deltalake writer, partitioned by game_date."""
    write_deltalake(
        str(out),
        rows if rows is not None else src.rows,
        partition_by=["game_date"],
        **kwargs,
    )


def latest_version(table: Path) -> int:
    versions = [
        int(p.name[:20])
        for p in (table / "_delta_log").iterdir()
        if p.name.endswith(".json") and p.name[:20].isdigit() and len(p.name) == 25
    ]
    return max(versions)


def log_actions(table: Path, version: int) -> list[dict]:
    path = table / "_delta_log" / f"{version:020d}.json"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --------------------------------------------------------------------------------
# Cases: the defects of issue 24
# --------------------------------------------------------------------------------


def case_absolute_paths(out: Path, src: Source, args) -> None:
    """The log names each file by an absolute file:// URI inside the table root."""
    spec = FileSpec(parquet={}, log_path=lambda rel, absolute: file_uri(absolute))
    hand_table(out, src, spec)


def case_shallow_clone(out: Path, src: Source, args) -> None:
    """A clone whose log names the files of another table (outside its root) by URI."""
    external = Path(args.external) if args.external else out.parent / f"{out.name}-clone-source"
    if external.exists():
        sys.exit(f"make_table.py: {external} exists")
    source_adds = hand_table(external, src)
    clone_adds = []
    for action in source_adds:
        add = dict(action["add"])
        add["path"] = file_uri(external / urllib.parse.unquote(add["path"]))
        clone_adds.append({"add": add})
    info = {
        "commitInfo": {
            "timestamp": now_ms(),
            "operation": "CLONE",
            "operationParameters": {"source": file_uri(external), "isShallow": True},
            "engineInfo": "completeness tests/foreign/make_table.py (hand-written log)",
        }
    }
    commit(out, 0, [info, protocol(1, 2), metadata(src.schema), *clone_adds], "CLONE")


def case_check_games_expected(out: Path, src: Source, args) -> None:
    """CHECK (games_expected >= 1), added by deltalake (which validates existing rows).

    deltalake counts a NULL result as a violation, and most stored structs are NULL,
    so the constraint lets NULL structs through explicitly."""
    deltalake_table(out, src)
    DeltaTable(str(out)).alter.add_constraint(
        {
            "games_expected_positive": f"{STRUCT} IS NULL OR {STRUCT}.games_expected >= 1",
        }
    )


def case_check_plain_sql(out: Path, src: Source, args) -> None:
    """The games_expected CHECK as Spark stores it: plain SQL text in a hand-written
    metaData commit (writer 3), not the DataFusion form deltalake stores
    (`get_field(…)`, `arrow_cast(…)`)."""
    deltalake_table(out, src)
    meta = next(a for a in log_actions(out, 0) if "metaData" in a)["metaData"]
    configuration = dict(meta["configuration"])
    configuration["delta.constraints.games_expected_positive"] = (
        f"{STRUCT} IS NULL OR {STRUCT}.games_expected >= 1"
    )
    meta = dict(meta, configuration=configuration)
    commit(out, latest_version(out) + 1, [protocol(1, 3), {"metaData": meta}], "ADD CONSTRAINT")


def case_check_updated_at(out: Path, src: Source, args) -> None:
    """CHECK (updated_at < CUTOFF) on records that all carry an updated_at."""
    deltalake_table(out, src, rows=updated_at_filled(src.rows))
    DeltaTable(str(out)).alter.add_constraint(
        {"updated_before_cutoff": f"{UPDATED_AT} < '{CUTOFF}'"}
    )


def case_invariant_updated_at(out: Path, src: Source, args) -> None:
    """A legacy invariant (delta.invariants, writer version 2) on updated_at.

    deltalake refuses to set `delta.*` column metadata, so the schema change is a
    hand-written metaData commit after deltalake's write."""
    deltalake_table(out, src, rows=updated_at_filled(src.rows))
    meta = next(a for a in log_actions(out, 0) if "metaData" in a)["metaData"]
    schema = json.loads(meta["schemaString"])
    schema_field(schema, UPDATED_AT)["metadata"]["delta.invariants"] = json.dumps(
        {"expression": {"expression": f"{UPDATED_AT} < '{CUTOFF}'"}}
    )
    meta = dict(meta, schemaString=json.dumps(schema, separators=(",", ":")))
    commit(out, latest_version(out) + 1, [protocol(1, 2), {"metaData": meta}], "SET COLUMN METADATA")


def generated_table(out: Path, src: Source, name: str, type_: str, expression: str) -> None:
    fields = [Field.from_arrow(f) for f in src.rows.schema]
    generated = Field(name, type_, nullable=True, metadata={"delta.generationExpression": expression})
    DeltaTable.create(str(out), Schema(fields + [generated]), partition_by=["game_date"])
    # deltalake computes the generated column itself.
    write_deltalake(str(out), src.rows, mode="append")


def case_generated_updated_date(out: Path, src: Source, args) -> None:
    """updated_date DATE GENERATED ALWAYS AS (CAST(updated_at AS DATE)): depends on a
    column the tool writes."""
    generated_table(out, src, "updated_date", "date", f"CAST({UPDATED_AT} AS DATE)")


def case_generated_player_initial(out: Path, src: Source, args) -> None:
    """A generated column that depends on no written column (writable).

    Spark's `YEAR(game_date)` is not a function deltalake (DataFusion) knows, so the
    expression works on player_lookup, in SQL both understand."""
    generated_table(out, src, "player_initial", "string", "SUBSTRING(player_lookup, 1, 1)")


# --------------------------------------------------------------------------------
# Cases: features not tried before issue 24
# --------------------------------------------------------------------------------


def column_mapping(schema: dict) -> tuple[dict, dict, int]:
    """The schema with ids and physical names on every (nested) field; the physical
    name of each top-level field; the largest id."""
    next_id = 0
    physical: dict[str, str] = {}

    def annotate(fields: list[dict]) -> list[dict]:
        nonlocal next_id
        result = []
        for f in fields:
            next_id += 1
            f = dict(f)
            f["metadata"] = dict(
                f.get("metadata", {}),
                **{
                    "delta.columnMapping.id": next_id,
                    "delta.columnMapping.physicalName": f"col-{uuid.uuid4()}",
                },
            )
            if isinstance(f["type"], dict) and f["type"].get("type") == "struct":
                f["type"] = dict(f["type"], fields=annotate(f["type"]["fields"]))
            result.append(f)
        return result

    mapped = dict(schema, fields=annotate(schema["fields"]))
    for f in mapped["fields"]:
        physical[f["name"]] = f["metadata"]["delta.columnMapping.physicalName"]
    return mapped, physical, next_id


def physical_arrow_field(field: pa.Field, delta_field: dict) -> pa.Field:
    """`field` renamed to its physical name, with its Parquet field id, recursively."""
    meta = delta_field["metadata"]
    typ = field.type
    if pa.types.is_struct(typ):
        children = {c["name"]: c for c in delta_field["type"]["fields"]}
        typ = pa.struct([physical_arrow_field(typ.field(i), children[typ.field(i).name]) for i in range(typ.num_fields)])
    return pa.field(
        meta["delta.columnMapping.physicalName"],
        typ,
        field.nullable,
        {b"PARQUET:field_id": str(meta["delta.columnMapping.id"]).encode()},
    )


def column_mapped_table(out: Path, src: Source, mode: str) -> None:
    schema, physical, max_id = column_mapping(src.schema)
    by_name = {f["name"]: f for f in schema["fields"]}

    def shape(part: pa.Table, date: str) -> pa.Table:
        fields = [physical_arrow_field(f, by_name[f.name]) for f in part.schema]
        return pa.Table.from_arrays(part.columns, schema=pa.schema(fields))

    def name(date: str, i: int, codec: str) -> str:
        # Spark writes column-mapped tables under random prefixes, not key=value.
        return f"{uuid.uuid4().hex[:2]}/part-{i:05d}-{uuid.uuid4()}-c000.{codec}.parquet"

    adds = write_files(out, src.rows, src.dates, FileSpec(parquet={}, shape=shape, name=name))
    for a in adds:
        a["add"]["partitionValues"] = {physical["game_date"]: a["add"]["partitionValues"]["game_date"]}
    config = {"delta.columnMapping.mode": mode, "delta.columnMapping.maxColumnId": str(max_id)}
    commit(out, 0, [protocol(2, 5), metadata(schema, config), *adds])


def case_column_mapping_id(out: Path, src: Source, args) -> None:
    """Column mapping mode `id` (reader 2 / writer 5): physical names and field ids."""
    column_mapped_table(out, src, "id")


def case_column_mapping_name(out: Path, src: Source, args) -> None:
    """Column mapping mode `name` (reader 2 / writer 5)."""
    column_mapped_table(out, src, "name")


def case_identity_column(out: Path, src: Source, args) -> None:
    """A `feature_row_id BIGINT GENERATED ALWAYS AS IDENTITY` column (writer 6), which
    the tool never writes; deltalake has no API for identity columns."""
    n = src.rows.num_rows
    rows = src.rows.append_column(pa.field("feature_row_id", pa.int64(), False), pa.array(range(1, n + 1), pa.int64()))
    schema = dict(src.schema)
    schema["fields"] = src.schema["fields"] + [
        {
            "name": "feature_row_id",
            "type": "long",
            "nullable": False,
            "metadata": {
                "delta.identity.start": 1,
                "delta.identity.step": 1,
                "delta.identity.allowExplicitInsert": False,
                "delta.identity.highWaterMark": n,
            },
        }
    ]
    hand_table(out, src, rows=rows, schema=schema, proto=protocol(1, 6))


def case_type_widening(out: Path, src: Source, args) -> None:
    """`days_rest` widened from INT to BIGINT (typeWidening, reader 3 / writer 7): the
    older files hold INT32, the newest INT64."""
    schema = json.loads(json.dumps(src.schema))
    schema_field(schema, "days_rest")["metadata"]["delta.typeChanges"] = [
        {"fromType": "integer", "toType": "long"}
    ]
    newest = src.dates[-1]

    def shape(part: pa.Table, date: str) -> pa.Table:
        if date == newest:
            return part
        return with_column(part, "days_rest", pc.cast(part.column("days_rest"), pa.int32()))

    hand_table(
        out,
        src,
        FileSpec(parquet={}, shape=shape),
        schema=schema,
        proto=protocol(3, 7, ["typeWidening"], ["typeWidening"]),
        configuration={"delta.enableTypeWidening": "true"},
    )


def case_liquid_clustering(out: Path, src: Source, args) -> None:
    """A table clustered by game_date (clustering + domainMetadata, writer 7; the
    `delta.clustering` domain). Clustered tables are not partitioned."""
    spec = FileSpec(
        parquet={},
        partitioned=False,
        name=lambda date, i, codec: f"part-{i:05d}-{uuid.uuid4()}-c000.{codec}.parquet",
    )
    clustering = {
        "domainMetadata": {
            "domain": "delta.clustering",
            "configuration": json.dumps({"clusteringColumns": [["game_date"]]}),
            "removed": False,
        }
    }
    adds = write_files(out, src.rows, src.dates, spec)
    for a in adds:
        a["add"]["clusteringProvider"] = "liquid"
    proto = protocol(1, 7, [], ["clustering", "domainMetadata"])
    commit(out, 0, [proto, metadata(src.schema, {}, partitioned=False), clustering, *adds])


def case_percent_encoded_space(out: Path, src: Source, args) -> None:
    """File names with a space, percent-encoded in the log (`part%2000000…`)."""
    name = lambda date, i, codec: f"game_date={date}/part {i:05d} {uuid.uuid4()}.c000.{codec}.parquet"
    hand_table(out, src, FileSpec(parquet={}, name=name))


def case_percent_encoded_noncanonical(out: Path, src: Source, args) -> None:
    """Paths encoded where no encoding is needed: `game_date%3D2026%2D01%2D21/part%2D…`."""

    def encode_everything(relative: str, absolute: Path) -> str:
        keep = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./")
        return "".join(c if c in keep else f"%{ord(c):02X}" for c in relative)

    hand_table(out, src, FileSpec(parquet={}, log_path=encode_everything))


# --------------------------------------------------------------------------------
# Cases: tried by the outside review (handled, or refused at merge before issue 24)
# --------------------------------------------------------------------------------


def case_deltalake_writer(out: Path, src: Source, args) -> None:
    """The records as the Python deltalake writer writes them (the baseline)."""
    deltalake_table(out, src)


def case_pyarrow_hand_log(out: Path, src: Source, args) -> None:
    """pyarrow files (defaults: dictionary encoding, snappy) and a hand-written log."""
    hand_table(out, src)


def case_convert_to_deltalake(out: Path, src: Source, args) -> None:
    """pyarrow files under hive directories, the log by `convert_to_deltalake`."""
    from deltalake import convert_to_deltalake

    write_files(out, src.rows, src.dates, FileSpec(parquet={}))
    partitions = Schema([Field("game_date", "date", nullable=True)])
    convert_to_deltalake(str(out), partition_by=partitions, partition_strategy="hive")


def parquet_case(doc: str, codec: str = "snappy", stats: bool = True, **parquet) -> Callable:
    def case(out: Path, src: Source, args) -> None:
        hand_table(out, src, FileSpec(parquet=parquet, codec=codec, stats=stats))

    case.__doc__ = doc
    return case


def codec_case(codec: str) -> Callable:
    return parquet_case(f"pyarrow files compressed with {codec}", codec=codec)


def case_timestamps_ns(out: Path, src: Source, args) -> None:
    """Timestamps stored as TIMESTAMP(NANOS) (Parquet 2.6); the log says timestamp."""

    def shape(part: pa.Table, date: str) -> pa.Table:
        for f in part.schema:
            if pa.types.is_timestamp(f.type):
                part = with_column(part, f.name, pc.cast(part.column(f.name), pa.timestamp("ns", "UTC")))
        return part

    hand_table(out, src, FileSpec(parquet={"version": "2.6"}, shape=shape))


def case_timestamp_ntz(out: Path, src: Source, args) -> None:
    """A timestamp_ntz column (reader 3 / writer 7, deltalake sets the features)."""
    column = "circuit_breaker_until"
    values = pc.cast(src.rows.column(column), pa.timestamp("us"))
    deltalake_table(out, src, rows=with_column(src.rows, column, values))


def case_struct_fields_not_null(out: Path, src: Source, args) -> None:
    """The struct's five fields declared NOT NULL (the struct itself nullable)."""
    rows = src.rows
    hc = rows.column(STRUCT).combine_chunks()
    typ = hc.type
    fields = [typ.field(i).with_nullable(False) for i in range(typ.num_fields)]
    defaults = {
        "games_found": pa.scalar(0, pa.int64()),
        "games_expected": pa.scalar(0, pa.int64()),
        "is_complete": pa.scalar(False),
        "is_bootstrap": pa.scalar(False),
        "contributing_game_dates": pa.scalar([], typ.field("contributing_game_dates").type),
    }
    # Under a NULL struct the children hold placeholders, never NULL.
    children = [pc.fill_null(hc.field(f.name), defaults[f.name]) for f in fields]
    strict = pa.StructArray.from_arrays(children, fields=fields, mask=hc.is_null())
    rows = with_column(rows, STRUCT, strict)
    deltalake_table(out, src, rows=rows)


def case_schema_evolution(out: Path, src: Source, args) -> None:
    """`matchup_quality_pct` added by a later write (schema_mode=merge): the older
    files lack the column."""
    column = "matchup_quality_pct"
    for i, date in enumerate(src.dates):
        part = rows_of(src.rows, date)
        if i < len(src.dates) - 1:
            part = part.drop_columns([column])
        write_deltalake(str(out), part, partition_by=["game_date"], mode="append", schema_mode="merge")


def per_date_commits(out: Path, src: Source) -> None:
    for date in src.dates:
        write_deltalake(str(out), rows_of(src.rows, date), partition_by=["game_date"], mode="append")


def case_checkpoint(out: Path, src: Source, args) -> None:
    """One commit per date, a checkpoint (deltalake), then a later commit."""
    per_date_commits(out, src)
    table = DeltaTable(str(out))
    table.create_checkpoint()
    table.alter.set_table_properties({"delta.logRetentionDuration": "interval 30 days"})


def case_log_cleaned(out: Path, src: Source, args) -> None:
    """A checkpoint, and the JSON commits before it removed (log cleanup)."""
    per_date_commits(out, src)
    table = DeltaTable(str(out))
    table.create_checkpoint()
    checkpoint = table.version()
    table.alter.set_table_properties({"delta.logRetentionDuration": "interval 30 days"})
    for version in range(checkpoint):
        (out / "_delta_log" / f"{version:020d}.json").unlink()


def case_checkpoint_v2(out: Path, src: Source, args) -> None:
    """A v2 checkpoint (v2Checkpoint, reader 3 / writer 7) in JSON, UUID-named, with
    _last_checkpoint; one commit per date, the checkpoint after the second."""
    proto = protocol(3, 7, ["v2Checkpoint"], ["v2Checkpoint"])
    meta = metadata(src.schema, {"delta.checkpointPolicy": "v2"})
    adds = write_files(out, src.rows, src.dates, FileSpec(parquet={}))
    commit(out, 0, [proto, meta, adds[0]])
    for version, add in enumerate(adds[1:-1], start=1):
        commit(out, version, [add])
    checkpoint_version = len(adds) - 2
    actions = [{"checkpointMetadata": {"version": checkpoint_version}}, proto, meta, *adds[:-1]]
    name = f"{checkpoint_version:020d}.checkpoint.{uuid.uuid4()}.json"
    path = out / "_delta_log" / name
    path.write_text("".join(json.dumps(a, separators=(",", ":")) + "\n" for a in actions))
    last = {
        "version": checkpoint_version,
        "size": len(actions),
        "sizeInBytes": path.stat().st_size,
        "numOfAddFiles": len(adds) - 1,
    }
    (out / "_delta_log" / "_last_checkpoint").write_text(json.dumps(last))
    commit(out, checkpoint_version + 1, [adds[-1]])


def case_lists_item_naming(out: Path, src: Source, args) -> None:
    """Lists as older writers wrote them: Parquet format 1.0, non-compliant 3-level
    lists whose element is named `item` (pyarrow cannot write 2-level lists)."""
    hand_table(out, src, FileSpec(parquet={"version": "1.0", "use_compliant_nested_type": False}))


def case_columns_reordered(out: Path, src: Source, args) -> None:
    """Physical column order in the files the reverse of the table schema's."""
    shape = lambda part, date: part.select(list(reversed(part.column_names)))
    hand_table(out, src, FileSpec(parquet={}, shape=shape))


def case_unpartitioned(out: Path, src: Source, args) -> None:
    """The records in a table that is not partitioned (deltalake)."""
    write_deltalake(str(out), src.rows)


def case_files_several_per_date(out: Path, src: Source, args) -> None:
    """Three files per date (pyarrow, hand-written log), as appends leave them."""
    hand_table(out, src, FileSpec(parquet={}, files_per_date=3))


def case_flat_layout(out: Path, src: Source, args) -> None:
    """Partitioned by game_date, but every file at the table root (legal: the
    partition values are in the log, not the directory)."""
    name = lambda date, i, codec: f"part-{i:05d}-{uuid.uuid4()}-c000.{codec}.parquet"
    hand_table(out, src, FileSpec(parquet={}, name=name))


# Features the tool refuses to write (at merge before issue 24).


def z85(data: bytes) -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
    data = data + b"\0" * (-len(data) % 4)
    out = []
    for i in range(0, len(data), 4):
        n = int.from_bytes(data[i : i + 4], "big")
        chunk = []
        for _ in range(5):
            n, r = divmod(n, 85)
            chunk.append(alphabet[r])
        out.append("".join(reversed(chunk)))
    return "".join(out)


def inline_deletion_vector(rows: list[int]) -> dict:
    """An inline deletion vector (Delta's RoaringBitmapArray, portable format) deleting
    `rows` (row indexes below 65536) of one file."""
    rows = sorted(rows)
    bitmap = struct.pack("<II", 12346, 1)  # no-run cookie, one container
    bitmap += struct.pack("<HH", 0, len(rows) - 1)  # key 0, cardinality - 1
    bitmap += struct.pack("<I", 16)  # offset of the container
    bitmap += b"".join(struct.pack("<H", r) for r in rows)  # an array container
    data = struct.pack("<I", 1681511377) + struct.pack("<q", 1) + struct.pack("<I", 0) + bitmap
    return {
        "storageType": "i",
        "pathOrInlineDv": z85(data),
        "sizeInBytes": len(data),
        "cardinality": len(rows),
    }


def deletion_vector_table(out: Path, src: Source, property_on: bool) -> None:
    """Deletion vectors enabled (reader 3 / writer 7); a later DELETE marks the first
    row of the first file deleted with an inline deletion vector."""
    proto = protocol(3, 7, ["deletionVectors"], ["deletionVectors"])
    adds = hand_table(out, src, proto=proto, configuration={"delta.enableDeletionVectors": "true"})
    first = adds[0]["add"]
    now = now_ms()
    remove = {
        "remove": {
            "path": first["path"],
            "deletionTimestamp": now,
            "dataChange": True,
            "extendedFileMetadata": True,
            "partitionValues": first["partitionValues"],
            "size": first["size"],
        }
    }
    stats = json.loads(first["stats"])
    stats["tightBounds"] = False
    readd = {"add": dict(first, modificationTime=now, deletionVector=inline_deletion_vector([0]), stats=json.dumps(stats, separators=(",", ":")))}
    commit(out, 1, [remove, readd], "DELETE")
    if not property_on:
        meta = next(a for a in log_actions(out, 0) if "metaData" in a)
        meta["metaData"]["configuration"]["delta.enableDeletionVectors"] = "false"
        commit(out, 2, [meta], "SET TBLPROPERTIES")


def case_deletion_vectors(out: Path, src: Source, args) -> None:
    """Deletion vectors enabled, one row deleted by an inline deletion vector."""
    deletion_vector_table(out, src, property_on=True)


def case_deletion_vector_property_off(out: Path, src: Source, args) -> None:
    """A deletion vector still in the table after the property was turned off."""
    deletion_vector_table(out, src, property_on=False)


def case_row_tracking(out: Path, src: Source, args) -> None:
    """Row tracking (rowTracking + domainMetadata, writer 7): base row ids on every
    add and the delta.rowTracking high-water mark."""
    proto = protocol(1, 7, [], ["domainMetadata", "rowTracking"])
    config = {
        "delta.enableRowTracking": "true",
        "delta.rowTracking.materializedRowIdColumnName": f"_row-id-col-{uuid.uuid4()}",
        "delta.rowTracking.materializedRowCommitVersionColumnName": f"_row-commit-version-col-{uuid.uuid4()}",
    }
    adds = write_files(out, src.rows, src.dates, FileSpec(parquet={}))
    base = 0
    for a in adds:
        a["add"]["baseRowId"] = base
        a["add"]["defaultRowCommitVersion"] = 0
        base += json.loads(a["add"]["stats"])["numRecords"]
    mark = {
        "domainMetadata": {
            "domain": "delta.rowTracking",
            "configuration": json.dumps({"rowIdHighWaterMark": base - 1}),
            "removed": False,
        }
    }
    commit(out, 0, [proto, metadata(src.schema, config), mark, *adds])


def case_change_data_feed(out: Path, src: Source, args) -> None:
    """Change data feed enabled (deltalake; writer 4)."""
    deltalake_table(out, src, configuration={"delta.enableChangeDataFeed": "true"})


def case_append_only(out: Path, src: Source, args) -> None:
    """delta.appendOnly (deltalake; writer 2)."""
    deltalake_table(out, src, configuration={"delta.appendOnly": "true"})


def case_domain_metadata(out: Path, src: Source, args) -> None:
    """A user domain (domainMetadata, writer 7) set by a later commit."""
    hand_table(out, src, proto=protocol(1, 7, [], ["domainMetadata"]))
    domain = {
        "domainMetadata": {
            "domain": "com.example.feature-pipeline",
            "configuration": json.dumps({"owner": "nba-props-platform", "watermark": CUTOFF}),
            "removed": False,
        }
    }
    commit(out, 1, [domain], "DOMAIN METADATA")


def case_in_commit_timestamps(out: Path, src: Source, args) -> None:
    """In-commit timestamps (inCommitTimestamp, writer 7) from the first commit."""
    ts = now_ms()
    info = {
        "commitInfo": {
            "inCommitTimestamp": ts,
            "timestamp": ts,
            "operation": "WRITE",
            "operationParameters": {},
            "engineInfo": "completeness tests/foreign/make_table.py (hand-written log)",
        }
    }
    adds = write_files(out, src.rows, src.dates, FileSpec(parquet={}))
    proto = protocol(1, 7, [], ["inCommitTimestamp"])
    meta = metadata(src.schema, {"delta.enableInCommitTimestamps": "true"})
    commit(out, 0, [info, proto, meta, *adds])


# --------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------


@dataclass
class Case:
    build: Callable
    dates: list[str] | None = None  # default: DEFAULT_DATES


CASES: dict[str, Case] = {
    # issue 24's defects
    "absolute-paths": Case(case_absolute_paths),
    "shallow-clone": Case(case_shallow_clone),
    "check-games-expected": Case(case_check_games_expected, ZERO_OF_ZERO_DATES),
    "check-plain-sql": Case(case_check_plain_sql, ZERO_OF_ZERO_DATES),
    "check-updated-at": Case(case_check_updated_at),
    "invariant-updated-at": Case(case_invariant_updated_at),
    "generated-updated-date": Case(case_generated_updated_date),
    "generated-player-initial": Case(case_generated_player_initial),
    # not tried before
    "column-mapping-id": Case(case_column_mapping_id),
    "identity-column": Case(case_identity_column),
    "type-widening": Case(case_type_widening),
    "liquid-clustering": Case(case_liquid_clustering),
    "percent-encoded-space": Case(case_percent_encoded_space),
    "percent-encoded-noncanonical": Case(case_percent_encoded_noncanonical),
    # writers and layouts
    "deltalake-writer": Case(case_deltalake_writer),
    "pyarrow-hand-log": Case(case_pyarrow_hand_log),
    "convert-to-deltalake": Case(case_convert_to_deltalake),
    "unpartitioned": Case(case_unpartitioned),
    "flat-layout": Case(case_flat_layout),
    "files-several-per-date": Case(case_files_several_per_date),
    # Parquet encodings
    "row-groups-many": Case(parquet_case("pyarrow files of 40-row row groups", row_group_size=40)),
    "encoding-plain": Case(parquet_case("pyarrow files without dictionary encoding", use_dictionary=False)),
    "codec-snappy": Case(codec_case("snappy")),
    "codec-zstd": Case(codec_case("zstd")),
    "codec-gzip": Case(codec_case("gzip")),
    "codec-lz4": Case(codec_case("lz4")),
    "codec-brotli": Case(codec_case("brotli")),
    "codec-none": Case(codec_case("none")),
    "no-statistics": Case(parquet_case("no statistics in the files or the log", stats=False, write_statistics=False)),
    "page-index": Case(parquet_case("pyarrow files with a page index", write_page_index=True)),
    "data-page-v2": Case(parquet_case("pyarrow files of v2 data pages", data_page_version="2.0")),
    "timestamps-int96": Case(parquet_case("every timestamp stored as INT96", use_deprecated_int96_timestamps=True)),
    "timestamps-ms": Case(
        parquet_case(
            "every timestamp stored as TIMESTAMP(MILLIS)", coerce_timestamps="ms", allow_truncated_timestamps=True
        )
    ),
    "timestamps-ns": Case(case_timestamps_ns),
    "timestamp-ntz": Case(case_timestamp_ntz),
    "struct-fields-not-null": Case(case_struct_fields_not_null),
    "schema-evolution": Case(case_schema_evolution),
    "checkpoint": Case(case_checkpoint),
    "checkpoint-v2": Case(case_checkpoint_v2),
    "log-cleaned": Case(case_log_cleaned),
    "lists-item-naming": Case(case_lists_item_naming),
    "columns-reordered": Case(case_columns_reordered),
    # Delta features the tool refuses
    "deletion-vectors": Case(case_deletion_vectors),
    "deletion-vector-property-off": Case(case_deletion_vector_property_off),
    "column-mapping-name": Case(case_column_mapping_name),
    "row-tracking": Case(case_row_tracking),
    "change-data-feed": Case(case_change_data_feed),
    "append-only": Case(case_append_only),
    "domain-metadata": Case(case_domain_metadata),
    "in-commit-timestamps": Case(case_in_commit_timestamps),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", nargs="?", help="the case to build (see --list)")
    parser.add_argument("--list", action="store_true", help="print the case names and exit")
    parser.add_argument("--describe", action="store_true", help="with --list: name, dates and description")
    parser.add_argument("--source", type=Path, help="the sample feature table (a Delta table)")
    parser.add_argument("--out", type=Path, help="the table to write (must not exist)")
    parser.add_argument("--dates", help="comma-separated game dates (default: the case's)")
    parser.add_argument("--external", help="shallow-clone: where the clone's source table goes")
    args = parser.parse_args()
    if args.list:
        for name, case in CASES.items():
            if args.describe:
                doc = " ".join((case.build.__doc__ or "").split())
                print(f"{name}\t{','.join(case.dates or DEFAULT_DATES)}\t{doc}")
            else:
                print(name)
        return 0
    if not args.case or not args.source or not args.out:
        parser.error("CASE, --source and --out are required (or --list)")
    if args.case not in CASES:
        parser.error(f"unknown case {args.case!r}; --list names them")
    if args.out.exists():
        parser.error(f"{args.out} exists")
    case = CASES[args.case]
    dates = args.dates.split(",") if args.dates else (case.dates or DEFAULT_DATES)
    src = load_source(args.source, dates)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    case.build(args.out, src, args)
    print(json.dumps({"case": args.case, "table": str(args.out), "dates": dates, "rows": src.rows.num_rows}))
    return 0


def exit_now(code: int) -> None:
    """Exit without the interpreter's teardown: deltalake's and pyarrow's native
    threads sometimes abort it ("terminate called without an active exception",
    exit 134) after all the work is done."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
