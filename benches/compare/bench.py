"""The comparison harness: completeness compute vs. the DuckDB SQL baseline (and, at
small scale, the row-at-a-time Python of the original processor) on the same Parquet
files, in alternating runs on the same machine.

usage: bench.py --bin target/release/completeness --data bench-data
                [--scales 1,30,300] [--runs 5] [--naive-max-scale 1] [--json out.json]

For each scale it generates the sample warehouse (`samples generate --scale N`) and its
plain Parquet inputs (`samples inputs`) once, checks that every engine's output agrees
record for record, then reports median wall time, peak memory (max RSS of the process)
and the ratio to DuckDB. A scale that fails (e.g. does not fit in memory) is reported
with the reason instead of numbers.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent


def measure(cmd: list[str]) -> dict:
    """Run `cmd`; wall seconds and peak RSS (MiB) of the process, from wait4."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    return {"wall_s": wall, "peak_mib": usage.ru_maxrss / 1024, "code": code, "stderr": stderr[-2000:]}


# Above this scale the warehouse would not fit in memory (4.7 GB resident at 30): the
# inputs are generated straight from the generator, league by league.
WAREHOUSE_MAX_SCALE = 30


def prepare(binary: str, data: Path, scale: int) -> Path:
    wh, inputs = data / f"scale-{scale}" / "warehouse", data / f"scale-{scale}" / "inputs"
    if scale > WAREHOUSE_MAX_SCALE:
        if not (inputs / "games.parquet").exists():
            print(f"scale {scale}: generating the inputs league by league ...", file=sys.stderr)
            subprocess.run([binary, "-q", "samples", "generate", "--inputs-only", "--out", str(inputs),
                            "--scale", str(scale)], check=True)
        return inputs
    if not (wh / "nba_predictions").exists():
        print(f"scale {scale}: generating the sample warehouse ...", file=sys.stderr)
        subprocess.run([binary, "-q", "samples", "generate", "--out", str(wh), "--scale", str(scale)], check=True)
    if not (inputs / "games.parquet").exists():
        subprocess.run([binary, "-q", "--warehouse", str(wh), "samples", "inputs", "--out", str(inputs)], check=True)
    return inputs


def commands(binary: str, inputs: Path, out: Path, naive: bool) -> dict[str, list[str]]:
    f, g = str(inputs / "features.parquet"), str(inputs / "games.parquet")
    cmds = {
        "completeness": [binary, "-q", "compute", "--features", f, "--games", g, "--out", str(out / "completeness.parquet")],
        "duckdb": [sys.executable, str(HERE / "duckdb_compute.py"), f, g, str(out / "duckdb.parquet")],
    }
    if naive:
        cmds["python_naive"] = [sys.executable, str(HERE / "naive_compute.py"), f, g, str(out / "python_naive.parquet")]
    return cmds


FLAT = """
SELECT player_lookup, game_date, h.games_found AS games_found, h.games_expected AS games_expected,
       h.is_complete AS is_complete, h.is_bootstrap AS is_bootstrap,
       h.contributing_game_dates AS contributing_game_dates
FROM (SELECT player_lookup, game_date, historical_completeness AS h FROM read_parquet({path}))
"""


def quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def disagreements(completeness: Path, other: Path) -> tuple[int, int, int]:
    """(records that differ, records of completeness, records of the other)."""
    con = duckdb.connect()
    con.execute("CREATE VIEW a AS " + FLAT.format(path=quoted(completeness)))
    con.execute(f"CREATE VIEW b AS SELECT * FROM read_parquet({quoted(other)})")
    diff = con.execute(
        "SELECT (SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM b))"
        " + (SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM a))"
    ).fetchone()[0]
    na = con.execute("SELECT count(*) FROM a").fetchone()[0]
    nb = con.execute("SELECT count(*) FROM b").fetchone()[0]
    return diff, na, nb


