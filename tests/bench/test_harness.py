"""The benchmark harness runs end to end: quick co-editing and idle-socket workloads against the
Node reference server, with every delivery counted and the JSON record written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import install
from bench.workloads.durability import histogram_quantiles

ROOT = Path(__file__).resolve().parents[2]
Run = tuple[dict[str, Any], str]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node is not installed")
    install.node_peers()
    results = tmp_path_factory.mktemp("bench-results")
    argv = [
        sys.executable,
        "-m",
        "bench",
        "--quick",
        "--no-install",
        "--only",
        "coedit,idle",
        "--servers",
        "node-ref",
        "--results",
        str(results),
    ]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    records = list(results.glob("*-quick.json"))
    assert len(records) == 1
    return json.loads(records[0].read_text()), done.stdout


def test_coedit_counts_every_delivery_without_loss(quick_run: Run) -> None:
    record, _ = quick_run
    [report] = record["raw"]["coedit"]["node-ref"]
    assert report["sent"] == report["writers"] * int(report["rate"] * report["duration"])
    assert report["expected"] == report["sent"] * report["listeners"]
    assert report["delivered"] == report["expected"]
    assert report["duplicates"] == 0
    assert report["loss"] == 0
    assert report["latency_ms"]["count"] == report["delivered"]
    assert report["listener_failures"] == report["writer_failures"] == 0


def test_idle_sockets_all_open_and_measured(quick_run: Run) -> None:
    record, _ = quick_run
    report = record["raw"]["idle"]["node-ref"]
    assert [s["open"] for s in report["stages"]] == [s["target"] for s in report["stages"]]
    assert report["failures"] == 0
    assert all(rss > 0 for rss in report["rss_bytes"].values())


def test_record_and_table_describe_the_run(quick_run: Run) -> None:
    record, stdout = quick_run
    assert record["mode"] == "quick"
    assert record["machine"]["cores"] >= 1 and record["git_revision"]
    workloads = {row["workload"] for row in record["rows"]}
    assert workloads == {"1 co-editing", "6 idle sockets"}
    assert "| node-ref |" in stdout.splitlines()[0].replace("| budget", "|")
    assert "n/a" not in "".join(r["values"].get("node-ref", "") for r in record["rows"])


def test_server_histogram_quantiles_read_from_prometheus_text() -> None:
    text = "\n".join(
        [
            'cowrite_yjs_commit_lag_seconds_bucket{le="0.005"} 50',
            'cowrite_yjs_commit_lag_seconds_bucket{le="0.01"} 90',
            'cowrite_yjs_commit_lag_seconds_bucket{le="0.05"} 100',
            'cowrite_yjs_commit_lag_seconds_bucket{le="+Inf"} 100',
        ]
    )
    assert histogram_quantiles(text, "cowrite_yjs_commit_lag_seconds") == {"p50": 5.0, "p99": 50.0}
    assert histogram_quantiles("", "cowrite_yjs_commit_lag_seconds") is None
