"""BENCHMARKS.md opens with the newest full run of every workload, regenerated from the records."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from bench.report import (
    STANDING_END,
    STANDING_START,
    TABLE_END,
    TABLE_START,
    Row,
    standing_table,
    standings,
    update_document,
)


def record(path: Path, date: str, rows: list[Row], mode: str = "full") -> Path:
    target = path / f"{date.replace('-', '')}T000000Z-{mode}.json"
    target.write_text(
        json.dumps({"date": f"{date}T00:00:00+00:00", "rows": [asdict(r) for r in rows]})
    )
    return target


def test_each_workload_comes_from_its_newest_full_run(tmp_path: Path) -> None:
    old_rest = Row(
        "7 REST", "old case", {"cowrite-sqlite": "100 req/s"}, "≥ 33 %", "sqlite: not met"
    )
    search = Row(
        "8 search", "100,000 docs", {"cowrite-pg": "p95 148 ms"}, "p95 ≤ 20 ms", "pg: not met"
    )
    new_rest = Row(
        "7 REST", "document GET", {"cowrite-sqlite": "900 req/s", "ceiling / baseline": "hello"}
    )
    record(tmp_path, "2026-12-01", [old_rest, search])
    record(tmp_path, "2026-12-05", [new_rest])
    record(tmp_path, "2026-12-06", [Row("7 REST", "quick", {"cowrite-sqlite": "1 req/s"})], "quick")

    items = standings(tmp_path)
    assert [(i.row.workload, i.row.case, i.date) for i in items] == [
        ("7 REST", "document GET", "2026-12-05"),
        ("8 search", "100,000 docs", "2026-12-01"),
    ]
    table = standing_table(items)
    assert "900 req/s" in table and "old case" not in table and "p95 148 ms" in table


def test_write_doc_fills_both_sections(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    path = record(results, "2026-12-05", [Row("7 REST", "document GET", {"cowrite-pg": "9 req/s"})])
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(
        f"# B\n{STANDING_START}\nold\n{STANDING_END}\ntext\n{TABLE_START}\nx\n{TABLE_END}\n"
    )
    host = {"load_average_at_start": (1.0, 1.0, 1.0), "cowrite_revision": "abc", "cpu": "cpu"}
    host |= {"cores": 2, "memory_gib": 1}
    update_document(doc, "| new run |", path, host, results)
    text = doc.read_text()
    assert "9 req/s" in text and "| new run |" in text and "old" not in text.split(STANDING_END)[0]


def test_a_renumbered_workload_replaces_its_old_rows(tmp_path: Path) -> None:
    old = Row("9 comments", "list 500 threads", {"cowrite-sqlite": "p95 173 ms"})
    new = Row("10 comments", "list 500 threads", {"cowrite-sqlite": "p95 18 ms"})
    record(tmp_path, "2026-12-01", [old])
    record(tmp_path, "2026-12-05", [new])

    items = standings(tmp_path)

    assert [(item.row.workload, item.date) for item in items] == [("10 comments", "2026-12-05")]
