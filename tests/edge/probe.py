"""Probes `/health` while an attack runs, and prints each probe's latency. A process of its own,
so that an attacker's work in the test's process cannot delay the probe and be mistaken for the
server's; one for the whole run, so that no attack waits for its start. One request per probe,
no retries: a probe that waited is counted as it is.

Each attack is one exchange on stdin and stdout: a line with the server's port starts it; a
second of probes gives what the machine's load alone costs, then `ready` is printed and the
probes go on until the next line on stdin, which ends the attack; then one JSON line with both
sets of latencies. The process ends with its stdin."""

from __future__ import annotations

import json
import queue
import sys
import threading
import time

import httpx

INTERVAL = 0.05  # between probes
BASELINE_PROBES = 20  # probed before the attack: what the machine's load alone costs


def probe(http: httpx.Client, timeout: float) -> float:
    """Seconds until `/health` answered 200; `timeout` when it did not answer in time or
    answered something else."""
    started = time.perf_counter()
    try:
        answered = http.get("/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        answered = False
    return time.perf_counter() - started if answered else timeout


def measure(port: int, timeout: float, lines: queue.Queue[str | None]) -> dict[str, list[float]]:
    """One attack's probes: the baseline, then until the next line (or the end of stdin)."""
    latencies: list[float] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
        http.get("/health", timeout=10)  # the connection is made before the attack starts
        baseline = []
        for _ in range(BASELINE_PROBES):
            baseline.append(probe(http, timeout))
            time.sleep(INTERVAL)
        print("ready", flush=True)
        while True:  # at least one probe, however quickly the attack is over
            latencies.append(probe(http, timeout))
            try:
                ended = lines.get(timeout=INTERVAL)
            except queue.Empty:
                continue
            if ended is None:
                lines.put(None)  # stdin closed: the process ends after this attack
            break
    return {"baseline": baseline, "latencies": latencies}


def main(timeout: float) -> None:
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in sys.stdin:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    while (line := lines.get()) is not None:
        print(json.dumps(measure(int(line), timeout, lines)), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]))