def decoded_input_mib(binary: str, inputs: Path, out: Path) -> float:
    """Arrow size of the key columns completeness decodes (its own count, from --json)."""
    cmd = commands(binary, inputs, out, False)["completeness"]
    cmd = [binary, "--json"] + [a for a in cmd[1:] if a != "-q"]
    metrics = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return metrics["decoded_input_bytes"] / 2**20


def bench_scale(args, scale: int) -> dict:
    inputs = prepare(args.bin, args.data, scale)
    out = args.data / f"scale-{scale}" / "out"
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    records = con.execute("SELECT count(*) FROM read_parquet(?)", [str(inputs / "features.parquet")]).fetchone()[0]
    game_rows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(inputs / "games.parquet")]).fetchone()[0]
    cmds = commands(args.bin, inputs, out, scale <= args.naive_max_scale)
    runs: dict[str, list[dict]] = {name: [] for name in cmds}
    names = list(cmds)
    for i in range(args.runs):
        order = names if i % 2 == 0 else list(reversed(names))
        for name in order:
            if name == "python_naive" and i >= args.naive_runs:
                continue
            r = measure(cmds[name])
            if r["code"] != 0:
                return {"scale": scale, "records": records, "game_rows": game_rows,
                        "failed": f"{name} exited {r['code']}: {r['stderr'].strip()[-400:]}"}
            runs[name].append(r)
            print(f"scale {scale} run {i + 1} {name}: {r['wall_s']:.3f} s, {r['peak_mib']:.0f} MiB", file=sys.stderr)
    agreement = {}
    for name in names[1:]:
        diff, na, nb = disagreements(out / "completeness.parquet", out / f"{name}.parquet")
        agreement[name] = {"differing_records": diff, "records": [na, nb]}
        if diff or na != nb:
            raise SystemExit(f"scale {scale}: completeness and {name} disagree on {diff} records ({na} vs {nb})")
    summary = {
        name: {
            "median_s": statistics.median(r["wall_s"] for r in rs),
            "min_s": min(r["wall_s"] for r in rs),
            "peak_mib": max(r["peak_mib"] for r in rs),
            "runs": len(rs),
        }
        for name, rs in runs.items()
    }
    base = summary["completeness"]["median_s"]
    for name, s in summary.items():
        s["ratio_to_completeness"] = s["median_s"] / base
    decoded = decoded_input_mib(args.bin, inputs, out)
    return {"scale": scale, "records": records, "game_rows": game_rows, "engines": summary, "agreement": agreement,
            "decoded_input_mib": decoded,
            "completeness_peak_over_decoded": summary["completeness"]["peak_mib"] / decoded}


def table(results: list[dict]) -> str:
    lines = ["| scale | records | game rows | engine | median | peak memory | × completeness |",
             "|---:|---:|---:|---|---:|---:|---:|"]
    for r in results:
        if "failed" in r:
            lines.append(f"| {r['scale']} | {r['records']:,} | {r['game_rows']:,} | (skipped) | {r['failed']} | | |")
            continue
        for name, s in r["engines"].items():
            lines.append(
                f"| {r['scale']} | {r['records']:,} | {r['game_rows']:,} | {name} | {s['median_s']:.3f} s "
                f"({s['runs']} runs) | {s['peak_mib']:.0f} MiB | {s['ratio_to_completeness']:.1f} |"
            )
    for r in results:
        if "decoded_input_mib" in r:
            lines.append(f"\nscale {r['scale']}: completeness peak memory is {r['completeness_peak_over_decoded']:.2f}x "
                         f"its decoded key columns ({r['decoded_input_mib']:.1f} MiB)")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", required=True)
    p.add_argument("--data", type=Path, default=Path("bench-data"))
    p.add_argument("--scales", default="1,30")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--naive-max-scale", type=int, default=1)
    p.add_argument("--naive-runs", type=int, default=1)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    results = [bench_scale(args, int(s)) for s in args.scales.split(",")]
    doc = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "duckdb": duckdb.__version__,
        "completeness": subprocess.run([args.bin, "--version"], capture_output=True, text=True).stdout.strip(),
        "results": results,
    }
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    print(table(results))


if __name__ == "__main__":
    main()
