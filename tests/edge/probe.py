"""Probes `/health` until its stdin closes, then prints each probe's latency. A process of its
own, so that an attacker's work in the test's process cannot delay the probe and be mistaken
for the server's. One request per probe, no retries: a probe that waited is counted as it is.
A second of probes before the attack gives the same measure without it, on a shared machine."""

from __future__ import annotations

import json
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


def main(port: int, timeout: float) -> None:
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
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
            if stop.wait(INTERVAL):
                break
    print(json.dumps({"baseline": baseline, "latencies": latencies}), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]))
