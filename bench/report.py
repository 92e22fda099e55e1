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


def update_document(doc: Path, table: str, record_path: Path, host: dict[str, Any]) -> None:
    """Put the table, and where it came from, between the markers of BENCHMARKS.md."""
    text = doc.read_text()
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
