"""The in-process ceiling of workload 3: apply a trace's transactions to a pycrdt Text.

Run as `python pycrdt_apply.py TRACE.json.gz LIMIT`; prints one JSON line.
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from typing import Any

from pycrdt import Doc, Text


def main() -> None:
    trace = json.loads(gzip.decompress(open(sys.argv[1], "rb").read()))  # noqa: SIM115
    limit = int(sys.argv[2])
    txns = trace["txns"][:limit] if limit else trace["txns"]
    doc: Doc[Any] = Doc()
    text = doc.get("content", type=Text)
    edits = 0
    start = time.perf_counter()
    for txn in txns:
        with doc.transaction():
            for pos, deleted, inserted in txn["patches"]:
                if deleted:
                    del text[pos : pos + deleted]
                if inserted:
                    text.insert(pos, inserted)
                edits += 1
    seconds = time.perf_counter() - start
    matches = None if limit else str(text) == trace["endContent"]
    print(
        json.dumps(
            {"edits": edits, "seconds": seconds, "edits_per_s": edits / seconds, "matches": matches}
        )
    )


if __name__ == "__main__":
    main()
