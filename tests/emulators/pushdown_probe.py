#!/usr/bin/env python3
"""Proof of the pushdown SQL (issue 26) on the loopback BigQuery emulator, before any Rust:

    scripts/emulators run -- python3 tests/emulators/pushdown_probe.py [--seeds 1,2,3]

(or `scripts/emulators start DIR`, `source DIR/env`, then run it). Stdlib only; talks to
the emulator's REST API at $COMPLETENESS_TEST_BQ_ENDPOINT (loopback only).

1. Probes what the emulator supports for a staged plan: a query job's destinationTable,
   CREATE TABLE … OPTIONS(expiration_timestamp) AS, tables.patch of expirationTime,
   tabledata.list paging, a job id chosen by the client, the job statistics.
2. Checks the three statements statically: filled as src/warehouse/bigquery/statements.rs
   fills them (leading comments dropped, no comment left, every placeholder filled),
   each `@name` a parameter, every read of the three production objects bounded on
   game_date (the rule of tests/it/partition_filter.rs).
3. For each seed: builds the production DDL (tests/emulators/production_ddl.sql), seeds
   a random warehouse that hits the edges, and runs plan → report → MERGE for several
   ranges, comparing every struct with a port of tests/it/oracle.rs, every status and
   the whole report with a port of src/pipeline/diff.rs, the staleness rows with a
   port of the fingerprint, the table after each MERGE with a model of it; then the
   rerun writes 0. Conflicts, a stale plan, other parameters, duplicate keys, a
   duplicated plan row and (on a copy of the DDL without NOT NULL) NULL keys are tried.
Prints OK lines, FINDING lines and a summary; exits 1 on the first mismatch.
"""
import argparse
import bisect
import datetime as dt
import hashlib
import json
import os
import random
import re
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = ROOT / "queries" / "bigquery" / "pushdown"
DDL = ROOT / "tests" / "emulators" / "production_ddl.sql"
BQ = os.environ.get("COMPLETENESS_TEST_BQ_ENDPOINT", "")
PROJECT = os.environ.get("COMPLETENESS_TEST_BQ_PROJECT", "test-project")
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
D = dt.date
DAY = dt.timedelta(days=1)
FIELDS = ["games_found", "games_expected", "is_complete", "is_bootstrap", "contributing_game_dates"]
KNOWN_STARTS = {2021: D(2021, 10, 19), 2022: D(2022, 10, 18), 2023: D(2023, 10, 24),
                2024: D(2024, 10, 22), 2025: D(2025, 10, 21), 2026: D(2026, 10, 21)}
STATS = {"jobs": 0, "records_compared": 0, "reports_compared": 0, "merges": 0,
         "rows_written": 0, "games_dates_compared": 0}
EDGES = {}


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def ok(msg):
    print(f"OK {msg}", flush=True)


def finding(msg):
    print(f"FINDING {msg}", flush=True)


def edge(name, n=1):
    EDGES[name] = EDGES.get(name, 0) + n


# ---------------------------------------------------------------- REST client
class JobError(Exception):
    pass


def http(method, path, body=None):
    """(status, parsed JSON body); never raises on an HTTP status."""
    if not BQ.startswith("http://127.0.0.1:"):
        fail(f"COMPLETENESS_TEST_BQ_ENDPOINT must be a loopback emulator, not {BQ!r}")
    url = f"{BQ}/bigquery/v2/projects/{PROJECT}{path}"
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with NO_PROXY.open(req, timeout=600) as r:
            text = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        text, status = e.read(), e.code
    try:
        return status, json.loads(text) if text else {}
    except ValueError:
        return status, {"raw": text.decode(errors="replace")}


def must(method, path, body=None, want=(200,)):
    st, b = http(method, path, body)
    if st not in want:
        fail(f"{method} {path}: HTTP {st}: {json.dumps(b)[:800]}")
    return b


def param(name, value):
    """A named query parameter, typed from the Python value."""
    if isinstance(value, bool):
        t, v = "BOOL", "true" if value else "false"
    elif isinstance(value, int):
        t, v = "INT64", str(value)
    elif isinstance(value, dt.datetime):
        t, v = "TIMESTAMP", value.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    elif isinstance(value, dt.date):
        t, v = "DATE", value.isoformat()
    else:
        t, v = "STRING", str(value)
    return {"name": name, "parameterType": {"type": t}, "parameterValue": {"value": v}}


def run_job(sql, params=None, job_id=None, extra=None, dry_run=False):
    """jobs.insert with a client-chosen id, then jobs.get until DONE. Raises JobError
    with the message on failure (the emulator reports some as HTTP 200 + errors)."""
    job_id = job_id or f"pdprobe_{uuid.uuid4().hex[:16]}"
    cfg = {"query": {"query": sql, "useLegacySql": False, "parameterMode": "NAMED",
                     "queryParameters": [param(k, v) for k, v in (params or {}).items()],
                     **(extra or {})}}
    if dry_run:
        cfg["dryRun"] = True
    st, j = http("POST", "/jobs", {"jobReference": {"projectId": PROJECT, "jobId": job_id},
                                   "configuration": cfg})
    STATS["jobs"] += not dry_run
    if st != 200 or j.get("errors") or "error" in j:
        raise JobError(_message(j) or f"HTTP {st}")
    deadline = time.time() + 600
    while j.get("status", {}).get("state") != "DONE":
        if time.time() > deadline:
            fail(f"job {job_id} not DONE after 600 s")
        time.sleep(0.05)
        j = must("GET", f"/jobs/{job_id}?location=US")
    if j["status"].get("errorResult"):
        raise JobError(_message(j))
    return j


def _message(j):
    for e in [j.get("status", {}).get("errorResult")] + (j.get("errors") or []) + [j.get("error")]:
        if e and e.get("message"):
            return e["message"]
    return json.dumps(j)[:800]


def query_rows(job_id, page=500):
    """All rows of a query job through getQueryResults, page by page; the count must
    equal totalRows (a cut-off answer is never an answer)."""
    rows, token, schema, total = [], None, None, None
    while True:
        path = f"/queries/{job_id}?maxResults={page}" + (f"&pageToken={token}" if token else "")
        r = must("GET", path)
        schema = schema or r.get("schema")
        total = int(r.get("totalRows", 0))
        rows += r.get("rows", [])
        token = r.get("pageToken")
        if not token:
            break
    if len(rows) != total:
        fail(f"job {job_id}: read {len(rows)} rows, totalRows says {total}")
    return decode_rows(schema, rows)


def list_rows(dataset, table, page=700):
    """All rows of a table through tabledata.list (not a job), checked against totalRows."""
    t = must("GET", f"/datasets/{dataset}/tables/{table}")
    rows, token, total = [], None, None
    while True:
        path = f"/datasets/{dataset}/tables/{table}/data?maxResults={page}" + (
            f"&pageToken={token}" if token else "")
        r = must("GET", path)
        total = int(r.get("totalRows", 0))
        rows += r.get("rows", [])
        token = r.get("pageToken")
        if not token:
            break
    if len(rows) != total:
        fail(f"{dataset}.{table}: listed {len(rows)} rows, totalRows says {total}")
    return decode_rows(t["schema"], rows)


def decode_rows(schema, rows):
    fields = (schema or {}).get("fields", [])
    return [decode_record(fields, r) for r in rows]


def decode_record(fields, rec):
    return {f["name"]: decode_value(f, c["v"]) for f, c in zip(fields, rec["f"])}


def decode_value(field, v):
    if field.get("mode") == "REPEATED":
        return [decode_scalar(field, x["v"]) for x in (v or [])]
    return decode_scalar(field, v)


def decode_scalar(field, v):
    if v is None:
        return None
    t = field["type"]
    if t in ("RECORD", "STRUCT"):
        return decode_record(field["fields"], v)
    if t in ("INTEGER", "INT64"):
        return int(v)
    if t in ("BOOLEAN", "BOOL"):
        return v in (True, "true")
    if t == "DATE":
        return D.fromisoformat(v)
    if t == "TIMESTAMP":
        # The emulator answers integer microseconds; BigQuery float seconds.
        s = str(v)
        return int(s) if re.fullmatch(r"-?\d{13,}", s) else round(float(s) * 1_000_000)
    if t in ("FLOAT", "FLOAT64"):
        return float(v)
    return v


