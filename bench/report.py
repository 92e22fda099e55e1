"""Result rows, the side-by-side table, and the JSON record of a run."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.procs import BENCH_DIR


@dataclass
class Row:
    """One line of the table: a measured quantity, one cell per server or ceiling."""

    workload: str
    case: str
    values: dict[str, str] = field(default_factory=dict)
    budget: str = ""
    verdict: str = ""


# The column for reference points that are not protocol servers (bare stack, in-process, LIKE).
BASELINE = "ceiling / baseline"


def fmt_count(value: float) -> str:
    return f"{value:,.0f}"


def machine() -> dict[str, Any]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": node.stdout.strip(),
        "load_average_at_start": os.getloadavg(),
        "pinning": "server on core 0, load generator on core 1 (taskset)",
        "cowrite_revision": cowrite_revision(),
    }


def git_revision(where: Path = BENCH_DIR) -> str:
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=where,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def cowrite_revision() -> str:
    """The revision of the cowrite package under test (it may be installed from another tree)."""
    spec = importlib.util.find_spec("cowrite")
    if spec is None or spec.origin is None:
        return "not installed"
    return git_revision(Path(spec.origin).parent)


PREFERRED = ["node-ref", "pycrdt-websocket", "cowrite-sqlite", "cowrite-pg", BASELINE]


def columns(rows: list[Row]) -> list[str]:
    present = {name for row in rows for name in row.values}
    seen: list[str] = [name for name in PREFERRED if name in present]
    for row in rows:
        for name in row.values:
            if name not in seen:
                seen.append(name)
    return seen


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "/").split()) or "—"


def markdown_table(rows: list[Row]) -> str:
    cols = columns(rows)
    head = ["workload", "case", *cols, "budget", "verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row.workload, row.case, *(row.values.get(c, "—") for c in cols)]
        cells += [row.budget, row.verdict]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def write_json(
    out_dir: Path,
    rows: list[Row],
    raw: dict[str, Any],
    mode: str,
    started: dt.datetime,
    host: dict[str, Any],
) -> Path:
    """Write (and rewrite, as workloads finish) the run's record; returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"{stamp}-{mode}.json"
    record = {
        "date": started.isoformat(),
        "finished": dt.datetime.now(dt.UTC).isoformat(),
        "git_revision": git_revision(),
        "mode": mode,
        "machine": host,
        "rows": [asdict(r) for r in rows],
        "raw": raw,
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1, default=str))
    tmp.replace(path)
    return path


TABLE_START = "<!-- bench-table:start -->"
TABLE_END = "<!-- bench-table:end -->"


STANDING_START = "<!-- bench-standing:start -->"
STANDING_END = "<!-- bench-standing:end -->"
COWRITE_COLUMNS = ("cowrite-sqlite", "cowrite-pg")


@dataclass
class Standing:
    """A row of the newest full run that measured its workload, and that run's date."""

    row: Row
    date: str


def _unnumbered(workload: str) -> str:
    number, _, name = workload.partition(" ")
    return name if number.isdigit() else workload


def standings(results: Path) -> list[Standing]:
    """For every workload, the rows of the newest full run that has it, in workload order."""
    newest: dict[str, tuple[str, list[Row]]] = {}
    for path in sorted(results.glob("*-full.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        by_workload: dict[str, list[Row]] = {}
        for fields in record.get("rows", []):
            row = Row(**fields)
            by_workload.setdefault(row.workload, []).append(row)
        date = str(record.get("date", ""))[:10]
        for workload, rows in by_workload.items():
            if any(c in r.values for r in rows for c in COWRITE_COLUMNS):
                # A workload renumbered since an older run replaces its old rows.
                stale = [w for w in newest if _unnumbered(w) == _unnumbered(workload)]
                for old in stale:
                    del newest[old]
                newest[workload] = (date, rows)

    def order(workload: str) -> tuple[int, str]:
        number = workload.split(" ", 1)[0]
        return (int(number) if number.isdigit() else 999, workload)

    return [
        Standing(row, date)
        for workload in sorted(newest, key=order)
        for date, rows in [newest[workload]]
        for row in rows
    ]


def standing_table(items: list[Standing]) -> str:
    """Every workload on one screen: budget, cowrite's newest numbers, the peers', met or not."""
    head = ["workload", "case", "budget", "cowrite (SQLite)", "cowrite (PostgreSQL)"]
    head += ["peers / ceiling", "met", "run"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for item in items:
        row = item.row
        peers = "; ".join(
            f"{name}: {value}" if name != BASELINE else value
            for name, value in row.values.items()
            if name not in COWRITE_COLUMNS
        )
        cells = [row.workload, row.case, row.budget or "—"]
        cells += [row.values.get(c, "—") for c in COWRITE_COLUMNS]
        cells += [peers or "—", row.verdict or "—", item.date]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def _replace_between(text: str, start: str, end: str, body: str, name: str) -> str:
    if start not in text or end not in text:
        raise ValueError(f"{name} has no {start} ... {end} section")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def update_document(
    doc: Path, table: str, record_path: Path, host: dict[str, Any], results: Path | None = None
) -> None:
    """Put the standing of every workload (from the newest full runs under `results`) at the
    top of BENCHMARKS.md, and this run's table, with where it came from, below it."""
    text = doc.read_text()
    if results is not None and STANDING_START in text:
        items = standings(results)
        dates = sorted({item.date for item in items})
        span = f"{dates[0]} to {dates[-1]}" if len(dates) > 1 else (dates[0] if dates else "—")
        intro = (
            f"Generated from the newest full run of each workload in `bench/results/` (runs "
            f"of {span}); every run shares its machine with whatever else was running then, "
            "see the load average in each record."
        )
        text = _replace_between(
            text, STANDING_START, STANDING_END, f"{intro}\n\n{standing_table(items)}", doc.name
        )
    if TABLE_START not in text or TABLE_END not in text:
        raise ValueError(f"{doc.name} has no {TABLE_START} ... {TABLE_END} section")
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    load = ", ".join(f"{x:.1f}" for x in host["load_average_at_start"])
    meta = (
        f"Run `{record_path.name}` (bench {git_revision()}, cowrite {host['cowrite_revision']}): "
        f"{host['cpu']}, "
        f"{host['cores']} cores, {host['memory_gib']} GiB, load average at start {load}."
    )
    doc.write_text(f"{head}{TABLE_START}\n{meta}\n\n{table}\n{TABLE_END}{tail}")
