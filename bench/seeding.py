"""Seed many documents straight into cowrite's database, shaped like one made over REST.

The search index is kept by the database itself (FTS5 triggers on SQLite, a generated tsvector on
PostgreSQL), so rows inserted here are searchable exactly like documents created through the API.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BATCH = 2000


def corpus_words(trace: Path) -> list[str]:
    text = json.loads(gzip.decompress(trace.read_bytes()))["endContent"]
    return [w for w in re.findall(r"[A-Za-z']+", text) if len(w) > 1]


def bodies(words: list[str], count: int, size: int = 2000) -> Iterator[tuple[str, str]]:
    """(title, ~`size`-byte body) pairs: spans of consecutive words, from a fixed random seed."""
    rng = random.Random(42)
    for n in range(count):
        start = rng.randrange(len(words) - 400)
        out: list[str] = []
        length = 0
        i = start
        while length < size:
            out.append(words[i % len(words)])
            length += len(words[i % len(words)]) + 1
            i += 1
        yield f"Notes {n}: {words[(start + 7) % len(words)]}", " ".join(out)


def _rows(
    template: dict[str, Any], pairs: Iterator[tuple[str, str]], hex_ids: bool
) -> Iterator[dict[str, Any]]:
    for title, body in pairs:
        new_id = uuid.uuid4()
        yield {**template, "id": new_id.hex if hex_ids else new_id, "title": title, "content": body}


def seed_sqlite(db_path: Path, template_id: str, pairs: Iterator[tuple[str, str]]) -> int:
    """Copy the template document's row once per (title, body); returns rows inserted."""
    db = sqlite3.connect(db_path, timeout=30)
    db.row_factory = sqlite3.Row
    try:
        key = uuid.UUID(template_id)
        row = None
        for candidate in (key.hex, str(key)):
            row = db.execute("SELECT * FROM documents WHERE id = ?", (candidate,)).fetchone()
            if row is not None:
                break
        if row is None:
            raise LookupError("template document not found in SQLite")
        template = dict(row)
        hex_ids = len(str(template["id"])) == 32
        columns = list(template)
        sql = (
            f"INSERT INTO documents ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)})"
        )
        inserted = 0
        batch: list[dict[str, Any]] = []
        for item in _rows(template, pairs, hex_ids):
            batch.append(item)
            if len(batch) == BATCH:
                with db:
                    db.executemany(sql, batch)
                inserted += len(batch)
                batch = []
        if batch:
            with db:
                db.executemany(sql, batch)
            inserted += len(batch)
        return inserted
    finally:
        db.close()


async def _seed_pg(dsn: str, template_id: str, pairs: Iterator[tuple[str, str]]) -> int:
    import asyncpg  # cowrite's own dependency, present beside the harness

    conn: Any = await asyncpg.connect(dsn)
    try:
        # Columns the database fills itself (the search vector, the creation sequence).
        generated = {
            r["column_name"]
            for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'documents'"
                " AND (is_generated = 'ALWAYS' OR generation_expression IS NOT NULL"
                " OR is_identity = 'YES')"
            )
        }
        row = await conn.fetchrow("SELECT * FROM documents WHERE id = $1", uuid.UUID(template_id))
        if row is None:
            raise LookupError("template document not found in PostgreSQL")
        template = {k: v for k, v in dict(row).items() if k not in generated}
        columns = list(template)
        placeholders = ", ".join(f"${i + 1}" for i in range(len(columns)))
        sql = f"INSERT INTO documents ({', '.join(columns)}) VALUES ({placeholders})"
        inserted = 0
        batch: list[tuple[Any, ...]] = []
        for item in _rows(template, pairs, hex_ids=False):
            batch.append(tuple(item[c] for c in columns))
            if len(batch) == BATCH:
                await conn.executemany(sql, batch)
                inserted += len(batch)
                batch = []
        if batch:
            await conn.executemany(sql, batch)
            inserted += len(batch)
        # Statistics as autovacuum would gather them within a minute of such a load; the
        # workloads measure right away, and a plan made without them measures the bulk load.
        await conn.execute("ANALYZE documents")
        return inserted
    finally:
        await conn.close()


def seed_postgres(dsn: str, template_id: str, pairs: Iterator[tuple[str, str]]) -> int:
    return asyncio.run(_seed_pg(dsn, template_id, pairs))