def insert_all(dataset, table, rows):
    # bqemulator 1.4.0: a tabledata.list leaves an unfinished DuckDB result behind and
    # the next insertAll fails with HTTP 500 until some query job runs; run one first.
    run_job("SELECT 1 AS flush")
    for i in range(0, len(rows), 500):
        r = must("POST", f"/datasets/{dataset}/tables/{table}/insertAll",
                 {"rows": [{"json": row} for row in rows[i:i + 500]]})
        if r.get("insertErrors"):
            fail(f"insertAll {dataset}.{table}: {r['insertErrors'][:3]}")


# ---------------------------------------------------------------- statements
def template(name):
    return (SQL_DIR / name).read_text()


def fill(text, values):
    """As statements.rs `fill`: leading `--` lines dropped, `{name}` replaced."""
    lines = text.split("\n")
    while lines and lines[0].startswith("--"):
        lines.pop(0)
    body = "\n".join(lines)
    for k, v in values.items():
        body = body.replace("{" + k + "}", v)
    if "{" in body or "}" in body:
        fail(f"unfilled placeholder left: {re.findall(r'[{][^}]*[}]', body)}")
    return body


def statement(name, values, params):
    sql = fill(template(name), values)
    if "--" in sql:
        fail(f"{name}: a comment is left in the text sent")
    used = set(re.findall(r"@(\w+)", sql))
    if used != set(params):
        fail(f"{name}: parameters used {sorted(used)} != given {sorted(params)}")
    return sql


def unbounded(sql, tables):
    """Port of tests/it/partition_filter.rs: references with no game_date bound in
    their own query level."""
    out = []
    for table in tables:
        start = 0
        while (at := sql.find(table, start)) >= 0:
            rest = sql[at + len(table):]
            depth, level = 0, []
            for c in rest:
                if c == "(":
                    depth += 1
                elif c == ")":
                    if depth == 0:
                        break
                    depth -= 1
                elif depth == 0:
                    level.append(c)
            words = [w.upper() for w in "".join(level).replace("\n", " ").replace("\t", " ").split(" ") if w]
            if not any(a.rsplit(".", 1)[-1] == "GAME_DATE" and b in ("BETWEEN", "=", "<", "<=", ">", ">=")
                       for a, b in zip(words, words[1:])):
                out.append(table)
            start = at + len(table)
    return out


def static_checks():
    names = {"features": "`p.d.ml_feature_store_v2`", "games": "`p.a.player_game_summary`",
             "schedule": "`p.r.nba_schedule`", "plan": "`p.s.completeness_plan_r1`",
             "expiration_hours": "24"}
    protected = [names["features"], names["games"], names["schedule"]]
    want = {"plan.sql": {"start", "end", "games_start", "schedule_first", "include_bootstrap"},
            "report.sql": set(),
            "merge.sql": {"start", "end", "games_start", "updated_at", "allow_stale"}}
    for name, params in want.items():
        sql = statement(name, names, params)
        reads = [t for t in protected if t in sql]
        missing = unbounded(sql, protected)
        if missing:
            fail(f"{name}: reads {missing} without a game_date bound")
        ok(f"static {name}: no comment sent, parameters {sorted(params) or 'none'}, "
           f"game_date bound on every read of {len(reads)} production object(s)")


# ---------------------------------------------------------------- semantics (ports)
def season_year(d):
    return d.year if d.month >= 10 else d.year - 1


def schedule_starts(schedule, first, last):
    """Port of checks/season_starts.sql (the local path's calendar)."""
    best = {}
    for r in schedule:
        if r["game_date"] is None or not (first <= r["game_date"] <= last):
            continue
        key = (r["game_status"] if r["game_status"] is not None else -1, r["game_date"])
        if r["game_id"] not in best or key > best[r["game_id"]][0]:
            best[r["game_id"]] = (key, r)
    starts = {}
    for _, r in best.values():
        if r["is_regular_season"] and r["game_status"] == 3 and r["season_year"] is not None:
            y = r["season_year"]
            starts[y] = min(starts.get(y, r["game_date"]), r["game_date"])
    return starts


def season_start(starts, season):
    return starts.get(season) or KNOWN_STARTS.get(season) or D(season, 10, 22)


def is_bootstrap_date(starts, d):
    return 0 <= (d - season_start(starts, season_year(d))).days < 14


class Games:
    """player_game_summary keys by player (NULL keys match nothing)."""

    def __init__(self, rows):
        self.by_player = {}
        for r in rows:
            if r["player_lookup"] is None or r["game_date"] is None:
                continue
            self.by_player.setdefault(r["player_lookup"], []).append(r["game_date"])
        for v in self.by_player.values():
            v.sort()

    def rows(self, p, lo, hi):
        """Dates of p's rows with lo <= date < hi, ascending."""
        v = self.by_player.get(p, [])
        return v[bisect.bisect_left(v, lo):bisect.bisect_left(v, hi)]


def oracle(games, p, d):
    """Port of tests/it/oracle.rs."""
    window = sorted(games.rows(p, d - 60 * DAY, d), reverse=True)[:10]
    c365 = len(games.rows(p, d - 365 * DAY, d))
    found = len(window)
    expected = 0 if not window else min(c365, 10)
    return {"games_found": found, "games_expected": expected, "is_complete": found >= expected,
            "is_bootstrap": expected < 10, "contributing_game_dates": window}


def normalized(s):
    """A stored struct as CompletenessColumn::get reads it: NULL fields as defaults."""
    if s is None:
        return None
    return {"games_found": s.get("games_found") or 0, "games_expected": s.get("games_expected") or 0,
            "is_complete": bool(s.get("is_complete")), "is_bootstrap": bool(s.get("is_bootstrap")),
            "contributing_game_dates": [x for x in (s.get("contributing_game_dates") or []) if x is not None]}


def label(s):
    return "complete" if s["is_complete"] else "bootstrap" if s["is_bootstrap"] else "incomplete"


def local_diff(features, games, schedule, run):
    """Port of src/pipeline/diff.rs over the records in range: per-key expectations and
    the report (records, fields_changed, after, by_date, histogram, examples)."""
    starts = schedule_starts(schedule, run["schedule_first"], run["end"])
    recs = sorted(((k, v) for k, v in features.items() if run["start"] <= k[1] <= run["end"]),
                  key=lambda kv: (kv[0][1], kv[0][0]))
    report = {"records": dict.fromkeys(["in_range", "computed", "skipped_bootstrap", "added", "changed",
                                        "unchanged"], 0),
              "fields_changed": dict.fromkeys(FIELDS, 0),
              "after": dict.fromkeys(["complete", "incomplete", "bootstrap"], 0),
              "games_found_histogram": [0] * 11, "by_date": {}, "examples": []}
    expect = {}
    for (p, d), row in recs:
        day = report["by_date"].setdefault(d, {"game_date": d, **dict.fromkeys(
            ["total", "added", "changed", "skipped", "complete", "incomplete", "bootstrap"], 0)})
        day["total"] += 1
        report["records"]["in_range"] += 1
        if not run["include_bootstrap"] and is_bootstrap_date(starts, d):
            day["skipped"] += 1
            report["records"]["skipped_bootstrap"] += 1
            expect[(p, d)] = {"status": "skipped", "after": None, "fields": []}
            continue
        after = oracle(games, p, d)
        lab = label(after)
        day[lab] += 1
        report["after"][lab] += 1
        report["games_found_histogram"][min(max(after["games_found"], 0), 10)] += 1
        before = normalized(row["hc"])
        fields = []
        if before is None:
            kind = "added"
        elif before == after:
            report["records"]["unchanged"] += 1
            expect[(p, d)] = {"status": "unchanged", "after": after, "fields": []}
            continue
        else:
            kind = "changed"
            fields = [f for f in FIELDS if before[f] != after[f]]
            for f in fields:
                report["fields_changed"][f] += 1
        report["records"][kind] += 1
        day[kind] += 1
        if len(report["examples"]) < 10 and (kind == "changed" or report["records"]["added"] <= 3):
            report["examples"].append({"player_lookup": p, "game_date": d, "kind": kind, "fields": fields,
                                       "before": before, "after": after})
        expect[(p, d)] = {"status": kind, "after": after, "fields": fields}
    report["records"]["computed"] = report["records"]["in_range"] - report["records"]["skipped_bootstrap"]
    report["by_date"] = [report["by_date"][d] for d in sorted(report["by_date"], reverse=True)]
    return expect, report, starts


