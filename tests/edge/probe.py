"""Probes `/health` until its stdin closes, then prints how many probes ran and which missed
the bound. A process of its own, so that an attacker's work in the test's process cannot
delay the probe and be mistaken for the server's."""

from __future__ import annotations

import json
import sys
import threading

import httpx

INTERVAL = 0.05  # between probes


def probe(http: httpx.Client, bound: float, tries: int) -> bool:
    """True when one of `tries` requests in a row answered 200 within `bound` seconds."""
    for _ in range(tries):
        try:
            if http.get("/health", timeout=bound).status_code == 200:
                return True
        except httpx.HTTPError:
            continue
    return False


def main(port: int, bound: float, tries: int) -> None:
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    probes = 0
    slow: list[int] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
        http.get("/health", timeout=10)
        print("ready", flush=True)
        while True:  # at least one probe, however quickly the attack is over
            probes += 1
            if not probe(http, bound, tries):
                slow.append(probes)
            if stop.wait(INTERVAL):
                break
    print(json.dumps({"probes": probes, "slow": slow}), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]))
