"""`python -m bench [--quick] [--only a,b] [--servers x,y]`: run workloads, print one table."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import install
from bench.procs import BENCH_DIR, LOAD_CORE, raise_file_limit
from bench.report import Row, machine, markdown_table, update_document, write_json
from bench.workloads import Context, registry

# The editing traces ship with the benchmarks (CC BY 4.0, see bench/traces/README.md).
DEFAULT_TRACES = BENCH_DIR / "traces"


def parse(argv: list[str] | None) -> argparse.Namespace:
    names = list(registry())
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small version of each workload")
    parser.add_argument("--only", default="", help=f"comma-separated workloads: {','.join(names)}")
    parser.add_argument("--servers", default="", help="comma-separated servers (default: all)")
    parser.add_argument("--write-doc", action="store_true", help="put the table into BENCHMARKS.md")
    parser.add_argument("--no-install", action="store_true", help="do not install the peers")
    parser.add_argument("--logs", type=Path, default=None, help="directory for server logs")
    parser.add_argument(
        "--results", type=Path, default=BENCH_DIR / "results", help="where the JSON record goes"
    )
    parser.add_argument(
        "--traces",
        type=Path,
        default=DEFAULT_TRACES,
        help="directory of the editing traces (*.json.gz)",
    )
    args = parser.parse_args(argv)
    args.workloads = [w for w in args.only.split(",") if w] or names
    unknown = set(args.workloads) - set(names)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = dt.datetime.now(dt.UTC)
    host = machine()
    raise_file_limit()
    # Stopped from outside: unwind, so every server this run started is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.sched_setaffinity(0, {int(LOAD_CORE)})  # the harness is part of the load
    if not args.no_install:
        install.everything()
    logs = args.logs or Path(tempfile.mkdtemp(prefix="cowrite-bench-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    servers = {s for s in args.servers.split(",") if s} or None
    ctx = Context(quick=args.quick, logs=logs, traces=args.traces, servers=servers)
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    workloads = registry()
    for name in args.workloads:
        install.say(f"workload {name}")
        begun = time.monotonic()
        outcome = workloads[name](ctx)
        install.say(f"workload {name} took {time.monotonic() - begun:.0f} s")
        rows.extend(outcome.rows)
        raw[name] = outcome.raw
        mode = "quick" if args.quick else "full"
        path = write_json(args.results, rows, raw, mode, started, host)
    table = markdown_table(rows)
    print(table)
    if args.write_doc:
        update_document(BENCH_DIR.parent / "BENCHMARKS.md", table, path, host, args.results)
    print(f"\nsaved {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    print(f"server logs in {logs}", file=sys.stderr)
    return 0