def games_fingerprints(game_rows, lo, hi):
    """Port of the plan's 'games' rows: per date in [lo, hi], rows with a player."""
    by_date = {}
    for r in game_rows:
        if r["player_lookup"] is None or r["game_date"] is None or not (lo <= r["game_date"] <= hi):
            continue
        by_date.setdefault(r["game_date"], []).append(f"{r['player_lookup']}|{r['game_id'] or ''}")
    return {d: (len(keys), len({k.split('|')[0] for k in keys}),
                hashlib.sha256(",".join(sorted(keys)).encode()).hexdigest())
            for d, keys in by_date.items()}


# ---------------------------------------------------------------- warehouse
class Warehouse:
    def __init__(self, prefix, relaxed=False):
        self.prefix = prefix
        self.ds = {k: f"{prefix}_{k}" for k in ("predictions", "analytics", "raw", "reference", "staging")}
        self.names = {
            "features": f"`{PROJECT}.{self.ds['predictions']}.ml_feature_store_v2`",
            "games": f"`{PROJECT}.{self.ds['analytics']}.player_game_summary`",
            "schedule": f"`{PROJECT}.{self.ds['reference']}.nba_schedule`",
        }
        self.relaxed = relaxed
        self.games = []       # player_game_summary rows (dicts)
        self.schedule = []    # nbac_schedule rows
        self.features = {}    # (player, date) -> {"hc": struct|None, "updated_at": micros|None, "game_id"}
        self.runs = 0

    def create(self):
        for ds in self.ds.values():
            must("POST", "/datasets", {"datasetReference": {"projectId": PROJECT, "datasetId": ds}})
        text = "\n".join(l for l in DDL.read_text().split("\n") if not l.startswith("--"))
        text = (text.replace("{project}", PROJECT).replace("{predictions}", self.ds["predictions"])
                .replace("{analytics}", self.ds["analytics"]).replace("{raw}", self.ds["raw"])
                .replace("{reference}", self.ds["reference"]))
        if self.relaxed:
            # NULL keys upstream and in the feature table: the same DDL without those
            # NOT NULLs (the emulator enforces them, as BigQuery does).
            text = re.sub(r"(?m)^(  (?:player_lookup|game_date) \w+) NOT NULL", r"\1", text)
        for s in text.split("\n;\n"):
            run_job(s)

    def plan_table(self, run_id):
        return f"`{PROJECT}.{self.ds['staging']}.completeness_plan_{run_id}`"

    # -- seeding
    def seed(self):
        game_rows = [{k: (v.isoformat() if isinstance(v, D) else v) for k, v in r.items()} for r in self.games]
        insert_all(self.ds["analytics"], "player_game_summary", game_rows)
        insert_all(self.ds["raw"], "nbac_schedule",
                   [{k: (v.isoformat() if isinstance(v, D) else v) for k, v in r.items()} for r in self.schedule])
        rows = []
        for (p, d), f in self.features.items():
            rows.append(feature_json(p, d, f))
        insert_all(self.ds["predictions"], "ml_feature_store_v2", rows)

    def read_features(self):
        got = {}
        for r in list_rows(self.ds["predictions"], "ml_feature_store_v2"):
            key = (r["player_lookup"], r["game_date"])
            if key in got:
                fail(f"feature table holds {key} twice")
            got[key] = {"hc": r["historical_completeness"], "updated_at": r["updated_at"]}
        return got

    def assert_table_is_model(self, what):
        got = self.read_features()
        if set(got) != set(self.features):
            fail(f"{what}: keys differ: {sorted(set(got) ^ set(self.features))[:5]}")
        for k, f in self.features.items():
            want = {"hc": f["hc"], "updated_at": f["updated_at"]}
            if got[k] != want:
                fail(f"{what}: {k}: table has {got[k]}, model {want}")
        return len(got)


def feature_json(p, d, f):
    hc = f["hc"]
    return {"player_lookup": p, "game_date": d.isoformat() if d else None, "game_id": f["game_id"],
            "feature_count": 3, "feature_version": "v2_test", "data_source": "phase4",
            "features": [1.0, 2.5, 3.0], "feature_names": ["a", "b", "c"],
            "processor_run_id": f.get("tag", "seed"),
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": micros_iso(f["updated_at"]) if f["updated_at"] is not None else None,
            "historical_completeness": None if hc is None else {
                **{k: v for k, v in hc.items() if k != "contributing_game_dates"},
                "contributing_game_dates": [x.isoformat() for x in hc.get("contributing_game_dates") or []]}}


def micros_iso(us):
    return (dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=us)).isoformat()


def to_micros(ts):
    return int((ts - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) / dt.timedelta(microseconds=1))


# ---------------------------------------------------------------- generator
TEAMS = ["ATL", "BOS", "CHI", "DEN", "LAL", "MIA"]
# Season spans played by the generated teams (first day, last regular-season day, last
# playoff day). 2023's first day is the fallback table's (the schedule lacks 2023);
# 2024's is the schedule's (2024-10-24, not the fallback 2024-10-22); 2027 is in
# neither (October 22).
SEASONS = {2022: (D(2022, 10, 18), D(2023, 4, 9), D(2023, 6, 12)),
           2023: (D(2023, 10, 24), D(2024, 4, 14), D(2024, 6, 17)),
           2024: (D(2024, 10, 24), D(2025, 4, 13), D(2025, 6, 20)),
           2026: (D(2026, 10, 21), D(2027, 4, 11), D(2027, 6, 1)),
           2027: (D(2027, 10, 22), D(2027, 12, 20), D(2027, 12, 20))}
FEATURE_SPAN = [(D(2023, 7, 1), D(2025, 6, 30)), (D(2027, 7, 1), D(2027, 12, 31))]
RUNS = [  # (name, start, end, include_bootstrap)
    ("r1", D(2023, 10, 1), D(2024, 5, 31), False),
    ("r2", D(2024, 10, 1), D(2025, 3, 15), False),
    ("r3", D(2024, 10, 1), D(2025, 3, 15), True),
    ("r4", D(2027, 10, 1), D(2027, 11, 30), False),
]


def generate(w, rng):
    gid = iter(range(1, 10 ** 9))

    def game(p, d, team="ATL", suffix=""):
        w.games.append({"player_lookup": p, "game_id": f"{d or D(2000, 1, 1):%Y%m%d}_{team}_{next(gid):06d}{suffix}",
                        "game_date": d, "team_abbr": team, "opponent_team_abbr": "OPP",
                        "season_year": season_year(d) if d else 2024, "points": rng.randint(0, 40),
                        "starter_flag": True, "win_flag": rng.random() < .5, "is_active": True,
                        "is_dnp": False, "player_status": "active", "primary_source_used": "nbac_gamebook"})

    # Teams' game days, players on teams with absences and now and then two rows a day.
    team_days = {}
    for t in TEAMS:
        days = []
        for first, last_regular, last_playoff in SEASONS.values():
            d = first + rng.randint(0, 1) * DAY
            last = last_playoff if rng.random() < .5 else last_regular
            while d <= last:
                days.append(d)
                d += rng.choice([1, 2, 2, 2, 3, 4]) * DAY
        team_days[t] = days
    players = [f"player{i:02d}" for i in range(rng.randint(14, 18))]
    for i, p in enumerate(players):
        team = TEAMS[i % len(TEAMS)]
        absences = []
        for _ in range(rng.randint(0, 3)):
            a = rng.choice(team_days[team])
            absences.append((a, a + rng.randint(5, 95) * DAY))
        joined = D(2022, 10, 1) if i % 5 else rng.choice(team_days[team][150:400])  # some arrive later
        for d in team_days[team]:
            if d < joined or any(a <= d <= b for a, b in absences) or rng.random() < .06:
                continue
            game(p, d, team)
            if rng.random() < .015:
                game(p, d, team, "_B")  # a second game id on the same date
    # Targeted edge players: rows exactly at D-60/D-61 and D-365/D-366, leap days, a
    # first game, c60 = 0 with c365 > 0, exactly 10 and 11 games, duplicates.
    edges = {}
    D0 = rng.choice([D(2024, 4, 29), D(2024, 3, 1), D(2025, 2, 28), D(2024, 2, 29), D(2025, 1, 15),
                     D(2024, 12, 30), D(2027, 11, 9)])
    for k, Dk in enumerate([D(2024, 4, 29), D(2024, 3, 1), D(2025, 2, 28), D(2024, 2, 29),
                            D(2025, 1, 15), D(2027, 11, 9), D0]):
        p = f"edge{k}"
        for off in (1, 60, 61, 365, 366):
            game(p, Dk - off * DAY)
        for _ in range(rng.randint(0, 12)):   # more inside the windows
            game(p, Dk - rng.randint(2, 59) * DAY)
        for _ in range(rng.randint(0, 6)):
            game(p, Dk - rng.randint(62, 364) * DAY)
        game(p, Dk)                            # the game on D itself is outside the window
        edges[p] = [Dk - DAY, Dk, Dk + DAY]
    # c60 = 0, c365 > 0: back from a long absence.
    for k, Dk in enumerate([D(2024, 3, 20), D(2025, 1, 10), D(2027, 11, 1)]):
        p = f"returning{k}"
        for off in (61, 62, 90, 200, 365):
            game(p, Dk - off * DAY)
        game(p, Dk)
        edges[p] = [Dk, Dk + 2 * DAY]
    # A player's first game, then his second.
    for k, Dk in enumerate([D(2024, 1, 5), D(2024, 12, 2), D(2027, 10, 25)]):
        p = f"rookie{k}"
        game(p, Dk)
        game(p, Dk + 2 * DAY)
        game(p, Dk + 2 * DAY, suffix="_B")
        edges[p] = [Dk, Dk + 2 * DAY, Dk + 5 * DAY]
    # Exactly 10, 11, 9 rows in the window; 9 of 9 (COMPLETE bootstrap); 3 of 15.
    for k, (n60, n365) in enumerate([(10, 12), (11, 11), (9, 9), (9, 30), (3, 15), (3, 5)]):
        Dk = D(2025, 1, 20) + k * DAY
        p = f"count{k}"
        for j in range(n60):
            game(p, Dk - (1 + (j * 59) // max(n60 - 1, 1)) * DAY)
        for j in range(n365 - n60):
            game(p, Dk - (61 + (j * 300) // max(n365 - n60, 1)) * DAY)
        edges[p] = [Dk]
    # Feature records on both sides of each season's bootstrap days, by each way of
    # finding the first day: fallback table (2023), schedule (2024: 10-24, where the
    # fallback says 10-22 and counting every row of a game id would say 10-23), neither
    # (2027: October 22).
    for k, first in enumerate([D(2023, 10, 24), D(2024, 10, 24), D(2027, 10, 22)]):
        p = f"calendar{k}"
        for off in range(-60, 0, 3):
            game(p, first + off * DAY)
        edges[p] = [first + off * DAY for off in (-3, -2, -1, 0, 1, 12, 13, 14, 15, 16)]
    # NULL upstream keys (only where the DDL allows them).
    if w.relaxed:
        for d in rng.sample(team_days["ATL"], 8):
            game(None, d)
        for p in rng.sample(players, 4):
            game(p, None)

    # Schedule (season starts): 2022 and 2024, with rows that must not count.
    sched = [("s22_first", D(2022, 10, 20), 2022, 3, True),
             ("s22_pre", D(2022, 10, 5), 2022, 3, False),
             ("s24_pre", D(2024, 10, 12), 2024, 3, False),       # preseason, final
             ("s24_sched", D(2024, 10, 20), 2024, 1, True),      # regular, not final
             ("s24_moved", D(2024, 10, 23), 2024, 3, True),      # same game id, moved to 10-25:
             ("s24_moved", D(2024, 10, 25), 2024, 3, True),      # one row per game id counts
             ("s24_first", D(2024, 10, 24), 2024, 3, True)]
    for d in team_days["BOS"]:
        if D(2022, 10, 21) <= d <= D(2023, 4, 9) or D(2024, 10, 26) <= d <= D(2025, 4, 13):
            sched.append((f"s_{d:%Y%m%d}", d, season_year(d), 3, True))
    for game_id, d, sy, status, regular in sched:
        w.schedule.append({"game_id": game_id, "game_date": d, "season_year": sy, "game_status": status,
                           "home_team_tricode": "BOS", "away_team_tricode": "ATL",
                           "home_team_name": "Boston", "away_team_name": "Atlanta",
                           "is_regular_season": regular, "is_playoffs": False, "is_all_star": False})

    # Feature records: most game days of the players, the edge dates, a few days
    # without a game; stored structs NULL, correct, wrong, or with NULL fields.
    games = Games(w.games)
    keys = set()
    for r in w.games:
        if r["player_lookup"] and r["game_date"] and any(a <= r["game_date"] <= b for a, b in FEATURE_SPAN):
            if r["player_lookup"].startswith("player") and rng.random() < .1:
                continue
            keys.add((r["player_lookup"], r["game_date"]))
    for p, ds in edges.items():
        keys.update((p, d) for d in ds)
    for p in players[:4]:
        for _ in range(5):
            lo, hi = rng.choice(FEATURE_SPAN)
            keys.add((p, lo + rng.randint(0, (hi - lo).days) * DAY))
    for p, d in sorted(keys, key=lambda k: (k[1], k[0])):
        truth = oracle(games, p, d)
        roll = rng.random()
        if roll < .55:
            hc = None
        elif roll < .75:
            hc = truth
        elif roll < .93:
            hc = perturb(truth, rng)
        else:
            hc = dict(truth, games_found=None) if truth["games_found"] == 0 or rng.random() < .5 else \
                dict(truth, is_bootstrap=None)
        upd = None if rng.random() < .5 else to_micros(dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)) + \
            rng.randint(0, 10 ** 13)
        w.features[(p, d)] = {"hc": hc, "updated_at": upd, "game_id": f"{d:%Y%m%d}_F"}


def perturb(s, rng):
    s = dict(s, contributing_game_dates=list(s["contributing_game_dates"]))
    f = rng.choice(FIELDS + ["order"])
    if f in ("games_found", "games_expected"):
        s[f] += rng.choice([-1, 1])
    elif f in ("is_complete", "is_bootstrap"):
        s[f] = not s[f]
    elif f == "contributing_game_dates" or len(set(s["contributing_game_dates"])) < 2:
        s["contributing_game_dates"] = s["contributing_game_dates"][1:] or [D(2020, 1, 1)]
    else:
        s["contributing_game_dates"].reverse()  # same dates, other order: changed
    return s


def note_edges(w, run, expect):
    games = Games(w.games)
    fallback_only = {}
    every_row = {}  # first days if every schedule row counted, not one per game id
    for r in w.schedule:
        if r["is_regular_season"] and r["game_status"] == 3 and run["schedule_first"] <= r["game_date"] <= run["end"]:
            y = r["season_year"]
            every_row[y] = min(every_row.get(y, r["game_date"]), r["game_date"])
    for (p, d), e in expect.items():
        sy = season_year(d)
        boot = is_bootstrap_date(run["starts"], d)
        if sy in run["starts"]:
            edge("season start from the schedule")
        elif sy in KNOWN_STARTS:
            edge("season start from the fallback table")
        else:
            edge("season start October 22 (in neither)")
        if boot != is_bootstrap_date(fallback_only, d):
            edge("bootstrap decided by the schedule (the fallback would differ)")
        if boot != is_bootstrap_date(every_row, d):
            edge("bootstrap decided by one row per game id")
        hc = w.features[(p, d)]["hc"]
        if hc is not None and any(hc[f] is None for f in FIELDS):
            edge(f"stored struct with a NULL field, {e['status']} (read as 0/false, as locally)")
        v = games.by_player.get(p, [])
        has = set(v)
        for off, name in ((60, "row at exactly D-60"), (61, "row at exactly D-61"),
                          (365, "row at exactly D-365"), (366, "row at exactly D-366")):
            if d - off * DAY in has:
                edge(name)
        if any(x.month == 2 and x.day == 29 for x in games.rows(p, d - 365 * DAY, d)):
            edge("Feb 29 inside a window")
        if D(2024, 2, 29) in (d - 60 * DAY, d - 365 * DAY, d - DAY):
            edge("Feb 29 exactly at a window edge")
        if e["status"] == "skipped":
            edge("bootstrap date skipped")
            continue
        a = e["after"]
        c60 = len(games.rows(p, d - 60 * DAY, d))
        c365 = len(games.rows(p, d - 365 * DAY, d))
        if c60 > 10:
            edge("more than 10 games in 60 days")
        if len(a["contributing_game_dates"]) != len(set(a["contributing_game_dates"])):
            edge("two rows on one date (date listed twice)")
        if c60 == 0 and c365 > 0:
            edge("c60 = 0 with c365 > 0 (0/0)")
        if d in has and not games.rows(p, D(1900, 1, 1), d):
            edge("a player's first game (no earlier row)")
        if run["include_bootstrap"] and is_bootstrap_date(run["starts"], d):
            edge("bootstrap date computed (include_bootstrap)")
        edge(f"status {e['status']}")
        edge(f"label {label(a)}")


# ---------------------------------------------------------------- one run
def run_plan(w, run, run_id, expect_error=None):
    sql = statement("plan.sql", {**w.names, "plan": w.plan_table(run_id), "expiration_hours": "24"},
                    ["start", "end", "games_start", "schedule_first", "include_bootstrap"])
    params = {"start": run["start"], "end": run["end"], "games_start": run["start"] - 365 * DAY,
              "schedule_first": D(season_year(run["start"]), 7, 1),
              "include_bootstrap": run["include_bootstrap"]}
    try:
        job = run_job(sql, params, job_id=f"completeness_{run_id}_plan")
    except JobError as e:
        if expect_error and re.search(expect_error, str(e)):
            return None, str(e)
        fail(f"plan {run_id}: {e}")
    if expect_error:
        fail(f"plan {run_id} succeeded; expected an error matching {expect_error!r}")
    return job, None


def read_plan(w, run_id):
    rows = list_rows(w.ds["staging"], f"completeness_plan_{run_id}")
    kinds = {}
    for r in rows:
        kinds.setdefault(r["row_kind"], []).append(r)
    return kinds


def check_plan(w, run, run_id, expect):
    kinds = read_plan(w, run_id)
    records = {(r["player_lookup"], r["game_date"]): r for r in kinds.get("record", [])}
    if len(records) != len(kinds.get("record", [])) or set(records) != set(expect):
        fail(f"plan {run_id}: record keys differ from the features in range: "
             f"{sorted(set(records) ^ set(expect))[:5]}")
    for k, e in expect.items():
        r = records[k]
        if r["status"] != e["status"]:
            fail(f"plan {run_id} {k}: status {r['status']}, local diff says {e['status']} "
                 f"(before {w.features[k]['hc']}, after {r['after']} vs {e['after']})")
        if r["after"] != e["after"]:
            fail(f"plan {run_id} {k}: after {r['after']} != oracle {e['after']}")
        if r["fields_changed"] != e["fields"]:
            fail(f"plan {run_id} {k}: fields_changed {r['fields_changed']} != {e['fields']}")
        if r["before"] != w.features[k]["hc"] or r["updated_at"] != w.features[k]["updated_at"]:
            fail(f"plan {run_id} {k}: before/updated_at {r['before']}, {r['updated_at']} != stored "
                 f"{w.features[k]}")
        STATS["records_compared"] += 1
    lo = run["start"] - 365 * DAY
    want = games_fingerprints(w.games, lo, run["end"])
    got = {r["game_date"]: (r["game_rows"], r["game_players"], r["games_fingerprint"])
           for r in kinds.get("games", [])}
    if got != want:
        bad = sorted(d for d in set(got) | set(want) if got.get(d) != want.get(d))
        fail(f"plan {run_id}: games rows differ on {bad[:3]}: {[(got.get(d), want.get(d)) for d in bad[:2]]}")
    STATS["games_dates_compared"] += len(got)
    runs = kinds.get("run", [])
    want_run = {"start_date": run["start"], "end_date": run["end"], "games_start": lo,
                "schedule_first": D(season_year(run["start"]), 7, 1),
                "include_bootstrap": run["include_bootstrap"]}
    if [r["run"] for r in runs] != [want_run]:
        fail(f"plan {run_id}: run rows {runs}")
    return kinds


def check_report(w, run_id, want):
    sql = statement("report.sql", {"plan": w.plan_table(run_id)}, [])
    job = run_job(sql, job_id=f"completeness_{run_id}_report")
    rows = query_rows(job["jobReference"]["jobId"])
    if len(rows) != 1:
        fail(f"report {run_id}: {len(rows)} rows")
    got = rows[0]
    for key in ("records", "fields_changed", "after", "games_found_histogram", "by_date", "examples"):
        if got[key] != want[key]:
            fail(f"report {run_id}: {key}:\n  pushdown {got[key]}\n  local    {want[key]}")
    STATS["reports_compared"] += 1
    return got


def run_merge(w, run, run_id, when, allow_stale=False, job_suffix="merge", expect_error=None, **override):
    sql = statement("merge.sql", {"features": w.names["features"], "games": w.names["games"],
                                  "plan": w.plan_table(run_id)},
                    ["start", "end", "games_start", "updated_at", "allow_stale"])
    params = {"start": run["start"], "end": run["end"], "games_start": run["start"] - 365 * DAY,
              "updated_at": when, "allow_stale": allow_stale, **override}
    try:
        job = run_job(sql, params, job_id=f"completeness_{run_id}_{job_suffix}")
    except JobError as e:
        if expect_error and re.search(expect_error, str(e)):
            return None, str(e)
        fail(f"merge {run_id}: {e}")
    if expect_error:
        fail(f"merge {run_id} succeeded; expected an error matching {expect_error!r}")
    STATS["merges"] += 1
    n = int(job["statistics"]["query"].get("numDmlAffectedRows", -1))
    STATS["rows_written"] += max(n, 0)
    return n, job


def apply_to_model(w, run, kinds, when_us):
    """What the MERGE must have done: planned changes whose updated_at still matches."""
    n = 0
    for r in kinds.get("record", []):
        k = (r["player_lookup"], r["game_date"])
        if r["status"] in ("added", "changed") and w.features[k]["updated_at"] == r["updated_at"]:
            w.features[k]["hc"] = r["after"]
            w.features[k]["updated_at"] = when_us
            n += 1
    return n


def prepare(w, name, start, end, include_bootstrap):
    run = {"name": name, "start": start, "end": end, "include_bootstrap": include_bootstrap,
           "schedule_first": D(season_year(start), 7, 1)}
    expect, report, starts = local_diff(w.features, Games(w.games), w.schedule, run)
    run["starts"] = starts
    return run, expect, report


def full_run(w, name, start, end, include_bootstrap, clock, hooks=None):
    """plan → check → report → (hooks) → MERGE → table = model → the same plan applied
    again writes 0 → rerun: a new plan, its MERGE writes only what conflicts left
    (0 without them) → table = model. Returns the run id."""
    w.runs += 1
    run_id = f"{w.prefix}_{name}_{w.runs}"
    run, expect, report = prepare(w, name, start, end, include_bootstrap)
    note_edges(w, run, expect)
    run_plan(w, run, run_id)
    kinds = check_plan(w, run, run_id, expect)
    check_report(w, run_id, report)
    written = hooks(w, run, run_id, kinds) if hooks else 0
    when = clock()
    n, _ = run_merge(w, run, run_id, when)
    want = apply_to_model(w, run, kinds, to_micros(when))
    if n != want:
        fail(f"merge {run_id}: wrote {n} rows, expected {want}")
    written += n
    w.assert_table_is_model(f"after merge {run_id}")
    planned = report["records"]["added"] + report["records"]["changed"]
    # The same plan applied again (merge --run twice): every row moved on, 0 written.
    again, _ = run_merge(w, run, run_id, clock(), job_suffix="merge_again")
    if again != 0:
        fail(f"merge {run_id} applied twice wrote {again} rows")
    # Rerun: a new plan finds only the conflicted rows to write (none without them).
    rerun = []
    for attempt in (1, 2):
        rerun_id = f"{run_id}_rerun{attempt}"
        run2, expect2, report2 = prepare(w, name, start, end, include_bootstrap)
        run_plan(w, run2, rerun_id)
        kinds2 = check_plan(w, run2, rerun_id, expect2)
        check_report(w, rerun_id, report2)
        to_write = report2["records"]["added"] + report2["records"]["changed"]
        if attempt == 1 and to_write != planned - written:
            fail(f"rerun of {run_id}: {to_write} to write after {written} of {planned} written")
        when = clock()
        n2, _ = run_merge(w, run2, rerun_id, when)
        if n2 != apply_to_model(w, run2, kinds2, to_micros(when)) or n2 != to_write:
            fail(f"rerun merge {rerun_id}: wrote {n2}, expected {to_write}")
        w.assert_table_is_model(f"after merge {rerun_id}")
        rerun.append(f"{to_write} to write, wrote {n2}")
        if to_write == 0:
            break
    else:
        fail(f"{run_id}: the second rerun still had rows to write")
    ok(f"{run_id}: {report['records']['in_range']} records, {report['records']['skipped_bootstrap']} skipped, "
       f"{report['records']['added']} added, {report['records']['changed']} changed, "
       f"{report['records']['unchanged']} unchanged; plan = oracle, report = local diff; merge wrote {written}; "
       f"same plan again wrote 0; rerun: {'; then '.join(rerun)}")
    return run, rerun_id


# ---------------------------------------------------------------- emulator probes
def probe_emulator(prefix):
    ds = f"{prefix}_probe"
    must("POST", "/datasets", {"datasetReference": {"projectId": PROJECT, "datasetId": ds}})
    sel = "SELECT x, DATE_ADD(DATE '2024-02-27', INTERVAL x DAY) AS d FROM UNNEST(GENERATE_ARRAY(1, 25)) AS x"
    j = run_job(sel, job_id=f"{prefix}_dest", extra={
        "destinationTable": {"projectId": PROJECT, "datasetId": ds, "tableId": "dest"},
        "writeDisposition": "WRITE_TRUNCATE", "createDisposition": "CREATE_IF_NEEDED"})
    st, _ = http("GET", f"/datasets/{ds}/tables/dest")
    finding(f"query job with destinationTable + WRITE_TRUNCATE: job {j['status']['state']}, "
            f"destination table {'written' if st == 200 else 'NOT written (tables.get ' + str(st) + ')'}"
            f"{'' if st == 200 else ': the emulator ignores destinationTable; use CREATE TABLE … AS'}")
    run_job(f"CREATE OR REPLACE TABLE `{PROJECT}.{ds}.ctas` OPTIONS(expiration_timestamp = "
            f"TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 24 HOUR)) AS {sel}", job_id=f"{prefix}_ctas")
    t = must("GET", f"/datasets/{ds}/tables/ctas")
    finding(f"CREATE OR REPLACE TABLE … OPTIONS(expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), "
            f"INTERVAL 24 HOUR)) AS SELECT: table created with {t.get('numRows')} rows; expirationTime "
            f"{t.get('expirationTime') or 'not reported (option accepted, not recorded)'}")
    exp = str(int(time.time() * 1000) + 86_400_000)
    p = must("PATCH", f"/datasets/{ds}/tables/ctas", {"expirationTime": exp})
    t = must("GET", f"/datasets/{ds}/tables/ctas")
    finding(f"tables.patch expirationTime: HTTP 200, answer {'has' if p.get('expirationTime') else 'lacks'} "
            f"it, tables.get then {'has ' + str(t.get('expirationTime')) if t.get('expirationTime') else 'lacks it (ignored)'}")
    r1 = must("GET", f"/datasets/{ds}/tables/ctas/data?maxResults=10")
    r2 = must("GET", f"/datasets/{ds}/tables/ctas/data?maxResults=10&pageToken={r1.get('pageToken')}")
    r3 = must("GET", f"/datasets/{ds}/tables/ctas/data?maxResults=10&pageToken={r2.get('pageToken')}")
    n = sum(len(r.get("rows", [])) for r in (r1, r2, r3))
    finding(f"tabledata.list: totalRows={r1.get('totalRows')}, pages of 10 with pageToken "
            f"{r1.get('pageToken')!r}, {r2.get('pageToken')!r}, {r3.get('pageToken')!r} -> {n} rows")
    if n != 25 or r1.get("totalRows") != "25" or r3.get("pageToken"):
        fail("tabledata.list paging")
    st, _ = http("POST", f"/datasets/{ds}/tables/ctas/insertAll", {"rows": [{"json": {"x": 26, "d": "2024-03-24"}}]})
    st2, _ = http("GET", f"/datasets/{ds}/tables/ctas")
    st3, _ = http("POST", f"/datasets/{ds}/tables/ctas/insertAll", {"rows": [{"json": {"x": 26, "d": "2024-03-24"}}]})
    run_job("SELECT 1 AS flush")
    st4, _ = http("POST", f"/datasets/{ds}/tables/ctas/insertAll", {"rows": [{"json": {"x": 27, "d": "2024-03-25"}}]})
    finding(f"insertAll right after tabledata.list: HTTP {st} (DuckDB 'unfinished result'), still {st3} after a "
            f"tables.get ({st2}); after any query job: HTTP {st4}. Emulator bug; not met by the tool (no insertAll)")
    job_id = f"{prefix}_chosen_id"
    j = run_job("SELECT 1 AS one", job_id=job_id)
    same = j["jobReference"]["jobId"] == job_id
    got = must("GET", f"/jobs/{job_id}?location=US")
    st, dup = http("POST", "/jobs", {"jobReference": {"projectId": PROJECT, "jobId": job_id},
                                     "configuration": {"query": {"query": "SELECT 2 AS two",
                                                                 "useLegacySql": False}}})
    again = must("GET", f"/jobs/{job_id}?location=US")["configuration"]["query"]["query"]
    finding(f"client-chosen job id: kept={same}, jobs.get by id {got['status']['state']}; inserting the same "
            f"id again: HTTP {st} {(dup.get('error') or {}).get('status') or (dup.get('status') or {}).get('state')}"
            f"{', the job is replaced and run again (' + again + ')' if again != 'SELECT 1 AS one' else ''}"
            f" (BigQuery: 409 Already Exists): resume must jobs.get by id before any insert")
    stats = j.get("statistics", {})
    q = stats.get("query", {})
    finding("job statistics: " + ", ".join(
        f"{k}={'present (' + str(v) + ')' if v is not None else 'absent'}" for k, v in (
            ("statistics.query.totalBytesProcessed", q.get("totalBytesProcessed")),
            ("statistics.query.totalBytesBilled", q.get("totalBytesBilled")),
            ("statistics.query.totalSlotMs", q.get("totalSlotMs")),
            ("statistics.totalSlotMs", stats.get("totalSlotMs")),
            ("statistics.totalBytesProcessed", stats.get("totalBytesProcessed")))))
    st, _ = http("DELETE", f"/datasets/{ds}/tables/ctas")
    finding(f"tables.delete of the staged table: HTTP {st}")


def probe_merge_stats(job):
    q = job["statistics"]["query"]
    finding(f"MERGE statistics: numDmlAffectedRows={q.get('numDmlAffectedRows')}, dmlStats={q.get('dmlStats')}, "
            f"statementType={q.get('statementType')}")


def dry_runs(w, run_id):
    """Dry-run validation of the three statements (what doctor and the pre-flight do)."""
    run = {"start": RUNS[0][1], "end": RUNS[0][2]}
    out = []
    for name, values, params in (
            ("plan.sql", {**w.names, "plan": w.plan_table(run_id + "_dry"), "expiration_hours": "24"},
             {"start": run["start"], "end": run["end"], "games_start": run["start"] - 365 * DAY,
              "schedule_first": D(2023, 7, 1), "include_bootstrap": False}),
            ("report.sql", {"plan": w.plan_table(run_id)}, {}),
            ("merge.sql", {"features": w.names["features"], "games": w.names["games"],
                           "plan": w.plan_table(run_id)},
             {"start": run["start"], "end": run["end"], "games_start": run["start"] - 365 * DAY,
              "updated_at": dt.datetime.now(dt.timezone.utc), "allow_stale": False})):
        j = run_job(statement(name, values, list(params)), params, dry_run=True)
        out.append(f"{name} {j['statistics']['query'].get('statementType')}")
    st, _ = http("GET", f"/datasets/{w.ds['staging']}/tables/completeness_plan_{run_id}_dry")
    try:
        run_job(statement("report.sql", {"plan": w.plan_table(run_id + "_dry")}, []), {}, dry_run=True)
        missing = "accepted"
    except JobError as e:
        missing = f"refused ({str(e)[:90]})"
    finding(f"dry runs validate: {', '.join(out)}; a dry-run plan creates no table (tables.get {st}); a dry run "
            f"of report.sql on a plan table that does not exist yet is {missing}: the pre-flight can validate "
            f"plan.sql only, report.sql and merge.sql once the plan exists (dry runs are not jobs that count)")


# ---------------------------------------------------------------- scenarios
def scenario(seed, prefix, extras):
    rng = random.Random(seed)
    w = Warehouse(f"{prefix}s{seed}")
    w.create()
    generate(w, rng)
    w.seed()
    n = w.assert_table_is_model("seeded")
    ok(f"seed {seed}: production DDL, {len(w.games)} game rows, {n} feature records, "
       f"{len(w.schedule)} schedule rows")
    t0 = dt.datetime(2026, 12, 7, 12, 0, 0, 123456, tzinfo=dt.timezone.utc) + dt.timedelta(days=seed)
    tick = iter(range(1, 10 ** 6))

    def clock():
        return t0 + dt.timedelta(seconds=next(tick))

    hooks = {}
    if extras:
        hooks["r1"] = stale_and_conflict_probes(clock)
        hooks["r2"] = merge_guards(clock)
    for name, start, end, boot in RUNS:
        last = full_run(w, name, start, end, boot, clock, hooks.get(name))
    # Untouched: records outside every run's range kept their seeded struct/updated_at.
    outside = [k for k in w.features if not any(s <= k[1] <= e for _, s, e, _ in RUNS)]
    w.assert_table_is_model("at the end")
    ok(f"seed {seed}: table equals the model at the end; {len(outside)} records outside every range untouched")
    if extras:
        stale_plan_without_changes(w, *last, clock)
        duplicate_keys(w, clock)
        dry_runs(w, f"{w.prefix}_r1_1")
    return w


def stale_and_conflict_probes(clock):
    def hook(w, run, run_id, kinds):
        planned = [r for r in kinds["record"] if r["status"] in ("added", "changed")]
        if len(planned) < 4:
            fail(f"{run_id}: too few planned changes to probe with")
        before = w.read_features()
        # 1. A game row added on a date of the games range: stale, nothing written.
        p, d = planned[0]["player_lookup"], planned[0]["game_date"] - 3 * DAY
        probe = {**w.games[0], "player_lookup": p, "game_date": d, "game_id": "stale_probe"}
        insert_all(w.ds["analytics"], "player_game_summary", [{k: (v.isoformat() if isinstance(v, D) else v)
                                                                for k, v in probe.items()}])
        _, msg = run_merge(w, run, run_id, clock(), expect_error=rf"changed since the plan: {d}: ",
                           job_suffix="merge_stale")
        if w.read_features() != before:
            fail("a stale MERGE wrote rows")
        ok(f"stale plan refused by the MERGE itself: {msg.split('Error: ')[-1]}")
        edge("stale plan refused (row added)")
        # 2. ... unless allow_stale (not applied here: dropped again below).
        # 3. A row moved to another player on the same date: same counts, new fingerprint.
        run_job(f"DELETE FROM {w.names['games']} WHERE game_date = @d AND game_id = 'stale_probe'", {"d": d})
        victim = next(r for r in w.games if r["player_lookup"] and r["game_date"]
                      and run["start"] - 300 * DAY <= r["game_date"] <= run["end"])
        run_job(f"UPDATE {w.names['games']} SET player_lookup = 'someone_else' "
                f"WHERE game_date = @d AND game_id = @g", {"d": victim["game_date"], "g": victim["game_id"]})
        _, msg = run_merge(w, run, run_id, clock(), expect_error=rf"changed since the plan: {victim['game_date']}: "
                           rf"(\d+) rows \((\d+) players\) at plan, \1 \(\2\) now, other player_lookup or game_id values",
                           job_suffix="merge_stale_2")
        ok(f"same rows and players but another player: refused by the fingerprint: {msg.split('Error: ')[-1]}")
        edge("stale plan refused (same counts, other player)")
        run_job(f"UPDATE {w.names['games']} SET player_lookup = @p WHERE game_date = @d AND game_id = @g",
                {"p": victim["player_lookup"], "d": victim["game_date"], "g": victim["game_id"]})
        # 4. Parameters other than the plan's.
        _, msg = run_merge(w, run, run_id, clock(), expect_error="differ from those of the plan",
                           job_suffix="merge_params", games_start=run["start"] - 366 * DAY)
        ok("a MERGE with parameters other than the plan's is refused")
        if w.read_features() != before:
            fail("a refused MERGE wrote rows")
        # 5. Conflicts: two planned rows rewritten since the plan (one with a NULL
        #    updated_at before) are left alone by the MERGE.
        null_one = next((r for r in planned if r["updated_at"] is None), planned[1])
        set_one = next((r for r in planned if r["updated_at"] is not None), planned[2])
        moved = to_micros(dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc))
        for r in (null_one, set_one):
            run_job(f"UPDATE {w.names['features']} SET updated_at = @t WHERE game_date = @d AND player_lookup = @p",
                    {"t": dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc), "d": r["game_date"],
                     "p": r["player_lookup"]})
            w.features[(r["player_lookup"], r["game_date"])]["updated_at"] = moved
        edge("conflict: row rewritten since the plan left alone", 2)
        return 0
    return hook


def merge_guards(clock):
    def hook(w, run, run_id, kinds):
        # A plan table with one record twice: the MERGE refuses it (BigQuery would too;
        # the emulator would not, so the statement checks itself).
        dup_id = f"{run_id}_dup"
        row = next(r for r in kinds["record"] if r["status"] in ("added", "changed"))
        run_job(f"CREATE TABLE {w.plan_table(dup_id)} AS SELECT * FROM {w.plan_table(run_id)} UNION ALL "
                f"SELECT * FROM {w.plan_table(run_id)} WHERE row_kind = 'record' AND player_lookup = @p "
                f"AND game_date = @d", {"p": row["player_lookup"], "d": row["game_date"]})
        _, msg = run_merge(w, run, dup_id, clock(), expect_error=rf"the plan holds 2 rows for player_lookup "
                           rf"{row['player_lookup']} on {row['game_date']}")
        ok(f"a plan with a key twice is refused by the MERGE: {msg.split('Error: ')[-1]}")
        edge("duplicate source key refused by the MERGE")
        must("DELETE", f"/datasets/{w.ds['staging']}/tables/completeness_plan_{dup_id}", want=(200, 204))
        # allow_stale: a stale plan is applied when asked to (then the row is dropped).
        p, d = row["player_lookup"], run["start"] - 100 * DAY
        probe = {**w.games[0], "player_lookup": p, "game_date": d, "game_id": "stale_probe_2"}
        insert_all(w.ds["analytics"], "player_game_summary", [{k: (v.isoformat() if isinstance(v, D) else v)
                                                                for k, v in probe.items()}])
        run_merge(w, run, run_id, clock(), expect_error=rf"changed since the plan: {d}", job_suffix="merge_stale")
        when = clock()
        n, job = run_merge(w, run, run_id, when, allow_stale=True, job_suffix="merge_allow_stale")
        probe_merge_stats(job)
        want = apply_to_model(w, run, kinds, to_micros(when))
        if n != want:
            fail(f"allow_stale merge wrote {n}, expected {want}")
        run_job(f"DELETE FROM {w.names['games']} WHERE game_date = @d AND game_id = 'stale_probe_2'", {"d": d})
        w.assert_table_is_model("after a MERGE with allow_stale")
        ok(f"allow_stale applies a stale plan ({n} rows)")
        edge("allow_stale applied")
        return n
    return hook


def stale_plan_without_changes(w, run, run_id, clock):
    """A stale plan with nothing to write is refused too: every record of the plan is a
    source row of the MERGE, so the check is evaluated on the rows that match."""
    d = run["end"] - 5 * DAY
    probe = {**w.games[0], "player_lookup": "stale_probe", "game_date": d, "game_id": "stale_probe_3"}
    insert_all(w.ds["analytics"], "player_game_summary", [{k: (v.isoformat() if isinstance(v, D) else v)
                                                            for k, v in probe.items()}])
    _, msg = run_merge(w, run, run_id, clock(), expect_error=rf"changed since the plan: {d}: ",
                       job_suffix="merge_stale_nothing")
    run_job(f"DELETE FROM {w.names['games']} WHERE game_date = @d AND game_id = 'stale_probe_3'", {"d": d})
    w.assert_table_is_model("after the stale MERGE without changes")
    ok(f"a stale plan with nothing to write is refused as well: {msg.split('Error: ')[-1]}")
    edge("stale plan without changes refused")


def duplicate_keys(w, clock):
    p, d = next(k for k in sorted(w.features) if RUNS[0][1] <= k[1] <= RUNS[0][2])
    f = w.features[(p, d)]
    insert_all(w.ds["predictions"], "ml_feature_store_v2", [feature_json(p, d, {**f, "tag": "duplicate"})])
    run = {"start": RUNS[0][1], "end": RUNS[0][2], "include_bootstrap": False}
    _, msg = run_plan(w, run, f"{w.prefix}_dupkey",
                      expect_error=rf"duplicate feature record for player_lookup {p} on {d}")
    st, _ = http("GET", f"/datasets/{w.ds['staging']}/tables/completeness_plan_{w.prefix}_dupkey")
    if st != 404:
        fail("a failed plan left a staging table")
    ok(f"duplicate feature key: the plan fails, no staging table: {msg.split('Error: ')[-1]}")
    edge("duplicate feature key refused by the plan")
    run_job(f"DELETE FROM {w.names['features']} WHERE game_date = @d AND processor_run_id = 'duplicate'", {"d": d})
    w.assert_table_is_model("after removing the duplicate")


def null_keys(prefix, clock_seed=99):
    """The DDL without NOT NULL on the keys: NULL upstream keys match nothing; a NULL
    player_lookup in a feature record in range fails the plan."""
    rng = random.Random(clock_seed)
    w = Warehouse(f"{prefix}nk", relaxed=True)
    w.create()
    generate(w, rng)
    w.seed()
    nulls = sum(1 for r in w.games if r["player_lookup"] is None or r["game_date"] is None)
    edge("NULL upstream keys present", nulls)
    d = RUNS[0][1] + 40 * DAY
    insert_all(w.ds["predictions"], "ml_feature_store_v2",
               [feature_json(None, d, {"hc": None, "updated_at": None, "game_id": "x", "tag": "nullkey"})])
    run = {"start": RUNS[0][1], "end": RUNS[0][2], "include_bootstrap": False}
    _, msg = run_plan(w, run, f"{w.prefix}_nullkey", expect_error=rf"NULL player_lookup in a feature record on {d}")
    ok(f"NULL player_lookup in a feature record: the plan fails: {msg.split('Error: ')[-1]}")
    edge("NULL feature key refused by the plan")
    run_job(f"DELETE FROM {w.names['features']} WHERE game_date = @d AND player_lookup IS NULL", {"d": d})
    tick = iter(range(1, 10 ** 6))
    t0 = dt.datetime(2026, 12, 8, tzinfo=dt.timezone.utc)
    for name, start, end, boot in RUNS[:2]:
        full_run(w, name, start, end, boot, lambda: t0 + dt.timedelta(seconds=next(tick)))
    ok(f"{nulls} upstream rows with a NULL player_lookup or game_date matched nothing (structs = oracle)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="1,2,3", help="comma-separated generator seeds")
    args = ap.parse_args()
    if not BQ:
        fail("COMPLETENESS_TEST_BQ_ENDPOINT is not set: run under scripts/emulators")
    prefix = f"pd{uuid.uuid4().hex[:6]}"
    t = time.time()
    static_checks()
    probe_emulator(prefix)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    for i, seed in enumerate(seeds):
        scenario(seed, prefix, extras=(i == 0))
    null_keys(prefix)
    print()
    print(f"SUMMARY: {STATS['records_compared']} plan records compared with the oracle and the local diff "
          f"(all equal), {STATS['reports_compared']} reports equal to the local report, "
          f"{STATS['games_dates_compared']} per-date games fingerprints equal, {STATS['merges']} MERGEs "
          f"({STATS['rows_written']} rows written, table = model after each), {STATS['jobs']} jobs, "
          f"{time.time() - t:.0f} s")
    print("EDGES HIT:")
    for k in sorted(EDGES):
        print(f"  {EDGES[k]:6d}  {k}")
    required = ["row at exactly D-60", "row at exactly D-61", "row at exactly D-365", "row at exactly D-366",
                "Feb 29 inside a window", "Feb 29 exactly at a window edge", "more than 10 games in 60 days",
                "two rows on one date (date listed twice)", "c60 = 0 with c365 > 0 (0/0)",
                "a player's first game (no earlier row)", "bootstrap date skipped",
                "bootstrap date computed (include_bootstrap)", "status unchanged", "status changed",
                "status added", "NULL upstream keys present", "duplicate feature key refused by the plan",
                "NULL feature key refused by the plan", "stale plan refused (row added)",
                "stale plan refused (same counts, other player)", "stale plan without changes refused", "conflict: row rewritten since the plan left alone",
                "label complete", "label incomplete", "label bootstrap", "season start from the schedule",
                "season start from the fallback table", "season start October 22 (in neither)",
                "bootstrap decided by the schedule (the fallback would differ)",
                "bootstrap decided by one row per game id", "duplicate source key refused by the MERGE",
                "allow_stale applied"]
    missing = [k for k in required if not EDGES.get(k)]
    if missing:
        fail(f"edges not hit: {missing}")
    print("ALL EQUAL")


if __name__ == "__main__":
    main()
